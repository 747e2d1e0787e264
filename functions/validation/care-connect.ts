/**
 * The Care Connect STU3 profile constraints (https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-<Type>-1),
 * on top of the base STU3 checks of `structure.ts`. Each rule names the profile element it encodes; the profiles
 * were read from the HL7 UK / INTEROPen CareConnect-profiles-STU3 repository (reviewedprofilesrelease1).
 *
 * - CareConnect-Patient-1 1.2.0, CareConnect-Condition-1 1.1.0, CareConnect-Medication-1 1.1.0: in full
 *   (cardinalities, slices, fixed values, required bindings with small code lists).
 * - The other profiles: their key constraints. Every clinical profile (AllergyIntolerance, Condition, Encounter,
 *   Immunization, MedicationRequest, MedicationStatement, Observation, Procedure) makes identifier.system and
 *   identifier.value 1..1 and slices its coded elements with a `snomedCT` coding (system fixed to SNOMED CT,
 *   code and display 1..1, at most one); Practitioner, Organization and Location slice their identifiers by the
 *   NHS identifier systems (SDS, ODS); Practitioner/Organization/Location forbid address.state.
 * Reference target types come from the element tables (`elements.ts`), which use the Care Connect targets.
 */
import type { ResourceType } from '../fhir/resource-types';
import { Issues, quote } from './issues';
import { nhsNumberProblem } from './nhs-number';
import { isSnomedConceptId } from './snomed';
import { isObject } from './structure';
import { CARE_CONNECT as CC, VALUE_SETS } from './value-sets';

type Json = Record<string, unknown>;
type Rule = (resource: Json, issues: Issues) => void;

/** One value found at a path, with its FHIRPath expression. */
interface Found {
  value: Json;
  path: string;
}

/** The objects at a dotted path (`reaction.substance`), array indices in the expressions. */
function select(resource: Json, root: string, dotted: string): Found[] {
  let found: Found[] = [{ value: resource, path: root }];
  for (const step of dotted.split('.')) {
    const next: Found[] = [];
    for (const { value, path } of found) {
      const child = value[step];
      if (Array.isArray(child)) {
        child.forEach((item, i) => isObject(item) && next.push({ value: item, path: `${path}.${step}[${i}]` }));
      } else if (isObject(child)) {
        next.push({ value: child, path: `${path}.${step}` });
      }
    }
    found = next;
  }
  return found;
}

/** The codings of a CodeableConcept, each with its path. */
function codings(concept: Found): Found[] {
  return select(concept.value, concept.path, 'coding');
}

// ----------------------------------------------------------------------------------------------- shared rules

/** `<Type>.identifier.system` and `.value` 1..1 (all clinical Care Connect profiles). */
function identifierSystemAndValue(type: string): Rule {
  return (resource, issues) => {
    for (const { value, path } of select(resource, type, 'identifier')) {
      if (value.system === undefined) issues.error('required', `${path}.system`, `${path}.system is required by CareConnect-${type}-1 (identifier.system 1..1).`);
      if (value.value === undefined) issues.error('required', `${path}.value`, `${path}.value is required by CareConnect-${type}-1 (identifier.value 1..1).`);
    }
  };
}

/** Elements a profile forbids (max 0). */
function forbidden(type: string, ...paths: string[]): Rule {
  return (resource, issues) => {
    for (const dotted of paths) {
      const dot = dotted.lastIndexOf('.');
      const parents = dot < 0 ? [{ value: resource, path: type }] : select(resource, type, dotted.slice(0, dot));
      const name = dotted.slice(dot + 1);
      for (const parent of parents) {
        if (parent.value[name] !== undefined) {
          issues.error('structure', `${parent.path}.${name}`, `${parent.path}.${name} is not allowed by CareConnect-${type}-1 (${type}.${dotted} 0..0).`);
        }
      }
    }
  };
}

interface SnomedSlice {
  /** Dotted path of the CodeableConcept(s) carrying the `snomedCT` coding slice. */
  path: string;
}

/**
 * The `snomedCT` coding slice (discriminator: coding.system = http://snomed.info/sct), 0..1 per concept, with
 * code and display 1..1. Its code must be a SNOMED CT concept id (the profiles bind SNOMED CT UK value sets).
 */
