/**
 * Offline verification of the API's access tokens (RFC 9068 JWT profile for OAuth 2.0 access tokens) with
 * aws-jwt-verify, against the JWKS of the token service. On the warm path two steps are done here, through the
 * library's extension points, to keep the authorizer within 2x of one raw RS256 verify (`ApiJwtVerifier`).
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
import { JwtVerifier, type JwtVerifierProperties, type VerifyProperties } from 'aws-jwt-verify/jwt-verifier';
import { createPublicKey, createVerify, type JsonWebKey, type KeyObject } from 'node:crypto';
import {
  JwksNotAvailableInCacheError,
  JwtInvalidSignatureAlgorithmError,
  JwtInvalidSignatureError,
  JwtParseError,
  KidNotFoundInJwksError,
} from 'aws-jwt-verify/error';
import type { Fetcher } from 'aws-jwt-verify/https';
import { SimpleJwksCache, SimplePenaltyBox, assertIsSignatureJwk, isJwks, type Jwk, type Jwks, type JwksCache } from 'aws-jwt-verify/jwk';
import { validateJwtFields, type decomposeUnverifiedJwt } from 'aws-jwt-verify/jwt';
import type { JwtHeader, JwtPayload } from 'aws-jwt-verify/jwt-model';
import { isJsonObject, safeJsonParse, type Json } from 'aws-jwt-verify/safe-json-parse';
import { MAX_TOKEN_LENGTH } from './bearer';
import { JwksUnavailableError, TokenRejectedError } from './errors';
import { checkCanonical, checkClaims, checkHeader, refusal, verifiedFrom, type VerifiedToken } from './token-claims';

export type { Fetcher } from 'aws-jwt-verify/https';
export type { Jwks } from 'aws-jwt-verify/jwk';
export type { VerifiedToken } from './token-claims';

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

type DecomposedJwt = ReturnType<typeof decomposeUnverifiedJwt>;

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** Text from which JSON.parse could make a `__proto__` or `constructor` key (spelt out, or escaped). */
const POLLUTING = /__proto__|constructor|\\/;

/** One segment as the library parses it: the same object, and the same JwtParseError when it is not one. */
function parseSegment(b64: string, what: 'header' | 'payload'): Record<string, Json> {
  const text = Buffer.from(b64, 'base64url').toString('utf8');
  let value: Json;
  try {
    // safeJsonParse deletes `__proto__` and `constructor` keys with a reviver called on every value (a third of the
    // authorizer's time beyond the signature); plain JSON.parse gives the same object when no such key can appear.
    value = POLLUTING.test(text) ? safeJsonParse(text) : (JSON.parse(text) as Json);
  } catch (err) {
    throw new JwtParseError(`Invalid JWT. ${what === 'header' ? 'Header' : 'Payload'} is not a valid JSON object`, err);
  }
  if (!isJsonObject(value)) throw new JwtParseError(`JWT ${what} is not an object`);
  return value;
}

const isOptional = (value: Json | undefined, ok: (v: Json) => boolean) => value === undefined || ok(value);
const isString = (v: Json) => typeof v === 'string';
const isNumber = (v: Json) => Number.isFinite(v);

type Settings = Partial<VerifyProperties>;
type IssuerSettings = JwtVerifierProperties<Settings>;

/**
 * aws-jwt-verify's JwtVerifier with the two steps of its warm path that cost more than they must done here, through
 * its extension points (protected methods). The authorizer runs on every API Gateway cache miss, and the issue's
 * bound is 2x of one raw RS256 verify: the library alone took 1.8x of it (a third of that beyond the signature in
 * taking the token apart, and its signature call 10% above the raw one).
 *
 * 1. Taking the token apart (`getVerifyParameters`): the same checks and results as the library's
 *    `decomposeUnverifiedJwt` (compact form, JSON objects, standard claims of the right types, no
 *    `__proto__`/`constructor` keys), at a third of its cost:
 *    - the header of a signing key is the same in every token: parsed once, kept (a few, bounded) by its base64url
 *      text; a kept header is frozen, and the signature still covers its bytes in every token;
 *    - the payload is parsed by plain `JSON.parse` unless its text could hold a polluting key, which goes through
 *      the library's reviver.
 * 2. The synchronous verification (`verifyDecomposedJwtSync`, the warm path only): RS256 is the one algorithm
 *    (checkHeader, when step 1 first parses the header), so the signature is checked as the bench's floor does it,
 *    one `createVerify('RSA-SHA256')` with the key object and the signature bytes, instead of the library's generic
 *    call (key in an options object, signature as base64 text); the JWK is checked (the library's
 *    `assertIsSignatureJwk`, kty RSA, alg RS256 if given) once, when its key object is made, not per token.
 *
 * The library keeps everything else: the JWKS cache, its fetches and penalty box, the kid lookup
 * (`getCachedJwk`), exp/nbf/iss/aud (`validateJwtFields`), the custom checks, and the whole asynchronous path (a
 * token whose kid the cache does not know yet).
 */
