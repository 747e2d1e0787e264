/// <reference types="fhir" />
/**
 * Transaction and batch Bundles at `POST /STU3` (https://hl7.org/fhir/STU3/http.html#transaction).
 *
 * Every entry is authorised against the token BEFORE anything is written: its type and interaction by the scopes
 * (`decide`), its resource by the patient compartment (on the resource itself, and on the stored version it
 * replaces or deletes).
 *  - transaction: all or nothing. Any refused or invalid entry answers for the whole Bundle (403, 400, 412, 422...)
 *    and nothing is written; the writes then go to DynamoDB in ONE TransactWriteItems (repository `writeAll`), so a
 *    concurrent change of any entry cancels them all (409). `urn:uuid:` fullUrls of created resources get server
 *    ids, and every `reference` to them in the Bundle is rewritten. Conditional create (`ifNoneExist`) and
 *    conditional update/delete (`Type?criteria`) are resolved first, by the same rules as outside a Bundle. Reads
 *    (GET entries) run after the writes, as the spec orders them.
 *  - batch: each entry on its own, through the same service calls as the single interactions; an entry's error is
 *    its own response (the spec forbids interdependent batch entries, so `urn:uuid:` references are not resolved).
 * Bounds: MAX_BUNDLE_ENTRIES entries, each one item of the DynamoDB transaction (repository `writeAll`: the index,
 * change-log and history items go around it), so any transaction within them fits. The answer's reads:
 * MAX_ANSWER_BYTES in all, each read past it a `too-costly` entry (the writes are done by then).
 */
import { FHIR_BASE_PATH, type Interaction } from '../../contract/routes';
import { isResourceType, type ResourceType } from '../../contract/resource-types';
import { decide, type Access } from '../scopes/permissions';
import type { FhirRepository, FhirResource, StoredVersion, WriteResult } from '../store/repository';
import { BadRequestError, FhirError, ForbiddenError, NotFoundError, PreconditionFailedError, TooCostlyError, TooLargeError } from './errors';
import { serverError } from './outcome';
import type { Paging } from './paging';
import { MAX_RESPONSE_BYTES, parseIfMatch } from './http';
import { FhirService, parseCriteria, parseIfNoneExist, type CallerContext, type Validator } from './service';

/** Entries one Bundle may carry. */
export const MAX_BUNDLE_ENTRIES = 100;

export interface BundleDeps {
  repository: FhirRepository;
  access: Access;
  validator?: Validator;
  paging: Paging;
  /** `https://host/stage`: the FHIR base is `${baseUrl}/STU3`. */
  baseUrl: string;
  /** A search entry: the same search as `GET /STU3/[type]?query` (functions/fhir/search-service.ts), as this caller. */
  search(type: ResourceType, query: Record<string, string[]>): Promise<fhir.Bundle>;
  /** The bytes of a resource in the response's format (functions/fhir-model/negotiation.ts); default its JSON. */
  resourceBytes?: (resource: Record<string, unknown>) => number;
}

interface Entry {
  index: number;
  fullUrl?: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  type: ResourceType;
  interaction: Interaction;
  id?: string;
  vid?: string;
  query: Record<string, string[]>;
  resource?: FhirResource;
  ifMatch?: number;
  ifNoneExist?: string;
  ctx: CallerContext;
}

type EntryResponse = fhir.BundleEntry;

