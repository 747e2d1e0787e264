/// <reference types="fhir" />
/**
 * The FHIR interactions of one resource type (https://hl7.org/fhir/STU3/http.html) over the repository: plain
 * values in, plain values out, FhirErrors for the client. The patient-compartment constraint of a `patient/` grant
 * is applied here:
 *  - read, vread, history of a resource outside the compartment: 404, as for a resource that does not exist, so
 *    that a patient-bound client cannot learn which ids exist for other patients;
 *  - search: the compartment is one more AND clause, so totals and paging stay right;
 *  - create, update, delete of a resource outside the compartment (the body's or the stored one's): 403, since the
 *    client named the patient itself and nothing is disclosed by refusing.
 */
import { createHash } from 'node:crypto';
import { definitionOf, inPatientCompartment } from './definitions';
import { BadRequestError, ForbiddenError, GoneError, NotFoundError, PreconditionFailedError, UnprocessableEntityError } from './errors';
import type { ResourceType } from './resource-types';
import { ALL_PK, compartmentPatients, decodeCursor, parseSearch, type ParsedSearch, type SearchClause } from './search';
import { LockHeldError, type FhirResource, type ResourceRepository, type StoredVersion, type WriteResult } from '../store/repository';

/** The profile validator (functions/validation): every issue found; errors and fatals make a 422. Async: it loads its tables on first use. */
export type Validator = (
  resource: unknown,
  type: ResourceType,
  options?: { mode?: 'create' | 'update'; id?: string },
) => Promise<fhir.OperationOutcomeIssue[]>;

export interface CallerContext {
  /** Set when the caller may act only inside this patient's compartment. */
  compartmentPatient?: string;
}

export interface SearchResult {
  total: number;
  versions: StoredVersion[];
  /** The id to continue after, when there is a next page. */
  nextAfter?: string;
}

const ID_RE = /^[A-Za-z0-9\-.]{1,64}$/;

export function assertId(id: string): void {
  if (!ID_RE.test(id)) throw new BadRequestError(`Invalid resource id '${id}'`);
}

export class FhirService {
  constructor(
    readonly type: ResourceType,
    private readonly repository: ResourceRepository,
    private readonly validator?: Validator,
  ) {}

  private inCompartment(resource: FhirResource | undefined, id: string, ctx: CallerContext): boolean {
    const patient = ctx.compartmentPatient;
    if (patient === undefined || !inPatientCompartment(this.type) || !resource) return true;
    return compartmentPatients(this.type, id, resource).includes(patient);
  }

  private hidden(id: string): NotFoundError {
    return new NotFoundError(`${this.type}/${id} not found`);
  }

  async read(id: string, ctx: CallerContext): Promise<StoredVersion> {
    assertId(id);
    const current = await this.repository.read(id);
    if (!current) throw this.hidden(id);
    if (current.deleted) {
      const before = current.versionId > 1 ? await this.repository.vread(id, current.versionId - 1) : undefined;
      if (!this.inCompartment(before?.resource, id, ctx)) throw this.hidden(id);
      throw new GoneError(`${this.type}/${id} was deleted`);
    }
    if (!this.inCompartment(current.resource, id, ctx)) throw this.hidden(id);
    return current;
  }

  async vread(id: string, vid: string, ctx: CallerContext): Promise<StoredVersion> {
    assertId(id);
    if (!/^[1-9]\d{0,9}$/.test(vid)) throw new NotFoundError(`${this.type}/${id} has no version '${vid}'`);
    const version = await this.repository.vread(id, Number(vid));
    if (!version) throw new NotFoundError(`${this.type}/${id} has no version ${vid}`);
    if (version.deleted) {
      const before = version.versionId > 1 ? await this.repository.vread(id, version.versionId - 1) : undefined;
      if (!this.inCompartment(before?.resource, id, ctx)) throw this.hidden(id);
      throw new GoneError(`${this.type}/${id} version ${vid} is a deletion`);
    }
    if (!this.inCompartment(version.resource, id, ctx)) throw this.hidden(id);
    return version;
  }

