/**
 * Dependency faults through the real handlers: DynamoDB unreachable or throttling (a switchable proxy in front of the
 * real DynamoDB Local engine: real SDK errors, real retries, real recovery) and KMS unreachable. Each outage answers
 * 503 with Retry-After and the route's error shape, within the function timeout; service resumes when the
 * dependency returns, with the same handler instances (no restart).
 */
import { KMSClient } from '@aws-sdk/client-kms';
import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { setTimeout as sleep } from 'node:timers/promises';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoClientStore } from '../../functions/oauth/clients';
import { DEMO_LIMITED_ACCESS_CLIENT as CLIENT, seedClients } from '../../functions/oauth/demo-clients';
import { KmsSigner, LocalRsaSigner } from '../../functions/oauth/signer';
import { DynamoFailedAuthLimiter } from '../../functions/oauth/throttle';
import { createFhirHandler } from '../../functions/resource/handler';
import { createDocumentClient } from '../../functions/store/client';
import { TOKEN_SDK_SETTINGS } from '../../functions/token/config';
import { createTokenHandler } from '../../functions/token/handler';
import { CLIENTS_TABLE, FHIR_TABLE, localTableName } from '../../contract/tables';
import { basicAuth, tokenEvent } from '../oauth/events';
import { createTestTables, testDocumentClient, uniquePrefix } from '../support/dynamodb';
import { SwitchableProxy, type ProxyState } from './switchable-proxy';

/** The deployed functions' timeout (lib/constructs/function.ts): every outage must be answered well before it. */
const FUNCTION_TIMEOUT_MS = 10_000;

const prefix = uniquePrefix();
const clientsTable = localTableName(CLIENTS_TABLE, prefix);
const fhirTable = localTableName(FHIR_TABLE, prefix);
const proxy = new SwitchableProxy(process.env.AWS_ENDPOINT_URL_DYNAMODB!);
let viaProxy: DynamoDBDocumentClient;

const WRITER = { clientId: 'faults', scope: 'system/*.*', grants: 'Patient:cruds' };

function fhirEvent(method: string, path: string, body?: unknown): APIGatewayProxyEvent {
  const parts = path.split('/');
  const id = parts[3];
  return {
    httpMethod: method,
    path,
    resource: id ? '/STU3/Patient/{id}' : '/STU3/Patient',
    pathParameters: id ? { id } : null,
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    headers: { 'X-Forwarded-Proto': 'https', ...(body ? { 'Content-Type': 'application/fhir+json' } : {}) },
    multiValueHeaders: {},
    body: body ? JSON.stringify(body) : null,
    isBase64Encoded: false,
    stageVariables: null,
    requestContext: { requestId: 'r', domainName: 'api.example.org', authorizer: WRITER } as unknown as APIGatewayProxyEvent['requestContext'],
  } as APIGatewayProxyEvent;
}

const patient = { resourceType: 'Patient', active: true };

beforeAll(async () => {
  await createTestTables([CLIENTS_TABLE, FHIR_TABLE], prefix);
  await seedClients(new DynamoClientStore(testDocumentClient(), clientsTable), [CLIENT]);
  await proxy.start();
  // The deployed settings: bounded attempts and timeouts (functions/store/client.ts, functions/token/config.ts).
  viaProxy = createDocumentClient({ endpoint: proxy.endpoint, ...TOKEN_SDK_SETTINGS });
});

afterAll(async () => {
  await proxy.stop();
});

beforeEach(async () => {
  await proxy.set('up');
});

async function timed<T>(call: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = Date.now();
  const result = await call();
  return { result, ms: Date.now() - started };
}

const OUTAGES: [string, Exclude<ProxyState, 'up'>][] = [
  ['unreachable', 'down'],
  ['throttling', 'throttling'],
];

describe.each(OUTAGES)('DynamoDB %s', (_name, state) => {
  it.each<[string, string, string, unknown?]>([
    ['read', 'GET', '/STU3/Patient/p1'],
    ['search', 'GET', '/STU3/Patient'],
    ['create', 'POST', '/STU3/Patient', patient],
    ['update', 'PUT', '/STU3/Patient/p1', { ...patient, id: 'p1' }],
    ['delete', 'DELETE', '/STU3/Patient/p1'],
  ])('a FHIR %s answers 503 with Retry-After and an OperationOutcome, then works again when DynamoDB is back', async (_i, method, path, body) => {
    const handler = createFhirHandler({ tableName: fhirTable, clientFor: () => viaProxy, validator: null });
    expect((await handler(fhirEvent('PUT', '/STU3/Patient/p1', { ...patient, id: 'p1' }))).statusCode).toBeLessThan(300);

    await proxy.set(state);
    const { result: failed, ms } = await timed(() => handler(fhirEvent(method, path, body)));
    expect(failed.statusCode).toBe(503);
    expect(failed.headers).toMatchObject({ 'Retry-After': expect.stringMatching(/^\d+$/) });
    expect(JSON.parse(failed.body)).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'transient' }] });
    expect(failed.body).not.toMatch(/ECONNREFUSED|ProvisionedThroughput|127\.0\.0\.1/);
    expect(ms).toBeLessThan(FUNCTION_TIMEOUT_MS);

    await proxy.set('up');
    const resumed = await handler(fhirEvent(method, path, body));
    expect(resumed.statusCode).toBeLessThan(300);
  });

  it('the token route answers 503 temporarily_unavailable with Retry-After, then issues tokens again', async () => {
    const handler = createTokenHandler({
      clients: new DynamoClientStore(viaProxy, clientsTable),
      limiter: new DynamoFailedAuthLimiter(viaProxy, clientsTable),
      signer: new LocalRsaSigner(),
      tokenLifetimeSeconds: 3600,
      logger: { info: () => {}, warn: () => {}, error: () => {} },
    });
    const request = () => handler(tokenEvent({ grant_type: 'client_credentials' }, { Authorization: basicAuth(CLIENT.clientId, CLIENT.clientSecret) }));
    expect((await request()).statusCode).toBe(200);

    await proxy.set(state);
    const { result: failed, ms } = await timed(request);
    expect(failed.statusCode).toBe(503);
    expect(JSON.parse(failed.body)).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });
    expect(failed.headers).toMatchObject({ 'Retry-After': expect.stringMatching(/^\d+$/), 'Cache-Control': 'no-store' });
    expect(ms).toBeLessThan(FUNCTION_TIMEOUT_MS);

    await proxy.set('up');
    expect((await request()).statusCode).toBe(200);
  });
});

