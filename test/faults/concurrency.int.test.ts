/**
 * Concurrent writers through the local gateway over real HTTP, on the real DynamoDB Local engine: optimistic
 * locking with If-Match lets exactly one of 50 win, 50 unconditional updates make 50 versions with none lost, and
 * 50 concurrent conditional creates of the same identifier make one resource.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoResources } from '../../functions/seed/demo-data';
import { startTestApi, type TestApi } from '../support/local-api';
import { testWriter, tokenFor } from '../support/tokens';

const N = 50;
let api: TestApi;
let token: string;

beforeAll(async () => {
  const writer = testWriter('concurrency-writer');
  api = await startTestApi();
  token = await tokenFor(api, writer);
});

afterAll(async () => {
  await api?.close();
});

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${api.fhirBase}/${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/fhir+json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, etag: res.headers.get('etag'), json: text ? (JSON.parse(text) as Record<string, any>) : undefined };
}

/** A profile-conformant Patient (the demo Patient 1's shape) with its own id, identifier and family name. */
const demoPatient = demoResources().find((r) => r.resourceType === 'Patient')! as unknown as Record<string, any>;
function patientBody(family: string, identifier = 'concurrency'): Record<string, any> {
  const { id: _id, meta: _meta, ...rest } = demoPatient;
  return {
    ...rest,
    identifier: [{ system: 'https://ccri-demo.example.org/Id/patient', value: identifier }],
    name: [{ ...demoPatient.name[0], family }],
  };
}
const patient = (id: string, family: string) => ({ ...patientBody(family), id });

async function fullHistory(id: string): Promise<Array<Record<string, any>>> {
  const entries: Array<Record<string, any>> = [];
  let url: string | undefined = `${api.fhirBase}/Patient/${id}/_history?_count=100`;
  while (url) {
    const res = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const bundle = (await res.json()) as { entry?: Array<Record<string, any>>; link: Array<{ relation: string; url: string }> };
    entries.push(...(bundle.entry ?? []));
    url = bundle.link.find((l) => l.relation === 'next')?.url;
  }
  return entries;
}

describe('concurrent writes through the gateway', () => {
  it(`${N} updates with the same If-Match: exactly one 200, the other ${N - 1} are 412 OperationOutcomes`, async () => {
    const id = `cc-ifmatch-${randomBytes(4).toString('hex')}`;
    const first = await call('PUT', `Patient/${id}`, patient(id, 'v1'));
    expect(first.status, JSON.stringify(first.json)).toBe(201);
    const results = await Promise.all(
      Array.from({ length: N }, (_, i) => call('PUT', `Patient/${id}`, patient(id, `writer-${i}`), { 'If-Match': 'W/"1"' })),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 412)).toHaveLength(N - 1);
    for (const r of results.filter((x) => x.status === 412)) expect(r.json?.resourceType).toBe('OperationOutcome');
    const winner = results.find((r) => r.status === 200)!;
    const current = await call('GET', `Patient/${id}`);
    expect(current.etag).toBe('W/"2"');
    expect(current.json?.name).toEqual(winner.json?.name);
  });

  it(`${N} updates without If-Match: ${N} new versions, each write in the history, none lost`, async () => {
    const id = `cc-blind-${randomBytes(4).toString('hex')}`;
    expect((await call('PUT', `Patient/${id}`, patient(id, 'v1'))).status).toBe(201);
    const results = await Promise.all(Array.from({ length: N }, (_, i) => call('PUT', `Patient/${id}`, patient(id, `writer-${i}`))));
    expect(results.map((r) => r.status)).toEqual(Array(N).fill(200));
    const versions = results.map((r) => Number(r.json?.meta?.versionId)).sort((a, b) => a - b);
    expect(versions).toEqual(Array.from({ length: N }, (_, i) => i + 2));

    const history = await fullHistory(id);
    expect(history).toHaveLength(N + 1);
    const families = history.map((e) => e.resource?.name?.[0]?.family as string);
    expect(new Set(families)).toEqual(new Set(['v1', ...Array.from({ length: N }, (_, i) => `writer-${i}`)]));
    expect(history.map((e) => Number(e.resource?.meta?.versionId))).toEqual(Array.from({ length: N + 1 }, (_, i) => N + 1 - i));
  });

  it(`${N} conditional creates with the same If-None-Exist make one resource`, async () => {
    const value = `cc-${randomBytes(6).toString('hex')}`;
    const system = 'https://ccri-demo.example.org/Id/patient';
    const body = patientBody('Conditional', value);
    const results = await Promise.all(
      Array.from({ length: N }, () => call('POST', 'Patient', body, { 'If-None-Exist': `identifier=${system}|${value}` })),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.every((s) => s === 201 || s === 200)).toBe(true);
    expect(new Set(results.map((r) => r.json?.id)).size).toBe(1);

    const search = await call('GET', `Patient?identifier=${encodeURIComponent(`${system}|${value}`)}`);
    expect(search.status).toBe(200);
    expect(search.json?.total).toBe(1);
  });
});
