/**
 * Synthetic Care Connect demo data (made up for this project; no real person): 10 patients (ids `1`..`10`; the
 * demo patient-bound client is bound to patient `1`) with valid test-range NHS numbers, their GP practices,
 * practitioners, roles, locations, and clinical records of every type, chosen so that every search parameter of
 * every type matches something. `generatePatients` makes larger sets for benchmarks.
 */
import type { ResourceType } from '../../contract/resource-types';
import type { FhirResource } from '../store/repository';
import { VACCINATION_PROCEDURE_URL } from '../fhir/definitions';
import { testNhsNumbers } from './nhs-number';

export const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';
export const ODS_SYSTEM = 'https://fhir.nhs.uk/Id/ods-organization-code';
export const ODS_SITE_SYSTEM = 'https://fhir.nhs.uk/Id/ods-site-code';
export const SDS_SYSTEM = 'https://fhir.nhs.uk/Id/sds-user-id';
export const SDS_ROLE_SYSTEM = 'https://fhir.nhs.uk/Id/sds-role-profile-id';
export const SNOMED = 'http://snomed.info/sct';
export const DEMO_ID_SYSTEM = 'https://ccri-demo.example.org/Id';
const VERIFICATION_URL = 'https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-NHSNumberVerificationStatus-1';
const VERIFICATION_SYSTEM = 'https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-NHSNumberVerificationStatus-1';

export type DemoResource = FhirResource & { id: string };

const demoId = (type: string, id: string) => ({ system: `${DEMO_ID_SYSTEM}/${type.toLowerCase()}`, value: `${type}-${id}` });
const snomed = (code: string, display: string) => ({ coding: [{ system: SNOMED, code, display }] });

export const ORGANIZATIONS: DemoResource[] = [
  { id: '1', ods: 'A81001', name: 'The Moorings Medical Practice', alias: 'Moorings Surgery', postcode: 'LS1 4AP', city: 'Leeds' },
  { id: '2', ods: 'B82005', name: 'Riverside Health Centre', alias: 'Riverside', postcode: 'M1 2AB', city: 'Manchester' },
  { id: '3', ods: 'RR8', name: 'Leeds Teaching Hospitals NHS Trust', alias: 'LTHT', postcode: 'LS9 7TF', city: 'Leeds' },
].map((o) => ({
  resourceType: 'Organization',
  id: o.id,
  identifier: [{ system: ODS_SYSTEM, value: o.ods }],
  active: true,
  name: o.name,
  alias: [o.alias],
  telecom: [{ system: 'phone', value: `0113 496 000${o.id}`, use: 'work' }],
  address: [{ use: 'work', line: [`${o.id} Park Row`], city: o.city, postalCode: o.postcode, country: 'GB' }],
}));

const PRACTITIONERS = [
  { id: '1', sds: 'G8000001', family: 'Bhatt', given: 'Priya', prefix: 'Dr', postcode: 'LS1 4AP' },
  { id: '2', sds: 'G8000002', family: 'O’Connor', given: 'Seán', prefix: 'Dr', postcode: 'M1 2AB' },
  { id: '3', sds: 'C3000003', family: 'Nowak', given: 'Zoë', prefix: 'Ms', postcode: 'LS9 7TF' },
];

export const PRACTITIONER_RESOURCES: DemoResource[] = PRACTITIONERS.map((p) => ({
  resourceType: 'Practitioner',
  id: p.id,
  identifier: [{ system: SDS_SYSTEM, value: p.sds }],
  active: true,
  name: [{ use: 'official', family: p.family, given: [p.given], prefix: [p.prefix] }],
  address: [{ use: 'work', postalCode: p.postcode, country: 'GB' }],
  gender: p.id === '1' ? 'female' : p.id === '2' ? 'male' : 'female',
}));

export const PRACTITIONER_ROLES: DemoResource[] = PRACTITIONERS.map((p, i) => ({
  resourceType: 'PractitionerRole',
  id: p.id,
  identifier: [{ system: SDS_ROLE_SYSTEM, value: `R${8000 + i}` }],
  active: true,
  practitioner: { reference: `Practitioner/${p.id}`, display: `${p.prefix} ${p.given} ${p.family}` },
  organization: { reference: `Organization/${ORGANIZATIONS[i]!.id}` },
  code: [{ coding: [{ system: 'https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-SDSJobRoleName-1', code: i < 2 ? 'R0260' : 'R0690', display: i < 2 ? 'General Medical Practitioner' : 'Staff Nurse' }] }],
}));

