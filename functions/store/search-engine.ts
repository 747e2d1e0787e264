/**
 * Where a search hits DynamoDB. A page costs the same whatever the number of matches and the size of the table:
 *  1. one clause DRIVES (index-layout.ts `chooseDriver`): its streams (one Query each: a partition and a key
 *     condition; a sharded key has one stream per shard) are read with `Limit` and merged by sort key;
 *  2. the candidates are read in one BatchGetItem per 100 and checked on the resource itself against EVERY clause
 *     (the compartment included): the index finds, the resource decides, so an orphan or stale index item is never
 *     returned (and one older than ORPHAN_GRACE_MS is deleted: read repair);
 *  3. the page stops at `_count` matches, or after `budget` candidates (MAX_EXAMINED_PER_PAGE): a partial page with
 *     a next link. Worst case per page: `budget` index keys and resources read, whatever the data.
 * Paging is DynamoDB's own cursor: the position in each stream is the last sort key consumed, resumed with
 * ExclusiveStartKey; the HTTP layer signs those positions into the `next` link (functions/fhir/cursor.ts).
 */
import type { ResourceType } from '../../contract/resource-types';
import { matchesAll, searchValues, type SearchClause } from '../fhir/search';
import { chooseDriver, idOfSortKey, indexKeys, keyInStream, type IndexKey, type Stream } from './index-layout';
import type { FhirRepository, IndexHit, StoredVersion } from './repository';

/** Candidates one page examines at most before answering a partial page with a next link. */
export const MAX_EXAMINED_PER_PAGE = 1000;
/** Candidates `_summary=count` examines at most; over it, a 400 naming the limit. */
export const MAX_EXAMINED_FOR_COUNT = 10_000;
/** An index item unused this long after it was written is an orphan of a failed write (longer than any request). */
export const ORPHAN_GRACE_MS = 15 * 60 * 1000;

/** Where a stream stands: 0 not started, 1 exhausted, else the last sort key consumed. */
export type Position = string | 0 | 1;

export interface SearchQuery {
  type: ResourceType;
  /** Every clause a result must satisfy, the caller's compartment included. */
  clauses: readonly SearchClause[];
  count: number;
  /** From the continuation token. */
  positions?: readonly Position[];
  /** Count matches instead of returning them. */
  countOnly?: boolean;
  budget?: number;
}

export interface SearchPage {
  versions: StoredVersion[];
  /** Matches counted (countOnly). */
  counted: number;
  /** Positions to continue from; absent when every stream is exhausted. */
  next?: Position[];
  /** The budget ran out before the page was full. */
  budgetExhausted: boolean;
}

/** Thrown when the positions of a continuation token do not fit the query's streams. */
export class PositionsMismatch extends Error {}

interface StreamState {
  stream: Stream;
  index: number;
  pos: Position;
  buffer: IndexHit[];
  more: boolean;
}

export async function runSearch(repo: FhirRepository, query: SearchQuery): Promise<SearchPage> {
  const { type, clauses } = query;
  const { streams } = chooseDriver(type, clauses);
  if (query.positions && query.positions.length !== streams.length) throw new PositionsMismatch();
  const states: StreamState[] = streams.map((stream, index) => {
    const pos = query.positions?.[index] ?? 0;
    return { stream, index, pos, buffer: [], more: pos !== 1 };
  });
  const wanted = query.countOnly ? Infinity : query.count;
  const budget = query.budget ?? (query.countOnly ? MAX_EXAMINED_FOR_COUNT : MAX_EXAMINED_PER_PAGE);
  const limit = query.countOnly ? 100 : Math.min(Math.max(query.count, 10) + 1, 100);
  const versions: StoredVersion[] = [];
  const orphans: { key: IndexKey; t: number }[] = [];
  let counted = 0;
  let examined = 0;
  const now = repo.now().getTime();

  while (counted < wanted && examined < budget) {
    await Promise.all(
      states
        .filter((s) => s.buffer.length === 0 && s.more)
        .map(async (s) => {
          const page = await repo.queryStream(s.stream, typeof s.pos === 'string' ? s.pos : undefined, limit);
          s.buffer = page.hits;
          s.more = page.more;
          if (s.buffer.length === 0 && !s.more) s.pos = 1;
        }),
    );
    // Pop candidates in merged sort-key order while every live stream's head is known.
    const batch: { hit: IndexHit; state: StreamState }[] = [];
    const need = Math.min(wanted - counted, budget - examined, 100);
    while (batch.length < need && !states.some((s) => s.buffer.length === 0 && s.more)) {
      let best: StreamState | undefined;
      for (const s of states) if (s.buffer.length > 0 && (!best || s.buffer[0]!.sk < best.buffer[0]!.sk)) best = s;
      if (!best) break;
      const hit = best.buffer.shift()!;
      best.pos = best.buffer.length === 0 && !best.more ? 1 : hit.sk;
      batch.push({ hit, state: best });
    }
    if (batch.length === 0) {
      if (states.every((s) => s.buffer.length === 0 && !s.more)) break;
      continue;
    }
    examined += batch.length;
    const ids = batch.map((b) => (b.state.stream.id !== undefined ? b.state.stream.id : idOfSortKey(b.hit.sk)));
    const found = new Map((await repo.readMany(type, [...new Set(ids)])).map((v) => [v.id, v]));
    batch.forEach(({ hit, state }, i) => {
      const id = ids[i]!;
      const version = found.get(id);
      const values = version?.resource ? searchValues(type, version.resource) : undefined;
      if (state.stream.id === undefined) {
        const keys = values ? indexKeys(type, id, values) : [];
        if (!keys.some((k) => k.pk === state.stream.pk && k.sk === hit.sk)) {
          if (hit.t < now - ORPHAN_GRACE_MS) orphans.push({ key: { pk: state.stream.pk, sk: hit.sk }, t: hit.t });
          return;
        }
        // A resource in several streams of the driver (OR values) counts once: at its first key in merge order.
        if (!isFirstOccurrence(keys, streams, hit.sk, state.index)) return;
      }
      if (!version || !values || !matchesAll(id, values, clauses, version.lastUpdated)) return;
      counted++;
      if (!query.countOnly) versions.push(version);
    });
  }
  await Promise.all(orphans.map((o) => repo.deleteOrphan(o.key, o.t).catch(() => undefined)));
  const exhausted = states.every((s) => s.buffer.length === 0 && !s.more);
  return {
    versions,
    counted,
    ...(exhausted ? {} : { next: states.map((s) => (s.buffer.length === 0 && !s.more ? 1 : s.pos)) }),
    budgetExhausted: !exhausted && counted < wanted,
  };
}

function isFirstOccurrence(keys: IndexKey[], streams: Stream[], sk: string, index: number): boolean {
  for (const key of keys) {
    for (let j = 0; j < streams.length; j++) {
      if (!keyInStream(key, streams[j]!)) continue;
      if (key.sk < sk || (key.sk === sk && j < index)) return false;
    }
  }
  return true;
}
