/**
 * Reading a token request: its form body and the client credentials it presents.
 *
 * - The body must be `application/x-www-form-urlencoded` (RFC 6749 §4.4.2, appendix B), at most
 *   `MAX_TOKEN_REQUEST_BYTES`, with no parameter repeated (RFC 6749 §3.2).
 * - Client authentication (RFC 6749 §2.3.1), exactly one of:
 *   - `client_secret_basic`: `Authorization: Basic base64(urlencode(client_id) ":" urlencode(client_secret))`
 *     (RFC 7617 with the form-urlencoding RFC 6749 §2.3.1 adds);
 *   - `client_secret_post`: `client_id` and `client_secret` in the form.
 *   - `private_key_jwt`: `client_assertion_type` and `client_assertion` in the form (client-assertion.ts).
 *   Two at once is `invalid_request` (RFC 6749 §2.3: "MUST NOT use more than one authentication method in each
 *   request"); neither is `invalid_client`.
 *
 * This module only parses: whether the credentials are right is `ClientStore`'s business (see clients.ts).
 */
import { assertedClientId, CLIENT_ASSERTION_TYPE } from './client-assertion';
import { InvalidClientError, InvalidRequestError } from './errors';
import { mediaTypeOf, readBody, type BodyRules } from '../http/body';

/** The largest token request body accepted, in bytes. A real one is a few hundred bytes. */
export const MAX_TOKEN_REQUEST_BYTES = 8 * 1024;

/** The client authentication methods (RFC 7591 `token_endpoint_auth_method` names). */
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';

/** A client id and secret, as the client sent them (never log `clientSecret`). */
export interface SecretCredentials {
  clientId: string;
  clientSecret: string;
  method: 'client_secret_basic' | 'client_secret_post';
}

/** A signed client assertion (private_key_jwt); `clientId` is its unverified `iss` until verified. Never log it. */
export interface AssertionCredentials {
  clientId: string;
  assertion: string;
  method: 'private_key_jwt';
}

/** The credentials a request presents. */
export type ClientCredentials = SecretCredentials | AssertionCredentials;

/** The form parameters of a token request: each name once. */
export type TokenRequestForm = ReadonlyMap<string, string>;

const FORM_MEDIA_TYPE = 'application/x-www-form-urlencoded';

/** The token routes' body rules (functions/http/body.ts), with RFC 6749 errors. */
const TOKEN_FORM: BodyRules = {
  maxBytes: MAX_TOKEN_REQUEST_BYTES,
  accepts: (type) => type === FORM_MEDIA_TYPE,
  tooLarge: (max) => new InvalidRequestError(`The request body is larger than ${max} bytes.`, 413),
  unsupported: () => new InvalidRequestError(`The request body must be ${FORM_MEDIA_TYPE}, in UTF-8.`),
  malformed: (message) => new InvalidRequestError(message),
};

/**
 * Parses the body of a token request.
 * @throws InvalidRequestError (400) for another media type or a repeated parameter, (413) for an oversize body.
 */
export function parseTokenRequestForm(contentType: string | undefined, body: string | undefined): TokenRequestForm {
  const headers: Record<string, string> = contentType === undefined ? {} : { 'content-type': contentType };
  const read = readBody({ headers, body }, TOKEN_FORM);
  // An empty body must still be declared a form (the reader leaves an absent body to its caller).
  if (read === undefined && mediaTypeOf(contentType ?? '') !== FORM_MEDIA_TYPE) throw TOKEN_FORM.unsupported(contentType);
  const text = read?.text ?? '';
  const form = new Map<string, string>();
  for (const [name, value] of new URLSearchParams(text)) {
    if (form.has(name)) throw new InvalidRequestError(`The parameter ${name} must not be repeated.`);
    form.set(name, value);
  }
  return form;
}

/**
 * The credentials the request presents: from `Authorization: Basic` or from the form, never both.
 * @throws InvalidRequestError when both methods are used or the form's client_id contradicts the header;
 *   InvalidClientError when no client authentication is present or the header is malformed.
 */
