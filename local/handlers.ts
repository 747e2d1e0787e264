/**
 * The local wiring: which handler factory serves each function of the route table on `npm start` and in the tests,
 * with local dependencies (DynamoDB Local tables, a local RSA signer instead of KMS). The deployed functions build
 * the same factories from their environment in `functions/<name>/index.ts`.
 *
 * One block per area; each is the only place that area plugs into the local runtime.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { FunctionName } from '../lib/routes';
import type { TableSpec } from '../lib/tables';
import type { ProxyHandler, TokenAuthorizer } from './gateway';

export interface LocalContext {
  /** The base URL clients call, e.g. http://127.0.0.1:3000: the token issuer. */
  baseUrl: string;
  /** baseUrl + '/STU3': the FHIR base, the token audience. */
  fhirBase: string;
  dynamoDbClient: DynamoDBClient;
  documentClient: DynamoDBDocumentClient;
  tableName(spec: TableSpec): string;
  /** Where local state (the signing key) is kept; in memory when absent. */
  dataDir: string | undefined;
  tokenLifetimeSeconds: number;
}

export interface LocalHandlers {
  handlers: Partial<Record<FunctionName, ProxyHandler>>;
  authorizer: TokenAuthorizer;
  /** Loads the demo clients and data; returns lines for the start-up banner (ids, secrets of local-only clients). */
  seed(): Promise<string[]>;
}

export async function buildLocalHandlers(ctx: LocalContext): Promise<LocalHandlers> {
  const handlers: Partial<Record<FunctionName, ProxyHandler>> = {};
  const seeders: Array<() => Promise<string[]>> = [];
  let authorizer: TokenAuthorizer = async () => {
    throw new Error('Unauthorized');
  };

  // --- block: oauth (token, jwks, demo clients) ---
  // --- end block: oauth ---

  // --- block: scopes (authorizer) ---
  // --- end block: scopes ---

  // --- block: fhir (resource functions, metadata, demo data) ---
  handlers.metadata = async () => ({
    statusCode: 200,
    headers: { 'Content-Type': 'application/fhir+json; charset=utf-8' },
    body: JSON.stringify({ resourceType: 'CapabilityStatement', status: 'active', fhirVersion: '3.0.1', kind: 'instance', format: ['json'] }),
  });
  // --- end block: fhir ---

  // --- block: admin ---
  // --- end block: admin ---

  return {
    handlers,
    authorizer,
    async seed() {
      const lines: string[] = [];
      for (const seeder of seeders) lines.push(...(await seeder()));
      return lines;
    },
  };
}
