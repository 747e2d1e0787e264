/**
 * The write half of the DynamoDB repository (repository.ts), loaded with `import()` on a request's first write: a
 * Lambda that only reads (most requests) never loads it at init (lib/constructs/code-splitting.ts). The order of a
 * write's steps, what each guarantees and how a crash between them is repaired: repository.ts (top) and
 * docs/storage.md "Writes". Every call goes through the repository's own `send` (its limiter and error mapping), so
 * these functions take the repository's WriteContext.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { randomInt, randomUUID } from 'node:crypto';
import { brotliCompressSync, constants as zlib } from 'node:zlib';
import { BatchWriteCommand, DeleteCommand, GetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { ResourceType } from '../../contract/resource-types';
import { ConflictError, TooLargeError, ifMatchFailed } from '../fhir/errors';
import { compartmentPatients, searchValues } from '../fhir/search';
import { formerKeys, indexKeys, type IndexKey } from './index-layout';
import { untilProcessed } from './unprocessed';
import {
  CURRENT,
  COMPRESS_OVER_BYTES,
  LockHeldError,
  MAX_INDEX_ITEMS,
  MAX_TRANSACTION_ITEMS,
  changeKey,
  changeLogs,
  historySk,
  lockPk,
  resourcePk,
  type CreateLock,
  type FhirResource,
  type StoredVersion,
  type VersionItem,
  type WriteResult,
} from './repository';

/** What the write functions need of their repository. */
export interface WriteContext {
  readonly tableName: string;
  readonly now: () => Date;
  readonly maxWriteAttempts: number;
  readonly lockSeconds: number;
  /** The repository's DynamoDB call: limited, store errors mapped (conditional failures passed through). */
  // The document client's `send` is overloaded per command; the callers know their output shape.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  send(command: object): Promise<any>;
  read(type: ResourceType, id: string): Promise<StoredVersion | undefined>;
  /** The repository's BatchGetItem of these keys, in parallel per 100, unprocessed keys retried. */
  batchGet(keys: readonly IndexKey[], projection?: string): Promise<object[]>;
  /** Every version of a resource, newest first (the reconciler's backfill of the change logs). */
  versions(type: ResourceType, id: string): Promise<StoredVersion[]>;
}

/** One write's operation (create, update or delete). */
export interface WriteOp {
  resource?: FhirResource;
  mustNotExist?: boolean;
  /** An id generateId made: new by construction, created in one BatchWriteItem. */
  fresh?: boolean;
  ifMatch?: number;
  lock?: CreateLock;
  method: 'POST' | 'PUT' | 'DELETE';
  check?: (current?: StoredVersion) => void;
}

class NothingToDelete extends Error {}

/** Deletes (a new version marked deleted, index items removed, history kept). Undefined when nothing was live. */
export async function deleteResource(ctx: WriteContext, type: ResourceType, id: string, check?: (current?: StoredVersion) => void): Promise<WriteResult | undefined> {
  try {
    return await write(ctx, type, id, { method: 'DELETE', check });
  } catch (err) {
    if (err instanceof NothingToDelete) return undefined;
    throw err;
  }
}

