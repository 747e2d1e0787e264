/** The resource function's configuration, read once per container from its environment. */
import { isResourceType } from '../fhir/resource-types';
import { createDocumentClient } from '../store/client';
import type { ResourceHandlerDeps } from './handler';
import { validateResource } from '../validation';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`Missing environment variable ${name}`);
  return value;
}

export function configFromEnv(): ResourceHandlerDeps {
  const type = required('RESOURCE_TYPE');
  if (!isResourceType(type)) throw new Error(`RESOURCE_TYPE '${type}' is not a served resource type`);
  return {
    type,
    tableName: required('TABLE_NAME'),
    documentClient: createDocumentClient(),
    validator: validateResource,
  };
}
