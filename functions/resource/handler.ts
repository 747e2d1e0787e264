/**
 * THE FHIR function: every resource type, one deployed function (route table `function: 'fhir'`), one table.
 * `createFhirHandler({ tableName, clientFor })`. Parse the event, re-check the permission from the authorizer
 * context BEFORE touching data (defence in depth), run the interaction (functions/fhir/service.ts) over a
 * repository built for this request, format the response; every error goes through `errorResponse`.
 *
 * Least privilege seam: `clientFor(access)` gives the DynamoDB document client THIS request may use, from the
 * token's grants; every DynamoDB call of the request goes through it. The default (functions/resource/config.ts)
 * is one shared client; a provider that returns clients scoped by an STS session policy plugs in here unchanged.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { FHIR_BASE_PATH, ROUTES, type Interaction } from '../../contract/routes';
import { CURSOR_PARAM, CursorCodec } from '../fhir/cursor';
import { BadRequestError, ForbiddenError, MethodNotAllowedError, NotFoundError } from '../fhir/errors';
import {
  DEFAULT_MAX_BODY_BYTES,
  errorResponse,
  etag,
  fhirResponse,
  historyBundle,
  negotiate,
  withFormQuery,
  parseBody,
  parseIfMatch,
  queryString,
  resourceResponse,
} from '../fhir/http';
import { readRepresentation, writeRepresentation } from '../fhir-model/negotiation';
import { readValidateInput, validationOutcome } from '../validation';
import { isResourceType, type ResourceType } from '../../contract/resource-types';
import { DEFAULT_COUNT, MAX_COUNT } from '../fhir/search';
import { everything, patientCompartment } from '../fhir/compartment';
import type { SearchCaller } from '../fhir/search-access';
import { parseSearchRequest } from '../fhir/search-request';
import { searchBundle } from '../fhir/search-service';
import { FhirService, type CallerContext, type Validator } from '../fhir/service';
import { toHttpRequest, toProxyResult, type HttpRequest, type HttpResponse } from '../http';
import { accessFromContext, decide, type Access } from '../scopes/permissions';
import { FhirRepository, type FhirResource } from '../store/repository';

/** The DynamoDB document client a request may use, from the caller's grants (the least-privilege seam). */
export type ClientProvider = (access: Access) => DynamoDBDocumentClient;

export interface FhirHandlerDeps {
  /** The FHIR table (contract/tables.ts FHIR_TABLE). */
  tableName: string;
  /** Per request: the document client for this caller. Default in config.ts: one shared client. */
  clientFor: ClientProvider;
  /** The profile validator (functions/validation `validateResource`); none: resources are stored unchecked. */
  validator?: Validator;
  /** The key continuation tokens are signed with (CURSOR_KEY); default a random key per process. */
  cursorKey?: string;
  /** Request body cap in bytes; default 256 KB. */
  maxBodyBytes?: number;
  logger?: Logger;
  now?: () => Date;
}

/** The resource type of a request: from the route table, else from the path (`/STU3/<Type>/...`). */
function typeOf(req: HttpRequest): ResourceType {
  const route = ROUTES.find((r) => r.fhir && r.method === req.method && r.path === req.route);
  if (route?.fhir) return route.fhir.type;
  const segment = req.path.split('/')[2] ?? '';
  if (!isResourceType(segment)) throw new NotFoundError(`Unknown resource type '${segment}'`);
  return segment;
}

/** The interaction of a request, from the route table (by route template, else by the concrete path). */
function interactionOf(type: ResourceType, req: HttpRequest): Interaction {
  const route = ROUTES.find((r) => r.fhir?.type === type && r.method === req.method && r.path === req.route);
  if (route?.fhir) return route.fhir.interaction;
  const base = `${FHIR_BASE_PATH}/${type}`;
  const rest = req.path.startsWith(base) ? req.path.slice(base.length) : undefined;
  const m = req.method;
  if (rest === '' || rest === '/') return m === 'GET' ? 'search-type' : m === 'POST' ? 'create' : notAllowed(m);
  if (rest === '/$validate' && m === 'POST') return 'validate';
  const parts = rest?.split('/').slice(1) ?? [];
  if (parts.length === 1) return m === 'GET' ? 'read' : m === 'PUT' ? 'update' : m === 'DELETE' ? 'delete' : notAllowed(m);
  if (parts.length === 2 && parts[1] === '$validate' && m === 'POST') return 'validate';
  if (parts.length === 2 && parts[1] === '_history' && m === 'GET') return 'history-instance';
  if (parts.length === 3 && parts[1] === '_history' && m === 'GET') return 'vread';
  return notAllowed(m);
}

function notAllowed(method: string): never {
  throw new MethodNotAllowedError(`${method} is not supported here`);
}

function pathPart(req: HttpRequest, name: 'id' | 'vid', index: number): string {
  const value = req.pathParameters[name] ?? req.path.split('/')[index];
  if (!value) throw new BadRequestError(`Missing ${name}`);
  try {
    return decodeURIComponent(value);
  } catch {
    throw new BadRequestError(`Invalid ${name}: malformed percent-encoding`, name);
  }
}

