/**
 * The admin API (`/admin/...`, routes `admin: true` in contract/routes.ts): parse the request, re-check the admin scope
 * from the authorizer context (defence in depth: the authorizer's policy already lists these routes only for tokens
 * holding it), call the AdminService, answer JSON. Errors are OperationOutcomes like the rest of the API; a table
 * outage is 503 + Retry-After; anything unexpected a generic 500 (logged with the error, never bodies or secrets).
 * Responses are `Cache-Control: no-store` (they may carry a new client secret).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { jsonResponse, readBody, toHttpRequest, toProxyResult, type BodyRules, type HttpRequest, type HttpResponse } from '../http';
import { record } from '../audit';
import type { DynamoAuditEventStore } from '../audit/store';
import { parseAuditSearch } from '../audit/search';
import { queryString } from '../fhir/http';
import { holdsAdminScope, ADMIN_SCOPE } from '../scopes/admin';
import { HttpError } from '../errors';
import { BadRequestError, ForbiddenError, NotFoundError, TooLargeError, UnsupportedMediaTypeError } from '../fhir/errors';
import { errorResponse } from '../fhir/http';
import { AdminService, type Actor, type AdminServiceDeps } from './service';
import {
  parseJsonBody,
  queryValue,
  validateAuditQuery,
  validateClientCreateBody,
  validateClientId,
  validateClientUpdateBody,
  validateRotateBody,
  validateScopeDefinitionBody,
  validateScopeName,
} from './validation';

export interface AdminHandlerDeps extends AdminServiceDeps {
  /** The queryable audit trail of access decisions (functions/audit/store.ts). */
  auditEvents?: Pick<DynamoAuditEventStore, 'list' | 'search'>;
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
}

/** The largest request body accepted, bytes. */
export const MAX_ADMIN_BODY_BYTES = 16 * 1024;

const NO_STORE = { 'Cache-Control': 'no-store' };

type Route = (request: HttpRequest, actor: Actor) => Promise<HttpResponse>;

export function createAdminHandler(deps: AdminHandlerDeps) {
  const logger = deps.logger ?? new Logger({ serviceName: 'admin' });
  const service = new AdminService(deps);
  const now = deps.now ?? (() => new Date());
  const ok = (status: number, body: unknown, headers: Record<string, string> = {}) =>
    jsonResponse(status, body, { ...NO_STORE, ...headers });

  const auditEvents = () => {
    if (!deps.auditEvents) throw new NotFoundError('No audit event store is configured.');
    return deps.auditEvents;
  };

  const routes: Record<string, Route> = {
    'GET /admin/clients': async (req) => ok(200, await service.listClients(cursorOf(req))),
    'POST /admin/clients': async (req, actor) => {
      const created = await service.createClient(actor, validateClientCreateBody(jsonBody(req)));
      const location = `${req.baseUrl}/admin/clients/${encodeURIComponent(created.client.clientId)}`;
      return ok(201, { ...created.client, clientSecret: created.clientSecret }, { Location: location });
    },
    'GET /admin/clients/{clientId}': async (req) => ok(200, await service.getClient(clientIdOf(req))),
    'PATCH /admin/clients/{clientId}': async (req, actor) =>
      ok(200, await service.updateClient(actor, clientIdOf(req), validateClientUpdateBody(jsonBody(req)))),
    'DELETE /admin/clients/{clientId}': async (req, actor) => {
      await service.deleteClient(actor, clientIdOf(req));
      return { statusCode: 204, headers: NO_STORE, body: '' };
    },
    'POST /admin/clients/{clientId}/secret': async (req, actor) => {
      const { graceSeconds, revokeTokens } = validateRotateBody(jsonBody(req));
      const rotated = await service.rotateSecret(actor, clientIdOf(req), graceSeconds, revokeTokens);
      return ok(200, rotated);
    },
    'POST /admin/clients/{clientId}/revoke-tokens': async (req, actor) => ok(200, await service.revokeClientTokens(actor, clientIdOf(req))),
    'GET /admin/scopes': async () => ok(200, { scopes: await service.listDefinitions() }),
    'POST /admin/scopes': async (req, actor) => {
      const created = await service.createDefinition(actor, validateScopeDefinitionBody(jsonBody(req)));
      const location = `${req.baseUrl}/admin/scopes/${encodeURIComponent(created.name)}`;
      return ok(201, created, { Location: location });
    },
    'GET /admin/scopes/{name}': async (req) => ok(200, await service.getDefinition(scopeNameOf(req))),
    'PUT /admin/scopes/{name}': async (req, actor) =>
      ok(200, await service.updateDefinition(actor, validateScopeDefinitionBody(jsonBody(req), scopeNameOf(req)))),
    'DELETE /admin/scopes/{name}': async (req, actor) => {
      const cascade = flag(req, 'cascade');
      return ok(200, await service.deleteDefinition(actor, scopeNameOf(req), cascade));
    },
    'GET /admin/audit': async (req) => ok(200, { records: await service.listAudit(validateAuditQuery(req.query, now())) }),
    // Every access decision as FHIR STU3 AuditEvents (functions/audit), newest first: a searchset Bundle.
    'GET /admin/audit-events': async (req) => {
      const events = await auditEvents().list(validateAuditQuery(req.query, now()));
      const bundle = { resourceType: 'Bundle', type: 'searchset', total: events.length, entry: events.map((resource) => ({ resource })) };
      return jsonResponse(200, bundle, NO_STORE, 'application/fhir+json');
    },
    // The same events as a FHIR search (functions/audit/search.ts): STU3 AuditEvent parameters, bounded, paged.
    'GET /STU3/AuditEvent': async (req) => {
      const search = parseAuditSearch(req.query, now());
      const page = await auditEvents().search(search);
      const url = (extra: [string, string][]) => `${req.baseUrl}/STU3/AuditEvent?${queryString([...search.canonical, ...extra])}`;
      const link = [{ relation: 'self', url: url(search.cursor ? [['_cursor', search.cursor]] : []) }];
      if (page.next) link.push({ relation: 'next', url: url([['_cursor', page.next]]) });
      const bundle = { resourceType: 'Bundle', type: 'searchset', link, entry: page.events.map((resource) => ({ fullUrl: `urn:uuid:${resource.id}`, resource, search: { mode: 'match' } })) };
      return jsonResponse(200, bundle, NO_STORE, 'application/fhir+json');
    },
  };

  async function handle(request: HttpRequest): Promise<HttpResponse> {
    try {
      const actor = adminActor(request);
      const route = routes[`${request.method} ${request.route}`];
      if (!route) throw new NotFoundError(`No admin route ${request.method} ${request.route}.`);
      const response = await route(request, actor);
      record({ kind: 'admin', outcome: 'allowed', clientId: actor.clientId, interaction: `${request.method} ${request.route}`, requestId: request.requestId, sourceIp: request.sourceIp, source: 'admin' });
      if (request.method !== 'GET') {
        logger.info('admin change', {
          clientId: actor.clientId,
          route: `${request.method} ${request.route}`,
          status: response.statusCode,
          requestId: request.requestId,
        });
      }
      return response;
    } catch (err) {
      return toErrorResponse(err, request);
    }
  }

  /** Audit and log the refusal or failure; the OperationOutcome edge (functions/fhir/http.ts) renders it. */
  function toErrorResponse(err: unknown, request: HttpRequest): HttpResponse {
    const error = err instanceof HttpError ? err : undefined;
    record({
      kind: 'admin',
      outcome: error && error.statusCode < 500 ? 'denied' : 'error',
      clientId: typeof request.authorizer?.clientId === 'string' ? request.authorizer.clientId : undefined,
      interaction: `${request.method} ${request.route}`,
      reason: error?.message.slice(0, 200),
      requestId: request.requestId,
      sourceIp: request.sourceIp,
      source: 'admin',
    });
    if (error && error.statusCode < 500) {
      logger.warn('admin request refused', { status: error.statusCode, reason: error.message, requestId: request.requestId });
    } else {
      logger.error(error ? 'admin request failed: store unavailable' : 'admin request failed', { err, requestId: request.requestId });
    }
    return errorResponse(err, undefined, NO_STORE);
  }

  return async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    const request = toHttpRequest(event);
    return toProxyResult(await handle(request), request);
  };
}

