/**
 * The audit trail end to end: token requests issued and refused, tokens the authorizer refused, routes the gateway
 * refused, FHIR requests allowed and denied, and admin calls are
 * recorded as FHIR STU3 AuditEvents and queryable through GET /admin/audit-events; no secret or token in them.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { flushAudit } from '../../functions/audit';
import { DEMO_LIMITED_ACCESS_CLIENT as LIMITED, DEMO_PATIENT_CLIENT as BOUND } from '../../functions/oauth/demo-clients';
import { call, requestToken, tokenFor, type Credentials } from '../admin/support';
import { startTestApi, type TestApi } from '../support/local-api';

const ADMIN: Credentials = { clientId: 'au-admin', clientSecret: randomBytes(32).toString('base64url') };
let api: TestApi;

beforeAll(async () => {
  api = await startTestApi({ seed: true, admin: ADMIN });
});
afterAll(async () => {
  await api?.close();
});

it('records issued and refused tokens, authorizer and admin decisions, queryable by an admin, without secrets', async () => {
  const token = await tokenFor(api, LIMITED);
  expect((await requestToken(api, { clientId: LIMITED.clientId, clientSecret: 'wrong-guess' })).status).toBe(401);
  expect((await call(api, 'GET', '/STU3/Patient/1', { token: `${token.slice(0, -4)}AAAA` })).status).toBe(401);
  const adminToken = await tokenFor(api, ADMIN);
  expect((await call(api, 'GET', '/admin/clients', { token })).status).toBe(403);
  expect((await call(api, 'GET', '/STU3/Patient/1', { token })).status).toBe(403);
  expect((await call(api, 'GET', '/STU3/Patient/1', { token: await tokenFor(api, BOUND) })).status).toBe(200);
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
  expect(of('rest', '4', LIMITED.clientId).some((e: any) => e.source.identifier.value === 'ccri-gateway')).toBe(true);
  expect(of('rest', '0', BOUND.clientId).some((e: any) => e.source.identifier.value === 'ccri-fhir')).toBe(true);
  expect(of('110100', '0', ADMIN.clientId).length).toBeGreaterThan(0);
  const text = JSON.stringify(found.body);
  for (const secret of [LIMITED.clientSecret, ADMIN.clientSecret, 'wrong-guess', token.split('.')[2]!]) expect(text).not.toContain(secret);
});

it('a denied compartment read is audited as denied: the client, its patient, the type, never the other patient\'s id', async () => {
  const token = await tokenFor(api, BOUND);
  // Patient 2 is outside the compartment of the client's Patient 1: hidden as 404 (its existence is not revealed).
  expect((await call(api, 'GET', '/STU3/Patient/2', { token })).status).toBe(404);
  // A route the token's scopes do not allow at all (no write scope): API Gateway's policy refuses it, 403.
  expect((await call(api, 'POST', '/STU3/Condition', { token, body: { resourceType: 'Condition' } })).status).toBe(403);
  await flushAudit();
  const adminToken = await tokenFor(api, ADMIN);
  const found = await call(api, 'GET', '/admin/audit-events?limit=1000', { token: adminToken });
  const mine = found.body.entry.map((e: { resource: any }) => e.resource).filter((e: any) => e.agent[0].userId?.value === BOUND.clientId);
  const refs = (e: any) => e.entity.map((x: any) => x.reference?.reference ?? x.name ?? x.identifier?.value);
  const read = mine.find((e: any) => e.source.identifier.value === 'ccri-fhir' && e.subtype[0].code === 'read');
  expect(read).toMatchObject({ outcome: '4', action: 'R', outcomeDesc: 'HTTP 404: not-found (absent, or outside the compartment of Patient/1)' });
  expect(refs(read).slice(0, 2)).toEqual(['Patient', 'Patient/1']);
  expect(JSON.stringify(read)).not.toContain('Patient/2');
  const write = mine.find((e: any) => e.source.identifier.value === 'ccri-gateway');
  expect(write).toMatchObject({ outcome: '4', action: 'C', subtype: [{ code: 'create' }] });
  expect(refs(write).slice(0, 2)).toEqual(['Condition', 'Patient/1']);
});

it('GET /STU3/AuditEvent: a FHIR search of the trail for admin tokens only, filtered by user, outcome and date, paged', async () => {
  const bound = await tokenFor(api, BOUND);
  expect((await call(api, 'GET', '/STU3/Patient/3', { token: bound })).status).toBe(404);
  expect((await call(api, 'GET', '/STU3/Patient/1', { token: bound })).status).toBe(200);
  await flushAudit();
  expect((await call(api, 'GET', '/STU3/AuditEvent', { token: bound })).status).toBe(403);
  const adminToken = await tokenFor(api, ADMIN);
  const today = new Date().toISOString().slice(0, 10);
  const search = (query: string) => call(api, 'GET', `/STU3/AuditEvent?${query}`, { token: adminToken });

  const denied = await search(`user=${BOUND.clientId}&outcome=4&date=ge${today}&_count=1000`);
  expect(denied.status).toBe(200);
  expect(denied.body).toMatchObject({ resourceType: 'Bundle', type: 'searchset' });
  const events = denied.body.entry.map((e: { resource: any }) => e.resource);
  expect(events.length).toBeGreaterThan(0);
  expect(events.every((e: any) => e.outcome === '4' && e.agent[0].userId.value === BOUND.clientId)).toBe(true);

  const reads = await search(`user=${BOUND.clientId}&subtype=read&source=ccri-fhir&_count=1`);
  expect(reads.body.entry).toHaveLength(1);
  const next = reads.body.link.find((l: any) => l.relation === 'next')?.url as string;
  expect(next).toContain('_cursor=');
  const second = await call(api, 'GET', next.slice(api.baseUrl.length), { token: adminToken });
  expect(second.status).toBe(200);
  expect(second.body.entry).toHaveLength(1);
  expect(second.body.entry[0].resource.id).not.toBe(reads.body.entry[0].resource.id);
  expect(second.body.entry[0].resource.recorded <= reads.body.entry[0].resource.recorded).toBe(true);

  expect((await search('name=x')).body).toMatchObject({ resourceType: 'OperationOutcome' });
  expect((await search('name=x')).status).toBe(400);
  expect((await search('date=ge2020-01-01')).status).toBe(400);
  expect((await search('_count=5000')).status).toBe(400);
});
