/** Helpers of the FHIR end-to-end tests: tokens from the local token endpoint and a fhir-kit-client per token. */
import { Client } from 'fhir-kit-client';
import type { TestApi } from '../support/local-api';

export async function tokenFor(api: TestApi, clientId: string, clientSecret: string, scope?: string): Promise<string> {
  const body = new URLSearchParams({ grant_type: 'client_credentials' });
  if (scope) body.set('scope', scope);
  const res = await fetch(api.tokenUrl, {
    method: 'POST',
    headers: {
      Authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
      'Content-Type': 'application/x-www-form-urlencoded',
      Accept: 'application/json',
    },
    body,
  });
  if (res.status !== 200) throw new Error(`token request for ${clientId} failed: ${res.status}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

export function fhirClient(api: TestApi, token: string): Client {
  return new Client({ baseUrl: api.fhirBase, customHeaders: { Authorization: `Bearer ${token}` } });
}

/** A raw request to the FHIR base, for headers and error bodies. */
export async function raw(
  api: TestApi,
  token: string | undefined,
  method: string,
  path: string,
  options: { body?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; json: any }> {
  const res = await fetch(`${api.fhirBase}/${path}`, {
    method,
    headers: {
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...(options.body !== undefined ? { 'Content-Type': 'application/fhir+json' } : {}),
      ...options.headers,
    },
    body: options.body,
  });
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: res.status, headers: res.headers, json };
}

/** The HTTP status of a fhir-kit-client rejection. */
export async function statusOf(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
    return 200;
  } catch (err) {
    const status = (err as { response?: { status?: number } }).response?.status;
    if (status === undefined) throw err;
    return status;
  }
}
