/**
 * The functions behind the API, one per FunctionName of the route table plus the authorizer, each with the
 * environment its handler reads at init and the least privilege it needs, written out per function so that a
 * reviewer reads who may do what in one place:
 *
 * | function            | data access                                                    | key               |
 * |---------------------|----------------------------------------------------------------|-------------------|
 * | token               | Clients: GetItem, PutItem (jti replay), UpdateItem (failed-authentication counters); Scopes: GetItem (named scopes, expanded into the token) | kms:Sign          |
 * | jwks                | none                                                           | kms:GetPublicKey  |
 * | metadata            | none                                                           | none              |
 * | authorizer          | none (only the JWKS, over HTTPS)                               | none              |
 * | fhir (every type)   | none of its own: only sts:AssumeRole on the data-access role (constructs/data-access.ts), per token with a session policy of the token's types | none |
 * | admin (if routed)   | Clients, Scopes: Get/Put/Update/Delete Item, Query             | none              |
 * | explorer            | none (serves the web explorer's files from its own bundle)     | none              |
 *
 * The key permissions need two grants: these IAM statements, and the key policy (constructs/signing-key.ts), which
 * allows Sign and GetPublicKey only to callers whose `aws:PrincipalArn` is the token or JWKS role (why those two
 * roles come from the stateful stack).
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import type { ICommandHooks } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { CcriConfig } from '../config';
import { FUNCTION_NAMES, type FunctionName } from '../../contract/routes';
import { CLIENTS_TABLE, FHIR_TABLE, SCOPES_TABLE } from '../../contract/tables';
import { AUDIT_RETENTION } from '../../contract/environment';
import type { DataTables } from './data-tables';
import { DataAccessRole } from './data-access';
import { codeSplittingHook } from './code-splitting';
import { CcriFunction } from './function';
import type { SigningKey } from './signing-key';

/** The explorer's page, script and style sheet, built by web/build.ts into the `explorer/` folder of its bundle. */
export const EXPLORER_ASSETS_HOOK: ICommandHooks = {
  beforeBundling: () => [],
  beforeInstall: () => [],
  afterBundling: (inputDir, outputDir) => [`cd "${inputDir}" && node --import tsx web/build.ts "${outputDir}/explorer"`],
};

export interface ApiFunctionsProps {
  config: CcriConfig;
  tables: DataTables;
  signingKey: SigningKey;
  /** Function names the route table uses; default: all of contract/routes.ts. */
  functionNames?: readonly FunctionName[];
}

export class ApiFunctions extends Construct {
  readonly authorizer: CcriFunction;
  private readonly byName = new Map<FunctionName, CcriFunction>();

  constructor(
    scope: Construct,
    id: string,
    private readonly props: ApiFunctionsProps,
  ) {
    super(scope, id);
    for (const name of props.functionNames ?? FUNCTION_NAMES) {
      this.byName.set(name, this.create(name));
    }
    this.authorizer = new CcriFunction(this, 'Authorizer', {
      config: props.config,
      entryName: 'authorizer',
      description: 'API Gateway TOKEN authorizer: verifies access tokens, turns scopes into an IAM policy',
      memorySize: 256,
      environment: { ...issuerEnv(props.config) },
    });
  }

