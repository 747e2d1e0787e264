/**
 * THE reader of request bodies, for every protocol that takes one (the FHIR API: resources, Bundles, JSON Patch,
 * XML, `_search` forms; the admin API; the token, revocation and introspection forms). The checks are the same
 * everywhere, in one order:
 *
 * 1. no body (absent, or only white space) is `undefined`: the caller decides whether it needs one;
 * 2. over `maxBytes` (UTF-8 bytes of the decoded body: API Gateway's base64 is undone by `toHttpRequest` through
 *    `decodeBody`) is the protocol's 413, before any parsing;
 * 3. a media type the protocol does not take, or a charset other than UTF-8 (the only one FHIR and JSON allow:
 *    https://hl7.org/fhir/STU3/http.html#mime-type, RFC 8259 §8.1), is the protocol's 415;
 * 4. a body that was not valid UTF-8 is the protocol's 400. API Gateway (and the local gateway, alike) reads a text
 *    body as UTF-8 and turns each invalid byte into U+FFFD, so a Latin-1 "Siân" would arrive as "Si\uFFFDn" and be
 *    stored so, silently. A raw U+FFFD in the text is therefore refused; the character itself can still be sent
 *    escaped (`\uFFFD` in JSON, `&#xFFFD;` in XML), which reaches the parser, not this check.
 *
 * What each protocol accepts, and the errors it answers with, are passed in (`BodyRules`): this module knows no
 * protocol, so the FHIR API keeps its OperationOutcomes, the admin API its own messages and the OAuth routes their
 * RFC 6749 `invalid_request`.
 */
import type { HttpRequest } from './index';

/** What one protocol (or one route of it) takes as a request body. */
export interface BodyRules {
  /** The largest body accepted, in UTF-8 bytes. */
  readonly maxBytes: number;
  /**
   * Whether the body's media type is taken: `type` is lower case without parameters (`application/fhir+json`), or
   * `undefined` when the request names none; `text` is the body, for protocols that sniff a missing type.
   */
  accepts(type: string | undefined, text: string): boolean;
  /** The protocol's 413. */
  tooLarge(maxBytes: number): Error;
  /** The protocol's 415 for `contentType` (the header as sent, or `undefined`). */
  unsupported(contentType: string | undefined): Error;
  /** The protocol's 400, saying `message` (a body that was not valid UTF-8). */
  malformed(message: string): Error;
}

/** Why a body holding U+FFFD is refused (step 4 of the module comment). */
export const NOT_UTF8 =
  'The request body is not valid UTF-8: it holds U+FFFD, the character an invalid byte becomes on the way in. Send the body in UTF-8; U+FFFD itself can be sent escaped (\\uFFFD in JSON, &#xFFFD; in XML).';

/** A body as read: its text, and its media type (lower case, no parameters) when the request named one. */
export interface RequestBody {
  readonly text: string;
  readonly type: string | undefined;
}

/** `application/fhir+json; charset=utf-8` -> `application/fhir+json`. */
export const mediaTypeOf = (contentType: string): string => contentType.split(';')[0]!.trim().toLowerCase();

/** The charset a Content-Type names (lower case, unquoted), or undefined. */
function charsetOf(contentType: string): string | undefined {
  const match = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType);
  return match?.[1]!.toLowerCase();
}

/** The request's body, checked against `rules` (see the module comment), or undefined when it has none. */
export function readBody(request: Pick<HttpRequest, 'headers' | 'body'>, rules: BodyRules): RequestBody | undefined {
  const text = request.body;
  if (text === undefined || text.trim() === '') return undefined;
  if (Buffer.byteLength(text, 'utf8') > rules.maxBytes) throw rules.tooLarge(rules.maxBytes);
  const contentType = request.headers['content-type'];
  const type = contentType === undefined || contentType.trim() === '' ? undefined : mediaTypeOf(contentType);
  const charset = contentType === undefined ? undefined : charsetOf(contentType);
  if (!rules.accepts(type, text) || (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8')) {
    throw rules.unsupported(contentType);
  }
  if (text.includes('\uFFFD')) throw rules.malformed(NOT_UTF8);
  return { text, type };
}

/** The text of an API Gateway (payload v1) body: base64 when `isBase64Encoded` (binary media types), as UTF-8. */
export function decodeBody(body: string | null | undefined, isBase64Encoded: boolean | undefined): string | undefined {
  if (body === null || body === undefined) return undefined;
  return isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body;
}