/** Processes a transaction or batch Bundle; the response Bundle (transaction-response or batch-response). */
export async function processBundle(body: FhirResource, deps: BundleDeps): Promise<fhir.Bundle> {
  if (body.resourceType !== 'Bundle') throw new BadRequestError(`POST ${FHIR_BASE_PATH} takes a Bundle, not ${String(body.resourceType)}`, 'resourceType');
  const kind = body.type;
  if (kind !== 'transaction' && kind !== 'batch') throw new BadRequestError(`Bundle.type must be transaction or batch, not '${String(kind)}'`, 'Bundle.type');
  const raw = body.entry ?? [];
  if (!Array.isArray(raw)) throw new BadRequestError('Bundle.entry must be an array', 'Bundle.entry');
  if (raw.length > MAX_BUNDLE_ENTRIES) throw new TooLargeError(`A Bundle carries at most ${MAX_BUNDLE_ENTRIES} entries; this one has ${raw.length}`);
  const services = new Map<ResourceType, FhirService>();
  const service = (type: ResourceType) => {
    let s = services.get(type);
    if (!s) services.set(type, (s = new FhirService(type, deps.repository, deps.validator)));
    return s;
  };
  if (kind === 'batch') {
    const entries = await Promise.all(raw.map((e, i) => batchEntry(e, i, deps, service)));
    return { resourceType: 'Bundle', type: 'batch-response', entry: withinAnswerBound(entries, raw.map(isRead), deps.resourceBytes) };
  }
  const entries = raw.map((e, i) => {
    const entry = parseEntry(e, i, deps.baseUrl);
    authorise(entry, deps.access);
    return entry;
  });
  const answered = await transaction(entries, deps, service);
  return { resourceType: 'Bundle', type: 'transaction-response', entry: withinAnswerBound(answered, entries.map((e) => e.method === 'GET'), deps.resourceBytes) };
}

/**
 * Bytes the entries of one Bundle's answer may hold, in the response's format: half of what a response may carry
 * (MAX_RESPONSE_BYTES), the rest room for the Bundle around them. The writes' answers are as large as the request
 * at most (its body cap).
 */
export const MAX_ANSWER_BYTES = Math.floor(MAX_RESPONSE_BYTES / 2);

const isRead = (raw: unknown) => (raw as { request?: { method?: unknown } } | null)?.request?.method === 'GET';

/**
 * The answer with its reads kept while they fit in MAX_ANSWER_BYTES, in entry order, and every later read a
 * `too-costly` entry: the writes are done (and stay answered), so the Bundle is never refused whole for its reads.
 */
function withinAnswerBound(
  responses: EntryResponse[],
  reads: boolean[],
  resourceBytes = (resource: Record<string, unknown>) => Buffer.byteLength(JSON.stringify(resource)),
): EntryResponse[] {
  const size = ({ resource, ...rest }: EntryResponse) => Buffer.byteLength(JSON.stringify(rest)) + (resource ? resourceBytes(resource as unknown as Record<string, unknown>) : 0);
  let total = responses.reduce((sum, r, i) => (reads[i] ? sum : sum + size(r)), 0);
  return responses.map((r, i) => {
    if (!reads[i]) return r;
    total += size(r);
    if (total <= MAX_ANSWER_BYTES) return r;
    return failed(new TooCostlyError(`Bundle.entry[${i}]: not answered, as the reads of this Bundle pass the ${Math.round(MAX_ANSWER_BYTES / 1024)} KB one answer may hold; read it on its own`));
  });
}

// ---- entries ------------------------------------------------------------------------------------------------

const INTERACTIONS: Record<string, Interaction | undefined> = {
  'GET 1': 'search-type',
  'POST 1': 'create',
  'PUT 1': 'update-conditional',
  'DELETE 1': 'delete-conditional',
  'GET 2': 'read',
  'PUT 2': 'update',
  'DELETE 2': 'delete',
  'GET 4': 'vread',
};

