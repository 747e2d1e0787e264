import { sign } from 'node:crypto';
import type { APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { evaluatePolicy } from '../../local/policy';
import { configFromEnv } from './config';
import { createAuthorizerHandler, type AuthorizerConfig, type AuthorizerLog } from './handler';
import { claims, encodeSegment, goodToken, jwksOf, makeKey, signHs256, signRsa } from './tokens.fixture';
import type { Fetcher } from './verifier';

const ISSUER = 'https://abc123.execute-api.eu-west-2.amazonaws.com/prod';
const AUDIENCE = `${ISSUER}/STU3`;
const ARN_PREFIX = 'arn:aws:execute-api:eu-west-2:123456789012:abc123/prod';
const METHOD_ARN = `${ARN_PREFIX}/GET/STU3/Patient/1`;

const key = makeKey('key-1');
const otherKey = makeKey('key-1'); // same kid, different key: a forger's
const strangerKey = makeKey('key-2'); // not in the JWKS
const otherDeploymentKey = makeKey('other-deployment-key');
const publicPem = key.publicKey.export({ format: 'pem', type: 'spki' }) as string;

function countingFetcher(body: unknown = jwksOf(key)): Fetcher & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async fetch(uri: string) {
      calls.push(uri);
      const buf = Buffer.from(JSON.stringify(body));
      return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
    },
  };
}

function silentLogger() {
  return { warn: vi.fn(), error: vi.fn(), debug: vi.fn(), info: vi.fn() };
}

function setup(config: Partial<AuthorizerConfig> = {}) {
  const fetcher = countingFetcher();
  const logger = silentLogger();
  const handler = createAuthorizerHandler({
    verifier: { jwks: jwksOf(key), fetcher },
    revocations: { fetchList: async () => ({ jti: [], clients: {} }) },
    logger: logger as unknown as AuthorizerLog,
    ...config,
  });
  const call = (authorizationToken: string | undefined, methodArn = METHOD_ARN) =>
    handler({ type: 'TOKEN', authorizationToken, methodArn } as APIGatewayTokenAuthorizerEvent);
  return { handler, call, fetcher, logger };
}

const now = () => Math.floor(Date.now() / 1000);
const base = { iss: ISSUER, aud: AUDIENCE, scope: 'profile user/Patient.read', client_id: 'client-a' };
const valid = () => goodToken(key, claims(base));

describe('a valid token', () => {
  it('gets the client as principal, the cache-safe policy and the context', async () => {
    const { call } = setup();
    const result = await call(`Bearer ${valid()}`);
    expect(result.principalId).toBe('client-a');
    expect(result.context).toEqual({ clientId: 'client-a', scope: 'profile user/Patient.read', grants: 'Patient:rs' });
    expect(evaluatePolicy(result.policyDocument, METHOD_ARN)).toBe('allow');
    expect(evaluatePolicy(result.policyDocument, `${ARN_PREFIX}/GET/STU3/Patient`)).toBe('allow');
    expect(evaluatePolicy(result.policyDocument, `${ARN_PREFIX}/GET/STU3/Organization/7`)).toBe('allow');
    expect(evaluatePolicy(result.policyDocument, `${ARN_PREFIX}/GET/STU3/Condition/1`)).toBe('implicit-deny');
    expect(evaluatePolicy(result.policyDocument, `${ARN_PREFIX}/PUT/STU3/Patient/1`)).toBe('implicit-deny');
  });

  it('carries the bound patient into the context', async () => {
    const { call } = setup();
    const result = await call(`Bearer ${goodToken(key, claims({ ...base, scope: 'patient/Condition.rs', patient: 'pat-9' }))}`);
    expect(result.context).toEqual({ clientId: 'client-a', scope: 'patient/Condition.rs', patient: 'pat-9', grants: 'patient/Condition:rs' });
  });

  it('is accepted only as "Bearer <jws>": one spelling per token, so one authorizer cache key per token', async () => {
    const { call } = setup();
    const token = valid();
    await expect(call(`Bearer ${token}`)).resolves.toMatchObject({ principalId: 'client-a' });
    for (const header of [`bearer ${token}`, `Bearer  ${token}`, `Bearer ${token} `, ` Bearer ${token}`, `Bearer ${token}=`, `Bearer\t${token}`]) {
      await expect(call(header), JSON.stringify(header.slice(0, 10))).rejects.toThrow('Unauthorized');
    }
  });

  it.each([
    ['expired 30 s ago (within the 60 s skew)', { exp: now() - 30 }],
    ['not valid before 30 s from now (within the skew)', { nbf: now() + 30 }],
    ['with an audience list holding the FHIR base', { aud: ['https://elsewhere.example', AUDIENCE] }],
    ['with typ application/at+jwt', {}],
  ])('is accepted %s', async (name, extra) => {
    const { call } = setup();
    const header = name.includes('application/at+jwt') ? { typ: 'application/at+jwt' } : {};
    await expect(call(`Bearer ${goodToken(key, { ...claims(base), ...extra }, header)}`)).resolves.toMatchObject({
      principalId: 'client-a',
    });
  });

  it('loads the JWKS once per container, from <issuer>/.well-known/jwks.json, derived from the method ARN', async () => {
    const fetcher = countingFetcher();
    const { call } = setup({ verifier: { fetcher } });
    await call(`Bearer ${valid()}`);
    await call(`Bearer ${valid()}`, `${ARN_PREFIX}/GET/STU3/Organization`);
    expect(fetcher.calls).toEqual([`${ISSUER}/.well-known/jwks.json`]);
  });

  it('is checked against the configured issuer and audience when set', async () => {
    const fetcher = countingFetcher();
    const { call } = setup({ issuer: 'https://fhir.example.nhs.uk', audience: 'https://fhir.example.nhs.uk/STU3', verifier: { fetcher } });
    const token = goodToken(key, claims({ ...base, iss: 'https://fhir.example.nhs.uk', aud: 'https://fhir.example.nhs.uk/STU3' }));
    await expect(call(`Bearer ${token}`)).resolves.toMatchObject({ principalId: 'client-a' });
    await expect(call(`Bearer ${valid()}`)).rejects.toThrow('Unauthorized');
    expect(fetcher.calls).toEqual(['https://fhir.example.nhs.uk/.well-known/jwks.json']);
  });
});

