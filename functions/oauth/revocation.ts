/**
 * Token revocation: what is revoked, where it is kept, and the list the authorizer reads.
 *
 * Two kinds of revocation, both in the Clients table under one partition (`pk` = `REVOKED`), each item deleted by
 * the table's TTL (`expiresAt`) once nothing it revokes can still be valid:
 * - one token (RFC 7009, POST /oauth2/revoke): `sk` = `JTI#<clientKey>#<jti>` (`jti` also an attribute), until
 *   the token's `exp`. A client has at most MAX_REVOKED_TOKENS_PER_CLIENT of them live: past that, revoking one
 *   more of its tokens raises its cut-off (below) to that token's issue second instead, which revokes it and every
 *   older token of the client. So no one client can grow the list the authorizer fetches towards MAX_REVOCATIONS
 *   (where it would fail, and with it every request of every client); the price, paid only by such a client, is that
 *   its older tokens go too. All clients together have at most MAX_REVOKED_TOKENS made within a token lifetime (a
 *   day): past that, every client's revocation is its cut-off the same way. So the list holds at most
 *   MAX_REVOKED_TOKENS single tokens, whatever the number of clients (it is counted per hour, `pk` =
 *   `REVOKED_COUNT`, `sk` = the hour, `n` revocations made in it: one Query of at most 26 items per revocation);
 * - every token of a client issued before an instant (disabling the client, rotating its secret with
 *   `revokeTokens`, or the admin API's revoke): `sk` = `CLIENT#<clientId>`, `notBefore` (epoch s): a token whose
 *   `iat` is before it is revoked; kept for the longest token lifetime (a day). The client record also keeps
 *   `tokensNotBefore`, so that the token endpoint never issues a token that would be born revoked.
 *
 * The authorizer never reads DynamoDB (it has no SDK, issue 14): it fetches `RevocationList` over HTTP from
 * `GET /oauth2/revocations` (served by the token function from one Query of this partition) and keeps it for
 * `REVOCATION_CACHE_SECONDS`, like the JWKS. The list names clients by a hash (`clientKey`), not by id.
 */
import { PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import { StoreUnavailableError } from '../errors';
import { clientKey as clientItemKey } from './clients';
import { clientKey, indexRevocations, isRevokedBy, type RevocationList } from './revocation-list';

export { clientKey, type RevocationList } from './revocation-list';

/** The longest token lifetime the token function allows (functions/token/config.ts), seconds. */
export const MAX_TOKEN_LIFETIME_SECONDS = 86_400;
/** At most this many entries are served; more is refused loudly (the list would stop being cheap). */
export const MAX_REVOCATIONS = 10_000;
export const MAX_REVOKED_TOKENS_PER_CLIENT = 100;
/** Single-token revocations of all clients within a day: half the list, the rest for the clients' cut-offs. */
export const MAX_REVOKED_TOKENS = MAX_REVOCATIONS / 2;

/** The admin API's part: a client's cut-off (disabling it, rotating its secret with `revokeTokens`, its revoke). */
export interface ClientCutoffs {
  /** Revokes every token of the client issued before `notBefore` (epoch s). */
  revokeClientTokens(clientId: string, notBefore: number): Promise<void>;
}

export interface RevocationStore extends ClientCutoffs {
  /** Revokes one token until its expiry (past its client's MAX_REVOKED_TOKENS_PER_CLIENT, by the client's cut-off). */
  revokeToken(token: RevokedToken): Promise<void>;
  /** Whether one token is revoked (introspection: a direct read is fine off the authorizer's path). */
  isRevoked(token: { jti?: string; clientId: string; iat: number }): Promise<boolean>;
  /** Every live revocation. @throws StoreUnavailableError */
  list(now: number): Promise<RevocationList>;
}

/** The claims of a token revoked on its own. */
export interface RevokedToken {
  jti: string;
  clientId: string;
  /** Issued at, epoch s. */
  iat: number;
  /** Expiry, epoch s. */
  exp: number;
}

const PARTITION = 'REVOKED';
/** The single-token revocations made per hour (`sk` = the hour since the epoch, zero-padded; `n`). */
const COUNTS = 'REVOKED_COUNT';
const hourKey = (hour: number) => String(hour).padStart(8, '0');

/** `ClientCutoffs` over the Clients table: all the admin function needs (its bundle carries no more). */
export class DynamoClientCutoffs implements ClientCutoffs {
  constructor(
    protected readonly db: DynamoDBDocumentClient,
    protected readonly tableName: string,
  ) {}

  /**
   * Raises the client's cut-off to `notBefore`; never lowers it (a later cut-off already revokes more). The client
   * record's `tokensNotBefore` first, so that the token endpoint issues its new tokens from the cut-off on (a token
   * issued in the cut-off's own second is not born revoked), then the published cut-off.
   */
  async revokeClientTokens(clientId: string, notBefore: number): Promise<void> {
    await this.raise(clientItemKey(clientId), 'SET tokensNotBefore = :nb', 'attribute_exists(pk) AND (attribute_not_exists(tokensNotBefore) OR tokensNotBefore < :nb)', { ':nb': notBefore });
    await this.raise(
      { pk: PARTITION, sk: `CLIENT#${clientId}` },
      'SET #key = :key, notBefore = :nb, expiresAt = :exp',
      'attribute_not_exists(notBefore) OR notBefore < :nb',
      { ':key': clientKey(clientId), ':nb': notBefore, ':exp': notBefore + MAX_TOKEN_LIFETIME_SECONDS + 60 },
      { '#key': 'key' },
    );
  }

  /** One conditional UpdateItem; a failed condition (already as high, or no such client) is no error. */
  private async raise(Key: Record<string, string>, UpdateExpression: string, ConditionExpression: string, values: Record<string, unknown>, names?: Record<string, string>): Promise<void> {
    try {
      await this.db.send(new UpdateCommand({ TableName: this.tableName, Key, UpdateExpression, ConditionExpression, ExpressionAttributeValues: values, ...(names ? { ExpressionAttributeNames: names } : {}) }));
    } catch (err) {
      if ((err as Error).name === 'ConditionalCheckFailedException') return;
      throw new StoreUnavailableError(undefined, { cause: err });
    }
  }
}

/** The whole `RevocationStore` over the Clients table: the token function's (revoke, introspect, the list). */
export class DynamoRevocationStore extends DynamoClientCutoffs implements RevocationStore {
  constructor(
    db: DynamoDBDocumentClient,
    tableName: string,
    private readonly bounds: { perClient: number; total: number } = { perClient: MAX_REVOKED_TOKENS_PER_CLIENT, total: MAX_REVOKED_TOKENS },
  ) {
    super(db, tableName);
  }

  async revokeToken({ jti, clientId, iat, exp }: RevokedToken): Promise<void> {
    const prefix = `JTI#${clientKey(clientId)}#`;
    const now = Math.floor(Date.now() / 1000);
    const hour = Math.floor(now / 3600);
    const query = (KeyConditionExpression: string, values: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
      this.send<QueryCommandOutput>(new QueryCommand({ TableName: this.tableName, KeyConditionExpression, ExpressionAttributeValues: values, ConsistentRead: true, ...extra }));
    const [own, perHour] = await Promise.all([
      query('pk = :pk AND begins_with(sk, :prefix)', { ':pk': PARTITION, ':prefix': prefix, ':now': now }, { FilterExpression: 'expiresAt > :now', Select: 'COUNT' }),
      // The hours that may still hold a live one: a token lives at most a day, its entry a minute more.
      query('pk = :pk AND sk BETWEEN :from AND :to', { ':pk': COUNTS, ':from': hourKey(hour - 25), ':to': hourKey(hour) }),
    ]);
    const madeInDay = (perHour.Items ?? []).reduce((sum, item) => sum + Number(item.n ?? 0), 0);
    if ((own.Count ?? 0) >= this.bounds.perClient || madeInDay >= this.bounds.total) return this.revokeClientTokens(clientId, iat + 1);
    // Counted first: a revocation that then fails to be written is counted anyway (a retry counts again), which errs
    // towards the bound, never past it.
    await this.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: COUNTS, sk: hourKey(hour) },
        UpdateExpression: 'ADD n :one SET expiresAt = :exp',
        ExpressionAttributeValues: { ':one': 1, ':exp': (hour + 27) * 3600 },
      }),
    );
    await this.send(new PutCommand({ TableName: this.tableName, Item: { pk: PARTITION, sk: `${prefix}${jti}`, jti, expiresAt: exp + 60 } }));
  }

  async isRevoked(token: { jti?: string; clientId: string; iat: number }): Promise<boolean> {
    const list = await this.list(Math.floor(Date.now() / 1000));
    return isRevokedBy(indexRevocations(list), token);
  }

  async list(now: number): Promise<RevocationList> {
    const list: RevocationList = { jti: [], clients: {} };
    let startKey: Record<string, unknown> | undefined;
    let count = 0;
    do {
      const page = await this.send<QueryCommandOutput>(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          FilterExpression: 'expiresAt > :now',
          ExpressionAttributeValues: { ':pk': PARTITION, ':now': now },
          ExclusiveStartKey: startKey,
          ConsistentRead: true,
        }),
      );
      for (const item of page.Items ?? []) {
        const sk = String(item.sk);
        if (sk.startsWith('JTI#')) list.jti.push(typeof item.jti === 'string' ? item.jti : sk.slice(4)); // `JTI#<jti>`: before the client key
        else if (sk.startsWith('CLIENT#') && typeof item.notBefore === 'number') list.clients[String(item.key)] = item.notBefore;
        count++;
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey && count <= MAX_REVOCATIONS);
    if (count > MAX_REVOCATIONS) throw new StoreUnavailableError(undefined, { cause: new Error(`more than ${MAX_REVOCATIONS} live revocations`) });
    return list;
  }

  /** One DynamoDB call; its failure is the store's 503. */
  private async send<Output>(command: QueryCommand | UpdateCommand | PutCommand): Promise<Output> {
    try {
      return (await this.db.send(command as QueryCommand)) as Output;
    } catch (err) {
      throw new StoreUnavailableError(undefined, { cause: err });
    }
  }
}

/** For unit tests. */
export class InMemoryRevocationStore implements RevocationStore {
  readonly tokens = new Map<string, { clientId: string; exp: number }>();
  readonly clients = new Map<string, number>();
  async revokeToken({ jti, clientId, iat, exp }: RevokedToken): Promise<void> {
    const own = [...this.tokens.values()].filter((t) => t.clientId === clientId).length;
    if (own >= MAX_REVOKED_TOKENS_PER_CLIENT || this.tokens.size >= MAX_REVOKED_TOKENS) return this.revokeClientTokens(clientId, iat + 1);
    this.tokens.set(jti, { clientId, exp });
  }
  async revokeClientTokens(clientId: string, notBefore: number): Promise<void> {
    this.clients.set(clientId, Math.max(notBefore, this.clients.get(clientId) ?? notBefore));
  }
  async isRevoked(token: { jti?: string; clientId: string; iat: number }): Promise<boolean> {
    return isRevokedBy(indexRevocations(await this.list()), token);
  }
  async list(): Promise<RevocationList> {
    const clients: Record<string, number> = {};
    for (const [id, at] of this.clients) clients[clientKey(id)] = at;
    return { jti: [...this.tokens.keys()], clients };
  }
}
