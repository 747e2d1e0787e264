/**
 * The whole API on localhost: the embedded DynamoDB (or the one an endpoint setting names), the tables of
 * contract/tables.ts, the handlers of local/handlers.ts behind the local gateway, and the demo data. `npm start` and
 * the end-to-end tests both start it through `startLocalApi`.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { BEARER_HEADER_PATTERN } from '../contract/bearer';
import { DEFAULT_CONFIG } from '../lib/config';
import { ROUTES } from '../contract/routes';
import { FHIR_TABLE, TABLES, localTableName, type TableSpec } from '../contract/tables';
import { configuredEndpoint, startEngine, type RunningEngine } from './dynamodb-local';
import { LocalGateway, notReadyListener, parserRefusal, type LocalGatewayOptions } from './gateway';
import { localDataAccess } from './data-access';
import { buildLocalHandlers } from './handlers';
import { createTables } from './tables';

export interface LocalApiOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Table names are `<prefix><id>`. */
  tablePrefix?: string;
  /** Keeps the engine's data and the signing key across restarts; everything in memory when absent. */
  dataDir?: string;
  /** Load the demo clients and data (default true). */
  seed?: boolean;
  authorizerCacheSeconds?: number;
  tokenLifetimeSeconds?: number;
  accessLog?: LocalGatewayOptions['accessLog'];
  log?: (line: string) => void;
  /** The clock of the caches, token times and secret expiry (default Date.now): tests move it instead of sleeping. */
  now?: () => number;
  /**
   * Called once the server listens, before the handlers are built and the demo data loaded: until then every
   * request is answered 503 with Retry-After (never left hanging).
   */
  onListening?: (baseUrl: string) => void | Promise<void>;
  /** Overrides of SERVER_LIMITS (tests). */
  serverLimits?: Partial<ServerLimits>;
}

export interface ServerLimits {
  /** A request's headers must all arrive within this (slowloris: headers trickled in one byte at a time). */
  headersTimeoutMs: number;
  /** The whole request, body included, must arrive within this (API Gateway's own integration limit is 29 s). */
  requestTimeoutMs: number;
  /** An idle keep-alive connection closes after this. */
  keepAliveTimeoutMs: number;
  /** How often the server checks the two timeouts above. */
  connectionsCheckingIntervalMs: number;
  /** Connections beyond this are refused (each holds at most one request at a time): bounds the work in flight. */
  maxConnections: number;
}

/** The local server's bounds against slow or partial requests and connection floods. */
export const SERVER_LIMITS: Readonly<ServerLimits> = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  connectionsCheckingIntervalMs: 1_000,
  maxConnections: 1024,
};

export interface LocalApi {
  baseUrl: string;
  fhirBase: string;
  tokenUrl: string;
  endpoint: string;
  documentClient: DynamoDBDocumentClient;
  gateway: LocalGateway;
  tableName(spec: TableSpec): string;
  /** Banner lines from the seeders (client ids and local secrets). */
  seedLines: string[];
  close(): Promise<void>;
}

export async function startLocalApi(options: LocalApiOptions = {}): Promise<LocalApi> {
  const host = options.host ?? '127.0.0.1';
  const prefix = options.tablePrefix ?? 'ccri-';
  let engine: RunningEngine | undefined;
  let server: Server | undefined;
  try {
    const configured = configuredEndpoint();
    engine = configured ? undefined : await startEngine({ dataDir: options.dataDir && `${options.dataDir}/dynamodb`, log: options.log });
    const endpoint = configured ?? engine!.endpoint;
    process.env.AWS_REGION ??= 'eu-west-2';
    process.env.AWS_ACCESS_KEY_ID ??= 'local';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
    const dynamoDbClient = new DynamoDBClient({ endpoint, maxAttempts: 3 });
    const documentClient = DynamoDBDocumentClient.from(dynamoDbClient, { marshallOptions: { removeUndefinedValues: true } });
    const tableName = (spec: TableSpec) => localTableName(spec, prefix);
    await createTables(dynamoDbClient, TABLES, tableName);

    const srv = createBoundedServer({ ...SERVER_LIMITS, ...options.serverLimits });
    server = srv;
    // The port is known only once listening (PORT=0), and the base URL (the token issuer) needs it: listen first,
    // answer 503 + Retry-After until the gateway is ready, then hand every request to the gateway.
    let listener: RequestListener = notReadyListener();
    srv.on('request', (req, res) => listener(req, res));
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(options.port ?? 3000, host, () => resolve());
    });
    const { port } = srv.address() as AddressInfo;
    const domainName = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    const baseUrl = `http://${domainName}`;
    const fhirBase = `${baseUrl}/STU3`;
    const authorizerCacheSeconds = options.authorizerCacheSeconds ?? DEFAULT_CONFIG.authorizerCacheSeconds;
    await options.onListening?.(baseUrl);

    const local = buildLocalHandlers({
      baseUrl,
      fhirBase,
      dynamoDbClient,
      documentClient,
      tableName,
      dataDir: options.dataDir,
      tokenLifetimeSeconds: options.tokenLifetimeSeconds ?? 3600,
      // Least privilege per token, as on AWS: every DynamoDB call of the FHIR function is evaluated against the
      // token's IAM session policy (local/data-access.ts; docs/data-access.md).
      fhirClientFor: localDataAccess({ tableName: tableName(FHIR_TABLE), endpoint }),
      now: options.now,
    });
    const gateway = new LocalGateway({
      routes: ROUTES,
      handlers: local.handlers,
      authorizer: local.authorizer,
      authorizerCacheSeconds,
      identityValidationExpression: BEARER_HEADER_PATTERN,
      domainName,
      accessLog: options.accessLog,
      now: options.now,
    });
    const seedLines = options.seed === false ? [] : await local.seed();
    listener = gateway.listener;

    return {
      baseUrl,
      fhirBase,
      tokenUrl: `${baseUrl}/oauth2/token`,
      endpoint,
      documentClient,
      gateway,
      tableName,
      seedLines,
      async close() {
        srv.closeAllConnections();
        await new Promise<void>((resolve) => srv.close(() => resolve()));
        dynamoDbClient.destroy();
        await engine?.stop();
      },
    };
  } catch (err) {
    server?.close();
    await engine?.stop();
    throw err;
  }
}

function createBoundedServer(limits: ServerLimits): Server {
  const srv = createServer({
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: limits.connectionsCheckingIntervalMs,
  });
  srv.maxConnections = limits.maxConnections;
  srv.on('clientError', parserRefusal());
  return srv;
}
