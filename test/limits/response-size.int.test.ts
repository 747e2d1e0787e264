/**
 * Responses stay under Lambda's 6 MB response payload, over real HTTP through the local gateway (which, as API
 * Gateway, answers 502 over it): a page of large resources the client asked for is a clear 4xx OperationOutcome
 * (`too-costly`) that says to ask for fewer, never a 502.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_BODY_BYTES, MAX_RESPONSE_BYTES } from '../../functions/fhir/http';
import { demoResources } from '../../functions/seed/demo-data';
import { startTestApi, type TestApi } from '../support/local-api';
import { testWriter, tokenFor } from '../support/tokens';

let api: TestApi;
let token: string;
const BIG = 30;

const { id: _id, ...samplePatient } = demoResources().find((r) => r.resourceType === 'Patient') as unknown as Record<string, any>;
const pad = DEFAULT_MAX_BODY_BYTES - JSON.stringify(samplePatient).length - 2_000;
const big = (n: number) => ({ ...samplePatient, id: `big-${n}`, text: { status: 'generated', div: `<div>${String(n).padEnd(pad, 'y')}</div>` } });

const headers = () => ({ Authorization: `Bearer ${token}`, 'Content-Type': 'application/fhir+json' });
async function get(path: string, extra: Record<string, string> = {}, body?: unknown) {
  const res = await fetch(`${api.fhirBase}/${path}`, { method: body ? 'POST' : 'GET', headers: { ...headers(), ...extra }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, text };
}

beforeAll(async () => {
  const writer = testWriter('size-writer');
  api = await startTestApi();
  token = await tokenFor(api, writer);
  for (let n = 0; n < BIG; n++) {
    const put = await fetch(`${api.fhirBase}/Patient/big-${n}`, { method: 'PUT', headers: headers(), body: JSON.stringify(big(n)) });
    expect(put.status).toBe(201);
  }
}, 120_000);

afterAll(async () => {
  await api?.close();
});

describe('an answer over what Lambda may return (6 MB)', () => {
  it.each([
    ['a search', 'Patient?_count=100', {}],
    ['a search in XML', 'Patient?_count=100', { Accept: 'application/fhir+xml' }],
    ['the type history', 'Patient/_history?_count=100', {}],
    ['the system history', '_history?_count=100', {}],
  ])('%s is a 400 too-costly OperationOutcome, not the 502 of an oversize Lambda response', async (_name, path, extra) => {
    const res = await get(path, extra);
    expect(res.status, res.text.slice(0, 300)).toBe(400);
    if ('Accept' in extra) expect(res.text).toMatch(/^<\?xml[^]*<OperationOutcome[^]*<code value="too-costly"\/>/);
    else expect(JSON.parse(res.text)).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'too-costly', diagnostics: expect.stringMatching(/smaller _count/) }] });
  });

  it.each(['batch', 'transaction'])('a %s whose reads would pass it answers every write, and the reads over the bound as too-costly entries', async (kind) => {
    const reads = Array.from({ length: BIG }, (_, n) => ({ request: { method: 'GET', url: `Patient/big-${n}` } }));
    const create = { fullUrl: 'urn:uuid:0b0e1c1e-0000-4000-8000-000000000001', resource: { ...samplePatient, identifier: undefined }, request: { method: 'POST', url: 'Patient' } };
    const res = await get('', {}, { resourceType: 'Bundle', type: kind, entry: [create, ...reads] });
    expect(res.status, res.text.slice(0, 300)).toBe(200);
    expect(Buffer.byteLength(res.text)).toBeLessThan(MAX_RESPONSE_BYTES);
    const entries = JSON.parse(res.text).entry as { resource?: { id: string }; response: { status: string; outcome?: unknown } }[];
    expect(entries).toHaveLength(BIG + 1);
    expect(entries[0]!.response.status).toMatch(/^201/);
    expect((await get(`Patient/${entries[0]!.resource!.id}`)).status).toBe(200);
    expect(entries[1]!.response.status).toMatch(/^200/);
    expect(entries.at(-1)!.response).toMatchObject({ status: '400', outcome: { resourceType: 'OperationOutcome', issue: [{ code: 'too-costly' }] } });
  });

  it('a transaction whose reads pass it only in XML (4.5 times their JSON) still answers its committed write', async () => {
    // 64,000 one-letter given names: 260 KB of JSON, 1.2 MB of XML.
    const given = Array(Math.floor(pad / 4)).fill('a');
    const put = await fetch(`${api.fhirBase}/Patient/xml-big`, { method: 'PUT', headers: headers(), body: JSON.stringify({ ...samplePatient, id: 'xml-big', name: [{ ...samplePatient.name[0], given }] }) });
    expect(put.status).toBe(201);
    const reads = Array.from({ length: 6 }, () => ({ request: { method: 'GET', url: 'Patient/xml-big' } }));
    const create = { resource: { ...samplePatient, identifier: undefined }, request: { method: 'POST', url: 'Patient' } };
    const res = await get('', { Accept: 'application/fhir+xml' }, { resourceType: 'Bundle', type: 'transaction', entry: [create, ...reads] });
    expect(res.status, res.text.slice(0, 300)).toBe(200);
    expect(Buffer.byteLength(res.text)).toBeLessThan(MAX_RESPONSE_BYTES);
    expect(res.text).toMatch(/<status value="201 Created"\/>/);
    expect(res.text).toMatch(/<code value="too-costly"\/>/);
  });

  it('a page of the same search that fits is answered whole', async () => {
    const res = await get('Patient?_count=10');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text).entry).toHaveLength(10);
  });
});
