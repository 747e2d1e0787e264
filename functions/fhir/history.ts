/// <reference types="fhir" />
/**
 * Type-level and system-level `_history` (https://hl7.org/fhir/STU3/http.html#history), newest first, from the
 * change logs every write adds to (functions/store/repository.ts `changeLogs`: per type, sharded, and per patient).
 *
 * One page reads, per type the caller may see, one Query per shard of the type's log (`Limit` = the page size + 1;
 * + 2 after the first page) or, for a patient-bound caller and a compartment type, one Query of that patient's log
 * of the type. It merges them by time, reads the versions in one BatchGetItem per 100 (and reads on, in a round more,
 * when log items whose versions never landed left the page short: MAX_HISTORY_ROUNDS), and then decides on what it
 * read: a version is returned only when the caller's scopes allow history of its type (`decide`, SMART v2 `s`) and,
 * for a patient-bound caller, when the version itself is in the patient's compartment (a deletion by the
 * compartments it kept). Because a patient-bound caller reads only its patient's logs (and the logs of types outside
 * any compartment), what it reads is what it may see: its pages, their `next` links and their timing tell nothing
 * of other patients' changes. The position in the log is one sort key (a time, an id and a version), sealed into
 * the `next` link.
 * Cost per page and round: types x CHANGE_SHARDS Queries (112 for the system history of a token reading every type;
 * for a patient-bound token one per compartment type, CHANGE_SHARDS per other type) and ceil(2 x count / 100)
 * BatchGetItems; a second round only after a lost write.
 */
import { RESOURCE_TYPES, isResourceType, type ResourceType } from '../../contract/resource-types';
import { decide, type Access } from '../scopes/permissions';
import { CHANGE_SHARDS, type ChangeLog, type FhirRepository, type StoredVersion } from '../store/repository';
import { BadRequestError } from './errors';
import { etag, pageLink } from './http';
import { cursorOf, historyCount, invalidCursor, type Page, type Paging, type QueryPairs } from './paging';
import { FhirReadService, type CallerContext } from './read-service';

export interface HistoryQuery {
  /**
   * The types the caller may see, each with the compartment test for its versions and, for a patient-bound caller of
   * a compartment type, its patient: then only that patient's log of the type is read.
   */
  types: readonly { type: ResourceType; visible: (v: StoredVersion) => boolean; patient?: string }[];
  count: number;
  /** Continue with changes older than this position (from the signed cursor). */
  before?: string;
  /** `_since`: only changes at or after this instant (ISO). */
  since?: string;
}

export interface HistoryPage {
  versions: StoredVersion[];
  /** Where the next page starts, when there may be one. */
  next?: string;
}

/** A merge key of a change: its sort key then its type, so that positions are total across types. */
const position = (type: string, sk: string) => `${sk}#${type}`;

/**
 * Rounds of reading one page may take: a log item whose version never landed (a write that lost a race, or a
 * conditional create whose lock was held) is skipped, and the page reads on past it, so that such items neither
 * shorten a page nor put a `next` link on a last one. Each round reads what the page still lacks.
 */
export const MAX_HISTORY_ROUNDS = 3;

export async function readHistory(repository: FhirRepository, query: HistoryQuery): Promise<HistoryPage> {
  const streams = query.types.flatMap(({ type, patient }): ChangeLog[] =>
    patient !== undefined ? [{ type, patient }] : Array.from({ length: CHANGE_SHARDS }, (_, shard) => ({ type, shard })),
  );
  const versions: StoredVersion[] = [];
  let at = query.before;
  let more = true;
  for (let round = 0; round < MAX_HISTORY_ROUNDS && more && versions.length < query.count; round++) {
    const read = await readChanges(repository, query, streams, at, query.count - versions.length);
    versions.push(...read.versions);
    more = read.more;
    at = read.last ?? at;
  }
  return { versions, ...(more && at !== undefined && at !== query.before ? { next: at } : {}) };
}

/** One round: up to `count` changes older than `before`, merged across the logs, and the versions they name. */
async function readChanges(repository: FhirRepository, query: HistoryQuery, streams: ChangeLog[], before: string | undefined, count: number) {
  const sortKeyBefore = before?.slice(0, before.lastIndexOf('#'));
  // A round that goes on from a position reads one more per log: the log's `before` bound is inclusive, so the stream
  // the position came from returns that change again (dropped below), and `count + 1` others still tell if there is more.
  const limit = count + 1 + (before === undefined ? 0 : 1);
  const pages = await Promise.all(streams.map((log) => repository.queryChanges(log, sortKeyBefore, query.since, limit)));
  const changes = pages
    .flatMap((page, i) => page.sks.map((sk) => ({ type: streams[i]!.type, sk, at: position(streams[i]!.type, sk) })))
    .filter((c) => before === undefined || c.at < before)
    .sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
  const taken = changes.slice(0, count);
  const refs = taken.map((c) => {
    const [lastUpdated, id, vid] = c.sk.split('#') as [string, string, string];
    return { type: c.type, id, versionId: Number(vid), lastUpdated };
  });
  const read = await repository.readVersions(refs);
  const byKey = new Map(read.map((v) => [`${v.type}/${v.id}/${v.versionId}`, v]));
  const versions = refs
    .map((r) => byKey.get(`${r.type}/${r.id}/${r.versionId}`))
    // A log item whose version never landed (a write that lost a race) names a time its version does not have.
    .filter((v, i): v is StoredVersion => v !== undefined && v.lastUpdated === refs[i]!.lastUpdated)
    .filter((v) => query.types.find((t) => t.type === v.type)!.visible(v));
  return { versions, more: changes.length > count || pages.some((p) => p.more), last: taken[taken.length - 1]?.at };
}

