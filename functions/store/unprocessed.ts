/**
 * DynamoDB's batch calls (BatchGetItem, BatchWriteItem) may leave part of a call unprocessed under throttling. This is
 * the store's one rule for them: what is left is sent again, after an exponential backoff with jitter, at most
 * MAX_BATCH_ATTEMPTS calls in all (about 3 s of waiting), and then the request is a 503 with Retry-After 1, not a
 * function that retries until it times out.
 */
import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { StoreUnavailableError } from '../errors';

export const MAX_BATCH_ATTEMPTS = 8;

/** Calls `call` with the requests, then with what it answers as unprocessed, until none is left (see above). */
export async function untilProcessed<T>(requests: readonly T[], call: (pending: T[]) => Promise<T[] | undefined>): Promise<void> {
  let pending = [...requests];
  for (let attempt = 1; pending.length > 0; attempt++) {
    pending = (await call(pending)) ?? [];
    if (pending.length === 0) return;
    if (attempt >= MAX_BATCH_ATTEMPTS) throw new StoreUnavailableError('The data store is busy; retry later.', { retryAfterSeconds: 1 });
    await sleep(Math.min(1000, 20 * 2 ** attempt) + randomInt(20));
  }
}
