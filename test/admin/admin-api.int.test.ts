/**
 * The admin API end to end: real tokens from the token endpoint, through the local API Gateway (authorizer, its
 * result cache, IAM policy evaluation), on DynamoDB Local. Named scopes are expanded into the token at issuance, so
 * a definition change applies to the next token at once; tokens issued before keep what they were issued with.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../contract/routes';
import { MAX_RESPONSE_BYTES } from '../../functions/fhir/http';
import { DEMO_PATIENT_ACCESS_CLIENT } from '../../functions/oauth/demo-clients';
import { startTestApi, type TestApi } from '../support/local-api';
import { TestClock } from '../support/clock';
import { call, requestToken, tokenFor, type Credentials } from './support';

const ADMIN: Credentials = { clientId: 'e2e-admin', clientSecret: randomBytes(32).toString('base64url') };
const PATIENT_ACCESS: Credentials = DEMO_PATIENT_ACCESS_CLIENT;
/** The authorizer result cache TTL, seconds, as configured for this test API. */
const CACHE_SECONDS = 1;

let api: TestApi;
/** The API's clock: moved forward past a cache TTL or a grace period instead of sleeping. */
const clock = new TestClock();
let adminToken: string;

beforeAll(async () => {
  api = await startTestApi({ authorizerCacheSeconds: CACHE_SECONDS, now: clock.now, admin: ADMIN });
  adminToken = await tokenFor(api, ADMIN);
});

afterAll(async () => {
  await api?.close();
});

const admin = <T = any>(method: string, path: string, body?: unknown) => call<T>(api, method, path, { token: adminToken, body });

async function newClient(body: Record<string, unknown>): Promise<Credentials> {
  const created = await admin('POST', '/admin/clients', body);
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return { clientId: created.body.clientId, clientSecret: created.body.clientSecret };
}

describe('a scope definition created through the API', () => {
  const name = 'e2e/medications.read';
  let client: Credentials;
  let token: string;

  beforeAll(async () => {
    const created = await admin('POST', '/admin/scopes', {
      name,
      description: 'Medication statements, requests and medications: read and search',
      grants: { MedicationStatement: 'rs', MedicationRequest: 'sr', Medication: 'rs' },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.headers.get('location')).toBe(`${api.baseUrl}/admin/scopes/e2e%2Fmedications.read`);
    expect(created.body.grants).toEqual({ Medication: 'rs', MedicationRequest: 'rs', MedicationStatement: 'rs' });
    // No waiting: the token endpoint reads the definition when it issues the token.
    client = await newClient({ name: 'Medications reader', scopes: [name] });
    token = await tokenFor(api, client);
  });

  it('is read back by its percent-encoded name', async () => {
    const read = await admin('GET', `/admin/scopes/${encodeURIComponent(name)}`);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ name, grants: { MedicationStatement: 'rs' } });
  });

  it('is granted by the token endpoint under its name, which the token keeps', async () => {
    const response = await requestToken(api, client, name);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { scope: string }).scope).toBe(name);
  });

  it.each([
    ['GET', '/STU3/MedicationStatement?patient=1'],
    ['GET', '/STU3/MedicationRequest?patient=1'],
    ['GET', '/STU3/Medication'],
  ])('lets a newly registered client %s %s', async (method, path) => {
    const response = await call(api, method, path, { token });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.body.resourceType).toBe('Bundle');
  });

  it.each([
    ['GET', '/STU3/Patient/1'],
    ['GET', '/STU3/Condition?patient=1'],
    ['GET', '/STU3/Observation?patient=1'],
    ['GET', '/STU3/Immunization?patient=1'],
    ['POST', '/STU3/MedicationStatement'],
    ['DELETE', '/STU3/MedicationStatement/1'],
    ['GET', '/admin/clients'],
  ])('refuses it %s %s (403): nothing it does not name', async (method, path) => {
    const response = await call(api, method, path, { token, body: method === 'POST' ? { resourceType: 'MedicationStatement' } : undefined });
    expect(response.status).toBe(403);
  });

  it('is refused (409) by a delete while a client holds it, and the refusal names the client', async () => {
    const refused = await admin('DELETE', `/admin/scopes/${encodeURIComponent(name)}`);
    expect(refused.status).toBe(409);
    expect(refused.body.issue[0].diagnostics).toContain(client.clientId);
    expect((await admin('GET', `/admin/scopes/${encodeURIComponent(name)}`)).status).toBe(200);
  });

  it('after a cascading delete, is in no token issued afterwards', async () => {
    expect((await call(api, 'GET', '/STU3/MedicationStatement?patient=1', { token })).status).toBe(200);
    const deleted = await admin('DELETE', `/admin/scopes/${encodeURIComponent(name)}?cascade=true`);
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({ removedFrom: [client.clientId] });
    expect((await admin('GET', `/admin/clients/${client.clientId}`)).body.scopes).toEqual([]);
    expect((await requestToken(api, client, name)).status).toBe(400);
    expect((await admin('GET', `/admin/scopes/${encodeURIComponent(name)}`)).status).toBe(404);
  });
});

