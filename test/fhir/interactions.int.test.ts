/**
 * Every interaction of every type, end to end: fhir-kit-client through the local gateway with real tokens (the
 * read-write demo client, the patient-bound client, a read-only CCRI client), on the seeded demo data.
 */
import { randomBytes } from 'node:crypto';
import type { Client } from 'fhir-kit-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESOURCE_TYPES } from '../../contract/resource-types';
import { profileUrl } from '../../contract/resource-types';
import { DEMO_PATIENT_CLIENT, DEMO_CLINICAL_ACCESS_CLIENT } from '../../functions/oauth/demo-clients';
import { demoResources } from '../../functions/seed/demo-data';
import { startTestApi, type TestApi } from '../support/local-api';
import { fhirClient, raw, statusOf } from './e2e-support';
import { testWriter, tokenFor } from '../support/tokens';

let api: TestApi;
let writer: Client;
let writerToken: string;
let patientToken: string;
let clinicalToken: string;

beforeAll(async () => {
  const writerCredentials = testWriter('e2e-writer');
  api = await startTestApi();
  writerToken = await tokenFor(api, writerCredentials);
  writer = fhirClient(api, writerToken);
  patientToken = await tokenFor(api, DEMO_PATIENT_CLIENT);
  clinicalToken = await tokenFor(api, DEMO_CLINICAL_ACCESS_CLIENT);
});

afterAll(async () => {
  await api?.close();
});

const demo = demoResources();
const sampleOf = (type: string) => {
  const { id: _id, ...body } = demo.find((r) => r.resourceType === type)!;
  return body;
};

describe.each(RESOURCE_TYPES)('%s', (type) => {
  it('create, read, update (with and without If-Match), vread, history, delete, read after delete', async () => {
    // create: 201, Location, ETag, server-owned meta
    const created = await raw(api, writerToken, 'POST', type, { body: JSON.stringify(sampleOf(type)) });
    expect(created.status).toBe(201);
    const id = created.json.id as string;
    expect(created.headers.get('location')).toBe(`${api.fhirBase}/${type}/${id}/_history/1`);
    expect(created.headers.get('etag')).toBe('W/"1"');
    expect(created.headers.get('content-type')).toContain('application/fhir+json');
    expect(created.json.meta).toMatchObject({ versionId: '1', profile: [profileUrl(type)] });

    // read: 200, ETag, Last-Modified
    const read = await raw(api, writerToken, 'GET', `${type}/${id}`);
    expect(read.status).toBe(200);
    expect(read.headers.get('etag')).toBe('W/"1"');
    expect(new Date(read.headers.get('last-modified')!).getTime()).toBe(Math.floor(Date.parse(read.json.meta.lastUpdated) / 1000) * 1000);
    expect(await writer.read({ resourceType: type, id })).toMatchObject({ resourceType: type, id });

    // update without a version check: version 2
    const v2 = (await writer.update({ resourceType: type, id, body: { ...created.json, language: 'en-GB' } })) as any;
    expect(v2.meta.versionId).toBe('2');

    // update with a matching If-Match: version 3; with a stale one: 412
    const v3 = (await writer.update({
      resourceType: type,
      id,
      body: { ...v2, language: 'en' },
      options: { headers: { 'If-Match': 'W/"2"' } },
    })) as any;
    expect(v3.meta.versionId).toBe('3');
    const stale = await raw(api, writerToken, 'PUT', `${type}/${id}`, { body: JSON.stringify(v3), headers: { 'If-Match': 'W/"2"' } });
    expect(stale.status).toBe(412);
    expect(stale.json.resourceType).toBe('OperationOutcome');

    // vread
    const v1 = (await writer.vread({ resourceType: type, id, version: '1' })) as any;
    expect(v1.meta.versionId).toBe('1');
    expect(v1.language).toBeUndefined();

    // history: newest first
    const history = (await writer.history({ resourceType: type, id })) as any;
    expect(history.type).toBe('history');
    expect(history.total).toBe(3);
    expect(history.entry.map((e: any) => e.resource.meta.versionId)).toEqual(['3', '2', '1']);

    // delete: 204, idempotent, then 410, history kept
    expect((await raw(api, writerToken, 'DELETE', `${type}/${id}`)).status).toBe(204);
    expect((await raw(api, writerToken, 'DELETE', `${type}/${id}`)).status).toBe(204);
    const gone = await raw(api, writerToken, 'GET', `${type}/${id}`);
    expect(gone.status).toBe(410);
    expect(gone.json.issue[0].code).toBe('deleted');
    const after = (await writer.history({ resourceType: type, id })) as any;
    expect(after.entry.map((e: any) => e.request.method)).toEqual(['DELETE', 'PUT', 'PUT', 'POST']);
    expect(await statusOf(writer.search({ resourceType: type, searchParams: { _id: id } }).then((b: any) => (b.total === 0 ? 200 : 500)))).toBe(200);
  });

  it('404 for an unknown id, 400 when the body id differs from the URL id, update-as-create is a 201', async () => {
    expect(await statusOf(writer.read({ resourceType: type, id: 'no-such-id' }))).toBe(404);
    const mismatch = await raw(api, writerToken, 'PUT', `${type}/a1`, { body: JSON.stringify({ ...sampleOf(type), id: 'b2' }) });
    expect(mismatch.status).toBe(400);
    const newId = `client-${randomBytes(4).toString('hex')}`;
    const upsert = await raw(api, writerToken, 'PUT', `${type}/${newId}`, { body: JSON.stringify({ ...sampleOf(type), id: newId }) });
    expect(upsert.status).toBe(201);
    expect(upsert.headers.get('location')).toBe(`${api.fhirBase}/${type}/${newId}/_history/1`);
  });
});

