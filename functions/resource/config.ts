/**
 * The FHIR function's configuration, read once per container from its environment. Every DynamoDB call of a
 * request goes through the client `clientFor(access)` gives: credentials of the data-access role assumed with the
 * token's session policy (functions/data-access, lib/constructs/data-access.ts), so IAM itself keeps the request
 * to the types the token may touch. The function's own role has no access to the table.
 *
 * `DATA_ACCESS=direct` is for emulators only (sam local, LocalStack: docs/local-emulators.md), which have no role to
 * assume and enforce no IAM: the function's own credentials, one shared client. The template never sets it (the
 * deploy rehearsal proves the built function reaches the table only through STS sessions).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { requiredEnv } from '../env';
import { createDocumentClient } from '../store/client';
import { dataAccessFromEnv } from '../data-access/config';
import { DATA_ACCESS_ENV } from '../data-access/environment';
import type { FhirHandlerDeps } from './handler';
import type { Validator } from '../fhir/service';
import { once } from '../once';

/** The profile validator, imported on the first write or $validate (a chunk of its own in the deployed bundle). */
const loadValidation = once(() => import('../validation'));
const validateResource: Validator = async (...args) => (await loadValidation()).validateResource(...args);

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): FhirHandlerDeps {
  const logger = new Logger({ serviceName: 'fhir' });
  const mode = env[DATA_ACCESS_ENV.mode] || 'sts';
  if (mode !== 'sts' && mode !== 'direct') throw new Error(`DATA_ACCESS must be unset or "direct" (emulators only), not "${mode}"`);
  let clientFor: FhirHandlerDeps['clientFor'];
  if (mode === 'direct') {
    logger.warn('DATA_ACCESS=direct: no per-token IAM session, the function credentials reach every type (emulators only)');
    const shared = createDocumentClient();
    clientFor = () => shared;
  } else {
    clientFor = dataAccessFromEnv(logger, env);
  }
  return {
    tableName: requiredEnv('TABLE_NAME', env),
    clientFor,
    validator: validateResource,
    cursorKey: env.CURSOR_KEY,
    logger,
  };
}
