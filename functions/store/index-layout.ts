/**
 * Where search values live in the FHIR table (docs/storage.md has the whole key schema and its arithmetic). Every
 * key of type T starts with `T/` (the IAM contract: `dynamodb:LeadingKeys` on `T/*`). One item per (parameter,
 * value) of a declared search parameter:
 *
 * | what                          | pk                                 | sk                  |
 * |-------------------------------|------------------------------------|---------------------|
 * | listing (every live resource) | `T/_a/<shard>`                     | `<id>`, or `<code>#<id>` |
 * | string and date parameters    | `T/_i/<param>/<shard>`             | `<value>#<id>`      |
 * | token parameter               | `T/_i/<param>=<code>`              | `<system>\|<id>`    |
 * | token parameter, broad        | `T/_i/<param>=<code>/<shard>`      | `<system>\|<id>`    |
 * | reference parameter           | `T/_i/<param>=<Type/id>`           | `<id>`              |
 *
 * `<shard>` = a hash of the id modulo INDEX_SHARDS: a key that every resource (listing), or a large share of them
 * (gender=female, string prefixes, dates), would write is spread over INDEX_SHARDS partitions, and read back by
 * one Query per shard merged by sort key. Keys whose value is in the partition key (identifiers, references, codes)
 * spread over partitions by themselves. Ids never contain `_`, so `T/_a`, `T/_i`, `T/_l` never collide with `T/<id>`.
 *
 * A single-valued broad token declared `index.listing` (Patient gender, a status; functions/fhir/definitions.ts) has
 * no items of its own: its code prefixes the listing's sort key (`female#<id>`; `<id>` alone when the resource has no
 * value), so `gender=female` is a begins_with on the listing's shards and the listing still lists every resource,
 * one write unit less per create. Should such a value ever repeat, each value gets its listing item; the search
 * engine counts a resource once (at its first key) whatever the number of its keys in the streams.
 */
import type { Condition, SearchClause, SearchValues } from '../fhir/search';
import { COMPARTMENT_PARAM, definitionOf } from '../fhir/definitions';
import type { ResourceType } from '../../contract/resource-types';

/** Write shards of broad index keys. Fixed for a table's life: readers query every shard (see docs/storage.md). */
export const INDEX_SHARDS = 8;
/** The most streams (Queries) a search clause may fan out to and still drive a search; wider clauses filter. */
export const MAX_DRIVER_STREAMS = 64;

export interface IndexKey {
  pk: string;
  sk: string;
}

/** One sorted run of index keys: a key condition on one partition, read with Limit and ExclusiveStartKey. */
export interface Stream {
  pk: string;
  op: 'all' | 'begins_with' | 'between' | 'lt' | 'le' | 'gt' | 'ge';
  value?: string;
  value2?: string;
  /** `_id=x`: no Query; the one candidate is the id itself. */
  id?: string;
}

/** FNV-1a of the id, modulo the shard count: stable across runtimes and releases. */
export function shardOf(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % INDEX_SHARDS;
}

const SHARDS = Array.from({ length: INDEX_SHARDS }, (_, s) => s);
/** Sorts after every character of an id ([A-Za-z0-9.-]) and of an escaped value. */
const HIGH = '~';

const ownIndex = (type: ResourceType, param: string) => {
  const def = definitionOf(type).searchParams[param];
  return def?.index?.via ?? param;
};
const isBroad = (type: ResourceType, param: string) => definitionOf(type).searchParams[param]?.index?.broad === true;
const isListed = (type: ResourceType, param: string) => definitionOf(type).searchParams[param]?.index?.listing === true;
/** The partition of one shard of a type's listing. */
export const listingPk = (type: ResourceType, shard: number) => `${type}/_a/${shard}`;

/** The index items of a resource's values: what a write puts (and, for the values it no longer has, deletes). */
export function indexKeys(type: ResourceType, id: string, values: Map<string, SearchValues>): IndexKey[] {
  const shard = shardOf(id);
  const keys = new Map<string, IndexKey>();
  const add = (pk: string, sk: string) => keys.set(`${pk}\n${sk}`, { pk, sk });
  let listed = false;
  for (const [param, v] of values) {
    if (definitionOf(type).searchParams[param]?.index?.via) continue;
    if (v.type === 'token' && isListed(type, param)) {
      for (const t of v.values) add(listingPk(type, shard), `${t.code}#${id}`);
      listed ||= v.values.length > 0;
      continue;
    }
    switch (v.type) {
      case 'string':
      case 'date':
        for (const value of v.values) add(`${type}/_i/${param}/${shard}`, `${value}#${id}`);
        break;
      case 'token':
        for (const t of v.values) add(`${type}/_i/${param}=${t.code}${isBroad(type, param) ? `/${shard}` : ''}`, `${t.system}|${id}`);
        break;
      case 'reference':
        for (const ref of v.values) add(`${type}/_i/${param}=${ref}`, id);
        break;
    }
  }
  if (!listed) add(listingPk(type, shard), id);
  return [...keys.values()];
}

/**
 * The keys the earlier layout (before tokens were folded into the listing) gave these values and the current one
 * does not: the listing item `<id>` and the folded token's own items. What the upgrade (`--reindex`) removes.
 */
export function formerKeys(type: ResourceType, id: string, values: Map<string, SearchValues>): IndexKey[] {
  const shard = shardOf(id);
  const former: IndexKey[] = [];
  for (const [param, v] of values) {
    if (v.type !== 'token' || !isListed(type, param) || v.values.length === 0) continue;
    former.push({ pk: listingPk(type, shard), sk: id });
    for (const t of v.values) former.push({ pk: `${type}/_i/${param}=${t.code}/${shard}`, sk: `${t.system}|${id}` });
  }
  return former;
}

