/**
 * FHIR search (https://hl7.org/fhir/STU3/search.html) over index items: normalization of values, derivation of a
 * resource's index keys, and parsing of a search query into key conditions. Pure functions; the repository
 * (functions/store/repository.ts) runs the conditions as DynamoDB Queries.
 *
 * Index keys: `pk = I#<param>[#variant]`, `sk = <normalized value>#<id>`, plus `pk = I#_all, sk = <id>`.
 *  - string: lower-cased, accents stripped, whitespace collapsed; starts-with is `begins_with(sk, value)`.
 *  - token: variant `sc` holds `system|code` (`|code` when there is no system), variant `c` holds `code`.
 *  - date: the UTC ISO instant of the value's lower bound (`2019-03-01T00:00:00.000Z`), compared by ranges.
 *  - reference: `Type/id` (absolute URLs and `_history` suffixes stripped).
 * `#` and `%` inside values are percent-encoded so that `#` always separates the value from the id.
 */
import { BadRequestError } from './errors';
import { definitionOf, type SearchParamDef, type TokenValue } from './definitions';
import type { ResourceType } from './resource-types';

export interface IndexKey {
  pk: string;
  sk: string;
}

/** One key condition on one index partition: the ids it yields form a set. */
export interface KeyCondition {
  pk: string;
  op: 'all' | 'eq' | 'begins_with' | 'between' | 'lt' | 'le' | 'gt' | 'ge';
  value?: string;
  value2?: string;
}

/** One parameter occurrence: the union (OR) of its conditions. Occurrences combine with AND. */
export interface SearchClause {
  param: string;
  anyOf: KeyCondition[];
}

export interface ParsedSearch {
  clauses: SearchClause[];
  count: number;
  /** The opaque continuation token of the page asked for, if any. */
  cursor?: string;
  /** The parameters that define the result set, normalized (sorted), for self/next links and locks. */
  canonical: [string, string][];
  /** Parameters ignored because they are unknown (reported in strict mode as a 400 instead). */
  ignored: string[];
}

/**
 * Fan-out limits of one search (issue 13.4): values of one parameter (OR width), occurrences of one parameter,
 * and search criteria in all. Each answers a 400 naming the limit; the CapabilityStatement documents them.
 */
export const SEARCH_LIMITS = { orValues: 20, repeats: 5, clauses: 10 } as const;
export const DEFAULT_COUNT = 10;
export const MAX_COUNT = 100;
export const CURSOR_PARAM = '_cursor';
const MAX_VALUE_LENGTH = 200;
/** Sorts after every character of an id ([A-Za-z0-9.-]) and of an escaped value. */
const HIGH = '~';

// ---- normalization ------------------------------------------------------------------------------------------

