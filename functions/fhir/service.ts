/// <reference types="fhir" />
/**
 * The FHIR interactions of one resource type (https://hl7.org/fhir/STU3/http.html) over the repository: plain
 * values in, plain values out, FhirErrors for the client. The patient-compartment constraint of a `patient/` grant
 * is checked on what is actually returned, counted or revealed, after the read:
 *  - read, vread, history of a resource outside the compartment (a deleted one keeps its compartment): 404, as
 *    for a resource that does not exist, so that a patient-bound client cannot learn which ids exist;
 *  - search, counts, conditional create: the compartment is one more clause, checked on every candidate resource;
 *  - create, update (also update-as-create over a deleted id) of a resource outside the compartment (the body's or
 *    the stored one's): 403, checked before If-Match so that no stored version is disclosed;
 *  - delete of a resource outside the compartment: answered as a delete of an unknown id (204), nothing deleted.
 * read and vread are in read-service.ts (FhirReadService), which the FHIR function loads at init; this module, with
 * PATCH (fast-json-patch), is in the chunk that the first write or history request loads
 * (functions/resource/on-demand.ts).
 */
import { createHash } from 'node:crypto';
import { definitionOf } from './definitions';
import { BadRequestError, ForbiddenError, NotFoundError, PreconditionFailedError, UnprocessableEntityError, ifMatchFailed } from './errors';
import type { ResourceType } from '../../contract/resource-types';
import { compartmentClause } from './search-access';
import { parseSearch, type ParsedSearch } from './search';
import { MAX_EXAMINED_FOR_COUNT, runSearch, type Position } from '../store/search-engine';
import { cursorOf, historyCount, invalidCursor, type Page, type Paging, type QueryPairs } from './paging';
import type { Operation } from 'fast-json-patch';
import { applyJsonPatch } from './patch';
import { LockHeldError, type FhirRepository, type FhirResource, type StoredVersion, type WriteResult } from '../store/repository';
import { assertId, FhirReadService, type CallerContext } from './read-service';

export type { CallerContext } from './read-service';

/** The profile validator (functions/validation): every issue found; errors and fatals make a 422. Async: it loads its tables on first use. */
export type Validator = (
  resource: unknown,
  type: ResourceType,
  options?: { mode?: 'create' | 'update'; id?: string },
) => Promise<fhir.OperationOutcomeIssue[]>;

export interface SearchResult {
  versions: StoredVersion[];
  /** Only where it is cheap (the whole result on one page) or asked for (`_summary=count`). */
  total?: number;
  /** Where the next page starts, when there may be one. */
  next?: Position[];
}

/** A delete's stored version is outside the caller's compartment: the delete stops, as for an unknown id. */
class OutsideCompartment extends Error {}

/** The reads (functions/fhir/read-service.ts) and every other interaction of one type. */
export class FhirService extends FhirReadService {
  constructor(
    type: ResourceType,
    repository: FhirRepository,
    private readonly validator?: Validator,
  ) {
    super(type, repository);
  }

  /**
   * Versions newest first; `before`: continue with versions older than this one. Whether the caller may see the
   * history is decided on the resource as it stands (a deleted one by the compartments it kept), whatever the page.
   */
  async history(id: string, count: number, before: number | undefined, ctx: CallerContext) {
    assertId(id);
    const current = await this.repository.read(this.type, id);
    if (!current || !this.inCompartment(current, id, ctx)) throw this.hidden(id);
    const page = await this.repository.history(this.type, id, count, before);
    const versions = ctx.compartmentPatient === undefined ? page.versions : page.versions.filter((v) => this.inCompartment(v, id, ctx));
    return { versions, more: page.more, total: current.versionId };
  }

  async search(parsed: ParsedSearch, ctx: CallerContext, positions?: readonly Position[]): Promise<SearchResult> {
    const compartment = compartmentClause(this.type, ctx.compartmentPatient);
    const clauses = compartment ? [...parsed.clauses, compartment] : parsed.clauses;
    const page = await runSearch(this.repository, { type: this.type, clauses, count: parsed.count, positions, countOnly: parsed.countOnly });
    if (parsed.countOnly) {
      if (page.next) {
        throw new BadRequestError(`_summary=count examines at most ${MAX_EXAMINED_FOR_COUNT} candidates and this search has more; narrow it`, '_summary');
      }
      return { versions: [], total: page.counted };
    }
    const whole = positions === undefined && page.next === undefined;
    return { versions: page.versions, ...(whole ? { total: page.versions.length } : {}), ...(page.next ? { next: page.next } : {}) };
  }

