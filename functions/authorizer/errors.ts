/**
 * Authorizer errors. Neither reaches a client as such: the handler turns `TokenRejectedError` into API Gateway's
 * `Unauthorized` (401, gateway response UNAUTHORIZED) and lets `JwksUnavailableError` through as a function error
 * (gateway response AUTHORIZER_FAILURE, which the stack answers with 503 + Retry-After). The reason is logged, never
 * shown (aws-jwt-verify's advice: do not disclose why a token failed).
 */

/** The bearer token is missing, malformed, or fails verification: the client must get a new token (401). */
export class TokenRejectedError extends Error {
  readonly statusCode = 401;
  constructor(
    /** Why, for the log only. Never contains the token. */
    readonly reason: string,
  ) {
    super(`token rejected: ${reason}`);
    this.name = 'TokenRejectedError';
  }
}

/**
 * The JWKS could not be loaded (network, HTTP status, malformed document). Not the token's fault: answered as a
 * transient failure so that clients retry with the same token instead of discarding it.
 */
export class JwksUnavailableError extends Error {
  readonly statusCode = 503;
  constructor(
    readonly jwksUri: string,
    readonly detail: string,
  ) {
    super(`JWKS unavailable at ${jwksUri}: ${detail}`);
    this.name = 'JwksUnavailableError';
  }
}
