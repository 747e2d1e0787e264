/// <reference types="fhir" />
/**
 * A search, whole: criteria, chains and `_has` resolved into clauses (chain.ts), the caller's compartment, one
 * page from the search engine (functions/store/search-engine.ts), `_sort`, `_include`/`_revinclude` (include.ts),
 * and the searchset Bundle with its links and its outcome entry. The type search (`GET /Type`, `POST /Type/_search`)
 * and the compartment search (`GET /Patient/{id}/Type`, compartment.ts) both run here.
 *
 * Paging. Unsorted: the engine's stream positions, sealed into `_cursor` (cursor.ts); links `self`, `first` and
 * `next` (a `previous` or `last` would need positions the engine does not keep). Sorted (`_sort`): the whole
 * result is read, at most MAX_SORTED matches (more: a 400 naming the cap), sorted in memory, and paged by offset;
 * links `self`, `first`, `previous`, `next`, `last`, and `Bundle.total`. Worst case of any page: MAX_SORTED
 * candidates examined (as an unsorted page's MAX_EXAMINED_PER_PAGE), whatever the number of matches.
 *
 * The outcome entry (`search.mode=outcome`, one per Bundle, only when there is something to say): parameters
 * ignored (lenient handling), resources not included and why, caps reached.
 */
import type { ResourceType } from '../../contract/resource-types';
import { MAX_EXAMINED_FOR_COUNT, PositionsMismatch, runSearch, type Position } from '../store/search-engine';
import type { FhirRepository, StoredVersion } from '../store/repository';
import { chainClause, hasClause } from './chain';
import { CURSOR_PARAM, type CursorCodec } from './cursor';
import { BadRequestError, ForbiddenError } from './errors';
import { queryString } from './http';
import { includeFor } from './include';
import { searchValues, type SearchClause } from './search';
import { compartmentClause, type SearchCaller } from './search-access';
import { MAX_SORTED, type SearchRequest, type SortKey } from './search-request';


/** Result-shaping parameters carried into the Bundle's links (not part of what the token is bound to). */
const CARRIED = ['_summary', '_elements', '_format', '_pretty'];

export interface SearchTarget {
  type: ResourceType;
  /** The absolute FHIR base, `https://host/STU3`. */
  fhirBase: string;
  /** The URL the links page on: `<base>/Condition` or `<base>/Patient/1/Condition`. */
  url: string;
  /** More clauses (a compartment search's patient). */
  clauses?: SearchClause[];
  /** The request's query, for the result parameters the links keep. */
  query: Record<string, string[]>;
}

export async function searchBundle(
  repo: FhirRepository,
  caller: SearchCaller,
  cursors: CursorCodec,
  target: SearchTarget,
  request: SearchRequest,
): Promise<fhir.Bundle> {
  const { type } = target;
  const { base } = request;
  const decision = caller.decide(type, 'search-type');
  if (!decision.allowed) throw new ForbiddenError(decision.reason);
  const resolved: SearchClause[] = [
    ...(await Promise.all(request.chains.map((c) => chainClause(repo, caller, c)))),
    ...(await Promise.all(request.has.map((h) => hasClause(repo, caller, type, h)))),
  ];
  const compartment = compartmentClause(type, decision.compartmentPatient);
  // The caller's compartment first: chooseDriver (index-layout.ts) prefers a compartment clause to any other of its
  // rank, and of two compartment clauses (the caller's and the one asked for, `Patient/2/Condition`) the first; so a
  // page's budget goes to the caller's own resources, never to another patient's compartment.
  const clauses = [...(compartment ? [compartment] : []), ...base.clauses, ...(target.clauses ?? []), ...resolved];

  const pairs: [string, string][] = [...request.canonical, ...(base.countOnly ? [['_summary', 'count'] as [string, string]] : []), ['_count', String(base.count)]];
  const binding = `search\n${target.url.slice(target.fhirBase.length)}\n${JSON.stringify(pairs)}\n${JSON.stringify(resolved)}\n${caller.binding}`;
  const carried: [string, string][] = CARRIED.filter((k) => k !== '_summary' || !base.countOnly).flatMap((k) => (target.query[k] ?? []).slice(-1).map((v) => [k, v] as [string, string]));
  const link = (cursor?: unknown): string =>
    `${target.url}?${queryString([...pairs, ...carried, ...(cursor === undefined ? [] : [[CURSOR_PARAM, cursors.seal(cursor, binding)] as [string, string]])])}`;
  const payload = base.cursor === undefined ? undefined : cursors.open(base.cursor, binding);
  const self = `${target.url}?${queryString([...pairs, ...carried, ...(base.cursor ? [[CURSOR_PARAM, base.cursor] as [string, string]] : [])])}`;

  if (base.countOnly) {
    const page = await runSearch(repo, { type, clauses, count: 0, countOnly: true });
    if (page.next) throw new BadRequestError(`_summary=count examines at most ${MAX_EXAMINED_FOR_COUNT} candidates and this search has more; narrow it`, '_summary');
    return bundle(target, [{ relation: 'self', url: self }], page.counted, [], [], issuesOf(request, []));
  }

  let matches: StoredVersion[];
  let total: number | undefined;
  const links: fhir.BundleLink[] = [{ relation: 'self', url: self }, { relation: 'first', url: link() }];
  if (request.sort.length > 0) {
    const offset = payload === undefined ? 0 : offsetOf(payload);
    const page = await runSearch(repo, { type, clauses, count: MAX_SORTED, budget: MAX_SORTED });
    if (page.next) throw new BadRequestError(`_sort sorts at most ${MAX_SORTED} matches and this search has more (or examines more candidates); narrow it`, '_sort');
    const sorted = sortVersions(type, page.versions, request.sort);
    matches = sorted.slice(offset, offset + base.count);
    total = sorted.length;
    const lastOffset = Math.max(0, Math.floor((total - 1) / Math.max(base.count, 1)) * base.count);
    if (offset > 0) links.push({ relation: 'previous', url: link(Math.max(0, offset - base.count) === 0 ? undefined : { o: Math.max(0, offset - base.count) }) });
    if (offset + base.count < total) links.push({ relation: 'next', url: link({ o: offset + base.count }) });
    links.push({ relation: 'last', url: link(lastOffset === 0 ? undefined : { o: lastOffset }) });
  } else {
    const positions = payload === undefined ? undefined : positionsOf(payload);
    let page;
    try {
      page = await runSearch(repo, { type, clauses, count: base.count, positions });
    } catch (err) {
      if (err instanceof PositionsMismatch) throw new BadRequestError('Invalid continuation token', CURSOR_PARAM);
      throw err;
    }
    matches = page.versions;
    if (positions === undefined && page.next === undefined) total = matches.length;
    if (page.next) links.push({ relation: 'next', url: link({ p: page.next }) });
  }

  const included = await includeFor(repo, caller, matches, request);
  return bundle(target, links, total, matches, included.versions, issuesOf(request, included.issues));
}

