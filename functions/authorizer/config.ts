/**
 * The authorizer's configuration from its Lambda environment, read once per container. Every variable is optional:
 * - `ISSUER`: the expected `iss` (set it with a custom domain); default derived from the method ARN.
 * - `AUDIENCE`: the expected `aud`; default ISSUER + '/STU3'.
 * - `JWKS_URI`: where the JWKS is fetched; default ISSUER + '/.well-known/jwks.json'.
 * - `STRICT_PATIENT_SCOPES`: `true` refuses `patient/` scopes on tokens without a bound patient.
 * No database: named scopes come expanded in the token (functions/scopes/definition-store.ts `namedScopeGrants`).
 */
import type { AuthorizerConfig } from './handler';

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
  return config;
}
