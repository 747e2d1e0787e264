/**
 * THE FHIR repository: every resource of every type in ONE DynamoDB table (contract/tables.ts FHIR_TABLE), keys `pk`/`sk`
 * (strings), every key of type T starting with `T/` (docs/storage.md: the schema, the access patterns, the costs):
 *
 * | item                    | pk              | sk              | attributes                                               |
 * |-------------------------|-----------------|-----------------|----------------------------------------------------------|
 * | current version         | `T/<id>`        | `v`             | versionId, lastUpdated, method, resource (JSON) or z (brotli JSON, over 800 bytes) or deleted + compartments |
 * | an older version        | `T/<id>`        | `h/<10 digits>` | the same, as it was current                              |
 * | search index item       | see functions/store/index-layout.ts | | t (written, epoch ms), v (the version that wrote it)     |
 * | conditional-create lock | `T/_l/<digest>` | `lock`          | resourceId, nonce, expiresAt (TTL)                       |
 * | change-log items        | `T/_c/<shard>`, `T/_p/<patient>` | `<lastUpdated>#<id>#<version>` | t, v (`changeLogs`, below) |
 *
 * Reads: the current version is one GetItem; a page of search results one BatchGetItem (any mix of types).
 * A create with an id this repository made (generateId: 122 random bits, new by construction) is ONE round trip:
 * the version and its index items in one BatchWriteItem, no condition needed. Items DynamoDB leaves unprocessed are
 * retried (bounded); if they cannot be written, the version is deleted again (so no live resource stays out of
 * search) and the client gets a 503. A process that dies in that retry window can leave a version without some
 * index items: `reindexMissing` (cli/migrate.ts --reindex) is the reconciler that puts them back.
 * Other writes without a transaction, ordered so that a crash at any point leaves nothing wrong visible:
 *  1. the index items the new version adds (BatchWriteItem): before the version can be seen, so search never misses
 *     a live resource; an index item whose version never lands is an orphan, and search checks every candidate on
 *     the resource itself, so orphans are never returned (and read repair deletes them, functions/store/search-engine);
 *  2. on an update, a copy of the current version as history `h/<n>` (idempotent: the same content whoever writes it);
 *  3. the new current version, conditioned on the version read (`attribute_not_exists` for a create): the atomic
 *     version bump that If-Match and concurrent writers rely on; with a conditional-create lock, lock and version
 *     in one TransactWriteItems so that the uniqueness of If-None-Exist stays exact;
 *  4. the index items the old version had and the new one has not, each deleted only if no later version rewrote it
 *     (`v < :new`).
 * A transaction Bundle's writes (`writeAll`) keep the same order, step 3 being one TransactWriteItems of every
 * entry's new version.
 * Each request gets its own repository over the document client its caller may use (functions/fhir/handler.ts), and
 * keeps at most MAX_CONCURRENT_CALLS DynamoDB calls in flight. The writes themselves are in writes.ts, loaded with
 * `import()` on a process's first write (a Lambda that serves only reads never loads them); this class delegates.
 */
