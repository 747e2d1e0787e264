import { describe, expect, it } from 'vitest';
import { extractClientCredentials, MAX_TOKEN_REQUEST_BYTES, parseTokenRequestForm } from './client-auth';
import { InvalidClientError, InvalidRequestError } from './errors';

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
const form = (params: Record<string, string>) => new Map(Object.entries(params));

describe('parseTokenRequestForm', () => {
  it.each([
    ['application/x-www-form-urlencoded'],
    ['application/x-www-form-urlencoded; charset=UTF-8'],
    ['Application/X-WWW-Form-Urlencoded'],
  ])('accepts the content type %s', (contentType) => {
    expect(parseTokenRequestForm(contentType, 'grant_type=client_credentials&scope=a+b%2Fc')).toEqual(
      new Map([
        ['grant_type', 'client_credentials'],
        ['scope', 'a b/c'],
      ]),
    );
  });

  it.each([['application/json'], ['text/plain'], ['multipart/form-data; boundary=x'], [undefined]])(
    'refuses the content type %s with 400 invalid_request',
    (contentType) => {
      const err = catchError(() => parseTokenRequestForm(contentType, 'grant_type=client_credentials'));
      expect(err).toBeInstanceOf(InvalidRequestError);
      expect(err).toMatchObject({ statusCode: 400, error: 'invalid_request' });
    },
  );

  it('refuses a body over the size cap with 413 invalid_request', () => {
    const body = `grant_type=client_credentials&pad=${'x'.repeat(MAX_TOKEN_REQUEST_BYTES)}`;
    expect(catchError(() => parseTokenRequestForm('application/x-www-form-urlencoded', body))).toMatchObject({
      statusCode: 413,
      error: 'invalid_request',
    });
  });

  it('refuses a repeated parameter with 400 invalid_request (RFC 6749 §3.2)', () => {
    const err = catchError(() =>
      parseTokenRequestForm('application/x-www-form-urlencoded', 'grant_type=client_credentials&scope=a&scope=b'),
    );
    expect(err).toMatchObject({ statusCode: 400, error: 'invalid_request', description: expect.stringContaining('scope') });
  });

  it('reads an absent body as an empty form', () => {
    expect(parseTokenRequestForm('application/x-www-form-urlencoded', undefined).size).toBe(0);
  });
});

