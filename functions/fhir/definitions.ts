/**
 * Per-type definitions: the search parameters of each Care Connect type (the CCRI's list, STU3 paths), the
 * reference parameters that put a resource in a patient's compartment, and the profile. The generic code path
 * (search parsing, index derivation, the repository, the handler) knows nothing type-specific beyond this file.
 */
import { profileUrl, RESOURCE_TYPES, type ResourceType } from '../../contract/resource-types';

export type SearchParamType = 'string' | 'token' | 'date' | 'reference';

/** A token as found in a resource: an optional system and a code. */
export interface TokenValue {
  system?: string;
  code: string;
}

/** What an extractor returns for each parameter type. */
export interface ExtractedValue {
  string: string;
  token: TokenValue;
  /** A FHIR date, dateTime or instant (for a Period: its start, else its end). */
  date: string;
  /** A reference as written in the resource (`Patient/1`, or an absolute URL). */
  reference: string;
}

export interface SearchParamDef<T extends SearchParamType = SearchParamType> {
  type: T;
  /** The FHIRPath-like expression the extractor implements (documentation and the CapabilityStatement). */
  expression: string;
  /** For references: the type a bare id (`patient=123`) refers to. */
  target?: string;
  /**
   * How the index stores it (functions/store/index-layout.ts): `broad` for a token of few values (gender, status):
   * its partitions are write-sharded; `via` names a string parameter whose index holds a superset of these values
   * (Patient family and given are in `name`): no items of its own, the search reads that index and checks exactly.
   * `listing` for a SINGLE-valued broad token (Patient.gender, a status): its code is folded into the sort key of the
   * type's listing (`<code>#<id>`), so it costs no item of its own (one write unit less per create) and is searched
   * as a begins_with on the listing (docs/storage.md). At most one per type.
   */
  index?: { broad?: true; via?: string; listing?: true };
  extract(resource: Record<string, unknown>): ExtractedValue[T][];
}

export interface TypeDefinition {
  type: ResourceType;
  profile: string;
  /** Search parameters by name, `_id` excluded (every type has it). */
  searchParams: Record<string, SearchParamDef>;
  /**
   * The reference parameters whose value `Patient/<id>` puts a resource in that patient's compartment. For
   * Patient the resource's own id does; types outside the patient compartment (the public information types)
   * have none.
   */
  compartmentParams: readonly string[];
}

// ---- path helpers -------------------------------------------------------------------------------------------

type Json = Record<string, unknown>;

/** Follows a dotted path through objects and arrays, flattening arrays: `walk(p, 'name.given')`. */
export function walk(value: unknown, path: string): unknown[] {
  let current: unknown[] = [value];
  for (const step of path.split('.')) {
    const next: unknown[] = [];
    for (const item of current) {
      if (item === null || typeof item !== 'object') continue;
      const child = (item as Json)[step];
      if (Array.isArray(child)) next.push(...child);
      else if (child !== undefined && child !== null) next.push(child);
    }
    current = next;
  }
  return current;
}

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);
const strings = (values: unknown[]): string[] => values.filter((v): v is string => typeof v === 'string' && v !== '');

/** Tokens of Coding, CodeableConcept, Identifier, code and boolean values. */
export function tokensOf(values: unknown[], codeSystem?: string): TokenValue[] {
  const out: TokenValue[] = [];
  const push = (system: unknown, code: unknown) => {
    if (typeof code === 'string' && code !== '') out.push(typeof system === 'string' && system !== '' ? { system, code } : { code });
  };
  for (const v of values) {
    if (typeof v === 'string') push(codeSystem, v);
    else if (typeof v === 'boolean') push(codeSystem, String(v));
    else if (isObject(v)) {
      if (Array.isArray(v.coding)) for (const c of v.coding) if (isObject(c)) push(c.system, c.code);
      if ('code' in v) push(v.system, v.code);
      else if ('value' in v) push(v.system, v.value); // Identifier, ContactPoint
    }
  }
  return out;
}

/** Date values: date/dateTime/instant strings, and Periods (start, else end). */
export function datesOf(values: unknown[]): string[] {
  const out: string[] = [];
  for (const v of values) {
    if (typeof v === 'string') out.push(v);
    else if (isObject(v)) {
      if (typeof v.start === 'string') out.push(v.start);
      else if (typeof v.end === 'string') out.push(v.end);
    }
  }
  return out;
}

export function referencesOf(values: unknown[]): string[] {
  return strings(values.filter(isObject).map((v) => v.reference));
}