describe('an updated scope definition', () => {
  it('applies to the very next token; a token issued before keeps what it was issued with', async () => {
    const name = 'e2e/conditions';
    expect((await admin('POST', '/admin/scopes', { name, grants: { Condition: 'r' } })).status).toBe(201);
    const creds = await newClient({ name: 'Conditions', scopes: name });
    const before = await tokenFor(api, creds);
    expect((await call(api, 'GET', '/STU3/Condition?patient=1', { token: before })).status).toBe(403);
    const updated = await admin('PUT', `/admin/scopes/${encodeURIComponent(name)}`, { grants: { Condition: 'rs' } });
    expect(updated.status).toBe(200);
    const after = await tokenFor(api, creds);
    expect((await call(api, 'GET', '/STU3/Condition?patient=1', { token: after })).status).toBe(200);
    expect((await call(api, 'GET', '/STU3/Condition?patient=1', { token: before })).status).toBe(403);
  });
});

describe('clients', () => {
  it('are created with the secret shown once, and read back without it', async () => {
    const created = await admin('POST', '/admin/clients', {
      clientId: 'e2e-bound',
      name: 'Bound app',
      scopes: 'patient/*.read',
      patient: '1',
      authMethods: ['client_secret_post'],
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('cache-control')).toBe('no-store');
    expect(created.body).toMatchObject({ clientId: 'e2e-bound', scopes: ['patient/*.read'], patient: '1', enabled: true });
    expect(created.body.clientSecret).toMatch(/^[A-Za-z0-9_-]{64}$/);
    const read = await admin('GET', '/admin/clients/e2e-bound');
    expect(read.body).not.toHaveProperty('clientSecret');
    expect(JSON.stringify(read.body)).not.toMatch(/hash|salt/);
    expect(read.body.secrets).toEqual([{}]);
    const listed = await admin('GET', '/admin/clients');
    expect(listed.body.clients.map((c: { clientId: string }) => c.clientId)).toEqual(
      expect.arrayContaining(['e2e-bound', ADMIN.clientId, PATIENT_ACCESS.clientId]),
    );
    expect((await admin('POST', '/admin/clients', { clientId: 'e2e-bound', name: 'again', scopes: ['profile'] })).status).toBe(409);
  });

  it('when disabled get no token, and get one again once enabled', async () => {
    const creds = await newClient({ name: 'To disable', scopes: ['user/Patient.read'] });
    expect((await requestToken(api, creds)).status).toBe(200);
    const disabled = await admin('PATCH', `/admin/clients/${creds.clientId}`, { enabled: false });
    expect(disabled.status).toBe(200);
    expect(disabled.body.enabled).toBe(false);
    const refused = await requestToken(api, creds);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ error: 'invalid_client' });
    await admin('PATCH', `/admin/clients/${creds.clientId}`, { enabled: true });
    expect((await requestToken(api, creds)).status).toBe(200);
  });

  it('get their scopes updated: the next token carries the new ones', async () => {
    const creds = await newClient({ name: 'Rescoped', scopes: ['user/Patient.read'] });
    const updated = await admin('PATCH', `/admin/clients/${creds.clientId}`, { scopes: ['user/Condition.read', 'profile'] });
    expect(updated.body.scopes).toEqual(['user/Condition.read', 'profile']);
    const response = await requestToken(api, creds);
    expect(((await response.json()) as { scope: string }).scope).toBe('user/Condition.read profile');
  });

  it('have a rotated secret: the new one works at once, the old one until its grace period ends, then stops', async () => {
    const old = await newClient({ name: 'Rotating', scopes: ['profile'] });
    const rotated = await admin('POST', `/admin/clients/${old.clientId}/secret`, { graceSeconds: 2 });
    expect(rotated.status).toBe(200);
    const fresh = { clientId: old.clientId, clientSecret: rotated.body.clientSecret as string };
    expect(fresh.clientSecret).not.toBe(old.clientSecret);
    expect(rotated.body.previousSecretsNotAfter).toEqual(expect.any(String));
    expect(rotated.body.client.secrets).toEqual([{ notAfter: rotated.body.previousSecretsNotAfter }, {}]);
    expect((await requestToken(api, fresh)).status).toBe(200);
    expect((await requestToken(api, old)).status).toBe(200);
    clock.advance(Date.parse(rotated.body.previousSecretsNotAfter) - clock.now() + 200);
    expect((await requestToken(api, old)).status).toBe(401);
    expect((await requestToken(api, fresh)).status).toBe(200);
  });

  it('have a secret rotated with no grace stop working at once', async () => {
    const old = await newClient({ name: 'Compromised', scopes: ['profile'] });
    const rotated = await admin('POST', `/admin/clients/${old.clientId}/secret`, { graceSeconds: 0 });
    expect(rotated.body.previousSecretsNotAfter).toBeNull();
    expect((await requestToken(api, old)).status).toBe(401);
  });

  it('have every secret of concurrent rotations working through the grace period (none lost to a concurrent write)', async () => {
    const old = await newClient({ name: 'Rotated twice at once', scopes: ['profile'] });
    const rotations = await Promise.all(Array.from({ length: 4 }, () => admin('POST', `/admin/clients/${old.clientId}/secret`, { graceSeconds: 3600 })));
    expect(rotations.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    for (const rotated of rotations) {
      expect((await requestToken(api, { clientId: old.clientId, clientSecret: rotated.body.clientSecret as string })).status).toBe(200);
    }
    expect((await requestToken(api, old)).status).toBe(200);
    expect((await admin('GET', `/admin/clients/${old.clientId}`)).body.secrets).toHaveLength(5);
  });

  it('are listed in pages under what a response may carry (6 MB), every client once, however many and large they are', async () => {
    // 450 clients with 9 inline keys of ~1.6 KB each: ~6.5 MB of listing.
    const jwks = { keys: Array.from({ length: 9 }, (_, i) => ({ kty: 'RSA', kid: `k${i}`, e: 'AQAB', n: 'A'.repeat(1600) })) };
    const ids = Array.from({ length: 450 }, (_, i) => `bulk-${String(i).padStart(3, '0')}`);
    for (let i = 0; i < ids.length; i += 10) {
      const created = await Promise.all(ids.slice(i, i + 10).map((clientId) => admin('POST', '/admin/clients', { clientId, name: clientId, scopes: ['profile'], authMethods: ['private_key_jwt'], jwks })));
      expect(created.map((r) => r.status)).toEqual(created.map(() => 201));
    }
    const listed: string[] = [];
    let path: string | undefined = '/admin/clients';
    for (let pages = 0; path !== undefined; pages++) {
      expect(pages).toBeLessThan(20);
      const response = await fetch(`${api.baseUrl}${path}`, { headers: { Authorization: `Bearer ${adminToken}` } });
      const text = await response.text();
      expect(response.status, text.slice(0, 200)).toBe(200);
      expect(Buffer.byteLength(text)).toBeLessThan(MAX_RESPONSE_BYTES);
      const body = JSON.parse(text) as { clients: { clientId: string }[]; next?: string };
      listed.push(...body.clients.map((c) => c.clientId));
      path = body.next === undefined ? undefined : `/admin/clients?cursor=${encodeURIComponent(body.next)}`;
    }
    expect(listed.filter((id) => id.startsWith('bulk-')).sort()).toEqual(ids);
    expect(new Set(listed).size).toBe(listed.length);
    expect((await admin('GET', '/admin/clients?cursor=not-a-cursor')).status).toBe(400);
    await Promise.all(ids.map((id) => admin('DELETE', `/admin/clients/${id}`)));
  });

  it('get invalid_scope, not a token too long for any request, when their scopes would make one (then a narrower scope works)', async () => {
    const names = Array.from({ length: 60 }, (_, i) => `long${i}/${'x'.repeat(120)}`);
    for (const name of names) expect((await admin('POST', '/admin/scopes', { name, grants: { Patient: 'rs' } })).status).toBe(201);
    const creds = await newClient({ name: 'Many long scopes', scopes: names });
    const refused = await requestToken(api, creds);
    const body = (await refused.json()) as { error?: string; error_description?: string };
    expect(refused.status, JSON.stringify(body)).toBe(400);
    expect(body).toEqual({ error: 'invalid_scope', error_description: expect.stringMatching(/fewer scopes/) });
    const narrow = await requestToken(api, creds, names.slice(0, 5).join(' '));
    const token = ((await narrow.json()) as { access_token: string }).access_token;
    expect((await call(api, 'GET', '/STU3/Patient/1', { token })).status).toBe(200);
    for (const name of names) await admin('DELETE', `/admin/scopes/${encodeURIComponent(name)}?cascade=true`);
  });

  it('are deleted: no token afterwards, 404 on read', async () => {
    const creds = await newClient({ name: 'Doomed', scopes: ['profile'] });
    expect((await admin('DELETE', `/admin/clients/${creds.clientId}`)).status).toBe(204);
    expect((await requestToken(api, creds)).status).toBe(401);
    expect((await admin('GET', `/admin/clients/${creds.clientId}`)).status).toBe(404);
  });

  it('with the admin scope can only be registered by an admin, and then may call the admin API', async () => {
    const refused = await requestToken(api, PATIENT_ACCESS, 'ccri/admin');
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: 'invalid_scope' });
    const second = await newClient({ name: 'Second admin', scopes: ['ccri/admin'] });
    const token = await tokenFor(api, second);
    expect((await call(api, 'GET', '/admin/clients', { token })).status).toBe(200);
  });

  it('refuses to let the admin client disable, demote or delete itself (403)', async () => {
    for (const [method, body] of [
      ['PATCH', { enabled: false }],
      ['PATCH', { scopes: ['profile'] }],
      ['DELETE', undefined],
    ] as const) {
      const response = await admin(method, `/admin/clients/${ADMIN.clientId}`, body);
      expect(response.status).toBe(403);
      expect(response.body.resourceType).toBe('OperationOutcome');
    }
  });
});

