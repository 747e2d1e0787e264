/**
 * The Lambda TOKEN authorizer (API Gateway REST): verifies the bearer token, turns its scopes into grants and
 * returns a cache-safe IAM policy plus the context the resource functions re-check. It needs nothing but the JWKS:
 * named scopes arrive already expanded in the token (claim `ccri_grants`, written by the token endpoint), so there
 * is no database client in this function (its bundle stays small and its cold start short).
 *
 * Outcomes, as API Gateway needs them:
 * - a missing, malformed or invalid token: `throw new Error('Unauthorized')`, API Gateway's contract for 401
 *   (gateway response UNAUTHORIZED); the reason is logged, never the token;
 * - a valid token: `{ principalId: client_id, policyDocument, context }`, the policy listing every method ARN the
 *   token may call (functions/scopes/policy.ts), so that the cached result is right on every path; a route it may
 *   not call then gets 403 (gateway response ACCESS_DENIED);
 * - the JWKS cannot be loaded: the error goes through, so API Gateway answers
 *   AUTHORIZER_FAILURE (503 + Retry-After in this stack) and caches nothing. A 401 would tell a client holding a
 *   perfectly good token to throw it away; the outage is ours, and the client should retry.
 */
import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { accessFromClaims, toContext, type AuthorizerContext } from '../scopes/permissions';
import { buildPolicy, parseMethodArn, type MethodArnParts } from '../scopes/policy';
import { record } from '../audit';
import { isRevokedBy } from '../oauth/revocation-list';
import { JwksUnavailableError, TokenRejectedError } from './errors';
import { createRevocationCheck, type RevocationOptions } from './revocations';
import { createTokenVerifier, parseBearer, type TokenVerifier, type VerifiedToken, type VerifierOptions } from './verifier';

export interface AuthorizerConfig {
  /**
   * The expected `iss`. Default: derived from the request's method ARN,
   * `https://<apiId>.execute-api.<region>.amazonaws.com/<stage>`. Set it when clients use a custom domain.
   */
  issuer?: string;
  /** The expected `aud`. Default: issuer + '/STU3'. */
  audience?: string;
  /** Refuse `patient/` scopes on tokens without a bound patient (see functions/scopes/permissions.ts). */
  strictPatientScopes?: boolean;
  /** Verifier settings (JWKS URI, pre-loaded JWKS, fetcher, clock skew). */
  verifier?: VerifierOptions;
  /** A ready verifier (tests); overrides `verifier`. */
  tokenVerifier?: TokenVerifier;
  /** Revocation list settings (revocations.ts); `false` turns the check off (tests of other concerns, benches). */
  revocations?: RevocationOptions | false;
  /** Where refusals (warn) and failures (error) are logged; default `console` (see `AuthorizerLog`). */
  logger?: AuthorizerLog;
}

/**
 * The authorizer's log: the console. Lambda's JSON log format (lib/constructs/function.ts) makes each console line a
 * structured record with its level, timestamp and request id, and filters it by the function's log level; the
 * authorizer logs only refusals and failures, and each refusal also has its audit line (the structured record of
 * who and why). No logging library: Powertools Logger would be 23 KB of this 40 KB bundle (docs/benchmarks.md, P1).
 */
export type AuthorizerLog = Pick<Console, 'warn' | 'error'>;

export type AuthorizerHandler = (event: APIGatewayTokenAuthorizerEvent, context?: unknown) => Promise<APIGatewayAuthorizerResult>;

/**
 * What a token may do is a pure function of the API (from the method ARN) and its claims (scope, patient, and the
 * named scopes' grants the token endpoint wrote into it): tokens of one client share it, so the authorizer works it
 * out (scope parsing, the decision for every route, the policy) once per client, not per request. Bounded.
 */
class DecisionCache {
  private readonly decisions = new Map<string, { grants: string; policyDocument: ReturnType<typeof buildPolicy> }>();
  constructor(private readonly max = 1000) {}

