/**
 * The local wiring: which handler factory serves each function of the route table on `npm start` and in the tests,
 * with local dependencies (DynamoDB Local tables, a local RSA signer instead of KMS). The deployed functions build
 * the same factories from their environment in `functions/<name>/index.ts`; settings read from the environment
 * there (STRICT_PATIENT_SCOPES, ROTATION_GRACE_SECONDS) are read here the same way.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoAuditLog } from '../functions/admin/audit';
import { configureAudit } from '../functions/audit';
import { DynamoAuditEventStore, auditRetentionDaysFromEnv } from '../functions/audit/store';
import { rotationGraceSecondsFromEnv } from '../functions/admin/config';
import { createAdminHandler } from '../functions/admin/handler';
import { createExplorerHandler } from '../functions/explorer/handler';
import { localAdminClientSeeder } from '../functions/admin/seed';
import { configFromEnv, revocationCacheSecondsFromEnv } from '../functions/authorizer/config';
import { createAuthorizerHandler } from '../functions/authorizer/handler';
import { createJwksHandler } from '../functions/jwks/handler';
import { createMetadataHandler } from '../functions/metadata/handler';
import { DynamoJtiReplayStore } from '../functions/oauth/jti-replay';
import { ClientJwksResolver } from '../functions/oauth/client-jwks';
import { DynamoClientAdminStore } from '../functions/oauth/clients';
import { DynamoRevocationStore } from '../functions/oauth/revocation';
import { createJwksTokenVerifier } from '../functions/authorizer/jwks-verifier';
import { localDemoClientsSeeder } from '../functions/oauth/demo-clients';
import { LocalRsaSigner } from '../functions/oauth/signer';
import { DynamoFailedAuthLimiter } from '../functions/oauth/throttle';
import { createFhirHandler, type ClientProvider } from '../functions/resource/handler';
import { validateResource } from '../functions/validation';
import { DynamoScopeDefinitionStore } from '../functions/scopes/definition-store';
import { loadDemoData } from '../functions/seed/loader';
import { createTokenHandler } from '../functions/token/handler';
import type { FunctionName } from '../contract/routes';
import { CLIENTS_TABLE, FHIR_TABLE, SCOPES_TABLE, type TableSpec } from '../contract/tables';
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
  /** The FHIR function's per-request client provider (functions/resource/handler.ts); default the shared client. */
  fhirClientFor?: ClientProvider;
  /** The clock (default Date.now). */
  now?: () => number;
}

export interface LocalHandlers {
  handlers: Partial<Record<FunctionName, ProxyHandler>>;
  authorizer: TokenAuthorizer;
  /** Loads the demo clients and data; returns lines for the start-up banner (ids, secrets of local-only clients). */
  seed(): Promise<string[]>;
}

export function buildLocalHandlers(ctx: LocalContext): LocalHandlers {
  const db = ctx.documentClient;
  const clients = new DynamoClientAdminStore(db, ctx.tableName(CLIENTS_TABLE));
  const scopeDefinitions = new DynamoScopeDefinitionStore(db, ctx.tableName(SCOPES_TABLE));
  /** The local stand-in for the KMS key (kept in the data dir). */
  const signer = new LocalRsaSigner({ dataDir: ctx.dataDir });
  const now = ctx.now ?? Date.now;
  const date = () => new Date(now());
  const revocations = new DynamoRevocationStore(db, ctx.tableName(CLIENTS_TABLE));
  // Locally every function's audit events land in the queryable store (on AWS the authorizer's only in its log).
  const auditEvents = new DynamoAuditEventStore(db, ctx.tableName(SCOPES_TABLE), auditRetentionDaysFromEnv());
  configureAudit({ store: auditEvents, ...(process.env.CCRI_AUDIT_STDOUT === 'true' ? {} : { writeLine: () => {} }) });

  const handlers: Partial<Record<FunctionName, ProxyHandler>> = {
    token: createTokenHandler({
      clients,
      signer,
      limiter: new DynamoFailedAuthLimiter(db, ctx.tableName(CLIENTS_TABLE)),
      definitions: scopeDefinitions,
      verifier: createJwksTokenVerifier(),
      revocations,
      // Locally a jwks_uri may be http and on localhost; on AWS it may not (functions/token/config.ts).
      assertions: {
        keys: new ClientJwksResolver({ allowPrivateAddresses: true }),
        replay: new DynamoJtiReplayStore(db, ctx.tableName(CLIENTS_TABLE)),
      },
      tokenLifetimeSeconds: ctx.tokenLifetimeSeconds,
      issuer: ctx.baseUrl,
      audience: ctx.fhirBase,
      now: date,
    }),
    jwks: createJwksHandler({ signer }),
    metadata: createMetadataHandler(),
    // The web explorer's assets, built in memory by esbuild on the first request for the page.
    explorer: createExplorerHandler({ assets: async () => (await import('../web/build')).buildExplorerAssets() }),
    admin: createAdminHandler({
      clients,
      definitions: scopeDefinitions,
      audit: new DynamoAuditLog(db, ctx.tableName(SCOPES_TABLE)),
      revocations,
      auditEvents,
      defaultGraceSeconds: rotationGraceSecondsFromEnv(),
      now: date,
    }),
  };
  // One FHIR function for every type; `clientFor` is the least-privilege seam (one shared client here).
  handlers.fhir = createFhirHandler({
    tableName: ctx.tableName(FHIR_TABLE),
    clientFor: ctx.fhirClientFor ?? (() => db),
    now: date,
    validator: validateResource,
    cursorKey: process.env.CURSOR_KEY,
  });

  // The JWKS is fetched once over HTTP from this very gateway's public /.well-known/jwks.json, as on AWS.
  const authorizer = createAuthorizerHandler({
    strictPatientScopes: configFromEnv().strictPatientScopes,
    issuer: ctx.baseUrl,
    audience: ctx.fhirBase,
    revocations: { cacheSeconds: revocationCacheSecondsFromEnv() },
    // On AWS the authorizer logs to the console, which Lambda's JSON log format structures (functions/authorizer/
    // handler.ts `AuthorizerLog`); here, in one process with the others, through Powertools as they do, so that
    // POWERTOOLS_LOG_LEVEL (SILENT in tests) and the local console's layout apply to it too.
    logger: new Logger({ serviceName: 'authorizer' }),
  });

  const seeders: Array<() => Promise<string[]>> = [
    localDemoClientsSeeder(clients),
    localAdminClientSeeder(clients),
    async () => {
      const { written, unchanged } = await loadDemoData({ documentClient: db, tableName: ctx.tableName(FHIR_TABLE) });
      return [`FHIR demo data: ${written} resources written, ${unchanged} unchanged (patients 1..10)`];
    },
  ];

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
