/**
 * The public keys of a `private_key_jwt` client: its inline JWKS, or the JWKS at its registered `jwks_uri`.
 *
 * Fetching a URL a client registered is a server-side request the client controls, so it is fenced in:
 * - a short timeout (2 s, for the whole fetch) and a size cap (64 KB) on the response; a redirect is never followed;
 * - on AWS (`allowPrivateAddresses: false`): https only, and never to a loopback, private, link-local (the instance
 *   metadata service at 169.254.169.254), CGNAT, multicast or reserved address, checked on the address the socket
 *   actually connects to (a DNS `lookup` hook), so that DNS rebinding cannot slip past a check made earlier;
 * - cached per URI for `cacheSeconds` (default 300); a token naming a kid the cached set lacks triggers at most one
 *   refetch per `refetchAfterSeconds` (default 30), so unknown kids cannot turn the token route into a fetch loop.
 * Locally (`npm start`, tests) private addresses and http are allowed, so that a JWKS on localhost can be used.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP } from 'node:net';
import { isJwks, type Jwks } from 'aws-jwt-verify/jwk';

export const JWKS_FETCH_TIMEOUT_MS = 2000;
export const MAX_JWKS_BYTES = 64 * 1024;

/** Why a client's keys could not be had, safe to tell the client (it registered the URI). */
export class ClientJwksError extends Error {
  override readonly name = 'ClientJwksError';
}

const BLOCKED = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  BLOCKED.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['64:ff9b::', 96],
] as const) {
  BLOCKED.addSubnet(net, prefix, 'ipv6');
}

/** Whether an IP address is one a JWKS must never be fetched from on AWS. IPv4-mapped IPv6 is checked as IPv4. */
export function isBlockedAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return BLOCKED.check(mapped[1]!, 'ipv4');
  const family = isIP(address);
  if (family === 0) return true;
  return BLOCKED.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** `dns.lookup` that fails for blocked addresses (both the single and the `all: true` form Node uses). */
function guardedLookup(hostname: string, options: LookupOptions, callback: (...args: unknown[]) => void): void {
  dnsLookup(hostname, { ...options }, (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => {
    if (err) return callback(err);
    const addresses = Array.isArray(address) ? address.map((a) => a.address) : [address];
    if (addresses.some(isBlockedAddress)) return callback(new ClientJwksError(`jwks_uri host ${hostname} resolves to a private address`));
    callback(null, address, family);
  });
}

export interface JwksFetchOptions {
  allowPrivateAddresses: boolean;
  timeoutMs?: number;
  maxBytes?: number;
}

/** GETs a JWKS document with the fences above. @throws ClientJwksError */
export function fetchClientJwks(uri: string, options: JwksFetchOptions): Promise<Jwks> {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return Promise.reject(new ClientJwksError('jwks_uri is not a URL'));
  }
  const maxBytes = options.maxBytes ?? MAX_JWKS_BYTES;
  if (url.protocol !== 'https:' && !(options.allowPrivateAddresses && url.protocol === 'http:')) {
    return Promise.reject(new ClientJwksError('jwks_uri must be https'));
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!options.allowPrivateAddresses && isIP(host) !== 0 && isBlockedAddress(host)) {
    return Promise.reject(new ClientJwksError('jwks_uri names a private address'));
  }
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<Jwks>((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'GET',
        headers: { Accept: 'application/json' },
        timeout: options.timeoutMs ?? JWKS_FETCH_TIMEOUT_MS,
        ...(options.allowPrivateAddresses ? {} : { lookup: guardedLookup as never }),
      },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          return reject(new ClientJwksError(`jwks_uri answered HTTP ${res.statusCode}`));
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes) {
            req.destroy(new ClientJwksError(`jwks_uri document is larger than ${maxBytes} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          try {
            const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            if (!isJwks(parsed as never)) throw new Error('not a JWKS');
            resolve(parsed as Jwks);
          } catch {
            reject(new ClientJwksError('jwks_uri document is not a JWKS'));
          }
        });
        res.on('error', (err) => reject(err instanceof ClientJwksError ? err : new ClientJwksError('jwks_uri read failed')));
      },
    );
    // `timeout` above only fires on an idle socket: the deadline bounds the whole fetch (a server dripping bytes).
    const timedOut = () => req.destroy(new ClientJwksError('jwks_uri timed out'));
    const deadline = setTimeout(timedOut, options.timeoutMs ?? JWKS_FETCH_TIMEOUT_MS);
    req.on('close', () => clearTimeout(deadline));
    req.on('timeout', timedOut);
    req.on('error', (err) => reject(err instanceof ClientJwksError ? err : new ClientJwksError(`jwks_uri could not be fetched (${(err as NodeJS.ErrnoException).code ?? 'error'})`)));
    req.end();
  });
}

/** Where a client's keys come from. */
export interface ClientKeySource {
  /** The client's JWKS; `refresh` asks for a fresh copy of a fetched one (a kid was not found). @throws ClientJwksError */
  keysOf(client: { jwks?: Jwks; jwksUri?: string }, refresh?: boolean): Promise<Jwks>;
}

/** Inline JWKS as registered; `jwks_uri` fetched and cached as described at the top. */
export class ClientJwksResolver implements ClientKeySource {
  private readonly cache = new Map<string, { jwks: Promise<Jwks>; fetchedAt: number; failed?: boolean }>();

  constructor(
    private readonly options: JwksFetchOptions & { cacheSeconds?: number; refetchAfterSeconds?: number; now?: () => number } = {
      allowPrivateAddresses: false,
    },
  ) {}

  async keysOf(client: { jwks?: Jwks; jwksUri?: string }, refresh = false): Promise<Jwks> {
    if (client.jwks) return client.jwks;
    if (!client.jwksUri) throw new ClientJwksError('the client has no registered keys (jwks or jwks_uri)');
    const now = (this.options.now ?? Date.now)();
    const uri = client.jwksUri;
    const cached = this.cache.get(uri);
    const age = cached ? now - cached.fetchedAt : Infinity;
    const mayRefetch = age > (this.options.refetchAfterSeconds ?? 30) * 1000;
    // A failed fetch is remembered for refetchAfterSeconds (fail fast, no fetch per request), a good one for cacheSeconds.
    const stale = cached?.failed ? mayRefetch : age > (this.options.cacheSeconds ?? 300) * 1000;
    if (cached && !stale && !(refresh && mayRefetch)) return cached.jwks;
    if (this.cache.size > 1000) this.cache.clear();
    const entry: { jwks: Promise<Jwks>; fetchedAt: number; failed?: boolean } = { jwks: fetchClientJwks(uri, this.options), fetchedAt: now };
    entry.jwks.catch(() => (entry.failed = true));
    this.cache.set(uri, entry);
    return entry.jwks;
  }
}
