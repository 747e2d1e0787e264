/**
 * Throttling of repeated failed client authentications at the token endpoint, per client id AND per source IP.
 *
 * Rule: a key (`client#<id>` or `ip#<address>`) that collects `maxFailures` failed authentications within a fixed
 * window of `windowSeconds` (counted from its first failure) is refused until that window ends: HTTP 429 with
 * `Retry-After` (the seconds left) and the RFC 6749 §5.2 body `{"error":"invalid_client", ...}`. While locked, the
 * request is refused BEFORE its secret is looked at, so a locked key is no oracle for guessing. Default: 10 failures
 * in 5 minutes.
 *
 * What counts as a failure: a secret that was checked and rejected (`WrongCredentialsError`: unknown client or
 * wrong/expired secret). Not counted: a request without credentials or with a malformed header (no guess was
 * made), a right secret of a disabled client, a success. A success is not slowed: the lock check runs concurrently
 * with the client lookup, and nothing is written on success.
 *
 * Failure mode: FAIL OPEN. When the limiter's storage fails (DynamoDB throttling on the counters, a missing
 * `dynamodb:UpdateItem` grant, ...), the request proceeds as if there were no limiter and the failure is logged.
 * Why: the limiter is defence in depth, not the control that keeps secrets safe (client secrets are 256+ bit random
 * strings; guessing one is infeasible at any rate), whereas failing closed would turn a fault in an auxiliary
 * counter into an outage of every client. A real outage of the Clients table still answers 503, through the
 * client lookup.
 *
 * Known trade-off: anyone who knows a client id can lock that client out for a window by sending wrong secrets
 * with it (as with any per-account lockout). The per-IP key limits one source; the window is short.
 *
 * DynamoDB layout, in the Clients table: `pk = THROTTLE#client#<id>` or `THROTTLE#ip#<ip>`, `sk = WINDOW`,
 * attributes `failures` (number) and `expiresAt` (epoch seconds: the end of the window, and the table's TTL
 * attribute, so DynamoDB deletes old windows). TTL deletion is lazy, so an item whose `expiresAt` has passed is
 * treated as absent. Writes are single atomic `UpdateItem`s (the function needs `dynamodb:GetItem` and
 * `dynamodb:UpdateItem` on the table, nothing more).
 */
import { createHash } from 'node:crypto';
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { TooManyFailedAuthenticationsError, WrongCredentialsError } from './errors';

export interface FailedAuthLimits {
  /** Failures within a window after which the key is refused until the window ends. */
  maxFailures: number;
  /** The window length in seconds, from the key's first failure. */
  windowSeconds: number;
}

export const DEFAULT_FAILED_AUTH_LIMITS: FailedAuthLimits = { maxFailures: 10, windowSeconds: 300 };

/** A throttled key: `client#<id>` or `ip#<address>`. */
export type LimiterKey = string;

/** Counts failed authentications per key and tells whether a key is locked. */
export interface FailedAuthLimiter {
  /** Seconds until the most restrictive of `keys` may try again; 0 when none is locked. */
  lockedFor(keys: readonly LimiterKey[], now: Date): Promise<number>;
  /** Counts one failure against each key. */
  recordFailure(keys: readonly LimiterKey[], now: Date): Promise<void>;
}

/** Client ids longer than this are keyed by their hash, so that a key stays well below DynamoDB's 2 KB key limit. */
const MAX_KEY_PART = 200;

/** The keys of a request: its client id and, when known, its source IP. */
export function limiterKeys(clientId: string | undefined, sourceIp: string | undefined): LimiterKey[] {
  const keys: LimiterKey[] = [];
  if (clientId !== undefined && clientId !== '') keys.push(`client#${keyPart(clientId)}`);
  if (sourceIp !== undefined && sourceIp !== '') keys.push(`ip#${keyPart(sourceIp)}`);
  return keys;
}

function keyPart(value: string): string {
  return value.length <= MAX_KEY_PART ? value : `sha256:${createHash('sha256').update(value, 'utf8').digest('hex')}`;
}

const seconds = (now: Date) => Math.floor(now.getTime() / 1000);

