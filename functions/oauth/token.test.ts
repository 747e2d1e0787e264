import { describe, expect, it } from 'vitest';
import { decodeJwt, verifyAccessToken } from '../../test/oauth/verify';
import { hashClientSecret, InMemoryClientStore, type ClientRecord } from './clients';
import { InvalidScopeError, toOAuthError } from './errors';
import { InMemoryScopeDefinitionStore, ScopeStoreUnavailableError } from '../scopes/definition-store';
import { LocalRsaSigner } from './signer';
import { clientCredentialsGrant, handleTokenRequest, issuerAndAudience, narrowScope, type TokenSettings } from './token';

const ISSUER = 'https://api.example.org/prod';
const AUDIENCE = `${ISSUER}/STU3`;
const NOW = new Date();

function client(overrides: Partial<ClientRecord> = {}): ClientRecord {
  return {
    clientId: 'client-1',
    name: 'Client 1',
    secrets: [hashClientSecret('secret-1')],
    scopes: ['profile', 'patient/Patient.read', 'user/Patient.read'],
    enabled: true,
    authMethods: ['client_secret_basic', 'client_secret_post'],
    createdAt: NOW.toISOString(),
    ...overrides,
  };
}

const signer = new LocalRsaSigner();
const settings = (overrides: Partial<TokenSettings> = {}): TokenSettings => ({
  clients: new InMemoryClientStore(),
  signer,
  tokenLifetimeSeconds: 3600,
  issuer: ISSUER,
  audience: AUDIENCE,
  ...overrides,
});

describe('narrowScope (RFC 6749 §3.3)', () => {
  const registered = ['profile', 'patient/Patient.read', 'user/Patient.read'];

  it.each([
    ['absent', undefined, registered],
    ['empty', '', registered],
    ['one registered scope', 'profile', ['profile']],
    ['a subset, kept in the requested order', 'user/Patient.read profile', ['user/Patient.read', 'profile']],
    ['a scope repeated', 'profile profile', ['profile']],
    ['all of them', registered.join(' '), registered],
  ])('grants, for a request %s, %j', (_name, requested, granted) => {
    expect(narrowScope(registered, requested)).toEqual(granted);
  });

  it.each([
    ['a scope not registered', 'patient/Condition.read'],
    ['a registered scope and one not registered', 'profile user/*.read'],
    ['a case variant of a registered scope', 'Profile'],
    ['a scope with a forbidden character', 'profile "x"'],
    ['a wildcard covering registered scopes', 'patient/*.read'],
  ])('refuses %s with 400 invalid_scope', (_name, requested) => {
    expect(() => narrowScope(registered, requested)).toThrow(InvalidScopeError);
  });

  it('refuses a token to a client with no registered scope', () => {
    expect(() => narrowScope([], undefined)).toThrow(InvalidScopeError);
  });
});

describe('issuerAndAudience', () => {
  it.each([
    [{}, 'http://127.0.0.1:3000', 'http://127.0.0.1:3000', 'http://127.0.0.1:3000/STU3'],
    [{}, 'https://x.execute-api.eu-west-2.amazonaws.com/prod/', 'https://x.execute-api.eu-west-2.amazonaws.com/prod', 'https://x.execute-api.eu-west-2.amazonaws.com/prod/STU3'],
    [{ issuer: 'https://fhir.example.org' }, 'http://ignored', 'https://fhir.example.org', 'https://fhir.example.org/STU3'],
    [{ issuer: 'https://a.example', audience: 'https://b.example/fhir' }, 'http://ignored', 'https://a.example', 'https://b.example/fhir'],
  ])('with configuration %j and base URL %s: iss %s, aud %s', (config, baseUrl, issuer, audience) => {
    expect(issuerAndAudience(config, baseUrl)).toEqual({ issuer, audience });
  });
});

