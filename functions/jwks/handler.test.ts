import { describe, expect, it } from 'vitest';
import { proxyEvent } from '../../test/oauth/events';
import { LocalRsaSigner, type JwtSigner } from '../oauth/signer';
import { createJwksHandler } from './handler';

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

  it('answers 503 temporarily_unavailable, uncached, when reading the keys fails unexpectedly', async () => {
    const signer: JwtSigner = {
      alg: 'RS256',
      currentKid: async () => 'k',
      sign: async () => new Uint8Array(),
      publicJwks: async () => {
        throw new Error('boom');
      },
    };
    const response = await createJwksHandler({ signer, logger: { info() {}, warn() {}, error() {} } })(event);
    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body)).toMatchObject({ error: 'temporarily_unavailable' });
    expect(response.headers).toMatchObject({ 'Cache-Control': 'no-store', 'Retry-After': '5' });
  });
});
