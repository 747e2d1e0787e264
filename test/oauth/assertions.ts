/** Test helper: client assertions (RFC 7523) signed with node:crypto, and the public JWK of a key. */
import { createPublicKey, randomUUID, sign, type KeyObject } from 'node:crypto';

export type AssertionAlg = 'RS256' | 'RS384' | 'RS512' | 'ES384';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

export function signAssertion(alg: AssertionAlg, privateKey: KeyObject, header: Record<string, unknown>, payload: Record<string, unknown>): string {
  const input = `${b64({ alg, ...header })}.${b64(payload)}`;
  const hash = { RS256: 'sha256', RS384: 'sha384', RS512: 'sha512', ES384: 'sha384' }[alg];
  const signature = sign(hash, Buffer.from(input), alg.startsWith('ES') ? { key: privateKey, dsaEncoding: 'ieee-p1363' } : privateKey);
  return `${input}.${signature.toString('base64url')}`;
}

/** SMART's claims for a client assertion: iss = sub = client id, aud = token URL, exp in 4 minutes, a fresh jti. */
export function assertionClaims(clientId: string, tokenUrl: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { iss: clientId, sub: clientId, aud: tokenUrl, exp: now + 240, iat: now, jti: randomUUID(), ...overrides };
}

/** The public JWK of a private key, with its kid (and alg). */
export function publicJwk(privateKey: KeyObject, kid: string, alg?: string): Record<string, unknown> {
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' }) as Record<string, unknown>;
  return { ...jwk, kid, use: 'sig', ...(alg ? { alg } : {}) };
}
