import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayAuthorizerResult, APIGatewayProxyEvent, APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Route } from '../contract/routes';
import { LocalGateway, type ProxyHandler } from './gateway';

const routes: Route[] = [
  { method: 'GET', path: '/STU3/metadata', function: 'metadata', auth: 'public' },
  { method: 'GET', path: '/STU3/Patient/{id}', function: 'fhir', auth: 'authorized', fhir: { type: 'Patient', interaction: 'read' } },
  { method: 'POST', path: '/STU3/Patient/$validate', function: 'fhir', auth: 'authorized', fhir: { type: 'Patient', interaction: 'validate' } },
  { method: 'POST', path: '/STU3/Patient/{id}', function: 'fhir', auth: 'authorized', fhir: { type: 'Patient', interaction: 'update' } },
  { method: 'GET', path: '/STU3/Condition/{id}', function: 'fhir', auth: 'authorized', fhir: { type: 'Condition', interaction: 'read' } },
];

/** Tokens the fake authorizer knows: what each may call. */
const grants: Record<string, string[]> = {
  'Bearer patient-only': ['GET/STU3/Patient/*'],
  'Bearer condition-only': ['GET/STU3/Condition/*'],
  'Bearer denied-condition': ['*'],
};

let now = 1_000_000;
let events: APIGatewayProxyEvent[] = [];
let authorizerEvents: APIGatewayTokenAuthorizerEvent[] = [];
let gateway: LocalGateway;
let server: Server;
let base: string;

const echo: ProxyHandler = async (event) => {
  events.push(event);
  return { statusCode: 200, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ ok: true }) };
};

