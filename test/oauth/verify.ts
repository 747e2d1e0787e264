/** Test helper: verifies an access token as a resource server would, with aws-jwt-verify over a given JWKS. */
import { JwtVerifier } from 'aws-jwt-verify';
import type { Jwks } from 'aws-jwt-verify/jwk';
import type { JwtPayload } from 'aws-jwt-verify/jwt-model';

export async function verifyAccessToken(
  token: string,
  jwks: { keys: readonly object[] },
  expected: { issuer: string; audience: string },
): Promise<JwtPayload> {
  const verifier = JwtVerifier.create({
    issuer: expected.issuer,
    audience: expected.audience,
    jwksUri: `${expected.issuer}/.well-known/jwks.json`,
    customJwtCheck: ({ header }) => {
      if (header.typ !== 'at+jwt') throw new Error(`typ is ${String(header.typ)}, not at+jwt`);
      if (header.alg !== 'RS256') throw new Error(`alg is ${String(header.alg)}, not RS256`);
    },
  });
  verifier.cacheJwks(jwks as unknown as Jwks);
  return verifier.verify(token);
}

/** The decoded header and payload of a JWT, unverified. */
export function decodeJwt(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [header, payload] = token.split('.');
  const part = (s: string | undefined) => JSON.parse(Buffer.from(s ?? '', 'base64url').toString('utf8'));
  return { header: part(header), payload: part(payload) };
}
