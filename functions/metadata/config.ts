/** The metadata function's configuration, read once per container: PUBLIC_BASE_URL and TOKEN_ISSUER, both optional. */
import { optionalEnv, type Env } from '../env';
import type { MetadataDeps } from './handler';

export function metadataConfigFromEnv(env: Env = process.env): MetadataDeps {
  return { baseUrl: optionalEnv('PUBLIC_BASE_URL', env), issuer: optionalEnv('TOKEN_ISSUER', env) };
}