export async function write(
  ctx: WriteContext,
  type: ResourceType,
  id: string,
  op: WriteOp,
): Promise<WriteResult> {
  const pk = resourcePk(type, id);
  const newKeys = op.resource ? boundedIndexKeys(type, id, op.resource) : [];
  for (let attempt = 1; ; attempt++) {
    // A create of a fresh server id needs no read: the conditional put below is the existence check.
    const current = op.mustNotExist && !op.check ? undefined : await ctx.read(type, id);
    const live = current !== undefined && !current.deleted;
    if (op.mustNotExist && current) throw new ConflictError(`${type}/${id} already exists`);
    // The caller's check first: If-Match must not tell a caller the version of a resource it may not touch.
    op.check?.(current);
    if (op.ifMatch !== undefined && (!live || current!.versionId !== op.ifMatch)) {
      throw ifMatchFailed(`${type}/${id}`, op.ifMatch);
    }
    if (op.method === 'DELETE' && !live) throw new NothingToDelete();

    const versionId = (current?.versionId ?? 0) + 1;
    const lastUpdated = ctx.now().toISOString();
    const stored = op.resource ? { ...op.resource, id, meta: { ...((op.resource.meta as Record<string, unknown> | undefined) ?? {}), versionId: String(versionId), lastUpdated } } : undefined;
    const { added, removed } = indexChanges(type, id, live ? current!.resource : undefined, newKeys);

    const t = ctx.now().getTime();
    if (op.fresh && stored) return createFresh(ctx, type, id, stored, lastUpdated, t, added);

    const version = nextVersion(type, id, versionId, lastUpdated, stored, op.method, current);
    // 1. index and change-log items first and 2. the current version copied to history: independent, so in parallel
    await Promise.all([
      batchPut(ctx, [...added, ...changeKeys(version)].map((k) => ({ ...k, t, v: versionId }))),
      current ? ctx.send(new PutCommand({ TableName: ctx.tableName, Item: { ...toItem(current), pk, sk: historySk(current.versionId) } })) : undefined,
    ]);
    // 3. the new current version, conditioned on the one read
    const put = {
      TableName: ctx.tableName,
      Item: { ...toItem(version), pk, sk: CURRENT },
      ConditionExpression: current ? 'versionId = :v' : 'attribute_not_exists(pk)',
      ...(current ? { ExpressionAttributeValues: { ':v': current.versionId } } : {}),
    };
    try {
      if (op.lock) await putWithLock(ctx, type, id, put, op.lock);
      else await ctx.send(new PutCommand(put));
    } catch (err) {
      if (err instanceof LockHeldError) throw err;
      if ((err as { name?: string }).name !== 'ConditionalCheckFailedException') throw err;
      // The version changed since the read (or the id exists): the index items added above are orphans for read
      // repair. If-Match turns this into a 412 at the top of the loop; a create of a taken id is a 409.
      if (op.mustNotExist) throw new ConflictError(`${type}/${id} already exists`);
      if (attempt >= ctx.maxWriteAttempts) throw new ConflictError(`Too many concurrent writes to ${type}/${id}; retry`);
      // full jitter, exponential: contenders spread out instead of colliding again
      await sleep(randomInt(1, 5 * 2 ** Math.min(attempt, 5)));
      continue;
    }
    // 4. index items of values the resource no longer has, unless a later version wrote them again
    await removeIndexItems(ctx, removed.map((key) => ({ key, versionId })));
    return { version, created: !live };
  }
}

/** A create of a new-by-construction id: the version and its index items in one BatchWriteItem (see the top). */
async function createFresh(ctx: WriteContext, type: ResourceType, id: string, stored: FhirResource, lastUpdated: string, t: number, keys: IndexKey[]): Promise<WriteResult> {
  const version: StoredVersion = { type, id, versionId: 1, lastUpdated, deleted: false, resource: stored, method: 'POST' };
  const key = { pk: resourcePk(type, id), sk: CURRENT };
  try {
    await batchPut(ctx, [{ ...toItem(version), ...key }, ...[...keys, ...changeKeys(version)].map((k) => ({ ...k, t, v: 1 }))]);
  } catch (err) {
    // Never leave a live version without its index: take it back (only if it is still this write's); the index
    // items that did land are orphans for read repair.
    await ctx.send(
      new DeleteCommand({
        TableName: ctx.tableName,
        Key: key,
        ConditionExpression: 'versionId = :one AND lastUpdated = :at',
        ExpressionAttributeValues: { ':one': 1, ':at': lastUpdated },
      }),
    ).catch(() => undefined);
    throw err;
  }
  return { version, created: true };
}

/**
 * The reconciler of one-round-trip creates: puts back the index items a current, live version should have and
 * has not (a writer that died while retrying unprocessed items). Reads the expected keys, writes only the missing
 * ones; idempotent. Also the upgrade of the listing layout: a resource whose listing key now carries a folded
 * token (`female#<id>`, index-layout.ts) loses the items of the earlier layout (`formerKeys`: the listing item
 * `<id>` and the token's own item), each deleted only if no write newer than the version read made it. And the
 * upgrade to the patients' change logs: every version's change-log items, a deleted resource's too. Returns how
 * many items it wrote and removed.
 */
