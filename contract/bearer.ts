/**
 * The one form of `Authorization` header the protected routes accept: `Bearer`, exactly one space, and a compact JWS
 * (three base64url segments, no padding, RFC 7515 §7.1). Applied three times, from this one constant:
 * - by API Gateway, as the TOKEN authorizer's identity validation expression (lib/api.ts): a header that does not
 *   match is answered 401 without invoking the authorizer Lambda (junk headers cost nothing);
 * - by the local gateway, the same way (local/gateway.ts);
 * - by the authorizer itself (`parseBearer`, functions/authorizer/bearer.ts), for callers that reach it another way.
 *
 * Why so strict (no lower-case `bearer`, no extra spaces, no `=`): API Gateway caches the authorizer's answer under
 * the whole header value, so every accepted spelling of one token is another cache entry and another invocation.
 * One spelling per token means one cache key per token (issue 13.10). Every OAuth client library sends this form.
 */
export const BEARER_HEADER_PATTERN = '^Bearer [A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$';

/**
 * The longest access token accepted: far longer than a token with a typical scope; the authorizer refuses megabyte
 * headers before any parsing, and the token endpoint refuses to issue a longer token (it could never be used).
 */
export const MAX_TOKEN_LENGTH = 8192;
