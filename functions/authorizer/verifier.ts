/**
 * Offline verification of the API's access tokens (RFC 9068 JWT profile for OAuth 2.0 access tokens) with
 * aws-jwt-verify, against the JWKS of the token service.
 *
 * - The JWKS is fetched once per container from `<issuer>/.well-known/jwks.json` and kept in aws-jwt-verify's
 *   `SimpleJwksCache`; it is fetched again only when a token names a kid the cache does not know (key rotation), and
 *   its penalty box refuses another such fetch for `penaltySeconds` after a kid was not found (no JWKS flood from
 *   tokens with made-up kids). A failed fetch also blocks fetching for `penaltySeconds` (fail fast in an outage).
 * - Accepted: header `alg` RS256 exactly (no `none`, no HS256 "signed with the public key", no other algorithm even
 *   if the library supports it), header `typ` `at+jwt` (RFC 9068 §4: or `application/at+jwt`), a known `kid`, a valid
 *   signature, `iss` and `aud` exactly the expected ones, `exp` present and `nbf` (if any) within `graceSeconds` of
 *   now (default 60), `iat` present and not in the future beyond that skew, no `crit` header, every segment canonical
 *   base64url, `client_id` a non-empty string, `scope` a string if present, `patient` a FHIR id
 *   if present, `ccri_grants` (the named scopes' grants, expanded at issuance) well-formed if present.
 * - Anything else is a `TokenRejectedError` (401). A JWKS that cannot be loaded is a `JwksUnavailableError`.
 */
import { JwtVerifier } from 'aws-jwt-verify/jwt-verifier';
import { JwksNotAvailableInCacheError, JwtBaseError, KidNotFoundInJwksError } from 'aws-jwt-verify/error';
import type { Fetcher } from 'aws-jwt-verify/https';
import { SimpleJwksCache, SimplePenaltyBox, isJwks, type Jwks } from 'aws-jwt-verify/jwk';
import { decomposeUnverifiedJwt } from 'aws-jwt-verify/jwt';
import type { JwtHeader, JwtPayload } from 'aws-jwt-verify/jwt-model';
import { NAMED_GRANTS_CLAIM, isFhirId, parseGrants } from '../scopes/permissions';
import { MAX_TOKEN_LENGTH } from './bearer';
import { JwksUnavailableError, TokenRejectedError } from './errors';

export type { Fetcher } from 'aws-jwt-verify/https';
export type { Jwks } from 'aws-jwt-verify/jwk';

/** The claims the authorizer uses, from a verified token. */
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

/** Where a token must come from and be meant for. */
export interface ExpectedToken {
  /** The exact `iss`: the API's base URL, e.g. `https://abc123.execute-api.eu-west-2.amazonaws.com/prod`. */
  issuer: string;
  /** The exact `aud` (one of the token's audiences): the FHIR base URL, issuer + '/STU3'. */
  audience: string;
}

export interface VerifierOptions {
  /** The JWKS URI; default `<issuer>/.well-known/jwks.json`. */
  jwksUri?: (issuer: string) => string;
  /** A JWKS known in advance (tests, or a JWKS bundled at deploy time): loaded into the cache for every issuer. */
  jwks?: Jwks;
  /** How the JWKS is fetched; default `fetch` (http and https) with `fetchTimeoutMs`. */
  fetcher?: Fetcher;
  /** Default 3000 ms. */
  fetchTimeoutMs?: number;
  /** Allowed clock skew on exp / nbf, seconds. Default 60. */
  graceSeconds?: number;
  /** Seconds before the JWKS is fetched again after an unknown kid or a failed fetch. Default 10. */
  penaltySeconds?: number;
}

export interface TokenVerifier {
  /** @throws TokenRejectedError | JwksUnavailableError */
  verify(token: string, expected: ExpectedToken): Promise<VerifiedToken>;
}

export { MAX_TOKEN_LENGTH, parseBearer } from './bearer';

const ACCEPTED_TYP = new Set(['at+jwt', 'application/at+jwt']);