export function createFhirHandler(deps: FhirHandlerDeps) {
  const logger = deps.logger ?? new Logger({ serviceName: 'fhir' });
  const maxBody = deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const cursors = new CursorCodec(deps.cursorKey);

  async function handle(req: HttpRequest): Promise<HttpResponse> {
    negotiate(req);
    const type = typeOf(req);
    const interaction = interactionOf(type, req);
    const access = accessFromContext(req.authorizer);
    const decision = decide(access, type, interaction);
    if (!decision.allowed) throw new ForbiddenError(decision.reason);
    const ctx: CallerContext = decision.compartmentPatient ? { compartmentPatient: decision.compartmentPatient } : {};
    const repository = new FhirRepository({ documentClient: deps.clientFor(access), tableName: deps.tableName, now: deps.now });
    const service = new FhirService(type, repository, deps.validator);
    const typeUrl = `${req.baseUrl}${FHIR_BASE_PATH}/${type}`;
    const location = (id: string, vid: number) => `${typeUrl}/${id}/_history/${vid}`;
    const minimal = /return=minimal/.test(req.headers.prefer ?? '');
    /** What a continuation token is bound to besides its query: the client and its compartment. */
    const caller = `${access.clientId}\n${ctx.compartmentPatient ?? ''}`;
    const searchCaller: SearchCaller = { binding: `${access.clientId}\n${access.patient ?? ''}`, decide: (t, i) => decide(access, t, i) };

    switch (interaction) {
      case 'read':
        return resourceResponse(200, await service.read(pathPart(req, 'id', 3), ctx));
      case 'vread':
        return resourceResponse(200, await service.vread(pathPart(req, 'id', 3), pathPart(req, 'vid', 5), ctx));
      case 'search-type':
      case 'search-compartment': {
        const strict = /handling\s*=\s*strict/.test(req.headers.prefer ?? '');
        const fhirBase = `${req.baseUrl}${FHIR_BASE_PATH}`;
        const patient = interaction === 'search-compartment' ? pathPart(req, 'id', 3) : undefined;
        const target = patient === undefined
          ? { type, fhirBase, url: typeUrl, query: req.query }
          : { type, fhirBase, url: `${fhirBase}/Patient/${patient}/${type}`, query: req.query, clauses: [patientCompartment(type, patient)] };
        return fhirResponse(200, await searchBundle(repository, searchCaller, cursors, target, parseSearchRequest(type, req.query, strict)));
      }
      case 'everything':
        return fhirResponse(200, await everything(repository, searchCaller, cursors, { fhirBase: `${req.baseUrl}${FHIR_BASE_PATH}`, id: pathPart(req, 'id', 3), query: req.query }));
      case 'history-instance': {
        const id = pathPart(req, 'id', 3);
        const countRaw = req.query._count?.[0];
        if (countRaw !== undefined && !/^\d+$/.test(countRaw)) throw new BadRequestError(`Invalid _count '${countRaw}'`, '_count');
        const count = Math.min(countRaw === undefined ? DEFAULT_COUNT : Math.max(Number(countRaw), 1), MAX_COUNT);
        const cursor = req.query[CURSOR_PARAM]?.[0];
        const binding = `history\n${type}/${id}\n${count}\n${caller}`;
        const before = cursor === undefined ? undefined : (cursors.open(cursor, binding) as { b?: unknown }).b;
        if (before !== undefined && !(Number.isInteger(before) && (before as number) > 0)) throw new BadRequestError('Invalid continuation token', CURSOR_PARAM);
        const page = await service.history(id, count, before as number | undefined, ctx);
        const self = `${typeUrl}/${id}/_history?${queryString([['_count', String(count)], ...(cursor ? [[CURSOR_PARAM, cursor] as [string, string]] : [])])}`;
        const last = page.versions[page.versions.length - 1];
        const next =
          page.more && last ? `${typeUrl}/${id}/_history?${queryString([['_count', String(count)], [CURSOR_PARAM, cursors.seal({ b: last.versionId }, binding)]])}` : undefined;
        return fhirResponse(200, historyBundle(`${typeUrl}/${id}`, self, next, page.total, page.versions));
      }
      case 'create': {
        const body = parseBody(req, maxBody);
        const ifNoneExist = req.headers['if-none-exist'];
        const { version, created } = await service.create(body, ctx, ifNoneExist);
        const headers = { Location: location(version.id, version.versionId) };
        if (minimal) return fhirResponse(created ? 201 : 200, undefined, { ...headers, ETag: etag(version) });
        return resourceResponse(created ? 201 : 200, version, headers);
      }
      case 'update': {
        const id = pathPart(req, 'id', 3);
        const body = parseBody(req, maxBody);
        const { version, created } = await service.update(id, body, ctx, parseIfMatch(req.headers['if-match']));
        const headers = { Location: location(id, version.versionId) };
        if (minimal) return fhirResponse(created ? 201 : 200, undefined, { ...headers, ETag: etag(version) });
        return resourceResponse(created ? 201 : 200, version, headers);
      }
      case 'delete':
        await service.delete(pathPart(req, 'id', 3), ctx);
        return { statusCode: 204, headers: {}, body: '' };
      case 'validate': {
        const { resource } = readValidateInput(parseBody(req, maxBody));
        if (!resource || typeof resource !== 'object') throw new BadRequestError('Parameters has no resource parameter');
        const id = req.pathParameters.id ?? (req.path.split('/').length === 5 ? pathPart(req, 'id', 3) : undefined);
        return fhirResponse(200, validationOutcome(await service.validate(resource as FhirResource, id), type));
      }
    }
  }

  return async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    let request = toHttpRequest(event);
    let response: HttpResponse;
    try {
      if (request.method === 'POST' && request.route.endsWith('/_search')) request = withFormQuery(request, maxBody);
      request = await readRepresentation(request, maxBody);
      response = await handle(request);
    } catch (err) {
      response = errorResponse(err, logger);
    }
    response = await writeRepresentation(request, response).catch((err) => errorResponse(err, logger));
    // One line per request: the route template, never the path, query or body (they hold ids and clinical data).
    logger.info('request answered', { method: request.method, route: request.route, status: response.statusCode, requestId: request.requestId, clientId: request.authorizer?.clientId });
    return toProxyResult(response, request);
  };
}

