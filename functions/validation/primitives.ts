/**
 * FHIR STU3 primitive types in their JSON form (https://hl7.org/fhir/STU3/datatypes.html#primitive and
 * https://hl7.org/fhir/STU3/json.html#primitive): each check says whether a JSON value is a valid instance. The
 * regular expressions are the ones the specification gives for each type; dates are also checked against the
 * calendar (no 30 February).
 */

export type PrimitiveType =
  | 'boolean'
  | 'integer'
  | 'positiveInt'
  | 'unsignedInt'
  | 'decimal'
  | 'string'
  | 'markdown'
  | 'code'
  | 'id'
  | 'uri'
  | 'oid'
  | 'base64Binary'
  | 'date'
  | 'dateTime'
  | 'instant'
  | 'time'
  | 'xhtml';

const TZ = '(Z|(\\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))';
const TIME = '([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]+)?';
const DATE_RE = /^-?[0-9]{4}(-(0[1-9]|1[0-2])(-(0[0-9]|[1-2][0-9]|3[0-1]))?)?$/;
const DATE_TIME_RE = new RegExp(
  `^-?[0-9]{4}(-(0[1-9]|1[0-2])(-(0[0-9]|[1-2][0-9]|3[0-1])(T${TIME}${TZ})?)?)?$`,
);
const INSTANT_RE = new RegExp(`^-?[0-9]{4}-(0[1-9]|1[0-2])-(0[0-9]|[1-2][0-9]|3[0-1])T${TIME}${TZ}$`);
const TIME_RE = new RegExp(`^${TIME}$`);
const CODE_RE = /^[^\s]+( [^\s]+)*$/;
const ID_RE = /^[A-Za-z0-9\-.]{1,64}$/;
const URI_RE = /^\S+$/;
const OID_RE = /^urn:oid:[0-2](\.(0|[1-9][0-9]*))+$/;
const BASE64_RE = /^(\s*[0-9a-zA-Z+/=]{4}\s*)+$/;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

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

/** Whether `value` is a valid JSON instance of the primitive type. */
export function isPrimitive(type: PrimitiveType, value: unknown): boolean {
  switch (type) {
    case 'boolean':
      return typeof value === 'boolean';
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX;
    case 'positiveInt':
      return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= INT32_MAX;
    case 'unsignedInt':
      return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= INT32_MAX;
    case 'decimal':
      return typeof value === 'number' && Number.isFinite(value);
    case 'string':
    case 'markdown':
      return typeof value === 'string' && value.trim().length > 0;
    case 'code':
      return typeof value === 'string' && CODE_RE.test(value);
    case 'id':
      return isId(value);
    case 'uri':
      return typeof value === 'string' && URI_RE.test(value);
    case 'oid':
      return typeof value === 'string' && OID_RE.test(value);
    case 'base64Binary':
      return typeof value === 'string' && BASE64_RE.test(value);
    case 'date':
      return typeof value === 'string' && DATE_RE.test(value) && realDay(value);
    case 'dateTime':
      return typeof value === 'string' && DATE_TIME_RE.test(value) && realDay(value);
    case 'instant':
      return typeof value === 'string' && INSTANT_RE.test(value) && realDay(value);
    case 'time':
      return typeof value === 'string' && TIME_RE.test(value);
    case 'xhtml':
      return typeof value === 'string' && /^\s*<div[\s>]/.test(value) && /<\/div>\s*$/.test(value);
  }
}

/** What a valid value of the type looks like, for diagnostics. */
export const PRIMITIVE_HINT: Record<PrimitiveType, string> = {
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
  base64Binary: 'base64-encoded data',
  date: 'YYYY, YYYY-MM or YYYY-MM-DD, a real calendar date',
  dateTime: 'YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss with a time zone (Z or +hh:mm)',
  instant: 'YYYY-MM-DDThh:mm:ss(.sss) with a time zone (Z or +hh:mm)',
  time: 'hh:mm:ss',
  xhtml: 'an XHTML <div> element',
};

export const PRIMITIVE_TYPES: ReadonlySet<string> = new Set(Object.keys(PRIMITIVE_HINT));
