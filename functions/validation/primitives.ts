/**
 * FHIR STU3 primitive values in JSON (https://hl7.org/fhir/STU3/json.html#primitive). The JSON type and the
 * regular expression of each primitive come from its StructureDefinition (the `value` element's
 * `structuredefinition-json-type` and `structuredefinition-regex` extensions); the checks below are what those
 * definitions say only in words, kept as named extra rules (3.0.1 ships no regex for instant and base64Binary):
 *  - dates SHALL be valid dates (no 30 February), integers are 32-bit;
 *  - strings are not empty ("no empty elements") and URIs hold no whitespace (RFC 3986);
 *  - narrative is one XHTML `<div>` of basic HTML (the txt-1/txt-2 invariants, whose FHIRPath `htmlchecks()` no
 *    engine has: functions/fhir-model/narrative.ts).
 */

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const INSTANT_RE = /^-?[0-9]{4}-(0[1-9]|1[0-2])-(0[0-9]|[1-2][0-9]|3[0-1])T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))$/;
import { FHIR_ID as ID_RE } from '../../contract/fhir-id';
import { narrativeProblem } from '../fhir-model/narrative';

/** The id syntax of STU3 (`[A-Za-z0-9\-\.]{1,64}`). */
export function isId(value: unknown): value is string {
  return typeof value === 'string' && ID_RE.test(value);
}

/** Whether `yyyy-mm-dd` (the leading part of a date or dateTime) names a real day. */
function realDay(value: string): boolean {
  const offset = value.startsWith('-') ? 1 : 0;
  if (value.length < offset + 10) return true; // year or year-month only
  const year = Number(value.slice(offset, offset + 4));
  const month = Number(value.slice(offset + 5, offset + 7));
  const day = Number(value.slice(offset + 8, offset + 10));
  if (day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0;
  return day <= days;
}

const regexCache = new Map<string, RegExp>();
function anchored(regex: string): RegExp {
  let re = regexCache.get(regex);
  if (!re) {
    re = new RegExp(`^(?:${regex})$`);
    regexCache.set(regex, re);
  }
  return re;
}

/**
 * Whether `value` is a valid JSON instance of the primitive `type`, given the JSON type and regex of its
 * definition.
 */
export function isPrimitiveValue(type: string, value: unknown, jsonType: string | undefined, regex: string | undefined): boolean {
  if (jsonType === 'boolean' && typeof value !== 'boolean') return false;
  if (jsonType === 'number' && (typeof value !== 'number' || !Number.isFinite(value))) return false;
  if ((jsonType === undefined || jsonType === 'string') && typeof value !== 'string') return false;
  if (regex !== undefined && !anchored(regex).test(String(value))) return false;
  switch (type) {
    case 'integer':
    case 'positiveInt':
    case 'unsignedInt':
      return Number.isInteger(value) && (value as number) >= (type === 'integer' ? INT32_MIN : type === 'positiveInt' ? 1 : 0) && (value as number) <= INT32_MAX;
    case 'string':
    case 'markdown':
      return (value as string).trim().length > 0;
    case 'uri':
      return /^\S+$/.test(value as string);
    case 'code':
      return !/[^\S ]/.test(value as string); // "no whitespace other than single spaces"
    case 'base64Binary':
      return /^(\s*[0-9a-zA-Z+/=]{4}\s*)+$/.test(value as string);
    case 'instant':
      return INSTANT_RE.test(value as string) && realDay(value as string);
    case 'date':
    case 'dateTime':
      return realDay(value as string);
    case 'xhtml':
      return narrativeProblem(value as string) === undefined;
    default:
      return true;
  }
}

/** What a valid value of the type looks like, in plain words for diagnostics. */
export const PRIMITIVE_HINT: Record<string, string> = {
  boolean: 'true or false (a JSON boolean, not a string)',
  integer: 'a whole number (a JSON number)',
  positiveInt: 'a whole number of 1 or more',
  unsignedInt: 'a whole number of 0 or more',
  decimal: 'a JSON number',
  string: 'a non-empty string',
  markdown: 'a non-empty string',
  code: 'a code: no leading, trailing or repeated whitespace',
  id: '1 to 64 characters from A-Z, a-z, 0-9, - and .',
  uri: 'a URI without whitespace',
  oid: 'an OID of the form urn:oid:1.2.3',
  uuid: 'a UUID of the form urn:uuid:…',
  base64Binary: 'base64-encoded data',
  date: 'YYYY, YYYY-MM or YYYY-MM-DD, a real calendar date',
  dateTime: 'YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss with a time zone (Z or +hh:mm)',
  instant: 'YYYY-MM-DDThh:mm:ss(.sss) with a time zone (Z or +hh:mm)',
  time: 'hh:mm:ss',
  xhtml: 'one well-formed XHTML <div> of basic HTML, without active content (txt-1), holding some text (txt-2)',
};
