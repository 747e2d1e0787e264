/**
 * Everything the token, authorizer and FHIR functions log during their typical flows (successes, refusals, errors),
 * captured at DEBUG level through the local gateway over real HTTP: every line is structured JSON, and none holds a
 * client secret, an issued access token (or its signature), an Authorization header value or a resource body.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  CCRI_DEMO_CLIENTS,
  DEMO_CLINICAL_ACCESS_CLIENT,
  DEMO_PATIENT_CLIENT,
  type DemoClient,
} from '../../functions/oauth/demo-clients';
import { demoResources } from '../../functions/seed/demo-data';
import { startTestApi, type TestApi } from '../support/local-api';

const WRITER: DemoClient = {
  clientId: 'logs-writer',
  clientSecret: randomBytes(32).toString('base64url'),
  name: 'Writer',
  scope: 'system/*.read system/*.write',
};
/** A string that exists only in resource bodies sent by this test. */
const MARKER = `body-marker-${randomBytes(8).toString('hex')}`;

let api: TestApi;
const captured: string[] = [];
const issuedTokens: string[] = [];
const authorizationValues: string[] = [];
let restore: () => void = () => {};

function capture(): () => void {
  const spies = [
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => (captured.push(String(chunk)), true)),
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: unknown) => (captured.push(String(chunk)), true)),
    ...(['log', 'info', 'warn', 'error', 'debug'] as const).map((m) =>
      vi.spyOn(console, m).mockImplementation((...args: unknown[]) => void captured.push(args.map(String).join(' '))),
    ),
  ];
  return () => spies.forEach((s) => s.mockRestore());
}

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

async function tokenRequest(authorization: string | undefined, body = 'grant_type=client_credentials') {
  if (authorization) authorizationValues.push(authorization);
  const res = await fetch(api.tokenUrl, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...(authorization ? { Authorization: authorization } : {}) },
    body,
  });
  const json = (await res.json()) as { access_token?: string };
  if (json.access_token) issuedTokens.push(json.access_token);
  return { status: res.status, token: json.access_token };
}

