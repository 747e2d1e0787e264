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

import {
  CCRI_DEMO_CLIENTS,
  DEFAULT_WRITER_CLIENT_ID,
  DEMO_PATIENT_CLIENT,
  WRITER_SCOPE,
  type DemoClient,
} from '../../contract/demo-clients';

// The clients as data live in contract/ (the CDK stacks name them too); re-exported for the code that seeds them.
export {
  CCRI_DEMO_CLIENTS,
  DEFAULT_WRITER_CLIENT_ID,
  DEMO_BOUND_PATIENT_ID,
  DEMO_CLINICAL_ACCESS_CLIENT,
  DEMO_LIMITED_ACCESS_CLIENT,
  DEMO_PATIENT_ACCESS_CLIENT,
  DEMO_PATIENT_CLIENT,
  WRITER_SCOPE,
  type DemoClient,
} from '../../contract/demo-clients';

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
 * The banner shows every demo secret, so that a first token is one copy-paste away: the CCRI's three and the
 * patient-bound one are public demo values anyway (in the README and the CCRI documentation), the writer's only when
 * it was generated here (one set in CCRI_WRITER_CLIENT_SECRET is the operator's, never printed). This banner is the
 * local runtime's only (`npm start`); a deployment prints no secret. `env` is read when the seeder runs.
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
      ...CCRI_DEMO_CLIENTS.flatMap((c) => [`  ${c.clientId}  ${c.name}: ${c.scope}`, `      secret ${c.clientSecret}`]),
      `  ${DEMO_PATIENT_CLIENT.clientId}  ${DEMO_PATIENT_CLIENT.name}: ${DEMO_PATIENT_CLIENT.scope}`,
      `      secret ${DEMO_PATIENT_CLIENT.clientSecret}`,
      `  ${writer.clientId}  ${writer.name}: ${writer.scope}`,
      generatedSecret
        ? `      secret ${writer.clientSecret}  (generated at this start; set CCRI_WRITER_CLIENT_SECRET to fix it)`
        : '      secret from CCRI_WRITER_CLIENT_SECRET',
    ];
  };
}
