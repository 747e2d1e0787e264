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
import { FHIR_BASE_PATH, ROUTES, type Route } from '../../contract/routes';
import type { ResourceType } from '../../contract/resource-types';
import { CursorCodec } from '../fhir/cursor';
import { BadRequestError, ForbiddenError, NotFoundError } from '../fhir/errors';
import {
  DEFAULT_MAX_BODY_BYTES,
  errorResponse,
  etag,
  fhirResponse,
  negotiate,
  notModified,
  oversizeError,
  pageLink,
  parseBody,
  parseIfMatch,
  resourceResponse,
  withFormQuery,
} from '../fhir/http';
import { Paging } from '../fhir/paging';
import { everything, patientCompartment } from '../fhir/compartment';
import type { SearchClause } from '../fhir/search';
import type { SearchCaller } from '../fhir/search-access';
import { parseSearchRequest } from '../fhir/search-request';
import { searchBundle } from '../fhir/search-service';
import { auditFhirRequest } from '../audit/fhir';
import { FhirReadService, type CallerContext } from '../fhir/read-service';
import type { Validator } from '../fhir/service';
import { allOk } from '../fhir/outcome';
import { readRepresentation, representationBytes, writeRepresentation } from '../fhir-model/negotiation';
import { toHttpRequest, toProxyResult, type HttpRequest, type HttpResponse } from '../http';
import { withRouteTemplate } from '../http/route-template';
import { accessFromContext, decide, decideSystem, type Access } from '../scopes/permissions';
import { FhirRepository, type FhirResource, type WriteResult } from '../store/repository';
import { once } from '../once';

/** Writes, transactions, PATCH and history (on-demand.ts), and the validator's $validate helpers: on first use. */
const loadOnDemand = once(() => import('./on-demand'));
const loadValidation = once(() => import('../validation'));

/** The DynamoDB document client a request may use, from the caller's grants (the least-privilege seam). */
export type ClientProvider = (access: Access) => DynamoDBDocumentClient;

export interface FhirHandlerDeps {
  /** The FHIR table (contract/tables.ts FHIR_TABLE). */
  tableName: string;
  /** Per request: the document client for this caller. Default in config.ts: one shared client. */
  clientFor: ClientProvider;
  /**
   * The profile validator (functions/validation `validateResource`). Required: `null` turns validation off and must
   * be written out (tests and benches of other concerns); leaving it out is refused at start.
   */
  validator: Validator | null;
  /** The key continuation tokens are signed with (CURSOR_KEY); default a random key per process. */
  cursorKey?: string;
  /** Request body cap in bytes; default 256 KB. */
  maxBodyBytes?: number;
  logger?: Logger;
  now?: () => Date;
}

/** The FHIR route of a request, from THE route table by method and route template: nothing else decides it. */
function routeOf(req: HttpRequest): Route {
  const route = ROUTES.find((r) => r.function === 'fhir' && r.method === req.method && r.path === req.route);
  // An unknown type or compartment (`/STU3/Foo/1`) keeps API Gateway's `{type}` resource, which no route has.
  if (!route || (!route.fhir && !route.system)) throw new NotFoundError(`No FHIR interaction is served at ${req.method} ${req.path}`);
  return route;
}

/** A path parameter as the gateway extracted it, percent-decoded. */
function pathPart(req: HttpRequest, name: 'id' | 'vid'): string {
  const value = req.pathParameters[name];
  if (!value) throw new BadRequestError(`Missing ${name}`);
  try {
    return decodeURIComponent(value);
  } catch {
    throw new BadRequestError(`Invalid ${name}: malformed percent-encoding`, name);
  }
}