export const LOCATIONS: DemoResource[] = [
  { id: '1', code: 'RR813', name: "St James's University Hospital", alias: 'Jimmys', postcode: 'LS9 7TF', org: '3' },
  { id: '2', code: 'A81001S', name: 'Moorings Branch Surgery', alias: 'Moorings Branch', postcode: 'LS2 8BQ', org: '1' },
].map((l) => ({
  resourceType: 'Location',
  id: l.id,
  identifier: [{ system: ODS_SITE_SYSTEM, value: l.code }],
  status: 'active',
  name: l.name,
  alias: [l.alias],
  address: { use: 'work', city: 'Leeds', postalCode: l.postcode, country: 'GB' },
  managingOrganization: { reference: `Organization/${l.org}` },
}));

const DMD = [
  { id: '1', code: '42109611000001109', display: 'Paracetamol 500mg tablets', form: ['385055001', 'Tablet'] },
  { id: '2', code: '39732311000001104', display: 'Amoxicillin 500mg capsules', form: ['385049006', 'Capsule'] },
  { id: '3', code: '320000009', display: 'Simvastatin 40mg tablets', form: ['385055001', 'Tablet'] },
];

export const MEDICATIONS: DemoResource[] = DMD.map((m) => ({
  resourceType: 'Medication',
  id: m.id,
  code: snomed(m.code, m.display),
  form: snomed(m.form[0]!, m.form[1]!),
}));

const FAMILIES = ['Smith', 'Jones', 'Sánchez', 'Taylor', 'Brown', 'Williams', 'Wilson', 'Müller', 'Davies', 'Evans'];
/** Given names by the patient's gender (odd n male, even n female), so that name, prefix and gender agree. */
const GIVENS = {
  male: ['Peter', 'José', 'Ahmed', 'David', 'Tom'],
  female: ['Ann', 'Chloé', 'Fatima', 'Grace', 'Mary'],
} as const;
const MIDDLE = { male: 'James', female: 'Jo' } as const;
const POSTCODES = ['LS1 4AP', 'LS6 2QD', 'M1 2AB', 'LS11 5DT', 'M14 6HR', 'LS9 7TF', 'M20 2LN', 'LS17 8BA', 'M3 4JP', 'LS28 7UA'];

const CONDITIONS = [
  ['44054006', 'Diabetes mellitus type 2'],
  ['38341003', 'Hypertensive disorder'],
  ['195967001', 'Asthma'],
  ['35489007', 'Depressive disorder'],
  ['13645005', 'Chronic obstructive lung disease'],
  ['49436004', 'Atrial fibrillation'],
] as const;

const pad = (n: number) => String(n).padStart(2, '0');

/** A patient of the demo set or of a generated one. */
export function patientResource(id: string, n: number, nhsNumber: string): DemoResource {
  const family = FAMILIES[n % FAMILIES.length]!;
  const gender = n % 2 === 0 ? 'female' : 'male';
  const given = GIVENS[gender][Math.floor(n / 2) % GIVENS[gender].length]!;
  const gp = ORGANIZATIONS[n % 2]!;
  return {
    resourceType: 'Patient',
    id,
    identifier: [
      {
        system: NHS_NUMBER_SYSTEM,
        value: nhsNumber,
        extension: [
          {
            url: VERIFICATION_URL,
            valueCodeableConcept: { coding: [{ system: VERIFICATION_SYSTEM, code: '01', display: 'Number present and verified' }] },
          },
        ],
      },
      demoId('Patient', id),
    ],
    active: true,
    name: [{ use: 'official', family, given: [given, n % 3 === 0 ? 'Lee' : MIDDLE[gender]], prefix: [gender === 'female' ? 'Mrs' : 'Mr'] }],
    telecom: [
      { system: 'phone', value: `07700900${String(n % 1000).padStart(3, '0')}`, use: 'mobile' },
      { system: 'email', value: `patient${id}@example.org`, use: 'home' },
    ],
    gender,
    birthDate: `${1940 + ((n * 7) % 60)}-${pad(1 + (n % 12))}-${pad(1 + (n % 28))}`,
    address: [{ use: 'home', line: [`${n} Acacia Avenue`], city: 'Leeds', postalCode: POSTCODES[n % POSTCODES.length]!, country: 'GB' }],
    generalPractitioner: [{ reference: `Organization/${gp.id}` }, { reference: `Practitioner/${(n % 2) + 1}` }],
    managingOrganization: { reference: `Organization/${gp.id}` },
  };
}

