/**
 * `private_key_jwt` client authentication (RFC 7523 §2.2, RFC 7521 §4.2) as SMART Backend Services profiles it
 * (https://hl7.org/fhir/smart-app-launch/backend-services.html#authenticating-to-the-token-endpoint): the client
 * proves itself with a JWT it signed with its private key; the server holds only the public key (inline JWKS or
 * `jwks_uri`, client-jwks.ts).
 *
 * Every rule of the SMART spec, each refused as `invalid_client` with the reason in `error_description`:
 * - `client_assertion_type` = `urn:ietf:params:oauth:client-assertion-type:jwt-bearer`;
 * - header: `alg` one of ASSERTION_SIGNING_ALGS (RS384 and ES384 are SMART's required pair; RS512 for the NHS
 *   APIs that use it), `kid` present and naming a registered key, `typ` `JWT` when present;
 * - `iss` = `sub` = the client id (and = `client_id` in the form when sent);
 * - `aud` = this token endpoint's URL;
 * - `exp` present, not passed, and at most 5 minutes ahead (SMART: "no more than five minutes in the future"),
 *   with CLOCK_SKEW_SECONDS of tolerance;
 * - `jti` present and never accepted twice within its lifetime: a conditional put in a replay store with a TTL
 *   (jti-replay.ts, in DynamoDB), done only after the signature verified, so that
 *   nobody can burn another client's jti.
 * Signature checking is aws-jwt-verify's `verifyJwtSync` (key type and `alg` of the JWK checked against the header).
 */
import {
  JwtBaseError,
  JwtExpiredError,
  JwtInvalidAudienceError,
  JwtInvalidIssuerError,
  JwtInvalidSignatureAlgorithmError,
  JwtInvalidSignatureError,
  JwtNotBeforeError,
  KidNotFoundInJwksError,
} from 'aws-jwt-verify/error';
import type { Jwks } from 'aws-jwt-verify/jwk';
import { decomposeUnverifiedJwt } from 'aws-jwt-verify/jwt';
import { verifyJwtSync } from 'aws-jwt-verify/jwt-verifier';
import type { ClientRecord, ClientStore } from './clients';
import { ClientJwksError, type ClientKeySource } from './client-jwks';
import { InvalidClientError, WrongCredentialsError } from './errors';
import type { JtiReplayStore } from './jti-replay';

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** The signing algorithms accepted on client assertions (advertised in the SMART configuration). */
export const ASSERTION_SIGNING_ALGS = ['RS384', 'ES384', 'RS512'] as const;
export const MAX_ASSERTION_LIFETIME_SECONDS = 300;
export const CLOCK_SKEW_SECONDS = 60;
const MAX_ASSERTION_LENGTH = 8192;

export interface AssertionSettings {
  /** The token endpoint URL: the `aud` every assertion must name. */
  tokenUrl: string;
  keys: ClientKeySource;
  replay: JtiReplayStore;
  now?: Date;
}

const refuse = (reason: string) => new InvalidClientError(`Client assertion refused: ${reason}.`, reason);

/** The client id an assertion claims to come from (its unverified `iss`), for the client lookup and the limiter. */
export function assertedClientId(assertion: string): string {
  if (assertion.length > MAX_ASSERTION_LENGTH) throw refuse(`longer than ${MAX_ASSERTION_LENGTH} characters`);
  let iss: unknown;
  try {
    iss = decomposeUnverifiedJwt(assertion).payload.iss;
  } catch {
    throw refuse('client_assertion is not a JWT (header.payload.signature, base64url JSON)');
  }
  if (typeof iss !== 'string' || iss === '') throw refuse('iss (the client id) is missing');
  return iss;
}

/**
 * Authenticates a client by its assertion (rules at the top of this file).
 * @throws InvalidClientError (WrongCredentialsError when the signature does not verify: a counted failure);
 *   StoreUnavailableError when the client store or the replay store fails
 */