const HEADER = /malformed Authorization header/;
const PARSE = /JwtParseError/;
const other = 'https://zzz999.execute-api.eu-west-2.amazonaws.com/prod';
const tampered = () => {
  const [h, , s] = valid().split('.');
  return `Bearer ${h}.${encodeSegment(claims({ ...base, scope: 'system/*.*' }))}.${s}`;
};
const none = (header: object, signature = '') => `Bearer ${encodeSegment(header)}.${encodeSegment(claims(base))}.${signature}`;

/** [attack, Authorization header value, the reason the log must give]. */
const attacks: Array<[string, () => string | undefined, RegExp]> = [
  ['no Authorization header', () => undefined, HEADER],
  ['an empty header', () => '', HEADER],
  ['another scheme', () => `Basic ${Buffer.from('a:b').toString('base64')}`, HEADER],
  ['the token without the Bearer prefix', () => valid(), HEADER],
  ['"Bearer" alone', () => 'Bearer', HEADER],
  ['"Bearer " and nothing', () => 'Bearer ', HEADER],
  ['an extra part after the token', () => `Bearer ${valid()} extra`, HEADER],
  ['two tokens', () => `Bearer ${valid()},Bearer ${valid()}`, HEADER],
  ['a huge token', () => `Bearer ${'a'.repeat(20_000)}.b.c`, HEADER],
  ['a non-JWT', () => 'Bearer not-a-jwt', HEADER],
  ['a truncated token (no signature)', () => `Bearer ${valid().split('.').slice(0, 2).join('.')}`, HEADER],
  ['a truncated token (cut short)', () => `Bearer ${valid().slice(0, 150)}`, /JwtParseError|canonical|HEADER|malformed/],
  ['an empty signature', () => `Bearer ${valid().split('.').slice(0, 2).join('.')}.`, HEADER],
  ['a header that is not JSON', () => `Bearer ${Buffer.from('{nope').toString('base64url')}.${valid().split('.').slice(1).join('.')}`, PARSE],
  ['alg none (empty signature)', () => none({ alg: 'none', typ: 'at+jwt', kid: key.kid }), HEADER],
  ['alg none with a bogus signature', () => none({ alg: 'none', typ: 'at+jwt', kid: key.kid }, 'AAAA'), /alg "none" is not RS256/],
  ['alg none without kid', () => none({ alg: 'none', typ: 'at+jwt' }, 'AAAA'), /alg "none" is not RS256/],
  ['HS256 signed with the public key', () => `Bearer ${signHs256({ alg: 'HS256', typ: 'at+jwt', kid: key.kid }, claims(base), publicPem)}`, /alg "HS256" is not RS256/],
  ['RS384 with the right key', () => `Bearer ${signRsa({ alg: 'RS384', typ: 'at+jwt', kid: key.kid }, claims(base), key.privateKey, 'sha384')}`, /alg "RS384" is not RS256/],
  ['an expired token (beyond the 60 s skew)', () => `Bearer ${goodToken(key, { ...claims(base), exp: now() - 61 - 5 })}`, /JwtExpiredError/],
  ['nbf in the future (beyond the 60 s skew)', () => `Bearer ${goodToken(key, { ...claims(base), nbf: now() + 300 })}`, /JwtNotBeforeError/],
  ['no exp', () => `Bearer ${goodToken(key, { ...claims(base), exp: undefined })}`, /no exp/],
  ['no iat', () => `Bearer ${goodToken(key, { ...claims(base), iat: undefined })}`, /no iat/],
  ['a payload tampered with after signing', tampered, /JwtInvalidSignatureError/],
  ['an unknown kid', () => `Bearer ${goodToken(strangerKey, claims(base))}`, /KidNotFoundInJwksError/],
  ['no kid', () => `Bearer ${signRsa({ alg: 'RS256', typ: 'at+jwt' }, claims(base), key.privateKey)}`, /no kid/],
  ['a wrong issuer', () => `Bearer ${goodToken(key, claims({ ...base, iss: 'https://evil.example' }))}`, /JwtInvalidIssuerError/],
  ['no issuer', () => `Bearer ${goodToken(key, { ...claims(base), iss: undefined })}`, /JwtInvalidIssuerError/],
  ['a wrong audience', () => `Bearer ${goodToken(key, claims({ ...base, aud: ISSUER }))}`, /JwtInvalidAudienceError/],
  ['no audience', () => `Bearer ${goodToken(key, { ...claims(base), aud: undefined })}`, /JwtInvalidAudienceError/],
  ['typ JWT', () => `Bearer ${goodToken(key, claims(base), { typ: 'JWT' })}`, /typ "JWT" is not at\+jwt/],
  ['no typ', () => `Bearer ${goodToken(key, claims(base), { typ: undefined })}`, /typ undefined is not at\+jwt/],
  ['a token signed by a different RSA key with the same kid', () => `Bearer ${goodToken(otherKey, claims(base))}`, /JwtInvalidSignatureError/],
  [
    'a token of another deployment (its issuer, audience and key)',
    () => `Bearer ${goodToken(otherDeploymentKey, claims({ ...base, iss: other, aud: `${other}/STU3` }))}`,
    /KidNotFoundInJwksError/,
  ],
  [
    'a token of another deployment that uses the same kid and key (its issuer)',
    () => `Bearer ${goodToken(key, claims({ ...base, iss: other, aud: `${other}/STU3` }))}`,
    /JwtInvalidIssuerError/,
  ],
  ['no client_id', () => `Bearer ${goodToken(key, { ...claims(base), client_id: undefined })}`, /no client_id/],
  ['a scope that is not a string', () => `Bearer ${goodToken(key, { ...claims(base), scope: ['user/*.*'] })}`, PARSE],
  ['a patient that is not a FHIR id', () => `Bearer ${goodToken(key, claims({ ...base, patient: '../1' }))}`, /patient is not a FHIR id/],
];

