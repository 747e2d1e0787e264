/**
 * Issue 15, the interactions: transaction and batch Bundles, conditional update and delete, JSON PATCH, HEAD and
 * conditional reads, system history — through the FHIR function (the real handler, repository and DynamoDB Local),
 * with authorizer contexts for each kind of caller. The security matrix is table-driven: each caller x each
 * interaction x patient-bound or not, with what must be allowed, refused, written or left out.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../contract/routes';
import { FHIR_TABLE, localTableName } from '../../contract/tables';
import { createFhirHandler } from '../../functions/resource/handler';
import { validateResource } from '../../functions/validation';
import { createTestTables, testDocumentClient, uniquePrefix } from '../support/dynamodb';
import { DEMO_CLIENTS } from '../../functions/scopes/demo-clients.fixture';
import { accessFromClaims, decide, toContext } from '../../functions/scopes/permissions';

const prefix = uniquePrefix();
const tableName = localTableName(FHIR_TABLE, prefix);
const db = testDocumentClient();
beforeAll(() => createTestTables([FHIR_TABLE], prefix));

type Ctx = Record<string, string>;
const WRITER: Ctx = { clientId: 'w', scope: 'system/*.*', grants: RESOURCE_GRANTS('cruds') };
const READER: Ctx = { clientId: 'r', scope: 'system/*.read', grants: RESOURCE_GRANTS('rs') };
const PATIENT_WRITER: Ctx = { clientId: 'p', scope: 'patient/*.*', grants: 'patient/Patient:cruds patient/Observation:cruds patient/Condition:cruds', patient: 'pw1' };
const PATIENT_ONLY: Ctx = { clientId: 'po', scope: 'user/Patient.*', grants: 'Patient:cruds' };

function RESOURCE_GRANTS(perms: string): string {
  return ['Patient', 'Observation', 'Condition', 'Organization', 'Practitioner'].map((t) => `${t}:${perms}`).join(' ');
}

/** The route template of a path, as API Gateway picks it (literal segments beat parameters). */
function templateOf(method: string, path: string): { resource: string; params: Record<string, string> } {
  const segments = path.split('/').slice(1);
  let best: { resource: string; params: Record<string, string>; score: number } | undefined;
  for (const r of ROUTES) {
    if (r.method !== method) continue;
    const parts = r.path.split('/').slice(1);
    if (parts.length !== segments.length) continue;
    const params: Record<string, string> = {};
    let score = 0;
    const ok = parts.every((p, i) => {
      if (p.startsWith('{')) return (params[p.slice(1, -1)] = segments[i]!), true;
      score++;
      return p === segments[i];
    });
    if (ok && (!best || score > best.score)) best = { resource: r.path, params, score };
  }
  return best ?? { resource: path, params: {} };
}

function client(authorizer: Ctx, documentClient: DynamoDBDocumentClient = db) {
  const handler = createFhirHandler({ tableName, clientFor: () => documentClient, validator: validateResource, cursorKey: 'k' });
  return async (method: string, pathAndQuery: string, options: { body?: unknown; headers?: Record<string, string> } = {}) => {
    const [path, qs = ''] = pathAndQuery.split('?') as [string, string?];
    const { resource, params } = templateOf(method, path);
    const query: Record<string, string[]> = {};
    for (const [k, v] of new URLSearchParams(qs)) (query[k] ??= []).push(v);
    const body = options.body === undefined ? null : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    const res = await handler({
      httpMethod: method,
      path,
      resource,
      pathParameters: Object.keys(params).length ? params : null,
      queryStringParameters: qs ? Object.fromEntries(Object.entries(query).map(([k, v]) => [k, v[v.length - 1]!])) : null,
      multiValueQueryStringParameters: qs ? query : null,
      headers: { 'X-Forwarded-Proto': 'https', ...(body ? { 'Content-Type': 'application/fhir+json' } : {}), ...options.headers },
      multiValueHeaders: {},
      body,
      isBase64Encoded: false,
      stageVariables: null,
      requestContext: { requestId: 'r', domainName: 'api.example.org', authorizer } as unknown as APIGatewayProxyEvent['requestContext'],
    } as APIGatewayProxyEvent);
    const headers = res.headers as Record<string, string>;
    return { status: res.statusCode, headers, json: res.body ? JSON.parse(res.body) : undefined };
  };
}

