/**
 * Scope enforcement end to end: real tokens from the token endpoint, through the local API Gateway (its authorizer
 * result cache and its IAM policy evaluation), for the demo clients x every resource type x every interaction.
 * The resource functions' own answers (200, 201, 404, 422...) are theirs; what is asserted here is what the gateway
 * decides: 401, 403, or let through.
 */
import { createHmac, createPublicKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES, type Route } from '../../contract/routes';
import { CCRI_DEMO_CLIENTS, DEMO_PATIENT_CLIENT } from '../../functions/oauth/demo-clients';
import { DEMO_CLIENTS, READ_INTERACTIONS } from '../../functions/scopes/demo-clients.fixture';
import { startTestApi, type TestApi } from '../support/local-api';

const WRITER = { clientId: 'scopes-test-writer', clientSecret: 'scopes-test-writer-secret-0123456789abcdefghijklmnop' };

let api: TestApi;
let other: TestApi;
const saved = { id: process.env.CCRI_WRITER_CLIENT_ID, secret: process.env.CCRI_WRITER_CLIENT_SECRET };

beforeAll(async () => {
  process.env.CCRI_WRITER_CLIENT_ID = WRITER.clientId;
  process.env.CCRI_WRITER_CLIENT_SECRET = WRITER.clientSecret;
  [api, other] = await Promise.all([startTestApi(), startTestApi()]);
});

afterAll(async () => {
  await Promise.all([api?.close(), other?.close()]);
  for (const [name, value] of [
    ['CCRI_WRITER_CLIENT_ID', saved.id],
    ['CCRI_WRITER_CLIENT_SECRET', saved.secret],
  ] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

function secretOf(clientId: string): string {
  const client = [...CCRI_DEMO_CLIENTS, DEMO_PATIENT_CLIENT].find((c) => c.clientId === clientId);
  if (client) return client.clientSecret;
  if (clientId === WRITER.clientId) return WRITER.clientSecret;
  throw new Error(`no secret for ${clientId}`);
}

/** A real access token from the token endpoint (client_secret_basic), optionally narrowed to `scope`. */
async function tokenFor(target: TestApi, clientId: string, scope?: string): Promise<string> {
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  if (scope) form.set('scope', scope);
  const response = await fetch(target.tokenUrl, {
    method: 'POST',
    headers: {
      Authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secretOf(clientId))}`).toString('base64')}`,
      'Content-Type': 'application/x-www-form-urlencoded',
      Accept: 'application/json',
    },
    body: form.toString(),
  });
  const body = (await response.json()) as { access_token?: string };
  expect(response.status, JSON.stringify(body)).toBe(200);
  return body.access_token!;
}

/** Calls a route of the table with path parameters `1`, a minimal body on writes. */
async function call(route: Pick<Route, 'method' | 'path'> & { fhir?: Route['fhir'] }, authorization?: string) {
  const path = route.path.replace(/\{[^}]+\}/g, '1');
  const headers: Record<string, string> = { Accept: 'application/fhir+json' };
  if (authorization !== undefined) headers.Authorization = authorization;
  let body: string | undefined;
  if (route.method === 'POST' || route.method === 'PUT') {
    headers['Content-Type'] = 'application/fhir+json';
    body = JSON.stringify({ resourceType: route.fhir?.type ?? 'Basic', ...(route.method === 'PUT' ? { id: '1' } : {}) });
  }
  const response = await fetch(`${api.baseUrl}${path}`, { method: route.method, headers, body });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, head: route.method === 'HEAD' };
}