function issuesOf(request: SearchRequest, more: fhir.OperationOutcomeIssue[]): fhir.OperationOutcomeIssue[] {
  const ignored: fhir.OperationOutcomeIssue[] =
    request.ignored.length > 0
      ? [{ severity: 'warning', code: 'not-supported', diagnostics: `Parameters ignored (unknown to this server): ${request.ignored.join(', ')}` }]
      : [];
  return [...ignored, ...more];
}

function bundle(
  target: SearchTarget,
  link: fhir.BundleLink[],
  total: number | undefined,
  matches: StoredVersion[],
  included: StoredVersion[],
  issues: fhir.OperationOutcomeIssue[],
): fhir.Bundle {
  const entry = (v: StoredVersion, mode: 'match' | 'include'): fhir.BundleEntry => ({
    fullUrl: `${target.fhirBase}/${v.type}/${v.id}`,
    resource: v.resource as fhir.Resource,
    search: { mode },
  });
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    ...(total !== undefined ? { total } : {}),
    link,
    entry: [
      ...matches.map((v) => entry(v, 'match')),
      ...included.map((v) => entry(v, 'include')),
      ...(issues.length > 0 ? [{ resource: { resourceType: 'OperationOutcome', issue: issues } as fhir.OperationOutcome, search: { mode: 'outcome' as const } }] : []),
    ],
  };
}

function positionsOf(payload: unknown): Position[] {
  const p = (payload as { p?: unknown } | null)?.p;
  if (!Array.isArray(p) || !p.every((x) => x === 0 || x === 1 || typeof x === 'string')) throw new BadRequestError('Invalid continuation token', CURSOR_PARAM);
  return p as Position[];
}

function offsetOf(payload: unknown): number {
  const o = (payload as { o?: unknown } | null)?.o;
  if (!Number.isInteger(o) || (o as number) < 0 || (o as number) >= MAX_SORTED) throw new BadRequestError('Invalid continuation token', CURSOR_PARAM);
  return o as number;
}

/** Sorts by the keys in order, then by id; a resource without a value sorts last, either direction. */
export function sortVersions(type: ResourceType, versions: StoredVersion[], keys: SortKey[]): StoredVersion[] {
  const keyed = versions.map((v) => {
    const values = searchValues(type, v.resource!);
    const sortValues = keys.map(({ param, desc }) => {
      if (param === '_id') return v.id;
      if (param === '_lastUpdated') return v.lastUpdated;
      const all = (values.get(param)?.values ?? []) as string[];
      if (all.length === 0) return undefined;
      return [...all].sort()[desc ? all.length - 1 : 0];
    });
    return { v, sortValues };
  });
  keyed.sort((a, b) => {
    for (let i = 0; i < keys.length; i++) {
      const x = a.sortValues[i];
      const y = b.sortValues[i];
      if (x === y) continue;
      if (x === undefined) return 1;
      if (y === undefined) return -1;
      return (x < y ? -1 : 1) * (keys[i]!.desc ? -1 : 1);
    }
    return a.v.id < b.v.id ? -1 : a.v.id > b.v.id ? 1 : 0;
  });
  return keyed.map((k) => k.v);
}
