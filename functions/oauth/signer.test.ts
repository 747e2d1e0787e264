import { createPublicKey, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { mockKms, rsaKey } from '../../test/oauth/kms-mock';
import { StoreUnavailableError } from '../errors';
import { TemporarilyUnavailableError, toOAuthError } from './errors';
import { isKmsKeyArn, jwkThumbprint, KmsSigner, KmsSignerWithJwks, kmsKeyKid, LOCAL_SIGNING_KEY_FILE, LocalRsaSigner, publicJwkOf } from './signer';

const currentKey = rsaKey();
const previousKey = rsaKey();
const input = Buffer.from('eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0', 'ascii');

const CURRENT = 'arn:aws:kms:eu-west-2:123456789012:key/11111111-1111-1111-1111-111111111111';
const PREVIOUS = 'arn:aws:kms:eu-west-2:123456789012:key/22222222-2222-2222-2222-222222222222';

describe('KmsSigner', () => {
  const kms = mockKms({ [CURRENT]: currentKey, [PREVIOUS]: previousKey }, { 'alias/previous': PREVIOUS });
  afterAll(() => kms.restore());
  afterEach(() => {
    kms.resetHistory();
  });

  it('has KMS sign the SHA-256 digest (MessageType DIGEST, RSASSA_PKCS1_V1_5_SHA_256) and returns an RS256 signature', async () => {
    const signer = new KmsSigner(new KMSClient({}), CURRENT);
    const signature = await signer.sign(input);
    expect(verify('sha256', input, createPublicKey(currentKey), signature)).toBe(true);
    const [call] = kms.commandCalls(SignCommand);
    expect(call!.args[0].input).toMatchObject({
      KeyId: CURRENT,
      MessageType: 'DIGEST',
      SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256',
    });
    expect((call!.args[0].input.Message as Uint8Array).length).toBe(32);
  });

  it('names the key by a kid derived from its ARN, without reading the key (the token role may only Sign)', async () => {
    const signer = new KmsSigner(new KMSClient({}), CURRENT);
    expect(await signer.currentKid()).toBe(kmsKeyKid(CURRENT));
    expect(kmsKeyKid(CURRENT)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(kmsKeyKid(CURRENT)).not.toBe(kmsKeyKid(PREVIOUS));
    expect(kms.commandCalls(GetPublicKeyCommand)).toHaveLength(0);
  });

  it('refuses to name a signing key that is not an ARN (its kid could not be derived)', async () => {
    await expect(new KmsSigner(new KMSClient({}), 'alias/current').currentKid()).rejects.toThrow(/ARN/);
    expect(isKmsKeyArn(CURRENT)).toBe(true);
    expect(isKmsKeyArn('alias/current')).toBe(false);
    expect(isKmsKeyArn('11111111-1111-1111-1111-111111111111')).toBe(false);
  });

  it('publishes every key, the signing key first, as RS256 signature JWKs with the kids tokens carry', async () => {
    const signer = new KmsSignerWithJwks(new KMSClient({}), [CURRENT, 'alias/previous']);
    const jwks = await signer.publicJwks();
    expect(jwks).toEqual([
      { ...publicJwkOf(createPublicKey(currentKey)), kid: kmsKeyKid(CURRENT) },
      { ...publicJwkOf(createPublicKey(previousKey)), kid: kmsKeyKid(PREVIOUS) },
    ]);
    for (const jwk of jwks) expect(jwk).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', e: 'AQAB' });
    await signer.publicJwks();
    expect(kms.commandCalls(GetPublicKeyCommand)).toHaveLength(2);
  });

  it('turns KMS throttling on Sign into a store outage, which the OAuth edge answers 503 temporarily_unavailable', async () => {
    const signer = new KmsSigner(new KMSClient({}), CURRENT);
    kms.failNext(SignCommand, 'ThrottlingException');
    const outage = await signer.sign(input).catch((e: unknown) => e);
    expect(outage).toBeInstanceOf(StoreUnavailableError);
    const err = toOAuthError(outage);
    expect(err).toBeInstanceOf(TemporarilyUnavailableError);
    expect(err).toMatchObject({ statusCode: 503, error: 'temporarily_unavailable', headers: { 'Retry-After': '5' } });
    expect(verify('sha256', input, createPublicKey(currentKey), await signer.sign(input))).toBe(true);
  });

  it('turns a GetPublicKey failure into 503 and does not cache it', async () => {
    const signer = new KmsSignerWithJwks(new KMSClient({}), CURRENT);
    kms.failNext(GetPublicKeyCommand, 'KMSInternalException');
    await expect(signer.publicJwks().catch((e: unknown) => Promise.reject(toOAuthError(e)))).rejects.toMatchObject({
      statusCode: 503,
      error: 'temporarily_unavailable',
    });
    await expect(signer.publicJwks()).resolves.toHaveLength(1);
  });

  it('turns an unknown key into 503 temporarily_unavailable', async () => {
    const signer = new KmsSignerWithJwks(new KMSClient({}), 'arn:aws:kms:eu-west-2:123456789012:key/99999999-9999-9999-9999-999999999999');
    await expect(signer.publicJwks()).rejects.toMatchObject({ statusCode: 503 });
    await expect(signer.sign(input)).rejects.toMatchObject({ statusCode: 503 });
  });

  it('needs a key id', () => {
    expect(() => new KmsSigner(new KMSClient({}), [])).toThrow(/key id/);
  });
});

describe('LocalRsaSigner', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'ccri-signer-'));
    dirs.push(dir);
    return dir;
  };

  it('signs RS256 with its key', async () => {
    const signer = new LocalRsaSigner();
    const [jwk] = await signer.publicJwks();
    const signature = await signer.sign(input);
    expect(verify('sha256', input, createPublicKey({ key: { ...jwk! }, format: 'jwk' }), signature)).toBe(true);
    expect(jwk).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', kid: await signer.currentKid() });
  });

  it('makes its key at first use in the data dir (mode 0600) and uses the same key after a restart', async () => {
    const dir = tempDir();
    const first = new LocalRsaSigner({ dataDir: join(dir, 'nested') });
    const kid = await first.currentKid();
    const file = join(dir, 'nested', LOCAL_SIGNING_KEY_FILE);
    expect(readFileSync(file, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(await new LocalRsaSigner({ dataDir: join(dir, 'nested') }).currentKid()).toBe(kid);
  });

  it('keeps the key in memory without a data dir: each instance has its own', async () => {
    expect(await new LocalRsaSigner().currentKid()).not.toBe(await new LocalRsaSigner().currentKid());
  });
});
