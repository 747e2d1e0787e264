/**
 * SMART Backend Services end to end, as docs/oauth.md walks through it: a key made with `openssl`, its public JWK
 * registered through the admin API (inline, or at a jwks_uri), a signed client assertion exchanged for an access
 * token at POST /oauth2/token, the token used on the FHIR API; replays refused. Real HTTP, DynamoDB Local.
 */
import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, tokenFor, type Credentials } from '../admin/support';
import { startTestApi, type TestApi } from '../support/local-api';
import { assertionClaims, signAssertion } from './assertions';

const ADMIN: Credentials = { clientId: 'bs-admin', clientSecret: randomBytes(32).toString('base64url') };
let api: TestApi;
let adminToken: string;
let dir: string;
let jwksServer: Server | undefined;

beforeAll(async () => {
  api = await startTestApi({ admin: ADMIN });
  adminToken = await tokenFor(api, ADMIN);
  dir = mkdtempSync(join(tmpdir(), 'ccri-bs-'));
});

afterAll(async () => {
  jwksServer?.close();
  await api?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A key made by openssl, as the docs show (ES384: P-384; RS384: RSA 2048). */
function opensslKey(alg: 'ES384' | 'RS384') {
  const file = join(dir, `${alg}-${randomBytes(4).toString('hex')}.pem`);
  const args = alg === 'ES384' ? ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384', '-out', file] : ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', file];
  execFileSync('openssl', args, { stdio: 'ignore' });
  const privateKey = createPrivateKey(readFileSync(file, 'utf8'));
  const jwk = { ...createPublicKey(privateKey).export({ format: 'jwk' }), kid: `${alg}-key-1`, alg, use: 'sig' };
  return { privateKey, jwk };
}

async function token(assertion: string, scope?: string) {
  const body = new URLSearchParams({
    grant_type: 'client_credentials',
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: assertion,
    ...(scope ? { scope } : {}),
  });
  const response = await fetch(api.tokenUrl, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body });
  return { status: response.status, body: (await response.json()) as Record<string, string> };
}

describe.each(['ES384', 'RS384'] as const)('a backend service with an openssl %s key registered inline', (alg) => {
  const clientId = `bs-${alg.toLowerCase()}`;
  let key: ReturnType<typeof opensslKey>;

  beforeAll(async () => {
    key = opensslKey(alg);
    const created = await call(api, 'POST', '/admin/clients', {
      token: adminToken,
      body: { clientId, name: `Backend ${alg}`, scopes: ['system/Patient.read'], authMethods: ['private_key_jwt'], jwks: { keys: [key.jwk] } },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).not.toHaveProperty('clientSecret');
  });

  it('gets an access token for a signed assertion and reads the FHIR API with it', async () => {
    const assertion = signAssertion(alg, key.privateKey, { kid: key.jwk.kid, typ: 'JWT' }, assertionClaims(clientId, api.tokenUrl));
    const issued = await token(assertion, 'system/Patient.read');
    expect(issued.status, JSON.stringify(issued.body)).toBe(200);
    expect(issued.body).toMatchObject({ token_type: 'Bearer', scope: 'system/Patient.read' });
    const read = await call(api, 'GET', '/STU3/Patient/1', { token: issued.body.access_token });
    expect(read.status).toBe(200);
  });

  it('is refused the same assertion twice (jti replay), with the reason', async () => {
    const assertion = signAssertion(alg, key.privateKey, { kid: key.jwk.kid }, assertionClaims(clientId, api.tokenUrl));
    expect((await token(assertion)).status).toBe(200);
    const replayed = await token(assertion);
    expect(replayed).toEqual({ status: 401, body: { error: 'invalid_client', error_description: expect.stringMatching(/jti was used before/) } });
  });

  it('is refused an assertion for another audience', async () => {
    const assertion = signAssertion(alg, key.privateKey, { kid: key.jwk.kid }, assertionClaims(clientId, 'https://elsewhere.example/token'));
    expect((await token(assertion)).body.error_description).toMatch(/aud must be the token endpoint URL/);
  });
});

describe('a backend service whose keys are at a jwks_uri', () => {
  it('gets a token; the keys are fetched from the URI', async () => {
    const key = opensslKey('ES384');
    let fetched = 0;
    jwksServer = createServer((_req, res) => {
      fetched++;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ keys: [key.jwk] }));
    });
    await new Promise<void>((resolve) => jwksServer!.listen(0, '127.0.0.1', resolve));
    const jwksUri = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`;
    const created = await call(api, 'POST', '/admin/clients', {
      token: adminToken,
      body: { clientId: 'bs-uri', name: 'Backend (jwks_uri)', scopes: ['system/Patient.read'], authMethods: ['private_key_jwt'], jwksUri },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const assertion = signAssertion('ES384', key.privateKey, { kid: key.jwk.kid }, assertionClaims('bs-uri', api.tokenUrl));
    expect((await token(assertion)).status).toBe(200);
    expect(fetched).toBe(1);
  });
});

describe('registration', () => {
  it.each([
    ['private_key_jwt without keys', { authMethods: ['private_key_jwt'] }, /needs the client public keys/],
    ['a private key', { authMethods: ['private_key_jwt'], jwks: { keys: [{ ...createPrivateKey(execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'])).export({ format: 'jwk' }), kid: 'k' }] } }, /private key material/],
    ['a key without kid', { authMethods: ['private_key_jwt'], jwks: { keys: [{ kty: 'EC', crv: 'P-384', x: 'a', y: 'b' }] } }, /kid/],
    ['a jwks_uri over http elsewhere than localhost', { authMethods: ['private_key_jwt'], jwksUri: 'http://keys.example.org/jwks.json' }, /https/],
  ])('refuses %s (400)', async (_name, extra, message) => {
    const response = await call(api, 'POST', '/admin/clients', { token: adminToken, body: { name: 'x', scopes: ['system/Patient.read'], ...extra } });
    expect(response.status).toBe(400);
    expect(response.body.issue[0].diagnostics).toMatch(message);
  });
});

describe('the SMART configuration', () => {
  it('advertises private_key_jwt with its signing algorithms', async () => {
    const config = (await call(api, 'GET', '/STU3/.well-known/smart-configuration')).body;
    expect(config.token_endpoint_auth_methods_supported).toContain('private_key_jwt');
    expect(config.token_endpoint_auth_signing_alg_values_supported).toEqual(expect.arrayContaining(['RS384', 'ES384']));
    expect(config.capabilities).toContain('client-confidential-asymmetric');
  });
});
