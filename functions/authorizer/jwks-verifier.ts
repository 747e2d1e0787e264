/**
 * A verifier of this API's access tokens for the token function (revocation and introspection of the tokens it
 * issued): the same checks as the authorizer's (token-claims.ts), with aws-jwt-verify's `verifyJwtSync` against the
 * API's JWKS, fetched over HTTP once and again only for an unknown `kid` (at most every `penaltySeconds`).
 *
 * Why not the authorizer's verifier (verifier.ts): its JwtVerifier and JWKS cache classes are most of the
 * library's size, and the token function's bundle has a budget (docs/benchmarks.md P1: 1.2x of its SDK-only floor).
 * The token function verifies a token only on /oauth2/revoke and /oauth2/introspect, so a plain fetch-and-keep is
 * enough; the authorizer, which verifies on every cache miss, keeps the library's cache and penalty box.
 */
import { decomposeUnverifiedJwt } from 'aws-jwt-verify/jwt';
import { isJwks, type Jwks } from 'aws-jwt-verify/jwk';
import { verifyJwtSync } from 'aws-jwt-verify/jwt-verifier';
import { MAX_TOKEN_LENGTH } from './bearer';
import { JwksUnavailableError, TokenRejectedError } from './errors';
import { checkCanonical, checkClaims, checkHeader, refusal, verifiedFrom } from './token-claims';
import { defaultJwksUri, type TokenVerifier } from './verifier';

export interface JwksVerifierOptions {
  /** Default `<issuer>/.well-known/jwks.json`. */
  jwksUri?: (issuer: string) => string;
  fetchTimeoutMs?: number;
  graceSeconds?: number;
  /** Seconds before the JWKS is fetched again after a fetch (unknown kid) or a failure. Default 10. */
  penaltySeconds?: number;
}

const MAX_JWKS_BYTES = 64 * 1024;

export function createJwksTokenVerifier(options: JwksVerifierOptions = {}): TokenVerifier {
  const graceSeconds = options.graceSeconds ?? 60;
  const penaltyMs = (options.penaltySeconds ?? 10) * 1000;
  const uriOf = options.jwksUri ?? defaultJwksUri;
  const held = new Map<string, { jwks?: Jwks; fetchedAt: number }>();

  async function fetchJwks(uri: string): Promise<Jwks> {
    try {
      const response = await fetch(uri, { signal: AbortSignal.timeout(options.fetchTimeoutMs ?? 3000), headers: { Accept: 'application/json' } });
      if (response.status !== 200) throw new Error(`status ${response.status}`);
      const text = await response.text();
      if (text.length > MAX_JWKS_BYTES) throw new Error('JWKS too large');
      const jwks = JSON.parse(text) as Jwks;
      if (!isJwks(jwks)) throw new Error('the document is not a JWKS');
      return jwks;
    } catch (err) {
      throw new JwksUnavailableError(uri, err instanceof Error ? err.message : String(err));
    }
  }

  /** The JWKS holding `kid`: the one held, else a fresh one unless one was fetched within the penalty. */
  async function jwksFor(uri: string, kid: string): Promise<Jwks> {
    const entry = held.get(uri);
    if (entry?.jwks?.keys.some((k) => k.kid === kid)) return entry.jwks;
    if (entry && Date.now() - entry.fetchedAt < penaltyMs) {
      if (entry.jwks) return entry.jwks; // the kid is unknown: verification refuses it
      throw new JwksUnavailableError(uri, 'a recent fetch failed; waiting before the next attempt');
    }
    held.set(uri, { jwks: entry?.jwks, fetchedAt: Date.now() });
    const jwks = await fetchJwks(uri);
    held.set(uri, { jwks, fetchedAt: Date.now() });
    return jwks;
  }

  return {
    async verify(token, expected) {
      if (typeof token !== 'string' || token.length === 0) throw new TokenRejectedError('empty token');
      if (token.length > MAX_TOKEN_LENGTH) throw new TokenRejectedError('token too long');
      try {
        checkCanonical(token);
        const { header } = decomposeUnverifiedJwt(token);
        checkHeader(header);
        const jwks = await jwksFor(uriOf(expected.issuer), header.kid!);
        const payload = verifyJwtSync(token, jwks, {
          issuer: expected.issuer,
          audience: expected.audience,
          graceSeconds,
          customJwtCheck: ({ header: h, payload: p }) => {
            checkHeader(h);
            checkClaims(p, graceSeconds);
          },
        });
        return verifiedFrom(payload);
      } catch (err) {
        throw refusal(err);
      }
    },
  };
}