export async function reindexMissing(ctx: WriteContext, type: ResourceType, id: string): Promise<{ written: number; removed: number }> {
  const versions = await ctx.versions(type, id);
  const current = versions[0];
  if (!current) return { written: 0, removed: 0 };
  const values = current.resource && !current.deleted ? searchValues(type, current.resource) : undefined;
  // The index of a live current version, and every version's change-log items (deleted resources' too): the
  // patients' logs came after the type's, so older versions may lack theirs (docs/storage.md "Upgrading").
  const changes = versions.flatMap((v) => changeKeys(v).map((key) => ({ key, versionId: v.versionId })));
  const keyOf = (k: IndexKey) => `${k.pk}\n${k.sk}`;
  const versionOf = new Map(changes.map((c) => [keyOf(c.key), c.versionId]));
  const keys = [...(values ? indexKeys(type, id, values) : []), ...changes.map((c) => c.key)];
  const expected = new Set(keys.map(keyOf));
  const stale = values ? formerKeys(type, id, values).filter((k) => !expected.has(keyOf(k))) : [];
  const present = new Set<string>();
  const probe = [...keys, ...stale];
  // 100 keys at a time: a resource of many versions probes thousands of keys, serially (an operator's command).
  for (let i = 0; i < probe.length; i += 100) {
    for (const item of (await ctx.batchGet(probe.slice(i, i + 100).map(({ pk, sk }) => ({ pk, sk })), 'pk, sk')) as IndexKey[]) present.add(keyOf(item));
  }
  const t = ctx.now().getTime();
  const missing = keys.filter((k) => !present.has(keyOf(k))).map((k) => ({ ...k, t, v: versionOf.get(keyOf(k)) ?? current.versionId }));
  await batchPut(ctx, missing);
  let removed = 0;
  for (const key of stale.filter((k) => present.has(keyOf(k)))) {
    try {
      await ctx.send(new DeleteCommand({ TableName: ctx.tableName, Key: key, ConditionExpression: 'v <= :v', ExpressionAttributeValues: { ':v': current.versionId } }));
      removed++;
    } catch (err) {
      if ((err as { name?: string }).name !== 'ConditionalCheckFailedException') throw err;
    }
  }
  return { written: missing.length, removed };
}

/**
 * Writes several resources of any types at once (transaction Bundles, issue 15): every entry's new current version in
 * ONE TransactWriteItems, each conditioned on the version read (`ifMatch` and `check` decided on that read): all or
 * nothing. As in `write()`, each entry's index and change-log items and the history copy of the version it replaces
 * are written first, and its index items of values it no longer has are removed after: a transaction that fails
 * leaves only items that search and history skip. So a transaction holds one item per entry: up to 100 entries,
 * whatever they are, and its size says nothing of what is stored (a count that depended on the stored versions told a
 * write-only token which values they hold). A concurrent change of any entry cancels the whole transaction: a 409 the
 * client may retry.
 */