describe('validation', () => {
  it.each([
    ['an unknown resource type', '/admin/scopes', { name: 'e2e/x', grants: { Prescription: 'r' } }, /Unknown resource type: Prescription/],
    ['an alias instead of the type', '/admin/scopes', { name: 'e2e/x', grants: { MedicationOrder: 'r' } }, /use MedicationRequest/],
    ['bad permission letters', '/admin/scopes', { name: 'e2e/x', grants: { Patient: 'rw' } }, /Bad permission letters "w"/],
    ['a name in SMART syntax', '/admin/scopes', { name: 'user/Patient.read', grants: { Patient: 'r' } }, /clashes with SMART/],
    ['the name launch/patient', '/admin/scopes', { name: 'launch/patient', grants: { Patient: 'r' } }, /clashes with SMART/],
    ['the reserved admin scope', '/admin/scopes', { name: 'ccri/admin', grants: { Patient: 'r' } }, /reserved/],
    ['a name confusable with the admin scope', '/admin/scopes', { name: 'ccri:admin', grants: { Patient: 'r' } }, /confusable with the reserved/],
    ['a name confusable with a SMART scope', '/admin/scopes', { name: 'Patient:Observation.read', grants: { Observation: 'r' } }, /confusable with a SMART scope/],
    ['an unknown scope on a client', '/admin/clients', { name: 'x', scopes: ['e2e/nope', 'profile'] }, /Unknown scope: e2e\/nope/],
    ['an unknown field', '/admin/clients', { name: 'x', scopes: ['profile'], secret: 'mine' }, /Unknown field: secret/],
  ])('refuses %s with 400 and an OperationOutcome', async (_name, path, body, message) => {
    const response = await admin('POST', path, body);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
    expect(response.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'invalid' }] });
    expect(response.body.issue[0].diagnostics).toMatch(message);
  });

  it('refuses (409) a definition whose name folds to an existing one', async () => {
    expect((await admin('POST', '/admin/scopes', { name: 'e2e/labs.read', grants: { Observation: 'rs' } })).status).toBe(201);
    const twin = await admin('POST', '/admin/scopes', { name: 'E2E:Labs_Read', grants: { Observation: 'cruds' } });
    expect(twin.status).toBe(409);
    expect(twin.body.issue[0].diagnostics).toMatch(/confusable with the existing definition e2e\/labs.read/);
  });

  it('refuses a body that is not JSON with 415', async () => {
    const response = await fetch(`${api.baseUrl}/admin/scopes`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'text/plain' },
      body: 'name=x',
    });
    expect(response.status).toBe(415);
  });
});