function snomedSlices(type: string, ...slices: SnomedSlice[]): Rule {
  return (resource, issues) => {
    for (const slice of slices) {
      for (const concept of select(resource, type, slice.path)) {
        let count = 0;
        for (const coding of codings(concept)) {
          if (coding.value.system !== CC.snomed) continue;
          count++;
          checkSnomedCoding(coding, issues, `CareConnect-${type}-1 (${type}.${slice.path}.coding:snomedCT)`);
        }
        if (count > 1) {
          issues.error('structure', `${concept.path}.coding`, `${concept.path} has ${count} SNOMED CT codings; CareConnect-${type}-1 allows one (snomedCT slice 0..1).`);
        }
      }
    }
  };
}

function checkSnomedCoding(coding: Found, issues: Issues, rule: string, needsDisplay = true) {
  const { value, path } = coding;
  if (value.code === undefined) {
    issues.error('required', `${path}.code`, `${path}.code is required on a SNOMED CT coding by ${rule}.`);
  } else if (typeof value.code === 'string' && !isSnomedConceptId(value.code)) {
    issues.error('code-invalid', `${path}.code`, `${path}.code ${quote(value.code)} is not a SNOMED CT concept id (6 to 18 digits with a valid check digit).`);
  }
  if (needsDisplay && value.display === undefined) {
    issues.error('required', `${path}.display`, `${path}.display is required on a SNOMED CT coding by ${rule}: give the term of the concept.`);
  }
}

interface IdentifierSlice {
  name: string;
  system: string;
  max?: 1;
  /** Identifier elements the slice forbids (max 0). */
  forbid?: string[];
}

/** Identifier slices by system (Practitioner, Organization, Location): value 1..1, max, forbidden parts. */
function identifierSlices(type: string, ...slices: IdentifierSlice[]): Rule {
  return (resource, issues) => {
    for (const slice of slices) {
      const members = select(resource, type, 'identifier').filter((id) => id.value.system === slice.system);
      if (slice.max !== undefined && members.length > slice.max) {
        issues.error('structure', `${type}.identifier`, `${type} has ${members.length} identifiers with system ${slice.system}; CareConnect-${type}-1 allows one (${slice.name} slice 0..1).`);
      }
      for (const { value, path } of members) {
        if (value.value === undefined) issues.error('required', `${path}.value`, `${path}.value is required (${slice.name} identifier).`);
        for (const name of slice.forbid ?? []) {
          if (value[name] !== undefined) {
            issues.error('structure', `${path}.${name}`, `${path}.${name} is not allowed on the ${slice.name} identifier by CareConnect-${type}-1 (0..0).`);
          }
        }
      }
    }
  };
}

/** Extension slices that a profile limits to one occurrence (max 1). */
function singleExtensions(type: string, urls: Record<string, string>): Rule {
  return (resource, issues) => {
    const extensions = select(resource, type, 'extension');
    for (const [name, url] of Object.entries(urls)) {
      const count = extensions.filter((e) => e.value.url === url).length;
      if (count > 1) {
        issues.error('structure', `${type}.extension`, `${type} has ${count} ${name} extensions; CareConnect-${type}-1 allows one (${url}).`);
      }
    }
  };
}

/**
 * A required binding checked on a CodeableConcept: at least one coding from the code list.
 * `codes`: system -> allowed codes.
 */
function requireCoding(concept: Found, codes: ReadonlyMap<string, ReadonlySet<string>>, valueSet: string, issues: Issues): void {
  const all = codings(concept);
  for (const coding of all) {
    const allowed = codes.get(coding.value.system as string);
    if (allowed === undefined) continue;
    if (typeof coding.value.code === 'string' && allowed.has(coding.value.code)) return;
    issues.error('code-invalid', `${coding.path}.code`, `${coding.path}.code ${quote(coding.value.code)} is not a code of ${valueSet} (required binding).`);
    return;
  }
  issues.error('code-invalid', concept.path, `${concept.path} needs a coding from ${valueSet} (required binding; system ${[...codes.keys()].join(' or ')}).`);
}

// ----------------------------------------------------------------------------------------------- Patient