/** One entry's request, checked: method, URL (relative, or absolute on this server), body. 400 naming the entry. */
function parseEntry(raw: unknown, index: number, baseUrl: string): Entry {
  const bad = (why: string) => new BadRequestError(`Bundle.entry[${index}]: ${why}`, `Bundle.entry[${index}]`);
  if (raw === null || typeof raw !== 'object') throw bad('not an object');
  const e = raw as { fullUrl?: unknown; resource?: unknown; request?: { method?: unknown; url?: unknown; ifMatch?: unknown; ifNoneExist?: unknown } };
  const method = e.request?.method;
  if (method !== 'GET' && method !== 'POST' && method !== 'PUT' && method !== 'DELETE') throw bad('request.method must be GET, POST, PUT or DELETE');
  if (typeof e.request?.url !== 'string' || e.request.url === '') throw bad('request.url is missing');
  let url = e.request.url;
  const base = `${baseUrl}${FHIR_BASE_PATH}/`;
  if (url.startsWith(base)) url = url.slice(base.length);
  else if (/^[a-z]+:/i.test(url)) throw bad(`request.url '${url}' is not on this server`);
  url = url.replace(/^\/+/, '');
  const [path, qs = ''] = url.split('?', 2) as [string, string?];
  const segments = path.split('/').filter((s) => s !== '');
  const interaction = INTERACTIONS[`${method} ${segments.length}`];
  const type = segments[0] ?? '';
  if (!interaction || (segments.length === 4 && segments[2] !== '_history')) throw bad(`${method} ${url} is not an interaction a Bundle may carry`);
  if (!isResourceType(type)) throw bad(`unknown resource type '${type}'`);
  if ((interaction === 'update-conditional' || interaction === 'delete-conditional') && qs === '') throw bad(`${method} ${type} needs an id or search criteria`);
  let id: string | undefined;
  let vid: string | undefined;
  try {
    id = segments[1] === undefined ? undefined : decodeURIComponent(segments[1]);
    vid = segments[3] === undefined ? undefined : decodeURIComponent(segments[3]);
  } catch {
    throw bad('malformed percent-encoding in request.url');
  }
  const query: Record<string, string[]> = {};
  for (const [k, v] of new URLSearchParams(qs)) (query[k] ??= []).push(v);
  let resource: FhirResource | undefined;
  if (method === 'POST' || method === 'PUT') {
    const r = e.resource;
    if (r === null || typeof r !== 'object' || Array.isArray(r) || typeof (r as FhirResource).resourceType !== 'string') throw bad('a POST or PUT entry needs a resource');
    resource = r as FhirResource;
  }
  let ifMatch: number | undefined;
  try {
    ifMatch = e.request.ifMatch === undefined ? undefined : parseIfMatch(String(e.request.ifMatch));
  } catch {
    throw bad(`invalid request.ifMatch '${String(e.request.ifMatch)}'`);
  }
  return {
    index,
    ...(typeof e.fullUrl === 'string' ? { fullUrl: e.fullUrl } : {}),
    method,
    type,
    interaction,
    ...(id !== undefined ? { id } : {}),
    ...(vid !== undefined ? { vid } : {}),
    query,
    ...(resource ? { resource } : {}),
    ...(ifMatch !== undefined ? { ifMatch } : {}),
    ...(typeof e.request.ifNoneExist === 'string' ? { ifNoneExist: e.request.ifNoneExist } : {}),
    ctx: {},
  };
}

/** The token's decision on one entry (403 naming the entry), and its compartment. */
function authorise(entry: Entry, access: Access): void {
  const decision = decide(access, entry.type, entry.interaction, entry.ifNoneExist !== undefined);
  if (!decision.allowed) throw new ForbiddenError(`Bundle.entry[${entry.index}]: ${decision.reason}`);
  if (decision.compartmentPatient) entry.ctx = { compartmentPatient: decision.compartmentPatient };
}

// ---- transaction --------------------------------------------------------------------------------------------

interface PlannedWrite {
  entry: Entry;
  type: ResourceType;
  id: string;
  resource?: FhirResource;
  ifMatch?: number;
  check: (current?: StoredVersion) => void;
}

