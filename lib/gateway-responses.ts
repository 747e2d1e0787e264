/**
 * The responses API Gateway itself gives (before or instead of a function): 401 and 403 from the authorizer,
 * unknown routes, oversize bodies, throttling and the defaults. Plain data used by the CDK stack
 * (GatewayResponses) and by the local gateway, so both answer the same. Bodies are FHIR OperationOutcomes; the
 * `$context.*` variables are filled in by API Gateway (and by the local gateway the same way).
 *
 * RFC 6750 §3: 401 carries `WWW-Authenticate: Bearer realm=...` with `error="invalid_token"`, 403 carries
 * `error="insufficient_scope"`. API Gateway answers 401 both when the Authorization header is missing (it does not
 * call a TOKEN authorizer then) and when the authorizer rejects the token, with one UNAUTHORIZED response that
 * cannot tell the two apart; we keep `error="invalid_token"` on it (see the README, "401 and 403").
 */

export const REALM = 'ccri-fhir';

export interface GatewayResponseSpec {
  /** The API Gateway response type, e.g. UNAUTHORIZED. */
  type: string;
  /** The status to answer with; absent on the DEFAULT_* responses, which keep the status of the error they cover. */
  statusCode?: number;
  headers: Record<string, string>;
  /** The body template (JSON), with `$context.*` variables. */
  body: string;
}

function outcome(code: string, diagnostics: string): string {
  return JSON.stringify({
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'error', code, diagnostics }],
  });
}

const FHIR_JSON = { 'Content-Type': 'application/fhir+json; charset=utf-8' };

export const GATEWAY_RESPONSES: readonly GatewayResponseSpec[] = [
  {
    type: 'UNAUTHORIZED',
    statusCode: 401,
    headers: { ...FHIR_JSON, 'WWW-Authenticate': `Bearer realm="${REALM}", error="invalid_token"` },
    body: outcome(
      'login',
      'Authentication required: send a valid, unexpired access token from POST /oauth2/token as "Authorization: Bearer <token>".',
    ),
  },
  {
    type: 'ACCESS_DENIED',
    statusCode: 403,
    headers: { ...FHIR_JSON, 'WWW-Authenticate': `Bearer realm="${REALM}", error="insufficient_scope"` },
    body: outcome(
      'forbidden',
      'Insufficient scope: the access token does not grant $context.httpMethod $context.resourcePath.',
    ),
  },
  {
    type: 'MISSING_AUTHENTICATION_TOKEN',
    statusCode: 404,
    headers: FHIR_JSON,
    body: outcome('not-supported', 'No such route: this server does not serve that method on that path.'),
  },
  {
    type: 'REQUEST_TOO_LARGE',
    statusCode: 413,
    headers: FHIR_JSON,
    body: outcome('too-costly', 'The request body is too large.'),
  },
  {
    type: 'THROTTLED',
    statusCode: 429,
    headers: { ...FHIR_JSON, 'Retry-After': '1' },
    body: outcome('throttled', 'Too many requests: slow down and retry later.'),
  },
  {
    type: 'AUTHORIZER_FAILURE',
    statusCode: 503,
    headers: { ...FHIR_JSON, 'Retry-After': '1' },
    body: outcome('transient', 'The authorization service is temporarily unavailable: retry later.'),
  },
  {
    type: 'AUTHORIZER_CONFIGURATION_ERROR',
    statusCode: 503,
    headers: { ...FHIR_JSON, 'Retry-After': '1' },
    body: outcome('transient', 'The authorization service is temporarily unavailable: retry later.'),
  },
  {
    type: 'DEFAULT_4XX',
    headers: FHIR_JSON,
    // messageString is the message as a quoted, escaped JSON string: a message with quotes cannot break the body.
    body: outcome('invalid', '@MESSAGE@').replace('"@MESSAGE@"', '$context.error.messageString'),
  },
  {
    type: 'DEFAULT_5XX',
    headers: FHIR_JSON,
    body: outcome('exception', 'The service failed to answer: retry later.'),
  },
];

export function gatewayResponse(type: string): GatewayResponseSpec {
  const spec = GATEWAY_RESPONSES.find((r) => r.type === type);
  if (!spec) throw new Error(`no gateway response ${type}`);
  return spec;
}
