/**
 * STRICT_PATIENT_SCOPES=true through the local gateway: patient/ scopes of a token without a bound patient allow
 * nothing, while user/ scopes and patient-bound tokens work as before.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CCRI_DEMO_CLIENTS, DEMO_PATIENT_CLIENT } from '../../functions/oauth/demo-clients';
import { startTestApi, type TestApi } from '../support/local-api';

let api: TestApi;
const saved = process.env.STRICT_PATIENT_SCOPES;

beforeAll(async () => {
  process.env.STRICT_PATIENT_SCOPES = 'true';
  api = await startTestApi();
});

afterAll(async () => {
  await api?.close();
  if (saved === undefined) delete process.env.STRICT_PATIENT_SCOPES;
  else process.env.STRICT_PATIENT_SCOPES = saved;
});

async function tokenFor(client: { clientId: string; clientSecret: string }): Promise<string> {
  const response = await fetch(api.tokenUrl, {
    method: 'POST',
    headers: {
      Authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`,
      'Content-Type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { access_token: string }).access_token;
}

const get = async (path: string, token: string) =>
  (await fetch(`${api.baseUrl}${path}`, { headers: { Authorization: `Bearer ${token}`, Accept: 'application/fhir+json' } })).status;

describe('strict patient scopes', () => {
  const clinical = CCRI_DEMO_CLIENTS.find((c) => c.clientId === 'ed73b2cb-abd0-4f75-b9a2-5f9c0535b82c')!;

  it.each(['/STU3/Immunization', '/STU3/Immunization/1', '/STU3/Observation', '/STU3/Observation/1'])(
    'refuse the unbound clinical client %s, which it holds only through patient/ scopes',
    async (path) => {
      expect(await get(path, await tokenFor(clinical))).toBe(403);
    },
  );

  it.each(['/STU3/Patient', '/STU3/Condition', '/STU3/MedicationRequest', '/STU3/Organization'])(
    'still let the unbound clinical client through on %s (user/ scopes and public information)',
    async (path) => {
      expect(await get(path, await tokenFor(clinical))).toBe(200);
    },
  );

  it('keep the patient-bound client inside its compartment', async () => {
    const token = await tokenFor(DEMO_PATIENT_CLIENT);
    expect(await get('/STU3/Observation', token)).toBe(200);
    expect(await get('/STU3/Patient/1', token)).toBe(200);
  });
});
