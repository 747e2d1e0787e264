/**
 * Test fixture: RSA keys and hand-made JWTs (node:crypto only), to attack the authorizer with tokens that a real
 * token service would never issue.
 */
import { createHmac, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import type { Jwks } from 'aws-jwt-verify/jwk';

export interface TestKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** The public key as a JWK (kty, n, e, kid, alg RS256, use sig). */
  jwk: Record<string, string>;
}

export function makeKey(kid: string): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const { n, e } = publicKey.export({ format: 'jwk' }) as { n: string; e: string };
  return { kid, privateKey, publicKey, jwk: { kty: 'RSA', n, e, kid, alg: 'RS256', use: 'sig' } };
}

export function jwksOf(...keys: TestKey[]): Jwks {
  return { keys: keys.map((k) => k.jwk) } as unknown as Jwks;
}

const b64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

export function encodeSegment(value: unknown): string {
  return b64url(JSON.stringify(value));
}

/** Signs header.payload with RSA PKCS#1 v1.5 (RS256 / RS384 / RS512 by `hash`). */
export function signRsa(header: object, payload: object, key: KeyObject, hash = 'sha256'): string {
  const input = `${encodeSegment(header)}.${encodeSegment(payload)}`;
  return `${input}.${sign(hash, Buffer.from(input), key).toString('base64url')}`;
}

/** HS256 with the given secret (the classic "public key as HMAC secret" confusion attack). */
export function signHs256(header: object, payload: object, secret: string | Buffer): string {
  const input = `${encodeSegment(header)}.${encodeSegment(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

export interface ClaimsInput {
  iss: string;
  aud: string | string[];
  scope?: string;
  client_id?: string;
  patient?: string;
  [claim: string]: unknown;
}

/** RFC 9068 claims as the token service issues them, valid for an hour from now. */
export function claims(input: ClaimsInput, now = Math.floor(Date.now() / 1000)): Record<string, unknown> {
  const clientId = input.client_id ?? 'test-client';
  return { sub: clientId, client_id: clientId, iat: now, exp: now + 3600, jti: randomUUID(), ...input };
}

/** A token as the token service issues it: header `{alg: RS256, typ: at+jwt, kid}`. */
export function goodToken(key: TestKey, payload: Record<string, unknown>, header: Record<string, unknown> = {}): string {
  return signRsa({ alg: 'RS256', typ: 'at+jwt', kid: key.kid, ...header }, payload, key.privateKey);
}
