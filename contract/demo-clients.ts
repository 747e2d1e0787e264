/**
 * The demo OAuth clients as data (no secrets hashed, no store): the CCRI's three with their published ids, secrets
 * and scopes, the patient-bound one, and the writer's id and scopes. Shared by the CDK stacks (lib/api-stack.ts
 * names them in the demo-data warning and removes exactly these ids when demo data is off) and the functions that
 * seed them (functions/oauth/demo-clients.ts, functions/seed/clients.ts). Why each exists: functions/oauth/demo-clients.ts.
 */

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
 * Every client the demo data seeds, by id: the CCRI's three (published secrets), the patient-bound one (published
 * secret) and the writer. Turning demo data off removes exactly these from the Clients table.
 */
export function demoClientIds(writerClientId: string = DEFAULT_WRITER_CLIENT_ID): string[] {
  return [...CCRI_DEMO_CLIENTS.map((c) => c.clientId), DEMO_PATIENT_CLIENT.clientId, writerClientId];
}