  private create(name: FunctionName): CcriFunction {
    const { config, tables, signingKey } = this.props;
    const base = { config };
    const clients = tables.table(CLIENTS_TABLE);
    const scopesTable = tables.table(SCOPES_TABLE);
    const issuer = issuerEnv(config);
    const cors = corsEnv(config);

    switch (name) {
      case 'token': {
        const fn = new CcriFunction(this, 'Token', {
          ...base,
          entryName: 'token',
          description: 'POST /oauth2/token: client_credentials, RS256 access tokens signed by KMS',
          role: importRole(this, 'TokenRole', signingKey.tokenRole),
          environment: {
            CLIENTS_TABLE_NAME: clients.tableName,
            SCOPES_TABLE_NAME: scopesTable.tableName,
            KMS_KEY_ID: signingKey.keyArn,
            TOKEN_LIFETIME_SECONDS: String(config.tokenLifetimeSeconds),
            ...issuer,
            ...cors,
          },
        });
        // PutItem: the jti replay store of client assertions (conditional puts, TTL).
        // Query: the revocation list (pk REVOKED) for GET /oauth2/revocations.
        fn.allow('ReadClientsCountFailures', ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'], [clients.tableArn]);
        fn.allow('SignWithTheTokenKey', ['kms:Sign'], [signingKey.keyArn]);
        // Its audit events are printed and stored by the audit sink (lib/constructs/audit-sink.ts): no write here.
        fn.allow('ReadScopeDefinitions', ['dynamodb:GetItem'], [scopesTable.tableArn]);
        return fn;
      }
      case 'jwks': {
        const fn = new CcriFunction(this, 'Jwks', {
          ...base,
          entryName: 'jwks',
          description: 'GET /.well-known/jwks.json: the token-signing public keys',
          memorySize: 256,
          role: importRole(this, 'JwksRole', signingKey.jwksRole),
          environment: { KMS_KEY_IDS: signingKey.keyArn, ...cors },
        });
        fn.allow('ReadTheTokenKeysPublicKey', ['kms:GetPublicKey'], [signingKey.keyArn]);
        return fn;
      }
      case 'metadata':
        return new CcriFunction(this, 'Metadata', {
          ...base,
          entryName: 'metadata',
          description: 'GET /STU3/metadata and /STU3/.well-known/smart-configuration',
          memorySize: 256,
          // The XML writer and the model are a chunk loaded on the first XML request (lib/constructs/code-splitting.ts).
          commandHooks: codeSplittingHook('metadata'),
          // functions/metadata reads PUBLIC_BASE_URL and TOKEN_ISSUER (both optional, default: from the request).
          environment: {
            ...(issuer.ISSUER ? { PUBLIC_BASE_URL: issuer.ISSUER, TOKEN_ISSUER: issuer.ISSUER } : {}),
            ...cors,
          },
        });
      case 'admin': {
        const fn = new CcriFunction(this, 'Admin', {
          ...base,
          entryName: 'admin',
          description: 'Admin API: OAuth clients and scope definitions',
          environment: {
            CLIENTS_TABLE_NAME: clients.tableName,
            SCOPES_TABLE_NAME: scopesTable.tableName,
            // It stores its own AuditEvents (admin changes, AuditEvent searches) with the same TTL as the audit sink.
            [AUDIT_RETENTION.env]: String(config.auditRetentionDays),
            ...issuer,
            ...cors,
          },
        });
        const actions = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query'];
        fn.allow('ManageClientsAndScopes', actions, [clients.tableArn, scopesTable.tableArn]);
        // GET /admin/clients lists the Clients table, which has no index to query (a small table of clients).
        fn.allow('ListClients', ['dynamodb:Scan'], [clients.tableArn]);
        fn.allow('WriteAuditEvents', ['dynamodb:BatchWriteItem'], [scopesTable.tableArn]);
        return fn;
      }
      case 'explorer':
        return new CcriFunction(this, 'Explorer', {
          ...base,
          entryName: 'explorer',
          description: 'GET / and /explorer/{asset}: the web explorer, on the API origin, with a strict CSP',
          memorySize: 256,
          commandHooks: EXPLORER_ASSETS_HOOK,
        });
      case 'fhir': {
        const table = tables.table(FHIR_TABLE);
        // The key continuation tokens are signed with (functions/fhir/cursor.ts), generated at deploy.
        const cursorKey = new secretsmanager.Secret(this, 'CursorKey', {
          description: `ccri-${config.stage}: HMAC key of the FHIR search continuation tokens, generated at deploy`,
          generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
          removalPolicy: RemovalPolicy.DESTROY,
        });
        Validations.of(cursorKey).acknowledge({
          id: 'AwsSolutions-SMG4',
          reason:
            'Signs paging tokens only (integrity, not access: every result is re-checked against the caller). Rotating it is a redeploy with a new secret; outstanding next links then answer 400.',
        });
        const fn = new CcriFunction(this, 'Fhir', {
          ...base,
          entryName: 'resource',
          description: 'FHIR STU3, every resource type: read, vread, search, create, update, delete, history, $validate',
          // The validator, FHIRPath, the XML parser and the model are chunks loaded on first use (code-splitting.ts).
          commandHooks: codeSplittingHook('resource'),
          environment: { TABLE_NAME: table.tableName, CURSOR_KEY: cursorKey.secretValue.unsafeUnwrap(), ...cors },
        });
        // No table grant on the function's role: it reaches the table only through the data-access role, assumed per
        // token with the token's session policy (functions/data-access). The table has no index.
        new DataAccessRole(this, 'FhirDataAccess', { config, table, indexNames: [], fn });
        return fn;
      }
    }
  }

  /** The function a route table entry names. */
  functionFor(name: FunctionName): CcriFunction {
    const fn = this.byName.get(name);
    if (!fn) throw new Error(`no function for ${name}`);
    return fn;
  }

  get all(): ReadonlyMap<FunctionName, CcriFunction> {
    return this.byName;
  }
}

/** ISSUER and AUDIENCE, only with a custom domain or `ccri:issuer`: otherwise the handlers derive them from the request. */
function issuerEnv(config: CcriConfig): Record<string, string> {
  const issuer = config.issuer ?? (config.customDomain ? `https://${config.customDomain.domainName}` : undefined);
  return issuer ? { ISSUER: issuer, AUDIENCE: `${issuer}/STU3` } : {};
}

/** The allowed browser origins, for the handlers to answer CORS on their own responses. */
function corsEnv(config: CcriConfig): Record<string, string> {
  return config.corsOrigins.length > 0 ? { CORS_ALLOWED_ORIGINS: config.corsOrigins.join(',') } : {};
}

/**
 * A key-user role from the stateful stack, imported by ARN so that the statements added here (log group, table)
 * become an IAM policy in THIS stack: adding them to the Role object itself would put them in the stateful stack,
 * pointing back at this one (a cross-stack cycle).
 */
function importRole(scope: Construct, id: string, role: iam.IRole): iam.IRole {
  return iam.Role.fromRoleArn(scope, id, role.roleArn, { mutable: true });
}
