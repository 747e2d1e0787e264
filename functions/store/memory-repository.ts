/**
 * The FHIR repository in memory (fhir-repository.ts): the semantics of the DynamoDB one — versions, history, the
 * deleted version keeping its compartments, If-Match, create of a taken id, conditional-create locks, all-or-nothing
 * transactions, the index items of index-layout.ts read as sorted streams — over plain maps, so the FHIR service,
 * its search and its compartment rules are unit-tested with no engine (functions/fhir/service.test.ts). Not for
 * production: one process, no persistence. Stored resources are copied in and out, as a database would.
 */
import { randomUUID } from 'node:crypto';
import type { ResourceType } from '../../contract/resource-types';
import { ConflictError, TooLargeError, ifMatchFailed } from '../fhir/errors';
import type { FhirRepository } from './fhir-repository';
import { type IndexKey, type Stream } from './index-layout';
import { boundedIndexKeys, changeKeys, indexChanges, nextVersion } from './writes';
import {
  LockHeldError,
  MAX_TRANSACTION_ITEMS,
  changeKey,
  resourcePk,
  type ChangeLog,
  type CreateLock,
  type FhirResource,
  type IndexHit,
  type StoredVersion,
  type WriteResult,
} from './repository';

export interface InMemoryRepositoryOptions {
  now?: () => Date;
  newId?: () => string;
  /** Seconds a conditional-create lock lives. Default 30, as DynamoDB's. */
  lockSeconds?: number;
}

interface Entry {
  type: ResourceType;
  id: string;
  /** Every version, oldest first; the last is current. */
  versions: StoredVersion[];
}

type WriteOp = { type: ResourceType; id: string; resource?: FhirResource; ifMatch?: number; check?: (current?: StoredVersion) => void };

const copy = <T>(value: T): T => structuredClone(value);

export class InMemoryFhirRepository implements FhirRepository {
  readonly now: () => Date;
  private readonly newId: () => string;
  private readonly lockSeconds: number;
  private readonly entries = new Map<string, Entry>();
  /** Index partitions: pk -> sk -> when written and by which version. */
  private readonly index = new Map<string, Map<string, { t: number; v: number }>>();
  private readonly locks = new Map<string, { nonce: string; expiresAt: number }>();

  constructor(options: InMemoryRepositoryOptions = {}) {
    this.now = options.now ?? (() => new Date());
    this.newId = options.newId ?? randomUUID;
    this.lockSeconds = options.lockSeconds ?? 30;
  }

  generateId(): string {
    return this.newId();
  }

  // ---- reads ---------------------------------------------------------------------------------------------

  async read(type: ResourceType, id: string): Promise<StoredVersion | undefined> {
    return this.current(type, id) && copy(this.current(type, id));
  }

  async vread(type: ResourceType, id: string, versionId: number): Promise<StoredVersion | undefined> {
    const version = this.entries.get(resourcePk(type, id))?.versions.find((v) => v.versionId === versionId);
    return version && copy(version);
  }

  async history(type: ResourceType, id: string, count: number, beforeVersion?: number): Promise<{ versions: StoredVersion[]; more: boolean }> {
    const all = [...(this.entries.get(resourcePk(type, id))?.versions ?? [])].reverse();
    const older = beforeVersion === undefined ? all : all.filter((v) => v.versionId < beforeVersion);
    return { versions: copy(older.slice(0, count)), more: older.length > count };
  }

  async queryChanges(log: ChangeLog, before: string | undefined, since: string | undefined, limit: number): Promise<{ sks: string[]; more: boolean }> {
    // As the DynamoDB repository: the log's items, or a patient's own Patient versions.
    const inLog = (v: StoredVersion) =>
      'patient' in log && log.type === 'Patient' ? v.id === log.patient : changeKeys(v).some((k) => k.pk === changeKey(log, v.id, v.versionId, v.lastUpdated).pk);
    const sks = [...this.entries.values()]
      .filter((e) => e.type === log.type)
      .flatMap((e) => e.versions.filter(inLog))
      .map((v) => `${v.lastUpdated}#${v.id}#${String(v.versionId).padStart(10, '0')}`)
      .filter((sk) => sk >= (since ?? '0') && sk <= (before ?? '~'))
      .sort()
      .reverse();
    return { sks: sks.slice(0, limit), more: sks.length > limit };
  }

  async readVersions(refs: readonly { type: ResourceType; id: string; versionId: number }[]): Promise<StoredVersion[]> {
    return refs.flatMap((r) => {
      const version = this.entries.get(resourcePk(r.type, r.id))?.versions.find((v) => v.versionId === r.versionId);
      return version ? [copy(version)] : [];
    });
  }

  async readMany(type: ResourceType, ids: readonly string[]): Promise<StoredVersion[]> {
    return this.readRefs(ids.map((id) => ({ type, id })));
  }

  async readRefs(refs: readonly { type: ResourceType; id: string }[]): Promise<StoredVersion[]> {
    return refs.map((r) => this.current(r.type, r.id)).filter((v): v is StoredVersion => v !== undefined && !v.deleted).map(copy);
  }

