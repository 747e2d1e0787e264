/**
 * The defaults of every Lambda function of this app, fixed once: Node.js 24 on arm64, one self-contained minified
 * ESM bundle with source maps built by the local esbuild (no Docker), its own log group with retention, structured
 * JSON logs, optional X-Ray tracing, and its own IAM role that starts with nothing but writing to that log group.
 * Each caller then adds exactly the statements its function needs (see `allow`).
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import {
  type BundlingOptions,
  LogLevel,
  NodejsFunction,
  OutputFormat,
  SourceMapMode,
} from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { CcriConfig } from '../config';

/** The repository root: `functions/<entry>/index.ts` and `package-lock.json` are found from here. */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The Lambda runtime. Node.js 24 is the newest the CDK knows (cdk-nag AwsSolutions-L1 asks for the newest); the
 * handlers are async ESM and use nothing Node 24 removed (callback-style handlers).
 */
export const RUNTIME = lambda.Runtime.NODEJS_24_X;

/**
 * esbuild settings shared by every bundle. The AWS SDK v3 clients are bundled, not taken from the runtime: the
 * versions are the ones package-lock.json pins and the tests ran against, a runtime SDK update cannot change
 * behaviour under us, and esbuild keeps only the commands each function imports (a minified single file loads
 * faster at cold start than the runtime's full SDK from disk).
 */
export const BUNDLING: Readonly<BundlingOptions> = {
  format: OutputFormat.ESM,
  target: 'node24',
  minify: true,
  sourceMap: true,
  sourceMapMode: SourceMapMode.DEFAULT,
  sourcesContent: false,
  mainFields: ['module', 'main'],
  externalModules: [],
  // CommonJS dependencies bundled into an ES module still call require() for Node built-ins.
  banner: "import{createRequire as __ccriCreateRequire}from'node:module';const require=__ccriCreateRequire(import.meta.url);",
  forceDockerBundling: false,
  logLevel: LogLevel.WARNING,
};

export interface CcriFunctionProps {
  /** The folder under `functions/` holding `index.ts` that exports `handler`. */
  entryName: string;
  /** What the function does, for people reading the console. */
  description: string;
  config: Pick<CcriConfig, 'tracing' | 'logRetentionDays' | 'logLevel' | 'retainData' | 'stage'>;
  /** Environment variables the handler reads at init (besides the Powertools and Node settings set here). */
  environment?: Record<string, string>;
  /** An execution role made elsewhere (the key-user roles live with the key); default: a new empty role. */
  role?: iam.IRole;
  /** @default 10 seconds */
  timeout?: Duration;
  /** @default 512 MB (CPU scales with memory: RSA and JSON work are CPU-bound) */
  memorySize?: number;
  /** Bundling steps beyond BUNDLING (e.g. files built beside the bundle). */
  commandHooks?: BundlingOptions['commandHooks'];
}

export class CcriFunction extends NodejsFunction {
  /** The execution role (defined: either the given one or the one made here). */
  readonly executionRole: iam.IRole;
  private readonly inlinePolicy?: iam.PolicyDocument;

  constructor(scope: Construct, id: string, props: CcriFunctionProps) {
    const { config } = props;
    const logGroup = new logs.LogGroup(scope, `${id}LogGroup`, {
      retention: config.logRetentionDays,
      removalPolicy: config.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    // A role made here carries its statements inline (one resource, not a role plus a policy: the API stack
    // has ~20 functions and CloudFormation allows 500 resources per stack).
    const inlinePolicy = props.role ? undefined : new iam.PolicyDocument();
    const role =
      props.role ??
      new iam.Role(scope, `${id}ExecutionRole`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `ccri-${config.stage} ${props.entryName} function: ${props.description}`,
        inlinePolicies: { FunctionAccess: inlinePolicy! },
      });
    super(scope, id, {
      entry: path.join(PROJECT_ROOT, 'functions', props.entryName, 'index.ts'),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      runtime: RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      description: props.description,
      timeout: props.timeout ?? Duration.seconds(10),
      memorySize: props.memorySize ?? 512,
      role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      tracing: config.tracing ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED,
      awsSdkConnectionReuse: false,
      bundling: props.commandHooks ? { ...BUNDLING, commandHooks: props.commandHooks } : BUNDLING,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: `ccri-${props.entryName}`,
        LOG_LEVEL: config.logLevel,
        POWERTOOLS_LOG_LEVEL: config.logLevel,
        ...props.environment,
      },
    });
    this.executionRole = role;
    this.inlinePolicy = inlinePolicy;
    // Only this function's log group; no AWSLambdaBasicExecutionRole (it allows every log group in the account).
    this.allow('WriteOwnLogs', ['logs:CreateLogStream', 'logs:PutLogEvents'], [logGroup.logGroupArn]);
    if (config.tracing) {
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Active tracing adds xray:PutTraceSegments and xray:PutTelemetryRecords, which support no resource-level permissions (Resource "*" is the only form). Data actions never use "*" (asserted by test/cdk).',
      });
    }
  }

  /** Adds one statement to the function's role: these actions on exactly these resources. */
  allow(sid: string, actions: string[], resources: string[]): void {
    const statement = new iam.PolicyStatement({ sid, actions, resources });
    if (this.inlinePolicy) this.inlinePolicy.addStatements(statement);
    else this.executionRole.addToPrincipalPolicy(statement);
  }
}
