import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JwksUnavailableError, TokenRejectedError } from './errors';
import { createJwksTokenVerifier } from './jwks-verifier';
import { claims, goodToken, jwksOf, makeKey } from './tokens.fixture';

const ISSUER = 'https://api.example/prod';
const expected = { issuer: ISSUER, audience: `${ISSUER}/STU3` };
const key = makeKey('k1');
let fetches = 0;
let body = JSON.stringify(jwksOf(key));
let server: Server;
let uri = '';

beforeAll(async () => {
  server = createServer((_, res) => {
    fetches++;
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  uri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
});
afterAll(() => server.close());

describe('the token function’s verifier of its own tokens (verifyJwtSync over a fetched JWKS)', () => {
  it('verifies a good token with the authorizer’s checks, fetching the JWKS once', async () => {
    const verifier = createJwksTokenVerifier({ jwksUri: () => uri });
    const token = goodToken(key, claims({ iss: ISSUER, aud: expected.audience, client_id: 'c1', scope: 'user/*.read' }));
    const before = fetches;
    await expect(verifier.verify(token, expected)).resolves.toMatchObject({ clientId: 'c1', scope: 'user/*.read' });
    await expect(verifier.verify(token, expected)).resolves.toMatchObject({ clientId: 'c1' });
    expect(fetches - before).toBe(1);
  });

  it('refuses a wrong audience, a foreign key and alg none; an unknown kid costs at most one fetch per penalty', async () => {
    const verifier = createJwksTokenVerifier({ jwksUri: () => uri, penaltySeconds: 60 });
    const good = claims({ iss: ISSUER, aud: expected.audience, client_id: 'c1' });
    await expect(verifier.verify(goodToken(key, { ...good, aud: 'https://other' }), expected)).rejects.toBeInstanceOf(TokenRejectedError);
    const before = fetches;
    const stranger = makeKey('k2');
    for (let i = 0; i < 3; i++) await expect(verifier.verify(goodToken(stranger, good), expected)).rejects.toBeInstanceOf(TokenRejectedError);
    expect(fetches - before).toBe(0);
    await expect(verifier.verify(goodToken(key, good, { alg: 'none' }), expected)).rejects.toThrow(/alg/);
  });

  it('answers JwksUnavailableError (503, not 401) when the JWKS is not a JWKS', async () => {
    body = '{"not":"a jwks"}';
    const verifier = createJwksTokenVerifier({ jwksUri: () => uri });
    const token = goodToken(key, claims({ iss: ISSUER, aud: expected.audience, client_id: 'c1' }));
    await expect(verifier.verify(token, expected)).rejects.toBeInstanceOf(JwksUnavailableError);
    body = JSON.stringify(jwksOf(key));
  });
});
