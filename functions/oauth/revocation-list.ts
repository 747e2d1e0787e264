/**
 * The published revocation list (GET /oauth2/revocations) and how it revokes a token: shared by the token function,
 * which serves it, and the authorizer, which fetches it (functions/authorizer/revocations.ts). No AWS SDK here: the
 * authorizer's bundle must stay small. Store and rules: revocation.ts.
 */
import { createHash } from 'node:crypto';

/** What the authorizer needs to refuse revoked tokens. */
export interface RevocationList {
  /** The `jti` of every revoked, unexpired token. */
  jti: string[];
  /** `clientKey(clientId)` -> epoch s: tokens of that client issued (`iat`) before it are revoked. */
  clients: Record<string, number>;
}

/** A client's key in the published list: a short hash, so that the public list does not name clients. */
export function clientKey(clientId: string): string {
  return createHash('sha256').update(clientId, 'utf8').digest('base64url').slice(0, 22);
}

/** A list ready for per-request checks: jti in a set; `clientCount` 0 skips hashing the client id. */
export interface RevocationIndex {
  jti: ReadonlySet<string>;
  clients: Readonly<Record<string, number>>;
  clientCount: number;
}

export function indexRevocations(list: RevocationList): RevocationIndex {
  return { jti: new Set(list.jti), clients: list.clients, clientCount: Object.keys(list.clients).length };
}

/** clientKey, remembered per index (a container sees few clients): no SHA-256 per request on the warm path. */
const keyMemo = new WeakMap<RevocationIndex, Map<string, string>>();
function keyOf(index: RevocationIndex, clientId: string): string {
  let memo = keyMemo.get(index);
  if (!memo) keyMemo.set(index, (memo = new Map()));
  let key = memo.get(clientId);
  if (key === undefined) {
    key = clientKey(clientId);
    if (memo.size < 10_000) memo.set(clientId, key);
  }
  return key;
}

/** Whether a token is revoked: its jti is listed, or it was issued (`iat`) before its client's cut-off. */
export function isRevokedBy(index: RevocationIndex, token: { jti?: string; clientId: string; iat: number }): boolean {
  if (token.jti !== undefined && index.jti.has(token.jti)) return true;
  if (index.clientCount === 0) return false;
  const notBefore = index.clients[keyOf(index, token.clientId)];
  return notBefore !== undefined && token.iat < notBefore;
}
