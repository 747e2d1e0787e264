import { describe, expect, it } from 'vitest';
import { proxyEvent } from '../../test/oauth/events';
import { LocalRsaSigner, type JwtSigner } from '../oauth/signer';
import { createJwksHandler } from './handler';
import { StoreUnavailableError } from '../errors';

function countingSigner(inner: JwtSigner) {
  let calls = 0;
  const signer: JwtSigner = {
    alg: 'RS256',
    currentKid: () => inner.currentKid(),
    sign: (input) => inner.sign(input),
    publicJwks: () => {
      calls += 1;
      return inner.publicJwks();
    },
  };
  return { signer, calls: () => calls };
}

const event = proxyEvent({ path: '/.well-known/jwks.json' });

describe('the jwks function', () => {
  it('serves the signer public keys as a JWKS, publicly cacheable', async () => {
    const inner = new LocalRsaSigner();
    const response = await createJwksHandler({ signer: inner })(event);
    expect(response.statusCode).toBe(200);
    expect(response.headers).toMatchObject({ 'Cache-Control': 'public, max-age=300', 'Content-Type': 'application/json; charset=utf-8' });
    expect(JSON.parse(response.body)).toEqual({ keys: await inner.publicJwks() });
  });

  it('keeps the keys in the container for the cache period, then reads them again', async () => {
    let now = 1_000_000;
    const { signer, calls } = countingSigner(new LocalRsaSigner());
    const handler = createJwksHandler({ signer, cacheSeconds: 60, now: () => now });
    await handler(event);
    now += 59_000;
    await handler(event);
    expect(calls()).toBe(1);
    now += 2_000;
    await handler(event);
    expect(calls()).toBe(2);
  });

  const failing = (err: Error): JwtSigner => ({
    alg: 'RS256',
    currentKid: async () => 'k',
    sign: async () => new Uint8Array(),
    publicJwks: async () => {
      throw err;
    },
  });

  it('answers 503 temporarily_unavailable, uncached, when the key store (KMS) is unavailable', async () => {
    const response = await createJwksHandler({ signer: failing(new StoreUnavailableError(undefined, { cause: new Error('ThrottlingException') })), logger: { info() {}, warn() {}, error() {} } })(event);
    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body)).toMatchObject({ error: 'temporarily_unavailable' });
    expect(response.headers).toMatchObject({ 'Cache-Control': 'no-store', 'Retry-After': '5' });
  });

  it('answers a bug with 500 server_error that hides it, uncached, never a 503 that disguises it as an outage', async () => {
    const response = await createJwksHandler({ signer: failing(new TypeError('boom')), logger: { info() {}, warn() {}, error() {} } })(event);
    expect(response.statusCode).toBe(500);
    expect(JSON.parse(response.body)).toEqual({ error: 'server_error', error_description: 'Internal error.' });
    expect(response.headers).toMatchObject({ 'Cache-Control': 'no-store' });
    expect(response.body).not.toContain('boom');
  });
});