const uid = () => Math.random().toString(36).slice(2, 10);
const patient = (family: string, extra: Record<string, unknown> = {}) => ({ resourceType: 'Patient', name: [{ use: 'official', family }], ...extra });
const observation = (subject: string, code = '1234-5') => ({
  resourceType: 'Observation',
  status: 'final',
  code: { coding: [{ system: 'http://loinc.org', code }] },
  subject: { reference: subject },
});
const tx = (type: 'transaction' | 'batch', entry: unknown[]) => ({ resourceType: 'Bundle', type, entry });

describe('transaction Bundles', () => {
  it('writes every entry at once, resolving urn:uuid: references and conditional creates', async () => {
    const writer = client(WRITER);
    const family = `Tx${uid()}`;
    const res = await writer('POST', '/STU3', {
      body: tx('transaction', [
        { fullUrl: 'urn:uuid:p1', resource: patient(family), request: { method: 'POST', url: 'Patient' } },
        { fullUrl: 'urn:uuid:o1', resource: observation('urn:uuid:p1'), request: { method: 'POST', url: 'Observation' } },
      ]),
    });
    expect(res.status).toBe(200);
    expect(res.json.type).toBe('transaction-response');
    const [p, o] = res.json.entry;
    expect(p.response.status).toBe('201 Created');
    const patientId = p.resource.id as string;
    expect(o.resource.subject.reference).toBe(`Patient/${patientId}`);
    expect((await writer('GET', `/STU3/Observation/${o.resource.id}`)).json.subject.reference).toBe(`Patient/${patientId}`);

    // the same again with ifNoneExist: the patient is found, not created; the new observation points at it
    const again = await writer('POST', '/STU3', {
      body: tx('transaction', [
        { fullUrl: 'urn:uuid:p1', resource: patient(family), request: { method: 'POST', url: 'Patient', ifNoneExist: `family=${family}` } },
        { fullUrl: 'urn:uuid:o2', resource: observation('urn:uuid:p1', '9999-9'), request: { method: 'POST', url: 'Observation' } },
      ]),
    });
    expect(again.status).toBe(200);
    expect(again.json.entry[0].response.status).toBe('200 OK');
    expect(again.json.entry[0].response.location).toBe(`Patient/${patientId}/_history/1`);
    expect(again.json.entry[1].resource.subject.reference).toBe(`Patient/${patientId}`);
  });

  it('is all or nothing: one refused entry is a 403 and nothing is written', async () => {
    const family = `Deny${uid()}`;
    const res = await client(PATIENT_ONLY)('POST', '/STU3', {
      body: tx('transaction', [
        { resource: patient(family), request: { method: 'POST', url: 'Patient' } },
        { resource: observation('Patient/1'), request: { method: 'POST', url: 'Observation' } },
      ]),
    });
    expect(res.status).toBe(403);
    expect(res.json.issue[0].diagnostics).toContain('Bundle.entry[1]');
    expect((await client(READER)('GET', `/STU3/Patient?family=${family}`)).json.total).toBe(0);
  });

  it('is all or nothing: an invalid entry is a 4xx and nothing is written', async () => {
    const family = `Bad${uid()}`;
    const res = await client(WRITER)('POST', '/STU3', {
      body: tx('transaction', [
        { resource: patient(family), request: { method: 'POST', url: 'Patient' } },
        { resource: { resourceType: 'Patient', gender: 'robot' }, request: { method: 'POST', url: 'Patient' } },
      ]),
    });
    expect(res.status).toBe(422);
    expect((await client(READER)('GET', `/STU3/Patient?family=${family}`)).json.total).toBe(0);
  });

  it('writes nothing when DynamoDB cancels it midway (a concurrent change of one entry): 409', async () => {
    const writer = client(WRITER);
    const created = await writer('POST', '/STU3/Patient', { body: patient(`Mid${uid()}`) });
    const id = created.json.id as string;
    const family = `Mid${uid()}`;
    // A document client that lets another writer bump the patient just before the transaction is sent.
    const racing = new Proxy(db, {
      get(target, prop, receiver) {
        if (prop !== 'send') return Reflect.get(target, prop, receiver);
        return async (command: unknown) => {
          if (command instanceof TransactWriteCommand) {
            await db.send(new UpdateCommand({ TableName: tableName, Key: { pk: `Patient/${id}`, sk: 'v' }, UpdateExpression: 'SET versionId = versionId + :one', ExpressionAttributeValues: { ':one': 1 } }));
          }
          return target.send(command as never);
        };
      },
    });
    const res = await client(WRITER, racing)('POST', '/STU3', {
      body: tx('transaction', [
        { resource: patient(family), request: { method: 'POST', url: 'Patient' } },
        { resource: { ...patient(family), id }, request: { method: 'PUT', url: `Patient/${id}` } },
      ]),
    });
    expect(res.status).toBe(409);
    expect((await client(READER)('GET', `/STU3/Patient?family=${family}`)).json.total).toBe(0);
  });

  it('keeps a patient-bound writer inside its compartment, checked on the resources themselves', async () => {
    const bound = client(PATIENT_WRITER);
    await client(WRITER)('PUT', '/STU3/Patient/pw1', { body: { ...patient('Bound'), id: 'pw1' } });
    const own = await bound('POST', '/STU3', {
      body: tx('transaction', [{ resource: observation('Patient/pw1'), request: { method: 'POST', url: 'Observation' } }]),
    });
    expect(own.status).toBe(200);
    const other = await bound('POST', '/STU3', {
      body: tx('transaction', [
        { resource: observation('Patient/pw1'), request: { method: 'POST', url: 'Observation' } },
        { resource: observation('Patient/someone-else'), request: { method: 'POST', url: 'Observation' } },
      ]),
    });
    expect(other.status).toBe(403);
  });

  it('answers the limits with a clear error before writing', async () => {
    const many = Array.from({ length: 101 }, () => ({ resource: patient('x'), request: { method: 'POST', url: 'Patient' } }));
    const res = await client(WRITER)('POST', '/STU3', { body: tx('transaction', many) });
    expect(res.status).toBe(413);
    expect(res.json.issue[0].diagnostics).toContain('at most 100 entries');
  });

  it('writes a transaction of 100 entries, whatever they hold: one DynamoDB item each in the transaction, their index items around it', async () => {
    const family = `Big${uid()}`;
    const hundred = Array.from({ length: 100 }, () => ({ resource: patient(family, { gender: 'female', birthDate: '1970-01-01' }), request: { method: 'POST', url: 'Patient' } }));
    const big = await client(WRITER)('POST', '/STU3', { body: tx('transaction', hundred) });
    expect(big.status).toBe(200);
    expect(big.json.entry.every((e: { response: { status: string } }) => e.response.status.startsWith('201'))).toBe(true);
    expect((await client(READER)('GET', `/STU3/Patient?family=${family}&_summary=count`)).json.total).toBe(100);
  });
});

