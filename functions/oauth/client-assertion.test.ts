import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Jwks } from 'aws-jwt-verify/jwk';
import { describe, expect, it } from 'vitest';
import { assertionClaims, publicJwk, signAssertion } from '../../test/oauth/assertions';
import { authenticateWithAssertion } from './client-assertion';
import { extractClientCredentials } from './client-auth';
import { ClientJwksResolver, fetchClientJwks, isBlockedAddress } from './client-jwks';
import { InMemoryClientStore, type ClientRecord } from './clients';
import { InMemoryJtiReplayStore } from './jti-replay';

const TOKEN_URL = 'https://api.example.org/prod/oauth2/token';
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const ec = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const jwks = { keys: [publicJwk(rsa, 'rsa-1'), publicJwk(ec, 'ec-1', 'ES384')] } as unknown as Jwks;

function client(overrides: Partial<ClientRecord> = {}): ClientRecord {
  return { clientId: 'backend-1', name: 'Backend', secrets: [], scopes: ['system/*.read'], enabled: true, authMethods: ['private_key_jwt'], createdAt: '', jwks, ...overrides };
}

async function setup(record = client()) {
  const store = new InMemoryClientStore();
  await store.put(record);
  const replay = new InMemoryJtiReplayStore();
  const settings = { tokenUrl: TOKEN_URL, keys: new ClientJwksResolver({ allowPrivateAddresses: true }), replay };
  const auth = (assertion: string) => authenticateWithAssertion(store, { clientId: 'backend-1', assertion }, settings);
  return { auth, replay };
}

describe('private_key_jwt (SMART Backend Services)', () => {
  it.each([
    ['RS384', rsa, 'rsa-1'],
    ['ES384', ec, 'ec-1'],
    ['RS512', rsa, 'rsa-1'],
  ] as const)('accepts an assertion signed %s with a registered key', async (alg, key, kid) => {
    const { auth } = await setup();
    await expect(auth(signAssertion(alg, key, { kid, typ: 'JWT' }, assertionClaims('backend-1', TOKEN_URL)))).resolves.toMatchObject({ clientId: 'backend-1' });
  });

  it('never accepts the same jti twice', async () => {
    const { auth } = await setup();
    const assertion = signAssertion('RS384', rsa, { kid: 'rsa-1' }, assertionClaims('backend-1', TOKEN_URL));
    await auth(assertion);
    await expect(auth(assertion)).rejects.toMatchObject({ error: 'invalid_client', description: expect.stringMatching(/jti was used before/) });
  });

  const now = Math.floor(Date.now() / 1000);
  it.each<[string, () => string, RegExp]>([
    ['alg RS256 (not in the SMART list)', () => signAssertion('RS256', rsa, { kid: 'rsa-1' }, assertionClaims('backend-1', TOKEN_URL)), /alg "RS256" is not accepted/],
    ['no kid', () => signAssertion('RS384', rsa, {}, assertionClaims('backend-1', TOKEN_URL)), /kid is required/],
    ['an unknown kid', () => signAssertion('RS384', rsa, { kid: 'nope' }, assertionClaims('backend-1', TOKEN_URL)), /no registered key has kid "nope"/],
    ['a key not registered (bad signature)', () => signAssertion('RS384', stranger, { kid: 'rsa-1' }, assertionClaims('backend-1', TOKEN_URL)), /signature does not verify/],
    ['sub other than the client', () => signAssertion('RS384', rsa, { kid: 'rsa-1' }, assertionClaims('backend-1', TOKEN_URL, { sub: 'someone' })), /sub must be the client id/],
    ['iss other than the client', () => signAssertion('RS384', rsa, { kid: 'rsa-1' }, assertionClaims('backend-1', TOKEN_URL, { iss: 'someone' })), /iss must be the client id/],
    ['aud another URL', () => signAssertion('RS384', rsa, { kid: 'rsa-1' }, assertionClaims('backend-1', TOKEN_URL, { aud: 'https://elsewhere/token' })), /aud must be the token endpoint URL/],
    ['exp more than 5 minutes ahead', () => signAssertion('RS384', rsa, { kid: 'rsa-1' }, assertionClaims('backend-1', TOKEN_URL, { exp: now + 3600 })), /more than 300 seconds/],
    ['exp passed', () => signAssertion('RS384', rsa, { kid: 'rsa-1' }, assertionClaims('backend-1', TOKEN_URL, { exp: now - 600 })), /expired/],
    ['no exp', () => signAssertion('RS384', rsa, { kid: 'rsa-1' }, assertionClaims('backend-1', TOKEN_URL, { exp: undefined })), /exp is required/],
    ['no jti', () => signAssertion('RS384', rsa, { kid: 'rsa-1' }, assertionClaims('backend-1', TOKEN_URL, { jti: undefined })), /jti is required/],
    ['an EC key used with RS384', () => signAssertion('RS384', rsa, { kid: 'ec-1' }, assertionClaims('backend-1', TOKEN_URL)), /alg does not match|signature|invalid/],
    ['a crit header', () => signAssertion('RS384', rsa, { kid: 'rsa-1', crit: ['x'] }, assertionClaims('backend-1', TOKEN_URL)), /crit/],
  ])('refuses %s with invalid_client and the reason', async (_name, make, reason) => {
    const { auth } = await setup();
    await expect(auth(make())).rejects.toMatchObject({ statusCode: 401, error: 'invalid_client', description: expect.stringMatching(reason) });
  });

  it('refuses a client that is disabled, or not registered for private_key_jwt', async () => {
    const assertion = () => signAssertion('RS384', rsa, { kid: 'rsa-1' }, assertionClaims('backend-1', TOKEN_URL));
    await expect((await setup(client({ enabled: false }))).auth(assertion())).rejects.toMatchObject({ description: 'The client is disabled.' });
    await expect((await setup(client({ authMethods: ['client_secret_basic'] }))).auth(assertion())).rejects.toMatchObject({ error: 'invalid_client' });
  });

  it('reads the client id from the assertion, and refuses mixing it with a secret or a wrong client_assertion_type', () => {
    const assertion = signAssertion('RS384', rsa, { kid: 'rsa-1' }, assertionClaims('backend-1', TOKEN_URL));
    const form = (extra: Record<string, string>) =>
      new Map(Object.entries({ grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion, ...extra }));
    expect(extractClientCredentials(undefined, form({}))).toMatchObject({ clientId: 'backend-1', method: 'private_key_jwt' });
    expect(() => extractClientCredentials(undefined, form({ client_secret: 'x' }))).toThrow(/one client authentication method/);
    expect(() => extractClientCredentials('Basic YTpi', form({}))).toThrow(/one client authentication method/);
    expect(() => extractClientCredentials(undefined, form({ client_assertion_type: 'jwt' }))).toThrow(/client_assertion_type must be/);
    expect(() => extractClientCredentials(undefined, form({ client_id: 'other' }))).toThrow(/client_id does not match/);
  });
});

