/**
 * The deployed demo clients: the CCRI's three (published secrets), the patient-bound one, and the read-write
 * writer whose secret Secrets Manager generated at deploy time (never a public one). Run by the seed custom
 * resource when demo data is on; `npm start` seeds clients through functions/oauth's local seeder instead.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoClientAdminStore, DynamoClientStore } from '../oauth/clients';
import { demoClientIds } from '../../contract/demo-clients';
import { CCRI_DEMO_CLIENTS, DEMO_PATIENT_CLIENT, seedClients, writerClientFromEnv } from '../oauth/demo-clients';

export { demoClientIds };

export interface DeployedClientsOptions {
  documentClient: DynamoDBDocumentClient;
  clientsTableName: string;
  /** The ARN of the writer's generated secret. */
  writerSecretArn: string;
  /** The writer's client id (CCRI_WRITER_CLIENT_ID, else the default). */
  writerClientId?: string;
  secretsManager?: Pick<SecretsManagerClient, 'send'>;
}

export async function seedDeployedClients(options: DeployedClientsOptions): Promise<string> {
  const secrets = options.secretsManager ?? new SecretsManagerClient({});
  const out = await secrets.send(new GetSecretValueCommand({ SecretId: options.writerSecretArn }));
  if (!out.SecretString) throw new Error('the writer secret has no value');
  const { generatedSecret: _g, ...writer } = writerClientFromEnv({
    CCRI_WRITER_CLIENT_ID: options.writerClientId,
    CCRI_WRITER_CLIENT_SECRET: out.SecretString,
  });
  const store = new DynamoClientStore(options.documentClient, options.clientsTableName);
  await seedClients(store, [...CCRI_DEMO_CLIENTS, DEMO_PATIENT_CLIENT, writer]);
  return writer.clientId;
}

/**
 * Deletes the demo clients and the writer (demo data turned off, or the demo-data custom resource deleted): their
 * secrets are public or were printed, so no token may be issued to them again. Deleting, not disabling: a disabled
 * record with a published secret is one admin PATCH away from working again. Idempotent; returns the ids removed.
 */
export async function removeDemoClients(
  options: Pick<DeployedClientsOptions, 'documentClient' | 'clientsTableName' | 'writerClientId'>,
): Promise<string[]> {
  const store = new DynamoClientAdminStore(options.documentClient, options.clientsTableName);
  const removed: string[] = [];
  for (const clientId of demoClientIds(options.writerClientId)) {
    if (await store.delete(clientId)) removed.push(clientId);
  }
  return removed;
}
