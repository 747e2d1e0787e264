/**
 * FHIR search (https://hl7.org/fhir/STU3/search.html) as plain data: the normalized values a resource is searched
 * by, the parsing of a query into conditions, and the exact in-memory test of a condition on a resource. Pure
 * functions; where these values live in DynamoDB and how a search reads them is functions/store/index-layout.ts
 * and functions/store/search-engine.ts.
 *
 * Normalized values:
 *  - string: lower-cased, accents stripped, whitespace collapsed; a search value matches as a prefix (`:exact`: equal).
 *  - token: `system` and `code`, each escaped; `system|code`, `code`, `|code` (no system) and `system|` match.
 *  - date: the UTC ISO instant of the value's lower bound (`2019-03-01T00:00:00.000Z`), compared by ranges.
 *  - reference: `Type/id` (absolute URLs and `_history` suffixes stripped).
 * `#`, `%`, `|` and `/` inside values are percent-encoded so that they can separate key parts.
 */
import { BadRequestError } from './errors';
import { definitionOf, type SearchParamDef, type TokenValue } from './definitions';
import type { ResourceType } from '../../contract/resource-types';
import { FHIR_ID, FHIR_ID_PATTERN } from '../../contract/fhir-id';

/** `Type/id` at the end of a reference value. */
const TYPED_REFERENCE = new RegExp(`(?:^|/)([A-Z][A-Za-z]+)/(${FHIR_ID_PATTERN})$`);

