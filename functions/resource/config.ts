/**
 * The FHIR function's configuration, read once per container from its environment. Every DynamoDB call of a
 * request goes through the client `clientFor(access)` gives: credentials of the data-access role assumed with the
 * token's session policy (functions/data-access, lib/constructs/data-access.ts), so IAM itself keeps the request
 * to the types the token may touch. The function's own role has no access to the table.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { requiredEnv } from '../env';
import { dataAccessFromEnv } from '../data-access/config';
import type { FhirHandlerDeps } from './handler';
import type { Validator } from '../fhir/service';

/** The profile validator, imported on the first write or $validate: a chunk of its own in the deployed bundle. */
const validateResource: Validator = async (...args) => (await import('../validation')).validateResource(...args);

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): FhirHandlerDeps {
  const logger = new Logger({ serviceName: 'fhir' });
  return {
    tableName: requiredEnv('TABLE_NAME', env),
    clientFor: dataAccessFromEnv(logger, env),
    validator: validateResource,
    cursorKey: env.CURSOR_KEY,
    logger,
  };
}