/** The listing of a type: every live resource, by id. */
export function listingStreams(type: ResourceType): Stream[] {
  return SHARDS.map((s) => ({ pk: listingPk(type, s), op: 'all' }));
}

/** The streams that yield every candidate of a condition; undefined when no index finds it (`system|` alone). */
export function conditionStreams(type: ResourceType, c: Condition): Stream[] | undefined {
  switch (c.kind) {
    case 'id':
      return [{ pk: `${type}/_id`, op: 'all', id: c.id }];
    case 'reference':
      return [{ pk: `${type}/_i/${c.param}=${c.ref}`, op: 'all' }];
    case 'token': {
      if (c.code === undefined) return undefined;
      // folded into the listing: the code prefixes the sort key, the system is checked on the resource
      if (isListed(type, c.param)) return SHARDS.map((s) => ({ pk: listingPk(type, s), op: 'begins_with', value: `${c.code}#` }));
      const base = `${type}/_i/${c.param}=${c.code}`;
      const op: Stream = c.system === undefined ? { pk: base, op: 'all' } : { pk: base, op: 'begins_with', value: `${c.system}|` };
      return isBroad(type, c.param) ? SHARDS.map((s) => ({ ...op, pk: `${base}/${s}` })) : [op];
    }
    case 'missing':
    case 'not':
    case 'lastUpdated':
      return undefined;
    case 'string': {
      if (c.contains) return undefined;
      const pk = (s: number) => `${type}/_i/${ownIndex(type, c.param)}/${s}`;
      return SHARDS.map((s) => ({ pk: pk(s), op: 'begins_with', value: c.exact ? `${c.value}#` : c.value }));
    }
    case 'date': {
      const pk = (s: number) => `${type}/_i/${c.param}/${s}`;
      const upper = `${c.upper}#${HIGH}`;
      const range: Omit<Stream, 'pk'> =
        c.op === 'eq'
          ? { op: 'between', value: c.lower, value2: upper }
          : c.op === 'ge'
            ? { op: 'ge', value: c.lower }
            : c.op === 'gt'
              ? { op: 'gt', value: upper }
              : c.op === 'le'
                ? { op: 'le', value: upper }
                : { op: 'lt', value: c.lower };
      return SHARDS.map((s) => ({ pk: pk(s), ...range }));
    }
  }
}

/** The streams of a clause (the union of its conditions, duplicates removed); undefined if any is not indexed. */
export function clauseStreams(type: ResourceType, clause: SearchClause): Stream[] | undefined {
  const out = new Map<string, Stream>();
  for (const c of clause.anyOf) {
    const streams = conditionStreams(type, c);
    if (!streams) return undefined;
    for (const s of streams) out.set(JSON.stringify(s), s);
  }
  return [...out.values()];
}

/**
 * The cheap rule that picks the clause driving a search (the others are checked on each candidate): by kind of key,
 * `_id` (direct reads) < a value in the partition key (references, identifiers, codes: one partition each) <
 * string prefixes and date ranges (sharded) < broad tokens (sharded, a large share of the type); ties: fewer
 * streams, and on a tie the caller's compartment (`_compartment`, functions/fhir/search-access.ts): its partition
 * holds only what the caller may see, so a page's budget is never spent on other patients' resources, and no
 * `next` link, sort cap or count cap tells how many of theirs match. No index for a clause, or more than
 * MAX_DRIVER_STREAMS streams: it cannot drive. Nothing can: the listing.
 */
export function chooseDriver(type: ResourceType, clauses: readonly SearchClause[]): { clause?: number; streams: Stream[] } {
  let best: { clause: number; streams: Stream[]; rank: number } | undefined;
  clauses.forEach((clause, i) => {
    const streams = clauseStreams(type, clause);
    if (!streams || streams.length > MAX_DRIVER_STREAMS) return;
    const kindRank = Math.max(...clause.anyOf.map((c) => rankOf(type, c)));
    const rank = kindRank * 1000 + streams.length - (clause.param === COMPARTMENT_PARAM ? 0.5 : 0);
    if (!best || rank < best.rank) best = { clause: i, streams, rank };
  });
  return best ? { clause: best.clause, streams: best.streams } : { streams: listingStreams(type) };
}

function rankOf(type: ResourceType, c: Condition): number {
  if (c.kind === 'id') return 0;
  if (c.kind === 'reference') return 1;
  if (c.kind === 'token') return isBroad(type, c.param) ? 3 : 1;
  return 2;
}

/** Whether an index key lies in a stream (the same test DynamoDB applies to the key condition). */
export function keyInStream(key: IndexKey, s: Stream): boolean {
  if (key.pk !== s.pk) return false;
  const sk = key.sk;
  switch (s.op) {
    case 'all':
      return true;
    case 'begins_with':
      return sk.startsWith(s.value!);
    case 'between':
      return sk >= s.value! && sk <= s.value2!;
    case 'lt':
      return sk < s.value!;
    case 'le':
      return sk <= s.value!;
    case 'gt':
      return sk > s.value!;
    case 'ge':
      return sk >= s.value!;
  }
}

/** The id an index sort key belongs to: after the last `#` or `|`, else the key itself (listing, references). */
export function idOfSortKey(sk: string): string {
  return sk.slice(Math.max(sk.lastIndexOf('#'), sk.lastIndexOf('|')) + 1);
}
