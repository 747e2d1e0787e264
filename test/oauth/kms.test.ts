/**
 * The KMS path end to end, against an AWS KMS mock that really signs (test/oauth/kms-mock.ts): the token function
 * signs with KMS, the jwks function publishes the KMS public keys, and aws-jwt-verify verifies the token with them;
 * KMS throttling is 503 temporarily_unavailable. Also a key rotation: a token of the previous key still verifies.
 */
import { GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createJwksHandler } from '../../functions/jwks/handler';
import { InMemoryClientStore } from '../../functions/oauth/clients';
import { DEMO_CLINICAL_ACCESS_CLIENT, demoClientRecord } from '../../functions/oauth/demo-clients';
import { KmsSigner, KmsSignerWithJwks } from '../../functions/oauth/signer';
import { createTokenHandler } from '../../functions/token/handler';
import { basicAuth, proxyEvent, TEST_BASE_URL, tokenEvent } from './events';
import { mockKms, rsaKey } from './kms-mock';
import { decodeJwt, verifyAccessToken } from './verify';

const CURRENT = 'arn:aws:kms:eu-west-2:123456789012:key/11111111-1111-1111-1111-111111111111';
const PREVIOUS = 'arn:aws:kms:eu-west-2:123456789012:key/22222222-2222-2222-2222-222222222222';
const kms = mockKms({ [CURRENT]: rsaKey(), [PREVIOUS]: rsaKey() });
afterAll(() => kms.restore());
afterEach(() => kms.resetHistory());

const client = DEMO_CLINICAL_ACCESS_CLIENT;
const expected = { issuer: TEST_BASE_URL, audience: `${TEST_BASE_URL}/STU3` };
const grant = () =>
  tokenEvent({ grant_type: 'client_credentials' }, { Authorization: basicAuth(client.clientId, client.clientSecret) });

async function tokenService(keyId: string) {
  const clients = new InMemoryClientStore();
  await clients.put(demoClientRecord(client));
  return createTokenHandler({ clients, signer: new KmsSigner(new KMSClient({}), keyId), tokenLifetimeSeconds: 3600, limiter: null });
}

async function servedJwks(keyIds: string[]) {
  const jwks = createJwksHandler({ signer: new KmsSignerWithJwks(new KMSClient({}), keyIds) });
  const response = await jwks(proxyEvent({ path: '/.well-known/jwks.json' }));
  expect(response.statusCode).toBe(200);
  expect(response.headers).toMatchObject({ 'Cache-Control': 'public, max-age=300' });
  return JSON.parse(response.body) as { keys: Array<Record<string, string>> };
}

describe('tokens signed by AWS KMS', () => {
  it('verify with aws-jwt-verify against the JWKS the jwks function serves from KMS', async () => {
    const token = await tokenService(CURRENT);
    const response = await token(grant());
    expect(response.statusCode).toBe(200);
    const { access_token } = JSON.parse(response.body) as { access_token: string };

    const jwks = await servedJwks([CURRENT]);
    expect(jwks.keys).toHaveLength(1);
    const kid = decodeJwt(access_token).header.kid;
    expect(jwks.keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', kid });
    const payload = await verifyAccessToken(access_token, jwks, expected);
    expect(payload).toMatchObject({ iss: expected.issuer, aud: expected.audience, sub: client.clientId });
    expect(payload.scope).toBe(client.scope);

    const sign = kms.commandCalls(SignCommand);
    expect(sign).toHaveLength(1);
    expect(sign[0]!.args[0].input).toMatchObject({
      KeyId: CURRENT,
      MessageType: 'DIGEST',
      SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256',
    });
  });

  it('fail verification when the signature is tampered with', async () => {
    const token = await tokenService(CURRENT);
    const response = await token(grant());
    const { access_token } = JSON.parse(response.body) as { access_token: string };
    const [h, p, s] = access_token.split('.');
    const tampered = `${h}.${p}.${s!.slice(0, -4)}${s!.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
    await expect(verifyAccessToken(tampered, await servedJwks([CURRENT]), expected)).rejects.toThrow();
  });

  it('still verify after a key rotation while the JWKS lists the previous key', async () => {
    const old = await tokenService(PREVIOUS);
    const oldToken = JSON.parse((await old(grant())).body) as { access_token: string };
    const jwks = await servedJwks([CURRENT, PREVIOUS]);
    expect(jwks.keys.map((k) => k.kid)).toHaveLength(2);
    await expect(verifyAccessToken(oldToken.access_token, jwks, expected)).resolves.toMatchObject({
      sub: client.clientId,
    });
    await expect(verifyAccessToken(oldToken.access_token, await servedJwks([CURRENT]), expected)).rejects.toThrow();
  });

  it('are refused with 503 temporarily_unavailable and Retry-After when KMS throttles, never a 500', async () => {
    const token = await tokenService(CURRENT);
    kms.failNext(SignCommand, 'ThrottlingException');
    const response = await token(grant());
    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body)).toMatchObject({ error: 'temporarily_unavailable' });
    expect(response.headers).toMatchObject({ 'Retry-After': '5', 'Cache-Control': 'no-store' });
    expect(response.body).not.toContain('Throttling');
  });

  it('make the jwks function answer 503 temporarily_unavailable when KMS fails, and recover after', async () => {
    const jwks = createJwksHandler({ signer: new KmsSignerWithJwks(new KMSClient({}), [CURRENT]) });
    kms.failNext(GetPublicKeyCommand, 'KMSInternalException');
    const failed = await jwks(proxyEvent({ path: '/.well-known/jwks.json' }));
    expect(failed.statusCode).toBe(503);
    expect(JSON.parse(failed.body)).toMatchObject({ error: 'temporarily_unavailable' });
    expect(failed.headers).toMatchObject({ 'Retry-After': '5', 'Cache-Control': 'no-store' });
    const recovered = await jwks(proxyEvent({ path: '/.well-known/jwks.json' }));
    expect(recovered.statusCode).toBe(200);
  });

  it('are published from a container cache: KMS GetPublicKey is called once per key', async () => {
    const jwks = createJwksHandler({ signer: new KmsSignerWithJwks(new KMSClient({}), [CURRENT, PREVIOUS]) });
    for (let i = 0; i < 3; i++) {
      expect((await jwks(proxyEvent({ path: '/.well-known/jwks.json' }))).statusCode).toBe(200);
    }
    expect(kms.commandCalls(GetPublicKeyCommand)).toHaveLength(2);
  });
});
