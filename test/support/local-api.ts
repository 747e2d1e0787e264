/**
 * The local API for end-to-end tests: the real gateway, handlers and authorizer over real HTTP on a free port,
 * on fresh tables (a unique prefix) in the run's DynamoDB Local engine, seeded with the demo data by default.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { TableSpec } from '../../contract/tables';
import { startLocalApi, type LocalApi, type LocalApiOptions } from '../../local/app';
import { uniquePrefix } from './dynamodb';

export interface TestApi {
  baseUrl: string;
  fhirBase: string;
  tokenUrl: string;
  documentClient: DynamoDBDocumentClient;
  tableName(spec: TableSpec): string;
  /** The running local API, for the gateway's counters and cache. */
  local: LocalApi;
  close(): Promise<void>;
}

export async function startTestApi(options: Omit<LocalApiOptions, 'port' | 'tablePrefix'> = {}): Promise<TestApi> {
  const local = await startLocalApi({ port: 0, tablePrefix: uniquePrefix(), seed: true, ...options });
  return {
    baseUrl: local.baseUrl,
    fhirBase: local.fhirBase,
    tokenUrl: local.tokenUrl,
    documentClient: local.documentClient,
    tableName: local.tableName,
    local,
    close: () => local.close(),
  };
}