/** CareConnect-Patient-1 1.2.0: NHS number slice, official name, telecom, contact, marital status, extensions. */
const patientRules: Rule[] = [
  // identifier:nhsNumber 0..1 (system fixed https://fhir.nhs.uk/Id/nhs-number), value 1..1,
  // extension:nhsNumberVerificationStatus 1..1 (valueCodeableConcept 1..1, required binding 01..08)
  (patient, issues) => {
    const nhs = select(patient, 'Patient', 'identifier').filter((id) => id.value.system === CC.nhsNumberSystem);
    if (nhs.length > 1) {
      issues.error('structure', 'Patient.identifier', `Patient has ${nhs.length} NHS numbers; CareConnect-Patient-1 allows one (nhsNumber slice 0..1).`);
    }
    for (const identifier of nhs) checkNhsNumberIdentifier(identifier, issues);
  },
  // name 1..*, name:official 1..1 (use fixed 'official', family 1..1), name:other use 1..1
  (patient, issues) => {
    const names = select(patient, 'Patient', 'name');
    if (names.length === 0) {
      issues.error('required', 'Patient.name', "Patient.name is required by CareConnect-Patient-1: at least one name, exactly one of them with use 'official' (name 1..*).");
      return;
    }
    const official = names.filter((n) => n.value.use === 'official');
    if (official.length === 0) {
      issues.error('required', 'Patient.name', "Patient needs exactly one name with use 'official' (CareConnect-Patient-1 name:official 1..1).");
    } else if (official.length > 1) {
      issues.error('structure', 'Patient.name', `Patient has ${official.length} names with use 'official'; CareConnect-Patient-1 allows one (name:official 1..1).`);
    }
    for (const { value, path } of official) {
      if (value.family === undefined) issues.error('required', `${path}.family`, `${path}.family is required: the official name has a family name (CareConnect-Patient-1 name:official.family 1..1).`);
    }
    for (const { value, path } of names) {
      if (value.use === undefined) issues.error('required', `${path}.use`, `${path}.use is required by CareConnect-Patient-1 (every name has a use: official, usual, nickname, ...).`);
    }
  },
  // telecom.system 1..1, telecom.value 1..1
  (patient, issues) => {
    for (const { value, path } of select(patient, 'Patient', 'telecom')) {
      if (value.system === undefined) issues.error('required', `${path}.system`, `${path}.system is required by CareConnect-Patient-1 (telecom.system 1..1).`);
      if (value.value === undefined) issues.error('required', `${path}.value`, `${path}.value is required by CareConnect-Patient-1 (telecom.value 1..1).`);
    }
  },
  // animal 0..0, communication 0..0 (the NHSCommunication extension replaces it)
  forbidden('Patient', 'animal', 'communication'),
  // maritalStatus: required binding CareConnect-MaritalStatus-1, coding 1..1 with system, code, display 1..1
  (patient, issues) => {
    const [status] = select(patient, 'Patient', 'maritalStatus');
    if (!status) return;
    const all = codings(status);
    if (all.length !== 1) {
      issues.error('structure', `${status.path}.coding`, `${status.path} needs exactly one coding (CareConnect-Patient-1 maritalStatus.coding 1..1); it has ${all.length}.`);
    }
    for (const { value, path } of all) {
      for (const part of ['system', 'code', 'display'] as const) {
        if (value[part] === undefined) issues.error('required', `${path}.${part}`, `${path}.${part} is required by CareConnect-Patient-1 (maritalStatus.coding.${part} 1..1).`);
      }
    }
    if (all.length > 0) requireCoding(status, CC.maritalStatus, 'CareConnect-MaritalStatus-1', issues);
  },
  // contact.name 1..1 with use 1..1; contact.gender required binding
  (patient, issues) => {
    for (const { value, path } of select(patient, 'Patient', 'contact')) {
      const name = value.name;
      if (name === undefined) issues.error('required', `${path}.name`, `${path}.name is required by CareConnect-Patient-1 (contact.name 1..1).`);
      else if (isObject(name) && name.use === undefined) issues.error('required', `${path}.name.use`, `${path}.name.use is required by CareConnect-Patient-1 (contact.name.use 1..1).`);
      if (value.gender !== undefined && !VALUE_SETS.AdministrativeGender.has(value.gender as string)) {
        issues.error('code-invalid', `${path}.gender`, `${path}.gender ${quote(value.gender)} is not one of male | female | other | unknown (required binding).`);
      }
    }
  },
  // extension:ethnicCategory valueCodeableConcept 1..1, required binding CareConnect-EthnicCategory-1
  (patient, issues) => {
    for (const extension of select(patient, 'Patient', 'extension')) {
      if (extension.value.url !== CC.ethnicCategoryUrl) continue;
      const [concept] = select(extension.value, extension.path, 'valueCodeableConcept');
      if (!concept) {
        issues.error('required', `${extension.path}.valueCodeableConcept`, `${extension.path}.valueCodeableConcept is required by the EthnicCategory extension.`);
        continue;
      }
      requireCoding(concept, new Map([[CC.ethnicCategorySystem, CC.ethnicCategoryCodes]]), 'CareConnect-EthnicCategory-1', issues);
    }
  },
  singleExtensions('Patient', {
    ethnicCategory: CC.ethnicCategoryUrl,
    religiousAffiliation: 'https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-ReligiousAffiliation-1',
    cadavericDonor: 'http://hl7.org/fhir/StructureDefinition/patient-cadavericDonor',
    residentialStatus: 'https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-ResidentialStatus-1',
    treatmentCategory: 'https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-TreatmentCategory-1',
    birthPlace: 'http://hl7.org/fhir/StructureDefinition/birthPlace',
    nominatedPharmacy: 'https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-NominatedPharmacy-1',
    deathNotificationStatus: 'https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-DeathNotificationStatus-1',
  }),
];