async function transaction(entries: Entry[], deps: BundleDeps, service: (t: ResourceType) => FhirService): Promise<EntryResponse[]> {
  const responses = new Array<EntryResponse>(entries.length);
  const at = (e: Entry, why: string) => `Bundle.entry[${e.index}]: ${why}`;
  /** urn:uuid: (or any fullUrl) of an entry -> `Type/id`, for the references of the other entries. */
  const ids = new Map<string, string>();
  const targets = new Map<Entry, string>();

  // 1. every target id: conditional creates, updates and deletes are resolved in the caller's compartment
  for (const e of entries) {
    const s = service(e.type);
    if (e.interaction === 'create') {
      if (e.ifNoneExist !== undefined) {
        const parsed = parseIfNoneExist(e.type, e.ifNoneExist);
        const found = await s.conditionalMatches(parsed, e.ctx);
        if (found.length > 1) throw new PreconditionFailedError(at(e, 'ifNoneExist matched more than one resource'));
        if (found[0]) {
          if (e.fullUrl) ids.set(e.fullUrl, `${e.type}/${found[0].id}`);
          responses[e.index] = { response: versionResponse(found[0], '200 OK') };
          continue;
        }
      }
      targets.set(e, deps.repository.generateId());
    } else if (e.interaction === 'update-conditional' || e.interaction === 'delete-conditional') {
      const found = await s.conditionalMatches(parseCriteria(e.type, e.query, 'A conditional entry'), e.ctx);
      if (found.length > 1) throw new PreconditionFailedError(at(e, 'the criteria matched more than one resource'));
      if (found[0]) targets.set(e, found[0].id);
      else if (e.interaction === 'delete-conditional') throw new NotFoundError(at(e, `no ${e.type} matches the criteria`));
      else if (e.ifMatch !== undefined) throw new PreconditionFailedError(at(e, 'no resource matches the criteria; ifMatch cannot hold'));
      else targets.set(e, typeof e.resource?.id === 'string' ? e.resource.id : deps.repository.generateId());
    } else if (e.id !== undefined) {
      targets.set(e, e.id);
    }
    const target = targets.get(e);
    if (target !== undefined && e.fullUrl && e.method !== 'GET') ids.set(e.fullUrl, `${e.type}/${target}`);
  }
  const seen = new Set<string>();
  for (const [e, id] of targets) {
    if (e.method === 'GET') continue;
    const key = `${e.type}/${id}`;
    if (seen.has(key)) throw new BadRequestError(at(e, `${key} is the target of more than one entry`));
    seen.add(key);
  }

  // 2. every write prepared (references resolved, validated, compartment checked) before anything is written
  const writes: PlannedWrite[] = [];
  for (const e of entries) {
    const id = targets.get(e);
    if (e.method === 'GET' || id === undefined) continue;
    const s = service(e.type);
    try {
      if (e.method === 'DELETE') {
        const current = await deps.repository.read(e.type, id);
        // Outside the caller's compartment: as an unknown id (FhirService.delete), nothing deleted.
        if (!current || current.deleted || !s.mayReveal(current, e.ctx)) {
          responses[e.index] = { response: { status: '204 No Content' } };
          continue;
        }
        writes.push({ entry: e, type: e.type, id, check: s.storedCheck(e.ctx, id) });
        continue;
      }
      const body = resolveReferences(e.resource!, ids) as FhirResource;
      const creating = e.interaction === 'create';
      const resource = await s.prepareWrite(creating ? body : { ...body, id: body.id ?? id }, e.ctx, id, creating ? 'create' : 'update');
      writes.push({
        entry: e,
        type: e.type,
        id,
        resource,
        ...(e.ifMatch !== undefined ? { ifMatch: e.ifMatch } : {}),
        check: creating ? mustNotExist(e.type, id) : s.storedCheck(e.ctx, id),
      });
    } catch (err) {
      throw err instanceof FhirError ? prefixed(err, e) : err;
    }
  }

  // 3. all writes in one DynamoDB transaction
  const results: WriteResult[] = writes.length > 0 ? await deps.repository.writeAll(writes) : [];
  results.forEach((r, i) => {
    const e = writes[i]!.entry;
    if (!r.version.resource) responses[e.index] = { response: { status: '204 No Content' } };
    else {
      responses[e.index] = {
        fullUrl: `${deps.baseUrl}${FHIR_BASE_PATH}/${r.version.type}/${r.version.id}`,
        resource: r.version.resource as fhir.Resource,
        response: versionResponse(r.version, r.created ? '201 Created' : '200 OK'),
      };
    }
  });

  // 4. reads last, as the spec orders them (they see the writes)
  for (const e of entries) if (e.method === 'GET') responses[e.index] = await readEntry(e, deps, service);
  return responses;
}

