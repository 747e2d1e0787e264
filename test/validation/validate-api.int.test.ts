/**
 * Profile validation through the local gateway, with real tokens: create and update refuse a non-conformant
 * resource with 422 and an OperationOutcome listing every issue; `$validate` (type and instance level) answers
 * 200 with the outcome and stores nothing.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { profileUrl } from '../../contract/resource-types';
import { MAX_ISSUES } from '../../functions/validation';
import { startTestApi, type TestApi } from '../support/local-api';
import { testWriter, tokenFor } from '../support/tokens';
import { fixture, type Json } from './fixtures';

let api: TestApi;
let token: string;

beforeAll(async () => {
  const writer = testWriter('validation-writer');
  api = await startTestApi();
  token = await tokenFor(api, writer);
});

afterAll(async () => {
  await api?.close();
});

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; headers: Headers; json: any }> {
  const res = await fetch(`${api.fhirBase}/${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      Accept: 'application/fhir+json',
      ...(body === undefined ? {} : { 'Content-Type': 'application/fhir+json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : undefined };
}

/** A resource ready to create: the fixture without its id, marked with a unique identifier value. */
function newResource(type: 'Patient' | 'Condition' | 'Medication', marker: string): Json {
  const resource = fixture(type);
  delete resource.id;
  delete resource.meta;
  if (type === 'Patient') resource.identifier[1].value = marker;
  if (type === 'Condition') resource.identifier[0].value = marker;
  return resource;
}

/** The issues, without the notes on SNOMED CT codings (membership unchecked without a terminology server). */
const summary = (outcome: any) =>
  outcome.issue.filter((i: any) => !(i.severity === 'warning' && i.code === 'not-supported')).map((i: any) => [i.severity, i.code, i.expression?.[0]]);

/** A Patient breaking several Care Connect rules at once. */
function badPatient(marker: string): Json {
  const patient = newResource('Patient', marker);
  patient.identifier[0].value = '9434765918'; // wrong Modulus 11 check digit
  delete patient.identifier[0].extension; // no verification status
  patient.name[0].use = 'usual'; // no official name
  patient.birthDate = '28/02/1970';
  return patient;
}

/** In definition order (CareConnect-Patient-1 1.3.0: identifier, name, birthDate), the extra NHS number rule after its slice's. */
const BAD_PATIENT_ISSUES = [
  ['error', 'required', 'Patient.identifier[0].extension'],
  ['error', 'value', 'Patient.identifier[0].value'],
  ['error', 'required', 'Patient.name'],
  ['error', 'value', 'Patient.birthDate'],
];