export async function writeAll(
  ctx: WriteContext,
  entries: readonly { type: ResourceType; id: string; resource?: FhirResource; ifMatch?: number; check?: (current?: StoredVersion) => void }[],
): Promise<WriteResult[]> {
  if (entries.length > MAX_TRANSACTION_ITEMS) throw new TooLargeError(`A transaction writes at most ${MAX_TRANSACTION_ITEMS} resources; this one has ${entries.length}`);
  const newKeys = entries.map((e) => (e.resource ? boundedIndexKeys(e.type, e.id, e.resource) : []));
  const currents = await Promise.all(entries.map((e) => ctx.read(e.type, e.id)));
  const lastUpdated = ctx.now().toISOString();
  const t = ctx.now().getTime();
  const plans = entries.map((e, i) => {
    const current = currents[i];
    const live = current !== undefined && !current.deleted;
    e.check?.(current); // before If-Match, as in write()
    if (e.ifMatch !== undefined && (!live || current!.versionId !== e.ifMatch)) throw ifMatchFailed(`${e.type}/${e.id}`, e.ifMatch);
    const versionId = (current?.versionId ?? 0) + 1;
    const stored = e.resource ? { ...e.resource, id: e.id, meta: { ...((e.resource.meta as Record<string, unknown>) ?? {}), versionId: String(versionId), lastUpdated } } : undefined;
    const { added, removed } = indexChanges(e.type, e.id, live ? current!.resource : undefined, newKeys[i]!);
    const version = nextVersion(e.type, e.id, versionId, lastUpdated, stored, stored ? (current ? 'PUT' : 'POST') : 'DELETE', current);
    return { current, live, version, added, removed };
  });
  // 1. index and change-log items, and the history copies, first (idempotent; a failed transaction leaves orphans)
  await Promise.all([
    batchPut(ctx, plans.flatMap((p) => [...p.added, ...changeKeys(p.version)].map((k) => ({ ...k, t, v: p.version.versionId })))),
    batchPut(ctx, plans.flatMap((p) => (p.current ? [{ ...toItem(p.current), pk: resourcePk(p.version.type, p.version.id), sk: historySk(p.current.versionId) }] : []))),
  ]);
  // 2. the new current versions, all or nothing
  try {
    await ctx.send(
      new TransactWriteCommand({
        TransactItems: plans.map(({ current, version }) => ({
          Put: {
            TableName: ctx.tableName,
            Item: { ...toItem(version), pk: resourcePk(version.type, version.id), sk: CURRENT },
            ConditionExpression: current ? 'versionId = :v' : 'attribute_not_exists(pk)',
            ...(current ? { ExpressionAttributeValues: { ':v': current.versionId } } : {}),
          },
        })),
      }),
    );
  } catch (err) {
    if ((err as { name?: string }).name === 'TransactionCanceledException') throw new ConflictError('A resource of the transaction changed concurrently; retry');
    throw err;
  }
  // 3. index items of values the resources no longer have, unless a later version wrote them again (as in write())
  await removeIndexItems(ctx, plans.flatMap((p) => p.removed.map((key) => ({ key, versionId: p.version.versionId }))));
  return plans.map((p) => ({ version: p.version, created: !p.live }));
}

/** The create and its conditional-create lock in one transaction: the lock makes If-None-Exist exact. */
async function putWithLock(ctx: WriteContext, type: ResourceType, id: string, put: { TableName: string; Item: Record<string, unknown>; ConditionExpression: string }, lock: CreateLock) {
  const nowSeconds = Math.floor(ctx.now().getTime() / 1000);
  try {
    await ctx.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: ctx.tableName,
              Item: { pk: lockPk(type, lock.key), sk: 'lock', resourceId: id, nonce: randomUUID(), expiresAt: nowSeconds + ctx.lockSeconds },
              ConditionExpression: lock.replaceNonce
                ? 'attribute_not_exists(pk) OR expiresAt < :now OR nonce = :nonce'
                : 'attribute_not_exists(pk) OR expiresAt < :now',
              ExpressionAttributeValues: { ':now': nowSeconds, ...(lock.replaceNonce ? { ':nonce': lock.replaceNonce } : {}) },
            },
          },
          { Put: put },
        ],
      }),
    );
  } catch (err) {
    const reasons = (err as { CancellationReasons?: { Code?: string }[] }).CancellationReasons;
    if ((err as { name?: string }).name === 'TransactionCanceledException' && reasons) {
      if (reasons[0]?.Code === 'ConditionalCheckFailed') throw new LockHeldError(await lockNonce(ctx, type, lock.key));
      if (reasons[1]?.Code === 'ConditionalCheckFailed') throw Object.assign(new Error('id taken'), { name: 'ConditionalCheckFailedException' });
      if (reasons.some((r) => r.Code === 'TransactionConflict')) throw new LockHeldError(undefined);
    }
    throw err;
  }
}

