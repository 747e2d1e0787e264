/**
 * Size limits through the local gateway over real HTTP: the token route's 8 KB form cap, the FHIR routes' 256 KB
 * body cap, API Gateway's own 10 MB payload limit, and resources whose stored items would pass DynamoDB's 400 KB
 * item limit or its 100-item transaction limit: each a clear 413/422 with the route's error shape, never a 5xx.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_BODY_BYTES } from '../../functions/fhir/http';
import { MAX_TOKEN_REQUEST_BYTES } from '../../functions/oauth/client-auth';
import { DEMO_LIMITED_ACCESS_CLIENT as CLIENT } from '../../functions/oauth/demo-clients';
import { demoResources } from '../../functions/seed/demo-data';
import { startTestApi, type TestApi } from '../support/local-api';

let api: TestApi;
let token: string;
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

beforeAll(async () => {
  process.env.CCRI_WRITER_CLIENT_ID = 'limits-writer';
  process.env.CCRI_WRITER_CLIENT_SECRET = randomBytes(24).toString('base64url');
  api = await startTestApi();
  const res = await fetch(api.tokenUrl, {
    method: 'POST',
    headers: { Authorization: basic(process.env.CCRI_WRITER_CLIENT_ID, process.env.CCRI_WRITER_CLIENT_SECRET), 'Content-Type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  token = ((await res.json()) as { access_token: string }).access_token;
});

afterAll(async () => {
  await api?.close();
});

async function post(url: string, body: string, headers: Record<string, string>) {
  const res = await fetch(url, { method: 'POST', headers, body });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, headers: res.headers, json };
}

const { id: _id, ...samplePatient } = demoResources().find((r) => r.resourceType === 'Patient') as unknown as Record<string, any>;

describe('the token route', () => {
  it(`refuses a form over ${MAX_TOKEN_REQUEST_BYTES} bytes with 413 invalid_request`, async () => {
    const res = await post(api.tokenUrl, `grant_type=client_credentials&pad=${'x'.repeat(MAX_TOKEN_REQUEST_BYTES)}`, {
      Authorization: basic(CLIENT.clientId, CLIENT.clientSecret),
      'Content-Type': 'application/x-www-form-urlencoded',
    });
    expect(res.status).toBe(413);
    expect(res.json).toEqual({ error: 'invalid_request', error_description: expect.any(String) });
  });

  it('answers a body over API Gateway’s 10 MB with the gateway’s 413 OperationOutcome', async () => {
    const res = await post(api.tokenUrl, 'x'.repeat(10 * 1024 * 1024 + 1), { 'Content-Type': 'application/x-www-form-urlencoded' });
    expect(res.status).toBe(413);
    expect(res.json).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'too-costly' }] });
  });

  it('answers an over-long client id like any unknown client (401), not as an outage', async () => {
    const res = await post(api.tokenUrl, 'grant_type=client_credentials', {
      Authorization: basic('x'.repeat(5000), 'secret'),
      'Content-Type': 'application/x-www-form-urlencoded',
    });
    expect(res.status).toBe(401);
    expect(res.json).toEqual({ error: 'invalid_client', error_description: 'Client authentication failed.' });
  });
});

describe('the FHIR routes', () => {
  const headers = () => ({ Authorization: `Bearer ${token}`, 'Content-Type': 'application/fhir+json' });
  const oversize = JSON.stringify({ ...samplePatient, text: { status: 'generated', div: `<div>${'x'.repeat(DEFAULT_MAX_BODY_BYTES)}</div>` } });

  it.each([
    ['create', 'POST', 'Patient'],
    ['update', 'PUT', 'Patient/big-1'],
    ['$validate', 'POST', 'Patient/$validate'],
  ])(`refuses a %s body over ${DEFAULT_MAX_BODY_BYTES} bytes with 413 and an OperationOutcome`, async (_name, method, path) => {
    const body = path.startsWith('Patient/big') ? JSON.stringify({ ...JSON.parse(oversize), id: 'big-1' }) : oversize;
    const res = await fetch(`${api.fhirBase}/${path}`, { method, headers: headers(), body });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error' }] });
  });

  it('answers a body over API Gateway’s 10 MB with the gateway’s 413 OperationOutcome', async () => {
    const res = await post(`${api.fhirBase}/Patient`, 'x'.repeat(10 * 1024 * 1024 + 1), headers());
    expect(res.status).toBe(413);
    expect(res.json).toMatchObject({ resourceType: 'OperationOutcome' });
  });

  it('stores a resource just under the body cap (its items stay under DynamoDB’s 400 KB)', async () => {
    const pad = DEFAULT_MAX_BODY_BYTES - JSON.stringify(samplePatient).length - 2_000;
    const body = JSON.stringify({ ...samplePatient, text: { status: 'generated', div: `<div>${'y'.repeat(pad)}</div>` } });
    const res = await post(`${api.fhirBase}/Patient`, body, headers());
    expect(res.status).toBe(201);
  });

  it('refuses with 413 a PATCH whose copies would grow the resource past the body cap (each copy doubling it), before it grows', async () => {
    const created = await post(`${api.fhirBase}/Patient`, JSON.stringify(samplePatient), headers());
    expect(created.status).toBe(201);
    const ops = Array.from({ length: 24 }, () => ({ op: 'copy', from: '/name', path: '/name/-' }));
    const res = await fetch(`${api.fhirBase}/Patient/${created.json.id}`, {
      method: 'PATCH',
      headers: { ...headers(), 'Content-Type': 'application/json-patch+json' },
      body: JSON.stringify(ops),
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'too-costly' }] });
  });

  it('refuses a resource under the body cap whose search index would pass DynamoDB’s item or transaction limits with 413', async () => {
    // ~180 KB of distinct names: one index entry each, far more than one 100-item transaction and a large index.
    const names = [
      samplePatient.name[0],
      ...Array.from({ length: 3_000 }, (_, i) => ({ use: 'usual', family: `F${i}${'q'.repeat(20)}`, given: [`G${i}`] })),
    ];
    const body = JSON.stringify({ ...samplePatient, name: names });
    expect(Buffer.byteLength(body)).toBeLessThan(DEFAULT_MAX_BODY_BYTES);
    const res = await post(`${api.fhirBase}/Patient`, body, headers());
    expect(res.status).toBe(413);
    expect(res.json).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'too-costly' }] });
  });
});
