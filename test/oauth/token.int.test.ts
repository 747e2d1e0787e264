/**
 * The token service end to end, over real HTTP through the local API Gateway, on the real DynamoDB Local engine:
 * each demo client gets a token with its exact seed credentials, the token verifies with aws-jwt-verify against the
 * JWKS the API serves, and every refusal is the RFC 6749 §5.2 error with its status and headers.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CLIENTS_TABLE } from '../../contract/tables';
import { DynamoClientStore } from '../../functions/oauth/clients';
import {
  CCRI_DEMO_CLIENTS,
  DEMO_CLINICAL_ACCESS_CLIENT,
  DEMO_LIMITED_ACCESS_CLIENT,
  DEMO_PATIENT_ACCESS_CLIENT,
  DEMO_PATIENT_CLIENT,
  demoClientRecord,
  WRITER_SCOPE,
  type DemoClient,
} from '../../functions/oauth/demo-clients';
import { startTestApi, type TestApi } from '../support/local-api';
import { basicAuth } from './events';
import { decodeJwt, verifyAccessToken } from './verify';

const WRITER: DemoClient = {
  clientId: 'test-writer',
  clientSecret: 'Wr1ter-test-secret_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGH',
  name: 'Writer',
  scope: WRITER_SCOPE,
};
const DISABLED: DemoClient = {
  clientId: 'disabled-client',
  clientSecret: 'D1sabled-test-secret_0123456789abcdefghijklmnopqrstuvwxyzABCDEF',
  name: 'Disabled',
  scope: 'profile',
};

let api: TestApi;
let jwks: { keys: Array<Record<string, string>> };

beforeAll(async () => {
  vi.stubEnv('CCRI_WRITER_CLIENT_ID', WRITER.clientId);
  vi.stubEnv('CCRI_WRITER_CLIENT_SECRET', WRITER.clientSecret);
  api = await startTestApi();
  const store = new DynamoClientStore(api.documentClient, api.tableName(CLIENTS_TABLE));
  await store.put({ ...demoClientRecord(DISABLED), enabled: false });
  jwks = (await (await fetch(`${api.baseUrl}/.well-known/jwks.json`)).json()) as typeof jwks;
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await api?.close();
});

interface TokenCall {
  form?: Record<string, string> | string;
  authorization?: string;
  contentType?: string;
}

async function requestToken({ form = { grant_type: 'client_credentials' }, authorization, contentType }: TokenCall) {
  const headers: Record<string, string> = { 'Content-Type': contentType ?? 'application/x-www-form-urlencoded', Accept: 'application/json' };
  if (authorization !== undefined) headers.Authorization = authorization;
  const response = await fetch(api.tokenUrl, {
    method: 'POST',
    headers,
    body: typeof form === 'string' ? form : new URLSearchParams(form).toString(),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> };
}

const basicOf = (client: DemoClient) => basicAuth(client.clientId, client.clientSecret);

describe('POST /oauth2/token for each demo client', () => {
  describe.each([
    ['Patient Access (CCRI)', DEMO_PATIENT_ACCESS_CLIENT],
    ['Patient, Condition & Medication Access (CCRI)', DEMO_CLINICAL_ACCESS_CLIENT],
    ['Limited Access (CCRI)', DEMO_LIMITED_ACCESS_CLIENT],
    ['the patient-bound client', DEMO_PATIENT_CLIENT],
    ['the writer', WRITER],
  ])('%s', (_name, client) => {
    it('gets a Bearer token with its exact credentials, uncached, with every registered scope', async () => {
      const { status, headers, body } = await requestToken({ authorization: basicOf(client) });
      expect(status).toBe(200);
      expect(headers.get('content-type')).toMatch(/^application\/json/);
      expect(headers.get('cache-control')).toBe('no-store');
      expect(headers.get('pragma')).toBe('no-cache');
      expect(body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 3600, scope: client.scope });
    });

    it('gets a token that verifies against the served JWKS and carries the RFC 9068 claims', async () => {
      const { body } = await requestToken({ authorization: basicOf(client) });
      const token = body.access_token as string;
      const payload = await verifyAccessToken(token, jwks, { issuer: api.baseUrl, audience: api.fhirBase });
      const { header } = decodeJwt(token);
      expect(header).toEqual({ alg: 'RS256', typ: 'at+jwt', kid: jwks.keys[0]!.kid });
      expect(payload).toEqual({
        iss: api.baseUrl,
        aud: api.fhirBase,
        sub: client.clientId,
        client_id: client.clientId,
        scope: client.scope,
        iat: expect.any(Number),
        exp: (payload.iat as number) + 3600,
        jti: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
        ...(client.patient ? { patient: client.patient } : {}),
      });
    });
  });

  it('binds the patient-bound client to Patient 1 and no CCRI client to any patient', async () => {
    const bound = await requestToken({ authorization: basicOf(DEMO_PATIENT_CLIENT) });
    expect(decodeJwt(bound.body.access_token as string).payload.patient).toBe('1');
    for (const client of CCRI_DEMO_CLIENTS) {
      const { body } = await requestToken({ authorization: basicOf(client) });
      expect(decodeJwt(body.access_token as string).payload).not.toHaveProperty('patient');
    }
  });

  it('accepts client_secret_post (client_id and client_secret in the form)', async () => {
    const c = DEMO_LIMITED_ACCESS_CLIENT;
    const { status, body } = await requestToken({
      form: { grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.clientSecret },
    });
    expect(status).toBe(200);
    expect(body.scope).toBe('profile');
  });

  it('narrows the token to the requested subset of the registered scopes', async () => {
    const { status, body } = await requestToken({
      authorization: basicOf(DEMO_CLINICAL_ACCESS_CLIENT),
      form: { grant_type: 'client_credentials', scope: 'patient/Condition.read profile' },
    });
    expect(status).toBe(200);
    expect(body.scope).toBe('patient/Condition.read profile');
    expect(decodeJwt(body.access_token as string).payload.scope).toBe('patient/Condition.read profile');
  });

  it('gives a read-only token to the writer that asks for system/*.read', async () => {
    const { body } = await requestToken({
      authorization: basicOf(WRITER),
      form: { grant_type: 'client_credentials', scope: 'system/*.read' },
    });
    expect(body.scope).toBe('system/*.read');
  });

  it('gives each token its own jti', async () => {
    const a = await requestToken({ authorization: basicOf(DEMO_LIMITED_ACCESS_CLIENT) });
    const b = await requestToken({ authorization: basicOf(DEMO_LIMITED_ACCESS_CLIENT) });
    expect(decodeJwt(a.body.access_token as string).payload.jti).not.toBe(decodeJwt(b.body.access_token as string).payload.jti);
  });
});

describe('GET /.well-known/jwks.json', () => {
  it('serves the RS256 signing key, publicly cacheable for 5 minutes', async () => {
    const response = await fetch(`${api.baseUrl}/.well-known/jwks.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.headers.get('cache-control')).toBe('public, max-age=300');
    const body = (await response.json()) as { keys: Array<Record<string, string>> };
    expect(body.keys).toHaveLength(1);
    expect(body.keys[0]).toEqual({
      kty: 'RSA',
      n: expect.stringMatching(/^[A-Za-z0-9_-]{342}$/),
      e: 'AQAB',
      kid: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      alg: 'RS256',
      use: 'sig',
    });
  });
});

describe('POST /oauth2/token refusals (RFC 6749 §5.2)', () => {
  const c = DEMO_PATIENT_ACCESS_CLIENT;
  const WWW_AUTHENTICATE = 'Basic realm="ccri"';

  it.each<[string, TokenCall, number, string]>([
    ['grant_type=password', { authorization: basicOf(c), form: { grant_type: 'password', username: 'u', password: 'p' } }, 400, 'unsupported_grant_type'],
    ['grant_type=authorization_code', { authorization: basicOf(c), form: { grant_type: 'authorization_code', code: 'x' } }, 400, 'unsupported_grant_type'],
    ['no grant_type', { authorization: basicOf(c), form: { scope: 'profile' } }, 400, 'invalid_request'],
    ['grant_type repeated', { authorization: basicOf(c), form: 'grant_type=client_credentials&grant_type=client_credentials' }, 400, 'invalid_request'],
    ['Basic and client_secret in the form at once', { authorization: basicOf(c), form: { grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.clientSecret } }, 400, 'invalid_request'],
    ['a JSON body', { authorization: basicOf(c), contentType: 'application/json', form: JSON.stringify({ grant_type: 'client_credentials' }) }, 400, 'invalid_request'],
    ['a text/plain body', { authorization: basicOf(c), contentType: 'text/plain', form: 'grant_type=client_credentials' }, 400, 'invalid_request'],
    ['a body over 8 KB', { authorization: basicOf(c), form: { grant_type: 'client_credentials', pad: 'x'.repeat(9000) } }, 413, 'invalid_request'],
    ['a scope not registered for the client', { authorization: basicOf(c), form: { grant_type: 'client_credentials', scope: 'patient/Condition.read' } }, 400, 'invalid_scope'],
    ['a scope that widens a registered one', { authorization: basicOf(c), form: { grant_type: 'client_credentials', scope: 'user/*.read' } }, 400, 'invalid_scope'],
  ])('refuses %s: %i %s', async (_name, call, status, error) => {
    const response = await requestToken(call);
    expect(response.status).toBe(status);
    expect(response.body).toEqual({ error, error_description: expect.any(String) });
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('www-authenticate')).toBeNull();
  });

  it.each<[string, TokenCall]>([
    ['no client authentication', {}],
    ['only a client_id in the form', { form: { grant_type: 'client_credentials', client_id: c.clientId } }],
    ['a Bearer Authorization header', { authorization: 'Bearer abc.def.ghi' }],
    ['a client_assertion (private_key_jwt)', { form: { grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: 'x.y.z' } }],
    ['the disabled client with its right secret', { authorization: basicOf(DISABLED) }],
  ])('refuses %s: 401 invalid_client with WWW-Authenticate Basic', async (_name, call) => {
    const response = await requestToken(call);
    expect(response.status).toBe(401);
    expect(response.body).toEqual({ error: 'invalid_client', error_description: expect.any(String) });
    expect(response.headers.get('www-authenticate')).toBe(WWW_AUTHENTICATE);
    expect(response.headers.get('cache-control')).toBe('no-store');
  });

  it('tells a client that sends "Basic id:secret" unencoded, as the CCRI page shows it, to base64-encode it', async () => {
    const response = await requestToken({ authorization: `Basic ${c.clientId}:${c.clientSecret}` });
    expect(response.status).toBe(401);
    expect(response.body).toEqual({ error: 'invalid_client', error_description: expect.stringMatching(/base64-encoded/) });
    expect(response.headers.get('www-authenticate')).toBe(WWW_AUTHENTICATE);
  });

  it('answers an unknown client exactly like a wrong secret', async () => {
    const unknown = await requestToken({ authorization: basicAuth('00000000-0000-0000-0000-000000000000', c.clientSecret) });
    const wrongSecret = await requestToken({ authorization: basicAuth(c.clientId, `${c.clientSecret}x`) });
    const wrongPostSecret = await requestToken({
      form: { grant_type: 'client_credentials', client_id: c.clientId, client_secret: 'nope' },
    });
    for (const response of [unknown, wrongSecret, wrongPostSecret]) {
      expect(response.status).toBe(401);
      expect(response.body).toEqual({ error: 'invalid_client', error_description: 'Client authentication failed.' });
      expect(response.headers.get('www-authenticate')).toBe(WWW_AUTHENTICATE);
    }
  });

  it('says a disabled client is disabled only to a caller that proved its secret', async () => {
    const right = await requestToken({ authorization: basicOf(DISABLED) });
    const wrong = await requestToken({ authorization: basicAuth(DISABLED.clientId, 'wrong') });
    expect(right.body.error_description).toBe('The client is disabled.');
    expect(wrong.body.error_description).toBe('Client authentication failed.');
  });
});