import { randomUUID } from 'node:crypto';
import { brotliDecompressSync } from 'node:zlib';
import { BatchGetCommand, DeleteCommand, GetCommand, QueryCommand, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { FhirRepository as FhirRepositoryContract } from './fhir-repository';
import type { ResourceType } from '../../contract/resource-types';
import { Limiter } from './concurrency';
import { mapStoreError } from './errors';
import { INDEX_SHARDS, shardOf, type IndexKey, type Stream } from './index-layout';
import type { WriteContext } from './writes';
import { once } from '../once';
import { untilProcessed } from './unprocessed';

/** The write half (writes.ts), loaded on a process's first write: a Lambda serving reads never loads it. */
const loadWrites = once(() => import('./writes'));

/** Index items one resource may have (searchable values + the listing): a write's fan-out bound; over it, a 413. */
export const MAX_INDEX_ITEMS = 200;
/**
 * A resource whose JSON is longer is stored brotli-compressed (attribute `z`, binary): FHIR JSON shrinks to about
 * half, which keeps a typical resource's version item under the 1 KB write unit (and halves read units and storage).
 * Shorter ones stay readable JSON (`resource`): they fit one write unit anyway.
 */
export const COMPRESS_OVER_BYTES = 800;
/** DynamoDB's TransactWriteItems limit. */
export const MAX_TRANSACTION_ITEMS = 100;
/** DynamoDB calls one request keeps in flight at most (issue 13.4). */
export const MAX_CONCURRENT_CALLS = 8;

export type FhirResource = Record<string, unknown> & { resourceType: string; id?: string };

/** A version of a resource as stored. */
export interface StoredVersion {
  type: ResourceType;
  id: string;
  versionId: number;
  lastUpdated: string;
  deleted: boolean;
  /** The resource with meta.versionId and meta.lastUpdated; absent for a delete. */
  resource?: FhirResource;
  method?: 'POST' | 'PUT' | 'DELETE';
  /** The patients whose compartments the resource is in: kept on a delete, so a deleted id keeps its owner. */
  compartments?: string[];
}

export interface WriteResult {
  version: StoredVersion;
  /** True when this write created the resource (no live version before). */
  created: boolean;
}

/** A conditional-create lock to take together with the create. */
export interface CreateLock {
  /** The normalized query's digest. */
  key: string;
  /** Replace a lock still alive but known stale (its resource no longer matches): its nonce. */
  replaceNonce?: string;
}

/** Thrown when the conditional-create lock is held by another writer. */
export class LockHeldError extends Error {
  constructor(readonly nonce: string | undefined) {
    super('conditional create lock is held');
    this.name = 'LockHeldError';
  }
}

export interface RepositoryOptions {
  documentClient: DynamoDBDocumentClient;
  tableName: string;
  now?: () => Date;
  newId?: () => string;
  /** Attempts of a write without If-Match when concurrent writers change the version. Default 60. */
  maxWriteAttempts?: number;
  /** Seconds a conditional-create lock lives. Default 30. */
  lockSeconds?: number;
}

/** The sort key of a resource's current version. */
export const CURRENT = 'v';
const HISTORY = 'h/';
export const resourcePk = (type: string, id: string) => `${type}/${id}`;
export const historySk = (v: number) => `${HISTORY}${String(v).padStart(10, '0')}`;
export const lockPk = (type: string, key: string) => `${type}/_l/${key}`;
/**
 * The change logs (type and system `_history`, issue 15): items never removed, sk `<lastUpdated>#<id>#<versionId>`
 * (newest last; read newest first).
 * - A type's log: one item per version written, sharded like the listing: pk `T/_c/<shard>`.
 * - A patient's log of a compartment type: one item per version in that patient's compartment (a deletion: the
 *   compartments it kept), pk `T/_p/<patient>`. A patient-bound caller's history reads these, so it reads nothing
 *   of other patients' resources, not even that they changed. The patient's own Patient log is no item: it is the
 *   Patient's instance history (one Patient create stays at 10 write units, docs/storage.md).
 */
export const CHANGE_SHARDS = INDEX_SHARDS;
export type ChangeLog = { type: ResourceType; shard: number } | { type: ResourceType; patient: string };
const changeLogPk = (log: ChangeLog) => ('patient' in log ? `${log.type}/_p/${log.patient}` : `${log.type}/_c/${log.shard}`);
export const changeKey = (log: ChangeLog, id: string, versionId: number, lastUpdated: string): IndexKey => ({
  pk: changeLogPk(log),
  sk: changeSk(id, versionId, lastUpdated),
});
const changeSk = (id: string, versionId: number, lastUpdated: string) => `${lastUpdated}#${id}#${String(versionId).padStart(10, '0')}`;
/** The logs a version is written to: its type's shard, and the log of each patient whose compartment it is in. */
export function changeLogs(type: ResourceType, id: string, compartments: readonly string[]): ChangeLog[] {
  return [{ type, shard: shardOf(id) }, ...(type === 'Patient' ? [] : compartments.map((patient) => ({ type, patient })))];
}

export interface VersionItem {
  pk: string;
  sk: string;
  versionId: number;
  lastUpdated: string;
  deleted?: boolean;
  resource?: string;
  /** The resource's JSON, brotli-compressed (when over COMPRESS_OVER_BYTES). */
  z?: Uint8Array;
  method?: StoredVersion['method'];
  compartments?: string[];
}

/** One index item read by a search: its sort key and when it was written. */
export interface IndexHit {
  sk: string;
  t: number;
}

/** The FHIR repository over the one DynamoDB table (the layout above). */
export class DynamoFhirRepository implements FhirRepositoryContract {
  private readonly db: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly now: () => Date;
  private readonly newId: () => string;
  private readonly maxWriteAttempts: number;
  private readonly lockSeconds: number;
  private readonly limiter = new Limiter(MAX_CONCURRENT_CALLS);
  /** The ids generateId made in this repository (one per request): new by construction, so created in one round trip. */
  private readonly generated = new Set<string>();
  /** What the write functions (writes.ts) use of this repository. */
  private readonly writer: WriteContext;

  constructor(options: RepositoryOptions) {
    this.db = options.documentClient;
    this.tableName = options.tableName;
    this.now = options.now ?? (() => new Date());
    this.newId = options.newId ?? randomUUID;
    this.maxWriteAttempts = options.maxWriteAttempts ?? 60;
    this.lockSeconds = options.lockSeconds ?? 30;
    this.writer = {
      tableName: this.tableName,
      now: this.now,
      maxWriteAttempts: this.maxWriteAttempts,
      lockSeconds: this.lockSeconds,
      send: (command) => this.send(command),
      read: (type, id) => this.read(type, id),
      batchGet: (keys, projection) => this.batchGet(keys, projection),
      versions: async (type, id) => {
        const all: StoredVersion[] = [];
        for (let page = await this.history(type, id, 100); ; page = await this.history(type, id, 100, all[all.length - 1]!.versionId)) {
          all.push(...page.versions);
          if (!page.more || page.versions.length === 0) return all;
        }
      },
    };
  }

  /** A fresh server-assigned id. */
  generateId(): string {
    const id = this.newId();
    this.generated.add(id);
    return id;
  }

  // ---- reads ---------------------------------------------------------------------------------------------

  /** The current version (deleted or not), or undefined if the id was never written. One GetItem. */
  async read(type: ResourceType, id: string): Promise<StoredVersion | undefined> {
    const out = await this.send(new GetCommand({ TableName: this.tableName, Key: { pk: resourcePk(type, id), sk: CURRENT }, ConsistentRead: true }));
    return out.Item ? toVersion(type, id, out.Item as VersionItem) : undefined;
  }

  /** One version, current or older, or undefined. */
  async vread(type: ResourceType, id: string, versionId: number): Promise<StoredVersion | undefined> {
    const [older, current] = await Promise.all([
      this.send(new GetCommand({ TableName: this.tableName, Key: { pk: resourcePk(type, id), sk: historySk(versionId) }, ConsistentRead: true })),
      this.read(type, id),
    ]);
    if (current?.versionId === versionId) return current;
    return older.Item ? toVersion(type, id, older.Item as VersionItem) : undefined;
  }

  /** Versions newest first, `count` at most, older than `beforeVersion` if given. One Query. */
  async history(type: ResourceType, id: string, count: number, beforeVersion?: number): Promise<{ versions: StoredVersion[]; more: boolean }> {
    const upper = beforeVersion === undefined ? CURRENT : historySk(beforeVersion - 1);
    const out = await this.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi',
        ExpressionAttributeValues: { ':pk': resourcePk(type, id), ':lo': HISTORY, ':hi': upper },
        ScanIndexForward: false,
        ConsistentRead: true,
        Limit: count + 2,
      }),
    );
    const seen = new Set<number>();
    const versions: StoredVersion[] = [];
    for (const item of (out.Items ?? []) as VersionItem[]) {
      const v = toVersion(type, id, item);
      // A history copy of the current version exists when a write failed after step 2: the same version, once.
      if (seen.has(v.versionId) || (beforeVersion !== undefined && v.versionId >= beforeVersion)) continue;
      seen.add(v.versionId);
      versions.push(v);
    }
    return { versions: versions.slice(0, count), more: versions.length > count || out.LastEvaluatedKey !== undefined };
  }

  /** The current, live resources of these ids, in the given order (missing or deleted ones left out). */
  async readMany(type: ResourceType, ids: readonly string[]): Promise<StoredVersion[]> {
    return this.readRefs(ids.map((id) => ({ type, id })));
  }

  /** The current, live resources of any types (for `_include`, `$everything`), in order, missing or deleted left out. */
  async readRefs(refs: readonly { type: ResourceType; id: string }[]): Promise<StoredVersion[]> {
    const found = new Map<string, StoredVersion>();
    const keys = [...new Set(refs.map((r) => resourcePk(r.type, r.id)))].map((pk) => ({ pk, sk: CURRENT }));
    for (const item of await this.batchGet(keys)) {
      const slash = item.pk.indexOf('/');
      found.set(item.pk, toVersion(item.pk.slice(0, slash) as ResourceType, item.pk.slice(slash + 1), item));
    }
    return refs.map((r) => found.get(resourcePk(r.type, r.id))).filter((v): v is StoredVersion => v !== undefined && !v.deleted);
  }

  /** Up to `limit` index keys of a stream after `after` (DynamoDB's own cursor), and whether there may be more. */
  async queryStream(stream: Stream, after: string | undefined, limit: number): Promise<{ hits: IndexHit[]; more: boolean }> {
    if (stream.id !== undefined) return { hits: after === undefined ? [{ sk: stream.id, t: 0 }] : [], more: false };
    const values: Record<string, unknown> = { ':pk': stream.pk };
    let expression = 'pk = :pk';
    switch (stream.op) {
      case 'all':
        break;
      case 'begins_with':
        // begins_with as a range: DynamoDB Local answers begins_with by reading the whole partition, a range by its
        // index; the bound is the prefix followed by the highest code point (search values are escaped text).
        values[':v'] = stream.value;
        values[':v2'] = `${stream.value}\u{10FFFF}`;
        expression += ' AND sk BETWEEN :v AND :v2';
        break;
      case 'between':
        values[':v'] = stream.value;
        values[':v2'] = stream.value2;
        expression += ' AND sk BETWEEN :v AND :v2';
        break;
      default:
        values[':v'] = stream.value;
        expression += ` AND sk ${{ lt: '<', le: '<=', gt: '>', ge: '>=' }[stream.op]} :v`;
    }
    const input: QueryCommandInput = {
      TableName: this.tableName,
      KeyConditionExpression: expression,
      ExpressionAttributeValues: values,
      ProjectionExpression: 'sk, t',
      ConsistentRead: true,
      Limit: limit,
      ...(after !== undefined ? { ExclusiveStartKey: { pk: stream.pk, sk: after } } : {}),
    };
    const out = await this.send(new QueryCommand(input));
    return { hits: (out.Items ?? []).map((i: Record<string, unknown>) => ({ sk: i.sk as string, t: Number(i.t ?? 0) })), more: out.LastEvaluatedKey !== undefined };
  }

  /** Change-log items of one log, newest first, not newer than `before` and not older than `since` (sort keys). */
  async queryChanges(log: ChangeLog, before: string | undefined, since: string | undefined, limit: number): Promise<{ sks: string[]; more: boolean }> {
    if ('patient' in log && log.type === 'Patient') return this.ownPatientChanges(log.patient, before, since, limit);
    const out = await this.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi',
        ExpressionAttributeValues: { ':pk': changeLogPk(log), ':lo': since ?? '0', ':hi': before ?? '~' },
        ProjectionExpression: 'sk',
        ScanIndexForward: false,
        ConsistentRead: true,
        Limit: limit,
      }),
    );
    return { sks: (out.Items ?? []).map((i: Record<string, unknown>) => i.sk as string), more: out.LastEvaluatedKey !== undefined };
  }

  /**
   * A patient's own Patient log: its versions (current `v`, then `h/...`, newest first), as change-log sort keys.
   * One Query reads at most 1 MB (about a thousand versions of one Patient); a page that could not reach `before`
   * in it is short and says `more`: it is the caller's own resource, so that reveals nothing of anyone else.
   */
  private async ownPatientChanges(patient: string, before: string | undefined, since: string | undefined, limit: number): Promise<{ sks: string[]; more: boolean }> {
    const out = await this.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :h AND :v',
        ExpressionAttributeValues: { ':pk': resourcePk('Patient', patient), ':h': HISTORY, ':v': CURRENT },
        ProjectionExpression: 'versionId, lastUpdated',
        ScanIndexForward: false,
        ConsistentRead: true,
      }),
    );
    // A history copy of the current version (a write that failed after copying it) is the same change: once.
    const sks = [...new Set(((out.Items ?? []) as { versionId: number; lastUpdated: string }[]).map((i) => changeSk(patient, i.versionId, i.lastUpdated)))]
      .filter((sk) => sk <= (before ?? '~') && sk >= (since ?? '0'));
    return { sks: sks.slice(0, limit), more: sks.length > limit || out.LastEvaluatedKey !== undefined };
  }

  /** These versions (current or older, deleted ones too), in order; any not found left out. */
  async readVersions(refs: readonly { type: ResourceType; id: string; versionId: number }[]): Promise<StoredVersion[]> {
    const keys = [...new Map(refs.flatMap((r) => [CURRENT, historySk(r.versionId)].map((sk) => [`${resourcePk(r.type, r.id)}\n${sk}`, { pk: resourcePk(r.type, r.id), sk }]))).values()];
    const found = new Map<string, StoredVersion>();
    for (const item of await this.batchGet(keys)) {
      const slash = item.pk.indexOf('/');
      const v = toVersion(item.pk.slice(0, slash) as ResourceType, item.pk.slice(slash + 1), item);
      found.set(`${item.pk}\n${v.versionId}`, v);
    }
    return refs.map((r) => found.get(`${resourcePk(r.type, r.id)}\n${r.versionId}`)).filter((v): v is StoredVersion => v !== undefined);
  }

  /**
   * The items of these keys (only the `projection` attributes, when given): one BatchGetItem per 100, in parallel;
   * the keys DynamoDB leaves unprocessed (throttling) asked again as unprocessed.ts says (bounded; then a 503).
   */
  private async batchGet(keys: readonly { pk: string; sk: string }[], projection?: string): Promise<VersionItem[]> {
    const chunks: { pk: string; sk: string }[][] = [];
    for (let i = 0; i < keys.length; i += 100) chunks.push(keys.slice(i, i + 100));
    const items: VersionItem[] = [];
    await Promise.all(
      chunks.map((chunk) =>
        untilProcessed(chunk, async (Keys) => {
          const out = await this.send(new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys, ConsistentRead: true, ProjectionExpression: projection } } }));
          items.push(...((out.Responses?.[this.tableName] ?? []) as VersionItem[]));
          return out.UnprocessedKeys?.[this.tableName]?.Keys as { pk: string; sk: string }[] | undefined;
        }),
      ),
    );
    return items;
  }

  /** Read repair: deletes an orphan index item, only if it is still the one judged (written at `t`). */
  async deleteOrphan(key: IndexKey, t: number): Promise<void> {
    try {
      await this.send(
        new DeleteCommand({ TableName: this.tableName, Key: key, ConditionExpression: 't = :t', ExpressionAttributeValues: { ':t': t } }),
      );
    } catch (err) {
      if ((err as { name?: string }).name !== 'ConditionalCheckFailedException') throw err;
    }
  }

  // ---- writes: functions/store/writes.ts, loaded on the first write -----------------------------------------

  /** Creates a resource with a new id (or the given one, which must not exist yet), with a conditional-create lock. */
  async create(type: ResourceType, resource: FhirResource, options: { id?: string; lock?: CreateLock } = {}): Promise<WriteResult> {
    const id = options.id ?? this.generateId();
    const fresh = !options.lock && this.generated.delete(id);
    return (await loadWrites()).write(this.writer, type, id, { resource, mustNotExist: true, fresh, lock: options.lock, method: 'POST' });
  }

  /**
   * Updates (or creates, with the client's id) a resource. `ifMatch`: the version the client expects; a mismatch
   * is a 412. Without it, version conflicts from concurrent writers are retried, so every update makes a version.
   * `check` sees the stored version first (a deleted one with its compartments) and may refuse by throwing.
   */
  async update(
    type: ResourceType,
    id: string,
    resource: FhirResource,
    options: { ifMatch?: number; check?: (current?: StoredVersion) => void } = {},
  ): Promise<WriteResult> {
    return (await loadWrites()).write(this.writer, type, id, { resource, ifMatch: options.ifMatch, check: options.check, method: 'PUT' });
  }

  /** Deletes (a new version marked deleted, index items removed, history kept). Undefined when nothing was live. */
  async delete(type: ResourceType, id: string, options: { check?: (current?: StoredVersion) => void } = {}): Promise<WriteResult | undefined> {
    return (await loadWrites()).deleteResource(this.writer, type, id, options.check);
  }

  /**
   * Writes several resources of any types all or nothing (transaction Bundles, issue 15): their new current versions
   * in ONE TransactWriteItems, up to 100 entries; their index, change-log and history items around it, as a single
   * write does (writes.ts `writeAll`). A concurrent change of any entry cancels the whole transaction: a 409.
   */
  async writeAll(
    entries: readonly { type: ResourceType; id: string; resource?: FhirResource; ifMatch?: number; check?: (current?: StoredVersion) => void }[],
  ): Promise<WriteResult[]> {
    return (await loadWrites()).writeAll(this.writer, entries);
  }

  /**
   * The reconciler of one-round-trip creates (`npm run migrate -- --reindex`): puts back the index items a live
   * version should have and has not, and removes those of the earlier listing layout (writes.ts). Idempotent.
   */
  async reindexMissing(type: ResourceType, id: string): Promise<{ written: number; removed: number }> {
    return (await loadWrites()).reindexMissing(this.writer, type, id);
  }

  /**
   * Imports the whole history of a resource as it was stored elsewhere (migration from the per-type tables,
   * cli/migrate.ts): the newest version becomes current, the others history. Idempotent: puts only.
   */
  async importVersions(type: ResourceType, id: string, versions: readonly Omit<StoredVersion, 'type' | 'id'>[]): Promise<number> {
    return (await loadWrites()).importVersions(this.writer, type, id, versions);
  }

  /** BatchWriteItem puts, 25 per call, in parallel, unprocessed items retried with backoff (bounded: then a 503). */
  async batchPut(items: Record<string, unknown>[]): Promise<void> {
    return (await loadWrites()).batchPut(this.writer, items);
  }

  /** Every DynamoDB call of this request, through the limiter; store failures mapped to FHIR errors. */
  // The document client's `send` is overloaded per command; the callers know their output shape.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private send(command: object): Promise<any> {
    return this.limiter.run(async () => {
      try {
        return await this.db.send(command as never);
      } catch (err) {
        const name = (err as { name?: string }).name;
        if (name === 'ConditionalCheckFailedException' || name === 'TransactionCanceledException') throw err;
        mapStoreError(err);
      }
    });
  }
}

/**
 * The repository interface (fhir-repository.ts) under its old name, and the DynamoDB one as its constructor, so that
 * `new FhirRepository({ documentClient, tableName })` and `type FhirRepository` keep working where they are written.
 */
export type FhirRepository = FhirRepositoryContract;
export const FhirRepository = DynamoFhirRepository;

function toVersion(type: ResourceType, id: string, item: VersionItem): StoredVersion {
  return {
    type,
    id,
    versionId: Number(item.versionId),
    lastUpdated: item.lastUpdated,
    deleted: Boolean(item.deleted),
    resource: item.z ? (JSON.parse(brotliDecompressSync(item.z).toString('utf8')) as FhirResource) : item.resource ? (JSON.parse(item.resource) as FhirResource) : undefined,
    method: item.method,
    ...(item.compartments ? { compartments: item.compartments } : {}),
  };
}