describe('the audit trail', () => {
  it('records every change with who, what and when, and never a secret', async () => {
    const creds = await newClient({ clientId: 'e2e-audited', name: 'Audited', scopes: ['profile'] });
    const rotated = await admin('POST', '/admin/clients/e2e-audited/secret', { graceSeconds: 60 });
    const audit = await admin('GET', '/admin/audit?limit=1000');
    expect(audit.status).toBe(200);
    const mine = audit.body.records.filter((r: { target: string }) => r.target === 'e2e-audited');
    expect(mine.map((r: { action: string }) => r.action)).toEqual(['client.rotate-secret', 'client.create']);
    expect(mine[1]).toMatchObject({ actor: ADMIN.clientId, summary: { name: 'Audited', scopes: ['profile'] } });
    expect(Date.parse(mine[0].at)).toBeGreaterThan(Date.now() - 60_000);
    const text = JSON.stringify(audit.body);
    expect(text).not.toContain(creds.clientSecret);
    expect(text).not.toContain(rotated.body.clientSecret);
    expect(text).not.toMatch(/"hash"|"salt"/);
  });
});

describe('every admin route', () => {
  const adminRoutes = ROUTES.filter((r) => r.admin);
  const cases = adminRoutes.map((r) => [r.method, r.path.replace('{clientId}', 'someone').replace('{name}', 'e2e%2Fx')] as const);

  it('is in the route table', () => {
    expect(adminRoutes.length).toBeGreaterThanOrEqual(12);
    expect(adminRoutes.every((r) => r.auth === 'authorized' && r.function === 'admin')).toBe(true);
  });

  it.each(cases)('%s %s refuses a request without a token (401)', async (method, path) => {
    expect((await call(api, method, path)).status).toBe(401);
  });

  it.each(cases)('%s %s refuses a token without the admin scope (403)', async (method, path) => {
    const token = await tokenFor(api, PATIENT_ACCESS);
    expect((await call(api, method, path, { token, body: method === 'GET' || method === 'DELETE' ? undefined : {} })).status).toBe(403);
  });
});