  /** Versions newest first; `before`: continue with versions older than this one. */
  async history(id: string, count: number, before: number | undefined, ctx: CallerContext) {
    assertId(id);
    const page = await this.repository.history(id, count, before);
    if (page.versions.length === 0 && before === undefined) throw this.hidden(id);
    if (ctx.compartmentPatient !== undefined) {
      const visible = page.versions.filter((v) => v.deleted || this.inCompartment(v.resource, id, ctx));
      if (!visible.some((v) => !v.deleted) && before === undefined) throw this.hidden(id);
      return { versions: visible, more: page.more };
    }
    return page;
  }

  /** The compartment as a search clause (one more id set). */
  private compartmentClause(ctx: CallerContext): SearchClause | undefined {
    const patient = ctx.compartmentPatient;
    if (patient === undefined || !inPatientCompartment(this.type)) return undefined;
    if (this.type === 'Patient') return { param: '_compartment', anyOf: [{ pk: ALL_PK, op: 'eq', value: patient }] };
    return {
      param: '_compartment',
      anyOf: definitionOf(this.type).compartmentParams.map((p) => ({ pk: `I#${p}`, op: 'begins_with' as const, value: `Patient/${patient}#` })),
    };
  }

  async search(parsed: ParsedSearch, ctx: CallerContext): Promise<SearchResult> {
    const after = parsed.cursor !== undefined ? decodeCursor(parsed.cursor) : undefined;
    const compartment = this.compartmentClause(ctx);
    const ids = await this.repository.searchIds(compartment ? [...parsed.clauses, compartment] : parsed.clauses);
    const start = after === undefined ? 0 : ids.findIndex((id) => id > after);
    const pageIds = start < 0 ? [] : ids.slice(start, start + parsed.count);
    const versions = await this.repository.readMany(pageIds);
    const end = start < 0 ? ids.length : start + parsed.count;
    return { total: ids.length, versions, nextAfter: end < ids.length && pageIds.length > 0 ? pageIds[pageIds.length - 1] : undefined };
  }

  // ---- writes -------------------------------------------------------------------------------------------

  /** The issues of a $validate run (nothing stored); `id` for the instance-level operation. */
  async validate(body: FhirResource, id?: string): Promise<fhir.OperationOutcomeIssue[]> {
    if (this.validator) return this.validator(body, this.type, id === undefined ? { mode: 'create' } : { mode: 'update', id });
    this.checkBody(body);
    if (id !== undefined && body.id !== undefined && body.id !== id) {
      throw new BadRequestError(`The resource id '${String(body.id)}' does not match the URL id '${id}'`, `${this.type}.id`);
    }
    return [];
  }

  private checkBody(body: FhirResource): void {
    if (body.resourceType !== this.type) {
      throw new BadRequestError(`resourceType '${String(body.resourceType)}' does not match the URL type '${this.type}'`, 'resourceType');
    }
  }

  private async prepare(body: FhirResource, ctx: CallerContext, id: string, mode: 'create' | 'update'): Promise<FhirResource> {
    this.checkBody(body);
    const meta: Record<string, unknown> = { ...((body.meta as Record<string, unknown> | undefined) ?? {}), profile: [definitionOf(this.type).profile] };
    delete meta.versionId;
    delete meta.lastUpdated;
    const resource: FhirResource = { ...body, id, meta };
    if (this.validator) {
      const issues = await this.validator(resource, this.type, mode === 'update' ? { mode, id } : { mode });
      if (issues.some((i) => i.severity === 'error' || i.severity === 'fatal')) throw new UnprocessableEntityError(issues);
    }
    if (!this.inCompartment(resource, id, ctx)) {
      throw new ForbiddenError(`The ${this.type} is outside the compartment of Patient/${ctx.compartmentPatient}`);
    }
    return resource;
  }