/** `_since` as an ISO instant (a FHIR instant or date), or a 400. */
export function parseSince(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (!/^\d{4}(-\d{2}(-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?)?)?$/.test(value) || Number.isNaN(ms)) {
    throw new BadRequestError(`Invalid _since '${value}'; expected an instant such as 2024-01-31T12:00:00Z`, '_since');
  }
  return new Date(ms).toISOString();
}

/** A page of type or system history: `_count`, `_since`, `_cursor`; `kind` names what the cursor is bound to. */
export async function historyPage(
  repository: FhirRepository,
  types: HistoryQuery['types'],
  params: Record<string, string[]>,
  paging: Paging,
  kind: string,
): Promise<Page<StoredVersion>> {
  const count = historyCount(params);
  const since = parseSince(params._since?.[0]);
  const query: QueryPairs = [
    ...(params._type ? [['_type', params._type.join(',')] as [string, string]] : []),
    ...(since ? [['_since', since] as [string, string]] : []),
    ['_count', String(count)],
  ];
  const cursor = cursorOf(params);
  const before = cursor === undefined ? undefined : (paging.open(cursor, kind, query) as { b?: unknown } | null)?.b;
  if (cursor !== undefined && typeof before !== 'string') throw invalidCursor();
  const page = await readHistory(repository, { types, count, before: before as string | undefined, since });
  return {
    items: page.versions,
    query,
    ...(cursor !== undefined ? { cursor } : {}),
    ...(page.next ? { next: paging.seal({ b: page.next }, kind, query) } : {}),
  };
}

/**
 * The types system history reads for this token, each with its test on a version: those of `_type`
 * (`Observation,Condition`; an unknown type is a 400; absent: all) the token may search (SMART v2 `s`), a version of
 * a compartment type shown to a patient-bound token only when it is in that patient's compartment.
 */
export function visibleTypes(access: Access, repository: FhirRepository, typeParam: string[] | undefined): HistoryQuery['types'] {
  const requested = typeParam === undefined ? RESOURCE_TYPES : typeParam.flatMap((v) => v.split(',')).map((t) => t.trim());
  const unknown = requested.find((t) => !isResourceType(t));
  if (unknown !== undefined) throw new BadRequestError(`Unknown resource type '${unknown}' in _type`, '_type');
  return RESOURCE_TYPES.filter((t) => requested.includes(t)).flatMap((type) => {
    const d = decide(access, type, 'history-type');
    if (!d.allowed) return [];
    const service = new FhirReadService(type, repository);
    if (!d.compartmentPatient) return [{ type, visible: (v: StoredVersion) => service.mayReveal(v, {}) }];
    const ctx: CallerContext = { compartmentPatient: d.compartmentPatient };
    return [{ type, patient: d.compartmentPatient, visible: (v: StoredVersion) => service.mayReveal(v, ctx) }];
  });
}

/**
 * A history Bundle, newest first (https://hl7.org/fhir/STU3/http.html#history), of one resource, one type or the
 * whole server: `selfUrl` without its query, the page's query and cursors make the `self` and `next` links.
 */
export function historyBundle(fhirBase: string, selfUrl: string, page: Page<StoredVersion>): fhir.Bundle {
  return {
    resourceType: 'Bundle',
    type: 'history',
    ...(page.total !== undefined ? { total: page.total } : {}),
    link: [
      { relation: 'self', url: pageLink(selfUrl, page) },
      ...(page.next ? [{ relation: 'next', url: pageLink(selfUrl, page, page.next) }] : []),
    ],
    entry: page.items.map((v) => ({
      fullUrl: `${fhirBase}/${v.type}/${v.id}`,
      ...(v.resource ? { resource: v.resource as fhir.Resource } : {}),
      request: { method: v.method ?? (v.deleted ? 'DELETE' : 'PUT'), url: v.method === 'POST' ? v.type : `${v.type}/${v.id}` },
      response: {
        status: v.deleted ? '204' : v.versionId === 1 ? '201' : '200',
        etag: etag(v),
        lastModified: v.lastUpdated,
      },
    })),
  };
}