function checkNhsNumberIdentifier({ value: identifier, path }: Found, issues: Issues) {
  const nhsNumber = identifier.value;
  if (nhsNumber === undefined) {
    issues.error('required', `${path}.value`, `${path}.value is required: an identifier with the NHS number system carries the number.`);
  } else if (typeof nhsNumber === 'string') {
    const problem = nhsNumberProblem(nhsNumber);
    if (problem === 'format') {
      issues.error('value', `${path}.value`, `${path}.value ${quote(nhsNumber)} is not an NHS number: it must be exactly 10 digits, without spaces.`);
    } else if (problem === 'check-digit') {
      issues.error('value', `${path}.value`, `${path}.value ${quote(nhsNumber)} is not a valid NHS number: its check digit (Modulus 11) is wrong.`);
    }
  }
  const extensions = select(identifier, path, 'extension').filter((e) => e.value.url === CC.nhsNumberVerificationUrl);
  if (extensions.length === 0) {
    issues.error('required', `${path}.extension`, `The NHS number at ${path} needs the NHS number verification status extension (${CC.nhsNumberVerificationUrl}, 1..1).`);
    return;
  }
  if (extensions.length > 1) {
    issues.error('structure', `${path}.extension`, `The NHS number at ${path} has ${extensions.length} verification status extensions; CareConnect-Patient-1 allows one.`);
  }
  for (const extension of extensions) {
    const [concept] = select(extension.value, extension.path, 'valueCodeableConcept');
    if (!concept) {
      issues.error('required', `${extension.path}.valueCodeableConcept`, `${extension.path}.valueCodeableConcept is required: the verification status as a code 01..08.`);
      continue;
    }
    requireCoding(
      concept,
      new Map([[CC.nhsNumberVerificationSystem, CC.nhsNumberVerificationCodes]]),
      'CareConnect-NHSNumberVerificationStatus-1 (01..08)',
      issues,
    );
  }
}

// ----------------------------------------------------------------------------------------------- Condition

/** CareConnect-Condition-1 1.1.0 (subject 1..1 is also base STU3: `elements.ts`). */
const conditionRules: Rule[] = [
  identifierSystemAndValue('Condition'),
  // verificationStatus 0..0
  forbidden('Condition', 'verificationStatus'),
  // con-3 (STU3, error): clinicalStatus SHALL be present unless verificationStatus is entered-in-error, which
  // Care Connect forbids: so clinicalStatus is effectively required
  (condition, issues) => {
    if (condition.clinicalStatus === undefined && condition.verificationStatus !== 'entered-in-error') {
      issues.error('invariant', 'Condition.clinicalStatus', 'Condition.clinicalStatus is required (con-3): active | recurrence | inactive | remission | resolved.');
    }
  },
  // con-4 (STU3, error): an abated condition is inactive, resolved or in remission
  (condition, issues) => {
    const abated = ['abatementDateTime', 'abatementAge', 'abatementPeriod', 'abatementRange', 'abatementString'].some((k) => condition[k] !== undefined) || condition.abatementBoolean === true;
    if (abated && !['inactive', 'resolved', 'remission'].includes(condition.clinicalStatus as string)) {
      issues.error('invariant', 'Condition.clinicalStatus', 'Condition has an abatement, so its clinicalStatus must be inactive, resolved or remission (con-4).');
    }
  },
  // category: extensible binding CareConnect-ConditionCategory-1; category.coding system, code, display 1..1
  (condition, issues) => {
    for (const category of select(condition, 'Condition', 'category')) {
      const all = codings(category);
      for (const { value, path } of all) {
        for (const part of ['system', 'code', 'display'] as const) {
          if (value[part] === undefined) issues.error('required', `${path}.${part}`, `${path}.${part} is required by CareConnect-Condition-1 (category.coding.${part} 1..1).`);
        }
      }
      const inValueSet = all.some((c) => c.value.system === CC.conditionCategorySystem && CC.conditionCategoryCodes.has(c.value.code as string));
      if (!inValueSet) {
        issues.warning('code-invalid', category.path, `${category.path} has no code from CareConnect-ConditionCategory-1 (${CC.conditionCategorySystem}: problem-list-item | encounter-diagnosis); the binding is extensible, so use it when it fits.`);
      }
    }
  },
  // code.coding:snomedCT (required binding CareConnect-ConditionCode-1), bodySite.coding:snomedCT, stage.summary.coding:snomedCT
  snomedSlices('Condition', { path: 'code' }, { path: 'bodySite' }, { path: 'stage.summary' }),
];