  async queryStream(stream: Stream, after: string | undefined, limit: number): Promise<{ hits: IndexHit[]; more: boolean }> {
    if (stream.id !== undefined) return { hits: after === undefined ? [{ sk: stream.id, t: 0 }] : [], more: false };
    const inRange = (sk: string): boolean => {
      const v = stream.value ?? '';
      switch (stream.op) {
        case 'all':
          return true;
        case 'begins_with':
          return sk.startsWith(v);
        case 'between':
          return sk >= v && sk <= (stream.value2 ?? '');
        case 'lt':
          return sk < v;
        case 'le':
          return sk <= v;
        case 'gt':
          return sk > v;
        case 'ge':
          return sk >= v;
      }
    };
    const partition = this.index.get(stream.pk) ?? new Map<string, { t: number; v: number }>();
    // Sorted by UTF-16 code units, as the DynamoDB Local engine and the search engine's merge compare them.
    const keys = [...partition.keys()].filter((sk) => inRange(sk) && (after === undefined || sk > after)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const hits = keys.slice(0, limit).map((sk) => ({ sk, t: partition.get(sk)!.t }));
    return { hits, more: keys.length > limit };
  }

  async deleteOrphan(key: IndexKey, t: number): Promise<void> {
    const partition = this.index.get(key.pk);
    if (partition?.get(key.sk)?.t === t) partition.delete(key.sk);
  }

  // ---- writes --------------------------------------------------------------------------------------------

  async create(type: ResourceType, resource: FhirResource, options: { id?: string; lock?: CreateLock } = {}): Promise<WriteResult> {
    const id = options.id ?? this.newId();
    if (this.current(type, id)) throw new ConflictError(`${type}/${id} already exists`);
    if (options.lock) this.takeLock(type, options.lock);
    return this.apply([this.plan({ type, id, resource }, 'POST')])[0]!;
  }

  async update(
    type: ResourceType,
    id: string,
    resource: FhirResource,
    options: { ifMatch?: number; check?: (current?: StoredVersion) => void } = {},
  ): Promise<WriteResult> {
    return this.apply([this.plan({ type, id, resource, ...options }, 'PUT')])[0]!;
  }

  async delete(type: ResourceType, id: string, options: { check?: (current?: StoredVersion) => void } = {}): Promise<WriteResult | undefined> {
    const current = this.current(type, id);
    if (options.check) options.check(current && copy(current));
    if (!current || current.deleted) return undefined;
    return this.apply([this.plan({ type, id }, 'DELETE')])[0]!;
  }

  async writeAll(entries: readonly WriteOp[]): Promise<WriteResult[]> {
    // Every check before anything is written: all or nothing, one item per entry (writes.ts writeAll).
    if (entries.length > MAX_TRANSACTION_ITEMS) throw new TooLargeError(`A transaction writes at most ${MAX_TRANSACTION_ITEMS} resources; this one has ${entries.length}`);
    const plans = entries.map((e) => this.plan(e, e.resource ? (this.current(e.type, e.id) ? 'PUT' : 'POST') : 'DELETE'));
    return this.apply(plans);
  }

  // ---- internals -----------------------------------------------------------------------------------------

  private current(type: ResourceType, id: string): StoredVersion | undefined {
    return this.entries.get(resourcePk(type, id))?.versions.at(-1);
  }

  /** Checks one write (`check`, If-Match, the index bound) and works out its new version and index changes. */
  private plan(op: WriteOp, method: 'POST' | 'PUT' | 'DELETE') {
    const { type, id } = op;
    const newKeys = op.resource ? boundedIndexKeys(type, id, op.resource) : []; // on the body, before the stored version (writes.ts)
    const current = this.current(type, id);
    const live = current !== undefined && !current.deleted;
    op.check?.(current && copy(current)); // before If-Match, as the DynamoDB repository (writes.ts)
    if (op.ifMatch !== undefined && (!live || current!.versionId !== op.ifMatch)) {
      throw ifMatchFailed(`${type}/${id}`, op.ifMatch);
    }
    const versionId = (current?.versionId ?? 0) + 1;
    const lastUpdated = this.now().toISOString();
    const stored = op.resource
      ? copy({ ...op.resource, id, meta: { ...((op.resource.meta as Record<string, unknown> | undefined) ?? {}), versionId: String(versionId), lastUpdated } })
      : undefined;
    const version = nextVersion(type, id, versionId, lastUpdated, stored, method, current);
    return { current, live, version, ...indexChanges(type, id, live ? current!.resource : undefined, newKeys) };
  }

  private apply(plans: ReturnType<InMemoryFhirRepository['plan']>[]): WriteResult[] {
    const t = this.now().getTime();
    return plans.map(({ version, live, added, removed }) => {
      const pk = resourcePk(version.type, version.id);
      const entry = this.entries.get(pk) ?? { type: version.type, id: version.id, versions: [] };
      entry.versions.push(version);
      this.entries.set(pk, entry);
      for (const k of added) {
        const partition = this.index.get(k.pk) ?? new Map<string, { t: number; v: number }>();
        partition.set(k.sk, { t, v: version.versionId });
        this.index.set(k.pk, partition);
      }
      for (const k of removed) this.index.get(k.pk)?.delete(k.sk);
      return { version: copy(version), created: !live };
    });
  }

  /** The conditional-create lock: held while alive unless the caller replaces it by its nonce (a stale lock). */
  private takeLock(type: ResourceType, lock: CreateLock): void {
    const key = `${type}/_l/${lock.key}`;
    const nowSeconds = Math.floor(this.now().getTime() / 1000);
    const held = this.locks.get(key);
    if (held && held.expiresAt >= nowSeconds && held.nonce !== lock.replaceNonce) throw new LockHeldError(held.nonce);
    this.locks.set(key, { nonce: randomUUID(), expiresAt: nowSeconds + this.lockSeconds });
  }
}