export function extractClientCredentials(authorization: string | undefined, form: TokenRequestForm): ClientCredentials {
  const formId = form.get('client_id');
  const formSecret = form.get('client_secret');
  if (form.has('client_assertion') || form.has('client_assertion_type')) {
    return assertionCredentials(authorization, form);
  }
  if (authorization !== undefined && authorization.trim() !== '') {
    if (formSecret !== undefined) {
      throw new InvalidRequestError(
        'Use one client authentication method: either the Authorization header or client_secret in the body, not both.',
      );
    }
    const basic = parseBasicAuthorization(authorization);
    if (formId !== undefined && formId !== basic.clientId) {
      throw new InvalidRequestError('The client_id in the body does not match the Authorization header.');
    }
    return basic;
  }
  if (formId !== undefined && formSecret !== undefined && formId !== '' && formSecret !== '') {
    return { clientId: formId, clientSecret: formSecret, method: 'client_secret_post' };
  }
  throw new InvalidClientError(
    'Client authentication is required: Authorization: Basic base64(client_id ":" client_secret), ' +
      'or client_id and client_secret in the body.',
  );
}

/** `client_assertion_type` + `client_assertion` (RFC 7521 §4.2), alone: no Basic header, no client_secret. */
function assertionCredentials(authorization: string | undefined, form: TokenRequestForm): AssertionCredentials {
  if ((authorization !== undefined && authorization.trim() !== '') || form.has('client_secret')) {
    throw new InvalidRequestError('Use one client authentication method: a client_assertion, or a client secret, not both.');
  }
  const type = form.get('client_assertion_type');
  const assertion = form.get('client_assertion');
  if (type !== CLIENT_ASSERTION_TYPE) {
    throw new InvalidClientError(`client_assertion_type must be ${CLIENT_ASSERTION_TYPE}.`);
  }
  if (!assertion) throw new InvalidClientError('client_assertion is required with client_assertion_type.');
  const clientId = assertedClientId(assertion);
  const formId = form.get('client_id');
  if (formId !== undefined && formId !== clientId) {
    throw new InvalidClientError('Client assertion refused: client_id does not match the assertion iss.', 'client_id differs from iss');
  }
  return { clientId, assertion, method: 'private_key_jwt' };
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Parses `Basic <base64(urlencode(id) ":" urlencode(secret))>` (RFC 7617 §2, RFC 6749 §2.3.1). */
function parseBasicAuthorization(header: string): SecretCredentials {
  const match = /^\s*(\S+)\s+(\S+)\s*$/.exec(header);
  if (!match || match[1]!.toLowerCase() !== 'basic') {
    throw new InvalidClientError('Only the Basic authentication scheme is supported for client authentication.');
  }
  const token = match[2]!;
  if (token.includes(':')) {
    throw new InvalidClientError(
      'The Basic credentials must be base64-encoded: Authorization: Basic base64(client_id ":" client_secret), ' +
        'not the client_id and client_secret as plain text.',
    );
  }
  let decoded: string;
  try {
    if (!BASE64.test(token) || token.length % 4 === 1) throw new Error('not base64');
    decoded = UTF8.decode(Buffer.from(token, 'base64'));
  } catch {
    throw new InvalidClientError('The Basic credentials are not valid base64 of client_id ":" client_secret.');
  }
  const colon = decoded.indexOf(':');
  if (colon <= 0 || colon === decoded.length - 1) {
    throw new InvalidClientError('The Basic credentials must hold client_id ":" client_secret, both non-empty.');
  }
  return {
    clientId: formDecode(decoded.slice(0, colon)),
    clientSecret: formDecode(decoded.slice(colon + 1)),
    method: 'client_secret_basic',
  };
}

/** application/x-www-form-urlencoded decoding of one value ('+' is a space). */
function formDecode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    throw new InvalidClientError('The Basic credentials hold malformed percent-encoding.');
  }
}
