/**
 * OAuth clients: the record, its store, and client authentication (RFC 6749 §2.3.1).
 *
 * Item layout in the Clients table (contract/tables.ts CLIENTS_TABLE): `pk` = `CLIENT#<clientId>`, `sk` = `CLIENT`, the
 * other attributes as in `ClientRecord`. Secrets are stored only as salted hashes, never in plaintext.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DeleteCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Jwks } from 'aws-jwt-verify/jwk';
import type { ClientAuthMethod, SecretCredentials } from './client-auth';
import { StoreUnavailableError } from '../errors';
import { InvalidClientError, WrongCredentialsError } from './errors';

/**
 * One stored client secret. A client may hold several so that a secret can be rotated with a grace period: add the
 * new one, set `notAfter` on the old one, remove it once that time has passed.
 *
 * Why HMAC-SHA-256 and not a password hash (scrypt, Argon2): client secrets here are machine-generated random
 * strings of 256+ bits of entropy (the CCRI's demo secrets are 64 random bytes), not human-chosen passwords, so there
 * is nothing for a slow hash to protect against brute force; a keyed fast hash with a per-secret salt is enough and
 * keeps the token route fast. A secret chosen by a person must not be registered this way.
 */
export interface ClientSecretHash {
  /** The hash algorithm: HMAC-SHA-256 keyed with the salt, over the UTF-8 secret. */
  alg: 'hmac-sha256';
  /** The per-secret random salt, base64url. */
  salt: string;
  /** The hash, base64url. */
  hash: string;
  /** ISO 8601 instant after which this secret is refused (rotation grace period); absent = no expiry. */
  notAfter?: string;
}

/** A registered OAuth client. */
export interface ClientRecord {
  clientId: string;
  /** For people (logs, admin views). */
  name: string;
  /** The accepted secrets (hashes); more than one during a rotation. */
  secrets: ClientSecretHash[];
  /** The registered scopes: a token gets all of them, or the subset the client requests. */
  scopes: string[];
  /** The id of the Patient this client is bound to: its tokens carry the `patient` claim (SMART launch context). */
  patient?: string;
  /** A disabled client is refused a token. */
  enabled: boolean;
  /** How the client may authenticate at the token endpoint (RFC 7591 names). */
  authMethods: ClientAuthMethod[];
  /** private_key_jwt: the client's public keys (RFC 7591 `jwks`), or... */
  jwks?: Jwks;
  /** ...where they are published (RFC 7591 `jwks_uri`), fetched by client-jwks.ts. */
  jwksUri?: string;
  /** Epoch s: this client's tokens issued before it are revoked (revocation.ts); new ones are issued from it on. */
  tokensNotBefore?: number;
  /** ISO 8601 instant of registration. */
  createdAt: string;
}

/** Where client records live. */
export interface ClientStore {
  /** The client, or undefined when there is none with that id. @throws StoreUnavailableError */
  get(clientId: string): Promise<ClientRecord | undefined>;
  /** Creates or replaces the client. @throws StoreUnavailableError */
  put(client: ClientRecord): Promise<void>;
}

/** The changes the admin API makes to a client: each field present is replaced; `patient: null` unbinds it. */
export type ClientPatch = Partial<Pick<ClientRecord, 'name' | 'secrets' | 'scopes' | 'enabled' | 'authMethods' | 'tokensNotBefore'>> & {
  patient?: string | null;
  jwks?: Jwks | null;
  jwksUri?: string | null;
};

/**
 * What the admin API needs on top of `ClientStore` (functions/admin). A separate interface so that the token
 * endpoint's stores and test doubles stay as they are.
 */
export interface ClientAdminStore extends ClientStore {
  /** Every client, in no particular order. @throws StoreUnavailableError */
  list(): Promise<ClientRecord[]>;
  /**
   * One page of the clients, in no particular order, from `cursor` (a page's `next`): pages end once they hold
   * `maxBytes` of records (JSON), so that a listing stays within what one response may carry.
   * @throws InvalidCursorError, StoreUnavailableError
   */
  listPage(cursor: string | undefined, maxBytes: number): Promise<{ clients: ClientRecord[]; next?: string }>;
  /** Creates the client; false (and nothing written) when one with that id exists. @throws StoreUnavailableError */
  create(client: ClientRecord): Promise<boolean>;
  /**
   * Changes the fields of `patch` only, leaving anything else on the item (e.g. failed-authentication counters) alone.
   * With `expected`, only while those fields still hold those values (a read-modify-write: ClientChangedError when
   * another change came first). The updated client, or undefined when there is none. @throws StoreUnavailableError
   */
  update(clientId: string, patch: ClientPatch, expected?: ClientExpectation): Promise<ClientRecord | undefined>;
  /** Deletes the client; false when there was none. @throws StoreUnavailableError */
  delete(clientId: string): Promise<boolean>;
}

