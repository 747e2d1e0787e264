/**
 * What an answer reveals beyond the token's grants (the attack review): through real HTTP, the local gateway and
 * authorizer, on DynamoDB Local. A write-only token must not read what is stored through the interactions that read
 * or search on its behalf (PATCH, conditional create, update and delete), and a patient-bound token must not learn
 * whether a resource outside its compartment exists, its version, or how many of another patient's resources match
 * or changed, from any status, header, link, cursor or message.
 */
import { randomBytes } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PATIENT_CLIENT } from '../../functions/oauth/demo-clients';
import { FHIR_TABLE } from '../../contract/tables';
import { NHS_NUMBER_SYSTEM, type DemoResource } from '../../functions/seed/demo-data';
import { bulkLoad } from '../../functions/seed/loader';
import { call } from '../admin/support';
import { startTestApi, type TestApi } from '../support/local-api';
import { testWriter, tokenFor, type Credentials } from '../support/tokens';
import { raw } from './e2e-support';

const ADMIN: Credentials = { clientId: 'reveal-admin', clientSecret: randomBytes(32).toString('base64url') };

let api: TestApi;
/** The demo writer, all of it, and narrowed to its write scope: create, update, delete, no read or search. */
let writer: string;
let writeOnly: string;
/** A client bound to Patient/1 that may read and write its compartment (`patient/*.*`), made through the admin API. */
let boundWriter: string;
/** The demo patient-bound reader (`patient/*.read`, Patient/1). */
let boundReader: string;
/** A Condition of Patient/2: outside Patient/1's compartment. */
let otherCondition: string;
let patient2Nhs: string;
/** A valid Patient without id or identifier, and a valid Condition of Patient/1 (from the demo data). */
let patientBody: Record<string, unknown>;
let conditionBody: Record<string, unknown>;

beforeAll(async () => {
  const writerCreds = testWriter('reveal-writer');
  api = await startTestApi({ admin: ADMIN });
  writer = await tokenFor(api, writerCreds);
  writeOnly = await tokenFor(api, writerCreds, 'system/*.write');
  const adminToken = await tokenFor(api, ADMIN);
  const created = await call(api, 'POST', '/admin/clients', { token: adminToken, body: { name: 'Bound writer', scopes: 'patient/*.*', patient: '1' } });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  boundWriter = await tokenFor(api, { clientId: created.body.clientId, clientSecret: created.body.clientSecret });
  boundReader = await tokenFor(api, DEMO_PATIENT_CLIENT);
  const conditions = await raw(api, writer, 'GET', 'Condition?patient=2&_count=1');
  otherCondition = conditions.json.entry[0].resource.id;
  const p2 = await raw(api, writer, 'GET', 'Patient/2');
  patient2Nhs = p2.json.identifier.find((i: { system: string }) => i.system === NHS_NUMBER_SYSTEM).value;
  const { id: _id, meta: _meta, identifier: _identifier, ...patient } = (await raw(api, writer, 'GET', 'Patient/3')).json;
  patientBody = patient;
  const own = (await raw(api, writer, 'GET', 'Condition?patient=1&_count=1')).json.entry[0].resource;
  const { meta: _m, identifier: _i, ...condition } = own;
  conditionBody = condition;
});

afterAll(() => api?.close());

/** An answer with the ids in it replaced, to compare the answers for two ids. */
const shape = (answer: { status: number; json: unknown }, ...ids: string[]) =>
  ids.reduce((text, id) => text.split(id).join('<id>'), `${answer.status} ${JSON.stringify(answer.json)}`);

