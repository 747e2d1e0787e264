/**
 * XML, `_summary` and `_elements` through the local gateway with real tokens: every FHIR route reads and writes
 * application/fhir+xml (Accept, Content-Type, `_format`), and XML and JSON get the same validation verdict.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromXml, toXml } from '../../functions/fhir-model/xml';
import { startTestApi, type TestApi } from '../support/local-api';
import { testWriter, tokenFor } from '../support/tokens';
import { fixture, type Json } from '../validation/fixtures';

let api: TestApi;
let token: string;

beforeAll(async () => {
  const writer = testWriter('xml-writer');
  api = await startTestApi();
  token = await tokenFor(api, writer);
});

afterAll(async () => {
  await api?.close();
});

async function call(method: string, path: string, headers: Record<string, string> = {}, body?: string) {
  const res = await fetch(`${api.fhirBase}/${path}`, { method, headers: { Authorization: `Bearer ${token}`, ...headers }, body });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

const XML = 'application/fhir+xml';
const verdict = (outcome: Json) => outcome.issue.map((i: Json) => `${i.severity} ${i.code} ${i.expression?.[0]}`).sort();

function newPatient(): Json {
  const patient = fixture('Patient');
  delete patient.id;
  delete patient.meta;
  patient.identifier[1].value = `x-${randomBytes(4).toString('hex')}`;
  return patient;
}

describe('XML', () => {
  it.each([
    ['Accept', { Accept: XML }, ''],
    ['_format=xml', {}, '?_format=xml'],
    ['_format=application/fhir+xml', {}, `?_format=${encodeURIComponent(XML)}`],
  ])('reads a resource as XML by %s', async (_, headers, query) => {
    const res = await call('GET', `Patient/1${query}`, headers);
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/^application\/fhir\+xml/);
    expect(res.text).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?><Patient xmlns="http:\/\/hl7.org\/fhir"><id value="1"\/>/);
    const json = JSON.parse((await call('GET', 'Patient/1')).text);
    expect(fromXml(res.text)).toEqual(json);
  });

  it('prefers what Accept ranks higher', async () => {
    expect((await call('GET', 'Patient/1', { Accept: `application/fhir+json;q=0.5, ${XML}` })).type).toMatch(/xml/);
    expect((await call('GET', 'Patient/1', { Accept: `${XML};q=0.5, application/fhir+json` })).type).toMatch(/json/);
  });

  it('creates from an XML body, answers in XML, and stores the same resource as JSON would', async () => {
    const patient = newPatient();
    const res = await call('POST', 'Patient', { 'Content-Type': XML, Accept: XML }, toXml(patient));
    expect(res.status).toBe(201);
    const created = fromXml(res.text);
    const stored = JSON.parse((await call('GET', `Patient/${created.id}`)).text);
    expect(stored).toEqual(created);
    expect(stored.identifier).toEqual(patient.identifier);
  });

  it('searches in XML: a Bundle with the resources inside', async () => {
    const res = await call('GET', 'Condition?patient=1&_format=xml');
    expect(res.status).toBe(200);
    const bundle = fromXml(res.text);
    expect(bundle.resourceType).toBe('Bundle');
    expect((bundle.entry as Json[]).every((e) => e.resource.resourceType === 'Condition')).toBe(true);
  });

  it('gives XML and JSON the same verdict for the same bad resource', async () => {
    const patient = newPatient();
    patient.gender = 'mail';
    patient.birthDate = '1970-02-30';
    patient.colour = 'blue';
    delete patient.identifier[0].extension;
    const asJson = await call('POST', 'Patient/$validate', { 'Content-Type': 'application/fhir+json' }, JSON.stringify(patient));
    const asXml = await call('POST', 'Patient/$validate', { 'Content-Type': XML, Accept: XML }, toXml(patient));
    expect(asXml.status).toBe(200);
    expect(verdict(fromXml(asXml.text))).toEqual(verdict(JSON.parse(asJson.text)));
    const refused = await call('POST', 'Patient', { 'Content-Type': XML, Accept: XML }, toXml(patient));
    expect(refused.status).toBe(422);
    expect(fromXml(refused.text).resourceType).toBe('OperationOutcome');
  });

  it.each([
    ['malformed XML', XML, '<Patient xmlns="http://hl7.org/fhir"><id value="x">', 400],
    ['XML with a DOCTYPE', XML, '<!DOCTYPE Patient [<!ENTITY a "a">]><Patient xmlns="http://hl7.org/fhir"/>', 400],
    ['a media type that is neither JSON nor XML', 'text/csv', 'a,b', 415],
  ])('refuses %s', async (_, contentType, body, status) => {
    const res = await call('POST', 'Patient', { 'Content-Type': contentType }, body);
    expect(res.status).toBe(status);
    expect(JSON.parse(res.text).resourceType).toBe('OperationOutcome');
  });
});

describe('the narrative in XML (the attack run: a writer forged Bundle entries through text.div)', () => {
  it('refuses a narrative that is not one well-formed div of basic HTML (422 naming the rule), so no write can splice XML into a reader\'s answer', async () => {
    const X = 'xmlns="http://www.w3.org/1999/xhtml"';
    for (const div of [
      `<div ${X}>ok</div></text><subject><reference value="Patient/2"/></subject><text><div ${X}>x</div>`,
      `<div ${X}><img src="x" onerror="alert(1)"/></div>`,
      `<div ${X}><a href="javascript:alert(1)">x</a></div>`,
    ]) {
      const patient = { ...newPatient(), text: { status: 'generated', div } };
      const res = await call('POST', 'Patient', { 'Content-Type': 'application/fhir+json', Accept: 'application/fhir+json' }, JSON.stringify(patient));
      expect(res.status, div).toBe(422);
      expect(res.text).toMatch(/Patient\.text\.div is not a valid narrative: .*\(txt-1, txt-2\)/);
    }
    const fine = { ...newPatient(), text: { status: 'generated', div: `<div ${X}><p>John <b>Smith</b></p></div>` } };
    const created = await call('POST', 'Patient', { 'Content-Type': 'application/fhir+json', Accept: XML }, JSON.stringify(fine));
    expect(created.status).toBe(201);
    expect(created.text).toContain(`<text><status value="generated"/><div ${X}><p>John <b>Smith</b></p></div></text>`);
  });
});

describe('XML on every FHIR route, errors included', () => {
  it('serves the CapabilityStatement in XML (Accept and _format), the same statement as in JSON', async () => {
    const json = JSON.parse((await call('GET', 'metadata')).text);
    for (const [headers, query] of [[{ Accept: XML }, ''], [{}, '?_format=xml']] as const) {
      const res = await call('GET', `metadata${query}`, headers);
      expect(res.status).toBe(200);
      expect(res.type).toMatch(/^application\/fhir\+xml/);
      expect(fromXml(res.text)).toEqual(json);
    }
  });

  it.each([
    ['a read of a missing resource', 'GET', 'Patient/does-not-exist', undefined, 404],
    ['an unknown search parameter, strictly', 'GET', 'Patient?colour=blue', undefined, 400],
    ['a resource that breaks its profile', 'POST', 'Patient', JSON.stringify({ resourceType: 'Patient', gender: 'mail' }), 422],
    ['malformed XML', 'POST', 'Patient', '<Patient xmlns="http://hl7.org/fhir"><id value="x">', 400],
  ])('answers %s with an XML OperationOutcome when XML is asked for', async (_, method, path, body, status) => {
    const contentType = body?.startsWith('<') ? XML : 'application/fhir+json';
    const res = await call(method, path, { Accept: XML, Prefer: 'handling=strict', ...(body ? { 'Content-Type': contentType } : {}) }, body);
    expect(res.status).toBe(status);
    expect(res.type).toMatch(/^application\/fhir\+xml/);
    expect(fromXml(res.text).resourceType).toBe('OperationOutcome');
  });

  it("keeps the gateway's own answers JSON (one static Content-Type per gateway response; `_format` cannot pick a template)", async () => {
    const noRoute = await call('PUT', 'Patient/1/_history/1', { Accept: XML, 'Content-Type': 'application/fhir+json' }, '{}');
    expect(noRoute.status).toBe(404);
    expect(noRoute.type).toMatch(/^application\/fhir\+json/);
    const noToken = await fetch(`${api.fhirBase}/Patient/1`, { headers: { Accept: XML } });
    expect(noToken.status).toBe(401);
    expect(JSON.parse(await noToken.text()).resourceType).toBe('OperationOutcome');
  });
});

describe('_summary and _elements', () => {
  it('_summary=true on a read: summary elements only, tagged SUBSETTED', async () => {
    const res = JSON.parse((await call('GET', 'Patient/1?_summary=true')).text);
    expect(res.text).toBeUndefined();
    expect(res.meta.tag).toContainEqual(expect.objectContaining({ code: 'SUBSETTED' }));
  });

  it('_summary=count on a search: the total, no entries', async () => {
    const full = JSON.parse((await call('GET', 'Condition?patient=1')).text);
    const count = JSON.parse((await call('GET', 'Condition?patient=1&_summary=count')).text);
    expect(count.total).toBe(full.total);
    expect(count.entry).toBeUndefined();
  });

  it('_elements on a search, in XML', async () => {
    const res = await call('GET', 'Patient?_id=1&_elements=gender&_format=xml');
    const patient = (fromXml(res.text).entry as Json[])[0]!.resource;
    expect(Object.keys(patient).sort()).toEqual(['gender', 'id', 'meta', 'resourceType']);
  });

  it('refuses a _summary mode STU3 does not have', async () => {
    expect((await call('GET', 'Patient/1?_summary=maybe')).status).toBe(400);
  });
});
