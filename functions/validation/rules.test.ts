/**
 * The rules' outcomes, as a table: a valid example (the conformant fixture, or a valid variation of it) that
 * yields no issue at all, and an invalid example that yields the rule's issue (severity, code, FHIRPath). The
 * rules are the definitions' (functions/fhir-model); these are the hand-picked bad resources of the former
 * hand-written validator, which still fail with the same meaning, except where the served profile version says
 * otherwise (docs/validation.md lists those), plus a few the hand-written validator missed.
 */
import { describe, expect, it } from 'vitest';
import { RESOURCE_TYPES, type ResourceType } from '../../contract/resource-types';
import {
  ETHNIC_SYSTEM,
  ETHNIC_URL,
  NHS_SYSTEM,
  SNOMED,
  VERIFICATION_SYSTEM,
  VERIFICATION_URL,
  fixture,
  type Json,
} from '../../test/validation/fixtures';
import { validateResource } from './index';

interface Case {
  rule: string;
  type: ResourceType;
  /** Makes the fixture break the rule. */
  invalid: (r: Json) => void;
  /** Makes a valid variation that exercises the rule (default: the fixture as it is). */
  valid?: (r: Json) => void;
  severity: 'error' | 'warning';
  code: string;
  expression: string;
}

const nhs = (r: Json) => r.identifier[0];
const verification = (r: Json) => nhs(r).extension[0];

