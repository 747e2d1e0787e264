/**
 * JWT decoding and RS256 signature verification in the browser (WebCrypto), against the JWKS the API serves.
 * Decoding never trusts the token; verification answers a reason a person can read.
 */
export interface DecodedJwt {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  signingInput: string;
  signature: Uint8Array;
}

export interface Jwk {
  kty: string;
  kid?: string;
  n?: string;
  e?: string;
  alg?: string;
  use?: string;
}

export type Verification = { verified: true; kid: string } | { verified: false; reason: string };

export function base64UrlDecode(part: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(part)) throw new Error('not base64url');
  const b64 = part.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (part.length % 4)) % 4);
  const bin = atob(b64);
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

function jsonPart(part: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(base64UrlDecode(part)));
  } catch {
    throw new Error(`the ${what} is not base64url-encoded JSON`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error(`the ${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

/** Splits and decodes a compact JWS; throws an Error with a readable message when it is not one. */
export function decodeJwt(token: string): DecodedJwt {
  const parts = token.trim().split('.');
  if (parts.length !== 3) throw new Error(`a JWT has 3 dot-separated parts; this has ${parts.length}`);
  const [h, c, s] = parts as [string, string, string];
  const header = jsonPart(h, 'header');
  const claims = jsonPart(c, 'claims part');
  let signature: Uint8Array;
  try {
    signature = base64UrlDecode(s);
  } catch {
    throw new Error('the signature is not base64url');
  }
  return { header, claims, signingInput: `${h}.${c}`, signature };
}

/** Verifies an RS256 JWT against a JWKS with WebCrypto. */
export async function verifyJwt(jwt: DecodedJwt, jwks: { keys?: Jwk[] }): Promise<Verification> {
  if (jwt.header.alg !== 'RS256') return { verified: false, reason: `alg is ${JSON.stringify(jwt.header.alg)}, this API signs RS256 only` };
  const kid = jwt.header.kid;
  const jwk = (jwks.keys ?? []).find((k) => k.kid === kid && k.kty === 'RSA');
  if (typeof kid !== 'string' || !jwk) return { verified: false, reason: `no key with kid ${JSON.stringify(kid)} in the served JWKS` };
  try {
    const key = await crypto.subtle.importKey('jwk', { kty: 'RSA', n: jwk.n, e: jwk.e, alg: 'RS256', ext: true }, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['verify']);
    const ok = await crypto.subtle.verify('RSASSA-PKCS1-v1_5', key, jwt.signature as BufferSource, new TextEncoder().encode(jwt.signingInput));
    return ok ? { verified: true, kid } : { verified: false, reason: 'the signature does not match the header and claims: the token was altered, or signed by another key' };
  } catch (err) {
    return { verified: false, reason: `the key could not be used (${(err as Error).message})` };
  }
}
