/**
 * Issue 13.5: the failed-login limit is atomic. Many wrong secrets sent at the same instant through the local gateway
 * (real HTTP, DynamoDB Local) are compared at most maxFailures times: each attempt reserves a failure slot with a
 * conditional update before its secret is looked at. With a check-then-act limit, all of them were compared (401)
 * before the first 429.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_FAILED_AUTH_LIMITS } from '../../functions/oauth/throttle';
import { startTestApi, type TestApi } from '../support/local-api';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({ seed: false });
});
afterAll(async () => {
  await api?.close();
});

it('compares at most maxFailures of 100 parallel wrong secrets; every other one gets 429 invalid_client', async () => {
  const { maxFailures } = DEFAULT_FAILED_AUTH_LIMITS;
  const basic = `Basic ${Buffer.from('race-client:guess').toString('base64')}`;
  const statuses = await Promise.all(
    Array.from({ length: 100 }, async () => {
      const res = await fetch(api.tokenUrl, {
        method: 'POST',
        headers: { Authorization: basic, 'Content-Type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials',
      });
      await res.arrayBuffer();
      return res.status;
    }),
  );
  // A request holding a slot on one key (client id or address) but refused on the other gives its slot back, so
  // fewer than maxFailures may be compared; never more.
  const compared = statuses.filter((st) => st === 401).length;
  expect(compared).toBeGreaterThan(0);
  expect(compared).toBeLessThanOrEqual(maxFailures);
  expect(statuses.filter((st) => st === 429)).toHaveLength(100 - compared);
});
