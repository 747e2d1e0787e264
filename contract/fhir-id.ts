/**
 * The id grammar of FHIR STU3 (https://hl7.org/fhir/STU3/datatypes.html#id): 1 to 64 of `A-Z a-z 0-9 - .`. The one
 * copy: resource ids in URLs, references, `_id`, patient ids in tokens and client records all use it.
 */

/** The grammar as a regular-expression fragment, to compose references such as `Type/id/_history/vid`. */
export const FHIR_ID_PATTERN = '[A-Za-z0-9\\-.]{1,64}';

/** A whole string that is a FHIR id. */
export const FHIR_ID = new RegExp(`^${FHIR_ID_PATTERN}$`);

export function isFhirId(value: unknown): value is string {
  return typeof value === 'string' && FHIR_ID.test(value);
}