describe('a write-only token (create, update, delete; no read, no search) reads nothing back', () => {
  it('PATCH of a resource it may not read is refused, and does not answer with the resource', async () => {
    const patched = await raw(api, writeOnly, 'PATCH', 'Patient/2', { body: '[]', headers: { 'Content-Type': 'application/json-patch+json' } });
    expect(patched.status).toBe(403);
    expect(JSON.stringify(patched.json)).not.toContain(patient2Nhs);
  });

  it('a conditional create (If-None-Exist) is refused rather than returning the match it found', async () => {
    const body = JSON.stringify(patientBody);
    const created = await raw(api, writeOnly, 'POST', 'Patient', { body, headers: { 'If-None-Exist': `identifier=${NHS_NUMBER_SYSTEM}|${patient2Nhs}` } });
    expect(created.status).toBe(403);
    expect(JSON.stringify(created.json)).not.toContain(patient2Nhs);
  });

  it('a conditional update or delete, which searches, is refused before it searches', async () => {
    const criteria = `Patient?identifier=${encodeURIComponent(`${NHS_NUMBER_SYSTEM}|no-such-number`)}`;
    expect((await raw(api, writeOnly, 'DELETE', criteria)).status).toBe(403);
    const body = JSON.stringify(patientBody);
    expect((await raw(api, writeOnly, 'PUT', criteria, { body })).status).toBe(403);
    // the same token still writes what it names itself
    expect((await raw(api, writeOnly, 'POST', 'Patient', { body })).status).toBe(201);
  });

  it('If-Match tells it neither whether the resource exists nor its version', async () => {
    const body = (id: string) => JSON.stringify({ ...patientBody, id });
    const put = (id: string) => raw(api, writeOnly, 'PUT', `Patient/${id}`, { body: body(id), headers: { 'If-Match': 'W/"999"' } });
    const [stored, none] = [await put('2'), await put('no-such-patient')];
    expect(stored.status).toBe(412);
    expect(shape(stored, 'Patient/2')).toBe(shape(none, 'Patient/no-such-patient'));
    const inTransaction = (id: string) =>
      raw(api, writeOnly, 'POST', '', { body: JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: [{ resource: JSON.parse(body(id)), request: { method: 'PUT', url: `Patient/${id}`, ifMatch: 'W/"999"' } }] }) });
    expect(shape(await inTransaction('2'), 'Patient/2')).toBe(shape(await inTransaction('no-such-patient'), 'Patient/no-such-patient'));
  });

  it('a body over the index bound is refused alike whether its If-Match holds or not (the bound is checked first)', async () => {
    const { id: _id, ...rest } = conditionBody;
    const stored = (await raw(api, writer, 'POST', 'Condition', { body: JSON.stringify(rest) })).json;
    const big = JSON.stringify({ ...rest, id: stored.id, identifier: Array.from({ length: 210 }, (_, i) => ({ system: 'urn:pad', value: `p${i}` })) });
    const holds = await raw(api, writeOnly, 'PUT', `Condition/${stored.id}`, { body: big, headers: { 'If-Match': 'W/"1"' } });
    const fails = await raw(api, writeOnly, 'PUT', `Condition/${stored.id}`, { body: big, headers: { 'If-Match': 'W/"2"' } });
    expect(holds.status).toBe(413);
    expect(shape(fails, stored.id)).toBe(shape(holds, stored.id));
  });

  it('the size of a transaction says nothing of what is stored: padded past 100 DynamoDB items, a delete of a stored id and of an unused one answer alike', async () => {
    const { id: _id, ...rest } = conditionBody;
    const stored = (await raw(api, writer, 'POST', 'Condition', { body: JSON.stringify(rest) })).json;
    const pad = { ...rest, identifier: Array.from({ length: 95 }, (_, i) => ({ system: 'urn:pad', value: `p${i}-${randomBytes(4).toString('hex')}` })) };
    const transaction = (id: string) =>
      raw(api, writeOnly, 'POST', '', {
        body: JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: [{ resource: pad, request: { method: 'POST', url: 'Condition' } }, { request: { method: 'DELETE', url: `Condition/${id}` } }] }),
      });
    const [ofStored, ofUnused] = [await transaction(stored.id), await transaction('no-such-condition')];
    expect(ofStored.status).toBe(200);
    const answer = (a: { status: number; json: { entry: { response: { status: string } }[] } }) => [a.status, ...a.json.entry.map((e) => e.response.status)];
    expect(answer(ofStored)).toEqual(answer(ofUnused));
  });

  it('in a Bundle, an ifNoneExist or conditional entry is refused the same way', async () => {
    for (const kind of ['transaction', 'batch']) {
      const bundle = {
        resourceType: 'Bundle',
        type: kind,
        entry: [
          { resource: patientBody, request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${NHS_NUMBER_SYSTEM}|${patient2Nhs}` } },
        ],
      };
      const answer = await raw(api, writeOnly, 'POST', '', { body: JSON.stringify(bundle) });
      expect(JSON.stringify(answer.json)).not.toContain('Patient/2');
      if (kind === 'transaction') expect(answer.status).toBe(403);
      else expect(answer.json.entry[0].response.status).toBe('403');
    }
  });
});

describe('a patient-bound token learns nothing of a resource outside its compartment', () => {
  it('vread answers as for an id that does not exist', async () => {
    const other = await raw(api, boundReader, 'GET', `Condition/${otherCondition}/_history/1`);
    const none = await raw(api, boundReader, 'GET', 'Condition/no-such-condition/_history/1');
    expect(shape(other, otherCondition)).toBe(shape(none, 'no-such-condition'));
  });

  it('an update answers as for an id that does not exist (403, with or without If-Match, alone or in a Bundle), and creates nothing', async () => {
    // Ids are shared by all patients: were an unused id created (update as create), a taken one's refusal would tell.
    const update = (id: string, how: 'alone' | 'If-Match' | 'batch' | 'transaction' | 'conditional') => {
      const body = JSON.stringify({ ...conditionBody, id });
      if (how === 'alone') return raw(api, boundWriter, 'PUT', `Condition/${id}`, { body });
      if (how === 'If-Match') return raw(api, boundWriter, 'PUT', `Condition/${id}`, { body, headers: { 'If-Match': 'W/"1"' } });
      if (how === 'conditional') return raw(api, boundWriter, 'PUT', 'Condition?identifier=https://example.org/no-such|none', { body });
      const entry = { resource: JSON.parse(body), request: { method: 'PUT', url: `Condition/${id}`, ifMatch: 'W/"1"' } };
      return raw(api, boundWriter, 'POST', '', { body: JSON.stringify({ resourceType: 'Bundle', type: how, entry: [entry] }) });
    };
    for (const how of ['alone', 'If-Match', 'batch', 'transaction', 'conditional'] as const) {
      const other = await update(otherCondition, how);
      const none = await update('no-such-condition', how);
      expect(shape(other, otherCondition), how).toBe(shape(none, 'no-such-condition'));
      expect(shape(other, otherCondition), how).toContain('403');
    }
    expect((await raw(api, writer, 'GET', 'Condition/no-such-condition')).status).toBe(404);
    // its own resources it still updates
    const own = (await raw(api, boundWriter, 'GET', 'Condition?patient=1&_count=1')).json.entry[0].resource;
    expect((await raw(api, boundWriter, 'PUT', `Condition/${own.id}`, { body: JSON.stringify(own) })).status).toBe(200);
  });

  it('a delete answers as for an id that does not exist, and deletes nothing', async () => {
    const other = await raw(api, boundWriter, 'DELETE', `Condition/${otherCondition}`);
    const none = await raw(api, boundWriter, 'DELETE', 'Condition/no-such-condition');
    expect(shape(other, otherCondition)).toBe(shape(none, 'no-such-condition'));
    const bundle = (id: string) => ({ resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'DELETE', url: `Condition/${id}` } }] });
    const inTransaction = await raw(api, boundWriter, 'POST', '', { body: JSON.stringify(bundle(otherCondition)) });
    const noneInTransaction = await raw(api, boundWriter, 'POST', '', { body: JSON.stringify(bundle('no-such-condition')) });
    expect(shape(inTransaction, otherCondition)).toBe(shape(noneInTransaction, 'no-such-condition'));
    expect((await raw(api, writer, 'GET', `Condition/${otherCondition}`)).status).toBe(200);
  });

  it('a search spends its page on its own compartment: other patients’ matches neither page it nor cap it', async () => {
    // More matches of Patient/2 than a page examines (1,000) or a sorted search sorts (1,000)
    const observations = Array.from({ length: 1001 }, (_, i): DemoResource => ({
      resourceType: 'Observation',
      id: `probe-${i}`,
      status: 'final',
      code: { coding: [{ system: 'http://snomed.info/sct', code: '1000001' }] },
      subject: { reference: 'Patient/2' },
      effectiveDateTime: '2020-01-01',
    }));
    await bulkLoad({ documentClient: api.documentClient, tableName: api.tableName(FHIR_TABLE), resources: observations, concurrency: 4 });
    expect((await raw(api, writer, 'GET', 'Observation?code=1000001&_summary=count')).json.total).toBe(1001);

    const page = await raw(api, boundReader, 'GET', 'Observation?code=1000001&_count=5');
    expect(page.status).toBe(200);
    expect(page.json.entry ?? []).toEqual([]);
    expect(page.json.link.map((l: { relation: string }) => l.relation)).not.toContain('next');
    expect(page.json.total).toBe(0);
    // the compartment search of another patient is an empty Bundle, whatever that patient holds
    const compartment = await raw(api, boundReader, 'GET', 'Patient/2/Observation?_count=5');
    expect(compartment.json.entry ?? []).toEqual([]);
    expect(compartment.json.link.map((l: { relation: string }) => l.relation)).not.toContain('next');
    const sorted = await raw(api, boundReader, 'GET', 'Observation?code=1000001&_sort=date');
    expect(sorted.status).toBe(200);
    expect(sorted.json.total).toBe(0);
  });

  it('type history pages carry no trace of the other patients’ changes they read past, not even in the cursor', async () => {
    const { subject: _s, id: _id, ...rest } = conditionBody;
    const created = await raw(api, writer, 'POST', 'Condition', { body: JSON.stringify({ ...rest, subject: { reference: 'Patient/2' } }) });
    expect(created.status).toBe(201);
    const hidden = created.json.id as string;
    const page = await raw(api, boundReader, 'GET', 'Condition/_history?_count=1');
    expect(page.status).toBe(200);
    const cursors = (page.json.link as { url: string }[]).flatMap((l) => new URL(l.url).searchParams.getAll('_cursor'));
    expect(cursors.length).toBeGreaterThan(0);
    // what a client can read out of a cursor: its parts, base64url, and whatever they inflate to
    const readable = cursors.flatMap((c) => c.split('.')).map((part) => {
      const bytes = Buffer.from(part, 'base64url');
      try {
        return inflateRawSync(bytes).toString('utf8');
      } catch {
        return bytes.toString('latin1');
      }
    });
    expect(`${JSON.stringify(page.json)} ${readable.join(' ')}`).not.toContain(hidden);
  });

  const relations = (bundle: { link: { relation: string }[] }) => bundle.link.map((l) => l.relation);

  it('type and system history read only its own patient’s changes: another patient’s change leaves no entry, no short page, no next link', async () => {
    const { subject: _s, id: _id, ...rest } = conditionBody;
    // Two changes of each, so that a page of one could only end short or carry `next` because of them.
    const theirs = await raw(api, writer, 'POST', 'Condition', { body: JSON.stringify({ ...rest, subject: { reference: 'Patient/2' } }) });
    expect(theirs.status).toBe(201);
    expect((await raw(api, writer, 'PUT', `Condition/${theirs.json.id}`, { body: JSON.stringify(theirs.json) })).status).toBe(200);
    for (let i = 0; i < 2; i++) {
      const patient2 = (await raw(api, writer, 'GET', 'Patient/2')).json;
      expect((await raw(api, writer, 'PUT', 'Patient/2', { body: JSON.stringify(patient2) })).status).toBe(200);
    }
    const since = encodeURIComponent(theirs.json.meta.lastUpdated);
    for (const path of [`Condition/_history?_since=${since}&_count=1`, `Patient/_history?_since=${since}&_count=1`, `_history?_since=${since}&_count=1`]) {
      const page = await raw(api, boundReader, 'GET', path);
      expect(page.status, path).toBe(200);
      expect(page.json.entry ?? [], path).toEqual([]);
      expect(relations(page.json), path).not.toContain('next');
    }
    // the writer, bound to no patient, sees both changes
    const all = await raw(api, writer, 'GET', `_history?_since=${since}`);
    expect(all.json.entry.map((e: { fullUrl: string }) => e.fullUrl.split('/STU3/')[1])).toEqual(expect.arrayContaining([`Condition/${theirs.json.id}`, 'Patient/2']));
  });

  it('another patient’s conditional create with the same criteria leaves no trace in its history (their conditional-create locks are apart)', async () => {
    const adminToken = await tokenFor(api, ADMIN);
    const made = await call(api, 'POST', '/admin/clients', { token: adminToken, body: { name: 'Patient 2 app', scopes: 'patient/*.*', patient: '2' } });
    const patient2App = await tokenFor(api, { clientId: made.body.clientId, clientSecret: made.body.clientSecret });
    const { subject: _s, id: _id, ...rest } = conditionBody;
    const ifNoneExist = { 'If-None-Exist': `identifier=https://example.org/lab|${randomBytes(8).toString('hex')}` };
    const theirs = await raw(api, patient2App, 'POST', 'Condition', { body: JSON.stringify({ ...rest, subject: { reference: 'Patient/2' } }), headers: ifNoneExist });
    expect(theirs.status, JSON.stringify(theirs.json)).toBe(201);
    // Within the lock's 30 s, the same criteria in Patient/1's compartment: a match of its own there is none.
    const own = JSON.stringify({ ...rest, subject: { reference: 'Patient/1' } });
    const mine = await raw(api, boundWriter, 'POST', 'Condition', { body: own, headers: ifNoneExist });
    expect(mine.status).toBe(201);
    const another = await raw(api, boundWriter, 'POST', 'Condition', { body: own });
    const page = await raw(api, boundReader, 'GET', `Condition/_history?_since=${encodeURIComponent(theirs.json.meta.lastUpdated)}&_count=2`);
    expect(page.json.entry.map((e: { resource: { id: string } }) => e.resource.id)).toEqual([another.json.id, mine.json.id]);
    expect(relations(page.json)).not.toContain('next');
  });

  it('its own patient’s changes page through type and system history, its Patient’s own versions included', async () => {
    const { id: _id, ...rest } = conditionBody;
    const first = await raw(api, boundWriter, 'POST', 'Condition', { body: JSON.stringify(rest) });
    expect(first.status).toBe(201);
    const patient1 = (await raw(api, writer, 'GET', 'Patient/1')).json;
    expect((await raw(api, writer, 'PUT', 'Patient/1', { body: JSON.stringify(patient1) })).status).toBe(200);
    const second = await raw(api, boundWriter, 'POST', 'Condition', { body: JSON.stringify(rest) });
    const since = encodeURIComponent(first.json.meta.lastUpdated);
    const page1 = await raw(api, boundReader, 'GET', `Condition/_history?_since=${since}&_count=1`);
    expect(page1.json.entry.map((e: { resource: { id: string } }) => e.resource.id)).toEqual([second.json.id]);
    const next = page1.json.link.find((l: { relation: string }) => l.relation === 'next').url as string;
    const page2 = await raw(api, boundReader, 'GET', `Condition/_history${new URL(next).search}`);
    expect(page2.json.entry.map((e: { resource: { id: string } }) => e.resource.id)).toEqual([first.json.id]);
    expect(relations(page2.json)).not.toContain('next');
    const patients = await raw(api, boundReader, 'GET', `Patient/_history?_since=${since}`);
    expect(patients.json.entry.map((e: { resource: { id: string; meta: { versionId: string } } }) => `Patient/${e.resource.id}/${e.resource.meta.versionId}`)).toEqual([
      `Patient/1/${patient1.meta.versionId * 1 + 1}`,
    ]);
    const system = await raw(api, boundReader, 'GET', `_history?_since=${since}`);
    expect(system.json.entry.map((e: { fullUrl: string }) => e.fullUrl.split('/STU3/')[1])).toEqual([`Condition/${second.json.id}`, 'Patient/1', `Condition/${first.json.id}`]);
  });
});
