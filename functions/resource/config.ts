/** The resource function's configuration, read once per container from its environment. */
import { requiredEnv } from '../env';
import { isResourceType } from '../fhir/resource-types';
import { createDocumentClient } from '../store/client';
import type { ResourceHandlerDeps } from './handler';
import { validateResource } from '../validation';

export function configFromEnv(): ResourceHandlerDeps {
  const type = requiredEnv('RESOURCE_TYPE');
  if (!isResourceType(type)) throw new Error(`RESOURCE_TYPE '${type}' is not a served resource type`);
  return {
    type,
    tableName: requiredEnv('TABLE_NAME'),
    documentClient: createDocumentClient(),
    validator: validateResource,
  };
}
