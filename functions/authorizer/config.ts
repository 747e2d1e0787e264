/**
 * The authorizer's configuration from its Lambda environment, read once per container. Every variable is optional:
 * - `ISSUER`: the expected `iss` (set it with a custom domain); default derived from the method ARN.
 * - `AUDIENCE`: the expected `aud`; default ISSUER + '/STU3'.
 * - `JWKS_URI`: where the JWKS is fetched; default ISSUER + '/.well-known/jwks.json'.
 * - `STRICT_PATIENT_SCOPES`: `true` refuses `patient/` scopes on tokens without a bound patient.
 * - `REVOCATIONS_URI`: where the revocation list is fetched; default ISSUER + '/oauth2/revocations'.
 * - `REVOCATION_CACHE_SECONDS`: how long a container keeps that list (default 30, 1..300).
 * No database: named scopes come expanded in the token (functions/scopes/definition-store.ts `namedScopeGrants`).
 */
import { baseUrlEnv, booleanEnv, intEnv, type Env } from '../env';
import type { AuthorizerConfig } from './handler';
import { DEFAULT_REVOCATION_CACHE_SECONDS } from './revocations';

export function configFromEnv(env: Env = process.env): AuthorizerConfig {
  const issuer = baseUrlEnv('ISSUER', env);
  const audience = baseUrlEnv('AUDIENCE', env);
  const jwksUri = baseUrlEnv('JWKS_URI', env);
  const config: AuthorizerConfig = { strictPatientScopes: booleanEnv('STRICT_PATIENT_SCOPES', false, env) };
  if (issuer) config.issuer = issuer;
  if (audience) config.audience = audience;
  if (jwksUri) config.verifier = { jwksUri: () => jwksUri };
  const revocationsUri = baseUrlEnv('REVOCATIONS_URI', env);
  config.revocations = {
    cacheSeconds: revocationCacheSecondsFromEnv(env),
    ...(revocationsUri ? { uri: () => revocationsUri } : {}),
  };
  return config;
}

/** REVOCATION_CACHE_SECONDS: how long a container keeps the revocation list, 1..300, default 30. */
export function revocationCacheSecondsFromEnv(env: Env = process.env): number {
  return intEnv('REVOCATION_CACHE_SECONDS', { min: 1, max: 300, fallback: DEFAULT_REVOCATION_CACHE_SECONDS }, env);
}