  get(api: MethodArnParts, verified: VerifiedToken, strictPatientScopes: boolean | undefined) {
    if (this.decisions.size >= this.max) this.decisions.clear();
    // Unambiguous without JSON.stringify (per request): ARN parts and the patient (a FHIR id) hold no newline, the
    // scope is length-prefixed, the grants come last.
    const key = `${api.partition}\n${api.region}\n${api.account}\n${api.apiId}\n${api.stage}\n${verified.patient ?? ''}\n${verified.scope.length}\n${verified.scope}\n${verified.namedGrants ?? ''}`;
    let decision = this.decisions.get(key);
    if (!decision) {
      const access = accessFromClaims(verified, { strictPatientScopes });
      decision = { grants: toContext(access).grants, policyDocument: buildPolicy(access, api) };
      this.decisions.set(key, decision);
    }
    const context: AuthorizerContext = { clientId: verified.clientId, scope: verified.scope, grants: decision.grants };
    if (verified.patient !== undefined) context.patient = verified.patient;
    return { context, policyDocument: decision.policyDocument };
  }
}

/**
 * The issuer of a deployment, from a method ARN of its API: `https://<apiId>.execute-api.<region>.amazonaws.com/<stage>`.
 * The method ARN is built by API Gateway, never by the client, so the issuer (and the JWKS URL after it) cannot be
 * chosen by a caller. Undefined for the emulators' placeholder ARNs (SAM CLI: account `123456789012`, API
 * `1234567890`; LocalStack: account `000000000000`): they name no real API, so an issuer derived from them would
 * send the JWKS fetch to some execute-api host on the internet. There ISSUER must be set (docs/local-emulators.md).
 */
export function issuerFromMethodArn(api: MethodArnParts): string | undefined {
  const samCli = api.account === '123456789012' && api.apiId === '1234567890';
  if (samCli || api.account === '000000000000') return undefined;
  const domain = api.partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://${api.apiId}.execute-api.${api.region}.${domain}/${api.stage}`;
}

export function createAuthorizerHandler(config: AuthorizerConfig = {}): AuthorizerHandler {
  const logger = config.logger ?? console;
  const verifier = config.tokenVerifier ?? createTokenVerifier(config.verifier);
  const decisions = new DecisionCache();
  const revocations = config.revocations === false ? undefined : createRevocationCheck(config.revocations);
  const unauthorized = (reason: string, clientId?: string) => {
    logger.warn('request refused: 401', { reason });
    record({ kind: 'access', outcome: 'denied', clientId, reason: `token refused: ${reason}`, source: 'authorizer' });
    return new Error('Unauthorized');
  };

  return async (event) => {
    const api = typeof event?.methodArn === 'string' ? parseMethodArn(event.methodArn) : undefined;
    if (!api) {
      logger.error('authorizer event without a valid methodArn');
      throw new Error('Unauthorized');
    }
    const token = parseBearer(event.authorizationToken);
    if (!token) throw unauthorized('missing or malformed Authorization header (expected "Bearer <token>")');

    const issuer = config.issuer ?? issuerFromMethodArn(api);
    if (!issuer) {
      logger.error('ISSUER is not set and the method ARN is an emulator placeholder: set ISSUER (docs/local-emulators.md)');
      throw new Error('ISSUER not configured');
    }
    const audience = config.audience ?? `${issuer}/STU3`;
    let verified: VerifiedToken;
    try {
      verified = await verifier.verify(token, { issuer, audience });
    } catch (err) {
      if (err instanceof TokenRejectedError) throw unauthorized(err.reason);
      if (err instanceof JwksUnavailableError) {
        logger.error('JWKS unavailable: answering AUTHORIZER_FAILURE', { jwksUri: err.jwksUri, detail: err.detail });
        throw new Error('JWKS unavailable');
      }
      logger.error('token verification failed unexpectedly', { err });
      throw unauthorized('unexpected verification error');
    }

    if (revocations) {
      let index;
      try {
        index = revocations.index(issuer);
        if (index instanceof Promise) index = await index;
      } catch (err) {
        logger.error('revocation list unavailable: answering AUTHORIZER_FAILURE', { detail: (err as Error).message });
        throw new Error('Revocation list unavailable');
      }
      if (isRevokedBy(index, verified)) throw unauthorized('token revoked', verified.clientId);
    }
    const { context, policyDocument } = decisions.get(api, verified, config.strictPatientScopes);
    // An accepted token is not audited here: API Gateway caches this answer per token, so the authorizer sees only
    // cache misses; the functions behind it audit every request they serve (functions/audit/fhir.ts, the admin API).
    // The authorizer audits what only it sees: refused tokens (docs/audit.md).
    return { principalId: verified.clientId, policyDocument, context };
  };
}
