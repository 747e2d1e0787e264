/**
 * Revocation (RFC 7009) and introspection (RFC 7662) end to end, and the authorizer refusing revoked tokens within
 * its stated bound: REVOCATION_CACHE_SECONDS (its copy of the revocation list) + the gateway's authorizer cache TTL,
 * both 1 s here. The authorizer reads no database: it fetches GET /oauth2/revocations over HTTP.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEMO_CLINICAL_ACCESS_CLIENT as CLINICAL, DEMO_LIMITED_ACCESS_CLIENT as LIMITED } from '../../functions/oauth/demo-clients';
import { MAX_REVOKED_TOKENS_PER_CLIENT } from '../../functions/oauth/revocation';
import { call, sleep, tokenFor, type Credentials } from '../admin/support';
import { startTestApi, type TestApi } from '../support/local-api';

const ADMIN: Credentials = { clientId: 'rv-admin', clientSecret: randomBytes(32).toString('base64url') };
const BOUND_MS = 2 * 1000 + 400;
let api: TestApi;
let adminToken: string;

beforeAll(async () => {
  vi.stubEnv('REVOCATION_CACHE_SECONDS', '1');
  api = await startTestApi({ authorizerCacheSeconds: 1, admin: ADMIN });
  adminToken = await tokenFor(api, ADMIN);
});

afterAll(async () => {
  await api?.close();
  vi.unstubAllEnvs();
});

const basic = (c: Credentials) => `Basic ${Buffer.from(`${encodeURIComponent(c.clientId)}:${encodeURIComponent(c.clientSecret)}`).toString('base64')}`;

async function post(path: string, creds: Credentials, form: Record<string, string>) {
  const response = await fetch(`${api.baseUrl}${path}`, {
    method: 'POST',
    headers: { Authorization: basic(creds), 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

const readPatient = (token: string) => call(api, 'GET', '/STU3/Patient/1', { token }).then((r) => r.status);

describe('POST /oauth2/revoke (RFC 7009)', () => {
  it('revokes the client own token: introspection says inactive at once, the API refuses it within the bound', async () => {
    const token = await tokenFor(api, CLINICAL);
    const other = await tokenFor(api, CLINICAL);
    expect(await readPatient(token)).toBe(200);
    const revoked = await post('/oauth2/revoke', CLINICAL, { token, token_type_hint: 'access_token' });
    expect(revoked.status).toBe(200);
    expect(revoked.headers.get('cache-control')).toBe('no-store');
    expect((await post('/oauth2/introspect', CLINICAL, { token })).body).toEqual({ active: false });
    await sleep(BOUND_MS);
    expect(await readPatient(token)).toBe(401);
    expect(await readPatient(other)).toBe(200);
  });

  it("answers 200 and revokes nothing for another client's token or a junk token (no oracle)", async () => {
    const token = await tokenFor(api, CLINICAL);
    expect((await post('/oauth2/revoke', LIMITED, { token })).status).toBe(200);
    expect((await post('/oauth2/revoke', LIMITED, { token: 'not-a-token' })).status).toBe(200);
    expect((await post('/oauth2/introspect', CLINICAL, { token })).body.active).toBe(true);
  });

  it('needs client authentication and a token parameter', async () => {
    expect((await post('/oauth2/revoke', { clientId: CLINICAL.clientId, clientSecret: 'wrong' }, { token: 'x' })).status).toBe(401);
    expect((await post('/oauth2/revoke', CLINICAL, {})).body).toMatchObject({ error: 'invalid_request' });
  });
});

describe('revocations of one client are bounded', () => {
  it(`a client revoking more than ${MAX_REVOKED_TOKENS_PER_CLIENT} of its tokens grows the published list no further: the rest are revoked by a cut-off`, async () => {
    const n = MAX_REVOKED_TOKENS_PER_CLIENT + 10;
    const tokens: string[] = [];
    for (let i = 0; i < n; i++) tokens.push(await tokenFor(api, LIMITED));
    const other = await tokenFor(api, CLINICAL);
    for (const token of tokens) expect((await post('/oauth2/revoke', LIMITED, { token })).status).toBe(200);
    const list = await fetch(`${api.baseUrl}/oauth2/revocations`).then((r) => r.json() as Promise<{ jti: string[] }>);
    expect(list.jti.length).toBeLessThanOrEqual(MAX_REVOKED_TOKENS_PER_CLIENT + 2); // + the other tests' own revocations
    for (const token of tokens) expect((await post('/oauth2/introspect', LIMITED, { token })).body).toEqual({ active: false });
    expect((await post('/oauth2/introspect', CLINICAL, { token: other })).body.active).toBe(true);
    // Revoked past the bound by a cut-off at its issue second + 1, and a new token at once, in that same second: the
    // token endpoint issues from the cut-off on, so the new token is not born revoked. Started just after a second
    // turns, so that the three calls share their second (without that, the bug showed in 2 runs of 3).
    await sleep(1000 - (Date.now() % 1000) + 5);
    const last = await tokenFor(api, LIMITED);
    expect((await post('/oauth2/revoke', LIMITED, { token: last })).status).toBe(200);
    const fresh = await tokenFor(api, LIMITED);
    expect((await post('/oauth2/introspect', LIMITED, { token: last })).body).toEqual({ active: false });
    expect((await post('/oauth2/introspect', LIMITED, { token: fresh })).body.active).toBe(true);
  });
});

describe('POST /oauth2/introspect (RFC 7662)', () => {
  it('describes an active token to its own client', async () => {
    const token = await tokenFor(api, CLINICAL);
    const { status, body } = await post('/oauth2/introspect', CLINICAL, { token });
    expect(status).toBe(200);
    expect(body).toMatchObject({ active: true, client_id: CLINICAL.clientId, token_type: 'Bearer', iss: api.baseUrl, aud: api.fhirBase, exp: expect.any(Number) });
    expect(body.scope.split(' ')).toEqual(expect.arrayContaining(['user/Patient.read']));
  });

  it("says inactive for another client's token unless the caller is an admin", async () => {
    const token = await tokenFor(api, CLINICAL);
    expect((await post('/oauth2/introspect', LIMITED, { token })).body).toEqual({ active: false });
    expect((await post('/oauth2/introspect', ADMIN, { token })).body).toMatchObject({ active: true, client_id: CLINICAL.clientId });
  });
});

describe('revoking through the admin API', () => {
  it('disabling a client revokes its tokens within the bound; enabled again, its new tokens work at once', async () => {
    const created = await call(api, 'POST', '/admin/clients', { token: adminToken, body: { name: 'To revoke', scopes: ['user/Patient.read'] } });
    const creds = { clientId: created.body.clientId as string, clientSecret: created.body.clientSecret as string };
    const token = await tokenFor(api, creds);
    expect(await readPatient(token)).toBe(200);
    expect((await call(api, 'PATCH', `/admin/clients/${creds.clientId}`, { token: adminToken, body: { enabled: false } })).status).toBe(200);
    await sleep(BOUND_MS);
    expect(await readPatient(token)).toBe(401);
    expect((await call(api, 'PATCH', `/admin/clients/${creds.clientId}`, { token: adminToken, body: { enabled: true } })).status).toBe(200);
    expect(await readPatient(await tokenFor(api, creds))).toBe(200);
    expect(await readPatient(token)).toBe(401);
  });

  it('rotating a secret with revokeTokens revokes the tokens issued with the old one', async () => {
    const created = await call(api, 'POST', '/admin/clients', { token: adminToken, body: { name: 'Leaked', scopes: ['user/Patient.read'] } });
    const clientId = created.body.clientId as string;
    const token = await tokenFor(api, { clientId, clientSecret: created.body.clientSecret });
    const rotated = await call(api, 'POST', `/admin/clients/${clientId}/secret`, { token: adminToken, body: { graceSeconds: 0, revokeTokens: true } });
    expect(rotated.status).toBe(200);
    const fresh = await tokenFor(api, { clientId, clientSecret: rotated.body.clientSecret });
    await sleep(BOUND_MS);
    expect(await readPatient(token)).toBe(401);
    expect(await readPatient(fresh)).toBe(200);
  });
});

describe('GET /oauth2/revocations', () => {
  it('lists revoked jti and client cut-offs by hash, never a client id', async () => {
    const response = await fetch(`${api.baseUrl}/oauth2/revocations`);
    const body = (await response.json()) as { jti: string[]; clients: Record<string, number> };
    expect(response.status).toBe(200);
    expect(body.jti.length).toBeGreaterThan(0);
    expect(Object.keys(body.clients).length).toBeGreaterThan(0);
    expect(JSON.stringify(body)).not.toContain(CLINICAL.clientId);
  });
});