export interface ParsedSearch {
  clauses: SearchClause[];
  count: number;
  /** The opaque continuation token of the page asked for, if any. */
  cursor?: string;
  /** `_summary=count`: the number of matches only. */
  countOnly?: boolean;
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

// ---- normalization ------------------------------------------------------------------------------------------

function escapeKey(value: string): string {
  return value.replace(/%/g, '%25').replace(/#/g, '%23').replace(/\|/g, '%7C').replace(/\//g, '%2F');
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
  const match = TYPED_REFERENCE.exec(trimmed);
  if (match) return `${match[1]}/${match[2]}`;
  if (target && FHIR_ID.test(trimmed)) return `${target}/${trimmed}`;
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

// ---- a resource's search values ------------------------------------------------------------------------------

/** The normalized values of one search parameter in a resource. */
export type SearchValues =
  | { type: 'string'; values: string[] }
  | { type: 'token'; values: { system: string; code: string }[] }
  | { type: 'date'; values: string[] }
  | { type: 'reference'; values: string[] };

/** Every declared search parameter's normalized values in a resource (parameters without values left out). */
export function searchValues(type: ResourceType, resource: Record<string, unknown>): Map<string, SearchValues> {
  const out = new Map<string, SearchValues>();
  for (const [name, def] of Object.entries(definitionOf(type).searchParams)) {
    const raw = def.extract(resource);
    let entry: SearchValues;
    switch (def.type) {
      case 'string':
        entry = { type: 'string', values: unique(raw.map((v) => normalizeString(v as string)).filter((v) => v !== '')) };
        break;
      case 'token': {
        const seen = new Map<string, { system: string; code: string }>();
        for (const t of raw as TokenValue[]) {
          const v = { system: t.system ? normalizeTokenPart(t.system) : '', code: normalizeTokenPart(t.code) };
          seen.set(`${v.system}|${v.code}`, v);
        }
        entry = { type: 'token', values: [...seen.values()] };
        break;
      }
      case 'date':
        entry = { type: 'date', values: unique((raw as string[]).map(dateRange).filter((r): r is DateRange => !!r).map((r) => iso(r.lower))) };
        break;
      case 'reference':
        entry = { type: 'reference', values: unique((raw as string[]).map((r) => normalizeReference(r)).filter((r): r is string => !!r)) };
        break;
    }
    if (entry.values.length > 0) out.set(name, entry);
  }
  return out;
}

const unique = <T>(xs: T[]): T[] => [...new Set(xs)];

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

// ---- conditions ---------------------------------------------------------------------------------------------

/** Date comparisons on `<ISO lower bound>#<id>` strings (`gt`/`le` compare against `<upper>#~`). */
export type DateOp = 'eq' | 'ge' | 'gt' | 'le' | 'lt';

/** One search condition (a value of one parameter occurrence). */
export type Condition =
  | { kind: 'id'; id: string }
  /** `contains`: a substring anywhere (`:contains`); no index finds it, so it never drives a search. */
  | { kind: 'string'; param: string; value: string; exact: boolean; contains?: true }
  /** `system` undefined: any system; '' : no system. `code` undefined: any code of that system. */
  | { kind: 'token'; param: string; system?: string; code?: string }
  | { kind: 'date'; param: string; op: DateOp; lower: string; upper: string }
  | { kind: 'reference'; param: string; ref: string }
  /** `:missing=true|false`: the parameter has no value / some value. Not indexed. */
  | { kind: 'missing'; param: string; missing: boolean }
  /** `:not=a,b`: no value of the parameter matches any of the tokens (a resource without the parameter matches). */
  | { kind: 'not'; param: string; tokens: { system?: string; code?: string }[] }
  /** `_lastUpdated`: on the stored version's lastUpdated. Not indexed. */
  | { kind: 'lastUpdated'; op: DateOp; lower: string; upper: string };

/** One parameter occurrence: the union (OR) of its conditions. Occurrences combine with AND. */
export interface SearchClause {
  param: string;
  anyOf: Condition[];
}

const tokenMatches = (t: { system: string; code: string }, c: { system?: string; code?: string }) =>
  (c.system === undefined || t.system === c.system) && (c.code === undefined || t.code === c.code);

/**
 * Whether a stored resource satisfies a condition: THE definition of a match (the index only finds candidates).
 * `lastUpdated`: the stored version's (for `_lastUpdated`).
 */
export function matchesCondition(id: string, values: Map<string, SearchValues>, c: Condition, lastUpdated?: string): boolean {
  if (c.kind === 'id') return c.id === id;
  if (c.kind === 'lastUpdated') return lastUpdated !== undefined && dateSatisfies(lastUpdated, c);
  const v = values.get(c.param);
  if (c.kind === 'missing') return c.missing === (v === undefined);
  if (c.kind === 'not') return !v || !(v.values as { system: string; code: string }[]).some((t) => c.tokens.some((n) => tokenMatches(t, n)));
  if (!v) return false;
  switch (c.kind) {
    case 'string':
      return (v.values as string[]).some((s) => (c.contains ? s.includes(c.value) : c.exact ? s === c.value : s.startsWith(c.value)));
    case 'token':
      return (v.values as { system: string; code: string }[]).some((t) => tokenMatches(t, c));
    case 'reference':
      return (v.values as string[]).includes(c.ref);
    case 'date':
      return (v.values as string[]).some((d) => dateSatisfies(d, c));
  }
}

/** A date's lower bound (ISO) against a condition, as the index keys `<iso>#<id>` compare. */
export function dateSatisfies(lowerIso: string, c: { op: DateOp; lower: string; upper: string }): boolean {
  switch (c.op) {
    case 'eq':
      return lowerIso >= c.lower && lowerIso <= c.upper;
    case 'ge':
      return lowerIso >= c.lower;
    case 'gt':
      return lowerIso > c.upper;
    case 'le':
      return lowerIso <= c.upper;
    case 'lt':
      return lowerIso < c.lower;
  }
}

/** Whether a resource satisfies every clause (AND of ORs). */
export function matchesAll(id: string, values: Map<string, SearchValues>, clauses: readonly SearchClause[], lastUpdated?: string): boolean {
  return clauses.every((clause) => clause.anyOf.some((c) => matchesCondition(id, values, c, lastUpdated)));
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

function dateCondition(param: string, raw: string): Condition {
  const prefixMatch = /^([a-z]{2})(.*)$/.exec(raw);
  let prefix: DateOp = 'eq';
  let value = raw;
  if (prefixMatch) {
    if (!(DATE_PREFIXES as readonly string[]).includes(prefixMatch[1]!)) {
      throw new BadRequestError(`Unsupported date prefix '${prefixMatch[1]}' in parameter ${param} (supported: eq, ge, le, gt, lt)`, param);
    }
    prefix = prefixMatch[1] as DateOp;
    value = prefixMatch[2]!;
  }
  const range = dateRange(value);
  if (!range) throw new BadRequestError(`Invalid date '${value}' in parameter ${param}`, param);
  return { kind: 'date', param, op: prefix, lower: iso(range.lower), upper: iso(range.upper) };
}

function missingCondition(name: string, raw: string): Condition {
  if (raw !== 'true' && raw !== 'false') throw new BadRequestError(`:missing takes true or false, not '${raw}' (parameter ${name})`, name);
  return { kind: 'missing', param: name, missing: raw === 'true' };
}

/** The token a value names (`system|code`, `code`, `|code`, `system|`), normalized; undefined parts match anything. */
function tokenOf(name: string, raw: string): { system?: string; code?: string } {
  const { system, code } = splitToken(raw);
  if (system === undefined) {
    if (!code) throw new BadRequestError(`Empty value for parameter ${name}`, name);
    return { code: normalizeTokenPart(code) };
  }
  if (!code) {
    if (!system) throw new BadRequestError(`Empty value for parameter ${name}`, name);
    return { system: normalizeTokenPart(system) };
  }
  return { system: system ? normalizeTokenPart(system) : '', code: normalizeTokenPart(code) };
}

function conditionFor(name: string, def: SearchParamDef, modifier: string | undefined, raw: string): Condition {
  if (modifier === 'missing') return missingCondition(name, raw);
  switch (def.type) {
    case 'string': {
      if (modifier !== undefined && modifier !== 'exact' && modifier !== 'contains') {
        throw new BadRequestError(`Unsupported modifier ':${modifier}' on string parameter ${name} (supported: exact, contains, missing)`, name);
      }
      const value = normalizeString(raw);
      if (!value) throw new BadRequestError(`Empty value for parameter ${name}`, name);
      return { kind: 'string', param: name, value, exact: modifier === 'exact', ...(modifier === 'contains' ? { contains: true as const } : {}) };
    }
    case 'token': {
      if (modifier !== undefined) throw new BadRequestError(`Unsupported modifier ':${modifier}' on token parameter ${name} (supported: not, missing)`, name);
      return { kind: 'token', param: name, ...tokenOf(name, raw) };
    }
    case 'date':
      if (modifier !== undefined) throw new BadRequestError(`Unsupported modifier ':${modifier}' on date parameter ${name} (supported: missing)`, name);
      return dateCondition(name, raw);
    case 'reference': {
      let target = def.target;
      if (modifier !== undefined) {
        if (!/^[A-Z][A-Za-z]+$/.test(modifier)) throw new BadRequestError(`Unsupported modifier ':${modifier}' on reference parameter ${name}`, name);
        target = modifier;
      }
      const ref = normalizeReference(raw, target);
      if (!ref) throw new BadRequestError(`Invalid reference '${raw}' in parameter ${name}`, name);
      return { kind: 'reference', param: name, ref };
    }
  }
}

function idCondition(raw: string): Condition {
  if (!FHIR_ID.test(raw)) throw new BadRequestError(`Invalid id '${raw}' in parameter _id`, '_id');
  return { kind: 'id', id: raw };
}

/** Parameters that control the result rather than select it; never "unknown". */
const RESULT_PARAMS = new Set(['_count', '_format', CURSOR_PARAM, '_pretty', '_summary', '_elements']);

/**
 * Standard FHIR parameters this server does not implement and that would change the result if ignored: a 400,
 * never "unknown" (dropping `_tag=x` would answer more than asked). `_include`, `_revinclude`, `_sort`, chains and
 * `_has` are implemented a level up (functions/fhir/search-request.ts) and refused here where they reach it
 * (If-None-Exist).
 */
const UNSUPPORTED_PARAMS = new Set(['_text', '_content', '_filter', '_query', '_list', '_tag', '_profile', '_security', '_contained', '_containedType', '_type']);
const HANDLED_ABOVE = new Set(['_include', '_revinclude', '_sort']);

/**
 * Parses a search query. Unknown parameters are ignored (listed in `ignored`) unless `strict`, where they are a
 * 400. Bad values (dates, prefixes, `_count`), unsupported modifiers and anything that would change the meaning of
 * the result if ignored are a 400 either way.
 */
export function parseSearch(type: ResourceType, query: Record<string, string[]>, strict = false): ParsedSearch {
  const def = definitionOf(type);
  const clauses: SearchClause[] = [];
  const canonical: [string, string][] = [];
  const ignored: string[] = [];
  let count = DEFAULT_COUNT;
  let cursor: string | undefined;
  let countOnly = false;
  for (const [key, values] of Object.entries(query)) {
    const [name, modifier] = key.split(':', 2) as [string, string | undefined];
    if (name === '_count') {
      const raw = values[values.length - 1] ?? '';
      if (!/^\d+$/.test(raw)) throw new BadRequestError(`Invalid _count '${raw}'`, '_count');
      count = Math.min(Math.max(Number(raw), 0), MAX_COUNT);
      // `_count=0`: no entries, the total only (as `_summary=count`).
      if (count === 0) countOnly = true;
      continue;
    }
    if (name === CURSOR_PARAM) {
      cursor = values[values.length - 1];
      continue;
    }
    if (name === '_summary' && values[values.length - 1] === 'count') {
      countOnly = true;
      continue;
    }
    if (RESULT_PARAMS.has(name)) continue;
    if (UNSUPPORTED_PARAMS.has(name)) throw new BadRequestError(`Search parameter ${name} is not supported by this server`, key);
    if (HANDLED_ABOVE.has(name) || name === '_has' || name.includes('.')) {
      throw new BadRequestError(`${key} is not supported here (only in a search)`, key);
    }
    // Own properties only: `constructor`, `toString`, `__proto__`... are not search parameters.
    const param = name === '_id' || name === '_lastUpdated' || !Object.hasOwn(def.searchParams, name) ? undefined : def.searchParams[name];
    if (name !== '_id' && name !== '_lastUpdated' && !param) {
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
      const present = parts.filter((p) => p !== '');
      let anyOf: Condition[];
      if (param?.type === 'token' && modifier === 'not') {
        anyOf = [{ kind: 'not', param: name, tokens: present.map((p) => tokenOf(key, p)) }];
      } else {
        anyOf = present.map((p) => {
          if (param) return conditionFor(name, param, modifier, p);
          if (modifier !== undefined) throw new BadRequestError(`Unsupported modifier on ${name}`, name);
          if (name === '_lastUpdated') {
            const c = dateCondition(name, p) as Extract<Condition, { kind: 'date' }>;
            return { kind: 'lastUpdated', op: c.op, lower: c.lower, upper: c.upper };
          }
          return idCondition(p);
        });
      }
      clauses.push({ param: key, anyOf });
      canonical.push([key, value]);
    }
  }
  canonical.sort(byPair);
  return { clauses, count, cursor, canonical, ignored, ...(countOnly ? { countOnly } : {}) };
}

/** Orders query pairs by name, then value: the canonical form of a query (links, cursor bindings, locks). */
export function byPair(a: [string, string], b: [string, string]): number {
  return a[0] === b[0] ? (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0) : a[0] < b[0] ? -1 : 1;
}
