import { describe, expect, it } from 'vitest';
import { DEFAULT_SCOPES_SUPPORTED, SMART_CONFIGURATION_PATH, smartConfiguration } from './smart-configuration';

describe('smartConfiguration (SMART App Launch 2.x discovery)', () => {
  it('points at this API token endpoint and JWKS, for client_credentials with a client secret', () => {
    expect(smartConfiguration({ baseUrl: 'https://abc.execute-api.eu-west-2.amazonaws.com/prod/' })).toEqual({
      issuer: 'https://abc.execute-api.eu-west-2.amazonaws.com/prod',
      jwks_uri: 'https://abc.execute-api.eu-west-2.amazonaws.com/prod/.well-known/jwks.json',
      token_endpoint: 'https://abc.execute-api.eu-west-2.amazonaws.com/prod/oauth2/token',
      grant_types_supported: ['client_credentials'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
      token_endpoint_auth_signing_alg_values_supported: ['RS384', 'ES384', 'RS512'],
      scopes_supported: [...DEFAULT_SCOPES_SUPPORTED],
      response_types_supported: [],
      capabilities: ['client-confidential-symmetric', 'client-confidential-asymmetric', 'permission-v1', 'permission-v2', 'permission-patient', 'permission-user'],
      code_challenge_methods_supported: ['S256'],
    });
  });

  it('uses a configured issuer and scope list', () => {
    const config = smartConfiguration({ baseUrl: 'http://127.0.0.1:3000', issuer: 'https://id.example.org', scopesSupported: ['profile'] });
    expect(config.issuer).toBe('https://id.example.org');
    expect(config.scopes_supported).toEqual(['profile']);
    expect(config.token_endpoint).toBe('http://127.0.0.1:3000/oauth2/token');
  });

  it('advertises SMART v1 and v2 wildcard scopes in every context, and never PKCE plain', () => {
    const config = smartConfiguration({ baseUrl: 'http://x' });
    expect(config.scopes_supported).toEqual(expect.arrayContaining(['profile', 'patient/*.read', 'user/*.rs', 'system/*.write']));
    expect(config.code_challenge_methods_supported).not.toContain('plain');
  });

  it('lives under the FHIR base', () => {
    expect(SMART_CONFIGURATION_PATH).toBe('/STU3/.well-known/smart-configuration');
  });
});
