/**
 * The checks every verifier of this API's access tokens applies beyond aws-jwt-verify's own (the authorizer's
 * functions/authorizer/verifier.ts and the token function's jwks-verifier.ts), and the claims they return. No
 * JWKS cache here, so that a bundle importing these checks takes only what it uses.
 */
import { JwtBaseError } from 'aws-jwt-verify/error';
import type { JwtHeader, JwtPayload } from 'aws-jwt-verify/jwt-model';
import { NAMED_GRANTS_CLAIM, isFhirId, parseGrants } from '../scopes/permissions';
import { JwksUnavailableError, TokenRejectedError } from './errors';

/** The claims the API uses, from a verified token. */
export interface VerifiedToken {
  clientId: string;
  /** The `scope` claim ('' when absent). */
  scope: string;
  patient?: string;
  subject?: string;
  /** The `ccri_grants` claim: what the token's named scopes granted at issuance (`formatGrants` form). */
  namedGrants?: string;
  /** `iat` and `exp` (epoch s), and the `jti` when present: for revocation and introspection. */
  iat: number;
  exp: number;
  jti?: string;
}

const ACCEPTED_TYP = new Set(['at+jwt', 'application/at+jwt']);

/** Header checks done before any key lookup, so that a token we would refuse anyway never triggers a JWKS fetch. */
export function checkHeader(header: JwtHeader): void {
  if (header.alg !== 'RS256') throw new TokenRejectedError(`alg ${JSON.stringify(header.alg)} is not RS256`);
  if (typeof header.typ !== 'string' || !ACCEPTED_TYP.has(header.typ.toLowerCase())) {
    throw new TokenRejectedError(`typ ${JSON.stringify(header.typ)} is not at+jwt`);
  }
  if (typeof header.kid !== 'string' || header.kid.length === 0) throw new TokenRejectedError('no kid');
  // RFC 7515 §4.1.11: a recipient MUST refuse a JWS with a critical extension it does not understand; this API
  // defines none, so any `crit` is refused.
  if ('crit' in header) throw new TokenRejectedError('crit header parameter');
}

/**
 * Each segment must be canonical base64url (RFC 7515 §2, RFC 4648 §3.5): no padding, and the unused low bits of the
 * last character zero. Otherwise one token has many spellings that decode to the same bytes and verify alike (16 for
 * an RS256 signature), each a separate API Gateway cache key and authorizer invocation.
 */
export function checkCanonical(token: string): void {
  // Only the last character of a segment can carry unused bits ('=' and foreign characters never get past
  // parseBearer's pattern, and verification refuses them anyway): O(1) per segment, no decoding.
  let end = token.length;
  for (let i = 0; i < 3; i++) {
    const start = token.lastIndexOf('.', end - 1) + 1;
    const length = end - start;
    const unusedBits = [0, -1, 4, 2][length % 4]!;
    const last = length > 0 ? BASE64URL.indexOf(token[end - 1]!) : 0;
    if (unusedBits < 0 || last < 0 || (unusedBits > 0 && (last & ((1 << unusedBits) - 1)) !== 0)) {
      throw new TokenRejectedError('a segment is not canonical base64url');
    }
    end = start - 1;
    if (end < 0) break;
  }
}

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Claim checks beyond aws-jwt-verify's (which checks exp/nbf only when present, and iss/aud). */
export function checkClaims(payload: JwtPayload, graceSeconds: number): void {
  if (typeof payload.exp !== 'number') throw new TokenRejectedError('no exp');
  if (typeof payload.iat !== 'number') throw new TokenRejectedError('no iat');
  // Issued in the future (beyond the clock skew): not a token this issuer signed in good order.
  if (payload.iat > Date.now() / 1000 + graceSeconds) throw new TokenRejectedError('iat is in the future');
  if (typeof payload.client_id !== 'string' || payload.client_id.length === 0 || payload.client_id.length > 256) {
    throw new TokenRejectedError('no client_id');
  }
  if (payload.scope !== undefined && typeof payload.scope !== 'string') throw new TokenRejectedError('scope is not a string');
  if (payload.patient !== undefined && !isFhirId(payload.patient)) throw new TokenRejectedError('patient is not a FHIR id');
  const named = payload[NAMED_GRANTS_CLAIM];
  if (named !== undefined) {
    const parsed = typeof named === 'string' && named.length <= 4096 ? parseGrants(named) : undefined;
    if (!parsed || Object.keys(parsed.patient).length > 0) throw new TokenRejectedError(`${NAMED_GRANTS_CLAIM} is malformed`);
  }
}

/** The claims of a verified payload. */
export function verifiedFrom(payload: JwtPayload): VerifiedToken {
  const verified: VerifiedToken = {
    clientId: payload.client_id as string,
    scope: payload.scope ?? '',
    iat: payload.iat as number,
    exp: payload.exp as number,
  };
  if (typeof payload.jti === 'string') verified.jti = payload.jti;
  if (typeof payload.patient === 'string') verified.patient = payload.patient;
  if (typeof payload.sub === 'string') verified.subject = payload.sub;
  const named = payload[NAMED_GRANTS_CLAIM];
  if (typeof named === 'string' && named !== '') verified.namedGrants = named;
  return verified;
}

/** Any error of verification as what the caller answers: ours pass through, the library's become a refusal. */
export function refusal(err: unknown): Error {
  if (err instanceof TokenRejectedError || err instanceof JwksUnavailableError) return err;
  if (err instanceof JwtBaseError) return new TokenRejectedError(`${err.constructor.name}: ${err.message.slice(0, 200)}`);
  // Anything else thrown while verifying (e.g. a crypto error on a malformed key or signature) is still about this
  // token: refuse it rather than fail the request.
  return new TokenRejectedError(`verification error: ${err instanceof Error ? err.name : typeof err}`);
}
