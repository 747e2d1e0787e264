/**
 * The Care Connect STU3 resource types this server offers, and what the security model needs to know of each.
 * Per-type search parameters and compartment references live in `definitions.ts`; this file is the short list
 * that the route table, the scopes and the CDK stack share.
 */

/** The 14 Care Connect resource types served under `/STU3`. */
export const RESOURCE_TYPES = [
  'Patient',
  'Practitioner',
  'PractitionerRole',
  'Organization',
  'Location',
  'Encounter',
  'Condition',
  'Procedure',
  'Immunization',
  'MedicationRequest',
  'MedicationStatement',
  'AllergyIntolerance',
  'Medication',
  'Observation',
] as const;

export type ResourceType = (typeof RESOURCE_TYPES)[number];

/**
 * "Publicly Available Information" (CCRI): types that hold no patient data. Any valid token may read and search
 * them, even one holding only `profile`; writing them still needs a write scope. The CCRI also listed
 * HealthcareService and Endpoint, which this server does not serve.
 */
export const PUBLIC_INFORMATION_TYPES: ReadonlySet<string> = new Set([
  'Organization',
  'Practitioner',
  'PractitionerRole',
  'Location',
  'HealthcareService',
  'Endpoint',
  'Medication',
]);

export function isResourceType(value: string): value is ResourceType {
  return (RESOURCE_TYPES as readonly string[]).includes(value);
}

/** The Care Connect profile URL a stored resource of this type claims in `meta.profile`. */
export function profileUrl(type: ResourceType): string {
  return `https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-${type}-1`;
}
