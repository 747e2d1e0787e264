/**
 * How the authorizer learns of revoked tokens without a database read per request and without the AWS SDK: it
 * fetches the revocation list the token function publishes (`GET <issuer>/oauth2/revocations`,
 * functions/oauth/revocation-list.ts) over HTTP, like the JWKS, and keeps it per container for `cacheSeconds`
 * (default 30, env REVOCATION_CACHE_SECONDS). The warm path is a Set lookup (and, only when some client has a
 * cut-off, one SHA-256 of the client id).
 *
 * The bound, stated in docs/security-model.md: a revoked token is refused at most `cacheSeconds` (this list) +
 * the API Gateway authorizer cache TTL (60 s by default) after the revocation.
 *
 * Failure: while a refresh fails, the last good list is used for up to `maxStaleSeconds` (default 300; a failed
 * fetch is retried at most every 5 s); after that the authorizer fails (AUTHORIZER_FAILURE, 503) rather than let
 * revoked tokens through on a list it can no longer vouch for.
 */
import type { RevocationIndex, RevocationList } from '../oauth/revocation-list';
import { indexRevocations } from '../oauth/revocation-list';

export interface RevocationOptions {
  /** Where the list is; default `<issuer>/oauth2/revocations`. */
  uri?: (issuer: string) => string;
  cacheSeconds?: number;
  maxStaleSeconds?: number;
  fetchTimeoutMs?: number;
  /** How the list is fetched (tests); default `fetch` with a timeout and a 2 MB cap. */
  fetchList?: (uri: string) => Promise<RevocationList>;
  now?: () => number;
}

/** The list cannot be had and the last good one is too old: the authorizer must fail, not guess. */
export class RevocationsUnavailableError extends Error {
  override readonly name = 'RevocationsUnavailableError';
}

export const DEFAULT_REVOCATION_CACHE_SECONDS = 30;
const MAX_LIST_BYTES = 2 * 1024 * 1024;
const RETRY_MS = 5000;

export interface RevocationCheck {
  /** The list in force for `issuer`: synchronous when the cached copy is fresh. @throws RevocationsUnavailableError */
  index(issuer: string): RevocationIndex | Promise<RevocationIndex>;
}

export function createRevocationCheck(options: RevocationOptions = {}): RevocationCheck {
  const now = options.now ?? Date.now;
  const ttlMs = (options.cacheSeconds ?? DEFAULT_REVOCATION_CACHE_SECONDS) * 1000;
  const maxStaleMs = (options.maxStaleSeconds ?? 300) * 1000;
  const uriOf = options.uri ?? ((issuer: string) => `${issuer.replace(/\/+$/, '')}/oauth2/revocations`);
  const fetchList = options.fetchList ?? ((uri: string) => fetchRevocationList(uri, options.fetchTimeoutMs ?? 2000));
  const lists = new Map<string, { index: RevocationIndex; fetchedAt: number; failedAt?: number; loading?: Promise<RevocationIndex> }>();

  async function load(issuer: string): Promise<RevocationIndex> {
    const entry = lists.get(issuer);
    const started = now();
    try {
      const index = indexRevocations(await fetchList(uriOf(issuer)));
      lists.set(issuer, { index, fetchedAt: started });
      return index;
    } catch (err) {
      if (entry && started - entry.fetchedAt < maxStaleMs) {
        lists.set(issuer, { ...entry, failedAt: started, loading: undefined });
        return entry.index;
      }
      lists.delete(issuer);
      throw new RevocationsUnavailableError(`revocation list unavailable: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  return {
    index(issuer) {
      const entry = lists.get(issuer);
      const t = now();
      if (entry && (t - entry.fetchedAt < ttlMs || (entry.failedAt !== undefined && t - entry.failedAt < RETRY_MS && t - entry.fetchedAt < maxStaleMs))) {
        return entry.index;
      }
      if (entry?.loading) return entry.loading;
      const loading = load(issuer);
      if (entry) entry.loading = loading;
      return loading;
    },
  };
}

/** GETs the list with a timeout and a size cap; anything but a well-formed list is an error. */
export async function fetchRevocationList(uri: string, timeoutMs: number): Promise<RevocationList> {
  const response = await fetch(uri, { signal: AbortSignal.timeout(timeoutMs), headers: { Accept: 'application/json' } });
  if (response.status !== 200) throw new Error(`status ${response.status}`);
  const text = await response.text();
  if (text.length > MAX_LIST_BYTES) throw new Error('revocation list too large');
  const body = JSON.parse(text) as Partial<RevocationList>;
  if (!Array.isArray(body.jti) || !body.jti.every((j) => typeof j === 'string') || typeof body.clients !== 'object' || body.clients === null) {
    throw new Error('not a revocation list');
  }
  for (const value of Object.values(body.clients)) if (typeof value !== 'number') throw new Error('not a revocation list');
  return { jti: body.jti, clients: body.clients };
}
