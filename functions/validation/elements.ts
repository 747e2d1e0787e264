/**
 * The element tables of the STU3 (3.0.1) resources this server serves and of the data types they use, written in
 * a one-line notation and compiled once, at module load, into lookup maps:
 *
 *   `Type`                 one value of the type (0..1)
 *   `Type*`                a JSON array of values (0..*)
 *   `...!`                 required (min 1)
 *   `... @ValueSet`        a required binding to a code list of `value-sets.ts`
 *   `Reference(A|B)`       a Reference to one of these resource types (`Reference` alone: any type)
 *   `A|B` on `name[x]`     a choice element: one of `nameA`, `nameB`
 *   `Backbone`, `Element`, `SampledData`  structure not described here: walked generically (references,
 *                        extensions, empties)
 *
 * Sources: https://hl7.org/fhir/STU3/<type>.html (element names, types, cardinalities, required bindings);
 * `elements.test.ts` cross-checks the names against the @types/fhir STU3 interfaces.
 */
import type { ResourceType } from '../fhir/resource-types';
import { PRIMITIVE_TYPES } from './primitives';
import { isValueSetName, type ValueSetName } from './value-sets';

/** Resource (https://hl7.org/fhir/STU3/resource.html) and DomainResource (https://hl7.org/fhir/STU3/domainresource.html). */
const DOMAIN_RESOURCE = {
  id: 'id',
  meta: 'Meta',
  implicitRules: 'uri',
  language: 'code',
  text: 'Narrative',
  contained: 'Resource*',
  extension: 'Extension*',
  modifierExtension: 'Extension*',
} as const;