class ApiJwtVerifier extends JwtVerifier<Settings, IssuerSettings, false> {
  private readonly headers = new Map<string, JwtHeader>();
  /** RSA public key per JWK of the cache (a refetched JWKS brings new objects, hence new keys). */
  private readonly keys = new WeakMap<Jwk, KeyObject>();
  private readonly jwks: JwksCache;

  protected constructor(verifyProperties: IssuerSettings | IssuerSettings[], jwksCache: JwksCache) {
    super(verifyProperties, jwksCache);
    this.jwks = jwksCache;
  }

  protected override verifyDecomposedJwtSync(decomposedJwt: DecomposedJwt, jwksUri: string, verifyProperties: Settings): JwtPayload {
    const { header, headerB64, payload, payloadB64, signatureB64 } = decomposedJwt;
    const jwk = this.jwks.getCachedJwk(jwksUri, decomposedJwt);
    const verifier = createVerify('RSA-SHA256');
    verifier.update(`${headerB64}.${payloadB64}`);
    if (!verifier.verify(this.keyOf(jwk), Buffer.from(signatureB64, 'base64url'))) throw new JwtInvalidSignatureError('Invalid signature');
    validateJwtFields(payload, verifyProperties);
    verifyProperties.customJwtCheck?.({ header, payload, jwk });
    return payload;
  }

  private keyOf(jwk: Jwk): KeyObject {
    let key = this.keys.get(jwk);
    if (!key) {
      assertIsSignatureJwk(jwk);
      if (jwk.kty !== 'RSA' || (jwk.alg !== undefined && jwk.alg !== 'RS256')) {
        throw new JwtInvalidSignatureAlgorithmError('JWT signature algorithm not allowed by the JWK', String(jwk.alg ?? jwk.kty), 'RS256');
      }
      key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
      this.keys.set(jwk, key);
    }
    return key;
  }

  protected override getVerifyParameters(jwt: string, verifyProperties?: Partial<Settings>) {
    if (typeof jwt !== 'string' || !COMPACT_JWS.test(jwt)) throw new JwtParseError('JWT string does not consist of exactly 3 parts (header, payload, signature)');
    const first = jwt.indexOf('.');
    const second = jwt.indexOf('.', first + 1);
    const headerB64 = jwt.slice(0, first);
    const payloadB64 = jwt.slice(first + 1, second);
    let header = this.headers.get(headerB64);
    if (!header) {
      header = parseSegment(headerB64, 'header') as JwtHeader;
      if (!isOptional(header.alg, isString) || !isOptional(header.kid, isString)) throw new JwtParseError('JWT header alg or kid is not a string');
      // Our header rules (RS256, at+jwt, a kid, no crit), before the payload, the issuer or any JWKS fetch: a token
      // refused anyway costs nothing more, and a refusal names the header's fault when it has one. A kept header
      // has passed them.
      checkHeader(header);
      if (this.headers.size >= 8) this.headers.clear();
      this.headers.set(headerB64, Object.freeze(header));
    }
    const payload = parseSegment(payloadB64, 'payload') as JwtPayload;
    const aud = payload.aud;
    if (
      !['exp', 'nbf', 'iat'].every((claim) => isOptional(payload[claim], isNumber)) ||
      !['iss', 'sub', 'scope', 'jti'].every((claim) => isOptional(payload[claim], isString)) ||
      !(aud === undefined || typeof aud === 'string' || (Array.isArray(aud) && aud.every(isString)))
    ) {
      throw new JwtParseError('JWT payload has a standard claim of the wrong type');
    }
    const decomposedJwt: DecomposedJwt = { header, headerB64, payload, payloadB64, signatureB64: jwt.slice(second + 1) };
    const config = this.getIssuerConfig(payload.iss);
    // The library spreads the issuer's settings and the call's into a new object per call; without the call's, as
    // here, that is the issuer's settings themselves.
    return { decomposedJwt, jwksUri: config.jwksUri, verifyProperties: (verifyProperties ? { ...config, ...verifyProperties } : config) as Settings & IssuerSettings };
  }
}

/**
 * The warm path: the synchronous verification against the JWKS already in the cache (no promise hops: this is
 * most of the authorizer's time per request). Undefined when the JWKS is not loaded yet or does not know the kid,
 * for the asynchronous path to fetch it (rate limited by the penalty box).
 */
function verifyCachedOrFetch(verifier: ReturnType<typeof ApiJwtVerifier.create>, token: string): JwtPayload | undefined {
  try {
    return verifier.verifySync(token);
  } catch (err) {
    if (err instanceof JwksNotAvailableInCacheError || err instanceof KidNotFoundInJwksError) return undefined;
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
    return ApiJwtVerifier.create(
      {
        issuer: expected.issuer,
        audience: expected.audience,
        jwksUri,
        graceSeconds,
        customJwtCheck: ({ payload }) => checkClaims(payload, graceSeconds),
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
        // Warm path first; a kid the cache does not know yet takes the asynchronous path, which fetches the JWKS
        // (the header was checked when the token was taken apart, so a token refused anyway never triggers one).
        payload = verifyCachedOrFetch(verifier, token) ?? (await verifier.verify(token));
      } catch (err) {
        throw refusal(err);
      }
      return verifiedFrom(payload);
    },
  };
}