describe('batch Bundles', () => {
  it('answers every entry on its own', async () => {
    const res = await client(PATIENT_ONLY)('POST', '/STU3', {
      body: tx('batch', [
        { resource: patient(`B${uid()}`), request: { method: 'POST', url: 'Patient' } },
        { resource: observation('Patient/1'), request: { method: 'POST', url: 'Observation' } },
        { request: { method: 'GET', url: 'Patient/does-not-exist' } },
        { request: { method: 'GET', url: 'Patient?_count=1' } },
        { request: { method: 'GET', url: 'Patient?_count=1&nosuch=x' } },
      ]),
    });
    expect(res.status).toBe(200);
    expect(res.json.type).toBe('batch-response');
    expect(res.json.entry.map((e: { response: { status: string } }) => e.response.status)).toEqual(['201 Created', '403', '404', '200 OK', '200 OK']);
    expect(res.json.entry[3].resource.type).toBe('searchset');
    // A search entry is the same search as GET /STU3/Patient?...: an ignored parameter is named in its outcome entry.
    const outcome = (res.json.entry[4].resource.entry as { search: { mode: string }; resource: unknown }[]).find((e) => e.search.mode === 'outcome');
    expect(JSON.stringify(outcome?.resource)).toContain('nosuch');
  });
});

