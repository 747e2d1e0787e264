/**
 * Issue 15's interactions end to end, as a FHIR client sends them: fhir-kit-client through the local gateway (real
 * tokens, the real authorizer and its cached policy) on DynamoDB Local with the demo data: transaction and batch,
 * conditional update, JSON Patch, system history and its next page, HEAD and If-None-Match.
 */
import type { Client } from 'fhir-kit-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_BOUND_PATIENT_ID, DEMO_LIMITED_ACCESS_CLIENT, DEMO_PATIENT_CLIENT } from '../../functions/oauth/demo-clients';
import { startTestApi, type TestApi } from '../support/local-api';
import { testWriter, tokenFor } from '../support/tokens';
import { fhirClient, raw, statusOf } from './e2e-support';

let api: TestApi;
let writer: Client;
let writerToken: string;
let bound: Client;
let limited: Client;

beforeAll(async () => {
  const creds = testWriter('breadth-writer');
  api = await startTestApi();
  writerToken = await tokenFor(api, creds);
  writer = fhirClient(api, writerToken);
  bound = fhirClient(api, await tokenFor(api, DEMO_PATIENT_CLIENT));
  limited = fhirClient(api, await tokenFor(api, DEMO_LIMITED_ACCESS_CLIENT));
});

afterAll(async () => {
  await api?.close();
});

const family = `E2e${Date.now()}`;
const patient = { resourceType: 'Patient', name: [{ use: 'official', family }], identifier: [{ system: 'urn:e2e', value: family }] };
const observation = (subject: string) => ({
  resourceType: 'Observation',
  status: 'final',
  code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
  subject: { reference: subject },
});

describe('fhir-kit-client through the local gateway', () => {
  it('sends a transaction with urn:uuid: references and reads what it wrote', async () => {
    const response = (await writer.transaction({
      body: {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          { fullUrl: 'urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a', resource: patient, request: { method: 'POST', url: 'Patient' } },
          { resource: observation('urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a'), request: { method: 'POST', url: 'Observation' } },
        ],
      },
    })) as unknown as fhir.Bundle;
    expect(response.type).toBe('transaction-response');
    const patientId = response.entry![0]!.resource!.id!;
    const obs = (await writer.read({ resourceType: 'Observation', id: response.entry![1]!.resource!.id! })) as unknown as fhir.Observation;
    expect(obs.subject?.reference).toBe(`Patient/${patientId}`);
  });

  it('sends a batch, each entry answered on its own', async () => {
    const response = (await writer.batch({
      body: {
        resourceType: 'Bundle',
        type: 'batch',
        entry: [{ request: { method: 'GET', url: `Patient/${DEMO_BOUND_PATIENT_ID}` } }, { request: { method: 'GET', url: 'Patient/no-such-id' } }],
      },
    })) as unknown as fhir.Bundle;
    expect(response.entry!.map((e) => e.response?.status)).toEqual(['200 OK', '404']);
  });

  it('updates conditionally and patches', async () => {
    const updated = (await writer.update({ resourceType: 'Patient', searchParams: { identifier: `urn:e2e|${family}` }, body: { ...patient, gender: 'female' } })) as fhir.Patient;
    expect(updated.gender).toBe('female');
    const patched = (await writer.patch({ resourceType: 'Patient', id: updated.id!, jsonPatch: [{ op: 'replace', path: '/gender', value: 'male' }] })) as fhir.Patient;
    expect(patched.gender).toBe('male');
    expect(patched.meta?.versionId).toBe(String(Number(updated.meta!.versionId) + 1));
  });

  it('pages through system history, and a patient-bound client sees only its compartment', async () => {
    const page = await writer.systemHistory();
    const first = page as unknown as fhir.Bundle;
    expect(first.type).toBe('history');
    const next = (await writer.nextPage({ bundle: page as never })) as unknown as fhir.Bundle;
    expect(next.type).toBe('history');
    const mine = (await bound.systemHistory()) as unknown as fhir.Bundle;
    for (const e of mine.entry ?? []) {
      const r = e.resource as { resourceType: string; id: string; subject?: { reference?: string }; patient?: { reference?: string } } | undefined;
      if (!r || ['Organization', 'Practitioner', 'PractitionerRole', 'Location', 'Medication'].includes(r.resourceType)) continue;
      if (r.resourceType === 'Patient') expect(r.id).toBe(DEMO_BOUND_PATIENT_ID);
      else expect(r.subject?.reference ?? r.patient?.reference).toBe(`Patient/${DEMO_BOUND_PATIENT_ID}`);
    }
  });

  it('refuses a read-only client\'s transaction write with 403, at the function (the route is open to every token)', async () => {
    const body = { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: patient, request: { method: 'POST', url: 'Patient' } }] };
    expect(await statusOf(limited.transaction({ body }))).toBe(403);
    expect(await statusOf(bound.transaction({ body }))).toBe(403);
  });

  it('answers HEAD through the gateway without a body, and 304 to If-None-Match', async () => {
    const head = await raw(api, writerToken, 'HEAD', `Patient/${DEMO_BOUND_PATIENT_ID}`);
    expect(head.status).toBe(200);
    expect(head.json).toBeUndefined();
    const etag = head.headers.get('etag')!;
    expect(etag).toMatch(/^W\/"\d+"$/);
    expect((await raw(api, writerToken, 'GET', `Patient/${DEMO_BOUND_PATIENT_ID}`, { headers: { 'If-None-Match': etag } })).status).toBe(304);
  });
});