describe('the client_credentials grant', () => {
  it('issues an RFC 9068 JWT that verifies against the signer JWKS, with every claim', async () => {
    const response = await clientCredentialsGrant(client(), 'profile', settings(), NOW);
    expect(response).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'profile' });

    const { header, payload } = decodeJwt(response.access_token);
    expect(header).toEqual({ alg: 'RS256', typ: 'at+jwt', kid: await signer.currentKid() });
    const iat = Math.floor(NOW.getTime() / 1000);
    expect(payload).toEqual({
      iss: ISSUER,
      sub: 'client-1',
      aud: AUDIENCE,
      exp: iat + 3600,
      iat,
      jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
      client_id: 'client-1',
      scope: 'profile',
    });
    const verified = await verifyAccessToken(response.access_token, { keys: await signer.publicJwks() }, {
      issuer: ISSUER,
      audience: AUDIENCE,
    });
    expect(verified.client_id).toBe('client-1');
  });

  it('grants every registered scope when none is requested', async () => {
    const response = await clientCredentialsGrant(client(), undefined, settings(), NOW);
    expect(response.scope).toBe('profile patient/Patient.read user/Patient.read');
    expect(decodeJwt(response.access_token).payload.scope).toBe(response.scope);
  });

  it('adds the patient claim for a client bound to a patient, and only then', async () => {
    const bound = await clientCredentialsGrant(client({ patient: '1' }), undefined, settings(), NOW);
    const unbound = await clientCredentialsGrant(client(), undefined, settings(), NOW);
    expect(decodeJwt(bound.access_token).payload.patient).toBe('1');
    expect(decodeJwt(unbound.access_token).payload).not.toHaveProperty('patient');
  });

  it('gives every token its own jti and the configured lifetime', async () => {
    const a = await clientCredentialsGrant(client(), undefined, settings({ tokenLifetimeSeconds: 300 }), NOW);
    const b = await clientCredentialsGrant(client(), undefined, settings({ tokenLifetimeSeconds: 300 }), NOW);
    expect(a.expires_in).toBe(300);
    const pa = decodeJwt(a.access_token).payload;
    expect(pa.exp).toBe((pa.iat as number) + 300);
    expect(pa.jti).not.toBe(decodeJwt(b.access_token).payload.jti);
  });
});

describe('named scopes at issuance', () => {
  const definitions = new InMemoryScopeDefinitionStore();
  const meds = { name: 'ccri/meds', grants: { MedicationStatement: 'rs' }, createdAt: '', updatedAt: '' } as const;

  it('keep their name in scope and carry their expansion in ccri_grants, read from the store for this very token', async () => {
    await definitions.create({ ...meds, grants: { ...meds.grants } });
    const c = client({ scopes: ['profile', 'ccri/meds'] });
    const first = await clientCredentialsGrant(c, undefined, settings({ definitions }), NOW);
    expect(first.scope).toBe('profile ccri/meds');
    expect(decodeJwt(first.access_token).payload).toMatchObject({ scope: 'profile ccri/meds', ccri_grants: 'MedicationStatement:rs' });
    await definitions.replace({ ...meds, grants: { MedicationStatement: 'r', Medication: 'r' } });
    const second = await clientCredentialsGrant(c, undefined, settings({ definitions }), NOW);
    expect(decodeJwt(second.access_token).payload.ccri_grants).toBe('MedicationStatement:r Medication:r');
  });

  it('leave no claim when nothing is named', async () => {
    const response = await clientCredentialsGrant(client(), undefined, settings({ definitions }), NOW);
    expect(decodeJwt(response.access_token).payload).not.toHaveProperty('ccri_grants');
  });

  it('make a store outage a 503 temporarily_unavailable, never a token without its grants', async () => {
    const down = { get: async () => Promise.reject(new ScopeStoreUnavailableError()) };
    const grant = clientCredentialsGrant(client({ scopes: ['ccri/meds'] }), undefined, settings({ definitions: down }), NOW);
    await expect(grant.catch((e: unknown) => Promise.reject(toOAuthError(e)))).rejects.toMatchObject({
      statusCode: 503,
      error: 'temporarily_unavailable',
    });
  });
});

describe('handleTokenRequest', () => {
  const form = (params: Record<string, string>) => new Map(Object.entries(params));

  it.each([
    ['no grant_type', {}, 400, 'invalid_request'],
    ['an empty grant_type', { grant_type: '' }, 400, 'invalid_request'],
    ['grant_type=authorization_code', { grant_type: 'authorization_code' }, 400, 'unsupported_grant_type'],
    ['grant_type=password', { grant_type: 'password' }, 400, 'unsupported_grant_type'],
  ])('refuses %s before looking the client up', async (_name, params, statusCode, error) => {
    const store = new InMemoryClientStore();
    await store.put(client());
    await expect(
      handleTokenRequest(form({ ...params, client_id: 'client-1', client_secret: 'secret-1' }), undefined, settings({ clients: store })),
    ).rejects.toMatchObject({ statusCode, error });
  });

  it('authenticates the client and grants the requested scope', async () => {
    const store = new InMemoryClientStore();
    await store.put(client());
    const { response, client: authenticated } = await handleTokenRequest(
      form({ grant_type: 'client_credentials', client_id: 'client-1', client_secret: 'secret-1', scope: 'profile' }),
      undefined,
      settings({ clients: store }),
    );
    expect(authenticated.clientId).toBe('client-1');
    expect(response.scope).toBe('profile');
  });
});
