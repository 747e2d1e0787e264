/**
 * The first admin client: without it nobody could call the admin API to register any other.
 *
 * - Deployed: the seed custom resource (functions/seed) calls `seedAdminClientFromSecret`, reading the id and secret
 *   from an AWS Secrets Manager secret generated at deploy time (`{"clientId": "...", "clientSecret": "..."}`), so
 *   the secret is in neither the code nor the template. The store keeps only its hash.
 * - Local (`npm start`, tests): `localAdminClientSeeder`, with the id and secret from CCRI_ADMIN_CLIENT_ID /
 *   CCRI_ADMIN_CLIENT_SECRET when set (so scripts can use it), else `ccri-admin` and a secret generated at start and
 *   shown in the start-up banner.
 *
 * Seeding converges: it puts the admin client as configured (replacing a record with the same id, e.g. after the
 * secret was changed in Secrets Manager). A secret rotated through the admin API is replaced by the next seed run.
 */
import { randomBytes } from 'node:crypto';
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { hashClientSecret, type ClientRecord, type ClientStore } from '../oauth/clients';
import { ADMIN_SCOPE } from '../scopes/admin';

/** The admin client's id when CCRI_ADMIN_CLIENT_ID is not set. */
export const DEFAULT_ADMIN_CLIENT_ID = 'ccri-admin';

/** The admin client's record: scope `ccri/admin` only (no FHIR access), both secret-based methods, enabled. */
export function adminClientRecord(clientId: string, secret: string, now: Date = new Date()): ClientRecord {
  return {
    clientId,
    name: 'Administrator (first admin client)',
    secrets: [hashClientSecret(secret)],
    scopes: [ADMIN_SCOPE],
    enabled: true,
    authMethods: ['client_secret_basic', 'client_secret_post'],
    createdAt: now.toISOString(),
  };
}

/** Puts the first admin client into the store (idempotent: same id and secret, same client). */
export async function seedAdminClient(store: ClientStore, clientId: string, secret: string): Promise<void> {
  if (!clientId || !secret) throw new Error('the admin client needs an id and a secret');
  await store.put(adminClientRecord(clientId, secret));
}

/**
 * For the deployed seed function: reads the admin credentials from Secrets Manager (a JSON secret
 * `{"clientId", "clientSecret"}`; a plain-string secret is the client secret, with the default id) and seeds them.
 * Returns the client id (never the secret) for the custom resource's log.
 */
export async function seedAdminClientFromSecret(
  store: ClientStore,
  secrets: Pick<SecretsManagerClient, 'send'>,
  secretId: string,
): Promise<string> {
  const { SecretString } = await secrets.send(new GetSecretValueCommand({ SecretId: secretId }));
  if (!SecretString) throw new Error('the admin client secret is empty');
  let clientId = DEFAULT_ADMIN_CLIENT_ID;
  let clientSecret = SecretString;
  if (SecretString.trim().startsWith('{')) {
    const parsed = JSON.parse(SecretString) as { clientId?: unknown; clientSecret?: unknown };
    if (typeof parsed.clientSecret !== 'string' || parsed.clientSecret === '') {
      throw new Error('the admin secret JSON has no clientSecret');
    }
    clientSecret = parsed.clientSecret;
    if (typeof parsed.clientId === 'string' && parsed.clientId !== '') clientId = parsed.clientId;
  }
  await seedAdminClient(store, clientId, clientSecret);
  return clientId;
}

/** The local admin credentials: from the environment, else the default id and a fresh secret. */
export function adminClientFromEnv(env: Record<string, string | undefined> = process.env): {
  clientId: string;
  clientSecret: string;
  generatedSecret: boolean;
} {
  const secret = env.CCRI_ADMIN_CLIENT_SECRET;
  return {
    clientId: env.CCRI_ADMIN_CLIENT_ID || DEFAULT_ADMIN_CLIENT_ID,
    clientSecret: secret || randomBytes(48).toString('base64url'),
    generatedSecret: !secret,
  };
}

/** The local runtime's seeder: seeds the admin client, returns the banner lines (the secret only if generated here). */
export function localAdminClientSeeder(
  store: ClientStore,
  env: Record<string, string | undefined> = process.env,
): () => Promise<string[]> {
  return async () => {
    const admin = adminClientFromEnv(env);
    await seedAdminClient(store, admin.clientId, admin.clientSecret);
    return [
      `Admin client (scope ${ADMIN_SCOPE}; npm run admin -- --help):`,
      admin.generatedSecret
        ? `  ${admin.clientId}  secret ${admin.clientSecret}  (generated at start; set CCRI_ADMIN_CLIENT_SECRET to fix it)`
        : `  ${admin.clientId}  secret from CCRI_ADMIN_CLIENT_SECRET`,
    ];
  };
}