/** A condition of a patient; `k` picks its code, category and status. */
export function conditionResource(id: string, patientId: string, k: number): DemoResource {
  const [code, display] = CONDITIONS[k % CONDITIONS.length]!;
  const category = k % 2 === 0 ? ['problem-list-item', 'Problem List Item'] : ['encounter-diagnosis', 'Encounter Diagnosis'];
  return {
    resourceType: 'Condition',
    id,
    identifier: [demoId('Condition', id)],
    clinicalStatus: k % 3 === 2 ? 'resolved' : 'active',
    category: [{ coding: [{ system: 'http://hl7.org/fhir/condition-category', code: category[0], display: category[1] }] }],
    code: snomed(code, display),
    subject: { reference: `Patient/${patientId}` },
    assertedDate: `20${10 + (k % 10)}-0${1 + (k % 9)}-15`,
  };
}

function clinical(p: number): DemoResource[] {
  const pid = String(p);
  const patient = { reference: `Patient/${pid}` };
  const year = 2015 + (p % 9);
  const out: DemoResource[] = [conditionResource(`${pid}-1`, pid, p), conditionResource(`${pid}-2`, pid, p + 1)];
  out.push({
    resourceType: 'Observation',
    id: `${pid}-1`,
    identifier: [demoId('Observation', `${pid}-1`)],
    status: 'final',
    category: [{ coding: [{ system: 'http://hl7.org/fhir/observation-category', code: 'vital-signs', display: 'Vital Signs' }] }],
    code: { coding: [{ system: SNOMED, code: '27113001', display: 'Body weight' }, { system: 'http://loinc.org', code: '29463-7', display: 'Body weight' }] },
    subject: patient,
    effectiveDateTime: `${year}-03-1${p % 10}T09:30:00+00:00`,
    valueQuantity: { value: 60 + p, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' },
  });
  out.push({
    resourceType: 'Observation',
    id: `${pid}-2`,
    identifier: [demoId('Observation', `${pid}-2`)],
    status: 'final',
    category: [{ coding: [{ system: 'http://hl7.org/fhir/observation-category', code: 'laboratory', display: 'Laboratory' }] }],
    code: snomed('1107481000000106', 'Serum HbA1c level'),
    subject: patient,
    effectivePeriod: { start: `${year}-06-01T08:00:00Z`, end: `${year}-06-01T08:15:00Z` },
    valueQuantity: { value: 40 + p, unit: 'mmol/mol', system: 'http://unitsofmeasure.org', code: 'mmol/mol' },
  });
  out.push({
    resourceType: 'Encounter',
    id: pid,
    identifier: [demoId('Encounter', pid)],
    status: p % 2 === 0 ? 'finished' : 'in-progress',
    type: [snomed(p % 2 === 0 ? '185349003' : '11429006', p % 2 === 0 ? 'Encounter for check up' : 'Consultation')],
    subject: patient,
    ...(p % 3 === 0 ? { episodeOfCare: [{ reference: `EpisodeOfCare/${pid}` }] } : {}),
    period: { start: `${year}-02-0${1 + (p % 9)}T10:00:00Z`, end: `${year}-02-0${1 + (p % 9)}T10:20:00Z` },
    serviceProvider: { reference: 'Organization/3' },
    location: [{ location: { reference: `Location/${(p % 2) + 1}` } }],
  });
  out.push({
    resourceType: 'Immunization',
    id: pid,
    identifier: [demoId('Immunization', pid)],
    extension: [{ url: VACCINATION_PROCEDURE_URL, valueCodeableConcept: snomed('822851000000102', 'Seasonal influenza vaccination') }],
    status: p === 5 ? 'entered-in-error' : 'completed',
    notGiven: false,
    vaccineCode: snomed('396425006', 'Influenza virus vaccine'),
    patient,
    date: `${year}-10-1${p % 10}`,
    primarySource: true,
  });
  const medication = DMD[p % DMD.length]!;
  out.push({
    resourceType: 'MedicationRequest',
    id: pid,
    identifier: [demoId('MedicationRequest', pid)],
    status: p % 4 === 0 ? 'completed' : 'active',
    intent: 'order',
    // CareConnect-MedicationRequest-1 narrows medication[x] to Reference(CareConnect-Medication-1).
    medicationReference: { reference: `Medication/${medication.id}` },
    subject: patient,
    authoredOn: `${year}-04-2${p % 10}`,
  });
  out.push({
    resourceType: 'MedicationStatement',
    id: pid,
    identifier: [demoId('MedicationStatement', pid)],
    status: p % 3 === 0 ? 'completed' : 'active',
    medicationReference: { reference: `Medication/${medication.id}` },
    subject: patient,
    taken: 'y',
    ...(p % 2 === 0 ? { effectiveDateTime: `${year}-05-0${1 + (p % 9)}` } : { effectivePeriod: { start: `${year}-05-0${1 + (p % 9)}` } }),
  });
  out.push({
    resourceType: 'AllergyIntolerance',
    id: pid,
    identifier: [demoId('AllergyIntolerance', pid)],
    clinicalStatus: p % 4 === 3 ? 'resolved' : 'active',
    verificationStatus: p % 2 === 0 ? 'confirmed' : 'unconfirmed',
    code: snomed('91936005', 'Allergy to penicillin'),
    patient,
    assertedDate: `${year}-07-0${1 + (p % 9)}`,
  });
  out.push({
    resourceType: 'Procedure',
    id: pid,
    identifier: [demoId('Procedure', pid)],
    status: 'completed',
    code: snomed('80146002', 'Appendectomy'),
    subject: patient,
    ...(p % 2 === 0 ? { performedDateTime: `${year}-08-1${p % 10}T14:00:00Z` } : { performedPeriod: { start: `${year}-08-1${p % 10}T14:00:00Z` } }),
  });
  return out;
}

export const DEMO_PATIENT_COUNT = 10;

/** The demo data set: every resource with its id, grouped by nothing (each carries its resourceType). */
export function demoResources(): DemoResource[] {
  const numbers = testNhsNumbers();
  const patients: DemoResource[] = [];
  for (let p = 1; p <= DEMO_PATIENT_COUNT; p++) patients.push(patientResource(String(p), p, numbers.next().value as string));
  const clinicalData = patients.flatMap((_, i) => clinical(i + 1));
  return [...ORGANIZATIONS, ...PRACTITIONER_RESOURCES, ...PRACTITIONER_ROLES, ...LOCATIONS, ...MEDICATIONS, ...patients, ...clinicalData];
}

/** Resources grouped by type. */
export function byType(resources: readonly DemoResource[]): Map<ResourceType, DemoResource[]> {
  const map = new Map<ResourceType, DemoResource[]>();
  for (const r of resources) {
    const type = r.resourceType as ResourceType;
    if (!map.has(type)) map.set(type, []);
    map.get(type)!.push(r);
  }
  return map;
}

/** A small deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `n` synthetic patients (ids `g<seed>-<i>`) with 0 to 3 conditions each, for benchmarks: deterministic for a seed,
 * NHS numbers from the 999 test range (distinct up to ~900,000 patients).
 */
export function generatePatients(n: number, seed = 1): { patients: DemoResource[]; conditions: DemoResource[] } {
  const random = prng(seed);
  const numbers = testNhsNumbers();
  const patients: DemoResource[] = [];
  const conditions: DemoResource[] = [];
  for (let i = 0; i < n; i++) {
    const id = `g${seed}-${i}`;
    const next = numbers.next();
    if (next.done) throw new Error('the 999 test range holds fewer NHS numbers than asked for');
    const patient = patientResource(id, Math.floor(random() * 1_000_000), next.value);
    // independent draws, so that parameters do not correlate (family, gender and birth date all vary alone)
    (patient.name as { family: string }[])[0]!.family = FAMILIES[Math.floor(random() * FAMILIES.length)]!;
    patient.gender = random() < 0.5 ? 'female' : 'male';
    patient.birthDate = `${1920 + Math.floor(random() * 100)}-${pad(1 + Math.floor(random() * 12))}-${pad(1 + Math.floor(random() * 28))}`;
    patients.push(patient);
    const count = Math.floor(random() * 4);
    for (let k = 0; k < count; k++) conditions.push(conditionResource(`${id}-${k}`, id, Math.floor(random() * 1000)));
  }
  return { patients, conditions };
}