// ----------------------------------------------------------------------------------------------- Medication

/** CareConnect-Medication-1 1.1.0. */
const medicationRules: Rule[] = [
  // code: required binding CareConnect-MedicationCode-1 (dm+d products, which are SNOMED CT UK drug extension
  // concepts). The profile keeps code 0..1: a Medication without one is conformant but identifies nothing, hence
  // a warning.
  (medication, issues) => {
    const [code] = select(medication, 'Medication', 'code');
    if (!code) {
      issues.warning('required', 'Medication.code', 'Medication.code is missing: without a dm+d / SNOMED CT code the medication identifies no product (CareConnect-Medication-1 binds code to CareConnect-MedicationCode-1).');
      return;
    }
    const snomed = codings(code).filter((c) => c.value.system === CC.snomed);
    if (snomed.length === 0) {
      issues.error('code-invalid', 'Medication.code', `Medication.code needs a coding from CareConnect-MedicationCode-1: system ${CC.snomed} with a dm+d concept id (required binding).`);
    }
    for (const coding of snomed) checkSnomedCoding(coding, issues, 'CareConnect-Medication-1 (Medication.code)', false);
  },
  // form: required binding CareConnect-MedicationForm-1; form.coding.system fixed SNOMED CT, code and display 1..1
  (medication, issues) => {
    for (const form of select(medication, 'Medication', 'form')) {
      const all = codings(form);
      if (all.length === 0) {
        issues.error('code-invalid', form.path, `${form.path} needs a SNOMED CT coding (CareConnect-MedicationForm-1, required binding).`);
      }
      for (const coding of all) {
        if (coding.value.system !== CC.snomed) {
          issues.error('value', `${coding.path}.system`, `${coding.path}.system must be ${CC.snomed} (CareConnect-Medication-1 form.coding.system 1..1, fixed).`);
        }
        checkSnomedCoding(coding, issues, 'CareConnect-Medication-1 (form.coding)');
      }
    }
  },
  // ingredient.item[x] 1..1, package.content.item[x] 1..1 (CodeableConcept or Reference)
  (medication, issues) => {
    for (const path of ['ingredient', 'package.content']) {
      for (const { value, path: at } of select(medication, 'Medication', path)) {
        const items = ['itemCodeableConcept', 'itemReference'].filter((k) => value[k] !== undefined).length;
        if (items === 0) issues.error('required', `${at}.item[x]`, `${at}.item[x] is required (CareConnect-Medication-1 ${path}.item[x] 1..1): itemCodeableConcept or itemReference.`);
        if (items > 1) issues.error('structure', `${at}.item[x]`, `${at} has both itemCodeableConcept and itemReference; only one is allowed.`);
      }
    }
  },
];

// ----------------------------------------------------------------------------------------------- the others