/** `FailedAuthLimiter` over the DynamoDB Clients table (layout above). Errors propagate: the caller fails open. */
export class DynamoFailedAuthLimiter implements FailedAuthLimiter {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly limits: FailedAuthLimits = DEFAULT_FAILED_AUTH_LIMITS,
  ) {}

  async lockedFor(keys: readonly LimiterKey[], now: Date): Promise<number> {
    const nowSec = seconds(now);
    const waits = await Promise.all(
      keys.map(async (key) => {
        const { Item } = await this.db.send(
          new GetCommand({ TableName: this.tableName, Key: itemKey(key), ConsistentRead: true }),
        );
        const failures = typeof Item?.failures === 'number' ? Item.failures : 0;
        const expiresAt = typeof Item?.expiresAt === 'number' ? Item.expiresAt : 0;
        return expiresAt > nowSec && failures >= this.limits.maxFailures ? expiresAt - nowSec : 0;
      }),
    );
    return Math.max(0, ...waits);
  }

  async recordFailure(keys: readonly LimiterKey[], now: Date): Promise<void> {
    await Promise.all(keys.map((key) => this.count(key, now)));
  }

  /** ADD 1 within a live window; else start a new window at 1. Two attempts cover a race with another resetter. */
  private async count(key: LimiterKey, now: Date): Promise<void> {
    const nowSec = seconds(now);
    const expiresAt = nowSec + this.limits.windowSeconds;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await this.db.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: itemKey(key),
            UpdateExpression: 'ADD failures :one SET expiresAt = if_not_exists(expiresAt, :exp)',
            ConditionExpression: 'attribute_not_exists(expiresAt) OR expiresAt > :now',
            ExpressionAttributeValues: { ':one': 1, ':exp': expiresAt, ':now': nowSec },
          }),
        );
        return;
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
      }
      try {
        await this.db.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: itemKey(key),
            UpdateExpression: 'SET failures = :one, expiresAt = :exp',
            ConditionExpression: 'expiresAt <= :now',
            ExpressionAttributeValues: { ':one': 1, ':exp': expiresAt, ':now': nowSec },
          }),
        );
        return;
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
      }
    }
  }
}

function itemKey(key: LimiterKey): { pk: string; sk: string } {
  return { pk: `THROTTLE#${key}`, sk: 'WINDOW' };
}

function isConditionFailure(err: unknown): boolean {
  return (err as { name?: string } | undefined)?.name === 'ConditionalCheckFailedException';
}

/** `FailedAuthLimiter` in memory (one process), for unit tests. Same rule as the DynamoDB one. */
export class InMemoryFailedAuthLimiter implements FailedAuthLimiter {
  private readonly windows = new Map<LimiterKey, { failures: number; expiresAt: number }>();

  constructor(private readonly limits: FailedAuthLimits = DEFAULT_FAILED_AUTH_LIMITS) {}

  async lockedFor(keys: readonly LimiterKey[], now: Date): Promise<number> {
    const nowSec = seconds(now);
    let wait = 0;
    for (const key of keys) {
      const w = this.windows.get(key);
      if (w && w.expiresAt > nowSec && w.failures >= this.limits.maxFailures) wait = Math.max(wait, w.expiresAt - nowSec);
    }
    return wait;
  }

  async recordFailure(keys: readonly LimiterKey[], now: Date): Promise<void> {
    const nowSec = seconds(now);
    for (const key of keys) {
      const w = this.windows.get(key);
      if (w && w.expiresAt > nowSec) w.failures++;
      else this.windows.set(key, { failures: 1, expiresAt: nowSec + this.limits.windowSeconds });
    }
  }
}

/**
 * Authenticates through the limiter: refuses a locked client id or source IP with 429 (whatever the secret), counts
 * a `WrongCredentialsError` against both keys, and fails open when the limiter itself fails (`onLimiterError`).
 * The lock check runs concurrently with `authenticate`, so that a success waits for no extra round trip.
 * @throws TooManyFailedAuthenticationsError; whatever `authenticate` throws
 */
export async function authenticateWithLimiter<T>(
  authenticate: () => Promise<T>,
  options: {
    limiter: FailedAuthLimiter;
    clientId: string;
    sourceIp: string | undefined;
    now: Date;
    onLimiterError?: (err: unknown) => void;
  },
): Promise<T> {
  const { limiter, now } = options;
  const failOpen = (err: unknown) => options.onLimiterError?.(err);
  const clientKeys = limiterKeys(options.clientId, undefined);
  const ipKeys = limiterKeys(undefined, options.sourceIp);
  const [clientWait, ipWait, outcome] = await Promise.all([
    limiter.lockedFor(clientKeys, now).catch((err: unknown) => (failOpen(err), 0)),
    limiter.lockedFor(ipKeys, now).catch((err: unknown) => (failOpen(err), 0)),
    authenticate().then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    ),
  ]);
  const wait = Math.max(clientWait, ipWait);
  if (wait > 0) throw new TooManyFailedAuthenticationsError(wait, clientWait >= ipWait ? 'client id locked' : 'source address locked');
  if (outcome.ok) return outcome.value;
  if (outcome.error instanceof WrongCredentialsError) {
    await limiter.recordFailure([...clientKeys, ...ipKeys], now).catch(failOpen);
  }
  throw outcome.error;
}