describe('create', () => {
  it('refuses a non-conformant Patient with 422 and an OperationOutcome listing every issue', async () => {
    const marker = `bad-${randomBytes(4).toString('hex')}`;
    const res = await call('POST', 'Patient', badPatient(marker));
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
    expect(res.json.resourceType).toBe('OperationOutcome');
    expect(summary(res.json)).toEqual(BAD_PATIENT_ISSUES);
    for (const issue of res.json.issue) expect(issue.diagnostics).toEqual(expect.any(String));
    const search = await call('GET', `Patient?identifier=${encodeURIComponent(`https://example.org/Id/pas|${marker}`)}`);
    expect(search.json.total).toBe(0);
  });

  it('refuses a Condition without subject and with a verificationStatus', async () => {
    const condition = newResource('Condition', `c-${randomBytes(4).toString('hex')}`);
    delete condition.subject;
    condition.verificationStatus = 'confirmed';
    const res = await call('POST', 'Condition', condition);
    expect(res.status).toBe(422);
    expect(summary(res.json)).toEqual([
      ['error', 'structure', 'Condition.verificationStatus'],
      ['error', 'required', 'Condition.subject'],
    ]);
  });

  it('stores a conformant resource with its Care Connect profile in meta.profile', async () => {
    const res = await call('POST', 'Condition', newResource('Condition', `ok-${randomBytes(4).toString('hex')}`));
    expect(res.status).toBe(201);
    expect(res.json.meta.profile).toEqual([profileUrl('Condition')]);
  });

  it('stores a resource that has warnings only (a Condition category outside the extensible value set)', async () => {
    const condition = newResource('Condition', `w-${randomBytes(4).toString('hex')}`);
    condition.category[0].coding[0].system = 'http://hl7.org/fhir/condition-category';
    const res = await call('POST', 'Condition', condition);
    expect(res.status).toBe(201);
  });
});

describe('update', () => {
  it('refuses a non-conformant version with 422 and keeps the stored one', async () => {
    const created = await call('POST', 'Patient', newResource('Patient', `u-${randomBytes(4).toString('hex')}`));
    expect(created.status).toBe(201);
    const id = created.json.id as string;
    const body = { ...badPatient('unused'), id };
    const res = await call('PUT', `Patient/${id}`, body);
    expect(res.status).toBe(422);
    expect(summary(res.json)).toEqual(BAD_PATIENT_ISSUES);
    const read = await call('GET', `Patient/${id}`);
    expect(read.json.meta.versionId).toBe(created.json.meta.versionId);
    expect(read.json.birthDate).toBe('1970-02-28');
  });
});

describe('$validate', () => {
  it('answers 200 with every issue at type level and stores nothing', async () => {
    const marker = `v-${randomBytes(4).toString('hex')}`;
    const res = await call('POST', 'Patient/$validate', badPatient(marker));
    expect(res.status).toBe(200);
    expect(res.json.resourceType).toBe('OperationOutcome');
    expect(summary(res.json)).toEqual(BAD_PATIENT_ISSUES);
    const search = await call('GET', `Patient?identifier=${encodeURIComponent(`https://example.org/Id/pas|${marker}`)}`);
    expect(search.json.total).toBe(0);
  });

  it('says that a conformant resource is fine, with one information issue, and stores nothing', async () => {
    const marker = `ok-${randomBytes(4).toString('hex')}`;
    const res = await call('POST', 'Patient/$validate', newResource('Patient', marker));
    expect(res.status).toBe(200);
    expect(res.json.issue).toHaveLength(1);
    expect(res.json.issue[0]).toEqual(expect.objectContaining({ severity: 'information' }));
    const search = await call('GET', `Patient?identifier=${encodeURIComponent(`https://example.org/Id/pas|${marker}`)}`);
    expect(search.json.total).toBe(0);
  });

  it('reports warnings with 200 (a Condition category outside the extensible value set)', async () => {
    const condition = newResource('Condition', 'unused');
    condition.category[0].coding[0].system = 'http://hl7.org/fhir/condition-category';
    const res = await call('POST', 'Condition/$validate', condition);
    expect(res.status).toBe(200);
    expect(summary(res.json)).toEqual([['warning', 'code-invalid', 'Condition.category[0]']]);
  });

  it('caps a flood of issues: the largest allowed body (256 KB) of bad telecoms answers one bounded outcome', async () => {
    const patient = newResource('Patient', 'unused');
    patient.telecom = [];
    const bad = { system: 'mobile', value: 'x', rank: 0 };
    const room = 256 * 1024 - JSON.stringify(patient).length - 1;
    patient.telecom = Array.from({ length: Math.floor(room / (JSON.stringify(bad).length + 1)) }, () => bad);
    expect(JSON.stringify(patient).length).toBeGreaterThan(255 * 1024);
    const res = await call('POST', 'Patient/$validate', patient);
    expect(res.status).toBe(200);
    expect(res.json.issue).toHaveLength(MAX_ISSUES);
    expect(res.json.issue[MAX_ISSUES - 1]).toEqual(expect.objectContaining({ severity: 'error', code: 'too-costly', diagnostics: expect.stringMatching(/^\d+ more issue/) }));
    expect(JSON.stringify(res.json).length).toBeLessThan(100 * 1024);
  });

  it('accepts the resource wrapped in Parameters', async () => {
    const condition = newResource('Condition', 'unused');
    delete condition.subject;
    const res = await call('POST', 'Condition/$validate', {
      resourceType: 'Parameters',
      parameter: [{ name: 'resource', resource: condition }],
    });
    expect(res.status).toBe(200);
    expect(summary(res.json)).toEqual([['error', 'required', 'Condition.subject']]);
  });

  it('validates at instance level without changing the stored resource', async () => {
    const before = await call('GET', 'Patient/1');
    expect(before.status).toBe(200);
    const changed = { ...before.json, gender: 'mail' };
    const res = await call('POST', 'Patient/1/$validate', changed);
    expect(res.status).toBe(200);
    expect(summary(res.json)).toEqual([['error', 'code-invalid', 'Patient.gender']]);
    const after = await call('GET', 'Patient/1');
    expect(after.json).toEqual(before.json);
  });
});