const RESOURCES: Record<ResourceType, Record<string, string>> = {
  Patient: {
    identifier: 'Identifier*',
    active: 'boolean',
    name: 'HumanName*',
    telecom: 'ContactPoint*',
    gender: 'code @AdministrativeGender',
    birthDate: 'date',
    'deceased[x]': 'boolean|dateTime',
    address: 'Address*',
    maritalStatus: 'CodeableConcept',
    'multipleBirth[x]': 'boolean|integer',
    photo: 'Attachment*',
    contact: 'Backbone*',
    animal: 'Backbone',
    communication: 'Backbone*',
    generalPractitioner: 'Reference(Organization|Practitioner)*',
    managingOrganization: 'Reference(Organization)',
    link: 'Backbone*',
  },
  Practitioner: {
    identifier: 'Identifier*',
    active: 'boolean',
    name: 'HumanName*',
    telecom: 'ContactPoint*',
    address: 'Address*',
    gender: 'code @AdministrativeGender',
    birthDate: 'date',
    photo: 'Attachment*',
    qualification: 'Backbone*',
    communication: 'CodeableConcept*',
  },
  PractitionerRole: {
    identifier: 'Identifier*',
    active: 'boolean',
    period: 'Period',
    practitioner: 'Reference(Practitioner)',
    organization: 'Reference(Organization)',
    code: 'CodeableConcept*',
    specialty: 'CodeableConcept*',
    location: 'Reference(Location)*',
    healthcareService: 'Reference(HealthcareService)*',
    telecom: 'ContactPoint*',
    availableTime: 'Backbone*',
    notAvailable: 'Backbone*',
    availabilityExceptions: 'string',
    endpoint: 'Reference(Endpoint)*',
  },
  Organization: {
    identifier: 'Identifier*',
    active: 'boolean',
    type: 'CodeableConcept*',
    name: 'string',
    alias: 'string*',
    telecom: 'ContactPoint*',
    address: 'Address*',
    partOf: 'Reference(Organization)',
    contact: 'Backbone*',
    endpoint: 'Reference(Endpoint)*',
  },
  Location: {
    identifier: 'Identifier*',
    status: 'code @LocationStatus',
    operationalStatus: 'Coding',
    name: 'string',
    alias: 'string*',
    description: 'string',
    mode: 'code @LocationMode',
    type: 'CodeableConcept',
    telecom: 'ContactPoint*',
    address: 'Address',
    physicalType: 'CodeableConcept',
    position: 'Backbone',
    managingOrganization: 'Reference(Organization)',
    partOf: 'Reference(Location)',
    endpoint: 'Reference(Endpoint)*',
  },
  Encounter: {
    identifier: 'Identifier*',
    status: 'code! @EncounterStatus',
    statusHistory: 'Backbone*',
    class: 'Coding',
    classHistory: 'Backbone*',
    type: 'CodeableConcept*',
    priority: 'CodeableConcept',
    subject: 'Reference(Patient|Group)',
    episodeOfCare: 'Reference(EpisodeOfCare)*',
    incomingReferral: 'Reference(ReferralRequest)*',
    participant: 'Backbone*',
    appointment: 'Reference(Appointment)',
    period: 'Period',
    length: 'Duration',
    reason: 'CodeableConcept*',
    diagnosis: 'Backbone*',
    account: 'Reference(Account)*',
    hospitalization: 'Backbone',
    location: 'Backbone*',
    serviceProvider: 'Reference(Organization)',
    partOf: 'Reference(Encounter)',
  },
  Condition: {
    identifier: 'Identifier*',
    clinicalStatus: 'code @ConditionClinicalStatus',
    verificationStatus: 'code @ConditionVerificationStatus',
    category: 'CodeableConcept*',
    severity: 'CodeableConcept',
    code: 'CodeableConcept',
    bodySite: 'CodeableConcept*',
    subject: 'Reference(Patient|Group)!',
    context: 'Reference(Encounter|EpisodeOfCare)',
    'onset[x]': 'dateTime|Age|Period|Range|string',
    'abatement[x]': 'dateTime|Age|boolean|Period|Range|string',
    assertedDate: 'dateTime',
    asserter: 'Reference(Practitioner|Patient|RelatedPerson)',
    stage: 'Backbone',
    evidence: 'Backbone*',
    note: 'Annotation*',
  },
  Procedure: {
    identifier: 'Identifier*',
    definition: 'Reference(PlanDefinition|ActivityDefinition|HealthcareService)*',
    basedOn: 'Reference(CarePlan|ProcedureRequest|ReferralRequest)*',
    partOf: 'Reference(Procedure|Observation|MedicationAdministration)*',
    status: 'code! @EventStatus',
    notDone: 'boolean',
    notDoneReason: 'CodeableConcept',
    category: 'CodeableConcept',
    code: 'CodeableConcept',
    subject: 'Reference(Patient|Group)!',
    context: 'Reference(Encounter|EpisodeOfCare)',
    'performed[x]': 'dateTime|Period',
    performer: 'Backbone*',
    location: 'Reference(Location)',
    reasonCode: 'CodeableConcept*',
    reasonReference: 'Reference(Condition|Observation)*',
    bodySite: 'CodeableConcept*',
    outcome: 'CodeableConcept',
    report: 'Reference(DiagnosticReport)*',
    complication: 'CodeableConcept*',
    complicationDetail: 'Reference(Condition)*',
    followUp: 'CodeableConcept*',
    note: 'Annotation*',
    focalDevice: 'Backbone*',
    usedReference: 'Reference(Device|Medication|Substance)*',
    usedCode: 'CodeableConcept*',
  },
  Immunization: {
    identifier: 'Identifier*',
    status: 'code! @ImmunizationStatus',
    notGiven: 'boolean!',
    vaccineCode: 'CodeableConcept!',
    patient: 'Reference(Patient)!',
    encounter: 'Reference(Encounter)',
    date: 'dateTime',
    primarySource: 'boolean!',
    reportOrigin: 'CodeableConcept',
    location: 'Reference(Location)',
    manufacturer: 'Reference(Organization)',
    lotNumber: 'string',
    expirationDate: 'date',
    site: 'CodeableConcept',
    route: 'CodeableConcept',
    doseQuantity: 'Quantity',
    practitioner: 'Backbone*',
    note: 'Annotation*',
    explanation: 'Backbone',
    reaction: 'Backbone*',
    vaccinationProtocol: 'Backbone*',
  },
  MedicationRequest: {
    identifier: 'Identifier*',
    definition: 'Reference(ActivityDefinition|PlanDefinition)*',
    basedOn: 'Reference(CarePlan|MedicationRequest|ProcedureRequest|ReferralRequest)*',
    groupIdentifier: 'Identifier',
    status: 'code @MedicationRequestStatus',
    intent: 'code! @MedicationRequestIntent',
    category: 'CodeableConcept',
    priority: 'code @MedicationRequestPriority',
    'medication[x]': 'CodeableConcept|Reference(Medication)!',
    subject: 'Reference(Patient|Group)!',
    context: 'Reference(Encounter|EpisodeOfCare)',
    supportingInformation: 'Reference*',
    authoredOn: 'dateTime',
    requester: 'Backbone',
    recorder: 'Reference(Practitioner)',
    reasonCode: 'CodeableConcept*',
    reasonReference: 'Reference(Condition|Observation)*',
    note: 'Annotation*',
    dosageInstruction: 'Element*',
    dispenseRequest: 'Backbone',
    substitution: 'Backbone',
    priorPrescription: 'Reference(MedicationRequest)',
    detectedIssue: 'Reference(DetectedIssue)*',
    eventHistory: 'Reference(Provenance)*',
  },
  MedicationStatement: {
    identifier: 'Identifier*',
    basedOn: 'Reference(MedicationRequest|CarePlan|ProcedureRequest|ReferralRequest)*',
    partOf: 'Reference(MedicationAdministration|MedicationDispense|MedicationStatement|Procedure|Observation)*',
    context: 'Reference(Encounter|EpisodeOfCare)',
    status: 'code! @MedicationStatementStatus',
    category: 'CodeableConcept',
    'medication[x]': 'CodeableConcept|Reference(Medication)!',
    'effective[x]': 'dateTime|Period',
    dateAsserted: 'dateTime',
    informationSource: 'Reference(Patient|Practitioner|RelatedPerson|Organization)',
    subject: 'Reference(Patient|Group)!',
    derivedFrom: 'Reference*',
    taken: 'code! @MedicationStatementTaken',
    reasonNotTaken: 'CodeableConcept*',
    reasonCode: 'CodeableConcept*',
    reasonReference: 'Reference(Condition|Observation)*',
    note: 'Annotation*',
    dosage: 'Element*',
  },
  AllergyIntolerance: {
    identifier: 'Identifier*',
    clinicalStatus: 'code @AllergyClinicalStatus',
    verificationStatus: 'code! @AllergyVerificationStatus',
    type: 'code @AllergyType',
    category: 'code* @AllergyCategory',
    criticality: 'code @AllergyCriticality',
    code: 'CodeableConcept',
    patient: 'Reference(Patient)!',
    'onset[x]': 'dateTime|Age|Period|Range|string',
    assertedDate: 'dateTime',
    recorder: 'Reference(Practitioner|Patient)',
    asserter: 'Reference(Patient|RelatedPerson|Practitioner)',
    lastOccurrence: 'dateTime',
    note: 'Annotation*',
    reaction: 'Backbone*',
  },
  Medication: {
    code: 'CodeableConcept',
    status: 'code @MedicationStatus',
    isBrand: 'boolean',
    isOverTheCounter: 'boolean',
    manufacturer: 'Reference(Organization)',
    form: 'CodeableConcept',
    ingredient: 'Backbone*',
    package: 'Backbone',
    image: 'Attachment*',
  },
  Observation: {
    identifier: 'Identifier*',
    basedOn:
      'Reference(CarePlan|DeviceRequest|ImmunizationRecommendation|MedicationRequest|NutritionOrder|ProcedureRequest|ReferralRequest)*',
    status: 'code! @ObservationStatus',
    category: 'CodeableConcept*',
    code: 'CodeableConcept!',
    subject: 'Reference(Patient|Group|Device|Location)',
    context: 'Reference(Encounter|EpisodeOfCare)',
    'effective[x]': 'dateTime|Period',
    issued: 'instant',
    performer: 'Reference(Practitioner|Organization|Patient|RelatedPerson)*',
    'value[x]': 'Quantity|CodeableConcept|string|boolean|Range|Ratio|SampledData|Attachment|time|dateTime|Period',
    dataAbsentReason: 'CodeableConcept',
    interpretation: 'CodeableConcept',
    comment: 'string',
    bodySite: 'CodeableConcept',
    method: 'CodeableConcept',
    specimen: 'Reference(Specimen)',
    device: 'Reference(Device|DeviceMetric)',
    referenceRange: 'Backbone*',
    related: 'Backbone*',
    component: 'Backbone*',
  },
};