describe('conditional create', () => {
  it('creates when nothing matches (201), returns the match when one does (200), 412 when several do', async () => {
    const value = `cc-${randomBytes(4).toString('hex')}`;
    const body = JSON.stringify({ ...sampleOf('Patient'), identifier: [{ system: 'urn:e2e', value }] });
    const headers = { 'If-None-Exist': `identifier=urn:e2e|${value}` };
    const first = await raw(api, writerToken, 'POST', 'Patient', { body, headers });
    expect(first.status).toBe(201);
    const second = await raw(api, writerToken, 'POST', 'Patient', { body, headers });
    expect(second.status).toBe(200);
    expect(second.json.id).toBe(first.json.id);
    await raw(api, writerToken, 'POST', 'Patient', { body });
    expect((await raw(api, writerToken, 'POST', 'Patient', { body, headers })).status).toBe(412);
  });
});

describe('content', () => {
  it.each([
    // XML is served (test/fhir-model/xml-api.int.test.ts); what is neither JSON nor XML is not.
    ['GET', 'Patient/1', { Accept: 'text/turtle' }, undefined, 406],
    ['GET', 'Patient/1?_format=turtle', {}, undefined, 406],
    ['GET', 'Patient/1?_format=json', {}, undefined, 200],
    ['GET', 'Patient/1', { Accept: 'application/json' }, undefined, 200],
    ['POST', 'Patient', { 'Content-Type': 'text/plain' }, 'Patient', 415],
    ['POST', 'Patient', { 'Content-Type': 'application/fhir+xml' }, '<Patient xmlns="http://hl7.org/fhir"><id value="x"/>', 400],
    ['POST', 'Patient', {}, '{"resourceType": "Patient",', 400],
    ['POST', 'Patient', {}, '{"resourceType": "Condition"}', 400],
    ['POST', 'Patient', {}, '[1,2]', 400],
    ['POST', 'Patient', {}, JSON.stringify({ resourceType: 'Patient', text: { div: 'x'.repeat(300 * 1024) } }), 413],
  ])('%s %s %o -> %i', async (method, path, headers, body, status) => {
    const res = await raw(api, writerToken, method, path, { body, headers: headers as Record<string, string> });
    expect(res.status).toBe(status);
    if (status !== 200) expect(res.json.resourceType).toBe('OperationOutcome');
    else expect(res.headers.get('content-type')).toContain('application/fhir+json');
  });

  it('refuses a body that is not UTF-8 (a Latin-1 "Siân") with 400 and stores nothing; U+FFFD sent escaped is kept', async () => {
    const patient = sampleOf('Patient') as unknown as { name: { family?: string }[] };
    const named = (family: string) => JSON.stringify({ ...patient, name: [{ ...patient.name[0], family }, ...patient.name.slice(1)] });
    const count = async () => ((await writer.search({ resourceType: 'Patient', searchParams: { _count: 0 } })) as any).total;
    const before = await count();
    const latin1 = await raw(api, writerToken, 'POST', 'Patient', { body: new Blob([Buffer.from(named('Siân'), 'latin1')]) });
    expect(latin1.status).toBe(400);
    expect(latin1.json.resourceType).toBe('OperationOutcome');
    expect(latin1.json.issue[0].diagnostics).toContain('not valid UTF-8');
    expect(await count()).toBe(before);
    const utf8 = await raw(api, writerToken, 'POST', 'Patient', { body: new Blob([Buffer.from(named('Siân'), 'utf8')]) });
    expect(utf8.status).toBe(201);
    expect(utf8.json.name[0].family).toBe('Siân');
    const escaped = await raw(api, writerToken, 'POST', 'Patient', { body: named('Si\uFFFDn').replace('\uFFFD', '\\ufffd') });
    expect(escaped.status).toBe(201);
    expect(escaped.json.name[0].family).toBe('Si\uFFFDn');
  });

  it('answers a write as Prefer asks: the resource (default), no body (return=minimal), or an OperationOutcome saying what was written', async () => {
    const body = JSON.stringify(sampleOf('Patient'));
    const full = await raw(api, writerToken, 'POST', 'Patient', { body, headers: { Prefer: 'return=representation' } });
    expect(full.json.resourceType).toBe('Patient');
    const minimal = await raw(api, writerToken, 'POST', 'Patient', { body, headers: { Prefer: 'return=minimal' } });
    expect([minimal.status, minimal.json, minimal.headers.get('location')]).toEqual([201, undefined, expect.stringMatching(/\/Patient\/.+\/_history\/1$/)]);
    const outcome = await raw(api, writerToken, 'POST', 'Patient', { body, headers: { Prefer: 'return=OperationOutcome' } });
    expect(outcome.status).toBe(201);
    const id = outcome.headers.get('location')!.split('/Patient/')[1]!.split('/')[0];
    expect(outcome.json).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'information', diagnostics: `Patient/${id} created, version 1` }] });
    const updated = await raw(api, writerToken, 'PUT', `Patient/${id}`, { body: JSON.stringify({ ...sampleOf('Patient'), id }), headers: { Prefer: 'return=OperationOutcome' } });
    expect([updated.status, updated.json.issue[0].diagnostics, updated.headers.get('etag')]).toEqual([200, `Patient/${id} updated, version 2`, 'W/"2"']);
  });

  it('$validate answers an OperationOutcome and stores nothing', async () => {
    const before = (await writer.search({ resourceType: 'Patient', searchParams: { _count: 0 } })) as any;
    const res = await raw(api, writerToken, 'POST', 'Patient/$validate', { body: JSON.stringify(sampleOf('Patient')) });
    expect(res.status).toBe(200);
    expect(res.json.resourceType).toBe('OperationOutcome');
    const after = (await writer.search({ resourceType: 'Patient', searchParams: { _count: 0 } })) as any;
    expect(after.total).toBe(before.total);
    const instance = await raw(api, writerToken, 'POST', 'Patient/1/$validate', { body: JSON.stringify({ ...sampleOf('Patient'), id: '1' }) });
    expect(instance.status).toBe(200);
  });
});

