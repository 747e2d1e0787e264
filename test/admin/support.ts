/** Helpers for the admin end-to-end tests: real tokens from the token endpoint, JSON calls through the local gateway. */
import { expect } from 'vitest';
import type { TestApi } from '../support/local-api';

export interface Credentials {
  clientId: string;
  clientSecret: string;
}

/** POST /oauth2/token with client_secret_basic; the raw response. */
export async function requestToken(api: TestApi, creds: Credentials, scope?: string): Promise<Response> {
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  if (scope) form.set('scope', scope);
  const basic = Buffer.from(`${encodeURIComponent(creds.clientId)}:${encodeURIComponent(creds.clientSecret)}`).toString('base64');
  return fetch(api.tokenUrl, {
    method: 'POST',
    headers: { Authorization: `Basic ${basic}`, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
  });
}

/** A real access token (asserting the token endpoint said 200). */
export async function tokenFor(api: TestApi, creds: Credentials, scope?: string): Promise<string> {
  const response = await requestToken(api, creds, scope);
  const body = (await response.json()) as { access_token?: string; error?: string };
  expect(response.status, body.error).toBe(200);
  return body.access_token!;
}

export interface JsonResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** A call with an optional bearer token and JSON body; the parsed JSON answer (undefined when empty). */
export async function call<T = any>(
  api: TestApi,
  method: string,
  path: string,
  options: { token?: string; body?: unknown } = {},
): Promise<JsonResponse<T>> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(`${api.baseUrl}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as T) : (undefined as T) };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
