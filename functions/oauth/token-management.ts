/**
 * Token revocation (RFC 7009, POST /oauth2/revoke) and introspection (RFC 7662, POST /oauth2/introspect), both
 * client-authenticated exactly like the token endpoint (secret or client assertion, through the limiter).
 *
 * - Revocation: a client may revoke its own tokens; the answer is 200 whether or not the token was valid or its own
 *   (RFC 7009 §2.2), so the endpoint is no oracle. The jti goes into the revocation store until the token's `exp`
 *   (revocation.ts); the authorizer refuses it within its stated bound (functions/authorizer/revocations.ts).
 * - Introspection: `{active: true, ...claims}` for a valid, unexpired, unrevoked token of an enabled client, asked
 *   about by the client it was issued to or by a client holding the admin scope; `{active: false}` otherwise (RFC
 *   7662 §2.2: no reason is given, so no token can be probed through another client).
 */
import type { TokenVerifier, VerifiedToken } from '../authorizer/verifier';
import { JwksUnavailableError, TokenRejectedError } from '../authorizer/errors';
import { ADMIN_SCOPE } from '../scopes/admin';
import type { TokenRequestForm } from './client-auth';
import type { ClientRecord } from './clients';
import { StoreUnavailableError } from '../errors';
import { InvalidRequestError } from './errors';
import type { RevocationStore } from './revocation';
import { authenticateRequest, type TokenSettings } from './token';

export interface TokenManagementSettings extends TokenSettings {
  /** Verifies this API's access tokens (the authorizer's verifier, JWKS over HTTP). */
  verifier: TokenVerifier;
  revocations: RevocationStore;
}

/** RFC 7662 §2.2. */
export type IntrospectionResponse =
  | { active: false }
  | {
      active: true;
      scope: string;
      client_id: string;
      token_type: 'Bearer';
      exp: number;
      iat: number;
      iss: string;
      aud: string;
      sub?: string;
      jti?: string;
      patient?: string;
    };

/** POST /oauth2/revoke. @throws OAuthError (client authentication, a missing token parameter) */
export async function revokeRequest(
  form: TokenRequestForm,
  authorization: string | undefined,
  settings: TokenManagementSettings,
): Promise<{ client: ClientRecord; revoked: boolean }> {
  const client = await authenticateRequest(form, authorization, settings, settings.now?.() ?? new Date());
  const verified = await verifyOrUndefined(requiredToken(form), settings);
  if (!verified || verified.clientId !== client.clientId || verified.jti === undefined) return { client, revoked: false };
  await settings.revocations.revokeToken({ jti: verified.jti, clientId: verified.clientId, iat: verified.iat, exp: verified.exp });
  return { client, revoked: true };
}

/** POST /oauth2/introspect. @throws OAuthError */
export async function introspectRequest(
  form: TokenRequestForm,
  authorization: string | undefined,
  settings: TokenManagementSettings,
): Promise<{ client: ClientRecord; response: IntrospectionResponse }> {
  const client = await authenticateRequest(form, authorization, settings, settings.now?.() ?? new Date());
  const inactive = { client, response: { active: false } as const };
  const verified = await verifyOrUndefined(requiredToken(form), settings);
  if (!verified) return inactive;
  if (verified.clientId !== client.clientId && !client.scopes.includes(ADMIN_SCOPE)) return inactive;
  if (await settings.revocations.isRevoked(verified)) return inactive;
  const owner = verified.clientId === client.clientId ? client : await settings.clients.get(verified.clientId);
  if (!owner || !owner.enabled) return inactive;
  const response: IntrospectionResponse = {
    active: true,
    scope: verified.scope,
    client_id: verified.clientId,
    token_type: 'Bearer',
    exp: verified.exp,
    iat: verified.iat,
    iss: settings.issuer,
    aud: settings.audience,
  };
  if (verified.subject !== undefined) response.sub = verified.subject;
  if (verified.jti !== undefined) response.jti = verified.jti;
  if (verified.patient !== undefined) response.patient = verified.patient;
  return { client, response };
}

function requiredToken(form: TokenRequestForm): string {
  const token = form.get('token');
  if (!token) throw new InvalidRequestError('The token parameter is required.');
  return token;
}

/** The token's claims if it is one of ours and valid now; undefined otherwise. A JWKS outage is a 503. */
async function verifyOrUndefined(token: string, settings: TokenManagementSettings): Promise<VerifiedToken | undefined> {
  try {
    return await settings.verifier.verify(token, { issuer: settings.issuer, audience: settings.audience });
  } catch (err) {
    if (err instanceof TokenRejectedError) return undefined;
    if (err instanceof JwksUnavailableError) throw new StoreUnavailableError(undefined, { cause: err });
    throw err;
  }
}
