/**
 * The FHIR function's audit: one AuditEvent per request it answers, allowed or denied, and one denied AuditEvent per
 * search entry withheld from the caller (`entry.search.mode = 'outcome'`: an `_include` or a compartment denial).
 * Called once per request by the handler (functions/resource/handler.ts), after the answer is built and before it is
 * serialised to the client's format, so it reads the response as JSON.
 *
 * Who: the token's client id and bound patient (the authorizer context). What: the interaction and the type (from
 * the route table), and the resource id ONLY when the answer showed it to the caller (a 2xx on an instance route, or
 * the Location of a create): a refused or hidden read (403/404) names the type alone. Outcome: 2xx/3xx allowed (0),
 * 4xx denied (4), 5xx error (8), with the status and the OperationOutcome's issue code as the reason (the
 * diagnostics only for 401/403, which are our own security messages: validation diagnostics may quote data).
 * Never a body, a query string or a header.
 *
 * Cost on the request path: `record` (one stdout line, functions/audit/index.ts) plus a substring test of the body;
 * a body is parsed only when it is an error (a small OperationOutcome) or a Bundle with withheld entries.
 */
import { FHIR_ID_PATTERN, isFhirId } from '../../contract/fhir-id';
import { ROUTES, type Interaction } from '../../contract/routes';
import type { HttpRequest, HttpResponse } from '../http';
import { record, type AuditInput } from './index';

const FHIR_ROUTES = new Map(ROUTES.filter((r) => r.fhir).map((r) => [`${r.method} ${r.path}`, r.fhir!]));

interface Issue {
  code?: string;
  diagnostics?: string;
}

/** Records the request's AuditEvent(s). Never throws: the audit must not fail the request. */
export function auditFhirRequest(request: HttpRequest, response: HttpResponse): void {
  try {
    const route = FHIR_ROUTES.get(`${request.method} ${request.route}`);
    const status = response.statusCode;
    const base: AuditInput = {
      kind: 'access',
      outcome: status < 400 ? 'allowed' : status < 500 ? 'denied' : 'error',
      clientId: request.authorizer?.clientId,
      patient: request.authorizer?.patient || undefined,
      interaction: route?.interaction,
      resourceType: route?.type ?? typeOf(request.path),
      requestId: request.requestId || undefined,
      sourceIp: request.sourceIp,
      source: 'fhir',
    };
    if (status < 300) {
      const id = visibleId(request, response, route?.interaction);
      if (id) base.resourceId = id;
    } else if (status >= 400) {
      base.reason = reasonOf(status, firstIssue(response.body));
      // The service answers 404 for what is outside the caller's compartment, so as not to reveal that it exists.
      if (status === 404 && base.patient) base.reason += ` (absent, or outside the compartment of Patient/${base.patient})`;
    }
    record(base);
    if (status === 200 && response.body.includes('"mode":"outcome"')) {
      for (const issue of withheldEntries(response.body)) {
        record({ ...base, outcome: 'denied', reason: `search entry withheld: ${describe(issue)}` });
      }
    }
  } catch {
    // An unreadable body or a sink failure: the request's answer stands (the log line of the request remains).
  }
}

/** The id in a Location header (`.../Type/id/_history/vid`). */
const LOCATION_ID = new RegExp(`/(${FHIR_ID_PATTERN})/_history/[^/]+$`);

/** The id the caller was shown: the instance of the route, or the new resource of a create (its Location). */
function visibleId(request: HttpRequest, response: HttpResponse, interaction: Interaction | undefined): string | undefined {
  if (interaction === 'create') {
    const location = response.headers.Location ?? response.headers.location;
    return location ? LOCATION_ID.exec(location)?.[1] : undefined;
  }
  if (interaction === 'search-type') return undefined;
  const id = request.pathParameters.id;
  return isFhirId(id) ? id : undefined;
}

function reasonOf(status: number, issue: Issue | undefined): string {
  const detail = issue ? (status === 401 || status === 403 ? describe(issue) : (issue.code ?? '')) : '';
  return detail ? `HTTP ${status}: ${detail}` : `HTTP ${status}`;
}

function describe(issue: Issue): string {
  return [issue.code, issue.diagnostics].filter(Boolean).join(': ');
}

function firstIssue(body: string): Issue | undefined {
  if (!body.startsWith('{')) return undefined;
  try {
    const outcome = JSON.parse(body) as { resourceType?: string; issue?: Issue[] };
    return outcome.resourceType === 'OperationOutcome' ? outcome.issue?.[0] : undefined;
  } catch {
    return undefined;
  }
}

/** The first issue of each OperationOutcome entry with `search.mode = 'outcome'`. */
function withheldEntries(body: string): Issue[] {
  const bundle = JSON.parse(body) as { entry?: Array<{ search?: { mode?: string }; resource?: { issue?: Issue[] } }> };
  return (bundle.entry ?? []).filter((e) => e.search?.mode === 'outcome').map((e) => e.resource?.issue?.[0] ?? {});
}

/** A request outside the route table (the local gateway and the function also see concrete paths). */
function typeOf(path: string): string | undefined {
  const segment = path.split('/')[2];
  return segment && /^[A-Z][A-Za-z]{0,63}$/.test(segment) ? segment : undefined;
}
