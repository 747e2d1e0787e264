/**
 * THE route table: every HTTP route of the API, declared once. The CDK stack builds the API Gateway REST API from
 * it (lib/api.ts) and the local gateway serves it (local/gateway.ts); a CDK assertion test checks that the
 * synthesized template and this table agree, route for route. Plain data: no aws-cdk-lib import here.
 */
import { FHIR_BASE_PATH } from './paths';
import { PUBLIC_INFORMATION_TYPES, RESOURCE_TYPES, type ResourceType } from './resource-types';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';

/** The FHIR interactions (https://hl7.org/fhir/STU3/http.html) and the operations this server routes. */
export type Interaction =
  | 'read'
  | 'vread'
  | 'history-instance'
  | 'search-type'
  | 'create'
  | 'update'
  | 'delete'
  | 'validate'
  // FHIR breadth, the interactions (issue 15): JSON Patch, conditional update and delete (`PUT`/`DELETE /Type?params`),
  // type-level history. HEAD routes carry the interaction of their GET (read, vread).
  | 'patch'
  | 'update-conditional'
  | 'delete-conditional'
  | 'history-type'
  // Search breadth (issue 15): `GET /Patient/{id}/{Type}` (needs search on Type) and `GET /Patient/{id}/$everything`
  // (needs read on Patient; each type in it is decided by its own scopes). `POST /Type/_search` is `search-type`.
  | 'search-compartment'
  | 'everything';

/**
 * Interactions of the whole server rather than one type (issue 15): transaction and batch Bundles at `POST /STU3`,
 * system history at `GET /STU3/_history`. The authorizer decides them with `decideSystem`
 * (functions/scopes/permissions.ts); the function then decides every entry, every returned version, per type.
 */
export type SystemInteraction = 'transaction' | 'history-system';

/**
 * The Lambda functions. `fhir` serves every resource type from one table (functions/resource); what a request may
 * touch is decided per request from its token (functions/resource/handler.ts `clientFor`).
 */
export type FunctionName = 'token' | 'jwks' | 'metadata' | 'admin' | 'explorer' | 'fhir';

export interface Route {
  method: HttpMethod;
  /** The route template, path parameters in braces: `/STU3/Patient/{id}` (API Gateway's resource: `gatewayPath`). */
  path: string;
  function: FunctionName;
  /** `public` routes need no token; `authorized` routes run the Lambda authorizer first. */
  auth: 'public' | 'authorized';
  /** For FHIR routes: the resource type and the interaction, from which the authorizer derives the permission. */
  fhir?: { type: ResourceType; interaction: Interaction };
  /** For FHIR routes of no one type (`POST /STU3`, `GET /STU3/_history`). */
  system?: SystemInteraction;
  /** For admin routes: the admin scope is required (see functions/admin). */
  admin?: true;
}

export { FHIR_BASE_PATH } from './paths';

function fhirRoutes(type: ResourceType): Route[] {
  const fn: FunctionName = 'fhir';
  const base = `${FHIR_BASE_PATH}/${type}`;
  const route = (method: HttpMethod, path: string, interaction: Interaction): Route => ({
    method,
    path,
    function: fn,
    auth: 'authorized',
    fhir: { type, interaction },
  });
  return [
    route('GET', base, 'search-type'),
    route('POST', base, 'create'),
    route('POST', `${base}/$validate`, 'validate'),
    route('GET', `${base}/{id}`, 'read'),
    route('PUT', `${base}/{id}`, 'update'),
    route('DELETE', `${base}/{id}`, 'delete'),
    route('POST', `${base}/{id}/$validate`, 'validate'),
    route('GET', `${base}/{id}/_history`, 'history-instance'),
    route('GET', `${base}/{id}/_history/{vid}`, 'vread'),
    // FHIR breadth, the interactions (issue 15). The types share one API Gateway resource tree (`gatewayPath`), so a
    // route here costs one API Gateway method, not 14.
    route('HEAD', `${base}/{id}`, 'read'),
    route('HEAD', `${base}/{id}/_history/{vid}`, 'vread'),
    route('GET', `${base}/_history`, 'history-type'),
    route('PATCH', `${base}/{id}`, 'patch'),
    route('PUT', base, 'update-conditional'),
    route('DELETE', base, 'delete-conditional'),
    route('POST', `${base}/_search`, 'search-type'),
  ];
}

