/** Helpers of the FHIR end-to-end tests: a fhir-kit-client per token, raw calls. Tokens: test/support/tokens.ts. */
import { Client } from 'fhir-kit-client';
import type { TestApi } from '../support/local-api';


export function fhirClient(api: TestApi, token: string): Client {
  return new Client({ baseUrl: api.fhirBase, customHeaders: { Authorization: `Bearer ${token}` } });
}

/** A raw request to the FHIR base, for headers and error bodies. */
export async function raw(
  api: TestApi,
  token: string | undefined,
  method: string,
  path: string,
  options: { body?: string | Blob; headers?: Record<string, string> } = {},
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