function escapeKey(value: string): string {
  return value.replace(/%/g, '%25').replace(/#/g, '%23');
}

/** Lower-cased, accents stripped, whitespace collapsed, escaped and truncated: the form strings are indexed in. */
export function normalizeString(value: string): string {
  const folded = value
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim();
  return escapeKey(folded).slice(0, MAX_VALUE_LENGTH);
}

function normalizeTokenPart(value: string): string {
  return escapeKey(value).slice(0, MAX_VALUE_LENGTH);
}

/** `Patient/1` from `Patient/1`, `https://host/STU3/Patient/1/_history/2`; undefined for what is not a reference. */
export function normalizeReference(reference: string, target?: string): string | undefined {
  const trimmed = reference.trim().replace(/\/_history\/[^/]+$/, '');
  const match = /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/.exec(trimmed);
  if (match) return `${match[1]}/${match[2]}`;
  if (target && /^[A-Za-z0-9\-.]{1,64}$/.test(trimmed)) return `${target}/${trimmed}`;
  return undefined;
}

export interface DateRange {
  /** Inclusive lower bound, epoch ms. */
  lower: number;
  /** Inclusive upper bound, epoch ms. */
  upper: number;
}

const DATE_RE =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/** The range a FHIR date/dateTime/instant covers (`2019` is the whole year); undefined if it is not one. */
export function dateRange(value: string): DateRange | undefined {
  const m = DATE_RE.exec(value.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, tz] = m;
  const year = Number(y);
  const month = mo === undefined ? undefined : Number(mo);
  const day = d === undefined ? undefined : Number(d);
  if (month !== undefined && (month < 1 || month > 12)) return undefined;
  if (day !== undefined) {
    const days = new Date(Date.UTC(year, month! , 0)).getUTCDate();
    if (day < 1 || day > days) return undefined;
  }
  if (h !== undefined && (Number(h) > 23 || Number(mi) > 59 || (s !== undefined && Number(s) > 59))) return undefined;
  const offsetMs = tz && tz !== 'Z' ? (tz[0] === '-' ? -1 : 1) * (Number(tz.slice(1, 3)) * 60 + Number(tz.slice(4, 6))) * 60_000 : 0;
  if (year < 1000) return undefined;
  let lower: number;
  let upper: number;
  if (month === undefined) {
    lower = Date.UTC(year, 0, 1);
    upper = Date.UTC(year + 1, 0, 1) - 1;
  } else if (day === undefined) {
    lower = Date.UTC(year, month - 1, 1);
    upper = Date.UTC(year, month, 1) - 1;
  } else if (h === undefined) {
    lower = Date.UTC(year, month - 1, day);
    upper = lower + 86_400_000 - 1;
  } else {
    const ms = frac ? Number(frac.slice(0, 3).padEnd(3, '0')) : 0;
    lower = Date.UTC(year, month - 1, day, Number(h), Number(mi), s === undefined ? 0 : Number(s), ms) - offsetMs;
    upper = s === undefined ? lower + 60_000 - 1 : frac === undefined ? lower + 999 : lower;
  }
  if (upper > Date.UTC(9999, 11, 31, 23, 59, 59, 999)) return undefined;
  return { lower, upper };
}

const iso = (ms: number) => new Date(ms).toISOString();

// ---- index derivation ---------------------------------------------------------------------------------------

export const ALL_PK = 'I#_all';

function tokenKeys(param: string, token: TokenValue): [string, string][] {
  const code = normalizeTokenPart(token.code);
  const system = token.system ? normalizeTokenPart(token.system) : '';
  return [
    [`I#${param}#sc`, `${system}|${code}`],
    [`I#${param}#c`, code],
  ];
}

/** Every index key of a resource: one per (parameter, variant, normalized value), plus its `_all` key. */
export function indexKeys(type: ResourceType, id: string, resource: Record<string, unknown>): IndexKey[] {
  const keys = new Map<string, IndexKey>();
  const add = (pk: string, value: string) => {
    const sk = `${value}#${id}`;
    keys.set(`${pk}\n${sk}`, { pk, sk });
  };
  keys.set(`${ALL_PK}\n${id}`, { pk: ALL_PK, sk: id });
  for (const [name, def] of Object.entries(definitionOf(type).searchParams)) {
    for (const raw of def.extract(resource)) {
      switch (def.type) {
        case 'string': {
          const value = normalizeString(raw as string);
          if (value) add(`I#${name}`, value);
          break;
        }
        case 'token':
          for (const [pk, value] of tokenKeys(name, raw as TokenValue)) add(pk, value);
          break;
        case 'date': {
          const range = dateRange(raw as string);
          if (range) add(`I#${name}`, iso(range.lower));
          break;
        }
        case 'reference': {
          const ref = normalizeReference(raw as string);
          if (ref) add(`I#${name}`, ref);
          break;
        }
      }
    }
  }
  return [...keys.values()];
}

/** The `Patient/<id>` references that put a resource in patient compartments. */
export function compartmentPatients(type: ResourceType, id: string, resource: Record<string, unknown>): string[] {
  if (type === 'Patient') return [id];
  const def = definitionOf(type);
  const out = new Set<string>();
  for (const name of def.compartmentParams) {
    for (const raw of def.searchParams[name]!.extract(resource)) {
      const ref = normalizeReference(raw as string);
      if (ref?.startsWith('Patient/')) out.add(ref.slice('Patient/'.length));
    }
  }
  return [...out];
}

// ---- query parsing ------------------------------------------------------------------------------------------

/** Splits on commas not escaped with a backslash, and unescapes `\,` `\$` `\|` `\\`. */
export function splitValues(value: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (ch === '\\' && i + 1 < value.length) {
      current += value[++i];
    } else if (ch === ',') {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts;
}

/** Splits `system|code` on the first unescaped bar. */
function splitToken(value: string): { system?: string; code?: string } {
  const bar = value.search(/(?<!\\)\|/);
  const unescape = (s: string) => s.replace(/\\(.)/g, '$1');
  if (bar < 0) return { code: unescape(value) };
  return { system: unescape(value.slice(0, bar)), code: unescape(value.slice(bar + 1)) };
}

const DATE_PREFIXES = ['eq', 'ge', 'le', 'gt', 'lt'] as const;

function dateCondition(pk: string, param: string, raw: string): KeyCondition {
  const prefixMatch = /^([a-z]{2})(.*)$/.exec(raw);
  let prefix = 'eq';
  let value = raw;
  if (prefixMatch) {
    if (!(DATE_PREFIXES as readonly string[]).includes(prefixMatch[1]!)) {
      throw new BadRequestError(`Unsupported date prefix '${prefixMatch[1]}' in parameter ${param} (supported: eq, ge, le, gt, lt)`, param);
    }
    prefix = prefixMatch[1]!;
    value = prefixMatch[2]!;
  }
  const range = dateRange(value);
  if (!range) throw new BadRequestError(`Invalid date '${value}' in parameter ${param}`, param);
  const lower = iso(range.lower);
  const upperKey = `${iso(range.upper)}#${HIGH}`;
  switch (prefix) {
    case 'ge':
      return { pk, op: 'ge', value: lower };
    case 'gt':
      return { pk, op: 'gt', value: upperKey };
    case 'le':
      return { pk, op: 'le', value: upperKey };
    case 'lt':
      return { pk, op: 'lt', value: lower };
    default:
      return { pk, op: 'between', value: lower, value2: upperKey };
  }
}

function conditionFor(name: string, def: SearchParamDef, modifier: string | undefined, raw: string): KeyCondition {
  switch (def.type) {
    case 'string': {
      if (modifier !== undefined && modifier !== 'exact' && modifier !== 'contains') {
        throw new BadRequestError(`Unsupported modifier ':${modifier}' on string parameter ${name}`, name);
      }
      if (modifier === 'contains') throw new BadRequestError(`Modifier ':contains' is not supported on ${name}`, name);
      const value = normalizeString(raw);
      if (!value) throw new BadRequestError(`Empty value for parameter ${name}`, name);
      return { pk: `I#${name}`, op: 'begins_with', value: modifier === 'exact' ? `${value}#` : value };
    }
    case 'token': {
      if (modifier !== undefined) throw new BadRequestError(`Unsupported modifier ':${modifier}' on token parameter ${name}`, name);
      const { system, code } = splitToken(raw);
      if (system === undefined) {
        if (!code) throw new BadRequestError(`Empty value for parameter ${name}`, name);
        return { pk: `I#${name}#c`, op: 'begins_with', value: `${normalizeTokenPart(code)}#` };
      }
      if (!code) {
        if (!system) throw new BadRequestError(`Empty value for parameter ${name}`, name);
        return { pk: `I#${name}#sc`, op: 'begins_with', value: `${normalizeTokenPart(system)}|` };
      }
      return { pk: `I#${name}#sc`, op: 'begins_with', value: `${system ? normalizeTokenPart(system) : ''}|${normalizeTokenPart(code)}#` };
    }
    case 'date':
      if (modifier !== undefined) throw new BadRequestError(`Unsupported modifier ':${modifier}' on date parameter ${name}`, name);
      return dateCondition(`I#${name}`, name, raw);
    case 'reference': {
      let target = def.target;
      if (modifier !== undefined) {
        if (!/^[A-Z][A-Za-z]+$/.test(modifier)) throw new BadRequestError(`Unsupported modifier ':${modifier}' on reference parameter ${name}`, name);
        target = modifier;
      }
      const ref = normalizeReference(raw, target);
      if (!ref) throw new BadRequestError(`Invalid reference '${raw}' in parameter ${name}`, name);
      return { pk: `I#${name}`, op: 'begins_with', value: `${ref}#` };
    }
  }
}

function idCondition(raw: string): KeyCondition {
  if (!/^[A-Za-z0-9\-.]{1,64}$/.test(raw)) throw new BadRequestError(`Invalid id '${raw}' in parameter _id`, '_id');
  return { pk: ALL_PK, op: 'eq', value: raw };
}

/** Parameters that control the result rather than select it; never "unknown". */
const RESULT_PARAMS = new Set(['_count', '_format', CURSOR_PARAM, '_pretty', '_summary', '_elements']);

/**
 * Parses a search query. Unknown parameters are ignored (listed in `ignored`) unless `strict`, where they are a
 * 400. Bad values (dates, prefixes, `_count`) are a 400 either way.
 */
export function parseSearch(type: ResourceType, query: Record<string, string[]>, strict = false): ParsedSearch {
  const def = definitionOf(type);
  const clauses: SearchClause[] = [];
  const canonical: [string, string][] = [];
  const ignored: string[] = [];
  let count = DEFAULT_COUNT;
  let cursor: string | undefined;
  for (const [key, values] of Object.entries(query)) {
    const [name, modifier] = key.split(':', 2) as [string, string | undefined];
    if (name === '_count') {
      const raw = values[values.length - 1] ?? '';
      if (!/^\d+$/.test(raw)) throw new BadRequestError(`Invalid _count '${raw}'`, '_count');
      count = Math.min(Math.max(Number(raw), 0), MAX_COUNT);
      continue;
    }
    if (name === CURSOR_PARAM) {
      cursor = values[values.length - 1];
      continue;
    }
    if (RESULT_PARAMS.has(name)) continue;
    // Own properties only: `constructor`, `toString`, `__proto__`... are not search parameters.
    const param = name === '_id' || !Object.hasOwn(def.searchParams, name) ? undefined : def.searchParams[name];
    if (name !== '_id' && !param) {
      if (strict) throw new BadRequestError(`Unknown search parameter '${key}' for ${type}`, key);
      ignored.push(key);
      continue;
    }
    if (values.length > SEARCH_LIMITS.repeats) {
      throw new BadRequestError(`Search parameter ${key} may be repeated at most ${SEARCH_LIMITS.repeats} times (got ${values.length})`, key);
    }
    for (const value of values) {
      const parts = splitValues(value);
      if (parts.length > SEARCH_LIMITS.orValues) {
        throw new BadRequestError(`Search parameter ${key} takes at most ${SEARCH_LIMITS.orValues} values separated by commas (got ${parts.length})`, key);
      }
      if (clauses.length >= SEARCH_LIMITS.clauses) {
        throw new BadRequestError(`A search takes at most ${SEARCH_LIMITS.clauses} search criteria (parameter occurrences)`, key);
      }
      if (parts.every((p) => p === '')) throw new BadRequestError(`Empty value for parameter ${key}`, key);
      const anyOf = parts
        .filter((p) => p !== '')
        .map((p) => {
          if (param) return conditionFor(name, param, modifier, p);
          if (modifier !== undefined) throw new BadRequestError(`Unsupported modifier on _id`, '_id');
          return idCondition(p);
        });
      clauses.push({ param: key, anyOf });
      canonical.push([key, value]);
    }
  }
  canonical.sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0) : a[0] < b[0] ? -1 : 1));
  return { clauses, count, cursor, canonical, ignored };
}

/** The id an index sort key belongs to (after the last `#`; `_all` keys are the id itself). */
export function idOfSortKey(pk: string, sk: string): string {
  if (pk === ALL_PK) return sk;
  return sk.slice(sk.lastIndexOf('#') + 1);
}

// ---- continuation tokens -------------------------------------------------------------------------------------

interface CursorState {
  v: 1;
  /** The last id of the previous page: the next page starts after it. */
  after: string;
}

export function encodeCursor(after: string): string {
  const state: CursorState = { v: 1, after };
  return Buffer.from(JSON.stringify(state), 'utf8').toString('base64url');
}

/** Validates and decodes a continuation token; anything else is a 400. */
export function decodeCursor(token: string): string {
  const bad = () => new BadRequestError('Invalid continuation token', CURSOR_PARAM);
  if (!/^[A-Za-z0-9_-]{1,400}$/.test(token)) throw bad();
  let state: unknown;
  try {
    state = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  const s = state as Partial<CursorState> | null;
  if (!s || typeof s !== 'object' || s.v !== 1 || typeof s.after !== 'string' || !/^[A-Za-z0-9\-.]{1,64}$/.test(s.after)) {
    throw bad();
  }
  return s.after;
}