async function lockNonce(ctx: WriteContext, type: ResourceType, key: string): Promise<string | undefined> {
  const out = await ctx.send(new GetCommand({ TableName: ctx.tableName, Key: { pk: lockPk(type, key), sk: 'lock' }, ConsistentRead: true }));
  return out.Item?.nonce as string | undefined;
}

/**
 * Imports the whole history of a resource as it was stored elsewhere (migration from the per-type tables,
 * cli/migrate.ts): the newest version becomes current (its index items written when live), the others history;
 * a deletion keeps the compartments of the version before it. Idempotent: puts only, rerun safely.
 */
export async function importVersions(ctx: WriteContext, type: ResourceType, id: string, versions: readonly Omit<StoredVersion, 'type' | 'id'>[]): Promise<number> {
  const sorted = [...versions].sort((a, b) => a.versionId - b.versionId);
  const pk = resourcePk(type, id);
  const items: Record<string, unknown>[] = [];
  let compartments: string[] | undefined;
  let current: Record<string, unknown> | undefined;
  sorted.forEach((v, i) => {
    if (v.resource) compartments = compartmentPatients(type, id, v.resource);
    const version: StoredVersion = { ...v, type, id, ...(v.resource ? {} : { compartments: v.compartments ?? compartments }) };
    items.push(...changeKeys(version).map((k) => ({ ...k, t: Date.parse(v.lastUpdated) || 0, v: v.versionId })));
    if (i === sorted.length - 1) current = { ...toItem(version), pk, sk: CURRENT };
    else items.push({ ...toItem(version), pk, sk: historySk(v.versionId) });
  });
  const last = sorted[sorted.length - 1];
  if (!last || !current) return 0;
  if (last.resource && !last.deleted) {
    const t = Date.parse(last.lastUpdated) || ctx.now().getTime();
    items.push(...indexKeys(type, id, searchValues(type, last.resource)).map((k) => ({ ...k, t, v: last.versionId })));
  }
  await batchPut(ctx, items);
  // Never over a newer version written since (the API may already be open): only if absent or not newer.
  try {
    await ctx.send(
      new PutCommand({
        TableName: ctx.tableName,
        Item: current,
        ConditionExpression: 'attribute_not_exists(pk) OR versionId <= :v',
        ExpressionAttributeValues: { ':v': last.versionId },
      }),
    );
  } catch (err) {
    if ((err as { name?: string }).name !== 'ConditionalCheckFailedException') throw err;
  }
  return items.length + 1;
}

/** BatchWriteItem puts, 25 per call, in parallel, unprocessed items sent again as unprocessed.ts says (then a 503). */
export async function batchPut(ctx: WriteContext, items: Record<string, unknown>[]): Promise<void> {
  const batches: Record<string, unknown>[][] = [];
  for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25));
  await Promise.all(
    batches.map((batch) =>
      untilProcessed(
        batch.map((Item) => ({ PutRequest: { Item } })),
        async (pending) => (await ctx.send(new BatchWriteCommand({ RequestItems: { [ctx.tableName]: pending } }))).UnprocessedItems?.[ctx.tableName] as typeof pending | undefined,
      ),
    ),
  );
}

/**
 * The index items of a resource to be written, within their bound (a 413 past it). Worked out on the body alone,
 * before the stored version is read, so that the 413 says nothing of what is stored (checked after If-Match, it told
 * a write-only token when an If-Match held); the version's `versionId` and `lastUpdated` are not indexed.
 */
export function boundedIndexKeys(type: ResourceType, id: string, resource: FhirResource): IndexKey[] {
  const keys = indexKeys(type, id, searchValues(type, { ...resource, id }));
  if (keys.length > MAX_INDEX_ITEMS) {
    throw new TooLargeError(`${type}/${id} has ${keys.length - 1} searchable values; at most ${MAX_INDEX_ITEMS - 1} are indexed per resource`);
  }
  return keys;
}

