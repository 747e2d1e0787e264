// Lambda entry of THE FHIR function: every resource type, one table (env TABLE_NAME, CURSOR_KEY).
import { createFhirHandler } from './handler';
import { configFromEnv } from './config';

export const handler = createFhirHandler(configFromEnv());
