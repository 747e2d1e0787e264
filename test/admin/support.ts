/** Helpers for the admin end-to-end tests: real tokens from the token endpoint, JSON calls through the local gateway. */
import { expect } from 'vitest';
import type { TestApi } from '../support/local-api';

export { requestToken, tokenFor, type Credentials } from '../support/tokens';

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