/** The index items a write adds (values the new version has and the replaced one had not) and removes. */
export function indexChanges(type: ResourceType, id: string, before: FhirResource | undefined, newKeys: readonly IndexKey[]): { added: IndexKey[]; removed: IndexKey[] } {
  const oldKeys = before ? indexKeys(type, id, searchValues(type, before)) : [];
  const keyOf = (k: IndexKey) => `${k.pk}\n${k.sk}`;
  const oldSet = new Set(oldKeys.map(keyOf));
  const newSet = new Set(newKeys.map(keyOf));
  return { added: newKeys.filter((k) => !oldSet.has(keyOf(k))), removed: oldKeys.filter((k) => !newSet.has(keyOf(k))) };
}

/**
 * Deletes index items of values a resource no longer has, each unless a later version wrote it again; a failure
 * leaves it for read repair (search checks every candidate, so it is never returned).
 */
async function removeIndexItems(ctx: WriteContext, items: readonly { key: IndexKey; versionId: number }[]): Promise<void> {
  await Promise.all(
    items.map(({ key, versionId }) =>
      ctx
        .send(new DeleteCommand({ TableName: ctx.tableName, Key: key, ConditionExpression: 'v < :v', ExpressionAttributeValues: { ':v': versionId } }))
        .catch(() => undefined),
    ),
  );
}

/**
 * The version a write makes: live with its resource, or a deletion that keeps the compartments of the version it
 * replaces (so a patient-bound caller can still be told apart from others on its history). Shared with the in-memory
 * repository (memory-repository.ts).
 */
export function nextVersion(
  type: ResourceType,
  id: string,
  versionId: number,
  lastUpdated: string,
  stored: FhirResource | undefined,
  method: StoredVersion['method'],
  current: StoredVersion | undefined,
): StoredVersion {
  return {
    type,
    id,
    versionId,
    lastUpdated,
    deleted: !stored,
    resource: stored,
    method,
    ...(stored ? {} : { compartments: current?.resource ? compartmentPatients(type, id, current.resource) : current?.compartments }),
  };
}

/**
 * A version's change-log items (repository.ts `changeLogs`): its type's log, and the log of each patient whose
 * compartment it is in (a deletion: the compartments it kept).
 */
export function changeKeys(v: StoredVersion): IndexKey[] {
  const compartments = v.resource ? compartmentPatients(v.type, v.id, v.resource) : (v.compartments ?? []);
  return changeLogs(v.type, v.id, compartments).map((log) => changeKey(log, v.id, v.versionId, v.lastUpdated));
}

/** The stored form of a resource's JSON: as is, or compressed when long (see COMPRESS_OVER_BYTES). */
function body(json: string): { resource: string } | { z: Uint8Array } {
  if (Buffer.byteLength(json) <= COMPRESS_OVER_BYTES) return { resource: json };
  return { z: brotliCompressSync(json, { params: { [zlib.BROTLI_PARAM_QUALITY]: 1, [zlib.BROTLI_PARAM_SIZE_HINT]: json.length } }) };
}

export function toItem(v: StoredVersion): Omit<VersionItem, 'pk' | 'sk'> {
  return {
    versionId: v.versionId,
    lastUpdated: v.lastUpdated,
    method: v.method,
    ...(v.resource ? body(JSON.stringify(v.resource)) : { deleted: true }),
    ...(v.compartments && v.compartments.length > 0 ? { compartments: v.compartments } : {}),
  };
}

/**
 * The items of a resource's first version (current version and index), for bulk loads of new ids with
 * BatchWriteItem (functions/seed/loader.ts). Not conditional: use only for ids known to be absent.
 */
export function firstVersionItems(type: ResourceType, resource: FhirResource & { id: string }, lastUpdated: string): Record<string, unknown>[] {
  const id = resource.id;
  const stored: FhirResource = { ...resource, meta: { ...((resource.meta as Record<string, unknown>) ?? {}), versionId: '1', lastUpdated } };
  const t = Date.parse(lastUpdated);
  const version: StoredVersion = { type, id, versionId: 1, lastUpdated, deleted: false, resource: stored, method: 'POST' };
  return [
    { pk: resourcePk(type, id), sk: CURRENT, ...toItem(version) },
    ...[...indexKeys(type, id, searchValues(type, stored)), ...changeKeys(version)].map((k) => ({ ...k, t, v: 1 })),
  ];
}
