import { describe, expect, it } from 'vitest';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { decodeBody, NOT_UTF8, readBody, type BodyRules } from './body';
import { toHttpRequest } from './index';
import { parseBody, withFormQuery } from '../fhir/http';
import { parsePatchBody } from '../fhir/patch';
import { readRepresentation } from '../fhir-model/negotiation';
import { TooLargeError, UnsupportedMediaTypeError, BadRequestError } from '../fhir/errors';

class Big extends Error {}
class Unsupported extends Error {}
class Malformed extends Error {}

const JSON_ONLY: BodyRules = {
  maxBytes: 10,
  accepts: (type) => type === 'application/json',
  tooLarge: (max) => new Big(`over ${max}`),
  unsupported: (contentType) => new Unsupported(`not ${contentType}`),
  malformed: (message) => new Malformed(message),
};
const request = (body: string | undefined, contentType?: string) => ({ body, headers: (contentType === undefined ? {} : { 'content-type': contentType }) as Record<string, string> });

describe('the body reader', () => {
  it('answers undefined for no body or one of white space only, whatever the content type', () => {
    expect(readBody(request(undefined, 'text/plain'), JSON_ONLY)).toBeUndefined();
    expect(readBody(request(' \n', 'text/plain'), JSON_ONLY)).toBeUndefined();
  });

  it('gives the text and the media type, lower case and without parameters', () => {
    expect(readBody(request('{"a":1}', 'Application/JSON; charset=UTF-8'), JSON_ONLY)).toEqual({ text: '{"a":1}', type: 'application/json' });
  });

  it('accepts exactly maxBytes and throws the protocol’s 413 one byte over, counting UTF-8 bytes', () => {
    expect(readBody(request('x'.repeat(10), 'application/json'), JSON_ONLY)?.text).toHaveLength(10);
    expect(() => readBody(request('x'.repeat(11), 'application/json'), JSON_ONLY)).toThrow(new Big('over 10'));
    expect(() => readBody(request('é'.repeat(6), 'application/json'), JSON_ONLY)).toThrow(Big); // 6 characters, 12 bytes
  });

  it('checks the size before the media type: an oversize body is a 413 whatever it claims to be', () => {
    expect(() => readBody(request('x'.repeat(11), 'text/plain'), JSON_ONLY)).toThrow(Big);
  });

  it.each([
    ['text/plain', 'text/plain'],
    [undefined, 'no Content-Type'],
    ['application/json; charset=iso-8859-1', 'a charset other than UTF-8'],
    ['application/json; charset="utf-16"', 'a quoted charset other than UTF-8'],
  ] as [string | undefined, string][])('throws the protocol’s 415 for %s (%s)', (contentType) => {
    expect(() => readBody(request('{}', contentType), JSON_ONLY)).toThrow(new Unsupported(`not ${contentType}`));
  });

  it.each(['utf-8', 'UTF-8', 'utf8', '"utf-8"'])('accepts charset=%s', (charset) => {
    expect(readBody(request('{}', `application/json;charset=${charset}`), JSON_ONLY)?.text).toBe('{}');
  });

  it('throws the protocol’s 400 for a body that was not valid UTF-8 (it arrives holding U+FFFD), after the 413 and 415 checks', () => {
    const latin1 = Buffer.from('{"n":"Si\xe2n"}', 'latin1').toString('utf8'); // what API Gateway makes of Latin-1 bytes
    expect(latin1).toContain('\uFFFD');
    const rules = { ...JSON_ONLY, maxBytes: 100 };
    expect(() => readBody(request(latin1, 'application/json'), rules)).toThrow(new Malformed(NOT_UTF8));
    expect(() => readBody(request(latin1, 'text/plain'), rules)).toThrow(Unsupported);
    expect(() => readBody(request(latin1.repeat(10), 'application/json'), rules)).toThrow(Big);
  });

  it('takes U+FFFD sent escaped, and valid UTF-8 of any script', () => {
    const rules = { ...JSON_ONLY, maxBytes: 100 };
    expect(readBody(request('{"n":"\\uFFFD"}', 'application/json'), rules)?.text).toBe('{"n":"\\uFFFD"}');
    expect(readBody(request('{"n":"Siân Ŵ 日本"}', 'application/json'), rules)?.text).toBe('{"n":"Siân Ŵ 日本"}');
  });

  it('passes the text to the protocol’s rule, for protocols that sniff a missing type', () => {
    const sniffing: BodyRules = { ...JSON_ONLY, accepts: (type, text) => type === undefined && text.startsWith('{') };
    expect(readBody(request('{}'), sniffing)?.type).toBeUndefined();
    expect(() => readBody(request('<a/>'), sniffing)).toThrow(Unsupported);
  });
});