describe('verifier leniency (issue 13.10): refused with Unauthorized (401)', () => {
  it('a JWS with a crit header parameter (RFC 7515 §4.1.11)', async () => {
    const { call } = setup();
    const token = goodToken(key, claims(base), { crit: ['exp'] });
    await expect(call(`Bearer ${token}`)).rejects.toThrow('Unauthorized');
  });

  it('a token issued in the future beyond the clock skew, and not one within it', async () => {
    const { call } = setup();
    await expect(call(`Bearer ${goodToken(key, claims(base, now() + 300))}`)).rejects.toThrow('Unauthorized');
    await expect(call(`Bearer ${goodToken(key, claims(base, now() + 30))}`)).resolves.toMatchObject({ principalId: 'client-a' });
  });

  it('a non-canonical base64url spelling of a valid token (same bytes, another cache key)', async () => {
    const { call } = setup();
    const token = valid();
    const [h, p, sig] = token.split('.') as [string, string, string];
    // An RS256 signature is 256 bytes: its last base64url character carries 4 unused bits.
    const last = sig.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const variant = alphabet[(alphabet.indexOf(last) & ~15) | ((alphabet.indexOf(last) + 1) & 15)]!;
    const respelled = `${h}.${p}.${sig.slice(0, -1)}${variant}`;
    expect(Buffer.from(respelled.split('.')[2]!, 'base64url')).toEqual(Buffer.from(sig, 'base64url'));
    await expect(call(`Bearer ${token}`)).resolves.toMatchObject({ principalId: 'client-a' });
    await expect(call(`Bearer ${respelled}`)).rejects.toThrow('Unauthorized');
  });
});