/** The caller, from the authorizer context; 403 unless its scope claim holds the admin scope. */
function adminActor(request: HttpRequest): Actor {
  const ctx = request.authorizer;
  const clientId = ctx?.clientId;
  if (!ctx || typeof clientId !== 'string' || clientId === '' || !holdsAdminScope(ctx.scope)) {
    throw new ForbiddenError(`Access denied: the admin API needs a token with the ${ADMIN_SCOPE} scope.`);
  }
  return { clientId, requestId: request.requestId };
}

/** The admin API's body rules (functions/http/body.ts): JSON (UTF-8) of at most MAX_ADMIN_BODY_BYTES. */
const ADMIN_BODY: BodyRules = {
  maxBytes: MAX_ADMIN_BODY_BYTES,
  accepts: (type) => type === 'application/json',
  tooLarge: (max) => new TooLargeError(`The request body is larger than ${max} bytes.`),
  unsupported: () => new UnsupportedMediaTypeError('The request body must be application/json, in UTF-8.'),
  malformed: (message) => new BadRequestError(message),
};

/** The request's JSON body, parsed; undefined when there is none (each route's validation decides if it needs one). */
function jsonBody(request: HttpRequest): unknown {
  return parseJsonBody(readBody(request, ADMIN_BODY)?.text);
}

/**
 * A path parameter, percent-decoded as often as it is still encoded (up to 3 times). The local gateway and API Gateway
 * REST may hand over `ccri/medications.read`, `ccri%2Fmedications.read` (left encoded) or, for a caller that
 * double-encoded to get past a gateway that decodes before routing, `ccri%252F...`: all mean the same name. Safe
 * because no valid client id or scope name contains `%`.
 */
export function decodePathParameter(value: string | undefined, name: string): string {
  let decoded = value ?? '';
  for (let i = 0; i < 3 && /%[0-9A-Fa-f]{2}/.test(decoded); i++) {
    try {
      decoded = decodeURIComponent(decoded);
    } catch {
      throw new BadRequestError(`The ${name} in the URL holds malformed percent-encoding.`, name);
    }
  }
  return decoded;
}

function clientIdOf(request: HttpRequest): string {
  return validateClientId(decodePathParameter(request.pathParameters.clientId, 'clientId'));
}

function scopeNameOf(request: HttpRequest): string {
  return validateScopeName(decodePathParameter(request.pathParameters.name, 'name'));
}

/** `?cursor=` of a listing (a page's `next`), once. */
const cursorOf = (request: HttpRequest): string | undefined => queryValue(request.query, 'cursor', 4096);

function flag(request: HttpRequest, name: string): boolean {
  const value = queryValue(request.query, name);
  if (value !== undefined && value !== 'true' && value !== 'false') throw new BadRequestError(`${name} must be true or false.`, name);
  return value === 'true';
}
