/**
 * Every search parameter of every type, end to end: fhir-kit-client through the local gateway (real tokens, the
 * authorizer, the resource functions) on the seeded demo data. Expected ids are read off the demo data by hand.
 */
import type { Client } from 'fhir-kit-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFINITIONS } from '../../functions/fhir/definitions';
import { RESOURCE_TYPES, type ResourceType } from '../../contract/resource-types';
import { startTestApi, type TestApi } from '../support/local-api';
import { fhirClient, raw } from './e2e-support';
import { testWriter, tokenFor } from '../support/tokens';
import { DEMO_CLINICAL_ACCESS_CLIENT } from '../../functions/oauth/demo-clients';

const NHS = 'https://fhir.nhs.uk/Id/nhs-number';
const SCT = 'http://snomed.info/sct';

/** [type, query, expected ids]. Every parameter of every type appears at least once (checked below). */
const CASES: [ResourceType, Record<string, string>, string[]][] = [
  ['Patient', { _id: '3' }, ['3']],
  ['Patient', { family: 'sanchez' }, ['2']],
  ['Patient', { family: 'WIL' }, ['5', '6']],
  ['Patient', { family: 'Müller' }, ['7']],
  ['Patient', { given: 'jose' }, ['3']],
  ['Patient', { given: 'Chloe' }, ['2']],
  ['Patient', { name: 'lee' }, ['3', '6', '9']],
  ['Patient', { name: 'smi' }, ['10']],
  ['Patient', { gender: 'female' }, ['2', '4', '6', '8', '10']],
  ['Patient', { gender: 'http://hl7.org/fhir/administrative-gender|male' }, ['1', '3', '5', '7', '9']],
  ['Patient', { birthdate: '1961' }, ['3']],
  ['Patient', { birthdate: '1968-05-05' }, ['4']],
  ['Patient', { birthdate: 'eq1975-06' }, ['5']],
  ['Patient', { birthdate: 'ge1989' }, ['7', '8']],
  ['Patient', { birthdate: 'gt1982-07-07' }, ['7', '8']],
  ['Patient', { birthdate: 'lt1947' }, ['9']],
  ['Patient', { birthdate: 'le1947-02' }, ['1', '9']],
  ['Patient', { 'address-postalcode': 'M1' }, ['2', '4']],
  ['Patient', { 'address-postalcode': 'ls1 4' }, ['10']],
  ['Patient', { 'address-postalcode': 'LS1' }, ['3', '7', '10']],
  ['Patient', { email: 'patient3@example.org' }, ['3']],
  ['Patient', { phone: '07700900005' }, ['5']],
  ['Patient', { phone: '|07700900005' }, ['5']],
  ['Patient', { identifier: `${NHS}|9990000018` }, ['1']],
  ['Patient', { identifier: 'Patient-4' }, ['4']],
  ['Patient', { identifier: `${NHS}|` }, ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10']],
  ['Patient', { family: 'wil', gender: 'female' }, ['6']],
  ['Patient', { family: 'sanchez,taylor' }, ['2', '3']],
  ['Patient', { 'general-practitioner': 'Practitioner/2' }, ['1', '3', '5', '7', '9']],
  ['Patient', { 'general-practitioner': '1' }, ['2', '4', '6', '8', '10']],
  ['Practitioner', { _id: '1' }, ['1']],
  ['Practitioner', { identifier: 'https://fhir.nhs.uk/Id/sds-user-id|G8000002' }, ['2']],
  ['Practitioner', { name: 'sean' }, ['2']],
  ['Practitioner', { name: 'zoe' }, ['3']],
  ['Practitioner', { 'address-postalcode': 'LS' }, ['1', '3']],
  ['Organization', { _id: '2' }, ['2']],
  ['Organization', { identifier: 'RR8' }, ['3']],
  ['Organization', { name: 'moor' }, ['1']],
  ['Organization', { name: 'ltht' }, ['3']],
  ['Organization', { 'address-postalcode': 'M1' }, ['2']],
  ['Location', { _id: '1' }, ['1']],
  ['Location', { identifier: 'https://fhir.nhs.uk/Id/ods-site-code|RR813' }, ['1']],
  ['Location', { name: "st james's" }, ['1']],
  ['Location', { name: 'jimmy' }, ['1']],
  ['Location', { 'address-postalcode': 'LS2' }, ['2']],
  ['PractitionerRole', { _id: '3' }, ['3']],
  ['PractitionerRole', { identifier: 'R8001' }, ['2']],
  ['PractitionerRole', { practitioner: '1' }, ['1']],
  ['PractitionerRole', { practitioner: 'Practitioner/3' }, ['3']],
  ['PractitionerRole', { organization: '2' }, ['2']],
  ['Medication', { _id: '1' }, ['1']],
  ['Medication', { code: `${SCT}|39732311000001104` }, ['2']],
  ['Medication', { code: '320000009' }, ['3']],
  ['Condition', { _id: '2-2' }, ['2-2']],
  ['Condition', { patient: '1' }, ['1-1', '1-2']],
  ['Condition', { patient: 'Patient/2' }, ['2-1', '2-2']],
  ['Condition', { patient: '1', category: 'encounter-diagnosis' }, ['1-1']],
  ['Condition', { patient: '1', category: 'http://hl7.org/fhir/condition-category|problem-list-item' }, ['1-2']],
  ['Condition', { patient: '1', 'clinical-status': 'resolved' }, ['1-2']],
  ['Condition', { 'asserted-date': '2011-02' }, ['1-1']],
  ['Condition', { 'asserted-date': 'ge2019-01-01' }, ['8-2', '9-1']],
  ['Condition', { identifier: 'Condition-3-1' }, ['3-1']],
  ['Observation', { _id: '4-1' }, ['4-1']],
  ['Observation', { patient: '4' }, ['4-1', '4-2']],
  ['Observation', { subject: '4' }, ['4-1', '4-2']],
  ['Observation', { subject: 'Patient/4' }, ['4-1', '4-2']],
  ['Observation', { patient: '1', category: 'laboratory' }, ['1-2']],
  ['Observation', { subject: 'Patient/2', category: 'http://hl7.org/fhir/observation-category|vital-signs' }, ['2-1']],
  ['Observation', { patient: '3', code: 'http://loinc.org|29463-7' }, ['3-1']],
  ['Observation', { patient: '3', code: '1107481000000106' }, ['3-2']],
  ['Observation', { date: '2016' }, ['1-1', '1-2', '10-1', '10-2']],
  ['Observation', { date: '2016-03-11' }, ['1-1']],
  ['Observation', { date: 'ge2023-06-01' }, ['8-2']],
  ['Observation', { identifier: 'Observation-5-2' }, ['5-2']],
  ['Encounter', { _id: '1' }, ['1']],
  ['Encounter', { patient: '1' }, ['1']],
  ['Encounter', { date: '2017' }, ['2']],
  ['Encounter', { episodeofcare: 'EpisodeOfCare/3' }, ['3']],
  ['Encounter', { episodeofcare: '6' }, ['6']],
  ['Encounter', { type: '11429006' }, ['1', '3', '5', '7', '9']],
  ['Encounter', { type: `${SCT}|185349003` }, ['2', '4', '6', '8', '10']],
  ['Encounter', { status: 'finished' }, ['2', '4', '6', '8', '10']],
  ['Encounter', { identifier: 'Encounter-7' }, ['7']],
  ['Immunization', { _id: '1' }, ['1']],
  ['Immunization', { patient: '2' }, ['2']],
  ['Immunization', { date: '2017-10-12' }, ['2']],
  ['Immunization', { status: 'entered-in-error' }, ['5']],
  ['Immunization', { status: 'http://hl7.org/fhir/medication-admin-status|completed' }, ['1', '2', '3', '4', '6', '7', '8', '9', '10']],
  ['Immunization', { notgiven: 'false' }, ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10']],
  ['Immunization', { notgiven: 'true' }, []],
  ['Immunization', { 'vaccination-procedure': '822851000000102' }, ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10']],
  ['Immunization', { identifier: 'Immunization-4' }, ['4']],
  ['MedicationRequest', { _id: '1' }, ['1']],
  ['MedicationRequest', { patient: '3' }, ['3']],
  // CareConnect-MedicationRequest-1 allows medicationReference only: no demo request carries a code of its own.
  ['MedicationRequest', { code: '42109611000001109' }, []],
  ['MedicationRequest', { code: `${SCT}|39732311000001104` }, []],
  ['MedicationRequest', { medication: 'Medication/1' }, ['3', '6', '9']],
  ['MedicationRequest', { medication: '2' }, ['1', '4', '7', '10']],
  ['MedicationRequest', { authoredon: '2016-04-21' }, ['1']],
  ['MedicationRequest', { authoredon: '2016' }, ['1', '10']],
  ['MedicationRequest', { status: 'completed' }, ['4', '8']],
  ['MedicationRequest', { identifier: 'MedicationRequest-2' }, ['2']],
  ['MedicationStatement', { _id: '1' }, ['1']],
  ['MedicationStatement', { patient: '5' }, ['5']],
  ['MedicationStatement', { effective: '2017-05-03' }, ['2']],
  ['MedicationStatement', { effective: '2015' }, ['9']],
  ['MedicationStatement', { status: 'completed' }, ['3', '6', '9']],
  ['MedicationStatement', { identifier: 'MedicationStatement-8' }, ['8']],
  ['AllergyIntolerance', { _id: '1' }, ['1']],
  ['AllergyIntolerance', { patient: '6' }, ['6']],
  ['AllergyIntolerance', { date: '2018-07-04' }, ['3']],
  ['AllergyIntolerance', { 'clinical-status': 'resolved' }, ['3', '7']],
  ['AllergyIntolerance', { 'verification-status': 'unconfirmed' }, ['1', '3', '5', '7', '9']],
  ['AllergyIntolerance', { 'verification-status': 'http://hl7.org/fhir/allergy-verification-status|confirmed' }, ['2', '4', '6', '8', '10']],
  ['AllergyIntolerance', { identifier: 'AllergyIntolerance-2' }, ['2']],
  ['Procedure', { _id: '1' }, ['1']],
  ['Procedure', { patient: '7' }, ['7']],
  ['Procedure', { subject: 'Patient/7' }, ['7']],
  ['Procedure', { subject: '8' }, ['8']],
  ['Procedure', { date: '2016' }, ['1', '10']],
  ['Procedure', { date: 'lt2016' }, ['9']],
  ['Procedure', { identifier: 'Procedure-9' }, ['9']],
];

let api: TestApi;
let writer: Client;
let writerToken: string;

beforeAll(async () => {
  const writerCredentials = testWriter('e2e-search-writer');
  api = await startTestApi();
  writerToken = await tokenFor(api, writerCredentials);
  writer = fhirClient(api, writerToken);
});

afterAll(async () => {
  await api?.close();
});

const sorted = (ids: string[]) => [...ids].sort();

describe('search by every parameter of every type', () => {
  it.each(CASES)('%s?%o finds %j', async (type, query, expected) => {
    const bundle = (await writer.search({ resourceType: type, searchParams: { ...query, _count: 100 } })) as any;
    expect(bundle.resourceType).toBe('Bundle');
    expect(bundle.type).toBe('searchset');
    expect(bundle.total).toBe(expected.length);
    expect(sorted(bundle.entry?.map((e: any) => e.resource.id) ?? [])).toEqual(sorted(expected));
    for (const entry of bundle.entry ?? []) {
      expect(entry.fullUrl).toBe(`${api.fhirBase}/${type}/${entry.resource.id}`);
      expect(entry.search).toEqual({ mode: 'match' });
      expect(entry.resource.resourceType).toBe(type);
    }
  });

  it.each(RESOURCE_TYPES.flatMap((type) => ['_id', ...Object.keys(DEFINITIONS[type].searchParams)].map((p) => [type, p] as const)))(
    'the table covers %s?%s',
    (type, param) => {
      expect(CASES.some(([t, q]) => t === type && param in q)).toBe(true);
    },
  );
});

describe('paging', () => {
  it('follows next links through every patient, 3 per page; the total only when cheap or asked for', async () => {
    let bundle = (await writer.search({ resourceType: 'Patient', searchParams: { _count: 3 } })) as any;
    const ids: string[] = [];
    let pages = 0;
    for (;;) {
      pages++;
      expect(bundle.total).toBeUndefined();
      expect(bundle.link.find((l: any) => l.relation === 'self').url).toContain('_count=3');
      ids.push(...bundle.entry.map((e: any) => e.resource.id));
      const next = writer.nextPage({ bundle });
      if (!next) break;
      bundle = await next;
    }
    expect(pages).toBeGreaterThanOrEqual(4);
    expect(sorted(ids)).toEqual(sorted(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10']));
    const count = (await writer.search({ resourceType: 'Patient', searchParams: { _summary: 'count' } })) as any;
    expect(count).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 10 });
    expect(count.entry ?? []).toEqual([]);
    expect(((await writer.search({ resourceType: 'Patient', searchParams: { _count: 100 } })) as any).total).toBe(10);
  });

  it('binds a next link to its query and its client: replayed elsewhere it is a 400', async () => {
    const page = await raw(api, writerToken, 'GET', 'Patient?_count=2');
    const cursor = new URL(page.json.link.find((l: any) => l.relation === 'next').url).searchParams.get('_cursor')!;
    expect((await raw(api, writerToken, 'GET', `Patient?_count=2&_cursor=${cursor}`)).status).toBe(200);
    expect((await raw(api, writerToken, 'GET', `Patient?_count=3&_cursor=${cursor}`)).status).toBe(400);
    expect((await raw(api, writerToken, 'GET', `Patient?gender=male&_count=2&_cursor=${cursor}`)).status).toBe(400);
    // One character in the middle: a base64url string's last character may carry only padding bits.
    const middle = Math.floor(cursor.length / 2);
    const tampered = cursor.slice(0, middle) + (cursor[middle] === 'A' ? 'B' : 'A') + cursor.slice(middle + 1);
    expect((await raw(api, writerToken, 'GET', `Patient?_count=2&_cursor=${tampered}`)).status).toBe(400);
    const otherClient = await tokenFor(api, DEMO_CLINICAL_ACCESS_CLIENT);
    expect((await raw(api, otherClient, 'GET', `Patient?_count=2&_cursor=${cursor}`)).status).toBe(400);
  });

  it('defaults _count to 10 and caps it at 100', async () => {
    const all = (await writer.search({ resourceType: 'Observation', searchParams: {} })) as any;
    expect(all.entry).toHaveLength(10);
    expect(((await writer.search({ resourceType: 'Observation', searchParams: { _count: 0 } })) as any).total).toBe(20);
    expect(all.link.some((l: any) => l.relation === 'next')).toBe(true);
    const capped = (await writer.search({ resourceType: 'Observation', searchParams: { _count: 1000 } })) as any;
    expect(capped.entry).toHaveLength(20);
    expect(capped.link.find((l: any) => l.relation === 'self').url).toContain('_count=100');
  });

  it('rejects a forged continuation token with a 400 OperationOutcome', async () => {
    const res = await raw(api, writerToken, 'GET', 'Patient?_cursor=bm90LWEtdG9rZW4');
    expect(res.status).toBe(400);
    expect(res.json.resourceType).toBe('OperationOutcome');
  });
});

describe('search errors', () => {
  it.each([
    ['Patient?birthdate=sa2000', 400],
    ['Patient?birthdate=2000-13-01', 400],
    ['Patient?_count=many', 400],
    ['Condition?patient=', 400],
  ])('%s is a %i with an OperationOutcome', async (path, status) => {
    const res = await raw(api, writerToken, 'GET', path);
    expect(res.status).toBe(status);
    expect(res.json.resourceType).toBe('OperationOutcome');
    expect(res.json.issue[0].severity).toBe('error');
  });

  it('ignores an unknown parameter, but not with Prefer: handling=strict', async () => {
    const lenient = await raw(api, writerToken, 'GET', 'Patient?colour=red&family=sanchez');
    expect(lenient.status).toBe(200);
    expect(lenient.json.total).toBe(1);
    const strict = await raw(api, writerToken, 'GET', 'Patient?colour=red', { headers: { Prefer: 'handling=strict' } });
    expect(strict.status).toBe(400);
    expect(strict.json.issue[0].diagnostics).toContain('colour');
  });
});
