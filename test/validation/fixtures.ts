/**
 * One conformant resource of each of the 14 types (STU3 and its Care Connect profile), made up for the tests.
 * Tests clone one with `fixture(type)` and change it to break exactly one rule.
 */
import type { ResourceType } from '../../contract/resource-types';

export type Json = Record<string, any>;

export const SNOMED = 'http://snomed.info/sct';
export const NHS_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';
export const VERIFICATION_URL =
  'https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-NHSNumberVerificationStatus-1';
export const VERIFICATION_SYSTEM = 'https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-NHSNumberVerificationStatus-1';
export const ETHNIC_URL = 'https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-EthnicCategory-1';
export const ETHNIC_SYSTEM = 'https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-EthnicCategory-1';
/** A valid NHS number from the test range (Modulus 11 check digit 9). */
export const NHS_NUMBER = '9434765919';

const localId = (type: string) => [{ system: `https://example.org/Id/${type}`, value: `${type}-1` }];

const FIXTURES: Record<ResourceType, Json> = {
  Patient: {
    resourceType: 'Patient',
    id: 'p1',
    meta: { versionId: '1', lastUpdated: '2024-01-01T00:00:00Z', profile: ['https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Patient-1'] },
    text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Ann Smith</div>' },
    extension: [
      { url: ETHNIC_URL, valueCodeableConcept: { coding: [{ system: ETHNIC_SYSTEM, code: 'A', display: 'British, Mixed British' }] } },
    ],
    identifier: [
      {
        system: NHS_SYSTEM,
        value: NHS_NUMBER,
        extension: [
          {
            url: VERIFICATION_URL,
            valueCodeableConcept: { coding: [{ system: VERIFICATION_SYSTEM, code: '01', display: 'Number present and verified' }] },
          },
        ],
      },
      { system: 'https://example.org/Id/pas', value: 'PAS1' },
    ],
    active: true,
    name: [
      { use: 'official', family: 'Smith', given: ['Ann'], prefix: ['Mrs'] },
      { use: 'nickname', given: ['Annie'] },
    ],
    telecom: [{ system: 'phone', value: '0113 496 0000', use: 'home' }],
    gender: 'female',
    birthDate: '1970-02-28',
    deceasedBoolean: false,
    address: [{ use: 'home', line: ['1 Park Row'], city: 'Leeds', postalCode: 'LS1 5AB', country: 'GB' }],
    maritalStatus: { coding: [{ system: 'http://hl7.org/fhir/v3/MaritalStatus', code: 'M', display: 'Married' }] },
    contact: [{ name: { use: 'official', family: 'Smith', given: ['John'] }, gender: 'male', telecom: [{ system: 'phone', value: '0113 496 0001' }] }],
    generalPractitioner: [{ reference: 'Organization/o1' }, { reference: 'Practitioner/pr1' }],
    managingOrganization: { reference: 'Organization/o1', display: 'The Moorings Medical Practice' },
  },
  Practitioner: {
    resourceType: 'Practitioner',
    id: 'pr1',
    identifier: [{ system: 'https://fhir.nhs.uk/Id/sds-user-id', value: 'G8000001' }],
    active: true,
    name: [{ use: 'official', family: 'Bhatt', given: ['Priya'], prefix: ['Dr'] }],
    gender: 'female',
    address: [{ use: 'work', city: 'Leeds', postalCode: 'LS1 4AP' }],
  },
  PractitionerRole: {
    resourceType: 'PractitionerRole',
    id: 'r1',
    active: true,
    period: { start: '2020-01-01', end: '2030-01-01' },
    practitioner: { reference: 'Practitioner/pr1' },
    organization: { reference: 'Organization/o1' },
    code: [
      {
        coding: [
          { system: 'https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-SDSJobRoleName-1', code: 'R0260', display: 'General Medical Practitioner' },
        ],
      },
    ],
    location: [{ reference: 'Location/l1' }],
  },
  Organization: {
    resourceType: 'Organization',
    id: 'o1',
    identifier: [{ system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'A81001' }],
    active: true,
    name: 'The Moorings Medical Practice',
    telecom: [{ system: 'phone', value: '0113 496 0000', use: 'work' }],
    address: [{ line: ['1 Park Row'], city: 'Leeds', postalCode: 'LS1 4AP' }],
    contact: [{ name: { family: 'Jones' } }],
  },
  Location: {
    resourceType: 'Location',
    id: 'l1',
    identifier: [{ system: 'https://fhir.nhs.uk/Id/ods-site-code', value: 'RR813' }],
    status: 'active',
    name: "St James's University Hospital",
    mode: 'instance',
    address: { city: 'Leeds', postalCode: 'LS9 7TF' },
    position: { longitude: -1.52, latitude: 53.81 },
    managingOrganization: { reference: 'Organization/o1' },
  },
  Encounter: {
    resourceType: 'Encounter',
    id: 'e1',
    identifier: localId('encounter'),
    status: 'finished',
    class: { system: 'http://hl7.org/fhir/v3/ActCode', code: 'AMB', display: 'ambulatory' },
    type: [{ coding: [{ system: SNOMED, code: '11429006', display: 'Consultation' }] }],
    subject: { reference: 'Patient/p1' },
    participant: [{ individual: { reference: 'Practitioner/pr1' } }],
    period: { start: '2020-01-01T09:00:00Z', end: '2020-01-01T09:15:00Z' },
    serviceProvider: { reference: 'Organization/o1' },
  },
  Condition: {
    resourceType: 'Condition',
    id: 'c1',
    identifier: localId('condition'),
    clinicalStatus: 'active',
    category: [
      { coding: [{ system: 'https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-ConditionCategory-1', code: 'problem-list-item', display: 'Problem List Item' }] },
    ],
    code: { coding: [{ system: SNOMED, code: '44054006', display: 'Diabetes mellitus type 2' }], text: 'Type 2 diabetes' },
    subject: { reference: 'Patient/p1' },
    context: { reference: 'Encounter/e1' },
    onsetDateTime: '2015-06-01T09:30:00+01:00',
    assertedDate: '2015-06-02',
    asserter: { reference: 'Practitioner/pr1' },
    note: [{ text: 'Diet controlled', time: '2015-06-02T10:00:00Z' }],
  },
  Procedure: {
    resourceType: 'Procedure',
    id: 'pc1',
    identifier: localId('procedure'),
    status: 'completed',
    code: { coding: [{ system: SNOMED, code: '80146002', display: 'Appendectomy' }] },
    subject: { reference: 'Patient/p1' },
    performedDateTime: '2019-03-04',
    performer: [{ actor: { reference: 'Practitioner/pr1' } }],
    location: { reference: 'Location/l1' },
  },
  Immunization: {
    resourceType: 'Immunization',
    id: 'i1',
    identifier: localId('immunization'),
    status: 'completed',
    notGiven: false,
    vaccineCode: { coding: [{ system: SNOMED, code: '396425006', display: 'Influenza virus vaccine' }] },
    patient: { reference: 'Patient/p1' },
    date: '2020-10-01',
    primarySource: true,
    site: { coding: [{ system: SNOMED, code: '368208006', display: 'Left upper arm structure' }] },
    doseQuantity: { value: 0.5, unit: 'ml', system: 'http://unitsofmeasure.org', code: 'mL' },
    vaccinationProtocol: [{ doseSequence: 1, doseStatus: { coding: [{ system: 'http://hl7.org/fhir/vaccination-protocol-dose-status', code: 'count', display: 'Counts' }] }, targetDisease: [{ coding: [{ system: SNOMED, code: '6142004', display: 'Influenza' }] }] }],
  },
  MedicationRequest: {
    resourceType: 'MedicationRequest',
    id: 'mr1',
    identifier: localId('prescription'),
    status: 'active',
    intent: 'order',
    medicationReference: { reference: 'Medication/m1' },
    subject: { reference: 'Patient/p1' },
    authoredOn: '2020-01-01T10:00:00Z',
    requester: { agent: { reference: 'Practitioner/pr1' } },
    dosageInstruction: [{ text: '1 tablet four times a day', route: { coding: [{ system: SNOMED, code: '26643006', display: 'Oral route' }] } }],
    dispenseRequest: { numberOfRepeatsAllowed: 2 },
  },
  MedicationStatement: {
    resourceType: 'MedicationStatement',
    id: 'ms1',
    identifier: localId('medication-statement'),
    status: 'active',
    medicationReference: { reference: 'Medication/m1' },
    effectivePeriod: { start: '2020-01-01' },
    subject: { reference: 'Patient/p1' },
    taken: 'y',
    dosage: [{ text: 'As needed' }],
  },
  AllergyIntolerance: {
    resourceType: 'AllergyIntolerance',
    id: 'a1',
    identifier: localId('allergy'),
    clinicalStatus: 'active',
    verificationStatus: 'confirmed',
    type: 'allergy',
    category: ['medication'],
    criticality: 'high',
    code: { coding: [{ system: SNOMED, code: '91936005', display: 'Allergy to penicillin' }] },
    patient: { reference: 'Patient/p1' },
    assertedDate: '2010-05-05',
    reaction: [{ manifestation: [{ coding: [{ system: SNOMED, code: '271807003', display: 'Eruption of skin' }] }], severity: 'moderate' }],
  },
  Medication: {
    resourceType: 'Medication',
    id: 'm1',
    code: { coding: [{ system: SNOMED, code: '42109611000001109', display: 'Paracetamol 500mg tablets' }] },
    status: 'active',
    isBrand: false,
    form: { coding: [{ system: SNOMED, code: '385055001', display: 'Tablet' }] },
    ingredient: [
      {
        itemCodeableConcept: { coding: [{ system: SNOMED, code: '387517004', display: 'Paracetamol' }] },
        isActive: true,
        amount: {
          numerator: { value: 500, unit: 'mg', system: 'http://unitsofmeasure.org', code: 'mg' },
          denominator: { value: 1, unit: 'tablet' },
        },
      },
    ],
    package: { content: [{ itemReference: { reference: 'Medication/m2' }, amount: { value: 32, unit: 'tablet' } }] },
  },
  Observation: {
    resourceType: 'Observation',
    id: 'ob1',
    identifier: localId('observation'),
    status: 'final',
    category: [{ coding: [{ system: 'http://hl7.org/fhir/observation-category', code: 'vital-signs', display: 'Vital Signs' }] }],
    code: { coding: [{ system: SNOMED, code: '27113001', display: 'Body weight' }] },
    subject: { reference: 'Patient/p1' },
    effectiveDateTime: '2020-01-01T10:00:00Z',
    issued: '2020-01-01T10:05:00.000Z',
    performer: [{ reference: 'Practitioner/pr1' }],
    valueQuantity: { value: 72.5, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' },
  },
};

/** A fresh copy of the conformant fixture of a type. */
export function fixture(type: ResourceType): Json {
  return structuredClone(FIXTURES[type]);
}