  private checkStored = (ctx: CallerContext) => (current?: StoredVersion) => {
    if (current && !this.inCompartment(current.resource, current.id, ctx)) {
      throw new ForbiddenError(`${this.type}/${current.id} is outside the compartment of Patient/${ctx.compartmentPatient}`);
    }
  };

  /**
   * Create (201) or, with `If-None-Exist`, conditional create: no match creates (201), one match returns it (200),
   * several are a 412. Concurrent conditional creates of the same query make one resource: the create takes a
   * short-lived lock item on the normalized query in the same transaction; a loser searches again and returns the
   * winner.
   */
  async create(body: FhirResource, ctx: CallerContext, ifNoneExist?: string): Promise<{ version: StoredVersion; created: boolean }> {
    if (body.resourceType !== this.type) this.checkBody(body);
    const id = this.repository.generateId();
    const resource = await this.prepare(body, ctx, id, 'create');
    if (ifNoneExist === undefined) return this.repository.create(resource, { id });

    const parsed = parseIfNoneExist(this.type, ifNoneExist);
    const key = lockKey(parsed);
    let replaceNonce: string | undefined;
    for (let attempt = 0; attempt < 5; attempt++) {
      const matches = await this.search({ ...parsed, count: 2, cursor: undefined }, ctx);
      if (matches.total > 1) throw new PreconditionFailedError(`If-None-Exist matched ${matches.total} resources`);
      if (matches.total === 1) {
        const found = matches.versions[0] ?? (await this.repository.read((await this.repository.searchIds(parsed.clauses))[0]!));
        if (found) return { version: found, created: false };
      }
      try {
        return await this.repository.create(resource, { id, lock: { key, replaceNonce } });
      } catch (err) {
        if (!(err instanceof LockHeldError)) throw err;
        // The lock holder committed its resource in the same transaction: search again. If nothing matches the
        // lock is stale (its resource changed since): replace it, conditioned on its nonce.
        replaceNonce = err.nonce;
      }
    }
    throw new PreconditionFailedError('Conditional create could not settle; retry');
  }

  /** Update (200) or update-as-create with the client's id (201). */
  async update(id: string, body: FhirResource, ctx: CallerContext, ifMatch?: number): Promise<WriteResult> {
    assertId(id);
    this.checkBody(body);
    if (body.id === undefined) throw new BadRequestError('The resource has no id; it must equal the URL id', `${this.type}.id`);
    if (body.id !== id) throw new BadRequestError(`The resource id '${String(body.id)}' does not match the URL id '${id}'`, `${this.type}.id`);
    const resource = await this.prepare(body, ctx, id, 'update');
    return this.repository.update(id, resource, { ifMatch, check: this.checkStored(ctx) });
  }

  /** Delete: idempotent (deleting nothing is fine), history kept. */
  async delete(id: string, ctx: CallerContext): Promise<void> {
    assertId(id);
    await this.repository.delete(id, { check: this.checkStored(ctx) });
  }
}

/** The conditional-create lock key of a query: a digest of its normalized key conditions, order-independent. */
export function lockKey(parsed: ParsedSearch): string {
  const conditions = parsed.clauses.map((c) => JSON.stringify(c.anyOf)).sort();
  return createHash('sha256').update(JSON.stringify(conditions)).digest('base64url');
}

/** `If-None-Exist: identifier=a|b` (also `Type?identifier=...` or a full URL): a strict search with at least one criterion. */
export function parseIfNoneExist(type: ResourceType, header: string): ParsedSearch {
  const queryString = header.includes('?') ? header.slice(header.indexOf('?') + 1) : header;
  const query: Record<string, string[]> = {};
  for (const [k, v] of new URLSearchParams(queryString)) (query[k] ??= []).push(v);
  const parsed = parseSearch(type, query, true);
  if (parsed.clauses.length === 0) throw new BadRequestError('If-None-Exist has no search criteria', 'If-None-Exist');
  return parsed;
}