async function fhir(token: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const authorization = `Bearer ${token}`;
  authorizationValues.push(authorization);
  const res = await fetch(`${api.fhirBase}/${path}`, {
    method,
    headers: { Authorization: authorization, 'Content-Type': 'application/fhir+json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, any>) : undefined };
}

beforeAll(async () => {
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'DEBUG');
  vi.stubEnv('CCRI_WRITER_CLIENT_ID', WRITER.clientId);
  vi.stubEnv('CCRI_WRITER_CLIENT_SECRET', WRITER.clientSecret);
  restore = capture();
  api = await startTestApi();

  // Token: every demo client, both authentication methods, and refusals.
  for (const client of [...CCRI_DEMO_CLIENTS, DEMO_PATIENT_CLIENT, WRITER]) {
    expect((await tokenRequest(basic(client.clientId, client.clientSecret))).status).toBe(200);
  }
  await tokenRequest(undefined, `grant_type=client_credentials&client_id=${WRITER.clientId}&client_secret=${WRITER.clientSecret}`);
  await tokenRequest(basic(DEMO_CLINICAL_ACCESS_CLIENT.clientId, `${DEMO_CLINICAL_ACCESS_CLIENT.clientSecret}x`));
  await tokenRequest(basic('unknown-client', WRITER.clientSecret));
  await tokenRequest(`Basic ${DEMO_CLINICAL_ACCESS_CLIENT.clientId}:${DEMO_CLINICAL_ACCESS_CLIENT.clientSecret}`);
  await tokenRequest(basic(WRITER.clientId, WRITER.clientSecret), 'grant_type=client_credentials&scope=user/*.*');
  await tokenRequest(basic(WRITER.clientId, WRITER.clientSecret), 'grant_type=password');

  const writer = (await tokenRequest(basic(WRITER.clientId, WRITER.clientSecret))).token!;
  const reader = (await tokenRequest(basic(DEMO_CLINICAL_ACCESS_CLIENT.clientId, DEMO_CLINICAL_ACCESS_CLIENT.clientSecret))).token!;
  const bound = (await tokenRequest(basic(DEMO_PATIENT_CLIENT.clientId, DEMO_PATIENT_CLIENT.clientSecret))).token!;

  // FHIR: create, read, search, update, vread, history, validate, delete, and refusals, with the marker in bodies.
  const { id: _id, ...sample } = demoResources().find((r) => r.resourceType === 'Patient') as unknown as Record<string, any>;
  const body = { ...sample, name: [{ ...sample.name[0], family: MARKER }] };
  const created = await fhir(writer, 'POST', 'Patient', body);
  expect(created.status).toBe(201);
  const id = created.json!.id as string;
  await fhir(writer, 'GET', `Patient/${id}`);
  await fhir(reader, 'GET', `Patient?family=${MARKER}`);
  await fhir(writer, 'PUT', `Patient/${id}`, { ...created.json, gender: 'female' }, { 'If-Match': 'W/"1"' });
  await fhir(writer, 'PUT', `Patient/${id}`, { ...created.json, gender: 'other' }, { 'If-Match': 'W/"1"' }); // 412
  await fhir(writer, 'GET', `Patient/${id}/_history/1`);
  await fhir(writer, 'GET', `Patient/${id}/_history`);
  await fhir(writer, 'POST', 'Patient/$validate', body);
  await fhir(writer, 'POST', 'Patient', { ...body, gender: MARKER }); // 422
  await fhir(writer, 'POST', 'Patient', `{"resourceType":"Patient","name":[{"family":"${MARKER}"`); // 400
  await fhir(writer, 'POST', 'Patient', { ...body, [MARKER]: true }); // unknown element
  await fhir(reader, 'POST', 'Patient', body); // 403 at the gateway
  await fhir(bound, 'GET', 'Patient/2'); // outside the bound compartment
  await fhir(bound, 'GET', 'Condition?patient=1');
  await fhir(`${writer.slice(0, -4)}AAAA`, 'GET', 'Patient/1'); // bad signature: 401
  await fhir(reader, 'GET', `Patient/%25${MARKER}`); // an odd id
  await fhir(writer, 'DELETE', `Patient/${id}`);
  await fhir(writer, 'GET', `Patient/${id}`); // 410
  restore();
}, 120_000);

afterAll(async () => {
  restore();
  vi.unstubAllEnvs();
  await api?.close();
});

describe('the logs of the token, authorizer and FHIR flows', () => {
  const text = () => captured.join('');
  /** Node's own process warnings (e.g. the AWS SDK's Node version notice) are not the functions' logs. */
  const lines = () =>
    captured
      .filter((chunk) => !chunk.startsWith('(node:'))
      .join('')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '');

  it('were captured: the token, authorizer and FHIR functions each logged', () => {
    const services = new Set(lines().map((l) => (JSON.parse(l) as { service: string }).service));
    expect(services).toContain('token');
    expect(services).toContain('authorizer');
    expect(services).toContain('fhir');
    expect(issuedTokens.length).toBeGreaterThan(5);
  });

  it('are structured: every line is a JSON object with level, message, timestamp and service', () => {
    for (const line of lines()) {
      let parsed: Record<string, unknown> | undefined;
      try {
        parsed = JSON.parse(line) as Record<string, unknown>;
      } catch {
        parsed = undefined;
      }
      expect(parsed, line.slice(0, 200)).toMatchObject({
        level: expect.any(String),
        message: expect.any(String),
        timestamp: expect.any(String),
        service: expect.any(String),
      });
    }
  });

  it('never hold a client secret', () => {
    for (const client of [...CCRI_DEMO_CLIENTS, DEMO_PATIENT_CLIENT, WRITER]) expect(text()).not.toContain(client.clientSecret);
  });

  it('never hold an issued access token, nor its signature', () => {
    for (const token of issuedTokens) {
      expect(text()).not.toContain(token);
      expect(text()).not.toContain(token.split('.')[2]!);
    }
  });

  it('never hold an Authorization header value', () => {
    for (const value of authorizationValues) {
      expect(text()).not.toContain(value);
      expect(text()).not.toContain(value.split(' ')[1]!);
    }
  });

  it('never hold a resource body', () => {
    expect(text()).not.toContain(MARKER);
  });
});
