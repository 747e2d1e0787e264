import { describe, expect, it } from 'vitest';
import { InMemoryClientStore, secretMatches } from './clients';
import {
  CCRI_DEMO_CLIENTS,
  DEFAULT_WRITER_CLIENT_ID,
  DEMO_PATIENT_CLIENT,
  demoClientRecord,
  demoClients,
  localDemoClientsSeeder,
  writerClientFromEnv,
} from './demo-clients';

describe('the CCRI demo clients', () => {
  // Pinned from the CCRI security-scopes page: a change here breaks the CCRI's published walkthrough.
  it.each([
    [
      'a24a4d9f-c264-4af7-a8e5-248c24a6b707',
      'MMpAOGBljYcEzBfn7q9-xgJqBlmR0BSiEyCrCjNNOUpR78kZtzqgKKU_4FgGRFNWbtc6jPIErLwoYwRgnlvijA',
      'profile patient/Patient.read user/Patient.read',
    ],
    [
      'ed73b2cb-abd0-4f75-b9a2-5f9c0535b82c',
      'QOm0VcqJqa9stA1R0MJzHjCN_uYdo0PkY8OT68UCk2XDFxFrAUjajuqOvIom5dISjKshx2YiU51mXtx7W5UOwQ',
      'user/MedicationStatement.read patient/Immunization.read user/Patient.read patient/Condition.read user/MedicationOrder.read user/Condition.read user/Encounter.read profile patient/MedicationOrder.read patient/Patient.read patient/Observation.read patient/Encounter.read',
    ],
    [
      '256fcc31-97bd-47d4-acbf-12409676ad5a',
      'AI8OGCYWjvnj-NY0zaP0H2e6_El_yO2pq43wK4YKk8UnBR_JZ5ivkmkXFtlkiL6LKWsL8H7ksab0V_Hk9c4OeMI',
      'profile',
    ],
  ])('%s keeps its exact secret and scopes, and no bound patient', (clientId, clientSecret, scope) => {
    const client = CCRI_DEMO_CLIENTS.find((c) => c.clientId === clientId);
    expect(client).toMatchObject({ clientId, clientSecret, scope });
    expect(client?.patient).toBeUndefined();
  });

  it('are three', () => {
    expect(CCRI_DEMO_CLIENTS).toHaveLength(3);
  });
});

describe('demoClientRecord', () => {
  it('stores the secret as a hash that matches it, the scopes as a list, both secret methods, enabled', () => {
    const record = demoClientRecord(DEMO_PATIENT_CLIENT);
    expect(record).toMatchObject({
      clientId: 'ccri-demo-patient-1',
      scopes: ['patient/*.read'],
      patient: '1',
      enabled: true,
      authMethods: ['client_secret_basic', 'client_secret_post'],
    });
    expect(JSON.stringify(record)).not.toContain(DEMO_PATIENT_CLIENT.clientSecret);
    expect(secretMatches(record.secrets, DEMO_PATIENT_CLIENT.clientSecret, new Date())).toBe(true);
  });
});

describe('the writer client', () => {
  it('takes its id and secret from CCRI_WRITER_CLIENT_ID / CCRI_WRITER_CLIENT_SECRET', () => {
    expect(writerClientFromEnv({ CCRI_WRITER_CLIENT_ID: 'w', CCRI_WRITER_CLIENT_SECRET: 's3cret' })).toMatchObject({
      clientId: 'w',
      clientSecret: 's3cret',
      scope: 'system/*.read system/*.write',
      generatedSecret: false,
    });
  });

  it('is left out of a deployment without CCRI_WRITER_CLIENT_SECRET, and in with it', () => {
    expect(demoClients({}).map((c) => c.clientId)).not.toContain(DEFAULT_WRITER_CLIENT_ID);
    expect(demoClients({ CCRI_WRITER_CLIENT_SECRET: 'x' }).map((c) => c.clientId)).toContain(DEFAULT_WRITER_CLIENT_ID);
    expect(demoClients({})).toHaveLength(4);
  });

  it('falls back to a fixed id and a generated high-entropy secret', () => {
    const a = writerClientFromEnv({});
    const b = writerClientFromEnv({});
    expect(a.clientId).toBe(DEFAULT_WRITER_CLIENT_ID);
    expect(a.generatedSecret).toBe(true);
    expect(a.clientSecret).toMatch(/^[A-Za-z0-9_-]{64}$/);
    expect(a.clientSecret).not.toBe(b.clientSecret);
  });
});

describe('seeding', () => {
  it('seeds the CCRI clients, the patient-bound client and the writer, and shows every public demo secret, not the operator’s', async () => {
    const store = new InMemoryClientStore();
    const lines = await localDemoClientsSeeder(store, { CCRI_WRITER_CLIENT_SECRET: 'from-env' })();
    for (const client of demoClients({ CCRI_WRITER_CLIENT_SECRET: 'from-env' })) {
      const record = await store.get(client.clientId);
      expect(record?.scopes.join(' ')).toBe(client.scope);
      expect(secretMatches(record!.secrets, client.clientSecret, new Date())).toBe(true);
    }
    expect(lines.join('\n')).toContain(DEMO_PATIENT_CLIENT.clientSecret);
    // The CCRI's published secrets too: one copy-paste from the banner to a first token.
    for (const client of CCRI_DEMO_CLIENTS) expect(lines.join('\n')).toContain(`${client.clientId}  ${client.name}: ${client.scope}\n      secret ${client.clientSecret}`);
    expect(lines.join('\n')).not.toContain('from-env');
  });

  it('shows a generated writer secret in the banner, since it is nowhere else', async () => {
    const store = new InMemoryClientStore();
    const lines = await localDemoClientsSeeder(store, {})();
    const secret = /secret (\S+)\s+\(generated/.exec(lines.join('\n'))?.[1];
    const writer = await store.get(DEFAULT_WRITER_CLIENT_ID);
    expect(secretMatches(writer!.secrets, secret!, new Date())).toBe(true);
  });
});
