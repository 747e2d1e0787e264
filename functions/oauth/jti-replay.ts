/**
 * The replay store of client assertions (client-assertion.ts): every accepted `jti` is remembered until its
 * assertion expires, so that none is accepted twice.
 */
import { createHash } from 'node:crypto';
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CLOCK_SKEW_SECONDS } from './client-assertion';
import { StoreUnavailableError } from '../errors';

/** Remembers the jti of every accepted assertion until it expires. */
export interface JtiReplayStore {
  /** Records (clientId, jti) until `expiresAt` (epoch s); false when it was recorded already. @throws StoreUnavailableError */
  claim(clientId: string, jti: string, expiresAt: number): Promise<boolean>;
}

/**
 * In the Clients table: `pk` = `JTI#<clientId>#<sha256(jti)>`, `sk` = `JTI`, `expiresAt` (the table's TTL attribute)
 * = the assertion's exp + the clock skew. One conditional PutItem (`attribute_not_exists(pk)`) per accepted assertion:
 * two requests racing with the same jti cannot both succeed.
 */
export class DynamoJtiReplayStore implements JtiReplayStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async claim(clientId: string, jti: string, expiresAt: number): Promise<boolean> {
    const digest = createHash('sha256').update(jti, 'utf8').digest('base64url');
    const clientPart = clientId.length <= 200 ? clientId : createHash('sha256').update(clientId).digest('hex');
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: `JTI#${clientPart}#${digest}`, sk: 'JTI', expiresAt: expiresAt + CLOCK_SKEW_SECONDS },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (err) {
      if ((err as Error).name === 'ConditionalCheckFailedException') return false;
      throw new StoreUnavailableError(undefined, { cause: err });
    }
  }
}

/** For unit tests: one process. */
export class InMemoryJtiReplayStore implements JtiReplayStore {
  private readonly seen = new Map<string, number>();
  async claim(clientId: string, jti: string, expiresAt: number): Promise<boolean> {
    const key = `${clientId}\n${jti}`;
    if (this.seen.has(key)) return false;
    this.seen.set(key, expiresAt);
    return true;
  }
}