export async function authenticateWithAssertion(
  store: ClientStore,
  credentials: { clientId: string; assertion: string },
  settings: AssertionSettings,
): Promise<ClientRecord> {
  const { assertion, clientId } = credentials;
  const client = await store.get(clientId);
  if (!client || !client.authMethods.includes('private_key_jwt') || (!client.jwks && !client.jwksUri)) {
    throw new WrongCredentialsError('Client assertion refused: unknown client, or the client has no registered public key.', 'unknown client or no key');
  }
  if (!client.enabled) throw new InvalidClientError('The client is disabled.', 'client disabled');
  const { header } = decomposeUnverifiedJwt(assertion);
  if (!(ASSERTION_SIGNING_ALGS as readonly unknown[]).includes(header.alg)) {
    throw refuse(`alg ${JSON.stringify(header.alg)} is not accepted (use ${ASSERTION_SIGNING_ALGS.join(', ')})`);
  }
  if (typeof header.kid !== 'string' || header.kid === '') throw refuse('kid is required in the header');
  if (header.typ !== undefined && String(header.typ).toUpperCase() !== 'JWT') throw refuse('typ must be JWT');
  if ('crit' in header) throw refuse('crit header parameters are not supported');

  const now = Math.floor((settings.now ?? new Date()).getTime() / 1000);
  let keys: Jwks;
  try {
    keys = await settings.keys.keysOf(client);
    if (!keys.keys.some((k) => k.kid === header.kid)) keys = await settings.keys.keysOf(client, true);
  } catch (err) {
    if (err instanceof ClientJwksError) throw refuse(`the client's keys could not be loaded: ${err.message}`);
    throw err;
  }
  let payload: Record<string, unknown>;
  try {
    payload = verifyJwtSync(assertion, keys, {
      issuer: client.clientId,
      audience: settings.tokenUrl,
      graceSeconds: CLOCK_SKEW_SECONDS,
      customJwtCheck: ({ payload: claims }) => {
        if (claims.sub !== client.clientId) throw refuse('sub must be the client id');
        if (typeof claims.exp !== 'number') throw refuse('exp is required');
        if (claims.exp > now + MAX_ASSERTION_LIFETIME_SECONDS + CLOCK_SKEW_SECONDS) {
          throw refuse(`exp is more than ${MAX_ASSERTION_LIFETIME_SECONDS} seconds in the future`);
        }
        if (typeof claims.jti !== 'string' || claims.jti === '' || claims.jti.length > 256) {
          throw refuse('jti is required (a string of 1..256 characters)');
        }
      },
    }) as Record<string, unknown>;
  } catch (err) {
    throw assertionError(err, header.kid, settings.tokenUrl);
  }
  if (!(await settings.replay.claim(client.clientId, payload.jti as string, payload.exp as number))) {
    throw refuse('jti was used before (replay)');
  }
  return client;
}

function assertionError(err: unknown, kid: string, tokenUrl: string): InvalidClientError {
  if (err instanceof InvalidClientError) return err;
  if (err instanceof JwtInvalidSignatureError) {
    return new WrongCredentialsError('Client assertion refused: the signature does not verify.', 'bad signature');
  }
  if (err instanceof KidNotFoundInJwksError) return refuse(`no registered key has kid ${JSON.stringify(kid.slice(0, 100))}`);
  if (err instanceof JwtInvalidIssuerError) return refuse('iss must be the client id');
  if (err instanceof JwtInvalidAudienceError) return refuse(`aud must be the token endpoint URL ${tokenUrl}`);
  if (err instanceof JwtExpiredError) return refuse('the assertion has expired');
  if (err instanceof JwtNotBeforeError) return refuse('the assertion is not valid yet (nbf)');
  if (err instanceof JwtInvalidSignatureAlgorithmError) return refuse('alg does not match the registered key');
  if (err instanceof JwtBaseError) return refuse(`invalid (${err.constructor.name})`);
  return refuse('the key or the signature is malformed');
}