/** CareConnect-AllergyIntolerance-1 1.1.0, with the STU3 invariants ait-1 and ait-2. */
const allergyRules: Rule[] = [
  identifierSystemAndValue('AllergyIntolerance'),
  // assertedDate 1..1
  (allergy, issues) => {
    if (allergy.assertedDate === undefined) issues.error('required', 'AllergyIntolerance.assertedDate', 'AllergyIntolerance.assertedDate is required by CareConnect-AllergyIntolerance-1 (assertedDate 1..1).');
  },
  // verificationStatus: required binding CareConnect-AllergyVerificationStatus-1
  (allergy, issues) => {
    const status = allergy.verificationStatus;
    if (typeof status === 'string' && VALUE_SETS.AllergyVerificationStatus.has(status) && !CC.allergyVerificationStatus.has(status)) {
      issues.error('code-invalid', 'AllergyIntolerance.verificationStatus', `AllergyIntolerance.verificationStatus ${quote(status)} is not allowed by CareConnect-AllergyIntolerance-1: unconfirmed | confirmed (required binding).`);
    }
  },
  (allergy, issues) => {
    const errored = allergy.verificationStatus === 'entered-in-error';
    if (!errored && allergy.clinicalStatus === undefined) {
      issues.error('invariant', 'AllergyIntolerance.clinicalStatus', 'AllergyIntolerance.clinicalStatus is required unless the verificationStatus is entered-in-error (ait-1): active | inactive | resolved.');
    }
    if (errored && allergy.clinicalStatus !== undefined) {
      issues.error('invariant', 'AllergyIntolerance.clinicalStatus', 'AllergyIntolerance.clinicalStatus must be absent when the verificationStatus is entered-in-error (ait-2).');
    }
  },
  snomedSlices(
    'AllergyIntolerance',
    { path: 'reaction.substance' },
    { path: 'reaction.manifestation' },
    { path: 'reaction.exposureRoute' },
  ),
];

/**
 * A subject that the profile keeps optional (0..1) but without which a record is in no patient's compartment:
 * patient-scoped clients could never find it. A warning, not an error.
 */
function subjectExpected(type: string): Rule {
  return (resource, issues) => {
    if (resource.subject === undefined) {
      issues.warning('required', `${type}.subject`, `${type}.subject is missing: the ${type} belongs to no patient's record, so patient-scoped clients cannot find it.`);
    }
  };
}

/** CareConnect-Encounter-1 (status 1..1 is base STU3). */
const encounterRules: Rule[] = [identifierSystemAndValue('Encounter'), subjectExpected('Encounter')];

/** CareConnect-Immunization-1: notGiven fixed false; SNOMED CT slices on site, route and targetDisease. */
const immunizationRules: Rule[] = [
  identifierSystemAndValue('Immunization'),
  (immunization, issues) => {
    if (immunization.notGiven === true) {
      issues.error('value', 'Immunization.notGiven', 'Immunization.notGiven must be false: CareConnect-Immunization-1 fixes it (record a vaccination that was given).');
    }
  },
  // vaccinationProtocol.doseSequence 1..1
  (immunization, issues) => {
    for (const { value, path } of select(immunization, 'Immunization', 'vaccinationProtocol')) {
      if (value.doseSequence === undefined) issues.error('required', `${path}.doseSequence`, `${path}.doseSequence is required by CareConnect-Immunization-1 (vaccinationProtocol.doseSequence 1..1).`);
    }
  },
  snomedSlices(
    'Immunization',
    { path: 'site' },
    { path: 'route' },
    { path: 'vaccinationProtocol.targetDisease' },
  ),
];

/** CareConnect-MedicationRequest-1. */
const medicationRequestRules: Rule[] = [identifierSystemAndValue('MedicationRequest')];

/** CareConnect-MedicationStatement-1, with the STU3 invariant mst-1. */
const medicationStatementRules: Rule[] = [
  identifierSystemAndValue('MedicationStatement'),
  (statement, issues) => {
    if (statement.reasonNotTaken !== undefined && statement.taken !== 'n') {
      issues.error('invariant', 'MedicationStatement.reasonNotTaken', "MedicationStatement.reasonNotTaken is only allowed when taken is 'n' (mst-1).");
    }
  },
  snomedSlices('MedicationStatement', { path: 'dosage.route' }),
];

/** CareConnect-Observation-1, with the STU3 invariant obs-6. */
const observationRules: Rule[] = [
  identifierSystemAndValue('Observation'),
  subjectExpected('Observation'),
  (observation, issues) => {
    const hasValue = Object.keys(observation).some((k) => k.startsWith('value') && k.length > 5);
    if (hasValue && observation.dataAbsentReason !== undefined) {
      issues.error('invariant', 'Observation.dataAbsentReason', 'Observation.dataAbsentReason is only allowed when there is no value[x] (obs-6).');
    }
  },
  snomedSlices(
    'Observation',
    { path: 'category' },
    { path: 'code' },
    { path: 'dataAbsentReason' },
    { path: 'bodySite' },
    { path: 'method' },
    { path: 'component.code' },
    { path: 'component.dataAbsentReason' },
  ),
];