/** Header checks done before any key lookup, so that a token we would refuse anyway never triggers a JWKS fetch. */
function checkHeader(header: JwtHeader): void {
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
function checkCanonical(token: string): void {
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
function checkClaims(payload: JwtPayload, graceSeconds: number): void {
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

/** The default JWKS fetcher: the runtime's `fetch` (http for `npm start`, https on AWS), with a timeout. */
export class FetchApiFetcher implements Fetcher {
  constructor(private readonly timeoutMs = 3000) {}
  async fetch(uri: string): Promise<ArrayBuffer> {
    const response = await fetch(uri, { signal: AbortSignal.timeout(this.timeoutMs), headers: { Accept: 'application/json' } });
    if (response.status !== 200) throw new Error(`status ${response.status}`);
    return response.arrayBuffer();
  }
}

/**
 * Wraps a fetcher: any failure, or a body that is not a JWKS, becomes a JwksUnavailableError; after a failure the
 * next `penaltySeconds` fail fast without a request.
 */
class GuardedFetcher implements Fetcher {
  private failedAt = new Map<string, number>();
  constructor(
    private readonly inner: Fetcher,
    private readonly penaltyMs: number,
  ) {}
  async fetch(uri: string): Promise<ArrayBuffer> {
    const failedAt = this.failedAt.get(uri);
    if (failedAt !== undefined && Date.now() - failedAt < this.penaltyMs) {
      throw new JwksUnavailableError(uri, 'a recent fetch failed; waiting before the next attempt');
    }
    try {
      const body = await this.inner.fetch(uri);
      const parsed: unknown = JSON.parse(new TextDecoder().decode(body));
      if (!isJwks(parsed as never)) throw new Error('the document is not a JWKS');
      this.failedAt.delete(uri);
      return body;
    } catch (err) {
      this.failedAt.set(uri, Date.now());
      throw err instanceof JwksUnavailableError ? err : new JwksUnavailableError(uri, err instanceof Error ? err.message : String(err));
    }
  }
}

/**
 * The warm path: the synchronous verification against the JWKS already in the cache (no promise hops: this is
 * most of the authorizer's time per request). Undefined when the JWKS is not loaded yet or does not know the kid,
 * for the asynchronous path to fetch it (rate limited by the penalty box).
 */
function verifyCachedOrFetch(verifier: ReturnType<typeof JwtVerifier.create>, token: string): JwtPayload | undefined {
  try {
    return verifier.verifySync(token);
  } catch (err) {
    if (err instanceof JwksNotAvailableInCacheError || err instanceof KidNotFoundInJwksError) return undefined;
    // A refusal: name the header's fault when it has one (our reason is more precise than the library's).
    checkHeader(decomposeUnverifiedJwt(token).header);
    throw err;
  }
}

/** The issuer's JWKS URI: `<issuer>/.well-known/jwks.json`, the token service's public route. */
export function defaultJwksUri(issuer: string): string {
  return `${issuer.replace(/\/+$/, '')}/.well-known/jwks.json`;
}

/**
 * A verifier that keeps one aws-jwt-verify `JwtVerifier` per expected issuer (there is one per deployment) and one
 * JWKS cache for the container.
 */
export function createTokenVerifier(options: VerifierOptions = {}): TokenVerifier {
  const graceSeconds = options.graceSeconds ?? 60;
  const penaltySeconds = options.penaltySeconds ?? 10;
  const jwksUriOf = options.jwksUri ?? defaultJwksUri;
  const jwksCache = new SimpleJwksCache({
    fetcher: new GuardedFetcher(options.fetcher ?? new FetchApiFetcher(options.fetchTimeoutMs), penaltySeconds * 1000),
    penaltyBox: new SimplePenaltyBox({ waitSeconds: penaltySeconds }),
  });
  const verifiers = new Map<string, ReturnType<typeof makeVerifier>>();

  function makeVerifier(expected: ExpectedToken) {
    const jwksUri = jwksUriOf(expected.issuer);
    if (options.jwks) jwksCache.addJwks(jwksUri, options.jwks);
    return JwtVerifier.create(
      {
        issuer: expected.issuer,
        audience: expected.audience,
        jwksUri,
        graceSeconds,
        customJwtCheck: ({ header, payload }) => {
          checkHeader(header);
          checkClaims(payload, graceSeconds);
        },
      },
      { jwksCache },
    );
  }

  return {
    async verify(token, expected) {
      if (typeof token !== 'string' || token.length === 0) throw new TokenRejectedError('empty token');
      if (token.length > MAX_TOKEN_LENGTH) throw new TokenRejectedError('token too long');
      const key = `${expected.issuer}\n${expected.audience}`;
      let verifier = verifiers.get(key);
      if (!verifier) {
        verifier = makeVerifier(expected);
        verifiers.set(key, verifier);
      }
      let payload: JwtPayload;
      try {
        checkCanonical(token);
        // Warm path: one decomposition (the library's); the header is checked in customJwtCheck. Only before a
        // JWKS fetch is the header checked up front, so that a token refused anyway never triggers one.
        let cached = verifyCachedOrFetch(verifier, token);
        if (!cached) {
          checkHeader(decomposeUnverifiedJwt(token).header);
          cached = await verifier.verify(token);
        }
        payload = cached;
      } catch (err) {
        if (err instanceof TokenRejectedError || err instanceof JwksUnavailableError) throw err;
        if (err instanceof JwtBaseError) throw new TokenRejectedError(`${err.constructor.name}: ${err.message.slice(0, 200)}`);
        // Anything else thrown while verifying (e.g. a crypto error on a malformed key or signature) is still about
        // this token: refuse it rather than fail the request.
        throw new TokenRejectedError(`verification error: ${err instanceof Error ? err.name : typeof err}`);
      }
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
    },
  };
}