describe('a jwks_uri', () => {
  async function serve(body: string | (() => string), status = 200) {
    let hits = 0;
    const server = createServer((_req, res) => {
      hits++;
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(typeof body === 'function' ? body() : body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
    return { url, hits: () => hits, close: () => new Promise((resolve) => server.close(resolve)) };
  }

  it('is fetched once and cached; an unknown kid refetches at most once per refetch period', async () => {
    const server = await serve(JSON.stringify(jwks));
    let clock = 1_000_000;
    const resolver = new ClientJwksResolver({ allowPrivateAddresses: true, now: () => clock });
    await resolver.keysOf({ jwksUri: server.url });
    await resolver.keysOf({ jwksUri: server.url });
    await resolver.keysOf({ jwksUri: server.url }, true);
    expect(server.hits()).toBe(1);
    clock += 31_000;
    await resolver.keysOf({ jwksUri: server.url }, true);
    expect(server.hits()).toBe(2);
    await server.close();
  });

  it('is refused when larger than 64 KB, not a JWKS, or not 200', async () => {
    for (const [body, status, reason] of [
      [JSON.stringify({ keys: [{ kty: 'RSA', kid: 'x'.repeat(70_000), n: 'a', e: 'AQAB' }] }), 200, /larger than 65536/],
      ['{"not":"jwks"}', 200, /not a JWKS/],
      ['{}', 500, /HTTP 500/],
    ] as const) {
      const server = await serve(body, status);
      await expect(fetchClientJwks(server.url, { allowPrivateAddresses: true })).rejects.toThrow(reason);
      await server.close();
    }
  });

  it('is never fetched from a private, loopback or metadata address, nor over http, on AWS', async () => {
    const server = await serve(JSON.stringify(jwks));
    await expect(fetchClientJwks(server.url, { allowPrivateAddresses: false })).rejects.toThrow(/https/);
    await expect(fetchClientJwks(server.url.replace('http:', 'https:'), { allowPrivateAddresses: false })).rejects.toThrow(/private address/);
    await expect(fetchClientJwks('https://localhost:1/jwks.json', { allowPrivateAddresses: false })).rejects.toThrow(/private address/);
    await expect(fetchClientJwks('https://169.254.169.254/latest/meta-data', { allowPrivateAddresses: false })).rejects.toThrow(/private address/);
    for (const address of ['10.1.2.3', '172.20.0.1', '192.168.1.1', '127.0.0.1', '169.254.169.254', '::1', 'fd00::1', '::ffff:10.0.0.1', '100.64.0.1']) {
      expect(isBlockedAddress(address), address).toBe(true);
    }
    expect(isBlockedAddress('203.0.113.10')).toBe(false);
    await server.close();
  });

  it('times out after 2 s, not hanging the token request', async () => {
    const server = createServer(() => {});
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
    await expect(fetchClientJwks(url, { allowPrivateAddresses: true, timeoutMs: 200 })).rejects.toThrow(/timed out/);
    server.closeAllConnections();
    server.close();
  });

  it('times out as a whole, not only when idle: a server dripping a byte at a time does not hold the token request', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const drip = setInterval(() => res.write(' '), 50);
      res.on('close', () => clearInterval(drip));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
    await expect(fetchClientJwks(url, { allowPrivateAddresses: true, timeoutMs: 300 })).rejects.toThrow(/timed out/);
    server.closeAllConnections();
    server.close();
  });
});
