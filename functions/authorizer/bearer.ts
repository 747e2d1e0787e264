/**
 * `Authorization: Bearer <token>` parsing, with the one accepted form of the header (contract/bearer.ts: the same
 * pattern API Gateway and the local gateway apply before the authorizer runs).
 */
import { BEARER_HEADER_PATTERN, MAX_TOKEN_LENGTH } from '../../contract/bearer';

export { BEARER_HEADER_PATTERN, MAX_TOKEN_LENGTH };

const BEARER = new RegExp(BEARER_HEADER_PATTERN);

/** The token of an `Authorization: Bearer <token>` header value; undefined for anything but the one accepted form. */
export function parseBearer(header: string | undefined | null): string | undefined {
  if (typeof header !== 'string' || header.length > MAX_TOKEN_LENGTH + 7 || !BEARER.test(header)) return undefined;
  return header.slice('Bearer '.length);
}