const telecom = (system: string) => (r: Json) =>
  tokensOf(walk(r, 'telecom').filter((t) => isObject(t) && t.system === system)).map(({ code }) => ({ code }));

// ---- parameter builders -------------------------------------------------------------------------------------

function stringParam(expression: string, ...paths: string[]): SearchParamDef<'string'> {
  return { type: 'string', expression, extract: (r) => strings(paths.flatMap((p) => walk(r, p))) };
}
function tokenParam(expression: string, path: string, codeSystem?: string): SearchParamDef<'token'> {
  return { type: 'token', expression, extract: (r) => tokensOf(walk(r, path), codeSystem) };
}
/** A token of a small code set (status, gender, category, booleans): sharded index partitions. */
function broadToken(expression: string, path: string, codeSystem?: string): SearchParamDef<'token'> {
  return { ...tokenParam(expression, path, codeSystem), index: { broad: true } };
}
/** A single-valued token of a small code set, folded into the listing's sort key (one item less per write). */
function listedToken(expression: string, path: string, codeSystem?: string): SearchParamDef<'token'> {
  return { ...tokenParam(expression, path, codeSystem), index: { broad: true, listing: true } };
}
function dateParam(expression: string, ...paths: string[]): SearchParamDef<'date'> {
  return { type: 'date', expression, extract: (r) => datesOf(paths.flatMap((p) => walk(r, p))) };
}
function referenceParam(expression: string, path: string, target: string, onlyTarget = false): SearchParamDef<'reference'> {
  return {
    type: 'reference',
    expression,
    target,
    extract: (r) => {
      const refs = referencesOf(walk(r, path));
      return onlyTarget ? refs.filter((ref) => new RegExp(`(^|/)${target}/[^/]+(/_history/[^/]+)?$`).test(ref)) : refs;
    },
  };
}

const identifier = () => tokenParam('Resource.identifier', 'identifier');
const postalcode = () => stringParam('Resource.address.postalCode', 'address.postalCode');
const HUMAN_NAME = ['name.family', 'name.given', 'name.prefix', 'name.suffix', 'name.text'];

export const VACCINATION_PROCEDURE_URL =
  'https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-VaccinationProcedure-1';