/** The values a read-modify-write of a client read, which must still be stored for its write to apply. */
export type ClientExpectation = Partial<Pick<ClientRecord, 'secrets' | 'scopes'>>;

/** A listing cursor that no page gave. */
export class InvalidCursorError extends Error {
  override readonly name = 'InvalidCursorError';
}

/** A conditional update found the client changed since it was read. */
export class ClientChangedError extends Error {
  override readonly name = 'ClientChangedError';
}

/** Hashes a secret for storage, with a fresh random salt. */
export function hashClientSecret(secret: string, options: { notAfter?: string } = {}): ClientSecretHash {
  const salt = randomBytes(16).toString('base64url');
  return { alg: 'hmac-sha256', salt, hash: digest(secret, salt).toString('base64url'), ...options };
}

function digest(secret: string, salt: string): Buffer {
  return createHmac('sha256', Buffer.from(salt, 'base64url')).update(secret, 'utf8').digest();
}

/** Whether `secret` matches one of the client's unexpired secrets, compared in constant time. */
export function secretMatches(secrets: readonly ClientSecretHash[], secret: string, now: Date): boolean {
  let matched = false;
  for (const stored of secrets) {
    if (stored.alg !== 'hmac-sha256') continue;
    const expected = Buffer.from(stored.hash, 'base64url');
    const actual = digest(secret, stored.salt);
    const equal = expected.length === actual.length && timingSafeEqual(expected, actual);
    const current = stored.notAfter === undefined || Date.parse(stored.notAfter) > now.getTime();
    matched = matched || (equal && current);
  }
  return matched;
}

/** Stands in for a record when the client is unknown, so that the work (and so the timing) stays the same. */
const UNKNOWN_CLIENT_SECRETS: readonly ClientSecretHash[] = [hashClientSecret(randomBytes(32).toString('base64url'))];

/**
 * Authenticates a client by its id and secret (RFC 6749 §2.3.1). An unknown client and a wrong secret fail alike
 * (`invalid_client`, same description); only a client that proved its secret learns it is disabled or that it may
 * not use this authentication method.
 * @throws InvalidClientError; StoreUnavailableError when the store fails
 */
export async function authenticateClient(
  store: ClientStore,
  credentials: SecretCredentials,
  now: Date = new Date(),
): Promise<ClientRecord> {
  const client = await store.get(credentials.clientId);
  const matches = secretMatches(client?.secrets ?? UNKNOWN_CLIENT_SECRETS, credentials.clientSecret, now);
  if (!client) throw new WrongCredentialsError(undefined, 'unknown client');
  if (!matches) throw new WrongCredentialsError(undefined, 'wrong or expired secret');
  if (!client.enabled) throw new InvalidClientError('The client is disabled.', 'client disabled');
  if (!client.authMethods.includes(credentials.method)) {
    throw new InvalidClientError(
      `The client may not authenticate with ${credentials.method}; registered: ${client.authMethods.join(', ')}.`,
      'authentication method not registered',
    );
  }
  return client;
}

/** The Clients table keys of a client. */
export function clientKey(clientId: string): { pk: string; sk: string } {
  return { pk: `CLIENT#${clientId}`, sk: 'CLIENT' };
}

/** DynamoDB's limit on a partition key value, in bytes. */
const MAX_PARTITION_KEY_BYTES = 2048;

/**
 * `ClientStore` over the DynamoDB Clients table: what the token endpoint uses (the admin API's operations are in
 * DynamoClientAdminStore, so that the token bundle does not carry them). Every DynamoDB failure becomes
 * `StoreUnavailableError` (functions/errors.ts).
 */
export class DynamoClientStore implements ClientStore {
  constructor(
    protected readonly db: DynamoDBDocumentClient,
    protected readonly tableName: string,
  ) {}

