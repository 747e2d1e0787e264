/**
 * The seed function: the `onEvent` handler of a CloudFormation custom resource (CDK `custom-resources.Provider`).
 * Create and Update load the demo data idempotently (and, when configured, the demo OAuth clients with the
 * writer's generated secret); Delete does nothing (the tables go with the stack, or stay with their data when
 * retained). Env: TABLE_NAMES, a JSON object `{ "<ResourceType>": "<table name>" }`; for the clients also
 * TABLE_Clients and WRITER_SECRET_ARN (and optionally CCRI_WRITER_CLIENT_ID).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { isResourceType, RESOURCE_TYPES, type ResourceType } from '../fhir/resource-types';
import { createDocumentClient } from '../store/client';
import { seedDeployedClients } from './clients';
import { loadDemoData } from './loader';

export interface SeedDeps {
  documentClient: DynamoDBDocumentClient;
  tableNames: Record<ResourceType, string>;
  /** Seeds the demo OAuth clients first, if set; returns the writer's client id. */
  seedClients?: () => Promise<string>;
  logger?: Logger;
}

export function seedConfigFromEnv(): SeedDeps {
  const raw = process.env.TABLE_NAMES;
  if (!raw) throw new Error('Missing environment variable TABLE_NAMES');
  const parsed = JSON.parse(raw) as Record<string, string>;
  for (const type of RESOURCE_TYPES) if (!parsed[type]) throw new Error(`TABLE_NAMES has no table for ${type}`);
  for (const key of Object.keys(parsed)) if (!isResourceType(key)) throw new Error(`TABLE_NAMES names an unknown type ${key}`);
  const documentClient = createDocumentClient({ requestTimeoutMs: 5000, maxAttempts: 5 });
  const clientsTableName = process.env.TABLE_Clients;
  const writerSecretArn = process.env.WRITER_SECRET_ARN;
  return {
    documentClient,
    tableNames: parsed as Record<ResourceType, string>,
    seedClients:
      clientsTableName && writerSecretArn
        ? () => seedDeployedClients({ documentClient, clientsTableName, writerSecretArn, writerClientId: process.env.CCRI_WRITER_CLIENT_ID || undefined })
        : undefined,
  };
}

export function createSeedHandler(deps: SeedDeps) {
  const logger = deps.logger ?? new Logger({ serviceName: 'seed' });
  return async (event: CloudFormationCustomResourceEvent) => {
    const physicalResourceId = 'PhysicalResourceId' in event ? event.PhysicalResourceId : 'ccri-demo-data';
    if (event.RequestType === 'Delete') return { PhysicalResourceId: physicalResourceId };
    const writerClientId = deps.seedClients ? await deps.seedClients() : undefined;
    const summary = await loadDemoData({ documentClient: deps.documentClient, tableName: (type) => deps.tableNames[type] });
    logger.info('demo data loaded', { ...summary });
    const data: Record<string, string | number> = { written: summary.written, unchanged: summary.unchanged };
    if (writerClientId) data.writerClientId = writerClientId;
    return { PhysicalResourceId: physicalResourceId, Data: data };
  };
}
