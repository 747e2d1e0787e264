/**
 * Throttling of repeated failed client authentications at the token endpoint, per client id AND per source IP.
 *
 * Rule: a key (`client#<id>` or `ip#<address>`) that collects `maxFailures` failed authentications within a fixed
 * window of `windowSeconds` (counted from its first failure) is refused until that window ends: HTTP 429 with
 * `Retry-After` (the seconds left) and the RFC 6749 §5.2 body `{"error":"invalid_client", ...}`. While locked, the
 * request is refused BEFORE its secret is looked at, so a locked key is no oracle for guessing. Default: 10 failures
 * in 5 minutes.
 *
 * Atomic, not check-then-act: every attempt first RESERVES a failure slot on each of its keys with one conditional
 * update (`failures < maxFailures`), and only then is its secret compared. A success (or an error that is not a
 * rejected secret) releases its slots; a rejected secret keeps them. So however many wrong secrets arrive at once,
 * at most `maxFailures` per key are ever compared (without the reservation, 300 parallel guesses were all checked
 * before the first 429). The price: one conditional write per key before the comparison and one to release after a
 * success, and a key with `maxFailures` attempts in flight at the same instant refuses the next one until one
 * finishes: that refusal is a 429 with `Retry-After: 1` (busy), never the window's lock, because the item also
 * counts the attempts still in flight (`inFlight`) apart from those that failed.
 *
 * What counts as a failure: a secret that was checked and rejected (`WrongCredentialsError`: unknown client or
 * wrong/expired secret). Not counted: a request without credentials or with a malformed header (no guess was
 * made), a right secret of a disabled client, a success (their reserved slots are released).
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
 * treated as absent. Writes are single atomic conditional `UpdateItem`s (the function needs `dynamodb:GetItem` and
 * `dynamodb:UpdateItem` on the table, nothing more).
 */
import { createHash } from 'node:crypto';
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
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

/** Failure slots per key: reserved before a secret is compared, released when the attempt did not fail. */
export interface FailedAuthLimiter {
  /**
   * Takes one failure slot of `key`, atomically: 0 when taken; else (the key has no slot left in its window) the
   * seconds until it may try again, and nothing is taken.
   */
  reserve(key: LimiterKey, now: Date): Promise<number>;
  /** Gives back a slot taken by `reserve` (the attempt did not fail). */
  release(key: LimiterKey, now: Date): Promise<void>;
  /** Keeps the slot taken by `reserve` as a failure (a rejected secret): the attempt is no longer in flight. */
  fail(key: LimiterKey, now: Date): Promise<void>;
}

