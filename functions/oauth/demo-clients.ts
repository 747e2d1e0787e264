/**
 * The demo OAuth clients and their seeding.
 *
 * - The three clients of the CCRI "Security Scopes" page, with their exact ids, secrets and scopes, so that the
 *   CCRI's published walkthrough works unchanged against this API. None is bound to a patient.
 * - A patient-bound client (`DEMO_PATIENT_CLIENT`): bound to Patient `1` of the demo data, scope `patient/*.read`;
 *   its tokens carry `patient: "1"`, so the API restricts it to that patient's compartment (SMART launch context).
 * - A read-write client (`writerClientFromEnv`) for creating and updating resources: scopes
 *   `system/*.read system/*.write`. `system/` because client_credentials is a backend-service grant with no user
 *   (SMART Backend Services); read and write registered as two scopes (not `system/*.*`) so that a caller can ask
 *   for a read-only token of it with `scope=system/*.read` (scope narrowing is by registered scope string).
 *   Its id and secret come from CCRI_WRITER_CLIENT_ID / CCRI_WRITER_CLIENT_SECRET; without them, a fixed id and a
 *   secret generated at start (so no write-capable secret is ever published).
 *
 * The plaintext secrets exist only here (they are public demo values) and in the environment; the store holds hashes.
 */
import { randomBytes } from 'node:crypto';
import type { ClientRecord, ClientStore } from './clients';
import { hashClientSecret } from './clients';

/** A demo client as configured: plaintext secret, scopes as one space-separated string. */
export interface DemoClient {
  clientId: string;
  clientSecret: string;
  name: string;
  /** Space-separated registered scopes. */
  scope: string;
  /** The bound patient id, if any. */
  patient?: string;
}

/** CCRI "Patient Access": can only access the patient profiles. */
export const DEMO_PATIENT_ACCESS_CLIENT: DemoClient = {
  clientId: 'a24a4d9f-c264-4af7-a8e5-248c24a6b707',
  clientSecret: 'MMpAOGBljYcEzBfn7q9-xgJqBlmR0BSiEyCrCjNNOUpR78kZtzqgKKU_4FgGRFNWbtc6jPIErLwoYwRgnlvijA',
  name: 'Patient Access',
  scope: 'profile patient/Patient.read user/Patient.read',
};

/** CCRI "Patient, Condition & Medication Access". */
export const DEMO_CLINICAL_ACCESS_CLIENT: DemoClient = {
  clientId: 'ed73b2cb-abd0-4f75-b9a2-5f9c0535b82c',
  clientSecret: 'QOm0VcqJqa9stA1R0MJzHjCN_uYdo0PkY8OT68UCk2XDFxFrAUjajuqOvIom5dISjKshx2YiU51mXtx7W5UOwQ',
  name: 'Patient, Condition & Medication Access',
  scope:
    'user/MedicationStatement.read patient/Immunization.read user/Patient.read patient/Condition.read ' +
    'user/MedicationOrder.read user/Condition.read user/Encounter.read profile patient/MedicationOrder.read ' +
    'patient/Patient.read patient/Observation.read patient/Encounter.read',
};

/** CCRI "Limited Access": can only access Publicly Available Information. */
export const DEMO_LIMITED_ACCESS_CLIENT: DemoClient = {
  clientId: '256fcc31-97bd-47d4-acbf-12409676ad5a',
  clientSecret: 'AI8OGCYWjvnj-NY0zaP0H2e6_El_yO2pq43wK4YKk8UnBR_JZ5ivkmkXFtlkiL6LKWsL8H7ksab0V_Hk9c4OeMI',
  name: 'Limited Access',
  scope: 'profile',
};

/** The CCRI's three demo clients, exactly as its security-scopes page lists them. */
export const CCRI_DEMO_CLIENTS: readonly DemoClient[] = [
  DEMO_PATIENT_ACCESS_CLIENT,
  DEMO_CLINICAL_ACCESS_CLIENT,
  DEMO_LIMITED_ACCESS_CLIENT,
];

/** The id of the demo Patient the patient-bound client is bound to. */
export const DEMO_BOUND_PATIENT_ID = '1';

/**
 * Bound to Patient 1: `patient/*.read` lets it read every type, but only within that patient's compartment.
 * A public demo secret like the CCRI's own (read-only, synthetic data).
 */
