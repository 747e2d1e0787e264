/**
 * The seam between the token service and its signing key: an RS256 signer (RSASSA-PKCS1-v1_5 with SHA-256,
 * RFC 7518 §3.3) with two implementations:
 * - `KmsSigner`: the private key never leaves AWS KMS; KMS signs the SHA-256 digest of the JWT signing input.
 * - `LocalRsaSigner`: an RSA-2048 key made with node:crypto, for `npm start` and tests.
 *
 * Every key has a stable `kid` derived from the key, the same wherever it is computed, so that verifiers find the key
 * a token names in the JWKS: a local key's RFC 7638 JWK thumbprint; a KMS key's hash of its ARN (`kmsKeyKid`).
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign as rsaSign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetPublicKeyCommand, SignCommand, type KMSClient } from '@aws-sdk/client-kms';
import { StoreUnavailableError } from '../errors';

/** A public signing key as a JWK (RFC 7517), as the JWKS serves it. */
export interface PublicJwk {
  kty: 'RSA';
  n: string;
  e: string;
  kid: string;
  alg: 'RS256';
  use: 'sig';
}

export interface JwtSigner {
  /** The JWS algorithm of every signature. */
  readonly alg: 'RS256';
  /** The `kid` of the key that signs now. @throws StoreUnavailableError */
  currentKid(): Promise<string>;
  /**
   * The RS256 signature of the JWS signing input (`base64url(header) "." base64url(payload)`).
   * @throws StoreUnavailableError
   */
  sign(signingInput: Uint8Array): Promise<Uint8Array>;
  /**
   * Every key tokens may be verified with: the signing key first, then keys still valid after a rotation.
   * @throws StoreUnavailableError
   */
  publicJwks(): Promise<PublicJwk[]>;
}

/** What the token endpoint signs with: a `JwtSigner` without the JWKS. */
export type TokenSigner = Pick<JwtSigner, 'alg' | 'currentKid' | 'sign'>;

/** The RS256 JWK of an RSA public key, named by its RFC 7638 thumbprint. */
export function publicJwkOf(publicKey: KeyObject): PublicJwk {
  const { kty, n, e } = publicKey.export({ format: 'jwk' });
  if (kty !== 'RSA' || !n || !e) throw new Error(`not an RSA public key: ${kty}`);
  return { kty: 'RSA', n, e, kid: jwkThumbprint({ e, n }), alg: 'RS256', use: 'sig' };
}

/** RFC 7638 §3: base64url(SHA-256 of the required members in lexicographic order, no whitespace). */
export function jwkThumbprint({ e, n }: { e: string; n: string }): string {
  return createHash('sha256').update(JSON.stringify({ e, kty: 'RSA', n })).digest('base64url');
}

/**
 * Signs with an asymmetric AWS KMS key (key spec RSA_2048, usage SIGN_VERIFY): `Sign` with
 * `MessageType: DIGEST`, `SigningAlgorithm: RSASSA_PKCS1_V1_5_SHA_256` over the SHA-256 digest of the signing input
 * (so the message size limit of 4 KB never applies); `KmsSignerWithJwks` below adds `GetPublicKey` for the JWKS.
 *
 * The `kid` of a KMS key is derived from its ARN (`kmsKeyKid`), so that the token function can name the key without
 * reading it: the key policy lets the token function only `kms:Sign` and the JWKS function only `kms:GetPublicKey`.
 *
 * `keyIds`: the first signs and must be the key's ARN; the others (previous keys after a rotation) only appear in
 * `publicJwks()` and may also be key ids or aliases (GetPublicKey answers with the ARN). Any KMS failure (throttling,
 * unavailable, access denied...) is `StoreUnavailableError` (functions/errors.ts).
 *
 * This class only signs (the token function): the token bundle does not carry what the JWKS function needs.
 */
export class KmsSigner implements TokenSigner {
  readonly alg = 'RS256' as const;
  protected readonly keyIds: readonly string[];

  constructor(
    protected readonly kms: KMSClient,
    keyIds: string | readonly string[],
  ) {
    this.keyIds = (typeof keyIds === 'string' ? [keyIds] : keyIds).filter((id) => id !== '');
    if (this.keyIds.length === 0) throw new Error('KmsSigner needs at least one KMS key id');
  }

  /** @throws Error when the signing key is not named by its ARN (a configuration error: see `isKmsKeyArn`). */
  async currentKid(): Promise<string> {
    const arn = this.keyIds[0]!;
    if (!isKmsKeyArn(arn)) throw new Error('the KMS signing key must be named by its key ARN');
    return kmsKeyKid(arn);
  }

