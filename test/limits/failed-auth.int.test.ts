/**
 * Throttling of repeated failed client authentications at the token route, through the local gateway over real
 * HTTP on DynamoDB Local (functions/oauth/throttle.ts): 10 failures in 5 minutes from one source address lock it
 * (429 invalid_client with Retry-After), whatever client id or secret it then sends; the counters live in the
 * Clients table with a TTL.
 */
import { randomBytes } from 'node:crypto';
import { QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_CLINICAL_ACCESS_CLIENT as CLIENT, DEMO_LIMITED_ACCESS_CLIENT as OTHER } from '../../functions/oauth/demo-clients';
import { DEFAULT_FAILED_AUTH_LIMITS } from '../../functions/oauth/throttle';
import { CLIENTS_TABLE } from '../../contract/tables';
import { startTestApi, type TestApi } from '../support/local-api';

let api: TestApi;
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

beforeAll(async () => {
  process.env.CCRI_WRITER_CLIENT_SECRET = randomBytes(24).toString('base64url');
  api = await startTestApi();
});

afterAll(async () => {
  await api?.close();
});

async function token(authorization: string) {
  const res = await fetch(api.tokenUrl, {
    method: 'POST',
    headers: { Authorization: authorization, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, string> };
}

describe('repeated failed client authentications', () => {
  it('do not count a success: the right secret gets its token, and its reserved slots are given back', async () => {
    for (let i = 0; i < 3; i++) expect((await token(basic(CLIENT.clientId, CLIENT.clientSecret))).status).toBe(200);
    const { Items } = await api.documentClient.send(new ScanCommand({ TableName: api.tableName(CLIENTS_TABLE) }));
    const counters = (Items ?? []).filter((i) => String(i.pk).startsWith('THROTTLE#'));
    expect(counters.map((i) => i.failures)).toEqual(counters.map(() => 0));
  });

  it(`are answered 401 up to ${DEFAULT_FAILED_AUTH_LIMITS.maxFailures}, then 429 invalid_client with Retry-After for the address, any client, any secret`, async () => {
    const { maxFailures, windowSeconds } = DEFAULT_FAILED_AUTH_LIMITS;
    for (let i = 0; i < maxFailures; i++) {
      const res = await token(basic(`unknown-${i}`, 'guess'));
      expect(res.status).toBe(401);
    }
    for (const authorization of [basic(OTHER.clientId, 'guess'), basic(CLIENT.clientId, CLIENT.clientSecret)]) {
      const res = await token(authorization);
      expect(res.status).toBe(429);
      expect(res.json).toEqual({ error: 'invalid_client', error_description: expect.stringMatching(/^Too many failed client authentications/) });
      const retryAfter = Number(res.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(windowSeconds);
      expect(res.headers.get('cache-control')).toBe('no-store');
    }
  });

  it('are counted in the Clients table per source address and per client id, with a TTL', async () => {
    const table = api.tableName(CLIENTS_TABLE);
    const { Items } = await api.documentClient.send(new ScanCommand({ TableName: table }));
    const counters = (Items ?? []).filter((i) => String(i.pk).startsWith('THROTTLE#'));
    const ip = counters.find((i) => String(i.pk).startsWith('THROTTLE#ip#'));
    expect(ip).toMatchObject({ sk: 'WINDOW', failures: DEFAULT_FAILED_AUTH_LIMITS.maxFailures, expiresAt: expect.any(Number) });
    expect(ip!.expiresAt).toBeGreaterThan(Date.now() / 1000);
    const client = await api.documentClient.send(
      new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'THROTTLE#client#unknown-0' } }),
    );
    expect(client.Items).toEqual([expect.objectContaining({ sk: 'WINDOW', failures: 1 })]);
  });
});
