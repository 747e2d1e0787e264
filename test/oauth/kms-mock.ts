/**
 * Test helper: an AWS KMS that really signs. aws-sdk-client-mock answers Sign by signing the given SHA-256 digest with
 * a node:crypto RSA private key, RSASSA-PKCS1-v1_5 (RFC 8017 §8.2.1: EMSA-PKCS1-v1_5 = DigestInfo(SHA-256) || digest,
 * then the RSA private-key operation with type 1 padding, which is what crypto.privateEncrypt does), and GetPublicKey
 * by returning the real DER (SubjectPublicKeyInfo) of the key, like KMS.
 */
import { constants, createPublicKey, generateKeyPairSync, privateEncrypt, type KeyObject } from 'node:crypto';
import { GetPublicKeyCommand, KMSClient, KMSInvalidStateException, SignCommand } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';

/** The DER prefix of DigestInfo for SHA-256 (RFC 8017 §9.2, note 1). */
const SHA256_DIGEST_INFO = Buffer.from('3031300d060960864801650304020105000420', 'hex');

export function rsaKey(): KeyObject {
  return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
}

/**
 * Mocks every KMSClient: `keys` maps a KMS key ARN to its private key, `aliases` an alias to a key ARN. Like KMS,
 * Sign and GetPublicKey answer with the key's ARN whatever name they were called with; unknown keys fail.
 */
export function mockKms(keys: Record<string, KeyObject>, aliases: Record<string, string> = {}) {
  const kms = mockClient(KMSClient);
  const arnOf = (keyId: string | undefined) => (keyId === undefined ? undefined : (aliases[keyId] ?? keyId));
  const keyFor = (keyId: string | undefined) => {
    const arn = arnOf(keyId);
    const key = arn === undefined ? undefined : keys[arn];
    if (!key) throw new KMSInvalidStateException({ message: `no key ${keyId}`, $metadata: {} });
    return key;
  };
  const failures = new Map<string, Error[]>();
  const failIfAsked = (command: string) => {
    const error = failures.get(command)?.shift();
    if (error) throw error;
  };
  const sign = (input: SignCommand['input']) => {
    failIfAsked('Sign');
    if (input.MessageType !== 'DIGEST') throw new Error('expected MessageType DIGEST');
    if (input.SigningAlgorithm !== 'RSASSA_PKCS1_V1_5_SHA_256') throw new Error('expected RSASSA_PKCS1_V1_5_SHA_256');
    const digest = Buffer.from(input.Message as Uint8Array);
    if (digest.length !== 32) throw new Error('expected a SHA-256 digest');
    const signature = privateEncrypt(
      { key: keyFor(input.KeyId), padding: constants.RSA_PKCS1_PADDING },
      Buffer.concat([SHA256_DIGEST_INFO, digest]),
    );
    return { KeyId: arnOf(input.KeyId), Signature: new Uint8Array(signature), SigningAlgorithm: input.SigningAlgorithm };
  };
  const getPublicKey = (input: GetPublicKeyCommand['input']) => {
    failIfAsked('GetPublicKey');
    const der = createPublicKey(keyFor(input.KeyId)).export({ format: 'der', type: 'spki' }) as Buffer;
    return {
      KeyId: arnOf(input.KeyId),
      PublicKey: new Uint8Array(der),
      KeySpec: 'RSA_2048',
      KeyUsage: 'SIGN_VERIFY',
      SigningAlgorithms: ['RSASSA_PKCS1_V1_5_SHA_256'],
    };
  };
  kms.on(SignCommand).callsFake(sign);
  kms.on(GetPublicKeyCommand).callsFake(getPublicKey);
  return Object.assign(kms, {
    /** The next call of `command` fails with an error named `name` (e.g. ThrottlingException), later ones succeed. */
    failNext(command: typeof SignCommand | typeof GetPublicKeyCommand, name: string) {
      const error = Object.assign(new Error(`${name} (mock)`), { name, $fault: 'server', $metadata: {} });
      const key = command === SignCommand ? 'Sign' : 'GetPublicKey';
      failures.set(key, [...(failures.get(key) ?? []), error]);
    },
  });
}
