/**
 * The explorer function: serves the web explorer's static assets (web/, bundled by web/build.ts) on the API's own
 * origin, `GET /` (the page) and `GET /explorer/{asset}` (its script and style sheet), so the page calls the API
 * without CORS and its tokens carry the issuer the API expects.
 *
 * Every answer carries a strict Content-Security-Policy: scripts, styles and fetches from this origin only, no
 * inline script or style, no frames, no plugins, no <base>, and Trusted Types required (the page builds its DOM
 * with createElement/textContent; no HTML string ever reaches a sink).
 */
import { createHash } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';

/** One built asset: its text and content type. */
export interface ExplorerAsset {
  body: string;
  contentType: string;
}

/** The built assets by name: `index.html` (the page, served at `/`) and the files under `/explorer/`. */
export type ExplorerAssets = Readonly<Record<string, ExplorerAsset>>;

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join('; ');

/** The headers of every explorer response. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
  'Strict-Transport-Security': 'max-age=31536000; includeSubDomains',
};

export interface ExplorerDeps {
  /** The assets, loaded once (built in memory by `npm start`, read from the bundle's folder on Lambda). */
  assets: () => Promise<ExplorerAssets>;
}

function answer(statusCode: number, body: string, headers: Record<string, string>): APIGatewayProxyResult {
  return { statusCode, headers: { ...SECURITY_HEADERS, ...headers }, body };
}

const notFound = () => answer(404, 'Not found\n', { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });

export function createExplorerHandler(deps: ExplorerDeps) {
  let loaded: Promise<{ assets: ExplorerAssets; etags: Map<string, string> }> | undefined;
  const load = () =>
    (loaded ??= deps.assets().then((assets) => {
      const etags = new Map(Object.entries(assets).map(([name, a]) => [name, `"${createHash('sha256').update(a.body).digest('base64url').slice(0, 27)}"`]));
      return { assets, etags };
    }).catch((err: unknown) => {
      loaded = undefined;
      throw err;
    }));

  return async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    if (event.httpMethod !== 'GET' && event.httpMethod !== 'HEAD') return notFound();
    let name: string;
    if (event.resource === '/') {
      // The page's relative URLs (explorer/app.js, oauth2/token, STU3/...) need the trailing slash: on API Gateway
      // the stage root is reachable as `/prod` too.
      const seen = event.requestContext?.path;
      if (typeof seen === 'string' && seen.length > 0 && !seen.endsWith('/')) {
        return answer(301, '', { Location: `${seen}/`, 'Cache-Control': 'no-store' });
      }
      name = 'index.html';
    } else {
      name = event.pathParameters?.asset ?? '';
      if (name === 'index.html') return notFound();
    }
    const { assets, etags } = await load();
    const asset = Object.hasOwn(assets, name) ? assets[name] : undefined;
    if (!asset) return notFound();
    const etag = etags.get(name)!;
    const headers = { 'Content-Type': asset.contentType, 'Cache-Control': 'no-cache', ETag: etag };
    const ifNoneMatch = event.headers?.['If-None-Match'] ?? event.headers?.['if-none-match'];
    if (ifNoneMatch === etag) return answer(304, '', headers);
    return answer(200, asset.body, headers);
  };
}
