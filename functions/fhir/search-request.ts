/**
 * A whole FHIR search request (https://hl7.org/fhir/STU3/search.html) parsed: the plain criteria (search.ts
 * `parseSearch`) plus what reaches other resource types or reshapes the result, each checked for syntax and bound
 * here, before any read:
 *  - `_include` / `_revinclude` (`Type:param[:target]`, `_include=*`, `:recurse` / `:iterate`);
 *  - chained parameters, one level (`patient.family`, `subject:Patient.identifier`) and reverse chains
 *    (`_has:Type:param:criterion`), one level;
 *  - `_sort` (`_id`, `_lastUpdated`, string and date parameters; `-` or `:desc` for descending).
 * Anything of these this server cannot serve is a 400, never dropped. Pure functions.
 */
import { isResourceType, type ResourceType } from '../../contract/resource-types';
import { definitionOf } from './definitions';
import { BadRequestError } from './errors';
import { byPair, parseSearch, SEARCH_LIMITS, splitValues, type ParsedSearch } from './search';

/** `_include` / `_revinclude` values per search (each may fan out to one read or search per page). */
export const MAX_INCLUDE_PARAMS = 5;
/** Chains and `_has` per search (each is one bounded search of another type before the main one). */
export const MAX_CHAINS = 2;
/** `_include:recurse`: how many times includes are applied to what was included. */
export const MAX_INCLUDE_DEPTH = 3;
/** Included resources per page, all `_include` and `_revinclude` together (include.ts). */
export const MAX_INCLUDED = 100;
/** Resources of the other type a chain or `_has` may resolve to (chain.ts). */
export const MAX_CHAIN_TARGETS = 50;
/** Referring resources a `_has` examines at most (chain.ts). */
export const MAX_HAS_REFERRERS = 500;
/** The most matches a sorted search reads (and sorts) per page (search-service.ts). */
export const MAX_SORTED = 1000;

export interface IncludeSpec {
  /** The type whose resources hold the reference (`*`: any, with `_include=*`). */
  source: ResourceType | '*';
  /** The reference parameter; `*`: every reference parameter of `source` (`_include` only). */
  param: string;
  /** Only references to this type. */
  target?: ResourceType;
}

/** `patient.family=x` on Condition: Condition.patient -> Patient with family=x. */
export interface ChainSpec {
  /** The query key as sent, for messages and the canonical query. */
  key: string;
  value: string;
  /** The reference parameter of the searched type. */
  param: string;
  /** The type it is followed to. */
  target: ResourceType;
  /** The criterion on the target type: its parameter (with modifier) and value. */
  criterion: Record<string, string[]>;
}

/** `_has:Condition:patient:code=x` on Patient: Patients that a Condition with code=x refers to by `patient`. */
export interface HasSpec {
  key: string;
  value: string;
  /** The referring type and its reference parameter. */
  source: ResourceType;
  param: string;
  criterion: Record<string, string[]>;
}

export type SortKey = { param: string; desc: boolean };

export interface SearchRequest {
  base: ParsedSearch;
  includes: IncludeSpec[];
  revincludes: IncludeSpec[];
  /** `_include:recurse`/`:iterate`: includes applied again to included resources, up to MAX_INCLUDE_DEPTH. */
  recurse: boolean;
  chains: ChainSpec[];
  has: HasSpec[];
  sort: SortKey[];
  /** Every parameter that defines the result, normalized (links, continuation-token bindings). */
  canonical: [string, string][];
  /** Unknown parameters ignored (lenient handling): listed in the Bundle's outcome entry. */
  ignored: string[];
}

const bad = (message: string, key: string) => new BadRequestError(message, key);

function typeNamed(name: string, key: string): ResourceType {
  if (!isResourceType(name)) throw bad(`${key}: '${name}' is not a resource type this server serves`, key);
  return name;
}

function referenceParam(type: ResourceType, name: string, key: string) {
  const def = Object.hasOwn(definitionOf(type).searchParams, name) ? definitionOf(type).searchParams[name] : undefined;
  if (!def) throw bad(`${key}: ${type} has no search parameter '${name}'`, key);
  if (def.type !== 'reference') throw bad(`${key}: ${type}.${name} is not a reference parameter`, key);
  return def;
}

/** One `_include` / `_revinclude` value: `Type:param[:target]`, or `*` (include only). */
function includeSpec(raw: string, key: string, rev: boolean): IncludeSpec {
  if (raw === '*') {
    if (rev) throw bad('_revinclude=* is not supported (it would search every type); name the type and parameter', key);
    return { source: '*', param: '*' };
  }
  const parts = raw.split(':');
  if (parts.length < 2 || parts.length > 3) throw bad(`${key}: '${raw}' is not Type:parameter[:targetType]`, key);
  const source = typeNamed(parts[0]!, key);
  const param = parts[1]!;
  if (param !== '*') referenceParam(source, param, key);
  const target = parts[2] === undefined ? undefined : typeNamed(parts[2], key);
  return { source, param, ...(target ? { target } : {}) };
}

function sortKeys(values: string[]): SortKey[] {
  const keys: SortKey[] = [];
  for (const value of values) {
    for (const part of splitValues(value)) {
      if (part === '') continue;
      const desc = part.startsWith('-');
      keys.push({ param: desc ? part.slice(1) : part, desc });
    }
  }
  return keys;
}

