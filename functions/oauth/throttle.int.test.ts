import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLIENTS_TABLE, localTableName } from '../../contract/tables';
import { createTestTables, testDocumentClient, uniquePrefix } from '../../test/support/dynamodb';
import { basicAuth, tokenEvent } from '../../test/oauth/events';
import { createTokenHandler } from '../token/handler';
import { InMemoryClientStore } from './clients';
import { WrongCredentialsError } from './errors';
import { DEMO_LIMITED_ACCESS_CLIENT as CLIENT, demoClientRecord } from './demo-clients';
import { LocalRsaSigner } from './signer';
import {
  authenticateWithLimiter,
  DynamoFailedAuthLimiter,
  InMemoryFailedAuthLimiter,
  limiterKeys,
  type FailedAuthLimiter,
} from './throttle';

// In the future, whole seconds: DynamoDB Local really deletes items whose TTL attribute lies in the past.
const T0 = new Date(Math.floor(Date.now() / 1000 + 86_400) * 1000);
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const limits = { maxFailures: 3, windowSeconds: 60 };

describe('limiterKeys', () => {
  it('keys a request by its client id and its source IP', () => {
    expect(limiterKeys('abc', '203.0.113.1')).toEqual(['client#abc', 'ip#203.0.113.1']);
    expect(limiterKeys('abc', undefined)).toEqual(['client#abc']);
  });

  it('keys an over-long client id by its hash, so that the DynamoDB key stays small', () => {
    const [key] = limiterKeys('x'.repeat(5000), undefined);
    expect(key).toMatch(/^client#sha256:[0-9a-f]{64}$/);
  });
});

const prefix = uniquePrefix();
const tableName = localTableName(CLIENTS_TABLE, prefix);
const db = testDocumentClient();

beforeAll(async () => {
  await createTestTables([CLIENTS_TABLE], prefix);
});

describe.each<[string, () => FailedAuthLimiter]>([
  ['InMemoryFailedAuthLimiter', () => new InMemoryFailedAuthLimiter(limits)],
  ['DynamoFailedAuthLimiter (DynamoDB Local)', () => new DynamoFailedAuthLimiter(db, tableName, limits)],
])('%s', (_name, make) => {
  // One attempt whose secret was rejected: its slot is reserved, then kept as a failure.
  const failAt = async (limiter: FailedAuthLimiter, key: string, s: number) => {
    expect(await limiter.reserve(key, at(s))).toBe(0);
    await limiter.fail(key, at(s));
  };

  it('gives maxFailures slots per window, then refuses with the seconds left until the window ends', async () => {
    const limiter = make();
    const key = `client#${uniquePrefix()}`;
    await failAt(limiter, key, 0);
    await failAt(limiter, key, 10);
    await failAt(limiter, key, 20);
    expect(await limiter.reserve(key, at(20))).toBe(40);
    expect(await limiter.reserve(key, at(59))).toBe(1);
    expect(await limiter.reserve(key, at(60))).toBe(0);
  });

  it('gets a released slot back', async () => {
    const limiter = make();
    const key = `client#${uniquePrefix()}`;
    await failAt(limiter, key, 0);
    await failAt(limiter, key, 1);
    expect(await limiter.reserve(key, at(2))).toBe(0);
    await limiter.release(key, at(3));
    await failAt(limiter, key, 4);
    expect(await limiter.reserve(key, at(5))).toBe(55);
  });

  it('answers a key busy with maxFailures attempts in flight (none failed yet) with 1 s, not the window', async () => {
    const limiter = make();
    const key = `ip#${uniquePrefix()}`;
    for (const s of [0, 1, 2]) expect(await limiter.reserve(key, at(s))).toBe(0);
    expect(await limiter.reserve(key, at(3))).toBe(1);
    await limiter.release(key, at(4));
    expect(await limiter.reserve(key, at(5))).toBe(0);
  });

  it('starts a new window after the old one ended, even before the TTL deleted it', async () => {
    const limiter = make();
    const key = `ip#${uniquePrefix()}`;
    for (const s of [0, 1, 2]) await failAt(limiter, key, s);
    await failAt(limiter, key, 61);
    await failAt(limiter, key, 62);
    await failAt(limiter, key, 63);
    expect(await limiter.reserve(key, at(63))).toBe(58);
  });

  it('never gives more than maxFailures slots to parallel attempts (atomic, not check-then-act)', async () => {
    const limiter = make();
    const key = `client#${uniquePrefix()}`;
    const waits = await Promise.all(Array.from({ length: 40 }, () => limiter.reserve(key, at(0))));
    expect(waits.filter((w) => w === 0)).toHaveLength(limits.maxFailures);
  });
});

describe('DynamoFailedAuthLimiter item layout', () => {
  it('keeps one counter item per key, pk THROTTLE#<key>, sk WINDOW, with the TTL attribute expiresAt', async () => {
    const limiter = new DynamoFailedAuthLimiter(db, tableName, limits);
    const key = `client#${uniquePrefix()}`;
    await Promise.all([0, 1, 2, 3, 4].map(() => limiter.reserve(key, at(0))));
    const { Item } = await db.send(new GetCommand({ TableName: tableName, Key: { pk: `THROTTLE#${key}`, sk: 'WINDOW' } }));
    expect(Item).toEqual({ pk: `THROTTLE#${key}`, sk: 'WINDOW', failures: 3, inFlight: 3, expiresAt: at(60).getTime() / 1000 });
  });
});

describe('authenticateWithLimiter', () => {
  const wrongSecret = () => Promise.reject(new WrongCredentialsError(undefined, 'wrong secret'));
  const outage = () => Promise.reject(new Error('store down'));
  const options = (limiter: FailedAuthLimiter, now = at(0)) => ({ limiter, clientId: 'c1', sourceIp: '198.51.100.7', now });

  it('refuses a locked client id with 429 invalid_client and Retry-After, even with the right secret, without comparing it', async () => {
    const limiter = new InMemoryFailedAuthLimiter(limits);
    for (const s of [0, 1, 2]) {
      await limiter.reserve('client#c1', at(s));
      await limiter.fail('client#c1');
    }
    let compared = false;
    const refused = authenticateWithLimiter(async () => ((compared = true), 'ok'), options(limiter, at(3)));
    await expect(refused).rejects.toMatchObject({ statusCode: 429, error: 'invalid_client', headers: { 'Retry-After': '57' } });
    expect(compared).toBe(false);
  });

  it('compares at most maxFailures of many parallel wrong secrets; the rest get 429 (the race of issue 13.5)', async () => {
    const limiter = new InMemoryFailedAuthLimiter(limits);
    let compared = 0;
    const attempt = () => {
      compared++;
      return wrongSecret();
    };
    const outcomes = await Promise.allSettled(Array.from({ length: 300 }, () => authenticateWithLimiter(attempt, options(limiter))));
    const statuses = outcomes.map((o) => (o.status === 'rejected' ? (o.reason as { statusCode: number }).statusCode : 200));
    expect(compared).toBe(limits.maxFailures);
    expect(statuses.filter((st) => st === 401)).toHaveLength(limits.maxFailures);
    expect(statuses.filter((st) => st === 429)).toHaveLength(300 - limits.maxFailures);
  });

  it('gives the slots back on a success and on an error that is not a rejected secret', async () => {
    const limiter = new InMemoryFailedAuthLimiter({ maxFailures: 1, windowSeconds: 60 });
    await expect(authenticateWithLimiter(async () => 'ok', options(limiter))).resolves.toBe('ok');
    await expect(authenticateWithLimiter(outage, options(limiter))).rejects.toThrow('store down');
    await expect(authenticateWithLimiter(wrongSecret, options(limiter))).rejects.toBeInstanceOf(WrongCredentialsError);
    await expect(authenticateWithLimiter(async () => 'ok', options(limiter))).rejects.toMatchObject({ statusCode: 429 });
  });

  it('fails open when the limiter fails: the request proceeds and the failure is reported', async () => {
    const errors: unknown[] = [];
    const broken: FailedAuthLimiter = {
      reserve: async () => {
        throw new Error('ProvisionedThroughputExceededException');
      },
      release: async () => {
        throw new Error('AccessDenied');
      },
      fail: async () => {
        throw new Error('AccessDenied');
      },
    };
    const result = await authenticateWithLimiter(async () => 'ok', { ...options(broken), onLimiterError: (err) => errors.push(err) });
    expect(result).toBe('ok');
    expect(errors).toHaveLength(2);
  });
});

describe('the token function with the limiter', () => {
  async function handler(limiter: FailedAuthLimiter) {
    const clients = new InMemoryClientStore();
    await clients.put(demoClientRecord(CLIENT));
    const logged: string[] = [];
    const logger = { info: () => {}, warn: (m: string) => void logged.push(m), error: (m: string) => void logged.push(m) };
    return { logged, handle: createTokenHandler({ clients, signer: new LocalRsaSigner(), tokenLifetimeSeconds: 3600, limiter, logger }) };
  }
  const fromIp = (event: APIGatewayProxyEvent, ip: string) => {
    event.requestContext.identity.sourceIp = ip;
    return event;
  };
  const right = { Authorization: basicAuth(CLIENT.clientId, CLIENT.clientSecret) };
  const wrongSecret = { Authorization: basicAuth(CLIENT.clientId, 'wrong') };
  const form = { grant_type: 'client_credentials' };

  it('answers 401 for the first failures, then 429 for the client id, from any address, with the right secret too', async () => {
    const { handle } = await handler(new InMemoryFailedAuthLimiter(limits));
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await handle(fromIp(tokenEvent(form, wrongSecret), `192.0.2.${i}`))).statusCode);
    expect(statuses).toEqual([401, 401, 401]);
    const locked = await handle(fromIp(tokenEvent(form, right), '192.0.2.99'));
    expect(locked.statusCode).toBe(429);
    expect(JSON.parse(locked.body)).toEqual({ error: 'invalid_client', error_description: expect.stringMatching(/Too many failed/) });
    expect(locked.headers).toMatchObject({ 'Retry-After': expect.stringMatching(/^\d+$/), 'Cache-Control': 'no-store' });
  });

  it('locks a source address that fails with many client ids, and not the others', async () => {
    const { handle } = await handler(new InMemoryFailedAuthLimiter(limits));
    for (let i = 0; i < 3; i++) await handle(fromIp(tokenEvent(form, { Authorization: basicAuth(`unknown-${i}`, 'x') }), '192.0.2.1'));
    expect((await handle(fromIp(tokenEvent(form, right), '192.0.2.1'))).statusCode).toBe(429);
    expect((await handle(fromIp(tokenEvent(form, right), '192.0.2.2'))).statusCode).toBe(200);
  });

  it('does not count requests that present no credentials or a malformed header', async () => {
    const { handle } = await handler(new InMemoryFailedAuthLimiter(limits));
    for (let i = 0; i < 5; i++) await handle(tokenEvent(form, { Authorization: 'Basic !!!' }));
    for (let i = 0; i < 5; i++) await handle(tokenEvent(form));
    expect((await handle(tokenEvent(form, right))).statusCode).toBe(200);
  });

  it('issues tokens while the limiter is down, and logs that it failed open', async () => {
    const broken: FailedAuthLimiter = {
      reserve: async () => {
        throw new Error('unreachable');
      },
      release: async () => {
        throw new Error('unreachable');
      },
      fail: async () => {
        throw new Error('unreachable');
      },
    };
    const { handle, logged } = await handler(broken);
    expect((await handle(tokenEvent(form, right))).statusCode).toBe(200);
    expect((await handle(tokenEvent(form, wrongSecret))).statusCode).toBe(401);
    // two reservations (client id, address) per request; nothing taken, so nothing to release
    expect(logged.filter((m) => /fail open/.test(m))).toHaveLength(4);
  });
});
