/**
 * The authorizer's configuration from its Lambda environment, read once per container. Every variable is optional:
 * - `ISSUER`: the expected `iss` (set it with a custom domain); default derived from the method ARN.
 * - `AUDIENCE`: the expected `aud`; default ISSUER + '/STU3'.
 * - `JWKS_URI`: where the JWKS is fetched; default ISSUER + '/.well-known/jwks.json'.
 * - `STRICT_PATIENT_SCOPES`: `true` refuses `patient/` scopes on tokens without a bound patient.
 * - `SCOPES_TABLE_NAME`: the Scopes table; when set, named scope definitions are loaded from it (dynamic scopes).
 * - `SCOPE_DEFINITIONS_CACHE_SECONDS`: how long a container keeps the definitions it loaded (default 60, 0..3600).
 *   A change reaches callers within this + the API Gateway authorizer result cache TTL.
 */
import {
  DEFAULT_DEFINITIONS_CACHE_SECONDS,
  DynamoScopeDefinitionStore,
  cachedScopeDefinitions,
} from '../scopes/definition-store';
import { createDocumentClient } from '../store/client';
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
  const scopesTable = nonEmpty('SCOPES_TABLE_NAME');
  if (scopesTable) {
    const store = new DynamoScopeDefinitionStore(createDocumentClient(), scopesTable);
    config.loadScopeDefinitions = cachedScopeDefinitions(() => store.list(), {
      ttlSeconds: definitionsCacheSecondsFromEnv(env),
    });
  }
  return config;
}

/** SCOPE_DEFINITIONS_CACHE_SECONDS: an integer from 0 to 3600, default 60. */
export function definitionsCacheSecondsFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = (env.SCOPE_DEFINITIONS_CACHE_SECONDS ?? '').trim();
  if (raw === '') return DEFAULT_DEFINITIONS_CACHE_SECONDS;
  const seconds = Number(raw);
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > 3600) {
    throw new Error(`SCOPE_DEFINITIONS_CACHE_SECONDS must be an integer from 0 to 3600, not ${raw}`);
  }
  return seconds;
}
