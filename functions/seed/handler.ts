/**
 * The seed function: the `onEvent` handler of the stack's CloudFormation custom resources (CDK
 * `custom-resources.Provider`, lib/constructs/seeding.ts), told apart by `ResourceType`:
 * - `Custom::CcriAdminClient` (always): the first admin client, its id and secret read from the Secrets Manager
 *   secret named by the `AdminSecretArn` property (functions/admin/seed.ts);
 * - `Custom::CcriDemoData` (always, property `DemoData` `on` or `off`): with `on`, Create and Update seed the demo
 *   OAuth clients, the writer with its generated secret from `WriterSecretArn`, and the FHIR demo resources,
 *   loaded idempotently; with `off`, and on Delete, they REMOVE the demo clients and the writer (their secrets are
 *   public), so that turning demo data off really closes them (issue 13.2). The demo FHIR resources stay: they are
 *   synthetic (999-range NHS numbers) and removing them could remove changes made to them since.
 * Delete of the admin client resource does nothing (the tables go with the stack, or stay with their data when
 * retained).
 * Env: `TABLE_<id>` for every table of contract/tables.ts.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { CLIENTS_TABLE, FHIR_TABLE, type TableSpec } from '../../contract/tables';
import { seedAdminClientFromSecret } from '../admin/seed';
import { DynamoClientStore } from '../oauth/clients';
import { requiredEnv } from '../env';
import { createDocumentClient } from '../store/client';
import { removeDemoClients, seedDeployedClients } from './clients';

export const ADMIN_CLIENT_RESOURCE = 'Custom::CcriAdminClient';
export const DEMO_DATA_RESOURCE = 'Custom::CcriDemoData';

export interface SeedDeps {
  documentClient: DynamoDBDocumentClient;
  /** The deployed name of a table. */
  tableName(spec: TableSpec): string;
  secretsManager: Pick<SecretsManagerClient, 'send'>;
  logger?: Logger;
}

export function seedConfigFromEnv(env: NodeJS.ProcessEnv = process.env): SeedDeps {
  return {
    documentClient: createDocumentClient({ requestTimeoutMs: 5000, maxAttempts: 5 }),
    tableName: (spec) => requiredEnv(`TABLE_${spec.id}`, env),
    secretsManager: new SecretsManagerClient({}),
  };
}

type Result = { PhysicalResourceId: string; Data?: Record<string, string | number> };

export function createSeedHandler(deps: SeedDeps) {
  const logger = deps.logger ?? new Logger({ serviceName: 'seed' });
  const clients = () => new DynamoClientStore(deps.documentClient, deps.tableName(CLIENTS_TABLE));
  const property = (event: CloudFormationCustomResourceEvent, name: string): string => {
    const value = (event.ResourceProperties as Record<string, unknown>)[name];
    if (typeof value !== 'string' || value === '') throw new Error(`${event.ResourceType} has no ${name} property`);
    return value;
  };

  return async (event: CloudFormationCustomResourceEvent): Promise<Result> => {
    const physicalResourceId = 'PhysicalResourceId' in event ? event.PhysicalResourceId : `ccri-${event.LogicalResourceId}`;
    if (event.ResourceType === DEMO_DATA_RESOURCE && (event.RequestType === 'Delete' || demoDataSwitch(event) === 'off')) {
      const removed = await removeDemoClients({ documentClient: deps.documentClient, clientsTableName: deps.tableName(CLIENTS_TABLE) });
      logger.info('demo clients removed', { removed, requestType: event.RequestType });
      return { PhysicalResourceId: physicalResourceId, Data: { removedClients: removed.length } };
    }
    if (event.RequestType === 'Delete') return { PhysicalResourceId: physicalResourceId };

    if (event.ResourceType === ADMIN_CLIENT_RESOURCE) {
      const adminClientId = await seedAdminClientFromSecret(clients(), deps.secretsManager, property(event, 'AdminSecretArn'));
      logger.info('admin client seeded', { clientId: adminClientId });
      return { PhysicalResourceId: physicalResourceId, Data: { adminClientId } };
    }
    if (event.ResourceType === DEMO_DATA_RESOURCE) {
      const writerClientId = await seedDeployedClients({
        documentClient: deps.documentClient,
        clientsTableName: deps.tableName(CLIENTS_TABLE),
        writerSecretArn: property(event, 'WriterSecretArn'),
        secretsManager: deps.secretsManager,
      });
      // The FHIR repository and the demo resources: a chunk of their own, which the other events never load.
      const { loadDemoData } = await import('./loader');
      const summary = await loadDemoData({ documentClient: deps.documentClient, tableName: deps.tableName(FHIR_TABLE) });
      logger.info('demo data loaded', { ...summary, writerClientId });
      return { PhysicalResourceId: physicalResourceId, Data: { ...summary, writerClientId } };
    }
    throw new Error(`the seed function does not know custom resources of type ${event.ResourceType}`);
  };
}

/** The demo-data custom resource's `DemoData` property: `on` (the default, for templates before it existed) or `off`. */
function demoDataSwitch(event: CloudFormationCustomResourceEvent): 'on' | 'off' {
  const value = (event.ResourceProperties as Record<string, unknown>).DemoData ?? 'on';
  if (value !== 'on' && value !== 'off') throw new Error(`${event.ResourceType} DemoData must be on or off, not ${String(value)}`);
  return value;
}
