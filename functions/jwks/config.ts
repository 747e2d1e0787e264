/** The jwks function's dependencies, from its environment (read once per container). */
import { KMSClient } from '@aws-sdk/client-kms';
import { KmsSignerWithJwks } from '../oauth/signer';
import { listEnv, type Env } from '../env';
import type { JwksHandlerDeps } from './handler';

/** KMS_KEY_IDS (required): comma-separated KMS key ids/ARNs/aliases, the signing key first, then previous keys. */
export function jwksDepsFromEnv(env: Env = process.env): JwksHandlerDeps {
  const keyIds = listEnv('KMS_KEY_IDS', env);
  if (keyIds.length === 0) throw new Error('environment variable KMS_KEY_IDS is not set');
  return { signer: new KmsSignerWithJwks(new KMSClient({}), keyIds) };
}