const SEARCH_PARAMS: Record<ResourceType, Record<string, SearchParamDef>> = {
  Patient: {
    'address-postalcode': postalcode(),
    birthdate: dateParam('Patient.birthDate', 'birthDate'),
    email: { type: 'token', expression: "Patient.telecom.where(system='email')", extract: telecom('email') },
    family: { ...stringParam('Patient.name.family', 'name.family'), index: { via: 'name' } },
    gender: listedToken('Patient.gender', 'gender', 'http://hl7.org/fhir/administrative-gender'),
    'general-practitioner': referenceParam('Patient.generalPractitioner', 'generalPractitioner', 'Practitioner'),
    given: { ...stringParam('Patient.name.given', 'name.given'), index: { via: 'name' } },
    identifier: identifier(),
    name: stringParam('Patient.name', ...HUMAN_NAME),
    phone: { type: 'token', expression: "Patient.telecom.where(system='phone')", extract: telecom('phone') },
  },
  Practitioner: {
    identifier: identifier(),
    name: stringParam('Practitioner.name', ...HUMAN_NAME),
    'address-postalcode': postalcode(),
  },
  Organization: {
    identifier: identifier(),
    name: stringParam('Organization.name | Organization.alias', 'name', 'alias'),
    'address-postalcode': postalcode(),
  },
  Location: {
    identifier: identifier(),
    name: stringParam('Location.name | Location.alias', 'name', 'alias'),
    'address-postalcode': postalcode(),
  },
  PractitionerRole: {
    identifier: identifier(),
    practitioner: referenceParam('PractitionerRole.practitioner', 'practitioner', 'Practitioner'),
    organization: referenceParam('PractitionerRole.organization', 'organization', 'Organization'),
  },
  Encounter: {
    patient: referenceParam('Encounter.subject', 'subject', 'Patient', true),
    date: dateParam('Encounter.period', 'period'),
    episodeofcare: referenceParam('Encounter.episodeOfCare', 'episodeOfCare', 'EpisodeOfCare'),
    identifier: identifier(),
    type: tokenParam('Encounter.type', 'type'),
    status: listedToken('Encounter.status', 'status', 'http://hl7.org/fhir/encounter-status'),
  },
  Condition: {
    patient: referenceParam('Condition.subject', 'subject', 'Patient', true),
    category: broadToken('Condition.category', 'category'),
    'clinical-status': listedToken('Condition.clinicalStatus', 'clinicalStatus', 'http://hl7.org/fhir/condition-clinical'),
    'asserted-date': dateParam('Condition.assertedDate', 'assertedDate'),
    identifier: identifier(),
  },
  Procedure: {
    patient: referenceParam('Procedure.subject', 'subject', 'Patient', true),
    subject: referenceParam('Procedure.subject', 'subject', 'Patient'),
    date: dateParam('Procedure.performed', 'performedDateTime', 'performedPeriod'),
    identifier: identifier(),
  },
  Immunization: {
    patient: referenceParam('Immunization.patient', 'patient', 'Patient'),
    date: dateParam('Immunization.date', 'date'),
    status: listedToken('Immunization.status', 'status', 'http://hl7.org/fhir/medication-admin-status'),
    identifier: identifier(),
    notgiven: broadToken('Immunization.notGiven', 'notGiven'),
    'vaccination-procedure': {
      type: 'token',
      expression: `Immunization.extension('${VACCINATION_PROCEDURE_URL}').valueCodeableConcept`,
      extract: (r) =>
        tokensOf(
          walk(r, 'extension')
            .filter((e) => isObject(e) && e.url === VACCINATION_PROCEDURE_URL)
            .flatMap((e) => walk(e, 'valueCodeableConcept')),
        ),
    },
  },
  MedicationRequest: {
    patient: referenceParam('MedicationRequest.subject', 'subject', 'Patient', true),
    code: tokenParam('MedicationRequest.medicationCodeableConcept', 'medicationCodeableConcept'),
    authoredon: dateParam('MedicationRequest.authoredOn', 'authoredOn'),
    status: listedToken('MedicationRequest.status', 'status', 'http://hl7.org/fhir/medication-request-status'),
    identifier: identifier(),
    medication: referenceParam('MedicationRequest.medicationReference', 'medicationReference', 'Medication'),
  },
  MedicationStatement: {
    patient: referenceParam('MedicationStatement.subject', 'subject', 'Patient', true),
    effective: dateParam('MedicationStatement.effective', 'effectiveDateTime', 'effectivePeriod'),
    status: listedToken('MedicationStatement.status', 'status', 'http://hl7.org/fhir/medication-statement-status'),
    identifier: identifier(),
  },
  AllergyIntolerance: {
    patient: referenceParam('AllergyIntolerance.patient', 'patient', 'Patient'),
    date: dateParam('AllergyIntolerance.assertedDate', 'assertedDate'),
    'clinical-status': listedToken(
      'AllergyIntolerance.clinicalStatus',
      'clinicalStatus',
      'http://hl7.org/fhir/allergy-clinical-status',
    ),
    identifier: identifier(),
    'verification-status': broadToken(
      'AllergyIntolerance.verificationStatus',
      'verificationStatus',
      'http://hl7.org/fhir/allergy-verification-status',
    ),
  },
  Medication: {
    code: tokenParam('Medication.code', 'code'),
  },
  Observation: {
    category: broadToken('Observation.category', 'category'),
    code: tokenParam('Observation.code', 'code'),
    date: dateParam('Observation.effective', 'effectiveDateTime', 'effectivePeriod'),
    patient: referenceParam('Observation.subject', 'subject', 'Patient', true),
    subject: referenceParam('Observation.subject', 'subject', 'Patient'),
    identifier: identifier(),
  },
};

const COMPARTMENT_PARAMS: Partial<Record<ResourceType, readonly string[]>> = {
  Encounter: ['patient'],
  Condition: ['patient'],
  Procedure: ['patient'],
  Immunization: ['patient'],
  MedicationRequest: ['patient'],
  MedicationStatement: ['patient'],
  AllergyIntolerance: ['patient'],
  Observation: ['patient'],
};

export const DEFINITIONS: Record<ResourceType, TypeDefinition> = Object.fromEntries(
  RESOURCE_TYPES.map((type) => [
    type,
    { type, profile: profileUrl(type), searchParams: SEARCH_PARAMS[type], compartmentParams: COMPARTMENT_PARAMS[type] ?? [] },
  ]),
) as Record<ResourceType, TypeDefinition>;

export function definitionOf(type: ResourceType): TypeDefinition {
  return DEFINITIONS[type];
}

/** The param of the clause that holds a search to the caller's compartment (search-access.ts `compartmentClause`). */
export const COMPARTMENT_PARAM = '_compartment';

/** Whether a type's resources belong to patient compartments (the public information types do not). */
export function inPatientCompartment(type: ResourceType): boolean {
  return type === 'Patient' || DEFINITIONS[type].compartmentParams.length > 0;
}