  async get(clientId: string): Promise<ClientRecord | undefined> {
    // No client can have a key over DynamoDB's 2048-byte partition key limit: answer "unknown" instead of letting
    // DynamoDB refuse the request (a ValidationException that would otherwise surface as a 503).
    if (Buffer.byteLength(clientKey(clientId).pk, 'utf8') > MAX_PARTITION_KEY_BYTES) return undefined;
    let item: Record<string, unknown> | undefined;
    try {
      ({ Item: item } = await this.db.send(
        new GetCommand({ TableName: this.tableName, Key: clientKey(clientId), ConsistentRead: true }),
      ));
    } catch (err) {
      throw new StoreUnavailableError(undefined, { cause: err });
    }
    return item ? recordFromItem(item) : undefined;
  }

  async put(client: ClientRecord): Promise<void> {
    try {
      const item = { ...clientKey(client.clientId), ...client };
      await this.db.send(new PutCommand({ TableName: this.tableName, Item: item }));
    } catch (err) {
      throw new StoreUnavailableError(undefined, { cause: err });
    }
  }

}

/** `ClientAdminStore` over the DynamoDB Clients table: the admin API's and the seed's. */
export class DynamoClientAdminStore extends DynamoClientStore implements ClientAdminStore {
  /** A Scan of every client item (`sk = CLIENT`): the seed's and the cascade's, not a request-path operation. */
  async list(): Promise<ClientRecord[]> {
    return (await this.listPage(undefined, Infinity)).clients;
  }

  /** A Scan from the cursor (DynamoDB's own position, base64url JSON), page after page until `maxBytes` are listed. */
  async listPage(cursor: string | undefined, maxBytes: number): Promise<{ clients: ClientRecord[]; next?: string }> {
    let startKey: Record<string, unknown> | undefined;
    if (cursor !== undefined) {
      try {
        const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, unknown>;
        if (Object.keys(key).sort().join() !== 'pk,sk' || typeof key.pk !== 'string' || typeof key.sk !== 'string') throw new Error();
        startKey = key;
      } catch {
        throw new InvalidCursorError('invalid cursor');
      }
    }
    const clients: ClientRecord[] = [];
    let bytes = 0;
    try {
      do {
        const page = await this.db.send(
          new ScanCommand({
            TableName: this.tableName,
            FilterExpression: 'sk = :sk',
            ExpressionAttributeValues: { ':sk': 'CLIENT' },
            ExclusiveStartKey: startKey,
          }),
        );
        for (const item of page.Items ?? []) {
          const record = recordFromItem(item);
          clients.push(record);
          bytes += JSON.stringify(record).length;
        }
        startKey = page.LastEvaluatedKey;
      } while (startKey && bytes < maxBytes);
    } catch (err) {
      throw new StoreUnavailableError(undefined, { cause: err });
    }
    return { clients, ...(startKey ? { next: Buffer.from(JSON.stringify({ pk: startKey.pk, sk: startKey.sk })).toString('base64url') } : {}) };
  }

  async create(client: ClientRecord): Promise<boolean> {
    try {
      const item = { ...clientKey(client.clientId), ...client };
      await this.db.send(
        new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }),
      );
      return true;
    } catch (err) {
      if ((err as Error).name === 'ConditionalCheckFailedException') return false;
      throw new StoreUnavailableError(undefined, { cause: err });
    }
  }

  async update(clientId: string, patch: ClientPatch, expected: ClientExpectation = {}): Promise<ClientRecord | undefined> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const sets: string[] = [];
    const removes: string[] = [];
    const conditions = ['attribute_exists(pk)'];
    for (const [field, value] of Object.entries(expected)) {
      names[`#${field}`] = field;
      values[`:was_${field}`] = value;
      conditions.push(value.length === 0 ? `(attribute_not_exists(#${field}) OR #${field} = :was_${field})` : `#${field} = :was_${field}`);
    }
    for (const [field, value] of Object.entries(patch)) {
      if (value === undefined) continue;
      names[`#${field}`] = field;
      if (value === null) removes.push(`#${field}`);
      else {
        values[`:${field}`] = value;
        sets.push(`#${field} = :${field}`);
      }
    }
    if (sets.length === 0 && removes.length === 0) return this.get(clientId);
    const expression = [sets.length ? `SET ${sets.join(', ')}` : '', removes.length ? `REMOVE ${removes.join(', ')}` : '']
      .filter((part) => part !== '')
      .join(' ');
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: clientKey(clientId),
          UpdateExpression: expression,
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeNames: names,
          ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes ? recordFromItem(Attributes) : undefined;
    } catch (err) {
      if ((err as Error).name !== 'ConditionalCheckFailedException') throw new StoreUnavailableError(undefined, { cause: err });
    }
    if (conditions.length > 1 && (await this.get(clientId))) throw new ClientChangedError(`client ${clientId} changed since it was read`);
    return undefined;
  }

  async delete(clientId: string): Promise<boolean> {
    try {
      const { Attributes } = await this.db.send(
        new DeleteCommand({ TableName: this.tableName, Key: clientKey(clientId), ReturnValues: 'ALL_OLD' }),
      );
      return Attributes !== undefined;
    } catch (err) {
      throw new StoreUnavailableError(undefined, { cause: err });
    }
  }
}

