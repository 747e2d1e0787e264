/**
 * Test fixture: the CCRI's three demo clients' exact registered scopes (reference/CCRI-FACTS.md) and what each may
 * do, written out by hand as the expected truth for the table-driven tests (unit and through the local gateway).
 */
import type { Interaction } from '../../contract/routes';
import type { ResourceType } from '../../contract/resource-types';

export interface DemoClientExpectation {
  name: string;
  clientId: string;
  scope: string;
  /** Types the client may read and search on the whole type, without a bound patient, non-strict. */
  readable: readonly ResourceType[];
  /** Of those, the types readable only through patient/ scopes (refused in strict mode without a bound patient). */
  patientOnly: readonly ResourceType[];
}

const PUBLIC: readonly ResourceType[] = ['Organization', 'Practitioner', 'PractitionerRole', 'Location', 'Medication'];

export const DEMO_CLIENTS: readonly DemoClientExpectation[] = [
  {
    name: 'Patient Access',
    clientId: 'a24a4d9f-c264-4af7-a8e5-248c24a6b707',
    scope: 'profile patient/Patient.read user/Patient.read',
    readable: ['Patient', ...PUBLIC],
    patientOnly: [],
  },
  {
    name: 'Patient, Condition & Medication Access',
    clientId: 'ed73b2cb-abd0-4f75-b9a2-5f9c0535b82c',
    scope:
      'user/MedicationStatement.read patient/Immunization.read user/Patient.read patient/Condition.read user/MedicationOrder.read user/Condition.read user/Encounter.read profile patient/MedicationOrder.read patient/Patient.read patient/Observation.read patient/Encounter.read',
    readable: [
      'Patient',
      'Condition',
      'Encounter',
      'MedicationStatement',
      'MedicationRequest',
      'Immunization',
      'Observation',
      ...PUBLIC,
    ],
    patientOnly: ['Immunization', 'Observation'],
  },
  {
    name: 'Limited Access',
    clientId: '256fcc31-97bd-47d4-acbf-12409676ad5a',
    scope: 'profile',
    readable: PUBLIC,
    patientOnly: [],
  },
];

export const READ_INTERACTIONS: readonly Interaction[] = ['read', 'vread', 'history-instance', 'history-type', 'search-type', 'search-compartment', 'everything'];
export const WRITE_INTERACTIONS: readonly Interaction[] = ['create', 'update', 'delete', 'validate'];
export const ALL_INTERACTIONS: readonly Interaction[] = [...READ_INTERACTIONS, ...WRITE_INTERACTIONS];
