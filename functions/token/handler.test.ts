import { describe, expect, it } from 'vitest';
import { basicAuth, proxyEvent, TEST_BASE_URL, tokenEvent } from '../../test/oauth/events';
import { decodeJwt } from '../../test/oauth/verify';
import { InMemoryClientStore, type ClientStore } from '../oauth/clients';
import { DEMO_PATIENT_ACCESS_CLIENT as CLIENT, demoClientRecord } from '../oauth/demo-clients';
import { LocalRsaSigner } from '../oauth/signer';
import { createTokenHandler, type TokenHandlerDeps } from './handler';

const signer = new LocalRsaSigner();

function recordingLogger() {
  const lines: string[] = [];
  const record = (level: string) => (message: string, ...extra: unknown[]) => {
    lines.push(`${level} ${message} ${JSON.stringify(extra, (_k, v: unknown) => (v instanceof Error ? `${v.name}: ${v.message}` : v))}`);
  };
  return { lines, logger: { info: record('info'), warn: record('warn'), error: record('error') } };
}

async function handlerWith(overrides: Partial<TokenHandlerDeps> = {}) {
  const clients = new InMemoryClientStore();
  await clients.put(demoClientRecord(CLIENT));
  const { lines, logger } = recordingLogger();
  return { lines, handler: createTokenHandler({ clients, signer, tokenLifetimeSeconds: 3600, logger, limiter: null, ...overrides } as TokenHandlerDeps) };
}

const auth = { Authorization: basicAuth(CLIENT.clientId, CLIENT.clientSecret) };

describe('the token function', () => {
  it('takes iss from the URL the client called and aud from it plus /STU3 when they are not configured', async () => {
    const { handler } = await handlerWith();
    const response = await handler(tokenEvent({ grant_type: 'client_credentials' }, auth));
    expect(response.statusCode).toBe(200);
    const { payload } = decodeJwt(JSON.parse(response.body).access_token);
    expect(payload).toMatchObject({ iss: TEST_BASE_URL, aud: `${TEST_BASE_URL}/STU3` });
  });

  it('uses the configured issuer and audience', async () => {
    const { handler } = await handlerWith({ issuer: 'https://fhir.example.org', audience: 'https://fhir.example.org/STU3' });
    const response = await handler(tokenEvent({ grant_type: 'client_credentials' }, auth));
    expect(decodeJwt(JSON.parse(response.body).access_token).payload).toMatchObject({
      iss: 'https://fhir.example.org',
      aud: 'https://fhir.example.org/STU3',
    });
  });

  it('reads a body that API Gateway passed base64-encoded', async () => {
    const { handler } = await handlerWith();
    const response = await handler(
      proxyEvent({
        method: 'POST',
        path: '/oauth2/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: auth.Authorization },
        body: 'grant_type=client_credentials&scope=profile',
        base64: true,
      }),
    );
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body).scope).toBe('profile');
  });

  it('answers an unexpected failure with a generic 500 that hides the details', async () => {
    const broken: ClientStore = {
      get: async () => {
        throw new Error('bug: secret internals');
      },
      put: async () => undefined,
    };
    const { handler, lines } = await handlerWith({ clients: broken });
    const response = await handler(tokenEvent({ grant_type: 'client_credentials' }, auth));
    expect(response.statusCode).toBe(500);
    expect(JSON.parse(response.body)).toEqual({ error: 'server_error', error_description: 'Internal error.' });
    expect(response.body).not.toContain('internals');
    expect(lines.join('\n')).toContain('bug: secret internals');
  });

  it('logs who got a token and why a request was refused, never the secret, the header or the token', async () => {
    const { handler, lines } = await handlerWith();
    const ok = await handler(tokenEvent({ grant_type: 'client_credentials' }, auth));
    await handler(tokenEvent({ grant_type: 'client_credentials' }, { Authorization: basicAuth(CLIENT.clientId, 'wrong') }));
    await handler(tokenEvent({ grant_type: 'client_credentials', client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret, scope: 'nope' }));
    const log = lines.join('\n');
    expect(log).toContain(CLIENT.clientId);
    expect(log).toContain('wrong or expired secret');
    expect(log).not.toContain(CLIENT.clientSecret);
    expect(log).not.toContain(auth.Authorization.slice(6));
    expect(log).not.toContain(JSON.parse(ok.body).access_token);
  });
});
