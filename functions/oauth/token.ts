/**
 * The token endpoint's domain: the client_credentials grant, scope narrowing and the JWT access token.
 * Plain values in, plain values out; the HTTP edge is functions/token/handler.ts.
 */
import { randomUUID } from 'node:crypto';
import { FHIR_BASE_PATH } from '../../contract/paths';
import { MAX_TOKEN_LENGTH } from '../../contract/bearer';
import { authenticateWithAssertion, type AssertionSettings } from './client-assertion';
import { extractClientCredentials, type TokenRequestForm } from './client-auth';
import { authenticateClient, type ClientRecord, type ClientStore } from './clients';
import { InvalidClientError, InvalidRequestError, InvalidScopeError, UnsupportedGrantTypeError } from './errors';
import { namedScopeGrants, type ScopeDefinitionStore } from '../scopes/definition-store';
import { NAMED_GRANTS_CLAIM } from '../scopes/permissions';
import type { TokenSigner } from './signer';
import { authenticateWithLimiter, type FailedAuthLimiter } from './throttle';

/** The token endpoint's path under the API base URL (contract/routes.ts): with the issuer, the `aud` of client assertions. */
export const TOKEN_PATH = '/oauth2/token';

/** Default access token lifetime, seconds. */
export const DEFAULT_TOKEN_LIFETIME_SECONDS = 3600;

/** The claims of an access token (RFC 9068 §2.2, plus SMART's `patient` launch context). */
export interface AccessTokenClaims {
  /** The issuer: the API's base URL. */
  iss: string;
  /** For client_credentials the subject is the client itself (RFC 9068 §2.2). */
  sub: string;
  /** The resource server: the FHIR base URL. */
  aud: string;
  exp: number;
  iat: number;
  jti: string;
  client_id: string;
  /** The granted scopes, space-separated. */
  scope: string;
  /** The Patient the client is bound to (SMART launch context), when it is. */
  patient?: string;
  /**
   * What the named scopes among `scope` grant, expanded at issuance from their definitions (`formatGrants` form,
   * e.g. `MedicationStatement:rs`); absent when they grant nothing. See `namedScopeGrants`.
   */
  ccri_grants?: string;
}

/** The successful token response body (RFC 6749 §5.1). */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
}

export interface TokenSettings {
  clients: ClientStore;
  signer: TokenSigner;
  /** Access token lifetime in seconds. */
  tokenLifetimeSeconds: number;
  /** The `iss` claim: the API's base URL, without a trailing slash. */
  issuer: string;
  /** The `aud` claim: the FHIR base URL. */
  audience: string;
  now?: () => Date;
  /** Throttles repeated failed client authentications (throttle.ts); none: no throttling. */
  limiter?: FailedAuthLimiter;
  /** The caller's source IP, a throttling key. */
  sourceIp?: string;
  /** Called when the limiter fails (the request then proceeds: fail open). */
  onLimiterError?: (err: unknown) => void;
  /**
   * Where named scope definitions are read at issuance (the Scopes table); none: named scopes grant nothing.
   * Never cached: see functions/scopes/definition-store.ts `namedScopeGrants`.
   */
  definitions?: Pick<ScopeDefinitionStore, 'get'>;
  /** private_key_jwt (SMART Backend Services): where client keys come from and the jti replay store; none: refused. */
  assertions?: Pick<AssertionSettings, 'keys' | 'replay'>;
}