describe('decoding API Gateway’s body', () => {
  it('undoes base64 when isBase64Encoded, as UTF-8, and leaves other bodies as they are', () => {
    expect(decodeBody(Buffer.from('{"name":"Zoë"}').toString('base64'), true)).toBe('{"name":"Zoë"}');
    expect(decodeBody('eyJ9', false)).toBe('eyJ9');
    expect(decodeBody(null, true)).toBeUndefined();
  });

  it('is what toHttpRequest gives the protocols: a base64 body is measured by its decoded bytes', () => {
    const decoded = 'x'.repeat(10);
    const req = toHttpRequest({ httpMethod: 'POST', path: '/', resource: '/', headers: { 'Content-Type': 'application/json' }, body: Buffer.from(decoded).toString('base64'), isBase64Encoded: true } as unknown as APIGatewayProxyEvent);
    expect(readBody(req, JSON_ONLY)?.text).toBe(decoded); // 16 characters of base64, 10 bytes of body
  });
});

describe('the FHIR API’s bodies (OperationOutcome errors)', () => {
  const fhir = (body: string | undefined, contentType?: string) => ({ ...request(body, contentType), method: 'POST', route: '/STU3/Patient', path: '/STU3/Patient', pathParameters: {}, query: {}, requestId: 'r', baseUrl: 'http://x', authorizer: undefined, sourceIp: undefined });
  const patient = '{"resourceType":"Patient"}';

  it.each([
    ['a resource', (b: string, t?: string) => parseBody(fhir(b, t), 40), patient, 'application/fhir+json', 'text/plain'],
    ['a JSON Patch', (b: string, t?: string) => parsePatchBody(fhir(b, t), 40), '[]', 'application/json-patch+json', 'application/json'],
    ['a _search form', (b: string, t?: string) => withFormQuery(fhir(b, t), 40), 'name=x', 'application/x-www-form-urlencoded', 'application/json'],
    ['an XML resource', (b: string, t?: string) => readRepresentation(fhir(b, t), 40), '<Patient xmlns="http://hl7.org/fhir"/>', 'application/fhir+xml', 'text/plain'],
  ])('%s: accepted as %s, 413 over the cap, 415 for another type or charset, 400 if not UTF-8', async (_name, read, body, good, bad) => {
    await expect(Promise.resolve().then(() => read(body, good))).resolves.toBeDefined();
    await expect(Promise.resolve().then(() => read(`${body}${' '.repeat(41 - body.length)}`, good))).rejects.toThrow(TooLargeError);
    await expect(Promise.resolve().then(() => read(body, bad))).rejects.toThrow(UnsupportedMediaTypeError);
    await expect(Promise.resolve().then(() => read(body, `${good}; charset=latin1`))).rejects.toThrow(UnsupportedMediaTypeError);
    const notUtf8 = `${body[0]}\uFFFD${body.slice(body.length > 4 ? 4 : 1)}`; // within the cap
    await expect(Promise.resolve().then(() => read(notUtf8, good))).rejects.toThrow(new BadRequestError(NOT_UTF8));
  });

  it('keeps each route’s 415 message, naming what it takes', () => {
    expect(() => parseBody(fhir(patient, 'text/plain'))).toThrow("Content-Type 'text/plain' is not supported; send application/fhir+json");
    expect(() => parsePatchBody(fhir('[]', 'application/json'), 100)).toThrow('PATCH takes a JSON Patch document: send Content-Type application/json-patch+json');
    expect(() => withFormQuery(fhir('a=1', 'application/json'))).toThrow("POST _search takes application/x-www-form-urlencoded, not 'application/json'");
  });

  it('answers a missing resource or patch body with 400, and an empty form as no parameters', () => {
    expect(() => parseBody(fhir(undefined))).toThrow(new BadRequestError('The request has no body'));
    expect(() => parsePatchBody(fhir('', 'application/json-patch+json'), 100)).toThrow(new BadRequestError('The request has no body'));
    expect(withFormQuery({ ...fhir(undefined), query: { name: ['a'] } }).query).toEqual({ name: ['a'] });
  });
});