describe('the patient-bound client (patient/*.read, Patient 1)', () => {
  it('reads its own patient and hides the others as 404', async () => {
    expect((await raw(api, patientToken, 'GET', 'Patient/1')).status).toBe(200);
    const other = await raw(api, patientToken, 'GET', 'Patient/2');
    expect(other.status).toBe(404);
    expect(other.json.resourceType).toBe('OperationOutcome');
    expect((await raw(api, patientToken, 'GET', 'Condition/2-1')).status).toBe(404);
    expect((await raw(api, patientToken, 'GET', 'Condition/1-1')).status).toBe(200);
  });

  it('searches only inside its compartment, with totals to match', async () => {
    const conditions = await raw(api, patientToken, 'GET', 'Condition?_count=100');
    expect(conditions.status).toBe(200);
    expect(conditions.json.total).toBe(conditions.json.entry.length);
    expect(conditions.json.entry.map((e: any) => e.resource.id)).toEqual(expect.arrayContaining(['1-1', '1-2']));
    expect(new Set(conditions.json.entry.map((e: any) => e.resource.subject.reference))).toEqual(new Set(['Patient/1']));
    const all = await raw(api, writerToken, 'GET', 'Condition?_count=0');
    expect(all.json.total).toBeGreaterThan(conditions.json.total);
    const patients = await raw(api, patientToken, 'GET', 'Patient?gender=male,female');
    expect(patients.json.total).toBe(1);
    const observations = await raw(api, patientToken, 'GET', 'Observation?patient=2');
    expect(observations.json.total).toBe(0);
  });

  it('cannot write', async () => {
    expect((await raw(api, patientToken, 'POST', 'Condition', { body: JSON.stringify(sampleOf('Condition')) })).status).toBe(403);
  });
});