beforeAll(async () => {
  gateway = new LocalGateway({
    routes,
    handlers: {
      metadata: echo,
      fhir: async (event) => {
        if (event.body === 'crash') throw new Error('boom');
        return echo(event, undefined as never);
      },
    },
    authorizer: async (event) => {
      authorizerEvents.push(event);
      if (event.authorizationToken === 'Bearer broken') throw new Error('socket hang up');
      const allowed = grants[event.authorizationToken];
      if (!allowed) throw new Error('Unauthorized');
      const prefix = event.methodArn.split('/').slice(0, 2).join('/');
      const statements: APIGatewayAuthorizerResult['policyDocument']['Statement'] = [
        { Effect: 'Allow', Action: 'execute-api:Invoke', Resource: allowed.map((a) => `${prefix}/${a}`) },
      ];
      if (event.authorizationToken === 'Bearer denied-condition') {
        statements.push({ Effect: 'Deny', Action: 'execute-api:Invoke', Resource: `${prefix}/GET/STU3/Condition/*` });
      }
      return {
        principalId: 'client-1',
        policyDocument: { Version: '2012-10-17', Statement: statements },
        context: { clientId: 'client-1', scope: 'user/Patient.read' },
      };
    },
    authorizerCacheSeconds: 300,
    domainName: 'localhost:0',
    maxBodyBytes: 1024,
    now: () => now,
  });
  server = createServer(gateway.listener);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

beforeEach(() => {
  events = [];
  authorizerEvents = [];
  gateway.flushAuthorizerCache();
});

const get = (path: string, token?: string) => fetch(base + path, { headers: token ? { Authorization: token } : {} });

describe('the local gateway', () => {
  it('turns a request into an API Gateway REST proxy event (payload v1)', async () => {
    const res = await fetch(`${base}/STU3/Patient/a%2Db?name=x&name=y&_count=2`, {
      headers: { Authorization: 'Bearer patient-only', 'X-Thing': 'one', Accept: 'application/fhir+json' },
    });
    expect(res.status).toBe(200);
    const event = events[0]!;
    expect(event).toMatchObject({
      resource: '/STU3/{type}/{id}',
      path: '/STU3/Patient/a-b',
      httpMethod: 'GET',
      pathParameters: { type: 'Patient', id: 'a-b' },
      queryStringParameters: { name: 'y', _count: '2' },
      multiValueQueryStringParameters: { name: ['x', 'y'], _count: ['2'] },
      body: null,
      isBase64Encoded: false,
      requestContext: {
        stage: 'local',
        resourcePath: '/STU3/{type}/{id}',
        httpMethod: 'GET',
        domainName: 'localhost:0',
        authorizer: { clientId: 'client-1', scope: 'user/Patient.read', principalId: 'client-1' },
      },
    });
    expect(event.requestContext.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(event.headers['X-Thing']).toBe('one');
    expect(event.multiValueHeaders['Accept']).toEqual(['application/fhir+json']);
    expect(event.headers['X-Forwarded-Proto']).toBe('http');
    expect(res.headers.get('x-amzn-requestid')).toBe(event.requestContext.requestId);
  });

  it('passes the authorizer a TOKEN event with the method ARN of the request', async () => {
    await get('/STU3/Patient/7', 'Bearer patient-only');
    expect(authorizerEvents).toEqual([
      { type: 'TOKEN', authorizationToken: 'Bearer patient-only', methodArn: 'arn:aws:execute-api:local:000000000000:local/local/GET/STU3/Patient/7' },
    ]);
  });

  it('serves public routes without running the authorizer', async () => {
    expect((await get('/STU3/metadata')).status).toBe(200);
    expect(authorizerEvents).toHaveLength(0);
  });

  it('answers 401 with an OperationOutcome and WWW-Authenticate when the Authorization header is missing', async () => {
    const res = await get('/STU3/Patient/1');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="ccri-fhir"/);
    expect(res.headers.get('content-type')).toMatch(/application\/fhir\+json/);
    expect(await res.json()).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'login' }] });
    expect(authorizerEvents).toHaveLength(0);
  });

  it('answers 401 when the authorizer throws Unauthorized', async () => {
    const res = await get('/STU3/Patient/1', 'Bearer nonsense');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('answers 503, not 500, when the authorizer fails otherwise', async () => {
    const res = await get('/STU3/Patient/1', 'Bearer broken');
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'transient' }] });
  });

  it('answers 403 insufficient_scope when no statement allows the method ARN', async () => {
    const res = await get('/STU3/Condition/1', 'Bearer patient-only');
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    const body = (await res.json()) as { issue: Array<{ diagnostics: string }> };
    expect(body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'forbidden' }] });
    // API Gateway's resource path, as the deployed gateway response says it: the type is a path parameter.
    expect(body.issue[0].diagnostics).toContain('GET /STU3/{type}/{id}');
    expect(events).toHaveLength(0);
  });

  it('lets an explicit Deny win over an Allow of everything', async () => {
    expect((await get('/STU3/Patient/1', 'Bearer denied-condition')).status).toBe(200);
    expect((await get('/STU3/Condition/1', 'Bearer denied-condition')).status).toBe(403);
  });

  it('caches the decision per token for the TTL and reuses it on other paths, as API Gateway does', async () => {
    expect((await get('/STU3/Patient/1', 'Bearer patient-only')).status).toBe(200);
    expect((await get('/STU3/Condition/1', 'Bearer patient-only')).status).toBe(403);
    expect((await get('/STU3/Patient/2', 'Bearer patient-only')).status).toBe(200);
    expect(authorizerEvents).toHaveLength(1);
    expect((await get('/STU3/Condition/1', 'Bearer condition-only')).status).toBe(200);
    expect((await get('/STU3/Patient/1', 'Bearer condition-only')).status).toBe(403);
    expect(authorizerEvents).toHaveLength(2);
    now += 301_000;
    expect((await get('/STU3/Condition/2', 'Bearer patient-only')).status).toBe(403);
    expect(authorizerEvents).toHaveLength(3);
    expect(authorizerEvents[2]!.methodArn).toMatch(/GET\/STU3\/Condition\/2$/);
  });

  it('prefers a literal path part over a {parameter}', async () => {
    await fetch(`${base}/STU3/Patient/$validate`, { method: 'POST', headers: { Authorization: 'Bearer denied-condition' }, body: '{}' });
    await fetch(`${base}/STU3/Patient/9`, { method: 'POST', headers: { Authorization: 'Bearer denied-condition' }, body: '{}' });
    await fetch(`${base}/STU3/metadata`);
    expect(events.map((e) => [e.resource, e.pathParameters])).toEqual([
      ['/STU3/{type}/$validate', { type: 'Patient' }],
      ['/STU3/{type}/{id}', { type: 'Patient', id: '9' }],
      ['/STU3/metadata', null],
    ]);
    expect(events[0]!.body).toBe('{}');
  });

  it('serves one {type} resource tree for every type, as lib/api.ts deploys it', async () => {
    expect((await get('/STU3/Condition/4', 'Bearer condition-only')).status).toBe(200);
    // A type the route table lacks still matches the tree; the function answers it (404 OperationOutcome).
    expect((await get('/STU3/Nothing/4', 'Bearer denied-condition')).status).toBe(200);
    expect(events.map((e) => [e.resource, e.pathParameters])).toEqual([
      ['/STU3/{type}/{id}', { type: 'Condition', id: '4' }],
      ['/STU3/{type}/{id}', { type: 'Nothing', id: '4' }],
    ]);
  });

  it('matches the resource before the method: a method the static resource lacks is no route, not a {parameter} sibling', async () => {
    const res = await fetch(`${base}/STU3/Patient/$validate`, { headers: { Authorization: 'Bearer denied-condition' } });
    expect(res.status).toBe(404);
    expect(events).toHaveLength(0);
  });

  it.each([
    ['an unknown path', 'GET', '/STU3/Patient/1/2/3/4'],
    ['a known path with another method', 'DELETE', '/STU3/metadata'],
    ['an empty path parameter', 'GET', '/STU3/Patient/'],
  ])('answers 404 with an OperationOutcome for %s', async (_name, method, path) => {
    const res = await fetch(base + path, { method });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'not-supported' }] });
  });

  it('answers 413 when the body is over the gateway limit, before the authorizer runs', async () => {
    const res = await fetch(`${base}/STU3/Patient/1`, { method: 'POST', headers: { Authorization: 'Bearer patient-only' }, body: 'x'.repeat(2048) });
    expect(res.status).toBe(413);
    expect(authorizerEvents).toHaveLength(0);
  });

  it('answers 502 with an OperationOutcome, never a stack trace, when a function crashes', async () => {
    const res = await fetch(`${base}/STU3/Patient/1`, { method: 'POST', headers: { Authorization: 'Bearer denied-condition' }, body: 'crash' });
    expect(res.status).toBe(502);
    const text = await res.text();
    expect(text).not.toContain('boom');
    expect(JSON.parse(text)).toMatchObject({ resourceType: 'OperationOutcome' });
  });

  it('answers 400 for a path that is not valid percent-encoding', async () => {
    const res = await get('/STU3/Patient/%E0%A4%A', 'Bearer patient-only');
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ resourceType: 'OperationOutcome' });
  });
});

describe('the gateway responses', () => {
  it('are valid JSON OperationOutcomes whatever the error message holds', async () => {
    const { GATEWAY_RESPONSES } = await import('../lib/gateway-responses');
    for (const spec of GATEWAY_RESPONSES) {
      const body = spec.body
        .replace('$context.error.messageString', JSON.stringify('a "quoted" message'))
        .replace(/\$context\.[A-Za-z.]+/g, 'x');
      expect(JSON.parse(body), spec.type).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error' }] });
    }
  });
});