/** Reads a stored item back into a record, dropping the keys and anything unknown. */
function recordFromItem(item: Record<string, unknown>): ClientRecord {
  const record: ClientRecord = {
    clientId: String(item.clientId),
    name: String(item.name ?? item.clientId),
    secrets: Array.isArray(item.secrets) ? (item.secrets as ClientSecretHash[]) : [],
    scopes: Array.isArray(item.scopes) ? (item.scopes as unknown[]).map(String) : [],
    enabled: item.enabled === true,
    authMethods: Array.isArray(item.authMethods) ? (item.authMethods as ClientAuthMethod[]) : [],
    createdAt: String(item.createdAt ?? ''),
  };
  if (typeof item.patient === 'string' && item.patient !== '') record.patient = item.patient;
  if (item.jwks && typeof item.jwks === 'object') record.jwks = item.jwks as Jwks;
  if (typeof item.jwksUri === 'string' && item.jwksUri !== '') record.jwksUri = item.jwksUri;
  if (typeof item.tokensNotBefore === 'number') record.tokensNotBefore = item.tokensNotBefore;
  return record;
}

/** `ClientStore` in memory, for unit tests. */
export class InMemoryClientStore implements ClientAdminStore {
  private readonly clients = new Map<string, ClientRecord>();

  async get(clientId: string): Promise<ClientRecord | undefined> {
    const client = this.clients.get(clientId);
    return client && structuredClone(client);
  }

  async put(client: ClientRecord): Promise<void> {
    this.clients.set(client.clientId, structuredClone(client));
  }

  async list(): Promise<ClientRecord[]> {
    return [...this.clients.values()].map((client) => structuredClone(client));
  }

  /** In client id order; the cursor is the last id listed. */
  async listPage(cursor: string | undefined, maxBytes: number): Promise<{ clients: ClientRecord[]; next?: string }> {
    const all = (await this.list()).sort((a, b) => (a.clientId < b.clientId ? -1 : 1)).filter((c) => cursor === undefined || c.clientId > cursor);
    const clients: ClientRecord[] = [];
    let bytes = 0;
    for (const client of all) {
      if (bytes >= maxBytes) return { clients, next: clients[clients.length - 1]!.clientId };
      clients.push(client);
      bytes += JSON.stringify(client).length;
    }
    return { clients };
  }

  async create(client: ClientRecord): Promise<boolean> {
    if (this.clients.has(client.clientId)) return false;
    await this.put(client);
    return true;
  }

  async update(clientId: string, patch: ClientPatch, expected: ClientExpectation = {}): Promise<ClientRecord | undefined> {
    const current = this.clients.get(clientId);
    if (!current) return undefined;
    for (const [field, value] of Object.entries(expected)) {
      if (JSON.stringify(current[field as keyof ClientExpectation]) !== JSON.stringify(value)) throw new ClientChangedError(`client ${clientId} changed since it was read`);
    }
    const next: ClientRecord = { ...current };
    for (const [field, value] of Object.entries(patch)) {
      if (value === null) delete (next as unknown as Record<string, unknown>)[field];
      else if (value !== undefined) (next as unknown as Record<string, unknown>)[field] = structuredClone(value);
    }
    this.clients.set(clientId, next);
    return structuredClone(next);
  }

  async delete(clientId: string): Promise<boolean> {
    return this.clients.delete(clientId);
  }
}