describe('conditional update and delete, PATCH, HEAD, conditional read', () => {
  it('updates the one match, creates on none, refuses many (412); deletes the one match, 404 on none', async () => {
    const writer = client(WRITER);
    const system = `urn:test:${uid()}`;
    const create = await writer('PUT', `/STU3/Patient?identifier=${system}|1`, { body: patient('Cond', { identifier: [{ system, value: '1' }] }) });
    expect(create.status).toBe(201);
    const update = await writer('PUT', `/STU3/Patient?identifier=${system}|1`, { body: patient('Cond2', { identifier: [{ system, value: '1' }] }) });
    expect(update.status).toBe(200);
    expect(update.json.id).toBe(create.json.id);
    expect(update.json.meta.versionId).toBe('2');
    await writer('POST', '/STU3/Patient', { body: patient('Dup', { identifier: [{ system, value: '2' }] }) });
    await writer('POST', '/STU3/Patient', { body: patient('Dup', { identifier: [{ system, value: '2' }] }) });
    expect((await writer('PUT', `/STU3/Patient?identifier=${system}|2`, { body: patient('X') })).status).toBe(412);
    expect((await writer('DELETE', `/STU3/Patient?identifier=${system}|2`)).status).toBe(412);
    expect((await writer('PUT', '/STU3/Patient', { body: patient('X') })).status).toBe(400);
    expect((await writer('DELETE', `/STU3/Patient?identifier=${system}|1`)).status).toBe(204);
    expect((await writer('GET', `/STU3/Patient/${create.json.id}`)).status).toBe(410);
    expect((await writer('DELETE', `/STU3/Patient?identifier=${system}|1`)).status).toBe(404);
  });

  it('patches with JSON Patch, validated after patching, with If-Match', async () => {
    const writer = client(WRITER);
    const created = await writer('POST', '/STU3/Patient', { body: patient('Patch') });
    const id = created.json.id as string;
    const patch = (ops: unknown, headers: Record<string, string> = {}) =>
      writer('PATCH', `/STU3/Patient/${id}`, { body: JSON.stringify(ops), headers: { 'Content-Type': 'application/json-patch+json', ...headers } });
    const ok = await patch([{ op: 'add', path: '/gender', value: 'female' }], { 'If-Match': 'W/"1"' });
    expect(ok.status).toBe(200);
    expect(ok.json.gender).toBe('female');
    expect(ok.json.meta.versionId).toBe('2');
    expect((await patch([{ op: 'replace', path: '/gender', value: 'male' }], { 'If-Match': 'W/"1"' })).status).toBe(412);
    expect((await patch([{ op: 'replace', path: '/gender', value: 'robot' }])).status).toBe(422);
    expect((await patch([{ op: 'test', path: '/gender', value: 'male' }])).status).toBe(422);
    expect((await patch([{ op: 'replace', path: '/id', value: 'other' }])).status).toBe(422);
    expect((await patch({ op: 'add' })).status).toBe(400);
    expect((await writer('PATCH', `/STU3/Patient/${id}`, { body: [], headers: { 'Content-Type': 'application/fhir+json' } })).status).toBe(415);
    expect((await client(READER)('PATCH', `/STU3/Patient/${id}`, { body: '[]', headers: { 'Content-Type': 'application/json-patch+json' } })).status).toBe(403);
  });

  it('answers HEAD without a body, and 304 to If-None-Match or If-Modified-Since', async () => {
    const writer = client(WRITER);
    const created = await writer('POST', '/STU3/Patient', { body: patient('Head') });
    const id = created.json.id as string;
    const head = await writer('HEAD', `/STU3/Patient/${id}`);
    expect(head.status).toBe(200);
    expect(head.json).toBeUndefined();
    expect(head.headers.ETag).toBe('W/"1"');
    expect((await writer('GET', `/STU3/Patient/${id}`, { headers: { 'If-None-Match': 'W/"1"' } })).status).toBe(304);
    expect((await writer('GET', `/STU3/Patient/${id}`, { headers: { 'If-None-Match': 'W/"2"' } })).status).toBe(200);
    expect((await writer('GET', `/STU3/Patient/${id}/_history/1`, { headers: { 'If-None-Match': 'W/"1"' } })).status).toBe(304);
    const later = new Date(Date.now() + 60_000).toUTCString();
    expect((await writer('GET', `/STU3/Patient/${id}`, { headers: { 'If-Modified-Since': later } })).status).toBe(304);
    expect((await writer('GET', `/STU3/Patient/${id}`, { headers: { 'If-Modified-Since': 'Thu, 01 Jan 2015 00:00:00 GMT' } })).status).toBe(200);
  });
});

