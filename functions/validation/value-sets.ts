/**
 * The code lists of the required bindings this validator checks: the STU3 base value sets
 * (https://hl7.org/fhir/STU3/terminologies-valuesets.html) of the elements in `elements.ts`, and the small Care
 * Connect value sets that the profiles bind with strength `required`. Large terminologies (SNOMED CT, dm+d) are
 * not listed: `snomed.ts` checks the syntax of their codes instead.
 */

const set = (...codes: string[]): ReadonlySet<string> => new Set(codes);

/** Value sets by name; element specs refer to them as `@Name`. */
export const VALUE_SETS = {
  // data types
  IdentifierUse: set('usual', 'official', 'temp', 'secondary'),
  NameUse: set('usual', 'official', 'temp', 'nickname', 'anonymous', 'old', 'maiden'),
  ContactPointSystem: set('phone', 'fax', 'email', 'pager', 'url', 'sms', 'other'),
  ContactPointUse: set('home', 'work', 'temp', 'old', 'mobile'),
  AddressUse: set('home', 'work', 'temp', 'old'),
  AddressType: set('postal', 'physical', 'both'),
  QuantityComparator: set('<', '<=', '>=', '>'),
  NarrativeStatus: set('generated', 'extensions', 'additional', 'empty'),
  // resources
  AdministrativeGender: set('male', 'female', 'other', 'unknown'),
  LinkType: set('replaced-by', 'replaces', 'refer', 'seealso'),
  LocationStatus: set('active', 'suspended', 'inactive'),
  LocationMode: set('instance', 'kind'),
  EncounterStatus: set(
    'planned',
    'arrived',
    'triaged',
    'in-progress',
    'onleave',
    'finished',
    'cancelled',
    'entered-in-error',
    'unknown',
  ),
  ConditionClinicalStatus: set('active', 'recurrence', 'inactive', 'remission', 'resolved'),
  ConditionVerificationStatus: set('provisional', 'differential', 'confirmed', 'refuted', 'entered-in-error', 'unknown'),
  EventStatus: set('preparation', 'in-progress', 'suspended', 'aborted', 'completed', 'entered-in-error', 'unknown'),
  ImmunizationStatus: set('completed', 'entered-in-error'),
  MedicationRequestStatus: set(
    'active',
    'on-hold',
    'cancelled',
    'completed',
    'entered-in-error',
    'stopped',
    'draft',
    'unknown',
  ),
  MedicationRequestIntent: set('proposal', 'plan', 'order', 'instance-order'),
  MedicationRequestPriority: set('routine', 'urgent', 'stat', 'asap'),
  MedicationStatementStatus: set('active', 'completed', 'entered-in-error', 'intended', 'stopped', 'on-hold'),
  MedicationStatementTaken: set('y', 'n', 'unk', 'na'),
  AllergyClinicalStatus: set('active', 'inactive', 'resolved'),
  AllergyVerificationStatus: set('unconfirmed', 'confirmed', 'refuted', 'entered-in-error'),
  AllergyType: set('allergy', 'intolerance'),
  AllergyCategory: set('food', 'medication', 'environment', 'biologic'),
  AllergyCriticality: set('low', 'high', 'unable-to-assess'),
  ObservationStatus: set(
    'registered',
    'preliminary',
    'final',
    'amended',
    'corrected',
    'cancelled',
    'entered-in-error',
    'unknown',
  ),
  MedicationStatus: set('active', 'inactive', 'entered-in-error'),
} as const;

export type ValueSetName = keyof typeof VALUE_SETS;

export function isValueSetName(name: string): name is ValueSetName {
  return Object.prototype.hasOwnProperty.call(VALUE_SETS, name);
}

/** Care Connect code systems and value sets (https://fhir.hl7.org.uk/STU3/...). */
export const CARE_CONNECT = {
  nhsNumberSystem: 'https://fhir.nhs.uk/Id/nhs-number',
  nhsNumberVerificationUrl:
    'https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-NHSNumberVerificationStatus-1',
  nhsNumberVerificationSystem: 'https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-NHSNumberVerificationStatus-1',
  /** CodeSystem CareConnect-NHSNumberVerificationStatus-1 (NHS Data Dictionary: NHS Number Status Indicator Code). */
  nhsNumberVerificationCodes: set('01', '02', '03', '04', '05', '06', '07', '08'),
  ethnicCategoryUrl: 'https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-EthnicCategory-1',
  ethnicCategorySystem: 'https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-EthnicCategory-1',
  /** CodeSystem CareConnect-EthnicCategory-1 (NHS Data Dictionary: Ethnic Category Code 2001, plus the local extensions). */
  ethnicCategoryCodes: set(
    ...'A B C C2 C3 CA CB CC CD CE CF CG CH CJ CK CL CM CN CP CQ CR CS CT CU CV CW CX CY D E F G GA GB GC GD GE GF H J K L LA LB LC LD LE LF LG LH LJ LK M N P PA PB PC PD PE R S SA SB SC SD SE Z'.split(
      ' ',
    ),
  ),
  /** ValueSet CareConnect-MaritalStatus-1: HL7 v3 MaritalStatus plus NullFlavor UNK. */
  maritalStatus: new Map<string, ReadonlySet<string>>([
    ['http://hl7.org/fhir/v3/MaritalStatus', set('A', 'D', 'I', 'L', 'M', 'P', 'S', 'T', 'U', 'W')],
    ['http://hl7.org/fhir/v3/NullFlavor', set('UNK')],
  ]),
  /** ValueSet CareConnect-ConditionCategory-1 (extensible). */
  conditionCategorySystem: 'http://hl7.org/fhir/condition-category',
  conditionCategoryCodes: set('problem-list-item', 'encounter-diagnosis'),
  /** ValueSet CareConnect-AllergyVerificationStatus-1 (required; narrower than the base value set). */
  allergyVerificationStatus: set('unconfirmed', 'confirmed'),
  sdsUserIdSystem: 'https://fhir.nhs.uk/Id/sds-user-id',
  sdsRoleProfileIdSystem: 'https://fhir.nhs.uk/Id/sds-role-profile-id',
  localPractitionerSystem: 'https://fhir.nhs.uk/Id/local-practitioner-identifier',
  odsOrganizationSystem: 'https://fhir.nhs.uk/Id/ods-organization-code',
  odsSiteSystem: 'https://fhir.nhs.uk/Id/ods-site-code',
  localLocationSystem: 'https://fhir.nhs.uk/Id/local-location-identifier',
  sdsJobRoleNameSystem: 'https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-SDSJobRoleName-1',
  snomed: 'http://snomed.info/sct',
} as const;
