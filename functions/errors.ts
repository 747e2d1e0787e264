/**
 * The error model every function shares (docs/development.md, "Errors"):
 *
 * - `HttpError` is the base of every error a client is meant to see: its HTTP status, a message safe to show, and
 *   extra response headers. Each protocol subclasses it with its own body (`FhirError` carries an OperationOutcome,
 *   functions/fhir/errors.ts; `OAuthError` an RFC 6749 `error` code, functions/oauth/errors.ts) and has ONE edge
 *   that renders any error: `errorResponse` (functions/fhir/http.ts) for the FHIR and admin APIs, `toOAuthError`
 *   (functions/oauth/errors.ts) for the token, revocation, introspection and JWKS routes.
 * - `StoreUnavailableError` is a dependency outage, whatever the store (a DynamoDB table, the KMS key, STS): every
 *   store throws it, every edge renders it as its protocol's 503 with `Retry-After` (an OperationOutcome with issue
 *   code `transient`, or `temporarily_unavailable`). The store's own error stays in `cause`, for the log only.
 * - Anything else is a bug: a 500 that hides the details from the client and logs the error.
 *
 * No imports: domain code and stores throw these without depending on a protocol.
 */

/** The base of every error meant for the client; `instanceof HttpError` tells it from a bug. */
export abstract class HttpError extends Error {
  /** The HTTP status of the response. */
  abstract readonly statusCode: number;
  /** Extra response headers (e.g. `Retry-After`, `WWW-Authenticate`). */
  abstract readonly headers: Readonly<Record<string, string>>;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Seconds a client waits before retrying after an outage, unless the store that failed says otherwise. */
export const DEFAULT_RETRY_AFTER_SECONDS = 5;

/**
 * 503: a store this request depends on was throttled, unreachable or failed (DynamoDB, KMS, STS); the client may
 * retry after `retryAfterSeconds`. Storage-neutral: the same error from every store, rendered by every edge.
 */
export class StoreUnavailableError extends HttpError {
  readonly statusCode = 503;
  readonly headers: Readonly<Record<string, string>>;
  readonly retryAfterSeconds: number;

  constructor(
    message = 'The service is temporarily unavailable, retry later.',
    options: { cause?: unknown; retryAfterSeconds?: number } = {},
  ) {
    super(message, { cause: options.cause });
    this.retryAfterSeconds = options.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS;
    this.headers = { 'Retry-After': String(this.retryAfterSeconds) };
  }
}