describe('system history', () => {
  it('returns the changes newest first, paged with signed cursors, filtered by _type', async () => {
    const writer = client(WRITER);
    const created = await writer('POST', '/STU3/Patient', { body: patient(`Hist${uid()}`) });
    await writer('PUT', `/STU3/Patient/${created.json.id}`, { body: { ...created.json, gender: 'male' } });
    const page = await writer('GET', '/STU3/_history?_type=Patient&_count=2');
    expect(page.status).toBe(200);
    expect(page.json.type).toBe('history');
    expect(page.json.entry.map((e: { fullUrl: string; response: { etag: string } }) => [e.fullUrl.split('/').slice(-2).join('/'), e.response.etag])).toEqual([
      [`Patient/${created.json.id}`, 'W/"2"'],
      [`Patient/${created.json.id}`, 'W/"1"'],
    ]);
    const next = page.json.link.find((l: { relation: string }) => l.relation === 'next').url as string;
    const second = await writer('GET', next.slice(next.indexOf('/STU3')));
    expect(second.status).toBe(200);
    // another client cannot replay the cursor
    expect((await client(READER)('GET', next.slice(next.indexOf('/STU3')))).status).toBe(400);
    expect((await writer('GET', '/STU3/_history?_type=Nope')).status).toBe(400);
    // Type history is the same change log for one type: the same entries as system history with _type.
    const typeHistory = await writer('GET', '/STU3/Patient/_history?_count=2');
    expect(typeHistory.status).toBe(200);
    expect(typeHistory.json.entry.map((e: { fullUrl: string }) => e.fullUrl)).toEqual(page.json.entry.map((e: { fullUrl: string }) => e.fullUrl));
    expect(typeHistory.json.link.find((l: { relation: string }) => l.relation === 'self').url).toContain('/STU3/Patient/_history');
    const typeNext = typeHistory.json.link.find((l: { relation: string }) => l.relation === 'next').url as string;
    expect((await writer('GET', typeNext.slice(typeNext.indexOf('/STU3')))).status).toBe(200);
    // a system-history cursor is not a type-history one
    expect((await writer('GET', `/STU3/Patient/_history?${next.split('?')[1]!.replace('_type=Patient&', '')}`)).status).toBe(400);
    expect((await writer('GET', '/STU3/Patient/_history?_type=Condition')).status).toBe(400);
    // HEAD of a version: the vread's headers, no body
    const head = await writer('HEAD', `/STU3/Patient/${created.json.id}/_history/1`);
    expect(head.status).toBe(200);
    expect(head.headers.ETag).toBe('W/"1"');
  });

  // The matrix: who sees what in system history (decided on every returned version).
  const CASES: [string, Ctx, (entry: { resource?: { resourceType: string; subject?: { reference: string }; id: string } }) => boolean][] = [
    ['a whole-type reader sees every type it may read', READER, (e) => !e.resource || ['Patient', 'Observation', 'Condition', 'Organization', 'Practitioner'].includes(e.resource.resourceType)],
    ['a Patient-only client sees Patient and public types only', PATIENT_ONLY, (e) => !e.resource || ['Patient', 'Organization', 'Practitioner', 'PractitionerRole', 'Location', 'Medication'].includes(e.resource.resourceType)],
    [
      'a patient-bound client sees its compartment and public types only',
      PATIENT_WRITER,
      (e) =>
        !e.resource ||
        ['Organization', 'Practitioner', 'PractitionerRole', 'Location', 'Medication'].includes(e.resource.resourceType) ||
        (e.resource.resourceType === 'Patient' ? e.resource.id === 'pw1' : e.resource.subject?.reference === 'Patient/pw1'),
    ],
  ];
  it.each(CASES)('%s', async (_name, ctx, visible) => {
    const writer = client(WRITER);
    await writer('POST', '/STU3/Observation', { body: observation('Patient/someone-else') });
    await writer('POST', '/STU3/Observation', { body: observation('Patient/pw1') });
    const page = await client(ctx)('GET', '/STU3/_history?_count=50');
    expect(page.status).toBe(200);
    expect(page.json.entry.length).toBeGreaterThan(0);
    for (const entry of page.json.entry) expect(visible(entry)).toBe(true);
  });
});