export const DEMO_PATIENT_CLIENT: DemoClient = {
  clientId: 'ccri-demo-patient-1',
  clientSecret: 'n3Qm4lV0c1sQ8Yk2pT7wRz-Hh5uJ9bEaXo6dGf_KiLyNvCqWtMe0PrS4jUgAz8Bx',
  name: 'Patient 1 app (bound to Patient/1)',
  scope: 'patient/*.read',
  patient: DEMO_BOUND_PATIENT_ID,
};

/** The writer's id when CCRI_WRITER_CLIENT_ID is not set. */
export const DEFAULT_WRITER_CLIENT_ID = 'ccri-demo-writer';

/** The writer's registered scopes. */
export const WRITER_SCOPE = 'system/*.read system/*.write';

/**
 * The read-write demo client: id and secret from CCRI_WRITER_CLIENT_ID / CCRI_WRITER_CLIENT_SECRET, else
 * `ccri-demo-writer` and a fresh random secret (`generatedSecret: true`: show it to the person who started the
 * API, since it is nowhere else).
 */
export function writerClientFromEnv(
  env: Record<string, string | undefined> = process.env,
): DemoClient & { generatedSecret: boolean } {
  const secret = env.CCRI_WRITER_CLIENT_SECRET;
  return {
    clientId: env.CCRI_WRITER_CLIENT_ID || DEFAULT_WRITER_CLIENT_ID,
    clientSecret: secret || randomBytes(48).toString('base64url'),
    name: 'Writer (read-write demo client)',
    scope: WRITER_SCOPE,
    generatedSecret: !secret,
  };
}

/**
 * The demo clients for a deployment: the CCRI's three, the patient-bound one, and the writer only when
 * CCRI_WRITER_CLIENT_SECRET is set (a generated secret nobody is shown would make a client nobody can use).
 * The local runtime seeds the writer always, showing a generated secret in its banner: `localDemoClientsSeeder`.
 */
export function demoClients(env: Record<string, string | undefined> = process.env): DemoClient[] {
  const { generatedSecret, ...writer } = writerClientFromEnv(env);
  return [...CCRI_DEMO_CLIENTS, DEMO_PATIENT_CLIENT, ...(generatedSecret ? [] : [writer])];
}

/** The stored record of a demo client (secret hashed, both secret-based methods allowed, enabled). */
export function demoClientRecord(client: DemoClient, now: Date = new Date()): ClientRecord {
  const record: ClientRecord = {
    clientId: client.clientId,
    name: client.name,
    secrets: [hashClientSecret(client.clientSecret)],
    scopes: client.scope.split(' ').filter((s) => s !== ''),
    enabled: true,
    authMethods: ['client_secret_basic', 'client_secret_post'],
    createdAt: now.toISOString(),
  };
  if (client.patient !== undefined) record.patient = client.patient;
  return record;
}

/**
 * Puts the clients into the store, replacing any record with the same id: running it again converges on the same
 * clients (idempotent), e.g. at every `npm start` or deployment.
 */
export async function seedClients(store: ClientStore, clients: readonly DemoClient[]): Promise<void> {
  for (const client of clients) await store.put(demoClientRecord(client));
}

/**
 * The local runtime's seeder (`npm start`, tests): seeds every demo client and returns the start-up banner lines.
 * The banner shows the secrets of the local-only clients (the patient-bound one, and the writer's when it was
 * generated here); the CCRI's published secrets are in the README. `env` is read when the seeder runs.
 */
export function localDemoClientsSeeder(
  store: ClientStore,
  env: Record<string, string | undefined> = process.env,
): () => Promise<string[]> {
  return async () => {
    const writer = writerClientFromEnv(env);
    const { generatedSecret, ...writerClient } = writer;
    await seedClients(store, [...CCRI_DEMO_CLIENTS, DEMO_PATIENT_CLIENT, writerClient]);
    return [
      'Demo OAuth clients (grant_type=client_credentials; Basic auth or client_id/client_secret in the form):',
      ...CCRI_DEMO_CLIENTS.map((c) => `  ${c.clientId}  ${c.name}: ${c.scope}`),
      `  ${DEMO_PATIENT_CLIENT.clientId}  ${DEMO_PATIENT_CLIENT.name}: ${DEMO_PATIENT_CLIENT.scope}`,
      `      secret ${DEMO_PATIENT_CLIENT.clientSecret}`,
      `  ${writer.clientId}  ${writer.name}: ${writer.scope}`,
      generatedSecret
        ? `      secret ${writer.clientSecret}  (generated at this start; set CCRI_WRITER_CLIENT_SECRET to fix it)`
        : '      secret from CCRI_WRITER_CLIENT_SECRET',
    ];
  };
}