const QUANTITY = { value: 'decimal', comparator: 'code @QuantityComparator', unit: 'string', system: 'uri', code: 'code' };

/** The data types (https://hl7.org/fhir/STU3/datatypes.html); every one also has `id` and `extension`. */
const DATA_TYPES: Record<string, Record<string, string>> = {
  Coding: { system: 'uri', version: 'string', code: 'code', display: 'string', userSelected: 'boolean' },
  CodeableConcept: { coding: 'Coding*', text: 'string' },
  Identifier: {
    use: 'code @IdentifierUse',
    type: 'CodeableConcept',
    system: 'uri',
    value: 'string',
    period: 'Period',
    assigner: 'Reference(Organization)',
  },
  HumanName: {
    use: 'code @NameUse',
    text: 'string',
    family: 'string',
    given: 'string*',
    prefix: 'string*',
    suffix: 'string*',
    period: 'Period',
  },
  ContactPoint: {
    system: 'code @ContactPointSystem',
    value: 'string',
    use: 'code @ContactPointUse',
    rank: 'positiveInt',
    period: 'Period',
  },
  Address: {
    use: 'code @AddressUse',
    type: 'code @AddressType',
    text: 'string',
    line: 'string*',
    city: 'string',
    district: 'string',
    state: 'string',
    postalCode: 'string',
    country: 'string',
    period: 'Period',
  },
  Period: { start: 'dateTime', end: 'dateTime' },
  Quantity: QUANTITY,
  Age: QUANTITY,
  Duration: QUANTITY,
  Range: { low: 'Quantity', high: 'Quantity' },
  Ratio: { numerator: 'Quantity', denominator: 'Quantity' },
  Reference: { reference: 'string', identifier: 'Identifier', display: 'string' },
  Meta: { versionId: 'id', lastUpdated: 'instant', profile: 'uri*', security: 'Coding*', tag: 'Coding*' },
  Narrative: { status: 'code! @NarrativeStatus', div: 'xhtml!' },
  Annotation: { 'author[x]': 'Reference(Practitioner|Patient|RelatedPerson)|string', time: 'dateTime', text: 'string!' },
  Attachment: {
    contentType: 'code',
    language: 'code',
    data: 'base64Binary',
    url: 'uri',
    size: 'unsignedInt',
    hash: 'base64Binary',
    title: 'string',
    creation: 'dateTime',
  },
};

