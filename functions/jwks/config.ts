/** The jwks function's dependencies, from its environment (read once per container). */
import { KMSClient } from '@aws-sdk/client-kms';
import { KmsSigner } from '../oauth/signer';
import type { JwksHandlerDeps } from './handler';

/** KMS_KEY_IDS (required): comma-separated KMS key ids/ARNs/aliases, the signing key first, then previous keys. */
export function jwksDepsFromEnv(env: Record<string, string | undefined> = process.env): JwksHandlerDeps {
  const keyIds = (env.KMS_KEY_IDS ?? '').split(',').map((id) => id.trim()).filter((id) => id !== '');
  if (keyIds.length === 0) throw new Error('environment variable KMS_KEY_IDS is not set');
  return { signer: new KmsSigner(new KMSClient({}), keyIds) };
}
