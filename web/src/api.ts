/**
 * Calls to this API only. The page is served by the API (functions/explorer), so its base is the page's folder:
 * `/` locally, `/<stage>/` on an execute-api URL. A URL outside the API (a Bundle link pointing elsewhere) is never
 * called with the token.
 */
export const API_BASE = new URL('.', location.href);
export const FHIR_BASE = new URL('STU3/', API_BASE);

export interface ApiResponse {
  status: number;
  statusText: string;
  headers: Headers;
  /** The parsed JSON body, or the raw text when it is not JSON. */
  body: unknown;
  url: string;
  method: string;
}

/** Whether a URL is inside the FHIR base (same origin, under /STU3/). */
export function inFhirBase(url: URL): boolean {
  return url.origin === FHIR_BASE.origin && url.pathname.startsWith(FHIR_BASE.pathname);
}

async function read(response: Response, method: string): Promise<ApiResponse> {
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON */
  }
  return { status: response.status, statusText: response.statusText, headers: response.headers, body, url: response.url, method };
}

/** A FHIR call with the bearer token. `target` is a path relative to the FHIR base (`Patient?name=x`) or a full URL inside it. */
export async function fhir(token: string, target: string | URL, init: { method?: string; body?: unknown } = {}): Promise<ApiResponse> {
  const url = typeof target === 'string' ? new URL(target, FHIR_BASE) : target;
  if (!inFhirBase(url)) throw new Error(`${url.href} is outside this API: not called with the token`);
  const method = init.method ?? 'GET';
  const headers: Record<string, string> = { Accept: 'application/fhir+json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (init.body !== undefined) headers['Content-Type'] = 'application/fhir+json';
  const response = await fetch(url, {
    method,
    headers,
    // U+FFFD escaped: the API refuses it raw, as the mark of a body that was not UTF-8 (functions/http/body.ts).
    body: init.body === undefined ? undefined : JSON.stringify(init.body).replace(/\uFFFD/g, '\\ufffd'),
    credentials: 'omit',
    cache: 'no-store',
    redirect: 'error',
  });
  return read(response, method);
}

/** Public JSON (CapabilityStatement, JWKS). */
export async function getPublic(path: string, base: URL = API_BASE): Promise<ApiResponse> {
  return read(await fetch(new URL(path, base), { credentials: 'omit', headers: { Accept: 'application/json, application/fhir+json' } }), 'GET');
}

export interface TokenAnswer {
  status: number;
  body: { access_token?: string; scope?: string; expires_in?: number; error?: string; error_description?: string };
}

/** POST /oauth2/token, client_credentials with client_secret_basic (id and secret form-urlencoded first, RFC 6749 §2.3.1). */
export async function requestToken(clientId: string, clientSecret: string, scope?: string): Promise<TokenAnswer> {
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  if (scope) form.set('scope', scope);
  const basic = btoa(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`);
  const response = await fetch(new URL('oauth2/token', API_BASE), {
    method: 'POST',
    headers: { Authorization: `Basic ${basic}`, 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
    body: form.toString(),
    credentials: 'omit',
    cache: 'no-store',
  });
  const answer = await read(response, 'POST');
  return { status: answer.status, body: (answer.body && typeof answer.body === 'object' ? answer.body : { error: String(answer.body) }) as TokenAnswer['body'] };
}