describe('the security matrix of the interactions', () => {
  // caller x interaction -> expected status (patient-bound and not)
  const MATRIX: [string, Ctx, { transactionWrite: number; batchWrite: string; conditionalUpdate: number; conditionalDelete: number; patch: number; history: number }][] = [
    ['whole-type writer', WRITER, { transactionWrite: 200, batchWrite: '201 Created', conditionalUpdate: 201, conditionalDelete: 404, patch: 200, history: 200 }],
    ['whole-type reader', READER, { transactionWrite: 403, batchWrite: '403', conditionalUpdate: 403, conditionalDelete: 403, patch: 403, history: 200 }],
    ['Patient-only writer', PATIENT_ONLY, { transactionWrite: 403, batchWrite: '403', conditionalUpdate: 403, conditionalDelete: 403, patch: 403, history: 200 }],
    ['patient-bound writer, other patient', PATIENT_WRITER, { transactionWrite: 403, batchWrite: '403', conditionalUpdate: 403, conditionalDelete: 404, patch: 404, history: 200 }],
  ];
  it.each(MATRIX)('%s', async (_name, ctx, expected) => {
    const writer = client(WRITER);
    const target = await writer('POST', '/STU3/Observation', { body: observation('Patient/other-pt') });
    const id = target.json.id as string;
    const call = client(ctx);
    const code = uid();
    const obs = observation('Patient/other-pt', code);
    expect((await call('POST', '/STU3', { body: tx('transaction', [{ resource: obs, request: { method: 'POST', url: 'Observation' } }]) })).status).toBe(expected.transactionWrite);
    const batch = await call('POST', '/STU3', { body: tx('batch', [{ resource: obs, request: { method: 'POST', url: 'Observation' } }]) });
    expect(batch.json.entry[0].response.status).toBe(expected.batchWrite);
    expect((await call('PUT', `/STU3/Observation?code=http://loinc.org|${uid()}`, { body: obs })).status).toBe(expected.conditionalUpdate);
    expect((await call('DELETE', `/STU3/Observation?code=http://loinc.org|${uid()}`)).status).toBe(expected.conditionalDelete);
    const patch = await call('PATCH', `/STU3/Observation/${id}`, {
      body: JSON.stringify([{ op: 'replace', path: '/status', value: 'amended' }]),
      headers: { 'Content-Type': 'application/json-patch+json' },
    });
    expect(patch.status).toBe(expected.patch);
    expect((await call('GET', '/STU3/_history?_count=5')).status).toBe(expected.history);
  });
});

