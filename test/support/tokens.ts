/** Real access tokens from the local token endpoint, for end-to-end tests. */
import { randomBytes } from 'node:crypto';

export interface Credentials {
  clientId: string;
  clientSecret: string;
}

/** POST /oauth2/token with client_secret_basic (RFC 6749 §2.3.1: urlencoded id and secret); the raw response. */
export function requestToken(api: { tokenUrl: string }, creds: Credentials, scope?: string): Promise<Response> {
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  if (scope) form.set('scope', scope);
  const basic = Buffer.from(`${encodeURIComponent(creds.clientId)}:${encodeURIComponent(creds.clientSecret)}`).toString('base64');
  return fetch(api.tokenUrl, {
    method: 'POST',
    headers: { Authorization: `Basic ${basic}`, 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
    body: form.toString(),
  });
}

/** An access token; throws unless the token endpoint answered 200. */
export async function tokenFor(api: { tokenUrl: string }, creds: Credentials, scope?: string): Promise<string> {
  const response = await requestToken(api, creds, scope);
  const body = (await response.json()) as { access_token?: string; error?: string; error_description?: string };
  if (response.status !== 200 || !body.access_token) {
    throw new Error(`token request for ${creds.clientId} failed: ${response.status} ${body.error} ${body.error_description}`);
  }
  return body.access_token;
}

/**
 * The read-write demo client of the next `startTestApi()`, with a fresh random secret: the local seed registers the
 * writer from CCRI_WRITER_CLIENT_ID / CCRI_WRITER_CLIENT_SECRET.
 */
export function testWriter(clientId: string): Credentials {
  const creds = { clientId, clientSecret: randomBytes(24).toString('base64url') };
  process.env.CCRI_WRITER_CLIENT_ID = creds.clientId;
  process.env.CCRI_WRITER_CLIENT_SECRET = creds.clientSecret;
  return creds;
}
