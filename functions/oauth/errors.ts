/**
 * The token endpoint's errors: RFC 6749 §5.2 (https://www.rfc-editor.org/rfc/rfc6749#section-5.2), plus
 * `temporarily_unavailable` (RFC 6749 §4.1.2.1, used here for a dependency outage: DynamoDB, KMS).
 *
 * Each error carries what the client sees: the HTTP status, the `error` code, a safe `error_description` and any
 * extra response headers. `toOAuthError` is the edge of this protocol (functions/errors.ts): it turns any error into
 * the OAuthError the client sees, a store outage into 503 `temporarily_unavailable`, anything else into a 500
 * `server_error` that hides the details. The reason a request was refused that the client must not see (e.g. unknown
 * client vs wrong secret) goes to the log only.
 */
import { DEFAULT_RETRY_AFTER_SECONDS, HttpError, StoreUnavailableError } from '../errors';

/** The RFC 6749 §5.2 error codes this server emits, plus `temporarily_unavailable`. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'temporarily_unavailable'
  | 'server_error';

/** The realm named in `WWW-Authenticate` when client authentication fails. */
export const CLIENT_AUTH_REALM = 'ccri';

/** The base of every OAuth error: `instanceof OAuthError` tells a client-facing error from an unexpected one. */
export class OAuthError extends HttpError {
  override readonly name: string = 'OAuthError';

  constructor(
    /** HTTP status of the response. */
    readonly statusCode: number,
    /** The RFC 6749 `error` code. */
    readonly error: OAuthErrorCode,
    /** Human-readable `error_description`, safe to show the client (no secrets, no internal detail). */
    readonly description: string,
    /** Extra response headers (e.g. `WWW-Authenticate`, `Retry-After`). */
    readonly headers: Readonly<Record<string, string>> = {},
    options?: { cause?: unknown },
  ) {
    super(`${error}: ${description}`, options);
  }
}

/** 400: a parameter is missing, repeated, malformed, or the request is otherwise not a valid token request. */
export class InvalidRequestError extends OAuthError {
  override readonly name = 'InvalidRequestError';
  constructor(description: string, statusCode = 400) {
    super(statusCode, 'invalid_request', description);
  }
}

/**
 * 401: client authentication failed (unknown client, wrong secret, no authentication, unsupported method).
 * RFC 6749 §5.2: the response carries `WWW-Authenticate` naming the scheme the client should use.
 */
export class InvalidClientError extends OAuthError {
  override readonly name: string = 'InvalidClientError';
  constructor(
    description = 'Client authentication failed.',
    /** Why, for the log only (e.g. "unknown client" vs "wrong secret", which the client must not tell apart). */
    readonly reason: string = description,
  ) {
    super(401, 'invalid_client', description, { 'WWW-Authenticate': `Basic realm="${CLIENT_AUTH_REALM}"` });
  }
}

/**
 * 401 `invalid_client` for presented credentials that were checked and rejected (unknown client, wrong or expired
 * secret): what counts as a failed attempt for the failed-authentication limiter (throttle.ts).
 */
export class WrongCredentialsError extends InvalidClientError {
  override readonly name: string = 'WrongCredentialsError';
}

/**
 * 429: too many failed client authentications from this client id or this source address (throttle.ts).
 *
 * Why 429 with `error: invalid_client`: RFC 6749 §5.2 has no code for throttling; `invalid_client` is the registered
 * code for what went wrong (client authentication keeps failing), so OAuth libraries still parse the body, and HTTP
 * 429 with `Retry-After` (RFC 6585 §4) tells any HTTP client to back off for that long. Not `temporarily_unavailable`
 * (a server outage, defined for the authorization endpoint; clients retry it blindly) nor `slow_down` (RFC 8628 device
 * flow polling). The description is the same whether the client id exists or not.
 */
export class TooManyFailedAuthenticationsError extends OAuthError {
  override readonly name = 'TooManyFailedAuthenticationsError';
  constructor(
    retryAfterSeconds: number,
    /** Which key is locked, for the log only. */
    readonly reason: string,
  ) {
    super(
      429,
      'invalid_client',
      `Too many failed client authentications from this client or address; retry after ${retryAfterSeconds} seconds.`,
      { 'Retry-After': String(retryAfterSeconds) },
    );
  }
}

/** 400: the authenticated client may not use this grant type. */
export class UnauthorizedClientError extends OAuthError {
  override readonly name = 'UnauthorizedClientError';
  constructor(description: string) {
    super(400, 'unauthorized_client', description);
  }
}

/** 400: a `grant_type` other than `client_credentials`. */
export class UnsupportedGrantTypeError extends OAuthError {
  override readonly name = 'UnsupportedGrantTypeError';
  constructor(description = 'Only grant_type=client_credentials is supported.') {
    super(400, 'unsupported_grant_type', description);
  }
}

/** 400: the requested scope is malformed or exceeds the scope registered for the client. */
export class InvalidScopeError extends OAuthError {
  override readonly name = 'InvalidScopeError';
  constructor(description: string) {
    super(400, 'invalid_scope', description);
  }
}

/** Seconds a client should wait before retrying after a dependency outage. */
export const RETRY_AFTER_SECONDS = DEFAULT_RETRY_AFTER_SECONDS;

/**
 * 503: a dependency (the Clients table, the KMS key) failed or throttled; the client may retry. Stores throw the
 * storage-neutral `StoreUnavailableError`; `toOAuthError` renders it as this.
 */
export class TemporarilyUnavailableError extends OAuthError {
  override readonly name = 'TemporarilyUnavailableError';
  constructor(
    description = 'The service is temporarily unavailable, retry later.',
    options?: { cause?: unknown; retryAfterSeconds?: number },
  ) {
    super(503, 'temporarily_unavailable', description, { 'Retry-After': String(options?.retryAfterSeconds ?? RETRY_AFTER_SECONDS) }, options);
  }
}

/** 500: a bug. The client learns nothing more; the error itself is the `cause`, for the log. */
export class ServerError extends OAuthError {
  override readonly name = 'ServerError';
  constructor(options?: { cause?: unknown }) {
    super(500, 'server_error', 'Internal error.', {}, options);
  }
}

/**
 * THE edge of the OAuth routes: the OAuthError the client sees for any error. OAuthErrors as they are; a store outage
 * (`StoreUnavailableError`) a 503 `temporarily_unavailable` with its Retry-After and the outage as `cause`; anything
 * else a `ServerError` (500) with the bug as `cause`.
 */
export function toOAuthError(err: unknown): OAuthError {
  if (err instanceof OAuthError) return err;
  if (err instanceof StoreUnavailableError) {
    return new TemporarilyUnavailableError(undefined, { cause: err.cause ?? err, retryAfterSeconds: err.retryAfterSeconds });
  }
  return new ServerError({ cause: err });
}

/** The RFC 6749 §5.2 JSON body of an error. */
export function oauthErrorBody(err: OAuthError): { error: OAuthErrorCode; error_description: string } {
  return { error: err.error, error_description: err.description };
}