const CASES: Case[] = [
  // ------------------------------------------------------------------ resource level
  { rule: 'resourceType is required', type: 'Patient', invalid: (r) => delete r.resourceType, severity: 'error', code: 'required', expression: 'Patient' },
  { rule: 'resourceType must be a served type', type: 'Patient', invalid: (r) => (r.resourceType = 'Person'), severity: 'error', code: 'not-supported', expression: 'Patient' },
  { rule: 'resourceType must match the endpoint', type: 'Patient', invalid: (r) => (r.resourceType = 'Condition'), severity: 'error', code: 'invalid', expression: 'Patient' },
  { rule: 'id syntax (characters)', type: 'Patient', invalid: (r) => (r.id = 'p 1'), valid: (r) => (r.id = 'A-1.b'), severity: 'error', code: 'value', expression: 'Patient.id' },
  { rule: 'id syntax (length 1..64)', type: 'Condition', invalid: (r) => (r.id = 'x'.repeat(65)), valid: (r) => (r.id = 'x'.repeat(64)), severity: 'error', code: 'value', expression: 'Condition.id' },
  // ------------------------------------------------------------------ element names and JSON shapes
  { rule: 'top-level element names are known', type: 'Patient', invalid: (r) => (r.nhsNumber = '9434765919'), valid: (r) => (r._birthDate = { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthTime', valueDateTime: '1970-02-28T06:30:00Z' }] }), severity: 'error', code: 'structure', expression: 'Patient.nhsNumber' },
  { rule: 'DomainResource elements are known on every type', type: 'Medication', invalid: (r) => (r.subject = { reference: 'Patient/p1' }), valid: (r) => Object.assign(r, { implicitRules: 'http://example.org/rules', language: 'en-GB', modifierExtension: [{ url: 'http://example.org/x', valueBoolean: true }] }), severity: 'error', code: 'structure', expression: 'Medication.subject' },
  { rule: 'choice element names are known', type: 'Patient', invalid: (r) => (r.deceasedString = 'no'), valid: (r) => { delete r.deceasedBoolean; r.deceasedDateTime = '2020-01-01'; }, severity: 'error', code: 'structure', expression: 'Patient.deceasedString' },
  { rule: 'a choice takes one type only', type: 'Patient', invalid: (r) => (r.deceasedDateTime = '2020-01-01'), severity: 'error', code: 'structure', expression: 'Patient.deceased[x]' },
  { rule: 'data type element names are known', type: 'Patient', invalid: (r) => (r.identifier[1].sytem = 'x'), severity: 'error', code: 'structure', expression: 'Patient.identifier[1].sytem' },
  { rule: 'single elements are not arrays', type: 'Patient', invalid: (r) => (r.gender = ['female']), severity: 'error', code: 'structure', expression: 'Patient.gender' },
  { rule: 'repeating elements are arrays', type: 'Patient', invalid: (r) => (r.address = r.address[0]), severity: 'error', code: 'structure', expression: 'Patient.address' },
  { rule: 'no empty arrays', type: 'Patient', invalid: (r) => (r.photo = []), severity: 'error', code: 'structure', expression: 'Patient.photo' },
  { rule: 'no nulls', type: 'Patient', invalid: (r) => (r.active = null), severity: 'error', code: 'structure', expression: 'Patient.active' },
  { rule: 'no empty objects', type: 'Patient', invalid: (r) => (r.managingOrganization = {}), severity: 'error', code: 'structure', expression: 'Patient.managingOrganization' },
  { rule: 'no empty strings inside backbone elements', type: 'Encounter', invalid: (r) => (r.participant[0].individual.display = ''), severity: 'error', code: 'value', expression: 'Encounter.participant[0].individual.display' },
  { rule: 'complex elements are objects', type: 'Condition', invalid: (r) => (r.code = '44054006'), severity: 'error', code: 'structure', expression: 'Condition.code' },
  // ------------------------------------------------------------------ primitive formats
  { rule: 'boolean is a JSON boolean', type: 'Patient', invalid: (r) => (r.active = 'true'), valid: (r) => (r.active = false), severity: 'error', code: 'value', expression: 'Patient.active' },
  { rule: 'date: month 1..12', type: 'Patient', invalid: (r) => (r.birthDate = '1970-13-01'), valid: (r) => (r.birthDate = '1970-12'), severity: 'error', code: 'value', expression: 'Patient.birthDate' },
  { rule: 'date: ISO order, not dd/mm/yyyy', type: 'Patient', invalid: (r) => (r.birthDate = '28/02/1970'), valid: (r) => (r.birthDate = '1970'), severity: 'error', code: 'value', expression: 'Patient.birthDate' },
  { rule: 'date: a real calendar day', type: 'Patient', invalid: (r) => (r.birthDate = '1970-02-30'), valid: (r) => (r.birthDate = '2000-02-29'), severity: 'error', code: 'value', expression: 'Patient.birthDate' },
  { rule: 'date: two-digit month and day', type: 'Patient', invalid: (r) => (r.birthDate = '1970-2-3'), severity: 'error', code: 'value', expression: 'Patient.birthDate' },
  { rule: 'date: no time part', type: 'Patient', invalid: (r) => (r.birthDate = '1970-02-28T00:00:00Z'), severity: 'error', code: 'value', expression: 'Patient.birthDate' },
  { rule: 'dateTime: a time needs a time zone', type: 'Condition', invalid: (r) => (r.onsetDateTime = '2015-06-01T09:30:00'), valid: (r) => (r.onsetDateTime = '2015-06-01T09:30:00.123Z'), severity: 'error', code: 'value', expression: 'Condition.onsetDateTime' },
  { rule: 'dateTime: hours 00..23', type: 'Condition', invalid: (r) => (r.assertedDate = '2015-06-02T24:00:00Z'), valid: (r) => (r.assertedDate = '2015-06'), severity: 'error', code: 'value', expression: 'Condition.assertedDate' },
  { rule: 'dateTime inside a data type (Period.start)', type: 'Encounter', invalid: (r) => (r.period.start = 'yesterday'), severity: 'error', code: 'value', expression: 'Encounter.period.start' },
  { rule: 'instant: a full date and time with zone', type: 'Observation', invalid: (r) => (r.issued = '2020-01-01'), valid: (r) => (r.issued = '2020-01-01T10:05:00+01:00'), severity: 'error', code: 'value', expression: 'Observation.issued' },
  { rule: 'instant: meta.lastUpdated', type: 'Patient', invalid: (r) => (r.meta.lastUpdated = '2024-01-01 00:00'), severity: 'error', code: 'value', expression: 'Patient.meta.lastUpdated' },
  { rule: 'decimal is a JSON number', type: 'Observation', invalid: (r) => (r.valueQuantity.value = '72.5'), valid: (r) => (r.valueQuantity.value = 72), severity: 'error', code: 'value', expression: 'Observation.valueQuantity.value' },
  { rule: 'integer is a whole number', type: 'Patient', invalid: (r) => (r.multipleBirthInteger = 1.5), valid: (r) => (r.multipleBirthInteger = 2), severity: 'error', code: 'value', expression: 'Patient.multipleBirthInteger' },
  { rule: 'positiveInt is 1 or more', type: 'Patient', invalid: (r) => (r.telecom[0].rank = 0), valid: (r) => (r.telecom[0].rank = 1), severity: 'error', code: 'value', expression: 'Patient.telecom[0].rank' },
  { rule: 'code has no surrounding whitespace', type: 'Patient', invalid: (r) => (r.gender = ' female'), severity: 'error', code: 'value', expression: 'Patient.gender' },
  { rule: 'uri has no whitespace', type: 'Patient', invalid: (r) => (r.identifier[1].system = 'local pas'), valid: (r) => (r.identifier[1].system = 'urn:oid:2.16.840.1.113883.2.1.4.1'), severity: 'error', code: 'value', expression: 'Patient.identifier[1].system' },
  { rule: 'string is not empty', type: 'Organization', invalid: (r) => (r.name = ''), severity: 'error', code: 'value', expression: 'Organization.name' },
  { rule: 'xhtml narrative is a div', type: 'Patient', invalid: (r) => (r.text.div = 'Ann Smith'), severity: 'error', code: 'value', expression: 'Patient.text.div' },
  { rule: 'Narrative.div is required', type: 'Patient', invalid: (r) => delete r.text.div, severity: 'error', code: 'required', expression: 'Patient.text.div' },
  // ------------------------------------------------------------------ references
  { rule: 'reference: Type/id', type: 'Condition', invalid: (r) => (r.subject.reference = 'Patient 1'), valid: (r) => (r.subject.reference = 'Patient/p1/_history/2'), severity: 'error', code: 'value', expression: 'Condition.subject.reference' },
  { rule: 'reference: an absolute URL', type: 'Condition', invalid: (r) => (r.subject.reference = 'http//example.org/Patient/1'), valid: (r) => (r.subject.reference = 'https://example.org/fhir/STU3/Patient/p1'), severity: 'error', code: 'value', expression: 'Condition.subject.reference' },
  { rule: 'reference: urn:uuid', type: 'Condition', invalid: (r) => (r.subject.reference = 'urn:uuid:not-a-uuid'), valid: (r) => (r.subject.reference = 'urn:uuid:7d1e2a8b-5c3f-4b6a-9d0e-1f2a3b4c5d6e'), severity: 'error', code: 'value', expression: 'Condition.subject.reference' },
  { rule: 'reference: lower-case type is not a type', type: 'Patient', invalid: (r) => (r.managingOrganization.reference = 'organization/o1'), severity: 'error', code: 'value', expression: 'Patient.managingOrganization.reference' },
  { rule: 'reference: the element allows the target type', type: 'Condition', invalid: (r) => (r.subject.reference = 'Practitioner/pr1'), valid: (r) => (r.subject.reference = 'Group/g1'), severity: 'error', code: 'value', expression: 'Condition.subject.reference' },
  { rule: 'reference: target type of a repeating element', type: 'Patient', invalid: (r) => (r.generalPractitioner[1].reference = 'Patient/p2'), severity: 'error', code: 'value', expression: 'Patient.generalPractitioner[1].reference' },
  { rule: 'reference: well formed inside backbone elements', type: 'MedicationRequest', invalid: (r) => (r.requester.agent.reference = 'Practitioner/'), severity: 'error', code: 'value', expression: 'MedicationRequest.requester.agent.reference' },
  { rule: 'reference: #id needs that contained resource (ref-1)', type: 'Condition', invalid: (r) => (r.asserter.reference = '#pr'), valid: (r) => { r.asserter.reference = '#pr'; r.contained = [{ resourceType: 'Practitioner', id: 'pr', name: [{ use: 'official', family: 'Bhatt' }] }]; }, severity: 'error', code: 'invariant', expression: 'Condition.asserter' },
  { rule: 'contained: referred to from the resource (dom-3)', type: 'Condition', invalid: (r) => (r.contained = [{ resourceType: 'Practitioner', id: 'pr' }]), severity: 'error', code: 'invariant', expression: 'Condition' },
  { rule: 'contained: no meta.versionId (dom-4)', type: 'Condition', invalid: (r) => { r.asserter.reference = '#pr'; r.contained = [{ resourceType: 'Practitioner', id: 'pr', meta: { versionId: '1' } }]; }, severity: 'error', code: 'invariant', expression: 'Condition' },
  { rule: 'contained: its elements are validated', type: 'Condition', invalid: (r) => { r.asserter.reference = '#pr'; r.contained = [{ resourceType: 'Practitioner', id: 'pr', gender: 'mail' }]; }, severity: 'error', code: 'code-invalid', expression: 'Condition.contained[0].gender' },
  // ------------------------------------------------------------------ extensions
  { rule: 'extension: url is required', type: 'Patient', invalid: (r) => delete r.extension[0].url, severity: 'error', code: 'required', expression: 'Patient.extension[0].url' },
  { rule: 'extension: value[x] or extensions, not both (ext-1)', type: 'Patient', invalid: (r) => (r.extension[0].extension = [{ url: 'x', valueString: 'y' }]), severity: 'error', code: 'invariant', expression: 'Patient.extension[0]' },
  { rule: 'extension: its value is validated by type', type: 'Patient', invalid: (r) => r.extension.push({ url: 'http://hl7.org/fhir/StructureDefinition/patient-cadavericDonor', valueBoolean: 'yes' }), valid: (r) => r.extension.push({ url: 'http://hl7.org/fhir/StructureDefinition/patient-cadavericDonor', valueBoolean: true }), severity: 'error', code: 'value', expression: 'Patient.extension[1].valueBoolean' },
  // ------------------------------------------------------------------ data type invariants
  { rule: 'Period: start before end (per-1)', type: 'PractitionerRole', invalid: (r) => (r.period = { start: '2030-01-01', end: '2020-01-01' }), severity: 'error', code: 'invariant', expression: 'PractitionerRole.period' },
  { rule: 'Quantity: a unit code needs a system (qty-3)', type: 'Observation', invalid: (r) => delete r.valueQuantity.system, severity: 'error', code: 'invariant', expression: 'Observation.valueQuantity' },
  { rule: 'ContactPoint: a value needs a system (cpt-2)', type: 'Organization', invalid: (r) => delete r.telecom[0].system, severity: 'error', code: 'invariant', expression: 'Organization.telecom[0]' },
  { rule: 'Annotation.text is required', type: 'Condition', invalid: (r) => delete r.note[0].text, severity: 'error', code: 'required', expression: 'Condition.note[0].text' },
  // ------------------------------------------------------------------ required bindings of the base resources
  ...([
    ['Patient', 'gender', 'mail', 'unknown'],
    ['Practitioner', 'gender', 'f', 'other'],
    ['Encounter', 'status', 'done', 'in-progress'],
    ['Condition', 'clinicalStatus', 'current', 'remission'],
    ['Procedure', 'status', 'done', 'in-progress'],
    ['Immunization', 'status', 'not-done', 'entered-in-error'],
    ['MedicationRequest', 'status', 'pending', 'on-hold'],
    ['MedicationRequest', 'intent', 'request', 'plan'],
    ['MedicationRequest', 'priority', 'high', 'urgent'],
    ['MedicationStatement', 'status', 'taking', 'intended'],
    ['MedicationStatement', 'taken', 'yes', 'unk'],
    ['AllergyIntolerance', 'clinicalStatus', 'current', 'resolved'],
    ['AllergyIntolerance', 'verificationStatus', 'maybe', 'unconfirmed'],
    ['AllergyIntolerance', 'type', 'allergic', 'intolerance'],
    ['AllergyIntolerance', 'criticality', 'severe', 'unable-to-assess'],
    ['Observation', 'status', 'done', 'amended'],
    ['Location', 'status', 'open', 'suspended'],
    ['Location', 'mode', 'virtual', 'kind'],
    ['Medication', 'status', 'available', 'inactive'],
  ] as const).map(([type, element, bad, good]): Case => ({
    rule: `${element} required binding`,
    type,
    invalid: (r) => (r[element] = bad),
    valid: (r) => (r[element] = good),
    severity: 'error',
    code: 'code-invalid',
    expression: `${type}.${element}`,
  })),
  { rule: 'category required binding (repeating code)', type: 'AllergyIntolerance', invalid: (r) => (r.category = ['drug']), valid: (r) => (r.category = ['food', 'biologic']), severity: 'error', code: 'code-invalid', expression: 'AllergyIntolerance.category[0]' },
  { rule: 'Identifier.use required binding', type: 'Patient', invalid: (r) => (r.identifier[1].use = 'primary'), valid: (r) => (r.identifier[1].use = 'secondary'), severity: 'error', code: 'code-invalid', expression: 'Patient.identifier[1].use' },
  { rule: 'ContactPoint.system required binding', type: 'Patient', invalid: (r) => (r.telecom[0].system = 'mobile'), valid: (r) => (r.telecom[0].system = 'sms'), severity: 'error', code: 'code-invalid', expression: 'Patient.telecom[0].system' },
  // ------------------------------------------------------------------ required elements of the base resources
  ...([
    ['Encounter', 'status'],
    ['Procedure', 'status'],
    ['Procedure', 'subject'],
    ['Immunization', 'status'],
    ['Immunization', 'notGiven'],
    ['Immunization', 'vaccineCode'],
    ['Immunization', 'patient'],
    ['Immunization', 'primarySource'],
    ['MedicationRequest', 'intent'],
    ['MedicationRequest', 'subject'],
    ['MedicationStatement', 'status'],
    ['MedicationStatement', 'subject'],
    ['MedicationStatement', 'taken'],
    ['AllergyIntolerance', 'verificationStatus'],
    ['AllergyIntolerance', 'patient'],
    ['Observation', 'status'],
    ['Observation', 'code'],
  ] as const).map(([type, element]): Case => ({
    rule: `${element} is required`,
    type,
    invalid: (r) => delete r[element],
    severity: 'error',
    code: 'required',
    expression: `${type}.${element}`,
  })),
  { rule: 'medication[x] is required', type: 'MedicationRequest', invalid: (r) => delete r.medicationReference, valid: (r) => (r.medicationReference = { reference: 'Medication/m2' }), severity: 'error', code: 'required', expression: 'MedicationRequest.medication[x]' },
  { rule: 'medication[x] is required', type: 'MedicationStatement', invalid: (r) => delete r.medicationReference, valid: (r) => (r.medicationReference = { reference: 'Medication/m2' }), severity: 'error', code: 'required', expression: 'MedicationStatement.medication[x]' },
  // ------------------------------------------------------------------ CareConnect-Patient-1
  { rule: 'NHS number: Modulus 11 check digit', type: 'Patient', invalid: (r) => (nhs(r).value = '9434765918'), valid: (r) => (nhs(r).value = '9000000009'), severity: 'error', code: 'value', expression: 'Patient.identifier[0].value' },
  { rule: 'NHS number: a check digit of 10 means no valid number', type: 'Patient', invalid: (r) => (nhs(r).value = '9434765960'), severity: 'error', code: 'value', expression: 'Patient.identifier[0].value' },
  { rule: 'NHS number: 10 digits (not 9)', type: 'Patient', invalid: (r) => (nhs(r).value = '943476591'), severity: 'error', code: 'value', expression: 'Patient.identifier[0].value' },
  { rule: 'NHS number: no spaces', type: 'Patient', invalid: (r) => (nhs(r).value = '943 476 5919'), severity: 'error', code: 'value', expression: 'Patient.identifier[0].value' },
  { rule: 'NHS number: value is required', type: 'Patient', invalid: (r) => delete nhs(r).value, severity: 'error', code: 'required', expression: 'Patient.identifier[0].value' },
  { rule: 'NHS number: at most one (nhsNumber 0..1)', type: 'Patient', invalid: (r) => r.identifier.push(structuredClone(nhs(r))), valid: (r) => r.identifier.splice(0, 1), severity: 'error', code: 'structure', expression: 'Patient.identifier' },
  { rule: 'NHS number: verification status extension is required', type: 'Patient', invalid: (r) => delete nhs(r).extension, severity: 'error', code: 'required', expression: 'Patient.identifier[0].extension' },
  { rule: 'NHS number: one verification status extension', type: 'Patient', invalid: (r) => nhs(r).extension.push(structuredClone(verification(r))), severity: 'error', code: 'structure', expression: 'Patient.identifier[0].extension' },
  { rule: 'NHS number: verification status code 01..08', type: 'Patient', invalid: (r) => (verification(r).valueCodeableConcept.coding[0].code = '09'), valid: (r) => (verification(r).valueCodeableConcept.coding[0].code = '08'), severity: 'error', code: 'code-invalid', expression: 'Patient.identifier[0].extension[0].valueCodeableConcept' },
  { rule: 'NHS number: verification status from its CodeSystem', type: 'Patient', invalid: (r) => (verification(r).valueCodeableConcept.coding[0].system = 'https://fhir.nhs.uk/STU3/CodeSystem/CareConnect-NHSNumberVerificationStatus-1'), severity: 'error', code: 'code-invalid', expression: 'Patient.identifier[0].extension[0].valueCodeableConcept' },
  { rule: 'NHS number: verification status is a valueCodeableConcept', type: 'Patient', invalid: (r) => { delete verification(r).valueCodeableConcept; verification(r).valueCode = '01'; }, severity: 'error', code: 'required', expression: 'Patient.identifier[0].extension[0].value[x]' },
  { rule: 'an official name is required (official 1..1)', type: 'Patient', invalid: (r) => (r.name[0].use = 'usual'), valid: (r) => (r.name = [r.name[0]]), severity: 'error', code: 'required', expression: 'Patient.name' },
  { rule: 'one official name only', type: 'Patient', invalid: (r) => (r.name[1] = { use: 'official', family: 'Jones' }), severity: 'error', code: 'structure', expression: 'Patient.name' },
  { rule: 'the official name has a family name', type: 'Patient', invalid: (r) => delete r.name[0].family, severity: 'error', code: 'required', expression: 'Patient.name[0].family' },
  { rule: 'name.use required binding', type: 'Patient', invalid: (r) => (r.name[1].use = 'alias'), severity: 'error', code: 'code-invalid', expression: 'Patient.name[1].use' },
  { rule: 'telecom.system is required', type: 'Patient', invalid: (r) => delete r.telecom[0].system, severity: 'error', code: 'required', expression: 'Patient.telecom[0].system' },
  { rule: 'telecom.value is required', type: 'Patient', invalid: (r) => delete r.telecom[0].value, valid: (r) => r.telecom.push({ system: 'email', value: 'ann@example.org' }), severity: 'error', code: 'required', expression: 'Patient.telecom[0].value' },
  { rule: 'animal is not allowed (0..0)', type: 'Patient', invalid: (r) => (r.animal = { species: { text: 'Dog' } }), severity: 'error', code: 'structure', expression: 'Patient.animal' },
  { rule: 'communication is not allowed (0..0)', type: 'Patient', invalid: (r) => (r.communication = [{ language: { text: 'English' } }]), severity: 'error', code: 'structure', expression: 'Patient.communication' },
  { rule: 'maritalStatus required binding', type: 'Patient', invalid: (r) => (r.maritalStatus.coding[0].code = 'X'), valid: (r) => (r.maritalStatus.coding[0] = { system: 'http://hl7.org/fhir/v3/NullFlavor', code: 'UNK', display: 'unknown' }), severity: 'error', code: 'code-invalid', expression: 'Patient.maritalStatus' },
  { rule: 'maritalStatus.coding.display is required', type: 'Patient', invalid: (r) => delete r.maritalStatus.coding[0].display, severity: 'error', code: 'required', expression: 'Patient.maritalStatus.coding[0].display' },
  { rule: 'maritalStatus has one coding', type: 'Patient', invalid: (r) => r.maritalStatus.coding.push({ system: 'http://example.org', code: 'm', display: 'married' }), severity: 'error', code: 'structure', expression: 'Patient.maritalStatus.coding' },
  { rule: 'gender required binding (CareConnect-AdministrativeGender-1)', type: 'Patient', invalid: (r) => (r.gender = 'F'), valid: (r) => (r.gender = 'other'), severity: 'error', code: 'code-invalid', expression: 'Patient.gender' },
  { rule: 'contact.name is required', type: 'Patient', invalid: (r) => delete r.contact[0].name, severity: 'error', code: 'required', expression: 'Patient.contact[0].name' },
  { rule: 'contact.name.use is required', type: 'Patient', invalid: (r) => delete r.contact[0].name.use, severity: 'error', code: 'required', expression: 'Patient.contact[0].name.use' },
  { rule: 'contact.gender required binding', type: 'Patient', invalid: (r) => (r.contact[0].gender = 'man'), severity: 'error', code: 'code-invalid', expression: 'Patient.contact[0].gender' },
  { rule: 'ethnic category required binding', type: 'Patient', invalid: (r) => (r.extension[0].valueCodeableConcept.coding[0].code = 'Q'), valid: (r) => (r.extension[0].valueCodeableConcept.coding[0].code = 'Z'), severity: 'error', code: 'code-invalid', expression: 'Patient.extension[0].valueCodeableConcept' },
  { rule: 'ethnic category from its CodeSystem', type: 'Patient', invalid: (r) => (r.extension[0].valueCodeableConcept.coding[0].system = 'https://fhir.nhs.uk/STU3/CodeSystem/CareConnect-EthnicCategory-1'), severity: 'error', code: 'code-invalid', expression: 'Patient.extension[0].valueCodeableConcept' },
  { rule: 'one ethnic category extension', type: 'Patient', invalid: (r) => r.extension.push({ url: ETHNIC_URL, valueCodeableConcept: { coding: [{ system: ETHNIC_SYSTEM, code: 'B' }] } }), severity: 'error', code: 'structure', expression: 'Patient.extension' },
  // ------------------------------------------------------------------ CareConnect-Condition-1
  { rule: 'subject is required', type: 'Condition', invalid: (r) => delete r.subject, severity: 'error', code: 'required', expression: 'Condition.subject' },
  { rule: 'verificationStatus is not allowed (0..0)', type: 'Condition', invalid: (r) => (r.verificationStatus = 'confirmed'), severity: 'error', code: 'structure', expression: 'Condition.verificationStatus' },
  { rule: 'clinicalStatus is required (con-3)', type: 'Condition', invalid: (r) => delete r.clinicalStatus, severity: 'error', code: 'invariant', expression: 'Condition' },
  { rule: 'an abated condition is not active (con-4)', type: 'Condition', invalid: (r) => (r.abatementDateTime = '2020-01-01'), valid: (r) => { r.abatementDateTime = '2020-01-01'; r.clinicalStatus = 'resolved'; }, severity: 'error', code: 'invariant', expression: 'Condition' },
  { rule: 'category: problem-list-item | encounter-diagnosis (extensible)', type: 'Condition', invalid: (r) => (r.category[0].coding[0] = { system: 'http://example.org/category', code: 'x', display: 'X' }), valid: (r) => (r.category[0].coding[0].code = 'encounter-diagnosis'), severity: 'warning', code: 'code-invalid', expression: 'Condition.category[0]' },
  { rule: 'category.coding.display is required', type: 'Condition', invalid: (r) => delete r.category[0].coding[0].display, severity: 'error', code: 'required', expression: 'Condition.category[0].coding[0].display' },
  { rule: 'SNOMED CT coding: display is required', type: 'Condition', invalid: (r) => delete r.code.coding[0].display, valid: (r) => r.code.coding.push({ system: 'http://read.info/ctv3', code: 'X40J5' }), severity: 'error', code: 'required', expression: 'Condition.code.coding[0].display' },
  { rule: 'SNOMED CT coding: code is required', type: 'Condition', invalid: (r) => delete r.code.coding[0].code, severity: 'error', code: 'required', expression: 'Condition.code.coding[0].code' },
  { rule: 'SNOMED CT coding: a concept id with a valid check digit', type: 'Condition', invalid: (r) => (r.code.coding[0].code = '44054007'), valid: (r) => (r.code.coding[0] = { system: SNOMED, code: '38341003', display: 'Hypertensive disorder' }), severity: 'error', code: 'code-invalid', expression: 'Condition.code.coding[0].code' },
  { rule: 'SNOMED CT coding: one per concept (snomedCT 0..1)', type: 'Condition', invalid: (r) => r.code.coding.push({ system: SNOMED, code: '38341003', display: 'Hypertensive disorder' }), severity: 'error', code: 'structure', expression: 'Condition.code.coding' },
  { rule: 'SNOMED CT slice on bodySite', type: 'Condition', invalid: (r) => (r.bodySite = [{ coding: [{ system: SNOMED, code: '368208006' }] }]), valid: (r) => (r.bodySite = [{ coding: [{ system: SNOMED, code: '368208006', display: 'Left upper arm structure' }] }]), severity: 'error', code: 'required', expression: 'Condition.bodySite[0].coding[0].display' },
  { rule: 'identifier.system is required', type: 'Condition', invalid: (r) => delete r.identifier[0].system, severity: 'error', code: 'required', expression: 'Condition.identifier[0].system' },
  { rule: 'identifier.value is required', type: 'Condition', invalid: (r) => delete r.identifier[0].value, severity: 'error', code: 'required', expression: 'Condition.identifier[0].value' },
  // ------------------------------------------------------------------ CareConnect-Medication-1
  { rule: 'code: a dm+d / SNOMED CT coding (required binding)', type: 'Medication', invalid: (r) => (r.code = { coding: [{ system: 'https://example.org/drugs', code: 'PARA500' }] }), valid: (r) => r.code.coding.push({ system: 'https://example.org/drugs', code: 'PARA500' }), severity: 'error', code: 'code-invalid', expression: 'Medication.code' },
  { rule: 'code: a valid dm+d concept id', type: 'Medication', invalid: (r) => (r.code.coding[0].code = '42109611000001108'), severity: 'error', code: 'code-invalid', expression: 'Medication.code.coding[0].code' },
  { rule: 'form.coding.system is SNOMED CT', type: 'Medication', invalid: (r) => (r.form.coding[0].system = 'http://example.org/forms'), severity: 'error', code: 'value', expression: 'Medication.form.coding[0].system' },
  { rule: 'form.coding.display is required', type: 'Medication', invalid: (r) => delete r.form.coding[0].display, severity: 'error', code: 'required', expression: 'Medication.form.coding[0].display' },
  { rule: 'form.coding.code is required', type: 'Medication', invalid: (r) => delete r.form.coding[0].code, severity: 'error', code: 'required', expression: 'Medication.form.coding[0].code' },
  { rule: 'ingredient.item[x] is required', type: 'Medication', invalid: (r) => delete r.ingredient[0].itemCodeableConcept, valid: (r) => { delete r.ingredient[0].itemCodeableConcept; r.ingredient[0].itemReference = { reference: 'Substance/s1' }; }, severity: 'error', code: 'required', expression: 'Medication.ingredient[0].item[x]' },
  { rule: 'package.content.item[x] is required', type: 'Medication', invalid: (r) => delete r.package.content[0].itemReference, severity: 'error', code: 'required', expression: 'Medication.package.content[0].item[x]' },
  { rule: 'manufacturer is an Organization', type: 'Medication', invalid: (r) => (r.manufacturer = { reference: 'Practitioner/pr1' }), valid: (r) => (r.manufacturer = { reference: 'Organization/o1' }), severity: 'error', code: 'value', expression: 'Medication.manufacturer.reference' },
  // ------------------------------------------------------------------ the other profiles
  { rule: 'assertedDate is required', type: 'AllergyIntolerance', invalid: (r) => delete r.assertedDate, severity: 'error', code: 'required', expression: 'AllergyIntolerance.assertedDate' },
  { rule: 'verificationStatus: unconfirmed | confirmed', type: 'AllergyIntolerance', invalid: (r) => (r.verificationStatus = 'refuted'), valid: (r) => (r.verificationStatus = 'unconfirmed'), severity: 'error', code: 'code-invalid', expression: 'AllergyIntolerance.verificationStatus' },
  { rule: 'clinicalStatus is required (ait-1)', type: 'AllergyIntolerance', invalid: (r) => delete r.clinicalStatus, severity: 'error', code: 'invariant', expression: 'AllergyIntolerance' },
  { rule: 'no clinicalStatus when entered in error (ait-2)', type: 'AllergyIntolerance', invalid: (r) => (r.verificationStatus = 'entered-in-error'), severity: 'error', code: 'invariant', expression: 'AllergyIntolerance' },
  { rule: 'SNOMED CT slice on reaction.manifestation', type: 'AllergyIntolerance', invalid: (r) => delete r.reaction[0].manifestation[0].coding[0].display, severity: 'error', code: 'required', expression: 'AllergyIntolerance.reaction[0].manifestation[0].coding[0].display' },
  { rule: 'patient is a Patient', type: 'AllergyIntolerance', invalid: (r) => (r.patient.reference = 'Group/g1'), severity: 'error', code: 'value', expression: 'AllergyIntolerance.patient.reference' },
  { rule: 'vaccinationProtocol.doseSequence is required', type: 'Immunization', invalid: (r) => delete r.vaccinationProtocol[0].doseSequence, severity: 'error', code: 'required', expression: 'Immunization.vaccinationProtocol[0].doseSequence' },
  { rule: 'SNOMED CT slice on site', type: 'Immunization', invalid: (r) => delete r.site.coding[0].display, severity: 'error', code: 'required', expression: 'Immunization.site.coding[0].display' },
  { rule: 'SNOMED CT slice on vaccinationProtocol.targetDisease', type: 'Immunization', invalid: (r) => (r.vaccinationProtocol[0].targetDisease[0].coding[0].code = '6142005'), severity: 'error', code: 'code-invalid', expression: 'Immunization.vaccinationProtocol[0].targetDisease[0].coding[0].code' },
  { rule: 'identifier.value is required', type: 'Immunization', invalid: (r) => delete r.identifier[0].value, severity: 'error', code: 'required', expression: 'Immunization.identifier[0].value' },
  { rule: 'reasonNotTaken only when not taken (mst-1)', type: 'MedicationStatement', invalid: (r) => (r.reasonNotTaken = [{ text: 'Forgot' }]), valid: (r) => { r.taken = 'n'; r.reasonNotTaken = [{ text: 'Forgot' }]; }, severity: 'error', code: 'invariant', expression: 'MedicationStatement' },
  { rule: 'SNOMED CT slice on dosage.route', type: 'MedicationStatement', invalid: (r) => (r.dosage[0].route = { coding: [{ system: SNOMED, code: '26643006' }] }), valid: (r) => (r.dosage[0].route = { coding: [{ system: SNOMED, code: '26643006', display: 'Oral route' }] }), severity: 'error', code: 'required', expression: 'MedicationStatement.dosage[0].route.coding[0].display' },
  { rule: 'identifier.system is required', type: 'MedicationRequest', invalid: (r) => delete r.identifier[0].system, severity: 'error', code: 'required', expression: 'MedicationRequest.identifier[0].system' },
  { rule: 'medicationReference is a Medication', type: 'MedicationRequest', invalid: (r) => (r.medicationReference.reference = 'Substance/s1'), severity: 'error', code: 'value', expression: 'MedicationRequest.medicationReference.reference' },
  { rule: 'dataAbsentReason only without a value (obs-6)', type: 'Observation', invalid: (r) => (r.dataAbsentReason = { text: 'Not asked' }), valid: (r) => { delete r.valueQuantity; r.dataAbsentReason = { text: 'Not asked' }; }, severity: 'error', code: 'invariant', expression: 'Observation' },
  { rule: 'SNOMED CT slice on code', type: 'Observation', invalid: (r) => delete r.code.coding[0].display, valid: (r) => r.code.coding.push({ system: 'http://loinc.org', code: '29463-7' }), severity: 'error', code: 'required', expression: 'Observation.code.coding[0].display' },
  { rule: 'value[x] takes one type', type: 'Observation', invalid: (r) => (r.valueString = '72.5 kg'), severity: 'error', code: 'structure', expression: 'Observation.value[x]' },
  { rule: 'SNOMED CT slice on code', type: 'Procedure', invalid: (r) => delete r.code.coding[0].display, severity: 'error', code: 'required', expression: 'Procedure.code.coding[0].display' },
  { rule: 'subject is a Patient or Group', type: 'Procedure', invalid: (r) => (r.subject.reference = 'Location/l1'), severity: 'error', code: 'value', expression: 'Procedure.subject.reference' },
  { rule: 'identifier.value is required', type: 'Encounter', invalid: (r) => delete r.identifier[0].value, severity: 'error', code: 'required', expression: 'Encounter.identifier[0].value' },
  { rule: 'SDS user id: at most one (sdsUserID 0..1)', type: 'Practitioner', invalid: (r) => r.identifier.push({ system: 'https://fhir.nhs.uk/Id/sds-user-id', value: 'G8000002' }), valid: (r) => r.identifier.push({ system: 'https://fhir.nhs.uk/Id/sds-role-profile-id', value: 'R8000' }), severity: 'error', code: 'structure', expression: 'Practitioner.identifier' },
  { rule: 'SDS user id: value is required', type: 'Practitioner', invalid: (r) => delete r.identifier[0].value, severity: 'error', code: 'required', expression: 'Practitioner.identifier[0].value' },
  { rule: 'communication is not allowed', type: 'Practitioner', invalid: (r) => (r.communication = [{ text: 'English' }]), severity: 'error', code: 'structure', expression: 'Practitioner.communication' },
  { rule: 'ODS code: at most one', type: 'Organization', invalid: (r) => r.identifier.push({ system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'B82005' }), valid: (r) => r.identifier.push({ system: 'https://fhir.nhs.uk/Id/ods-site-code', value: 'A81001S' }), severity: 'error', code: 'structure', expression: 'Organization.identifier' },
  { rule: 'ODS code: value is required', type: 'Organization', invalid: (r) => delete r.identifier[0].value, severity: 'error', code: 'required', expression: 'Organization.identifier[0].value' },
  { rule: 'contact.name.family is required', type: 'Organization', invalid: (r) => (r.contact[0].name = { given: ['Sam'] }), severity: 'error', code: 'required', expression: 'Organization.contact[0].name.family' },
  { rule: 'partOf is an Organization', type: 'Organization', invalid: (r) => (r.partOf = { reference: 'Location/l1' }), valid: (r) => (r.partOf = { reference: 'Organization/o2' }), severity: 'error', code: 'value', expression: 'Organization.partOf.reference' },
  { rule: 'ODS site code: at most one', type: 'Location', invalid: (r) => r.identifier.push({ system: 'https://fhir.nhs.uk/Id/ods-site-code', value: 'RR814' }), severity: 'error', code: 'structure', expression: 'Location.identifier' },
  { rule: 'managingOrganization is an Organization', type: 'Location', invalid: (r) => (r.managingOrganization.reference = 'Practitioner/pr1'), severity: 'error', code: 'value', expression: 'Location.managingOrganization.reference' },
  { rule: 'SDS job role: display is required', type: 'PractitionerRole', invalid: (r) => delete r.code[0].coding[0].display, severity: 'error', code: 'required', expression: 'PractitionerRole.code[0].coding[0].display' },
  { rule: 'practitioner is a Practitioner', type: 'PractitionerRole', invalid: (r) => (r.practitioner.reference = 'Organization/o1'), severity: 'error', code: 'value', expression: 'PractitionerRole.practitioner.reference' },
  // ------------------------------------------------------------------ rules the old hand-written validator did not have
  { rule: 'a component with the code of the Observation has no value of its own (obs-7, as corrected in R4)', type: 'Observation', invalid: (r) => (r.component = [{ code: structuredClone(r.code), valueQuantity: { value: 1 } }]), valid: (r) => (r.component = [{ code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] }, valueQuantity: { value: 1 } }]), severity: 'error', code: 'invariant', expression: 'Observation' },
  { rule: 'a base-required element inside a backbone (vaccinationProtocol.doseStatus 1..1)', type: 'Immunization', invalid: (r) => delete r.vaccinationProtocol[0].doseStatus, severity: 'error', code: 'required', expression: 'Immunization.vaccinationProtocol[0].doseStatus' },
  { rule: 'a choice narrowed to one type by the profile (medicationReference only)', type: 'MedicationRequest', invalid: (r) => { delete r.medicationReference; r.medicationCodeableConcept = { coding: [{ system: SNOMED, code: '42109611000001109', display: 'Paracetamol 500mg tablets' }] }; }, severity: 'error', code: 'structure', expression: 'MedicationRequest.medicationCodeableConcept' },
  { rule: 'an extension inside an extension is checked against its definition (NHSCommunication.language)', type: 'Patient', invalid: (r) => r.extension.push({ url: 'https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-NHSCommunication-1', extension: [{ url: 'language', valueString: 'en' }] }), valid: (r) => r.extension.push({ url: 'https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-NHSCommunication-1', extension: [{ url: 'language', valueCodeableConcept: { coding: [{ system: 'https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-HumanLanguage-1', code: 'en', display: 'English' }] } }] }), severity: 'error', code: 'structure', expression: 'Patient.extension[1].extension[0].valueString' },
  { rule: 'an extensible binding gives a warning (Condition.category)', type: 'Condition', invalid: (r) => (r.category[0].coding[0] = { system: 'http://hl7.org/fhir/condition-category', code: 'problem-list-item', display: 'Problem List Item' }), severity: 'warning', code: 'code-invalid', expression: 'Condition.category[0]' },
];

/** The issues but the notes every SNOMED CT coding gets (membership unchecked without a terminology server). */
async function findings(resource: Json, type: ResourceType) {
  const issues = await validateResource(resource, type);
  return issues.filter((i) => !(i.severity === 'warning' && i.code === 'not-supported'));
}

describe('every served type', () => {
  it.each(RESOURCE_TYPES)('has a conformant %s example with no issues at all', async (type) => {
    expect(await findings(fixture(type), type)).toEqual([]);
  });
});

describe.each(CASES)('$type: $rule', ({ type, invalid, valid, severity, code, expression }) => {
  it('accepts the valid example without any issue', async () => {
    const resource = fixture(type);
    valid?.(resource);
    expect(await findings(resource, type)).toEqual([]);
  });

  it(`reports the invalid example as ${severity} ${code} at ${expression}`, async () => {
    const resource = fixture(type);
    invalid(resource);
    const issues = await validateResource(resource, type);
    expect(issues.map((i) => `${i.severity} ${i.code} ${i.expression[0]}`)).toContain(`${severity} ${code} ${expression}`);
    for (const issue of issues) expect(issue.diagnostics.length).toBeGreaterThan(20);
  });
});

describe('the NHS number diagnostics', () => {
  it.each([
    ['9434765918', 'check digit'],
    ['943476591', '10 digits'],
  ])('explain what is wrong with %s (%s)', async (value, words) => {
    const resource = fixture('Patient');
    resource.identifier[0] = {
      system: NHS_SYSTEM,
      value,
      extension: [{ url: VERIFICATION_URL, valueCodeableConcept: { coding: [{ system: VERIFICATION_SYSTEM, code: '01' }] } }],
    };
    const [issue] = await findings(resource, 'Patient');
    expect(issue?.diagnostics).toContain(words);
    expect(issue?.diagnostics).toContain('nhs-number-mod11');
  });
});