/** CareConnect-Procedure-1. */
const procedureRules: Rule[] = [
  identifierSystemAndValue('Procedure'),
  snomedSlices('Procedure', { path: 'code' }, { path: 'bodySite' }, { path: 'complication' }),
];

const FIXED_IDENTIFIER_PARTS = ['use', 'type', 'period', 'assigner'];

/** CareConnect-Practitioner-1: SDS identifiers; address.state and communication 0..0. */
const practitionerRules: Rule[] = [
  identifierSlices(
    'Practitioner',
    { name: 'sdsUserID', system: CC.sdsUserIdSystem, max: 1, forbid: FIXED_IDENTIFIER_PARTS },
    { name: 'sdsRoleProfileID', system: CC.sdsRoleProfileIdSystem, forbid: FIXED_IDENTIFIER_PARTS },
    { name: 'localIdentifier', system: CC.localPractitionerSystem, max: 1 },
  ),
  forbidden('Practitioner', 'address.state', 'communication'),
];

/** CareConnect-PractitionerRole-1: the sdsJobRoleName code slice (coding 1..1 with system, code, display). */
const practitionerRoleRules: Rule[] = [
  (role, issues) => {
    const jobRoles = select(role, 'PractitionerRole', 'code').filter((c) => codings(c).some((k) => k.value.system === CC.sdsJobRoleNameSystem));
    if (jobRoles.length > 1) {
      issues.error('structure', 'PractitionerRole.code', `PractitionerRole has ${jobRoles.length} SDS job role codes; CareConnect-PractitionerRole-1 allows one (sdsJobRoleName 0..1).`);
    }
    for (const concept of jobRoles) {
      const all = codings(concept);
      if (all.length !== 1) issues.error('structure', `${concept.path}.coding`, `${concept.path} needs exactly one coding (sdsJobRoleName.coding 1..1).`);
      for (const { value, path } of all) {
        if (value.code === undefined) issues.error('required', `${path}.code`, `${path}.code is required (sdsJobRoleName).`);
        if (value.display === undefined) issues.error('required', `${path}.display`, `${path}.display is required (sdsJobRoleName).`);
      }
    }
  },
];

/** CareConnect-Organization-1: ODS identifiers; address.state 0..0; contact.name.family 1..1. */
const organizationRules: Rule[] = [
  identifierSlices(
    'Organization',
    { name: 'odsOrganisationCode', system: CC.odsOrganizationSystem, max: 1, forbid: FIXED_IDENTIFIER_PARTS },
    { name: 'odsSiteCode', system: CC.odsSiteSystem, max: 1, forbid: FIXED_IDENTIFIER_PARTS },
  ),
  forbidden('Organization', 'address.state', 'contact.address.state'),
  (organization, issues) => {
    for (const { value, path } of select(organization, 'Organization', 'contact.name')) {
      if (value.family === undefined) issues.error('required', `${path}.family`, `${path}.family is required by CareConnect-Organization-1 (contact.name.family 1..1).`);
    }
  },
];

/** CareConnect-Location-1: ODS site code and local identifier slices; address.state 0..0. */
const locationRules: Rule[] = [
  identifierSlices(
    'Location',
    { name: 'odsSiteCode', system: CC.odsSiteSystem, max: 1, forbid: FIXED_IDENTIFIER_PARTS },
    { name: 'localIdentifier', system: CC.localLocationSystem, max: 1 },
  ),
  forbidden('Location', 'address.state'),
];

/** The Care Connect rules of each type, run in order after the structural checks. */
export const PROFILE_RULES: Record<ResourceType, readonly Rule[]> = {
  Patient: patientRules,
  Practitioner: practitionerRules,
  PractitionerRole: practitionerRoleRules,
  Organization: organizationRules,
  Location: locationRules,
  Encounter: encounterRules,
  Condition: conditionRules,
  Procedure: procedureRules,
  Immunization: immunizationRules,
  MedicationRequest: medicationRequestRules,
  MedicationStatement: medicationStatementRules,
  AllergyIntolerance: allergyRules,
  Medication: medicationRules,
  Observation: observationRules,
};

export function checkProfile(resource: Json, type: ResourceType, issues: Issues): void {
  for (const rule of PROFILE_RULES[type]) rule(resource, issues);
}
