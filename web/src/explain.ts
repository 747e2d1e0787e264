/**
 * A refused call in plain words: the status, what the WWW-Authenticate header says (RFC 6750 §3), the
 * OperationOutcome's diagnostics, and, for a 403, which scope the token lacks according to the server's rules.
 */
import type { Interaction } from '../../contract/routes';
import type { ApiResponse } from './api';
import { refusalReason, type ResourceType } from './access';
import type { Access } from '../../functions/scopes/permissions';
import { h } from './dom';

/** The auth-params of a WWW-Authenticate challenge: `Bearer realm="x", error="y"` -> {scheme, realm, error}. */
export function parseChallenge(value: string): Record<string, string> {
  const params: Record<string, string> = {};
  const scheme = /^\s*([A-Za-z]+)/.exec(value);
  if (scheme) params.scheme = scheme[1]!;
  for (const m of value.matchAll(/([A-Za-z_]+)="((?:[^"\\]|\\.)*)"/g)) params[m[1]!] = m[2]!.replace(/\\(.)/g, '$1');
  return params;
}

const ERRORS: Record<string, string> = {
  invalid_token: 'the token is missing, expired, malformed, or its signature does not verify: the API did not accept it at all',
  insufficient_scope: 'the token is valid, but its scopes do not allow this call',
  invalid_request: 'the request itself is malformed',
};

/** The interaction as a verb: `search-type` -> search, `history-instance` -> read the history of. */
const verb = (interaction: Interaction) => (interaction === 'search-type' ? 'search' : interaction === 'history-instance' ? 'read the history of' : interaction === 'vread' ? 'read' : interaction);

export interface CallContext {
  type?: ResourceType;
  interaction?: Interaction;
  access?: Access;
  /** The page found the token's signature invalid. */
  signatureBad?: boolean;
}

export function diagnosticsOf(body: unknown): string[] {
  const issues = (body as { resourceType?: string; issue?: Array<{ severity?: string; diagnostics?: string; expression?: string[] }> })?.issue;
  if (!Array.isArray(issues)) return [];
  return issues.map((i) => [i.severity, i.expression?.join(', '), i.diagnostics].filter(Boolean).join(': '));
}

/** The sentence a person reads first. */
export function headline(response: ApiResponse, ctx: CallContext): string {
  if (response.status === 401) {
    return ctx.signatureBad
      ? 'The API refused this token (401): its signature does not verify, which this page found too. A token cannot be edited without the signing key.'
      : 'The API refused this token (401): it is missing, expired or invalid. Get a new token.';
  }
  if (response.status === 403) {
    const reason = ctx.access && ctx.type && ctx.interaction ? refusalReason(ctx.access, ctx.type, ctx.interaction) : undefined;
    const challenge = parseChallenge(response.headers.get('WWW-Authenticate') ?? '');
    if (challenge.error === 'insufficient_scope') {
      return `This token has no scope for ${ctx.type ?? 'this resource'} that lets it ${ctx.interaction ? verb(ctx.interaction) : 'make this call'}.${reason ? ` ${reason}` : ''}`;
    }
    return `The FHIR function refused it (403) after reading the data: ${diagnosticsOf(response.body).join(' ') || 'forbidden'}`;
  }
  return `${response.status} ${response.statusText}`;
}

/** The refusal panel: headline, WWW-Authenticate in plain words, the OperationOutcome. */
export function refusalPanel(response: ApiResponse, ctx: CallContext): HTMLElement {
  const header = response.headers.get('WWW-Authenticate');
  const challenge = header ? parseChallenge(header) : undefined;
  const diagnostics = diagnosticsOf(response.body);
  return h(
    'div',
    { class: 'refusal', role: 'alert', 'data-status': String(response.status) },
    h('h3', {}, `${response.status} ${response.statusText || (response.status === 401 ? 'Unauthorized' : response.status === 403 ? 'Forbidden' : '')} — ${response.method} ${new URL(response.url).pathname}`),
    h('p', { class: 'headline' }, headline(response, ctx)),
    header
      ? h(
          'p',
          {},
          'WWW-Authenticate: ',
          h('code', {}, header),
          challenge?.error ? ` — ${ERRORS[challenge.error] ?? challenge.error}${challenge.realm ? ` (realm "${challenge.realm}")` : ''}.` : '',
        )
      : h('p', {}, 'No WWW-Authenticate header: the refusal came from the FHIR function, not from the token check.'),
    diagnostics.length > 0 && h('p', {}, 'OperationOutcome: '),
    diagnostics.length > 0 && h('ul', { class: 'issues' }, ...diagnostics.map((d) => h('li', {}, d))),
  );
}
