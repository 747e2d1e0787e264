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
  const { LocalRsaSigner } = await import('../functions/oauth/signer');
  const { DynamoClientStore } = await import('../functions/oauth/clients');
  const { localDemoClientsSeeder } = await import('../functions/oauth/demo-clients');
  const { createTokenHandler } = await import('../functions/token/handler');
  const { createJwksHandler } = await import('../functions/jwks/handler');
  const { CLIENTS_TABLE } = await import('../lib/tables');
  const { DynamoFailedAuthLimiter } = await import('../functions/oauth/throttle');
  /** The local stand-in for the KMS key (kept in the data dir): tokens are verified against `signer.publicJwks()`. */
  const signer = new LocalRsaSigner({ dataDir: ctx.dataDir });
  const clientStore = new DynamoClientStore(ctx.documentClient, ctx.tableName(CLIENTS_TABLE));
  handlers.token = createTokenHandler({
    clients: clientStore,
    signer,
    // The same failed-authentication throttling as deployed, on the local Clients table.
    limiter: new DynamoFailedAuthLimiter(ctx.documentClient, ctx.tableName(CLIENTS_TABLE)),
    tokenLifetimeSeconds: ctx.tokenLifetimeSeconds,
    issuer: ctx.baseUrl,
    audience: ctx.fhirBase,
  });
  handlers.jwks = createJwksHandler({ signer });
  seeders.push(localDemoClientsSeeder(clientStore));
  // --- end block: oauth ---

  // --- block: scopes (authorizer) ---
  {
    // The deployed authorizer's factory; iss/aud are the local URLs, the JWKS is fetched once over HTTP from this
    // very gateway's public /.well-known/jwks.json. STRICT_PATIENT_SCOPES=true works locally as in the stack.
    const { createAuthorizerHandler } = await import('../functions/authorizer/handler');
    const { configFromEnv, definitionsCacheSecondsFromEnv } = await import('../functions/authorizer/config');
    const { DynamoScopeDefinitionStore, cachedScopeDefinitions } = await import('../functions/scopes/definition-store');
    const { SCOPES_TABLE } = await import('../lib/tables');
    // Named scope definitions from the local Scopes table, cached as in the deployed authorizer
    // (SCOPE_DEFINITIONS_CACHE_SECONDS, default 60; tests set it low).
    const definitions = new DynamoScopeDefinitionStore(ctx.documentClient, ctx.tableName(SCOPES_TABLE));
    authorizer = createAuthorizerHandler({
      strictPatientScopes: configFromEnv().strictPatientScopes,
      issuer: ctx.baseUrl,
      audience: ctx.fhirBase,
      loadScopeDefinitions: cachedScopeDefinitions(() => definitions.list(), {
        ttlSeconds: definitionsCacheSecondsFromEnv(),
      }),
    });
  }
  // --- end block: scopes ---

  // --- block: fhir (resource functions, metadata, demo data) ---
  {
    const { createResourceHandler } = await import('../functions/resource/handler');
    const { profileValidator } = await import('../functions/resource/validation-hook');
    const { createMetadataHandler } = await import('../functions/metadata/handler');
    const { loadDemoData } = await import('../functions/seed/loader');
    const { RESOURCE_TYPES } = await import('../functions/fhir/resource-types');
    const { resourceTable } = await import('../lib/tables');
    for (const type of RESOURCE_TYPES) {
      handlers[`fhir:${type}`] = createResourceHandler({
        type,
        tableName: ctx.tableName(resourceTable(type)),
        documentClient: ctx.documentClient,
        validator: profileValidator,
      });
    }
    handlers.metadata = createMetadataHandler();
    seeders.push(async () => {
      const { written, unchanged } = await loadDemoData({
        documentClient: ctx.documentClient,
        tableName: (type) => ctx.tableName(resourceTable(type)),
      });
      return [`FHIR demo data: ${written} resources written, ${unchanged} unchanged (patients 1..10)`];
    });
  }
  // --- end block: fhir ---

  // --- block: admin ---
  {
    // The admin API over the local Clients and Scopes tables, and the first admin client (id and secret from
    // CCRI_ADMIN_CLIENT_ID / CCRI_ADMIN_CLIENT_SECRET, else a secret generated now and shown in the banner).
    const { createAdminHandler } = await import('../functions/admin/handler');
    const { graceSeconds } = await import('../functions/admin/config');
    const { DynamoAuditLog } = await import('../functions/admin/audit');
    const { localAdminClientSeeder } = await import('../functions/admin/seed');
    const { DynamoClientStore } = await import('../functions/oauth/clients');
    const { DynamoScopeDefinitionStore } = await import('../functions/scopes/definition-store');
    const { CLIENTS_TABLE, SCOPES_TABLE } = await import('../lib/tables');
    const clients = new DynamoClientStore(ctx.documentClient, ctx.tableName(CLIENTS_TABLE));
    handlers.admin = createAdminHandler({
      clients,
      definitions: new DynamoScopeDefinitionStore(ctx.documentClient, ctx.tableName(SCOPES_TABLE)),
      audit: new DynamoAuditLog(ctx.documentClient, ctx.tableName(SCOPES_TABLE)),
      defaultGraceSeconds: graceSeconds(process.env.ROTATION_GRACE_SECONDS),
    });
    seeders.push(localAdminClientSeeder(clients));
  }
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
