// Lambda entry of a FHIR resource function: one per type, same bundle (env RESOURCE_TYPE, TABLE_NAME).
import { createResourceHandler } from './handler';
import { configFromEnv } from './config';

export const handler = createResourceHandler(configFromEnv());