describe('a read-only CCRI client', () => {
  it('reads and searches what its scopes grant but cannot create or delete', async () => {
    expect((await raw(api, clinicalToken, 'GET', 'Condition?patient=1')).status).toBe(200);
    expect((await raw(api, clinicalToken, 'POST', 'Condition', { body: JSON.stringify(sampleOf('Condition')) })).status).toBe(403);
    expect((await raw(api, clinicalToken, 'DELETE', 'Condition/1-1')).status).toBe(403);
  });
});

describe('metadata', () => {
  it('serves a CapabilityStatement without a token: 3.0.1, every type with interactions, params and profile, SMART security', async () => {
    const res = await raw(api, undefined, 'GET', 'metadata');
    expect(res.status).toBe(200);
    expect(res.json.resourceType).toBe('CapabilityStatement');
    expect(res.json.fhirVersion).toBe('3.0.1');
    const rest = res.json.rest[0];
    // The 14 Care Connect types, and AuditEvent, searched by admin tokens only (functions/metadata/capability-statement.ts).
    expect(rest.resource.map((r: any) => r.type).sort()).toEqual([...RESOURCE_TYPES, 'AuditEvent'].sort());
    const patient = rest.resource.find((r: any) => r.type === 'Patient');
    expect(patient.profile.reference).toBe(profileUrl('Patient'));
    expect(patient.interaction.map((i: any) => i.code).sort()).toEqual(
      ['create', 'delete', 'history-instance', 'history-type', 'read', 'search-type', 'update', 'vread', 'patch'].sort(),
    );
    expect(patient.searchParam.map((p: any) => p.name)).toContain('birthdate');
    expect(rest.security.service[0].coding[0].code).toBe('SMART-on-FHIR');
    expect(rest.security.extension[0].extension[0]).toEqual({ url: 'token', valueUri: api.tokenUrl });
  });

  it('serves the SMART configuration without a token', async () => {
    const res = await raw(api, undefined, 'GET', '.well-known/smart-configuration');
    expect(res.status).toBe(200);
    expect(res.json.token_endpoint).toBe(api.tokenUrl);
  });
});

describe('history paging', () => {
  it('pages through versions newest first with next links', async () => {
    const created = (await writer.create({ resourceType: 'Organization', body: sampleOf('Organization') })) as any;
    let current = created;
    for (let i = 0; i < 4; i++) current = await writer.update({ resourceType: 'Organization', id: created.id, body: { ...current, alias: [`v${i}`] } });
    let bundle = (await writer.request(`Organization/${created.id}/_history?_count=2`)) as any;
    const versions: string[] = [];
    for (;;) {
      expect(bundle.total).toBe(5);
      versions.push(...bundle.entry.map((e: any) => e.resource.meta.versionId));
      const next = writer.nextPage({ bundle });
      if (!next) break;
      bundle = await next;
    }
    expect(versions).toEqual(['5', '4', '3', '2', '1']);
  });
});