export function createFhirHandler(deps: FhirHandlerDeps) {
  if (deps.validator === undefined) throw new Error('createFhirHandler: no validator; pass one, or validator: null to store resources unchecked');
  const logger = deps.logger ?? new Logger({ serviceName: 'fhir' });
  const maxBody = deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const cursors = new CursorCodec(deps.cursorKey);

  async function handle(req: HttpRequest): Promise<HttpResponse> {
    negotiate(req);
    const route = routeOf(req);
    const access = accessFromContext(req.authorizer);
    const decision = route.system
      ? decideSystem(access, route.system)
      : decide(access, route.fhir!.type, route.fhir!.interaction, req.headers['if-none-exist'] !== undefined);
    if (!decision.allowed) throw new ForbiddenError(decision.reason);
    const ctx: CallerContext = decision.compartmentPatient ? { compartmentPatient: decision.compartmentPatient } : {};
    const repository = new FhirRepository({ documentClient: deps.clientFor(access), tableName: deps.tableName, now: deps.now });
    /** What a continuation token is bound to besides its query: the client and its compartment. */
    const paging = new Paging(cursors, `${access.clientId}\n${ctx.compartmentPatient ?? ''}`);
    const fhirBase = `${req.baseUrl}${FHIR_BASE_PATH}`;

    const searchCaller: SearchCaller = { binding: `${access.clientId}\n${access.patient ?? ''}`, decide: (t, i) => decide(access, t, i) };
    const search = (type: ResourceType, query: Record<string, string[]>, strict = false, target?: { url: string; clauses: SearchClause[] }) =>
      searchBundle(repository, searchCaller, cursors, { type, fhirBase, url: target?.url ?? `${fhirBase}/${type}`, query, clauses: target?.clauses }, parseSearchRequest(type, query, strict));

    const { type, interaction } = route.system ? { type: undefined, interaction: undefined } : route.fhir!;
    const typeUrl = `${fhirBase}/${type}`;
    const head = req.method === 'HEAD';

    switch (interaction) {
      case 'read':
      case 'vread': {
        const reader = new FhirReadService(type, repository);
        const version = interaction === 'read' ? await reader.read(pathPart(req, 'id'), ctx) : await reader.vread(pathPart(req, 'id'), pathPart(req, 'vid'), ctx);
        if (notModified(req, version)) return { statusCode: 304, headers: { ETag: etag(version), 'Last-Modified': new Date(version.lastUpdated).toUTCString() }, body: '' };
        const response = resourceResponse(200, version);
        return head ? { ...response, body: '' } : response;
      }
      case 'search-type':
      case 'search-compartment': {
        const strict = /handling\s*=\s*strict/.test(req.headers.prefer ?? '');
        const patient = interaction === 'search-compartment' ? pathPart(req, 'id') : undefined;
        const compartment = patient === undefined ? undefined : { url: `${fhirBase}/Patient/${patient}/${type}`, clauses: [patientCompartment(type, patient)] };
        return fhirResponse(200, await search(type, req.query, strict, compartment));
      }
      case 'everything':
        return fhirResponse(200, await everything(repository, searchCaller, cursors, { fhirBase, id: pathPart(req, 'id'), query: req.query }));
    }

    // Everything else (writes, transactions, PATCH, history, $validate): code a read never runs, loaded on first use.
    const { FhirService, historyBundle, historyPage, parsePatchBody, processBundle, visibleTypes } = await loadOnDemand();
    const validator = deps.validator ?? undefined;
    if (route.system === 'transaction') {
      const resourceBytes = await representationBytes(req);
      return fhirResponse(200, await processBundle(parseBody(req, maxBody), { repository, access, validator, paging, baseUrl: req.baseUrl, search, resourceBytes }));
    }
    if (route.system === 'history-system') {
      const page = await historyPage(repository, visibleTypes(access, repository, req.query._type), req.query, paging, 'history\n*');
      return fhirResponse(200, historyBundle(fhirBase, `${fhirBase}/_history`, page));
    }
    if (type === undefined) throw new NotFoundError(`${route.system} is not served at ${req.method} ${req.route}`);

    const service = new FhirService(type, repository, validator);
    const location = (id: string, vid: number) => `${typeUrl}/${id}/_history/${vid}`;
    // Prefer (https://hl7.org/fhir/STU3/http.html#ops): return=minimal, no body; return=OperationOutcome, one saying what was written.
    const prefer = /return=(minimal|OperationOutcome)/.exec(req.headers.prefer ?? '')?.[1];
    const written = ({ version, created }: WriteResult) => {
      const headers = { Location: location(version.id, version.versionId) };
      if (prefer === undefined) return resourceResponse(created ? 201 : 200, version, headers);
      const what = `${version.type}/${version.id} ${created ? 'created' : 'updated'}, version ${version.versionId}`;
      return fhirResponse(created ? 201 : 200, prefer === 'minimal' ? undefined : allOk(what), { ...headers, ETag: etag(version) });
    };

    switch (interaction) {
      case 'history-type': {
        // Type history is system history of one type (functions/fhir/history.ts): the same change log, checks and cursors.
        if (req.query._type) throw new BadRequestError(`_type is a parameter of system history (${FHIR_BASE_PATH}/_history), not of ${type}/_history`, '_type');
        const page = await historyPage(repository, visibleTypes(access, repository, [type]), req.query, paging, `history\n${type}`);
        return fhirResponse(200, historyBundle(fhirBase, `${typeUrl}/_history`, page));
      }
      case 'history-instance': {
        const id = pathPart(req, 'id');
        return fhirResponse(200, historyBundle(fhirBase, `${typeUrl}/${id}/_history`, await service.historyPage(id, req.query, ctx, paging)));
      }
      case 'create':
        return written(await service.create(parseBody(req, maxBody), ctx, req.headers['if-none-exist']));
      case 'update':
        return written(await service.update(pathPart(req, 'id'), parseBody(req, maxBody), ctx, parseIfMatch(req.headers['if-match'])));
      case 'update-conditional':
        return written(await service.conditionalUpdate(req.query, parseBody(req, maxBody), ctx, parseIfMatch(req.headers['if-match'])));
      case 'patch':
        return written(await service.patch(pathPart(req, 'id'), parsePatchBody(req, maxBody), ctx, parseIfMatch(req.headers['if-match']), maxBody));
      case 'delete':
        await service.delete(pathPart(req, 'id'), ctx);
        return { statusCode: 204, headers: {}, body: '' };
      case 'delete-conditional':
        await service.conditionalDelete(req.query, ctx);
        return { statusCode: 204, headers: {}, body: '' };
      case 'validate': {
        const { readValidateInput, validationOutcome } = await loadValidation(); // loaded on first use
        const { resource } = readValidateInput(parseBody(req, maxBody));
        if (!resource || typeof resource !== 'object') throw new BadRequestError('Parameters has no resource parameter');
        const id = req.pathParameters.id === undefined ? undefined : pathPart(req, 'id');
        return fhirResponse(200, validationOutcome(await service.validate(resource as FhirResource, id), type));
      }
      default:
        throw new NotFoundError(`${interaction} is not served at ${req.method} ${req.route}`);
    }
  }

  return async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    let request = withRouteTemplate(toHttpRequest(event));
    let response: HttpResponse;
    try {
      if (request.method === 'POST' && request.route.endsWith('/_search')) request = withFormQuery(request, maxBody);
      request = await readRepresentation(request, maxBody);
      response = await handle(request);
    } catch (err) {
      response = errorResponse(err, logger);
    }
    let rendered = await writeRepresentation(request, response).catch((err) => errorResponse(err, logger));
    // Over what Lambda may return (API Gateway would answer 502): a 400 too-costly that says to ask for less.
    const oversize = oversizeError(rendered);
    if (oversize) rendered = await writeRepresentation(request, (response = errorResponse(oversize)));
    auditFhirRequest(request, response);
    response = rendered;
    // One line per request at DEBUG (the access log and the audit line already record every request at INFO): the
    // route template, never the path, query or body (they hold ids and clinical data).
    logger.debug('request answered', { method: request.method, route: request.route, status: response.statusCode, requestId: request.requestId, clientId: request.authorizer?.clientId });
    return toProxyResult(response, request);
  };
}
