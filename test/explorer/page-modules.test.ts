/**
 * The explorer's pure page modules, run in Node (which has WebCrypto, atob and TextDecoder as browsers do):
 * in-browser JWT verification against a token signed by the server's own signer, and the WWW-Authenticate reading.
 */
import { describe, expect, it } from 'vitest';
import { LocalRsaSigner } from '../../functions/oauth/signer';
import { signJwt } from '../../functions/oauth/token';
import { parseChallenge } from '../../web/src/explain';
import { decodeJwt, verifyJwt } from '../../web/src/jwt';

const signer = new LocalRsaSigner();
const claims = { iss: 'http://x', aud: 'http://x/STU3', sub: 'c', client_id: 'c', scope: 'profile', iat: 1, exp: 2, jti: 'j' };
const reencode = (part: unknown) => Buffer.from(JSON.stringify(part)).toString('base64url');

describe('in-browser JWT verification (web/src/jwt.ts)', () => {
  it('verifies a token of the server signer against its JWKS, and refuses every alteration with a reason', async () => {
    const token = await signJwt(claims as never, signer);
    const jwks = { keys: await signer.publicJwks() };
    expect(await verifyJwt(decodeJwt(token), jwks)).toEqual({ verified: true, kid: await signer.currentKid() });

    const [h, c, s] = token.split('.') as [string, string, string];
    const header = JSON.parse(Buffer.from(h, 'base64url').toString());
    const cases: Array<[string, string, RegExp]> = [
      ['claims changed', `${h}.${reencode({ ...claims, scope: 'user/*.*' })}.${s}`, /does not match/],
      ['signature of another key', `${h}.${c}.${(await signJwt(claims as never, new LocalRsaSigner())).split('.')[2]}`, /does not match/],
      ['alg none', `${reencode({ ...header, alg: 'none' })}.${c}.`, /RS256 only/],
      ['unknown kid', `${reencode({ ...header, kid: 'other' })}.${c}.${s}`, /no key with kid "other"/],
    ];
    for (const [name, forged, reason] of cases) {
      const result = await verifyJwt(decodeJwt(forged), jwks);
      expect(result, name).toMatchObject({ verified: false });
      expect((result as { reason: string }).reason, name).toMatch(reason);
    }
  });

  it('says what is wrong with something that is not a JWT', () => {
    expect(() => decodeJwt('abc')).toThrow('3 dot-separated parts; this has 1');
    expect(() => decodeJwt('a.b.c')).toThrow('header is not base64url-encoded JSON');
    expect(() => decodeJwt(`${reencode([1])}.${reencode({})}.x`)).toThrow('header is not a JSON object');
    expect(() => decodeJwt(`${reencode({})}.${reencode({})}.x+y`)).toThrow('signature is not base64url');
  });
});

describe('WWW-Authenticate in plain words (web/src/explain.ts)', () => {
  it('reads the scheme and the auth-params, quoted strings with escapes included', () => {
    expect(parseChallenge('Bearer realm="ccri-fhir", error="insufficient_scope"')).toEqual({ scheme: 'Bearer', realm: 'ccri-fhir', error: 'insufficient_scope' });
    expect(parseChallenge('Bearer error_description="a \\"quoted\\" word"')).toEqual({ scheme: 'Bearer', error_description: 'a "quoted" word' });
    expect(parseChallenge('')).toEqual({});
  });
});
