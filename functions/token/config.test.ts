import { describe, expect, it } from 'vitest';
import { jwksDepsFromEnv } from '../jwks/config';
import { DynamoClientStore } from '../oauth/clients';
import { KmsSigner } from '../oauth/signer';
import { tokenDepsFromEnv } from './config';

const env = { CLIENTS_TABLE_NAME: 'Clients', SCOPES_TABLE_NAME: 'Scopes', KMS_KEY_ID: 'arn:aws:kms:eu-west-2:123456789012:key/11111111-1111-1111-1111-111111111111' };

describe('tokenDepsFromEnv', () => {
  it('builds the DynamoDB client store and the KMS signer, with a 3600 s default lifetime', () => {
    const deps = tokenDepsFromEnv(env);
    expect(deps.clients).toBeInstanceOf(DynamoClientStore);
    expect(deps.signer).toBeInstanceOf(KmsSigner);
    expect(deps).toMatchObject({ tokenLifetimeSeconds: 3600, issuer: undefined, audience: undefined });
  });

  it('reads TOKEN_LIFETIME_SECONDS, ISSUER and AUDIENCE', () => {
    expect(tokenDepsFromEnv({ ...env, TOKEN_LIFETIME_SECONDS: '900', ISSUER: 'https://a', AUDIENCE: 'https://a/STU3' })).toMatchObject({
      tokenLifetimeSeconds: 900,
      issuer: 'https://a',
      audience: 'https://a/STU3',
    });
  });

  it.each([['CLIENTS_TABLE_NAME'], ['KMS_KEY_ID']])('refuses to start without %s', (name) => {
    expect(() => tokenDepsFromEnv({ ...env, [name]: undefined })).toThrow(name);
  });

  it('refuses a KMS_KEY_ID that is not a key ARN: the token kid derives from the ARN', () => {
    expect(() => tokenDepsFromEnv({ ...env, KMS_KEY_ID: 'alias/ccri-token-signing' })).toThrow(/KMS_KEY_ID must be the signing key's ARN/);
  });

  it.each([['abc'], ['10'], ['100000'], ['1.5']])('refuses TOKEN_LIFETIME_SECONDS=%s', (value) => {
    expect(() => tokenDepsFromEnv({ ...env, TOKEN_LIFETIME_SECONDS: value })).toThrow('TOKEN_LIFETIME_SECONDS');
  });
});

describe('jwksDepsFromEnv', () => {
  it('reads the comma-separated KMS_KEY_IDS', () => {
    expect(jwksDepsFromEnv({ KMS_KEY_IDS: 'alias/new, key-old' }).signer).toBeInstanceOf(KmsSigner);
  });

  it('refuses to start without KMS_KEY_IDS', () => {
    expect(() => jwksDepsFromEnv({ KMS_KEY_IDS: ' , ' })).toThrow('KMS_KEY_IDS');
  });
});
