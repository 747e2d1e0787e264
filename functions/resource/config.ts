/** The FHIR function's configuration, read once per container from its environment. */
import { requiredEnv } from '../env';
import { createDocumentClient } from '../store/client';
import type { FhirHandlerDeps } from './handler';
import type { Validator } from '../fhir/service';

/** The profile validator, imported on the first write or $validate: a chunk of its own in the deployed bundle. */
const validateResource: Validator = async (...args) => (await import('../validation')).validateResource(...args);

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): FhirHandlerDeps {
  const shared = createDocumentClient();
  return {
    tableName: requiredEnv('TABLE_NAME', env),
    // The least-privilege seam: one shared client until a provider scoped by the token's grants is plugged in.
    clientFor: () => shared,
    validator: validateResource,
    cursorKey: env.CURSOR_KEY,
  };
}