/** The wait of a refused key: the window's rest when its failures fill it, 1 s when attempts in flight do (busy). */
function refusalWait(failures: number, inFlight: number, expiresAt: number, nowSec: number, max: number): number {
  return failures - inFlight >= max ? Math.max(1, expiresAt - nowSec) : 1;
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

  /**
   * ADD 1 if the window is live and has a slot left (or there is no window yet); else, if the window has ended,
   * start a new one at 1; else the key is locked. Two rounds cover a race with another request starting a window.
   */
  async reserve(key: LimiterKey, now: Date): Promise<number> {
    const nowSec = seconds(now);
    const expiresAt = nowSec + this.limits.windowSeconds;
    for (let attempt = 0; attempt < 2; attempt++) {
      const taken = await this.conditional({
        UpdateExpression: 'ADD failures :one, inFlight :one SET expiresAt = if_not_exists(expiresAt, :exp)',
        ConditionExpression: 'attribute_not_exists(expiresAt) OR (expiresAt > :now AND failures < :max)',
        ExpressionAttributeValues: { ':one': 1, ':exp': expiresAt, ':now': nowSec, ':max': this.limits.maxFailures },
      }, key);
      if (taken) return 0;
      const restarted = await this.conditional({
        UpdateExpression: 'SET failures = :one, inFlight = :one, expiresAt = :exp',
        ConditionExpression: 'expiresAt <= :now',
        ExpressionAttributeValues: { ':one': 1, ':exp': expiresAt, ':now': nowSec },
      }, key);
      if (restarted) return 0;
    }
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key: itemKey(key), ConsistentRead: true }));
    const num = (v: unknown, fallback: number) => (typeof v === 'number' ? v : fallback);
    return refusalWait(num(Item?.failures, 0), num(Item?.inFlight, 0), num(Item?.expiresAt, expiresAt), nowSec, this.limits.maxFailures);
  }

  async release(key: LimiterKey): Promise<void> {
    await this.conditional({
      UpdateExpression: 'ADD failures :minus, inFlight :minus',
      ConditionExpression: 'failures > :zero AND inFlight > :zero',
      ExpressionAttributeValues: { ':minus': -1, ':zero': 0 },
    }, key);
  }

  async fail(key: LimiterKey): Promise<void> {
    await this.conditional({
      UpdateExpression: 'ADD inFlight :minus',
      ConditionExpression: 'inFlight > :zero',
      ExpressionAttributeValues: { ':minus': -1, ':zero': 0 },
    }, key);
  }

  /** One conditional UpdateItem on the key's item: false when its condition failed. */
  private async conditional(
    update: Pick<UpdateCommandInput, 'UpdateExpression' | 'ConditionExpression' | 'ExpressionAttributeValues'>,
    key: LimiterKey,
  ): Promise<boolean> {
    try {
      await this.db.send(new UpdateCommand({ TableName: this.tableName, Key: itemKey(key), ...update }));
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
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
  private readonly windows = new Map<LimiterKey, { failures: number; inFlight: number; expiresAt: number }>();

  constructor(private readonly limits: FailedAuthLimits = DEFAULT_FAILED_AUTH_LIMITS) {}

  async reserve(key: LimiterKey, now: Date): Promise<number> {
    const nowSec = seconds(now);
    const w = this.windows.get(key);
    if (!w || w.expiresAt <= nowSec) {
      this.windows.set(key, { failures: 1, inFlight: 1, expiresAt: nowSec + this.limits.windowSeconds });
      return 0;
    }
    if (w.failures >= this.limits.maxFailures) return refusalWait(w.failures, w.inFlight, w.expiresAt, nowSec, this.limits.maxFailures);
    w.failures++;
    w.inFlight++;
    return 0;
  }

  async release(key: LimiterKey): Promise<void> {
    const w = this.windows.get(key);
    if (w && w.failures > 0 && w.inFlight > 0) {
      w.failures--;
      w.inFlight--;
    }
  }

  async fail(key: LimiterKey): Promise<void> {
    const w = this.windows.get(key);
    if (w && w.inFlight > 0) w.inFlight--;
  }
}

/**
 * Authenticates through the limiter: reserves a failure slot on the client id and on the source IP first (429 when
 * either has none left, whatever the secret), then authenticates; a `WrongCredentialsError` keeps both slots, any
 * other outcome gives them back. Fails open when the limiter itself fails (`onLimiterError`).
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
  const keys = limiterKeys(options.clientId, options.sourceIp);
  const waits = await Promise.all(keys.map((key) => limiter.reserve(key, now).catch((err: unknown) => (failOpen(err), -1))));
  const taken = keys.filter((_key, i) => waits[i] === 0);
  const release = () => Promise.all(taken.map((key) => limiter.release(key, now).catch(failOpen)));
  const fail = () => Promise.all(taken.map((key) => limiter.fail(key, now).catch(failOpen)));
  const wait = Math.max(0, ...waits);
  if (wait > 0) {
    await release();
    const locked = keys[waits.indexOf(wait)]!;
    throw new TooManyFailedAuthenticationsError(wait, locked.startsWith('client#') ? 'client id locked' : 'source address locked');
  }
  let value: T;
  try {
    value = await authenticate();
  } catch (err) {
    await (err instanceof WrongCredentialsError ? fail() : release());
    throw err;
  }
  await release();
  return value;
}