describe('bounded retries', () => {
  it('makes at most maxAttempts (3) attempts per DynamoDB call while throttled', async () => {
    const handler = createFhirHandler({ tableName: fhirTable, clientFor: () => viaProxy, validator: null });
    await proxy.set('throttling');
    proxy.throttled = 0;
    expect((await handler(fhirEvent('GET', '/STU3/Patient/p1'))).statusCode).toBe(503);
    expect(proxy.throttled).toBeGreaterThanOrEqual(1);
    expect(proxy.throttled).toBeLessThanOrEqual(3);
  });
});

describe('BatchGetItem throttled item by item (every key back as UnprocessedKeys, without end)', () => {
  /** The document client of the proxy, except that each BatchGetItem answers with all its keys unprocessed. */
  const partiallyThrottled = () =>
    ({
      send: (command: unknown) =>
        command instanceof BatchGetCommand
          ? Promise.resolve({ Responses: {}, UnprocessedKeys: command.input.RequestItems })
          : viaProxy.send(command as never),
    }) as unknown as DynamoDBDocumentClient;

  it.each([
    ['a search', '/STU3/Patient'],
    ['a history', '/STU3/Patient/_history'],
  ])('%s answers 503 with Retry-After within the function timeout, not a retry loop until it times out', async (_name, path) => {
    const handler = createFhirHandler({ tableName: fhirTable, clientFor: () => viaProxy, validator: null });
    expect((await handler(fhirEvent('PUT', '/STU3/Patient/p1', { ...patient, id: 'p1' }))).statusCode).toBeLessThan(300);
    const throttled = createFhirHandler({ tableName: fhirTable, clientFor: partiallyThrottled, validator: null });
    const event = { ...fhirEvent('GET', path), resource: path };
    const answer = await Promise.race([timed(() => throttled(event)), sleep(FUNCTION_TIMEOUT_MS).then(() => 'still retrying' as const)]);
    expect(answer).not.toBe('still retrying');
    const { result, ms } = answer as Exclude<typeof answer, string>;
    expect(result.statusCode).toBe(503);
    expect(result.headers).toMatchObject({ 'Retry-After': expect.stringMatching(/^\d+$/) });
    expect(ms).toBeLessThan(FUNCTION_TIMEOUT_MS);
  });
});

describe('the failed-authentication limiter down alone', () => {
  it('fails open: tokens are still issued while its counters are unreachable', async () => {
    const down = new SwitchableProxy(process.env.AWS_ENDPOINT_URL_DYNAMODB!);
    await down.start();
    await down.set('down');
    const errors: string[] = [];
    const handler = createTokenHandler({
      clients: new DynamoClientStore(testDocumentClient(), clientsTable),
      limiter: new DynamoFailedAuthLimiter(createDocumentClient({ endpoint: down.endpoint, maxAttempts: 1 }), clientsTable),
      signer: new LocalRsaSigner(),
      tokenLifetimeSeconds: 3600,
      logger: { info: () => {}, warn: () => {}, error: (m: string) => void errors.push(m) },
    });
    const response = await handler(tokenEvent({ grant_type: 'client_credentials' }, { Authorization: basicAuth(CLIENT.clientId, CLIENT.clientSecret) }));
    expect(response.statusCode).toBe(200);
    expect(errors.some((m) => /fail open/.test(m))).toBe(true);
  });
});

describe('KMS unreachable', () => {
  it('the token route answers 503 temporarily_unavailable within the function timeout', async () => {
    const closed = new SwitchableProxy('http://127.0.0.1:1');
    await closed.start();
    await closed.set('down');
    const kms = new KMSClient({
      endpoint: closed.endpoint,
      maxAttempts: TOKEN_SDK_SETTINGS.maxAttempts,
      requestHandler: new NodeHttpHandler({ connectionTimeout: TOKEN_SDK_SETTINGS.connectionTimeoutMs, requestTimeout: TOKEN_SDK_SETTINGS.requestTimeoutMs }),
    });
    const handler = createTokenHandler({
      limiter: null,
      clients: new DynamoClientStore(testDocumentClient(), clientsTable),
      signer: new KmsSigner(kms, 'arn:aws:kms:eu-west-2:123456789012:key/11111111-1111-1111-1111-111111111111'),
      tokenLifetimeSeconds: 3600,
      logger: { info: () => {}, warn: () => {}, error: () => {} },
    });
    const { result, ms } = await timed(() =>
      handler(tokenEvent({ grant_type: 'client_credentials' }, { Authorization: basicAuth(CLIENT.clientId, CLIENT.clientSecret) })),
    );
    expect(result.statusCode).toBe(503);
    expect(JSON.parse(result.body)).toMatchObject({ error: 'temporarily_unavailable' });
    expect(result.headers).toMatchObject({ 'Retry-After': '5' });
    expect(ms).toBeLessThan(FUNCTION_TIMEOUT_MS);
  });
});