/** One type an element may take. */
export interface TypeRef {
  /** A primitive type, a data type of DATA_TYPES, `Reference`, `Resource`, `Extension`, `Backbone` or `Element`. */
  code: string;
  /** For `Reference`: the resource types it may point to (undefined: any). */
  targets?: ReadonlySet<string>;
}

export interface ElementSpec {
  /** The element name as the specification writes it (`deceased[x]` for a choice). */
  name: string;
  types: TypeRef[];
  many: boolean;
  required: boolean;
  valueSet?: ValueSetName;
  /** The JSON property names of the element: its name, or one per type of a choice (`deceasedBoolean`, ...). */
  jsonNames: string[];
}

/** What a JSON property name resolves to: the element and, for a choice, the type its suffix names. */
export interface PropertySpec {
  element: ElementSpec;
  type: TypeRef;
}

export interface Definition {
  /** JSON property name -> element. */
  properties: ReadonlyMap<string, PropertySpec>;
  elements: readonly ElementSpec[];
  /** The elements whose presence is checked: the required ones and the choices (one type at most). */
  counted: readonly ElementSpec[];
}

/** Types walked generically: their structure is not described in DATA_TYPES. */
const OPAQUE_TYPES = ['Backbone', 'Element', 'SampledData'];
const COMPLEX_TYPES = new Set([...Object.keys(DATA_TYPES), 'Reference', 'Resource', 'Extension', ...OPAQUE_TYPES]);

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

function parseType(text: string): TypeRef {
  const match = /^([A-Za-z0-9]+)(?:\(([A-Za-z|]+)\))?$/.exec(text);
  if (!match) throw new Error(`bad type '${text}'`);
  const code = match[1]!;
  if (!PRIMITIVE_TYPES.has(code) && !COMPLEX_TYPES.has(code)) throw new Error(`unknown type '${code}'`);
  return match[2] ? { code, targets: new Set(match[2].split('|')) } : { code };
}

function parseElement(name: string, notation: string): ElementSpec {
  const match = /^(.+?)(\*)?(!)?(?: @([A-Za-z]+))?$/.exec(notation);
  if (!match) throw new Error(`bad element '${name}: ${notation}'`);
  const valueSet = match[4];
  if (valueSet !== undefined && !isValueSetName(valueSet)) throw new Error(`unknown value set '${valueSet}'`);
  // split "A|Reference(B|C)|D" at the bars outside parentheses
  const types = match[1]!.split(/\|(?![^(]*\))/).map(parseType);
  const jsonNames = name.endsWith('[x]') ? types.map((t) => name.slice(0, -3) + capitalise(t.code)) : [name];
  return { name, types, many: match[2] === '*', required: match[3] === '!', valueSet, jsonNames };
}

function compile(table: Record<string, string>): Definition {
  const properties = new Map<string, PropertySpec>();
  const elements: ElementSpec[] = [];
  for (const [name, notation] of Object.entries(table)) {
    const element = parseElement(name, notation);
    elements.push(element);
    element.types.forEach((type, i) => properties.set(element.jsonNames[i]!, { element, type }));
  }
  return { properties, elements, counted: elements.filter((e) => e.required || e.jsonNames.length > 1) };
}

/** The compiled definitions of the 14 resources, DomainResource elements included. */
export const RESOURCE_DEFINITIONS: ReadonlyMap<string, Definition> = new Map(
  Object.entries(RESOURCES).map(([type, table]) => [type, compile({ ...DOMAIN_RESOURCE, ...table })]),
);

/** The compiled data types, each with the Element elements `id` and `extension`. */
export const DATA_TYPE_DEFINITIONS: ReadonlyMap<string, Definition> = new Map(
  Object.entries(DATA_TYPES).map(([type, table]) => [type, compile({ id: 'string', extension: 'Extension*', ...table })]),
);