describe('an invalid token is refused with Unauthorized (401), never another error', () => {
  it.each(attacks)('%s', async (_name, header, reason) => {
    const { call, logger } = setup();
    const value = header();
    const rejection = await call(value).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(rejection).toBeInstanceOf(Error);
    expect((rejection as Error).message).toBe('Unauthorized');
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(logger.warn.mock.calls[0]![1]).toEqual({ reason: expect.stringMatching(reason) });
    // The reason is logged, the token never is.
    const logged = JSON.stringify([...logger.warn.mock.calls, ...logger.error.mock.calls]);
    const token = value?.replace(/^\S+\s+/, '') ?? '';
    if (token.length > 20) expect(logged).not.toContain(token.slice(-20));
  });
});

/** A token over a payload given as JSON TEXT (what JSON.stringify would never write), signed with `key`. */
function rawPayloadToken(payloadJson: string, header: object = { alg: 'RS256', typ: 'at+jwt', kid: key.kid }): string {
  const input = `${encodeSegment(header)}.${Buffer.from(payloadJson).toString('base64url')}`;
  return `${input}.${sign('sha256', Buffer.from(input), key.privateKey).toString('base64url')}`;
}
const payloadJson = (extra: string) => JSON.stringify(claims(base)).replace(/}$/, `,${extra}}`);