/** A create in a transaction: the server id is fresh, but the check keeps it exact. */
const mustNotExist = (type: ResourceType, id: string) => (current?: StoredVersion) => {
  if (current) throw new PreconditionFailedError(`${type}/${id} exists already`);
};

/** Every `reference` equal to a resolved fullUrl, rewritten to `Type/id` (a copy; the rest unchanged). */
export function resolveReferences(value: unknown, ids: ReadonlyMap<string, string>): unknown {
  if (Array.isArray(value)) return value.map((v) => resolveReferences(v, ids));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = k === 'reference' && typeof v === 'string' && ids.has(v) ? ids.get(v) : resolveReferences(v, ids);
  }
  return out;
}

// ---- batch --------------------------------------------------------------------------------------------------

async function batchEntry(raw: unknown, index: number, deps: BundleDeps, service: (t: ResourceType) => FhirService): Promise<EntryResponse> {
  try {
    const e = parseEntry(raw, index, deps.baseUrl);
    authorise(e, deps.access);
    const s = service(e.type);
    switch (e.interaction) {
      case 'create': {
        const r = await s.create(e.resource!, e.ctx, e.ifNoneExist);
        return written(r, deps);
      }
      case 'update':
        return written(await s.update(e.id!, e.resource!, e.ctx, e.ifMatch), deps);
      case 'update-conditional':
        return written(await s.conditionalUpdate(e.query, e.resource!, e.ctx, e.ifMatch), deps);
      case 'delete':
        await s.delete(e.id!, e.ctx);
        return { response: { status: '204 No Content' } };
      case 'delete-conditional':
        await s.conditionalDelete(e.query, e.ctx);
        return { response: { status: '204 No Content' } };
      default:
        return await readEntry(e, deps, service);
    }
  } catch (err) {
    return failed(err);
  }
}

function written(r: WriteResult, deps: BundleDeps): EntryResponse {
  return {
    fullUrl: `${deps.baseUrl}${FHIR_BASE_PATH}/${r.version.type}/${r.version.id}`,
    resource: r.version.resource as fhir.Resource,
    response: versionResponse(r.version, r.created ? '201 Created' : '200 OK'),
  };
}

// ---- reads (both kinds) -------------------------------------------------------------------------------------

async function readEntry(e: Entry, deps: BundleDeps, service: (t: ResourceType) => FhirService): Promise<EntryResponse> {
  try {
    const s = service(e.type);
    const typeUrl = `${deps.baseUrl}${FHIR_BASE_PATH}/${e.type}`;
    if (e.interaction === 'read' || e.interaction === 'vread') {
      const v = e.interaction === 'read' ? await s.read(e.id!, e.ctx) : await s.vread(e.id!, e.vid!, e.ctx);
      return { fullUrl: `${typeUrl}/${v.id}`, resource: v.resource as fhir.Resource, response: versionResponse(v, '200 OK') };
    }
    const bundle = await deps.search(e.type, e.query);
    return { resource: bundle, response: { status: '200 OK' } };
  } catch (err) {
    return failed(err);
  }
}

function versionResponse(v: StoredVersion, status: string): fhir.BundleEntryResponse {
  return { status, location: `${v.type}/${v.id}/_history/${v.versionId}`, etag: `W/"${v.versionId}"`, lastModified: v.lastUpdated };
}

/** An entry's error as its response: a FhirError's status and outcome; anything else stays a thrown 500. */
function failed(err: unknown): EntryResponse {
  if (!(err instanceof FhirError)) throw err;
  if (err.statusCode >= 500) return { response: { status: String(err.statusCode), outcome: serverError() as fhir.Resource } };
  return { response: { status: String(err.statusCode), outcome: err.outcome as fhir.Resource } };
}

function prefixed(err: FhirError, e: Entry): FhirError {
  for (const issue of err.outcome.issue ?? []) {
    if (issue.diagnostics && !issue.diagnostics.startsWith('Bundle.entry[')) issue.diagnostics = `Bundle.entry[${e.index}]: ${issue.diagnostics}`;
  }
  return err;
}

