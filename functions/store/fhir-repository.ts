/**
 * The seam between the FHIR service (functions/fhir/service.ts, the search engine) and where resources live. Two
 * implementations, swapped through this interface (as Medplum's `FhirRepository`):
 * - `DynamoFhirRepository` (repository.ts): the one DynamoDB table, in Lambda and behind `npm start`;
 * - `InMemoryFhirRepository` (memory-repository.ts): plain maps, same semantics, for unit tests of the service and
 *   its compartment rules without an engine.
 * Both keep the same index layout (index-layout.ts), so the search engine runs unchanged over either.
 *
 * Semantics every implementation keeps (https://hl7.org/fhir/STU3/http.html):
 * - versions count from 1; each write makes one (a delete too, marked deleted, its compartments kept);
 * - `meta.versionId` and `meta.lastUpdated` are the server's;
 * - a create of an id that exists is a ConflictError (409); an `ifMatch` on another version a
 *   PreconditionFailedError (412); a resource with more indexed values than MAX_INDEX_ITEMS a TooLargeError (413);
 * - `check` sees the stored version before the write and may refuse by throwing; nothing is written then.
 */
import type { ResourceType } from '../../contract/resource-types';
import type { IndexKey, Stream } from './index-layout';
import type { ChangeLog, CreateLock, FhirResource, IndexHit, StoredVersion, WriteResult } from './repository';

export interface FhirRepository {
  /** The clock writes are stamped with (and read repair judges orphans by). */
  readonly now: () => Date;

  /** A fresh server-assigned id. */
  generateId(): string;

  /** The current version (deleted or not), or undefined if the id was never written (https://hl7.org/fhir/STU3/http.html#read). */
  read(type: ResourceType, id: string): Promise<StoredVersion | undefined>;

  /** One version, current or older, or undefined (https://hl7.org/fhir/STU3/http.html#vread). */
  vread(type: ResourceType, id: string, versionId: number): Promise<StoredVersion | undefined>;

  /** Versions newest first, `count` at most, older than `beforeVersion` if given (https://hl7.org/fhir/STU3/http.html#history). */
  history(type: ResourceType, id: string, count: number, beforeVersion?: number): Promise<{ versions: StoredVersion[]; more: boolean }>;

  /** The current, live resources of these ids, in the given order (missing or deleted ones left out). */
  readMany(type: ResourceType, ids: readonly string[]): Promise<StoredVersion[]>;

  /** The current, live resources of any types (for `_include`, `$everything`), in order, missing or deleted left out. */
  readRefs(refs: readonly { type: ResourceType; id: string }[]): Promise<StoredVersion[]>;

  /**
   * Change-log sort keys (`<lastUpdated>#<id>#<versionId>`) of one log (a type's shard, or a patient's log of a type:
   * repository.ts `ChangeLog`), newest first, not newer than `before` and not older than `since` (type and system
   * `_history`, functions/fhir/history.ts).
   */
  queryChanges(log: ChangeLog, before: string | undefined, since: string | undefined, limit: number): Promise<{ sks: string[]; more: boolean }>;

  /** These versions (current or older, deleted ones too), in order; any not found left out. */
  readVersions(refs: readonly { type: ResourceType; id: string; versionId: number }[]): Promise<StoredVersion[]>;

  /** Up to `limit` index keys of a stream after `after`, in sort-key order, and whether there may be more (search-engine.ts). */
  queryStream(stream: Stream, after: string | undefined, limit: number): Promise<{ hits: IndexHit[]; more: boolean }>;

  /** Read repair: deletes an orphan index item, only if it is still the one judged (written at `t`). */
  deleteOrphan(key: IndexKey, t: number): Promise<void>;

  /** Creates a resource with a new id (or the given one, which must not exist yet), with a conditional-create lock. */
  create(type: ResourceType, resource: FhirResource, options?: { id?: string; lock?: CreateLock }): Promise<WriteResult>;

  /** Updates (or creates, with the client's id) a resource (https://hl7.org/fhir/STU3/http.html#update). */
  update(
    type: ResourceType,
    id: string,
    resource: FhirResource,
    options?: { ifMatch?: number; check?: (current?: StoredVersion) => void },
  ): Promise<WriteResult>;

  /** Deletes (a new version marked deleted, history kept). Undefined when nothing was live (https://hl7.org/fhir/STU3/http.html#delete). */
  delete(type: ResourceType, id: string, options?: { check?: (current?: StoredVersion) => void }): Promise<WriteResult | undefined>;

  /** Writes several resources of any types all or nothing (transaction Bundles, https://hl7.org/fhir/STU3/http.html#transaction). */
  writeAll(
    entries: readonly { type: ResourceType; id: string; resource?: FhirResource; ifMatch?: number; check?: (current?: StoredVersion) => void }[],
  ): Promise<WriteResult[]>;
}
