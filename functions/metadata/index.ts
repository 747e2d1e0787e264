// Lambda entry of the metadata function (CapabilityStatement, SMART configuration). Env: PUBLIC_BASE_URL, TOKEN_ISSUER (both optional).
import { createMetadataHandler } from './handler';

export const handler = createMetadataHandler({ baseUrl: process.env.PUBLIC_BASE_URL || undefined, issuer: process.env.TOKEN_ISSUER || undefined });