  async sign(signingInput: Uint8Array): Promise<Uint8Array> {
    const digest = createHash('sha256').update(signingInput).digest();
    try {
      const { Signature } = await this.kms.send(
        new SignCommand({
          KeyId: this.keyIds[0],
          Message: digest,
          MessageType: 'DIGEST',
          SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256',
        }),
      );
      if (!Signature) throw new Error('KMS Sign returned no signature');
      return Signature;
    } catch (err) {
      throw new StoreUnavailableError(undefined, { cause: err });
    }
  }
}

/**
 * `KmsSigner` and its public keys (`GetPublicKey`), cached for the life of the instance (a Lambda container); a
 * failed lookup is not cached.
 */
export class KmsSignerWithJwks extends KmsSigner implements JwtSigner {
  private readonly publicKeys = new Map<string, Promise<PublicJwk>>();

  async publicJwks(): Promise<PublicJwk[]> {
    const jwks = await Promise.all(this.keyIds.map((keyId) => this.publicJwk(keyId)));
    return jwks.filter((jwk, i) => jwks.findIndex((other) => other.kid === jwk.kid) === i);
  }

  private publicJwk(keyId: string): Promise<PublicJwk> {
    let cached = this.publicKeys.get(keyId);
    if (!cached) {
      cached = this.fetchPublicJwk(keyId);
      this.publicKeys.set(keyId, cached);
      cached.catch(() => this.publicKeys.delete(keyId));
    }
    return cached;
  }

  private async fetchPublicJwk(keyId: string): Promise<PublicJwk> {
    try {
      const { PublicKey, KeySpec, KeyUsage, KeyId } = await this.kms.send(new GetPublicKeyCommand({ KeyId: keyId }));
      if (!PublicKey) throw new Error('KMS GetPublicKey returned no key');
      if (KeyUsage !== undefined && KeyUsage !== 'SIGN_VERIFY') throw new Error(`KMS key usage is ${KeyUsage}`);
      if (KeySpec !== undefined && !KeySpec.startsWith('RSA_')) throw new Error(`KMS key spec is ${KeySpec}`);
      const arn = KeyId ?? keyId;
      if (!isKmsKeyArn(arn)) throw new Error(`KMS GetPublicKey named no key ARN for ${keyId}`);
      const jwk = publicJwkOf(createPublicKey({ key: Buffer.from(PublicKey), format: 'der', type: 'spki' }));
      return { ...jwk, kid: kmsKeyKid(arn) };
    } catch (err) {
      throw new StoreUnavailableError(undefined, { cause: err });
    }
  }
}

/** Whether `keyId` is a KMS key ARN (`arn:aws:kms:<region>:<account>:key/<id>`), not a key id or an alias. */
export function isKmsKeyArn(keyId: string): boolean {
  return /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/.test(keyId);
}

/** The `kid` of a KMS key: base64url(SHA-256(key ARN)), stable for the key and known without reading it. */
export function kmsKeyKid(keyArn: string): string {
  return createHash('sha256').update(keyArn).digest('base64url');
}

/** The file the local signing key is kept in, inside the data dir. */
export const LOCAL_SIGNING_KEY_FILE = 'token-signing-key.pem';

/**
 * Signs with a local RSA-2048 key (for `npm start` and tests). With `dataDir`, the key is read from
 * `<dataDir>/token-signing-key.pem` (PKCS#8 PEM) or made on first use and written there (mode 0600), so tokens
 * stay valid across restarts; without it, the key lives in memory only.
 */
export class LocalRsaSigner implements JwtSigner {
  readonly alg = 'RS256' as const;
  private key: { privateKey: KeyObject; jwk: PublicJwk } | undefined;

  constructor(private readonly options: { dataDir?: string } = {}) {}

  async currentKid(): Promise<string> {
    return this.load().jwk.kid;
  }

  async sign(signingInput: Uint8Array): Promise<Uint8Array> {
    return rsaSign('sha256', signingInput, this.load().privateKey);
  }

  async publicJwks(): Promise<PublicJwk[]> {
    return [this.load().jwk];
  }

  private load(): { privateKey: KeyObject; jwk: PublicJwk } {
    if (!this.key) {
      const privateKey = this.options.dataDir ? loadOrCreateKeyFile(this.options.dataDir) : generateRsaKey();
      this.key = { privateKey, jwk: publicJwkOf(createPublicKey(privateKey)) };
    }
    return this.key;
  }
}

function generateRsaKey(): KeyObject {
  return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
}

function loadOrCreateKeyFile(dataDir: string): KeyObject {
  const file = join(dataDir, LOCAL_SIGNING_KEY_FILE);
  try {
    return createPrivateKey(readFileSync(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(dataDir, { recursive: true });
  const pem = generateRsaKey().export({ format: 'pem', type: 'pkcs8' }) as string;
  try {
    writeFileSync(file, pem, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    // Another process made it first: use theirs, so that every process signs with the same key.
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return createPrivateKey(readFileSync(file, 'utf8'));
  }
  return createPrivateKey(pem);
}
