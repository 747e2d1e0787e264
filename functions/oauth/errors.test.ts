import { describe, expect, it } from 'vitest';
import {
  InvalidClientError,
  InvalidRequestError,
  InvalidScopeError,
  OAuthError,
  oauthErrorBody,
  TemporarilyUnavailableError,
  toOAuthError,
  UnauthorizedClientError,
  UnsupportedGrantTypeError,
} from './errors';
import { HttpError, StoreUnavailableError } from '../errors';

describe('OAuth errors (RFC 6749 §5.2)', () => {
  it.each([
    [new InvalidRequestError('x'), 400, 'invalid_request', {}],
    [new InvalidRequestError('x', 413), 413, 'invalid_request', {}],
    [new InvalidClientError(), 401, 'invalid_client', { 'WWW-Authenticate': 'Basic realm="ccri"' }],
    [new UnauthorizedClientError('x'), 400, 'unauthorized_client', {}],
    [new UnsupportedGrantTypeError(), 400, 'unsupported_grant_type', {}],
    [new InvalidScopeError('x'), 400, 'invalid_scope', {}],
    [new TemporarilyUnavailableError(), 503, 'temporarily_unavailable', { 'Retry-After': '5' }],
  ])('%s carries status %i, code %s and its headers', (err, statusCode, error, headers) => {
    expect(err).toBeInstanceOf(OAuthError);
    expect(err).toBeInstanceOf(HttpError);
    expect(err).toMatchObject({ statusCode, error, headers });
    expect(err.name).toMatch(/Error$/);
    expect(oauthErrorBody(err)).toEqual({ error, error_description: err.description });
  });

  it('keeps the reason of an invalid_client for the log, apart from what the client sees', () => {
    const err = new InvalidClientError(undefined, 'unknown client');
    expect(err.description).toBe('Client authentication failed.');
    expect(err.reason).toBe('unknown client');
    expect(JSON.stringify(oauthErrorBody(err))).not.toContain('unknown client');
  });
});

describe('toOAuthError, the edge of the OAuth routes', () => {
  it('keeps an OAuthError as it is', () => {
    const err = new InvalidScopeError('x');
    expect(toOAuthError(err)).toBe(err);
  });

  it('answers a store outage (any store) 503 temporarily_unavailable with its Retry-After, the outage as cause', () => {
    const cause = new Error('ThrottlingException');
    const err = toOAuthError(new StoreUnavailableError(undefined, { cause, retryAfterSeconds: 2 }));
    expect(err).toBeInstanceOf(TemporarilyUnavailableError);
    expect(err).toMatchObject({ statusCode: 503, error: 'temporarily_unavailable', headers: { 'Retry-After': '2' }, cause });
  });

  it('answers anything else 500 server_error, with nothing of the bug in the body', () => {
    const bug = new TypeError('secret detail');
    const err = toOAuthError(bug);
    expect(err).toMatchObject({ statusCode: 500, error: 'server_error', cause: bug });
    expect(JSON.stringify(oauthErrorBody(err))).not.toContain('secret');
  });
});
