/**
 * The local API for end-to-end tests: the real gateway, handlers and authorizer over real HTTP on a free port,
 * on fresh tables (a unique prefix) in the run's DynamoDB Local engine, seeded with the demo data by default.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { vi } from 'vitest';
import type { TableSpec } from '../../contract/tables';
import { startLocalApi, type LocalApi, type LocalApiOptions } from '../../local/app';
import { uniquePrefix } from './dynamodb';
import type { Credentials } from './tokens';

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

/**
 * `admin`: the local admin client to seed (functions/admin/seed.ts reads CCRI_ADMIN_CLIENT_ID / _SECRET), stubbed in
 * the environment for the API's life; `close()` restores the environment.
 */
export async function startTestApi(
  options: Omit<LocalApiOptions, 'port' | 'tablePrefix'> & { admin?: Credentials } = {},
): Promise<TestApi> {
  const { admin, ...localOptions } = options;
  if (admin) {
    vi.stubEnv('CCRI_ADMIN_CLIENT_ID', admin.clientId);
    vi.stubEnv('CCRI_ADMIN_CLIENT_SECRET', admin.clientSecret);
  }
  const local = await startLocalApi({ port: 0, tablePrefix: uniquePrefix(), seed: true, ...localOptions });
  return {
    baseUrl: local.baseUrl,
    fhirBase: local.fhirBase,
    tokenUrl: local.tokenUrl,
    documentClient: local.documentClient,
    tableName: local.tableName,
    local,
    close: async () => {
      await local.close();
      if (admin) vi.unstubAllEnvs();
    },
  };
}