/** The types of the patient compartment besides Patient: those holding patient data (functions/fhir/definitions.ts). */
const PATIENT_COMPARTMENT_SEARCH_TYPES = RESOURCE_TYPES.filter((t) => t !== 'Patient' && !PUBLIC_INFORMATION_TYPES.has(t));

/** The patient compartment's routes (functions/fhir/compartment.ts): a search per compartment type, and $everything. */
function compartmentRoutes(): Route[] {
  const route = (path: string, type: ResourceType, interaction: Interaction): Route => ({
    method: 'GET',
    path: `${FHIR_BASE_PATH}/Patient/{id}/${path}`,
    function: 'fhir',
    auth: 'authorized',
    fhir: { type, interaction },
  });
  return [
    route('$everything', 'Patient', 'everything'),
    ...PATIENT_COMPARTMENT_SEARCH_TYPES.map((type) => route(type, type, 'search-compartment')),
  ];
}

export const ADMIN_BASE_PATH = '/admin';

/**
 * The admin API (functions/admin): OAuth clients, named scope definitions, the audit trail. Every route needs a token
 * holding the admin scope (functions/scopes/admin.ts). `{name}` is a scope name, percent-encoded in the URL
 * (`/admin/scopes/ccri%2Fmedications.read`).
 */
function adminRoutes(): Route[] {
  const route = (method: HttpMethod, path: string): Route => ({
    method,
    path: `${ADMIN_BASE_PATH}${path}`,
    function: 'admin',
    auth: 'authorized',
    admin: true,
  });
  return [
    route('GET', '/clients'),
    route('POST', '/clients'),
    route('GET', '/clients/{clientId}'),
    route('PATCH', '/clients/{clientId}'),
    route('DELETE', '/clients/{clientId}'),
    route('POST', '/clients/{clientId}/secret'),
    route('POST', '/clients/{clientId}/revoke-tokens'),
    route('GET', '/scopes'),
    route('POST', '/scopes'),
    route('GET', '/scopes/{name}'),
    route('PUT', '/scopes/{name}'),
    route('DELETE', '/scopes/{name}'),
    route('GET', '/audit'),
    route('GET', '/audit-events'),
  ];
}

export const ROUTES: readonly Route[] = [
  { method: 'POST', path: '/oauth2/token', function: 'token', auth: 'public' },
  // RFC 7009 / RFC 7662 (client-authenticated in the function) and the revocation list the authorizer fetches.
  { method: 'POST', path: '/oauth2/revoke', function: 'token', auth: 'public' },
  { method: 'POST', path: '/oauth2/introspect', function: 'token', auth: 'public' },
  { method: 'GET', path: '/oauth2/revocations', function: 'token', auth: 'public' },
  { method: 'GET', path: '/.well-known/jwks.json', function: 'jwks', auth: 'public' },
  { method: 'GET', path: `${FHIR_BASE_PATH}/metadata`, function: 'metadata', auth: 'public' },
  { method: 'GET', path: `${FHIR_BASE_PATH}/.well-known/smart-configuration`, function: 'metadata', auth: 'public' },
  ...RESOURCE_TYPES.flatMap(fhirRoutes),
  // Transaction and batch Bundles, system history (issue 15): every entry and version is decided in the function.
  { method: 'POST', path: FHIR_BASE_PATH, function: 'fhir', auth: 'authorized', system: 'transaction' },
  { method: 'GET', path: `${FHIR_BASE_PATH}/_history`, function: 'fhir', auth: 'authorized', system: 'history-system' },
  ...compartmentRoutes(),
  ...adminRoutes(),
  // The audit trail as a FHIR search (functions/audit/search.ts): admin tokens only, served by the admin function.
  { method: 'GET', path: `${FHIR_BASE_PATH}/AuditEvent`, function: 'admin', auth: 'authorized', admin: true },
  // The web explorer (web/, functions/explorer): the page at the API's root and its assets, on the API's own origin.
  { method: 'GET', path: '/', function: 'explorer', auth: 'public' },
  { method: 'GET', path: '/explorer/{asset}', function: 'explorer', auth: 'public' },
];

/** Every function named by the route table, once. */
export const FUNCTION_NAMES: readonly FunctionName[] = [...new Set(ROUTES.map((r) => r.function))];
