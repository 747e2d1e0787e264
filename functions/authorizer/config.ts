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
import type { AuthorizerConfig } from './handler';
import { DEFAULT_REVOCATION_CACHE_SECONDS } from './revocations';

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): AuthorizerConfig {
  const nonEmpty = (name: string) => (env[name] && env[name]!.trim() !== '' ? env[name]!.trim().replace(/\/+$/, '') : undefined);
  const issuer = nonEmpty('ISSUER');
  const audience = nonEmpty('AUDIENCE');
  const jwksUri = nonEmpty('JWKS_URI');
  const strict = (env.STRICT_PATIENT_SCOPES ?? '').trim().toLowerCase();
  if (strict !== '' && strict !== 'true' && strict !== 'false') {
    throw new Error('STRICT_PATIENT_SCOPES must be "true" or "false"');
  }
  const config: AuthorizerConfig = { strictPatientScopes: strict === 'true' };
  if (issuer) config.issuer = issuer;
  if (audience) config.audience = audience;
  if (jwksUri) config.verifier = { jwksUri: () => jwksUri };
  const revocationsUri = nonEmpty('REVOCATIONS_URI');
  config.revocations = {
    cacheSeconds: revocationCacheSecondsFromEnv(env),
    ...(revocationsUri ? { uri: () => revocationsUri } : {}),
  };
  return config;
}

/** REVOCATION_CACHE_SECONDS: how long a container keeps the revocation list, 1..300, default 30. */
export function revocationCacheSecondsFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = (env.REVOCATION_CACHE_SECONDS ?? '').trim();
  if (raw === '') return DEFAULT_REVOCATION_CACHE_SECONDS;
  const seconds = Number(raw);
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 300) {
    throw new Error(`REVOCATION_CACHE_SECONDS must be an integer from 1 to 300, not ${raw}`);
  }
  return seconds;
}
