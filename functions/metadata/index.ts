// Lambda entry of the metadata function (CapabilityStatement, SMART configuration); configuration: ./config.ts.
import { metadataConfigFromEnv } from './config';
import { createMetadataHandler } from './handler';

export const handler = createMetadataHandler(metadataConfigFromEnv());