describe('extractClientCredentials', () => {
  it.each([
    ['plain id and secret', basic('abc', 'S3cr-et_x'), 'abc', 'S3cr-et_x'],
    ['form-urlencoded characters in id and secret', basic('my client', 'p:w%d+/'), 'my client', 'p:w%d+/'],
    ['a lower-case scheme', basic('abc', 'def').replace('Basic', 'basic'), 'abc', 'def'],
    ['unpadded base64', `Basic ${Buffer.from('ab:cd1').toString('base64').replace(/=+$/, '')}`, 'ab', 'cd1'],
  ])('reads client_secret_basic with %s', (_name, header, clientId, clientSecret) => {
    expect(extractClientCredentials(header, form({ grant_type: 'client_credentials' }))).toEqual({
      clientId,
      clientSecret,
      method: 'client_secret_basic',
    });
  });

  it('reads client_secret_post from the form', () => {
    expect(extractClientCredentials(undefined, form({ client_id: 'abc', client_secret: 'def' }))).toEqual({
      clientId: 'abc',
      clientSecret: 'def',
      method: 'client_secret_post',
    });
  });

  it('accepts a form client_id equal to the Basic one', () => {
    expect(extractClientCredentials(basic('abc', 'def'), form({ client_id: 'abc' }))).toMatchObject({
      clientId: 'abc',
      method: 'client_secret_basic',
    });
  });

  it.each([
    ['Basic and client_secret in the form', basic('abc', 'def'), { client_id: 'abc', client_secret: 'def' }],
    ['Basic and a different client_id in the form', basic('abc', 'def'), { client_id: 'other' }],
  ])('refuses %s with 400 invalid_request', (_name, header, params) => {
    expect(catchError(() => extractClientCredentials(header, form(params)))).toMatchObject({
      statusCode: 400,
      error: 'invalid_request',
    });
  });

  it.each([
    ['no authentication at all', undefined, {}],
    ['only a client_id in the form', undefined, { client_id: 'abc' }],
    ['an empty client_secret in the form', undefined, { client_id: 'abc', client_secret: '' }],
    ['a Bearer header', 'Bearer abc.def.ghi', {}],
    ['Basic without credentials', 'Basic', {}],
    ['Basic of text without a colon', `Basic ${Buffer.from('abcdef').toString('base64')}`, {}],
    ['Basic with an empty secret', `Basic ${Buffer.from('abc:').toString('base64')}`, {}],
    ['Basic with an empty id', `Basic ${Buffer.from(':abc').toString('base64')}`, {}],
    ['Basic that is not base64', 'Basic ab$cd', {}],
    ['Basic of bytes that are not UTF-8', `Basic ${Buffer.from([0xff, 0x3a, 0xfe]).toString('base64')}`, {}],
    ['Basic with malformed percent-encoding', `Basic ${Buffer.from('a%zz:b').toString('base64')}`, {}],
    ['a client_assertion (private_key_jwt)', undefined, { client_assertion: 'x', client_assertion_type: 'y' }],
  ])('refuses %s with 401 invalid_client and WWW-Authenticate Basic', (_name, header, params) => {
    const err = catchError(() => extractClientCredentials(header, form(params)));
    expect(err).toBeInstanceOf(InvalidClientError);
    expect(err).toMatchObject({
      statusCode: 401,
      error: 'invalid_client',
      headers: { 'WWW-Authenticate': 'Basic realm="ccri"' },
    });
  });

  it('tells a client that sends "Basic id:secret" literally to base64-encode it', () => {
    const err = catchError(() =>
      extractClientCredentials('Basic 256fcc31-97bd-47d4-acbf-12409676ad5a:AI8OGCYW', form({})),
    );
    expect(err).toMatchObject({ statusCode: 401, error: 'invalid_client' });
    expect((err as InvalidClientError).description).toMatch(/base64-encoded/);
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}

describe('the token request body (functions/http/body.ts, with RFC 6749 errors)', () => {
  it.each([
    ['another media type', 'application/json', 'grant_type=client_credentials', 400],
    ['no media type, even with an empty body', undefined, '', 400],
    ['a charset other than UTF-8', 'application/x-www-form-urlencoded; charset=iso-8859-1', 'grant_type=client_credentials', 400],
    ['a body one byte over the cap', 'application/x-www-form-urlencoded', `grant_type=client_credentials&pad=${'x'.repeat(MAX_TOKEN_REQUEST_BYTES)}`.slice(0, MAX_TOKEN_REQUEST_BYTES + 1), 413],
    ['a body that was not UTF-8 (a raw Latin-1 byte, read as U+FFFD)', 'application/x-www-form-urlencoded', Buffer.from('grant_type=client_credentials&client_id=Si\xe2n', 'latin1').toString('utf8'), 400],
  ])('refuses %s with invalid_request', (_name, contentType, body, status) => {
    expect(() => parseTokenRequestForm(contentType, body)).toThrow(expect.objectContaining({ error: 'invalid_request', statusCode: status }));
  });

  it('reads a form of exactly the cap, and an empty form declared as one', () => {
    const body = `grant_type=client_credentials&pad=${'x'.repeat(MAX_TOKEN_REQUEST_BYTES - 34)}`;
    expect(body).toHaveLength(MAX_TOKEN_REQUEST_BYTES);
    expect(parseTokenRequestForm('application/x-www-form-urlencoded; charset=UTF-8', body).get('grant_type')).toBe('client_credentials');
    expect(parseTokenRequestForm('application/x-www-form-urlencoded', undefined).size).toBe(0);
  });
});