describe('taking a token apart (the authorizer\'s own decomposition, verifier.ts): as strict as aws-jwt-verify\'s', () => {
  it.each([
    ['an exp that JSON makes infinite', payloadJson('"exp":1e999')],
    ['an audience array holding a number', payloadJson(`"aud":["${AUDIENCE}",1]`)],
    ['a subject that is not a string', payloadJson('"sub":7')],
    ['a payload that is an array', '[1,2]'],
    ['a payload that is not JSON', '{"iss":'],
  ])('refuses %s (JwtParseError, 401)', async (_name, json) => {
    const { call, logger } = setup();
    await expect(call(`Bearer ${rawPayloadToken(json)}`)).rejects.toThrow('Unauthorized');
    expect(logger.warn.mock.calls[0]![1]).toEqual({ reason: expect.stringMatching(PARSE) });
  });

  it('drops __proto__ and constructor keys, spelt out or escaped, as the library does (no prototype pollution)', async () => {
    const { call } = setup();
    for (const extra of ['"__proto__":{"polluted":1}', '"\\u005f_proto__":{"polluted":1}', '"constructor":{"prototype":{"polluted":1}}']) {
      await expect(call(`Bearer ${rawPayloadToken(payloadJson(extra))}`), extra).resolves.toMatchObject({ principalId: 'client-a' });
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses a JWK that is not for RS256 signatures (checked once, when its key object is made)', async () => {
    for (const jwk of [{ ...key.jwk, alg: 'RS384' }, { ...key.jwk, use: 'enc' }]) {
      const { call, logger } = setup({ verifier: { jwks: { keys: [jwk] } as never, fetcher: countingFetcher({ keys: [jwk] }) } });
      await expect(call(`Bearer ${valid()}`), JSON.stringify(jwk).slice(-40)).rejects.toThrow('Unauthorized');
      expect(logger.warn.mock.calls[0]![1]).toEqual({ reason: expect.stringMatching(/JwtInvalidSignatureAlgorithmError|JwkInvalidUseError/) });
    }
  });

  it('checks every token\'s own header, though the header of a signing key is parsed once', async () => {
    const { call } = setup();
    await expect(call(`Bearer ${valid()}`)).resolves.toMatchObject({ principalId: 'client-a' });
    // The same key and claims under another header: each is checked (and signed) as it is.
    await expect(call(`Bearer ${goodToken(key, claims(base), { typ: 'JWT' })}`)).rejects.toThrow('Unauthorized');
    await expect(call(`Bearer ${rawPayloadToken(JSON.stringify(claims(base)), { alg: 'RS256', typ: 'at+jwt', kid: 'key-2' })}`)).rejects.toThrow('Unauthorized');
    await expect(call(`Bearer ${valid()}`)).resolves.toMatchObject({ principalId: 'client-a' });
  });
});

describe('the JWKS cache', () => {
  it('refetches on an unknown kid only once within the penalty period', async () => {
    const { call, fetcher } = setup();
    await expect(call(`Bearer ${goodToken(strangerKey, claims(base))}`)).rejects.toThrow('Unauthorized');
    await expect(call(`Bearer ${goodToken(makeKey('key-3'), claims(base))}`)).rejects.toThrow('Unauthorized');
    expect(fetcher.calls).toHaveLength(1);
    await expect(call(`Bearer ${valid()}`)).resolves.toMatchObject({ principalId: 'client-a' });
  });

  it('never fetches for a token its header already refuses, though the kid is unknown', async () => {
    const { call, fetcher, logger } = setup();
    for (const header of [{ typ: 'JWT' }, { alg: 'RS384' }, { crit: ['exp'] }]) {
      await expect(call(`Bearer ${goodToken(strangerKey, claims(base), header)}`)).rejects.toThrow('Unauthorized');
    }
    expect(fetcher.calls).toHaveLength(0);
    // each refusal names the header's fault
    const reasons = JSON.stringify(vi.mocked(logger.warn).mock.calls);
    for (const reason of ['typ \\"JWT\\" is not at+jwt', 'alg \\"RS384\\" is not RS256', 'crit header parameter']) expect(reasons).toContain(reason);
  });

  it('picks up a rotated key when a token names its new kid', async () => {
    const rotated = makeKey('key-rotated');
    const fetcher = countingFetcher(jwksOf(key, rotated));
    const { call } = setup({ verifier: { jwks: jwksOf(key), fetcher } });
    await expect(call(`Bearer ${goodToken(rotated, claims(base))}`)).resolves.toMatchObject({ principalId: 'client-a' });
    expect(fetcher.calls).toHaveLength(1);
  });
});

describe('a JWKS outage', () => {
  it('is an authorizer failure (API Gateway AUTHORIZER_FAILURE, 503), not a 401, and fails fast while it lasts', async () => {
    let calls = 0;
    const fetcher: Fetcher = {
      async fetch() {
        calls++;
        throw new Error('connect ECONNREFUSED');
      },
    };
    const { call, logger } = setup({ verifier: { fetcher } });
    const first = await call(`Bearer ${valid()}`).catch((err: Error) => err);
    expect(first).toBeInstanceOf(Error);
    expect((first as Error).message).not.toBe('Unauthorized');
    expect(logger.error).toHaveBeenCalled();
    await expect(call(`Bearer ${valid()}`)).rejects.not.toThrow('Unauthorized');
    expect(calls).toBe(1);
  });

  it('treats a document that is not a JWKS as an outage', async () => {
    const { call } = setup({ verifier: { fetcher: countingFetcher({ hello: 'world' }) } });
    await expect(call(`Bearer ${valid()}`)).rejects.toThrow('JWKS unavailable');
  });

  it('still refuses a malformed token with 401 without fetching', async () => {
    let calls = 0;
    const fetcher: Fetcher = {
      async fetch() {
        calls++;
        throw new Error('down');
      },
    };
    const { call } = setup({ verifier: { fetcher } });
    await expect(call('Bearer not-a-jwt')).rejects.toThrow('Unauthorized');
    await expect(call(`Bearer ${signHs256({ alg: 'HS256', typ: 'at+jwt', kid: 'x' }, claims(base), 'k')}`)).rejects.toThrow(
      'Unauthorized',
    );
    expect(calls).toBe(0);
  });
});

describe('strict patient scopes', () => {
  it('drops patient/ grants of a token without a bound patient', async () => {
    const { call } = setup({ strictPatientScopes: true });
    const result = await call(`Bearer ${goodToken(key, claims({ ...base, scope: 'patient/Condition.read user/Patient.read' }))}`);
    expect(result.context?.grants).toBe('Patient:rs');
    expect(evaluatePolicy(result.policyDocument, `${ARN_PREFIX}/GET/STU3/Condition/1`)).toBe('implicit-deny');
  });
});

describe('a method ARN that is not one', () => {
  it('is refused with Unauthorized', async () => {
    const { call } = setup();
    await expect(call(`Bearer ${valid()}`, 'nonsense')).rejects.toThrow('Unauthorized');
  });
});

describe('configFromEnv', () => {
  it('reads nothing by default: the revocation list at its default place, kept 30 s', () => {
    expect(configFromEnv({})).toEqual({ strictPatientScopes: false, revocations: { cacheSeconds: 30 } });
  });
  it('reads REVOCATIONS_URI and REVOCATION_CACHE_SECONDS (1..300)', () => {
    const config = configFromEnv({ REVOCATIONS_URI: 'https://keys.example/revoked', REVOCATION_CACHE_SECONDS: '5' });
    expect(config.revocations).toMatchObject({ cacheSeconds: 5 });
    expect((config.revocations as { uri: (i: string) => string }).uri('x')).toBe('https://keys.example/revoked');
    expect(() => configFromEnv({ REVOCATION_CACHE_SECONDS: '0' })).toThrow(/REVOCATION_CACHE_SECONDS/);
  });
  it('reads ISSUER, AUDIENCE, JWKS_URI and STRICT_PATIENT_SCOPES', () => {
    const config = configFromEnv({
      ISSUER: 'https://fhir.example.nhs.uk/',
      AUDIENCE: 'https://fhir.example.nhs.uk/STU3',
      JWKS_URI: 'https://keys.example/jwks.json',
      STRICT_PATIENT_SCOPES: 'TRUE',
    });
    expect(config).toMatchObject({ issuer: 'https://fhir.example.nhs.uk', audience: 'https://fhir.example.nhs.uk/STU3', strictPatientScopes: true });
    expect(config.verifier?.jwksUri?.('x')).toBe('https://keys.example/jwks.json');
  });
  it('refuses a STRICT_PATIENT_SCOPES that is not a boolean', () => {
    expect(() => configFromEnv({ STRICT_PATIENT_SCOPES: 'yes' })).toThrow(/STRICT_PATIENT_SCOPES/);
  });
});

describe('named scopes, expanded by the token endpoint into the ccri_grants claim', () => {
  it('grant what the claim says, with no database read', async () => {
    const { call } = setup();
    const token = goodToken(key, claims({ ...base, scope: 'ccri/medications.read', ccri_grants: 'MedicationRequest:rs MedicationStatement:rs' }));
    const result = await call(`Bearer ${token}`);
    expect(result.context?.grants).toBe('MedicationRequest:rs MedicationStatement:rs');
    expect(result.context?.scope).toBe('ccri/medications.read');
    expect(evaluatePolicy(result.policyDocument, `${ARN_PREFIX}/GET/STU3/MedicationRequest`)).toBe('allow');
    expect(evaluatePolicy(result.policyDocument, `${ARN_PREFIX}/GET/STU3/Patient/1`)).not.toBe('allow');
  });

  it('grant nothing by their name alone (an unknown name is no grant)', async () => {
    const { call } = setup();
    const result = await call(`Bearer ${goodToken(key, claims({ ...base, scope: 'ccri/medications.read' }))}`);
    expect(result.context?.grants).toBe('');
  });

  it.each([
    ['not a string', 42],
    ['a malformed item', 'MedicationRequest:rw'],
    ['an unknown type', 'Prescription:r'],
    ['a patient/ item (named scopes grant on whole types only)', 'patient/Observation:rs'],
  ])('refuse a token whose claim is %s (401)', async (_name, value) => {
    const { call } = setup();
    await expect(call(`Bearer ${goodToken(key, claims({ ...base, ccri_grants: value }))}`)).rejects.toThrow('Unauthorized');
  });
});

describe('the Lambda entry', () => {
  it('builds the handler from the environment once', async () => {
    vi.stubEnv('ISSUER', ISSUER);
    vi.stubEnv('STRICT_PATIENT_SCOPES', 'false');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const { handler } = await import('./index');
    expect(typeof handler).toBe('function');
    await expect(handler({ type: 'TOKEN', authorizationToken: 'Basic x', methodArn: METHOD_ARN })).rejects.toThrow('Unauthorized');
    // On Lambda the authorizer logs to the console (Lambda's JSON log format structures the line): the reason, never the token.
    expect(warn).toHaveBeenCalledWith('request refused: 401', { reason: expect.stringMatching(/malformed Authorization header/) });
    warn.mockRestore();
    vi.unstubAllEnvs();
  });
});