/** iss and aud: from configuration when set, else from the base URL the client called. */
export function issuerAndAudience(
  config: { issuer?: string; audience?: string },
  requestBaseUrl: string,
): { issuer: string; audience: string } {
  const issuer = trimSlash(config.issuer || requestBaseUrl);
  return { issuer, audience: trimSlash(config.audience || `${issuer}${FHIR_BASE_PATH}`) };
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

/**
 * A token request: checks the grant type, authenticates the client and dispatches to the grant.
 * @throws OAuthError subclasses (RFC 6749 §5.2)
 */
export async function handleTokenRequest(
  form: TokenRequestForm,
  authorization: string | undefined,
  settings: TokenSettings,
): Promise<{ response: TokenResponse; client: ClientRecord }> {
  const grantType = form.get('grant_type');
  if (grantType === undefined || grantType === '') {
    throw new InvalidRequestError('The grant_type parameter is required (grant_type=client_credentials).');
  }
  if (grantType !== 'client_credentials') throw new UnsupportedGrantTypeError();
  const now = settings.now?.() ?? new Date();
  const client = await authenticateRequest(form, authorization, settings, now);
  return { response: await clientCredentialsGrant(client, form.get('scope'), settings, now), client };
}

/**
 * Authenticates the client of a request to the token, revocation or introspection endpoint: a client secret (Basic
 * or in the form) or a client assertion (private_key_jwt), through the failed-authentication limiter.
 * @throws OAuthError subclasses
 */
export async function authenticateRequest(
  form: TokenRequestForm,
  authorization: string | undefined,
  settings: TokenSettings,
  now: Date,
): Promise<ClientRecord> {
  const credentials = extractClientCredentials(authorization, form);
  const authenticate = () => {
    if (credentials.method !== 'private_key_jwt') return authenticateClient(settings.clients, credentials, now);
    if (!settings.assertions) throw new InvalidClientError('Client authentication by client_assertion (private_key_jwt) is not enabled.');
    const tokenUrl = `${settings.issuer}${TOKEN_PATH}`;
    return authenticateWithAssertion(settings.clients, credentials, { ...settings.assertions, tokenUrl, now });
  };
  return settings.limiter
    ? authenticateWithLimiter(authenticate, {
        limiter: settings.limiter,
        clientId: credentials.clientId,
        sourceIp: settings.sourceIp,
        now,
        onLimiterError: settings.onLimiterError,
      })
    : authenticate();
}

/**
 * The client credentials grant, RFC 6749 §4.4 (https://www.rfc-editor.org/rfc/rfc6749#section-4.4): an
 * authenticated confidential client gets an access token for itself, with the requested scope narrowed to what it
 * is registered for (§3.3). No refresh token (§4.4.3).
 */
export async function clientCredentialsGrant(
  client: ClientRecord,
  requestedScope: string | undefined,
  settings: TokenSettings,
  now: Date,
): Promise<TokenResponse> {
  const scopes = narrowScope(client.scopes, requestedScope);
  // Never born revoked: a client whose tokens were revoked up to `tokensNotBefore` gets tokens issued from then on.
  const iat = Math.max(Math.floor(now.getTime() / 1000), client.tokensNotBefore ?? 0);
  const claims: AccessTokenClaims = {
    iss: settings.issuer,
    sub: client.clientId,
    aud: settings.audience,
    exp: iat + settings.tokenLifetimeSeconds,
    iat,
    jti: randomUUID(),
    client_id: client.clientId,
    scope: scopes.join(' '),
  };
  if (client.patient !== undefined) claims.patient = client.patient;
  const named = settings.definitions ? await expandNamed(scopes, settings.definitions) : '';
  if (named !== '') claims[NAMED_GRANTS_CLAIM] = named;
  const accessToken = await signJwt(claims, settings.signer);
  // A token the authorizer would refuse for its length on every request is no token: say so, and how to get one.
  if (accessToken.length > MAX_TOKEN_LENGTH) {
    throw new InvalidScopeError(
      `A token with these ${scopes.length} scopes would be ${accessToken.length} characters, over the ${MAX_TOKEN_LENGTH} the API accepts: ask for fewer scopes (the scope parameter).`,
    );
  }
  return {
    access_token: accessToken,
    token_type: 'Bearer',
    expires_in: settings.tokenLifetimeSeconds,
    scope: claims.scope,
  };
}

/**
 * How a named scope travels: the `scope` claim (and the response's `scope`) keep the names as granted, which is what
 * the client asked for and what RFC 6749 §3.3 and SMART clients expect to see back; the claim `ccri_grants` carries
 * their expansion in the authorizer's compact form. The authorizer then needs only the JWKS.
 */
async function expandNamed(scopes: readonly string[], definitions: Pick<ScopeDefinitionStore, 'get'>): Promise<string> {
  // A store outage (ScopeStoreUnavailableError, a StoreUnavailableError) reaches the edge as it is: 503.
  return namedScopeGrants(scopes, definitions);
}

/** RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ). */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/**
 * The granted scopes (RFC 6749 §3.3): absent (or empty) = every registered scope; present = the requested scopes,
 * each of which must be registered for the client (exact, case-sensitive match), in the order requested, once each.
 * @throws InvalidScopeError when a requested scope is malformed or not registered, or nothing would be granted
 */
export function narrowScope(registered: readonly string[], requested: string | undefined): string[] {
  const wanted = (requested ?? '').split(' ').filter((s) => s !== '');
  if (wanted.length === 0) {
    if (registered.length === 0) throw new InvalidScopeError('No scope is registered for this client.');
    return [...registered];
  }
  const malformed = wanted.find((s) => !SCOPE_TOKEN.test(s));
  if (malformed !== undefined) throw new InvalidScopeError('The scope parameter is malformed.');
  const unknown = wanted.filter((s) => !registered.includes(s));
  if (unknown.length > 0) {
    throw new InvalidScopeError(`Scope not registered for this client: ${unknown.join(' ')}`);
  }
  return [...new Set(wanted)];
}

/**
 * A JWT access token per RFC 9068: JWS compact serialization (RFC 7515 §7.1), header
 * `{"alg":"RS256","typ":"at+jwt","kid":...}` (RFC 9068 §2.1).
 */
export async function signJwt(claims: AccessTokenClaims, signer: TokenSigner): Promise<string> {
  const header = { alg: signer.alg, typ: 'at+jwt', kid: await signer.currentKid() };
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  const signature = await signer.sign(Buffer.from(signingInput, 'ascii'));
  return `${signingInput}.${Buffer.from(signature).toString('base64url')}`;
}

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}
