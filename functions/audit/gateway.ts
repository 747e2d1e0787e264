/**
 * What API Gateway refuses on its own, as an audit input: a route the caller's cached authorizer policy does not
 * allow (ACCESS_DENIED, 403) never reaches a function, so neither the authorizer (whose answer API Gateway caches
 * per token) nor the FHIR function sees it. On AWS the stage's access log line of such a request is turned into a
 * denied AuditEvent by the audit sink (functions/audit-sink); the local gateway records the same input directly.
 */
import { ROUTES } from '../../contract/routes';
import { routeOfGateway } from '../../contract/gateway-paths';
import type { AuditInput } from './audit-event';

const BY_ROUTE = new Map(ROUTES.map((r) => [`${r.method} ${r.path}`, r]));

/** The fields of one access log line (lib/api.ts `accessLogFormat`) the audit needs. */
export interface GatewayDenial {
  httpMethod: string;
  /** API Gateway's resource path, e.g. `/STU3/{type}/{id}` (`gatewayPath`), or a route template. */
  resourcePath: string;
  /** The request path (`/prod/STU3/Patient/1`): gives the type and compartment of a `{type}` resource path. */
  path?: string;
  status: number;
  /** The authorizer's principal: the client id. */
  principalId?: string;
  /** The bound patient the authorizer returned (context), if any. */
  patient?: string;
  requestId?: string;
  ip?: string;
  /** ISO instant or API Gateway's `dd/MMM/yyyy:HH:mm:ss Z` request time. */
  requestTime?: string;
}

export function gatewayDenialAudit(denial: GatewayDenial): AuditInput {
  const route = BY_ROUTE.get(`${denial.httpMethod} ${routeTemplate(denial.resourcePath, denial.path)}`);
  const input: AuditInput = {
    kind: route?.admin ? 'admin' : 'access',
    outcome: 'denied',
    clientId: present(denial.principalId),
    patient: present(denial.patient),
    interaction: route?.fhir?.interaction ?? (route?.admin ? `${denial.httpMethod} ${denial.resourcePath}` : undefined),
    resourceType: route?.fhir?.type,
    requestId: present(denial.requestId),
    sourceIp: present(denial.ip),
    reason: `HTTP ${denial.status}: the token's scopes do not allow this route`,
    source: 'gateway',
  };
  const at = denial.requestTime ? parseRequestTime(denial.requestTime) : undefined;
  if (at) input.at = at;
  return input;
}

/**
 * The route template of a resource path: `{type}` and `{compartment}` are read from the request path's segments at
 * their places, counted from the end (the path may carry the stage or a base path mapping in front).
 */
function routeTemplate(resourcePath: string, path: string | undefined): string {
  if (!resourcePath.includes('{type}')) return resourcePath;
  const parts = resourcePath.split('/');
  const segments = (path ?? '').split('/').slice(-parts.length);
  if (segments.length !== parts.length) return resourcePath;
  const parameters: Record<string, string> = {};
  parts.forEach((part, i) => {
    if (part === '{type}' || part === '{compartment}') parameters[part.slice(1, -1)] = segments[i]!;
  });
  return routeOfGateway(resourcePath, parameters)?.route ?? resourcePath;
}

/** API Gateway writes '-' for an empty context variable. */
function present(value: string | undefined): string | undefined {
  return value && value !== '-' ? value : undefined;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `$context.requestTime` (`29/Nov/2026:12:45:00 +0000`) or an ISO instant. */
export function parseRequestTime(value: string): Date | undefined {
  const m = /^(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-]\d{4})$/.exec(value);
  const iso = m ? `${m[3]}-${String(MONTHS.indexOf(m[2]!) + 1).padStart(2, '0')}-${m[1]}T${m[4]}:${m[5]}:${m[6]}${m[7]!.slice(0, 3)}:${m[7]!.slice(3)}` : value;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) || (m && MONTHS.indexOf(m[2]!) < 0) ? undefined : date;
}