function expectForbidden(result: Awaited<ReturnType<typeof call>>) {
  expect(result.status).toBe(403);
  expect(result.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
  expect(result.headers.get('www-authenticate')).toMatch(/^Bearer realm="[^"]+", error="insufficient_scope"$/);
  if (result.head) return expect(result.text).toBe(''); // a HEAD answer has no body (issue 15)
  const outcome = JSON.parse(result.text) as fhir.OperationOutcome;
  expect(outcome.resourceType).toBe('OperationOutcome');
  expect(outcome.issue[0]).toMatchObject({ severity: 'error', code: 'forbidden' });
  expect(outcome.issue[0]!.diagnostics).toMatch(/scope/);
}

function expectUnauthorized(result: Awaited<ReturnType<typeof call>>) {
  expect(result.status).toBe(401);
  expect(result.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
  expect(result.headers.get('www-authenticate')).toMatch(/^Bearer realm="[^"]+"(, error="invalid_token")?$/);
  const outcome = JSON.parse(result.text) as fhir.OperationOutcome;
  expect(outcome.issue[0]).toMatchObject({ severity: 'error', code: 'login' });
  expect(outcome.issue[0]!.diagnostics).toMatch(/token/);
}

function expectLetThrough(result: Awaited<ReturnType<typeof call>>, label: string) {
  const message = `${label}: ${result.status} ${result.text.slice(0, 300)}`;
  expect([401, 403], message).not.toContain(result.status);
  expect(result.status, message).toBeLessThan(500);
}

const fhirRoutes = ROUTES.filter((r) => r.auth === 'authorized' && r.fhir);
const label = (r: Route) => `${r.method} ${r.path}`;

describe.each(DEMO_CLIENTS)('demo client "$name" through the gateway', (client) => {
  let token: string;
  beforeAll(async () => {
    token = await tokenFor(api, client.clientId);
  });

  it('holds exactly its registered CCRI scopes', () => {
    const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { scope: string };
    expect(payload.scope.split(' ').sort()).toEqual(client.scope.split(' ').sort());
  });

  it.each(fhirRoutes.map((route) => ({ route, name: label(route) })))('$name', async ({ route }) => {
    const { type, interaction } = route.fhir!;
    const allowed = READ_INTERACTIONS.includes(interaction) && client.readable.includes(type);
    const result = await call(route, `Bearer ${token}`);
    if (allowed) expectLetThrough(result, label(route));
    else expectForbidden(result);
  });
});

describe('the patient-bound demo client (patient/*.read, Patient/1)', () => {
  let token: string;
  beforeAll(async () => {
    token = await tokenFor(api, DEMO_PATIENT_CLIENT.clientId);
  });

  it('carries its patient', () => {
    const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { patient?: string };
    expect(payload.patient).toBe('1');
  });

  it("reaches only Patient 1's compartment, where a user/ token reaches the whole type", async () => {
    const search = async (path: string, authorization: string) => {
      const response = await fetch(`${api.baseUrl}${path}`, { headers: { Authorization: authorization, Accept: 'application/fhir+json' } });
      expect(response.status).toBe(200);
      return (await response.json()) as fhir.Bundle;
    };
    const own = await search('/STU3/Condition', `Bearer ${token}`);
    expect(own.total).toBeGreaterThan(0);
    expect(own.entry?.map((e) => (e.resource as fhir.Condition).subject.reference)).toEqual(
      Array.from({ length: own.total! }, () => 'Patient/1'),
    );
    const clinical = await tokenFor(api, DEMO_CLIENTS[1]!.clientId);
    const all = await search('/STU3/Condition?_count=100', `Bearer ${clinical}`);
    expect(all.total).toBeGreaterThan(own.total!);
    expect((await search('/STU3/Patient', `Bearer ${token}`)).total).toBe(1);
  });

  it.each(fhirRoutes.map((route) => ({ route, name: label(route) })))('$name', async ({ route }) => {
    const allowed = READ_INTERACTIONS.includes(route.fhir!.interaction);
    const result = await call(route, `Bearer ${token}`);
    if (allowed) expectLetThrough(result, label(route));
    else expectForbidden(result);
  });
});

describe('a client holding write scopes (system/*.read system/*.write)', () => {
  let token: string;
  beforeAll(async () => {
    token = await tokenFor(api, WRITER.clientId);
  });
  it.each(fhirRoutes.map((route) => ({ route, name: label(route) })))('is let through on $name', async ({ route }) => {
    expectLetThrough(await call(route, `Bearer ${token}`), label(route));
  });
});

describe('narrowed tokens', () => {
  const clinical = DEMO_CLIENTS[1]!.clientId;

  it('a token narrowed to user/Patient.read cannot read Condition although its client could', async () => {
    const token = await tokenFor(api, clinical, 'user/Patient.read');
    expectLetThrough(await call({ method: 'GET', path: '/STU3/Patient/{id}' }, `Bearer ${token}`), 'Patient read');
    expectForbidden(await call({ method: 'GET', path: '/STU3/Condition/{id}' }, `Bearer ${token}`));
  });

  it('the MedicationOrder alias reaches MedicationRequest (read and search), not its writes', async () => {
    const token = await tokenFor(api, clinical, 'user/MedicationOrder.read');
    expectLetThrough(await call({ method: 'GET', path: '/STU3/MedicationRequest' }, `Bearer ${token}`), 'search');
    expectLetThrough(await call({ method: 'GET', path: '/STU3/MedicationRequest/{id}' }, `Bearer ${token}`), 'read');
    expectForbidden(
      await call({ method: 'POST', path: '/STU3/MedicationRequest', fhir: { type: 'MedicationRequest', interaction: 'create' } }, `Bearer ${token}`),
    );
  });
});

describe('the authorizer result cache is safe', () => {
  const clinical = DEMO_CLIENTS[1]!.clientId;

  it('a token allowed Patient and not Condition, cached after a Patient call, still gets 403 on Condition', async () => {
    const token = await tokenFor(api, clinical, 'user/Patient.read');
    const before = api.local.gateway.authorizerInvocations;
    expectLetThrough(await call({ method: 'GET', path: '/STU3/Patient/{id}' }, `Bearer ${token}`), 'Patient');
    expectForbidden(await call({ method: 'GET', path: '/STU3/Condition/{id}' }, `Bearer ${token}`));
    expectForbidden(await call({ method: 'GET', path: '/STU3/Condition' }, `Bearer ${token}`));
    expectLetThrough(await call({ method: 'GET', path: '/STU3/Patient' }, `Bearer ${token}`), 'Patient search');
    expect(api.local.gateway.authorizerInvocations - before).toBe(1);
  });

  it('and the reverse: allowed Condition and not Patient, cached after a Condition call, gets 403 on Patient', async () => {
    const token = await tokenFor(api, clinical, 'user/Condition.read');
    const before = api.local.gateway.authorizerInvocations;
    expectLetThrough(await call({ method: 'GET', path: '/STU3/Condition/{id}' }, `Bearer ${token}`), 'Condition');
    expectForbidden(await call({ method: 'GET', path: '/STU3/Patient/{id}' }, `Bearer ${token}`));
    expectForbidden(await call({ method: 'GET', path: '/STU3/Patient' }, `Bearer ${token}`));
    expectLetThrough(await call({ method: 'GET', path: '/STU3/Condition' }, `Bearer ${token}`), 'Condition search');
    expect(api.local.gateway.authorizerInvocations - before).toBe(1);
  });

  it('a cached read grant does not open writes on the same paths', async () => {
    const token = await tokenFor(api, DEMO_CLIENTS[0]!.clientId);
    const before = api.local.gateway.authorizerInvocations;
    expectLetThrough(await call({ method: 'GET', path: '/STU3/Patient/{id}' }, `Bearer ${token}`), 'Patient read');
    expectForbidden(await call({ method: 'PUT', path: '/STU3/Patient/{id}', fhir: { type: 'Patient', interaction: 'update' } }, `Bearer ${token}`));
    expectForbidden(await call({ method: 'DELETE', path: '/STU3/Patient/{id}' }, `Bearer ${token}`));
    expectForbidden(
      await call({ method: 'POST', path: '/STU3/Patient/$validate', fhir: { type: 'Patient', interaction: 'validate' } }, `Bearer ${token}`),
    );
    expect(api.local.gateway.authorizerInvocations - before).toBe(1);
  });
});

describe('401: no valid token', () => {
  const patientRead = { method: 'GET', path: '/STU3/Patient/{id}' } as const;

  it('public routes need no token', async () => {
    const response = await fetch(`${api.fhirBase}/metadata`);
    expect(response.status).toBe(200);
  });

  it.each([
    ['no Authorization header', undefined],
    ['an empty Authorization header', ''],
    ['Basic credentials', `Basic ${Buffer.from('a:b').toString('base64')}`],
    ['a non-JWT', 'Bearer not-a-jwt'],
    ['a token with an extra part', 'Bearer a.b.c d'],
  ])('%s gets 401 with an OperationOutcome (login) and WWW-Authenticate', async (_name, authorization) => {
    expectUnauthorized(await call(patientRead, authorization));
  });

  it('junk and other spellings of a real token get 401 from the gateway itself, without invoking the authorizer', async () => {
    const token = await tokenFor(api, DEMO_CLIENTS[2]!.clientId);
    expect((await call(patientRead, `Bearer ${token}`)).status).not.toBe(401);
    const before = api.local.gateway.authorizerInvocations;
    for (const authorization of ['Bearer not-a-jwt', `bearer ${token}`, `Bearer  ${token}`, `Bearer ${token}=`, `Bearer ${token}==`, 'Basic abc', 'x'.repeat(5000)]) {
      expectUnauthorized(await call(patientRead, authorization));
    }
    expect(api.local.gateway.authorizerInvocations).toBe(before);
  });

  it('a real token tampered with after signing gets 401', async () => {
    const [h, p, s] = (await tokenFor(api, DEMO_CLIENTS[2]!.clientId)).split('.');
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>;
    payload.scope = 'system/*.*';
    const forged = `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`;
    expectUnauthorized(await call(patientRead, `Bearer ${forged}`));
  });

  it('a real token truncated gets 401', async () => {
    const token = await tokenFor(api, DEMO_CLIENTS[0]!.clientId);
    expectUnauthorized(await call(patientRead, `Bearer ${token.slice(0, token.lastIndexOf('.'))}`));
    expectUnauthorized(await call(patientRead, `Bearer ${token.slice(0, -10)}`));
  });

  it('alg none and HS256 signed with the served public key get 401', async () => {
    const token = await tokenFor(api, DEMO_CLIENTS[0]!.clientId);
    const [h, p] = token.split('.');
    const header = JSON.parse(Buffer.from(h!, 'base64url').toString()) as { kid: string };
    const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid: header.kid })).toString('base64url');
    expectUnauthorized(await call(patientRead, `Bearer ${none}.${p}.AAAA`));

    const jwks = (await (await fetch(`${api.baseUrl}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> };
    const jwk = jwks.keys.find((k) => k.kid === header.kid)!;
    const pem = createPublicKey({ key: jwk as never, format: 'jwk' }).export({ format: 'pem', type: 'spki' });
    const hs = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'at+jwt', kid: header.kid })).toString('base64url');
    const mac = createHmac('sha256', pem).update(`${hs}.${p}`).digest('base64url');
    expectUnauthorized(await call(patientRead, `Bearer ${hs}.${p}.${mac}`));
  });

  it("a token of another deployment gets 401 (other issuer, other key)", async () => {
    const foreign = await tokenFor(other, DEMO_CLIENTS[0]!.clientId);
    expectUnauthorized(await call(patientRead, `Bearer ${foreign}`));
  });
});