function checkSort(type: ResourceType, keys: SortKey[]): void {
  if (keys.length > 3) throw bad('_sort takes at most 3 keys', '_sort');
  for (const { param } of keys) {
    if (param === '_id' || param === '_lastUpdated') continue;
    const def = Object.hasOwn(definitionOf(type).searchParams, param) ? definitionOf(type).searchParams[param] : undefined;
    if (!def) throw bad(`_sort: ${type} has no search parameter '${param}'`, '_sort');
    if (def.type !== 'string' && def.type !== 'date') {
      throw bad(`_sort by ${param} (a ${def.type} parameter) is not supported: sort by _id, _lastUpdated, a string or a date parameter`, '_sort');
    }
  }
}

/** `subject:Patient.identifier` -> reference parameter `subject`, target Patient, criterion `identifier`. */
function chainSpec(type: ResourceType, key: string, values: string[]): ChainSpec[] {
  const dot = key.indexOf('.');
  const [refName, typeModifier, ...extra] = key.slice(0, dot).split(':');
  const rest = key.slice(dot + 1);
  if (extra.length > 0 || !refName) throw bad(`${key}: not a chained parameter (reference[:Type].parameter)`, key);
  if (rest.includes('.')) throw bad(`${key}: chains of more than one level are not supported`, key);
  const def = referenceParam(type, refName, key);
  const target = typeNamed(typeModifier ?? def.target ?? '', key);
  const [criterionName] = rest.split(':');
  if (!criterionName || criterionName.startsWith('_has') || ['_include', '_revinclude', '_sort', '_count'].includes(criterionName)) {
    throw bad(`${key}: '${rest}' cannot be chained`, key);
  }
  // The criterion is checked now (unknown parameter, bad value: 400), before any read.
  for (const value of values) parseSearch(target, { [rest]: [value] }, true);
  return values.map((value) => ({ key, value, param: refName, target, criterion: { [rest]: [value] } }));
}

/** `_has:Condition:patient:code[:modifier]`. */
function hasSpec(type: ResourceType, key: string, values: string[]): HasSpec[] {
  const parts = key.split(':');
  if (parts.length < 4 || parts.length > 5) throw bad(`${key}: not _has:Type:reference:parameter`, key);
  const source = typeNamed(parts[1]!, key);
  const def = referenceParam(source, parts[2]!, key);
  if (def.target !== type) throw bad(`${key}: ${source}.${parts[2]} does not refer to ${type}`, key);
  const criterionKey = parts.slice(3).join(':');
  if (criterionKey.startsWith('_has') || criterionKey.includes('.')) throw bad(`${key}: nested _has and chains inside _has are not supported`, key);
  for (const value of values) parseSearch(source, { [criterionKey]: [value] }, true);
  return values.map((value) => ({ key, value, source, param: parts[2]!, criterion: { [criterionKey]: [value] } }));
}

/**
 * Parses a search request of `type`. `strict` (Prefer: handling=strict): unknown parameters are a 400 rather
 * than ignored and reported.
 */
export function parseSearchRequest(type: ResourceType, query: Record<string, string[]>, strict = false): SearchRequest {
  const plain: Record<string, string[]> = {};
  const includes: IncludeSpec[] = [];
  const revincludes: IncludeSpec[] = [];
  const chains: ChainSpec[] = [];
  const has: HasSpec[] = [];
  let sort: SortKey[] = [];
  let recurse = false;
  const special: [string, string][] = [];
  for (const [key, values] of Object.entries(query)) {
    const [name, modifier] = key.split(':', 2);
    if (name === '_include' || name === '_revinclude') {
      if (modifier !== undefined && modifier !== 'recurse' && modifier !== 'iterate') throw bad(`Unsupported modifier on ${name}: ':${modifier}'`, key);
      if (modifier && name === '_revinclude') throw bad(`_revinclude:${modifier} is not supported (only _include may recurse)`, key);
      if (modifier) recurse = true;
      for (const value of values) (name === '_include' ? includes : revincludes).push(includeSpec(value, key, name === '_revinclude'));
    } else if (name === '_sort') {
      if (modifier !== undefined && modifier !== 'asc' && modifier !== 'desc') throw bad(`Unsupported modifier on _sort: ':${modifier}'`, key);
      const keys = sortKeys(values);
      sort = modifier === 'desc' ? keys.map((k) => ({ ...k, desc: !k.desc })) : keys;
      checkSort(type, sort);
    } else if (name === '_has') {
      has.push(...hasSpec(type, key, values));
    } else if (key.includes('.') && !key.startsWith('_')) {
      chains.push(...chainSpec(type, key, values));
    } else {
      plain[key] = values;
      continue;
    }
    for (const value of values) special.push([key, value]);
  }
  if (includes.length + revincludes.length > MAX_INCLUDE_PARAMS) {
    throw bad(`A search takes at most ${MAX_INCLUDE_PARAMS} _include and _revinclude values`, '_include');
  }
  if (chains.length + has.length > MAX_CHAINS) {
    throw bad(`A search takes at most ${MAX_CHAINS} chained or _has parameters`, chains[0]?.key ?? has[0]!.key);
  }
  const base = parseSearch(type, plain, strict);
  if (base.clauses.length + chains.length + has.length > SEARCH_LIMITS.clauses) {
    throw bad(`A search takes at most ${SEARCH_LIMITS.clauses} search criteria (parameter occurrences)`, chains[0]?.key ?? has[0]!.key);
  }
  const canonical = [...base.canonical, ...special].sort(byPair);
  return { base, includes, revincludes, recurse, chains, has, sort, canonical, ignored: base.ignored };
}