describe('each demo client, bound to a patient or not, x each interaction of issue 15', () => {
  // The CCRI's demo clients with their exact scopes (functions/scopes/demo-clients.fixture.ts), as the authorizer
  // hands them to the function; bound: the token carries `patient` pw1. Expected outcomes follow from `decide`,
  // which the unit matrix pins (functions/scopes/permissions.test.ts); here they are checked end to end on data.
  const CALLERS = DEMO_CLIENTS.flatMap((c) => [
    { name: c.name, claims: { clientId: c.clientId, scope: c.scope } },
    { name: `${c.name}, bound to pw1`, claims: { clientId: c.clientId, scope: c.scope, patient: 'pw1' } },
  ]);
  it.each(CALLERS)('$name', async ({ claims }) => {
    const access = accessFromClaims(claims);
    const call = client(toContext(access) as unknown as Ctx);
    const writer = client(WRITER);
    await writer('PUT', '/STU3/Patient/pw1', { body: { ...patient('Bound'), id: 'pw1' } });
    const target = (await writer('POST', '/STU3/Condition', { body: { resourceType: 'Condition', subject: { reference: 'Patient/pw1' }, code: { text: 'x' }, clinicalStatus: 'active' } })).json;
    const condition = { resourceType: 'Condition', subject: { reference: 'Patient/pw1' }, code: { text: 'y' }, clinicalStatus: 'active' };

    // No demo client may write: every write is refused, in a transaction (403 whole), a batch (403 entry), directly.
    const txRes = await call('POST', '/STU3', { body: tx('transaction', [{ resource: condition, request: { method: 'POST', url: 'Condition' } }]) });
    expect(txRes.status).toBe(403);
    const batch = await call('POST', '/STU3', {
      body: tx('batch', [
        { resource: condition, request: { method: 'POST', url: 'Condition' } },
        { request: { method: 'GET', url: `Condition/${target.id}` } },
      ]),
    });
    expect(batch.json.entry[0].response.status).toBe('403');
    const mayRead = decide(access, 'Condition', 'read');
    const readStatus = batch.json.entry[1].response.status;
    // a read through a batch answers exactly as the direct read does
    expect(readStatus).toBe(mayRead.allowed ? '200 OK' : '403');
    expect((await call('GET', `/STU3/Condition/${target.id}`)).status).toBe(mayRead.allowed ? 200 : 403);
    expect((await call('PUT', `/STU3/Condition?subject=Patient/pw1`, { body: condition })).status).toBe(403);
    expect((await call('DELETE', `/STU3/Condition?subject=Patient/pw1`)).status).toBe(403);
    expect((await call('PATCH', `/STU3/Condition/${target.id}`, { body: '[]', headers: { 'Content-Type': 'application/json-patch+json' } })).status).toBe(403);
    // History: only the types it may search, and for a bound client only its compartment.
    const history = await call('GET', '/STU3/_history?_count=50');
    expect(history.status).toBe(200);
    for (const e of history.json.entry as { fullUrl: string; resource?: { resourceType: string; id: string; subject?: { reference: string } } }[]) {
      const type = e.fullUrl.split('/').slice(-2)[0] as 'Condition';
      const d = decide(access, type, 'history-type');
      expect(d.allowed).toBe(true);
      if (d.allowed && d.compartmentPatient && e.resource) {
        if (type === ('Patient' as string)) expect(e.resource.id).toBe('pw1');
        else expect(e.resource.subject?.reference).toBe('Patient/pw1');
      }
    }
  });
});
