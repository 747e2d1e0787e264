/**
 * The audit trail end to end: token requests issued and refused, the authorizer's decisions and admin calls are
 * recorded as FHIR STU3 AuditEvents and queryable through GET /admin/audit-events; no secret or token in them.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { flushAudit } from '../../functions/audit';
import { DEMO_LIMITED_ACCESS_CLIENT as LIMITED } from '../../functions/oauth/demo-clients';
import { call, requestToken, tokenFor, type Credentials } from '../admin/support';
import { startTestApi, type TestApi } from '../support/local-api';

const ADMIN: Credentials = { clientId: 'au-admin', clientSecret: randomBytes(32).toString('base64url') };
let api: TestApi;

beforeAll(async () => {
  vi.stubEnv('CCRI_ADMIN_CLIENT_ID', ADMIN.clientId);
  vi.stubEnv('CCRI_ADMIN_CLIENT_SECRET', ADMIN.clientSecret);
  api = await startTestApi({ seed: true });
});
afterAll(async () => {
  await api?.close();
  vi.unstubAllEnvs();
});

it('records issued and refused tokens, authorizer and admin decisions, queryable by an admin, without secrets', async () => {
  const token = await tokenFor(api, LIMITED);
  expect((await requestToken(api, { clientId: LIMITED.clientId, clientSecret: 'wrong-guess' })).status).toBe(401);
  expect((await call(api, 'GET', '/STU3/Patient/1', { token: `${token.slice(0, -4)}AAAA` })).status).toBe(401);
  const adminToken = await tokenFor(api, ADMIN);
  expect((await call(api, 'GET', '/admin/clients', { token })).status).toBe(403);
  expect((await call(api, 'GET', '/admin/clients', { token: adminToken })).status).toBe(200);
  await flushAudit();
  const found = await call(api, 'GET', '/admin/audit-events?limit=1000', { token: adminToken });
  expect(found.status).toBe(200);
  expect(found.body).toMatchObject({ resourceType: 'Bundle', type: 'searchset' });
  const events = found.body.entry.map((e: { resource: any }) => e.resource);
  const of = (code: string, outcome: string, client?: string) =>
    events.filter((e: any) => e.type.code === code && e.outcome === outcome && (!client || e.agent[0].userId?.value === client));
  expect(of('110114', '0', LIMITED.clientId).length).toBeGreaterThan(0);
  expect(of('110114', '4').some((e: any) => /wrong or expired secret/.test(e.outcomeDesc))).toBe(true);
  expect(of('rest', '4').some((e: any) => /token refused/.test(e.outcomeDesc))).toBe(true);
  expect(of('rest', '0', LIMITED.clientId).length).toBeGreaterThan(0);
  expect(of('110100', '0', ADMIN.clientId).length).toBeGreaterThan(0);
  const text = JSON.stringify(found.body);
  for (const secret of [LIMITED.clientSecret, ADMIN.clientSecret, 'wrong-guess', token.split('.')[2]!]) expect(text).not.toContain(secret);
});