  /** Up to `max` matches of a query in the caller's compartment, paging as far as needed (conditional create). */
  private async matches(parsed: ParsedSearch, ctx: CallerContext, max: number): Promise<StoredVersion[]> {
    const found: StoredVersion[] = [];
    let positions: Position[] | undefined;
    for (let page = 0; page < 10; page++) {
      const result = await this.search({ ...parsed, count: max, countOnly: false }, ctx, positions);
      found.push(...result.versions);
      if (found.length >= max || !result.next) return found.slice(0, max);
      positions = result.next;
    }
    throw new PreconditionFailedError('If-None-Exist could not be decided within the search limits; use a more selective query');
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
    if (!this.inCompartment({ resource }, id, ctx)) {
      throw new ForbiddenError(`The ${this.type} is outside the compartment of Patient/${ctx.compartmentPatient}`);
    }
    return resource;
  }


  /**
   * Create (201) or, with `If-None-Exist`, conditional create: no match creates (201), one match returns it (200),
   * several are a 412. Concurrent conditional creates of the same query make one resource: the create takes a
   * short-lived lock item on the normalized query in the same transaction as the version; a loser searches again
   * (the winner's index items were written before its transaction) and returns the winner.
   */
  async create(body: FhirResource, ctx: CallerContext, ifNoneExist?: string | ParsedSearch): Promise<{ version: StoredVersion; created: boolean }> {
    if (body.resourceType !== this.type) this.checkBody(body);
    const id = this.repository.generateId();
    const resource = await this.prepare(body, ctx, id, 'create');
    if (ifNoneExist === undefined) return this.repository.create(this.type, resource, { id });

    const parsed = typeof ifNoneExist === 'string' ? parseIfNoneExist(this.type, ifNoneExist) : ifNoneExist;
    const key = lockKey(parsed, ctx.compartmentPatient);
    let replaceNonce: string | undefined;
    for (let attempt = 0; attempt < 5; attempt++) {
      const found = await this.matches(parsed, ctx, 2);
      if (found.length > 1) throw new PreconditionFailedError('If-None-Exist matched more than one resource');
      // The match was checked on the resource itself, the caller's compartment included (search-engine.ts).
      if (found.length === 1) return { version: found[0]!, created: false };
      try {
        return await this.repository.create(this.type, resource, { id, lock: { key, replaceNonce } });
      } catch (err) {
        if (!(err instanceof LockHeldError)) throw err;
        // The lock holder committed its resource with the lock: search again. If nothing matches the lock is stale
        // (its resource changed since): replace it, conditioned on its nonce.
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
    return this.repository.update(this.type, id, resource, { ifMatch, check: this.storedCheck(ctx, id) });
  }

  /**
   * Delete: idempotent (deleting nothing is fine), history kept. A resource outside the caller's compartment is, to
   * the caller, one that does not exist (a read is a 404): the delete answers as for an unknown id and deletes nothing.
   */
  async delete(id: string, ctx: CallerContext): Promise<void> {
    assertId(id);
    try {
      await this.repository.delete(this.type, id, {
        check: (current) => {
          if (current && !this.mayReveal(current, ctx)) throw new OutsideCompartment();
        },
      });
    } catch (err) {
      if (!(err instanceof OutsideCompartment)) throw err;
    }
  }

  // ---- paging (issue 19.2: paging lives here; the handler makes links) ---------------------------------------

  /** A page of one resource's history (`_count`, `_cursor`), newest first. */
  async historyPage(id: string, params: Record<string, string[]>, ctx: CallerContext, paging: Paging): Promise<Page<StoredVersion>> {
    const query: QueryPairs = [['_count', String(historyCount(params))]];
    const kind = `history\n${this.type}/${id}`;
    const cursor = cursorOf(params);
    const before = cursor === undefined ? undefined : (paging.open(cursor, kind, query) as { b?: unknown } | null)?.b;
    if (cursor !== undefined && !(Number.isInteger(before) && (before as number) > 0)) throw invalidCursor();
    const page = await this.history(id, historyCount(params), before as number | undefined, ctx);
    const last = page.versions[page.versions.length - 1];
    return {
      items: page.versions,
      total: page.total,
      query,
      ...(cursor !== undefined ? { cursor } : {}),
      ...(page.more && last ? { next: paging.seal({ b: last.versionId }, kind, query) } : {}),
    };
  }

  // ---- FHIR breadth, the interactions (issue 15): conditional update and delete, PATCH ----------------------

  /** Transaction Bundles (functions/fhir/bundle.ts) prepare their writes here, then store them all at once. */
  async prepareWrite(body: FhirResource, ctx: CallerContext, id: string, mode: 'create' | 'update'): Promise<FhirResource> {
    this.checkBody(body);
    if (mode === 'update' && body.id !== id) {
      throw new BadRequestError(`The resource id '${String(body.id)}' does not match the URL id '${id}'`, `${this.type}.id`);
    }
    return this.prepare(body, ctx, id, mode);
  }

  /**
   * The check a write of `id` runs on the stored version (also in a transaction Bundle). For a patient-bound caller
   * it must be a version of its compartment (live, or deleted by the compartments it kept). Ids are shared by all
   * patients, so an id stored outside the compartment and an id never used answer alike, 403, with or without
   * If-Match: such a caller cannot create with its own id (update as create), as a 201 for a free id beside a 403 for
   * a taken one would tell it which ids exist elsewhere.
   */
  storedCheck(ctx: CallerContext, id: string): (current?: StoredVersion) => void {
    return (current) => {
      if (!this.inCompartment(current, id, ctx)) {
        throw new ForbiddenError(`${this.type}/${id} is not in the compartment of Patient/${ctx.compartmentPatient}: update only its resources, and create with POST`);
      }
    };
  }

  /** Up to two matches of conditional criteria in the caller's compartment: 0, 1 or many. */
  async conditionalMatches(parsed: ParsedSearch, ctx: CallerContext): Promise<StoredVersion[]> {
    return this.matches(parsed, ctx, 2);
  }

  /**
   * Conditional update `PUT /Type?criteria` (https://hl7.org/fhir/STU3/http.html#cond-update), matches decided on
   * the resources in the caller's compartment: none creates (with the body's id when it has one, as R4 and HAPI do;
   * else a server id, taking the conditional-create lock on the criteria, so two concurrent conditional updates make
   * one resource); one updates it (a body id must be that one); several are a 412.
   */
  async conditionalUpdate(criteria: Record<string, string[]>, body: FhirResource, ctx: CallerContext, ifMatch?: number): Promise<WriteResult> {
    this.checkBody(body);
    const parsed = parseCriteria(this.type, criteria, 'Conditional update');
    const found = await this.matches(parsed, ctx, 2);
    if (found.length > 1) throw new PreconditionFailedError('The conditional update matched more than one resource; make the criteria more selective');
    const target = found[0];
    if (target) {
      if (body.id !== undefined && body.id !== target.id) {
        throw new BadRequestError(`The resource id '${String(body.id)}' is not the id of the matching resource`, `${this.type}.id`);
      }
      return this.update(target.id, { ...body, id: target.id }, ctx, ifMatch);
    }
    if (ifMatch !== undefined) throw new PreconditionFailedError('No resource matches the criteria; If-Match cannot hold');
    if (body.id !== undefined) return this.update(String(body.id), body, ctx);
    const { version, created } = await this.create(body, ctx, parsed);
    // A concurrent writer created the match between our search and our create: update what it made.
    return created ? { version, created } : this.update(version.id, { ...body, id: version.id }, ctx);
  }

  /**
   * Conditional delete `DELETE /Type?criteria`, STU3 rules: no match is a 404, one match is deleted, several are a
   * 412 (this server does not delete many at once). Matches are decided in the caller's compartment.
   */
  async conditionalDelete(criteria: Record<string, string[]>, ctx: CallerContext): Promise<string> {
    const found = await this.matches(parseCriteria(this.type, criteria, 'Conditional delete'), ctx, 2);
    if (found.length > 1) throw new PreconditionFailedError('The conditional delete matched more than one resource; make the criteria more selective');
    if (!found[0]) throw new NotFoundError(`No ${this.type} matches the criteria`);
    await this.delete(found[0].id, ctx);
    return found[0].id;
  }

  /**
   * PATCH with JSON Patch (functions/fhir/patch.ts): applied to the current version the caller may read, then
   * stored as an update (validated, compartment checked) conditioned on that version. With If-Match, a changed
   * version is a 412; without, a concurrent change makes the patch apply again to the new version (3 attempts).
   * `maxBytes`: what the patched resource may weigh (the body cap of an update; past it, 413).
   */
  async patch(id: string, ops: readonly Operation[], ctx: CallerContext, ifMatch: number | undefined, maxBytes: number): Promise<WriteResult> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.read(id, ctx);
      if (ifMatch !== undefined && current.versionId !== ifMatch) {
        throw ifMatchFailed(`${this.type}/${id}`, ifMatch);
      }
      const patched = applyJsonPatch(current.resource!, ops, maxBytes);
      try {
        return await this.update(id, patched, ctx, current.versionId);
      } catch (err) {
        if (ifMatch !== undefined || attempt >= 3 || !(err instanceof PreconditionFailedError)) throw err;
      }
    }
  }
}

/** The criteria of a conditional update or delete: a strict search with at least one criterion. */
export function parseCriteria(type: ResourceType, criteria: Record<string, string[]>, what: string): ParsedSearch {
  const parsed = parseSearch(type, criteria, true);
  if (parsed.clauses.length === 0) throw new BadRequestError(`${what} needs search criteria in the URL`);
  return parsed;
}

/**
 * The conditional-create lock key of a query: a digest of its normalized key conditions, order-independent, and of
 * the compartment a patient-bound caller's search is confined to. Callers of different compartments search apart, so
 * they lock apart: one patient's conditional create never holds up, or leaves a trace in, another's.
 */
export function lockKey(parsed: ParsedSearch, compartmentPatient?: string): string {
  const conditions = parsed.clauses.map((c) => JSON.stringify(c.anyOf)).sort();
  return createHash('sha256').update(JSON.stringify(compartmentPatient === undefined ? conditions : [...conditions, `Patient/${compartmentPatient}`])).digest('base64url');
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
