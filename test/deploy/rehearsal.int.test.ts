/**
 * Issue 20.5: a deploy rehearsal without AWS. The app is synthesized with bundling (the same esbuild bundles
 * `cdk deploy` uploads) into a cloud assembly; then EVERY AWS::Lambda::Function of the templates that this
 * repository builds runs from its built asset in a fresh Node 24 process, with exactly the environment variables
 * its template gives it (Refs, GetAtts and imports resolved to local stand-ins: DynamoDB Local tables created from
 * the template's own table definitions behind a stand-in of IAM that evaluates every DynamoDB request against the
 * caller's role policies (and an STS session's policy), a KMS that enforces the template's key policy, an STS that
 * enforces trust and identity policies, Secrets Manager secrets generated as the template says). The FHIR function
 * thus runs its real STS path: its own role has no DynamoDB access, its sessions only their token's types. The functions are driven with the events API Gateway and CloudFormation send:
 * the custom resources' Create (the seed), a token request, the JWKS, the TOKEN authorizer for every protected
 * method, and every method of the REST API through its integration. A function that fails at init (a variable
 * missing from its template environment) or answers a 5xx fails the test.
 *
 * Generic over the template: the functions and methods are enumerated from it, not listed here. The CDK
 * custom-resource Provider's own framework function (CDK's code, not built here; it needs the runtime's
 * @aws-sdk/client-lambda) is checked to forward to a function of the template, and that function is driven with
 * the CloudFormation events the framework forwards unchanged.
 */
import { createPublicKey, createVerify } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand, ScanCommand, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { describeTableResolver } from '../../local/dynamodb-iam';
import { App } from 'aws-cdk-lib';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluatePolicy } from '../../local/policy';
import { createStacks } from '../../lib/app';
import { configFromContext } from '../../lib/config';
import { CCRI_DEMO_CLIENTS, DEMO_PATIENT_ACCESS_CLIENT } from '../../functions/oauth/demo-clients';
import { fixture } from '../validation/fixtures';
import { testDynamoDbClient, uniquePrefix } from '../support/dynamodb';
import { subscriptionEvent } from '../../functions/audit-sink/subscription.fixture';
import { AwsStandIn } from './aws-stand-in';
import { LambdaProcess } from './lambda-process';
import { ACCOUNT, apiMethods, Assembly, REGION } from './template';
import { ROUTES } from '../../contract/routes';
import { gatewayPath } from '../../contract/gateway-paths';

const API_ID = 'rehearsal1';
const STAGE = 'prod';
const DOMAIN = `${API_ID}.execute-api.${REGION}.amazonaws.com`;
/** The access key every function runs with (the stand-in tells the roles apart by endpoint path). */
const BASE_ACCESS_KEY = process.env.AWS_ACCESS_KEY_ID ?? 'local';
/** How many function processes start at once (2 cores here). */
const START_CONCURRENCY = 4;

let outdir: string;
let assembly: Assembly;
const standIn = new AwsStandIn();
const processes = new Map<string, LambdaProcess>();
/** What each function was started with: its file, export and environment. */
const launches = new Map<string, { file: string; exportName: string; env: Record<string, string> }>();
let frameworkTargets: string[] = [];
let gatewayUrl = '';
let gatewayServer: Server | undefined;

/** The public methods of the API over local HTTP (`/<stage>/<path>`), each run by its integration's function. */
async function startGateway(): Promise<string> {
  gatewayServer = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://gateway');
    const resourcePath = url.pathname.replace(new RegExp(`^/${STAGE}`), '');
    const route = apiMethods(assembly).find((m) => !m.authorized && m.method === req.method && m.path === resourcePath && m.functionId);
    if (!route) {
      res.writeHead(403).end('{"message":"Missing Authentication Token"}');
      return;
    }
    const answer = await fn(route.functionId!).invoke<APIGatewayProxyResult>(proxyEvent(route.method, route.path));
    res.writeHead(answer.statusCode, answer.headers as Record<string, string>).end(answer.body);
  });
  await new Promise<void>((resolve) => gatewayServer!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(gatewayServer.address() as AddressInfo).port}`;
}

/** The FHIR function: the one whose environment names the data-access role. */
const fhirFunctionId = () => [...launches].find(([, l]) => 'DATA_ACCESS_ROLE_ARN' in l.env)![0];

const fn = (id: string) => {
  const p = processes.get(id);
  if (!p) throw new Error(`no running function ${id}`);
  return p;
};

beforeAll(async () => {
  outdir = mkdtempSync(path.join(tmpdir(), 'ccri-rehearsal-'));
  const app = new App({ outdir });
  createStacks(app, configFromContext(app.node), { nag: false });
  app.synth();
  assembly = new Assembly(outdir, `${uniquePrefix()}`);

  // DynamoDB Local tables, from the template's own definitions.
  const dynamodb = testDynamoDbClient();
  for (const { id, resource } of assembly.resourcesOf('AWS::DynamoDB::Table')) {
    const p = resource.Properties!;
    const input: CreateTableCommandInput = {
      TableName: assembly.tableName(id),
      KeySchema: p.KeySchema,
      AttributeDefinitions: p.AttributeDefinitions,
      BillingMode: 'PAY_PER_REQUEST',
      ...(p.GlobalSecondaryIndexes
        ? { GlobalSecondaryIndexes: p.GlobalSecondaryIndexes.map((g: any) => ({ IndexName: g.IndexName, KeySchema: g.KeySchema, Projection: g.Projection })) }
        : {}),
      ...(p.LocalSecondaryIndexes ? { LocalSecondaryIndexes: p.LocalSecondaryIndexes } : {}),
    };
    await dynamodb.send(new CreateTableCommand(input));
  }

  // KMS keys with their key policies, and the generated secrets.
  for (const { stack, id, resource } of assembly.resourcesOf('AWS::KMS::Key')) {
    standIn.addKey({ arn: assembly.resolve(stack, { 'Fn::GetAtt': [id, 'Arn'] }), policy: assembly.resolve(stack, resource.Properties!.KeyPolicy) });
  }
  for (const { stack, id, resource } of assembly.resourcesOf('AWS::SecretsManager::Secret')) {
    standIn.addGeneratedSecret(assembly.resolve(stack, { Ref: id }), resource.Properties!.GenerateSecretString ?? {});
  }
  // IAM: every role with its trust and identity policies. DynamoDB goes through the stand-in, which plays IAM in
  // front of DynamoDB Local (role policies; for STS sessions, role AND session policy).
  for (const { stack, id, resource } of assembly.resourcesOf('AWS::IAM::Role')) {
    const p = resource.Properties!;
    standIn.addRole({
      name: id,
      trust: assembly.resolve(stack, p.AssumeRolePolicyDocument),
      policies: (p.Policies ?? []).map((policy: { PolicyDocument: unknown }) => assembly.resolve(stack, policy.PolicyDocument)),
    });
  }
  for (const { stack, resource } of assembly.resourcesOf('AWS::IAM::Policy')) {
    const document = assembly.resolve(stack, resource.Properties!.PolicyDocument);
    for (const name of assembly.resolve(stack, resource.Properties!.Roles ?? []) as string[]) standIn.roles.get(name)?.policies.push(document);
  }
  standIn.proxyDynamoDb({
    endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB!,
    accessKeyId: BASE_ACCESS_KEY,
    tables: describeTableResolver(dynamodb, (name) => `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${name}`),
  });
  await standIn.start();
  gatewayUrl = await startGateway();

  // One fresh Node 24 process per function built from this repository.
  const functions = assembly.resourcesOf('AWS::Lambda::Function');
  const built = functions.filter(({ resource }) => !resource.Properties!.Environment?.Variables?.USER_ON_EVENT_FUNCTION_ARN);
  frameworkTargets = functions
    .filter(({ resource }) => resource.Properties!.Environment?.Variables?.USER_ON_EVENT_FUNCTION_ARN)
    .map(({ stack, resource }) => String(assembly.resolve(stack, resource.Properties!.Environment.Variables.USER_ON_EVENT_FUNCTION_ARN)).split(':').pop()!);
  const queue = [...built];
  const start = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const { stack, id, resource } = next;
      const p = resource.Properties!;
      const hash = String(p.Code.S3Key).replace(/\.zip$/, '');
      const dir = stack.assets.get(hash);
      if (!dir) throw new Error(`${id}: no asset ${hash}`);
      const [file, exportName] = String(p.Handler).split('.') as [string, string];
      const role = String(assembly.resolve(stack, p.Role)).split('/').pop()!;
      const env: Record<string, string> = {
        ...(assembly.resolve(stack, p.Environment?.Variables ?? {}) as Record<string, string>),
        AWS_REGION: REGION,
        AWS_DEFAULT_REGION: REGION,
        AWS_ACCESS_KEY_ID: BASE_ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'local',
        AWS_LAMBDA_FUNCTION_NAME: id,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(p.MemorySize ?? 128),
        // The stand-in knows the caller's role from the path of its endpoint (IAM would know it from the credentials).
        AWS_ENDPOINT_URL_DYNAMODB: `${standIn.endpoint}/dynamodb/as/${role}`,
        AWS_ENDPOINT_URL_STS: `${standIn.endpoint}/as/${role}`,
        AWS_ENDPOINT_URL_KMS: `${standIn.endpoint}/as/${role}`,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: `${standIn.endpoint}/as/${role}`,
        POWERTOOLS_LOG_LEVEL: 'ERROR',
        LOG_LEVEL: 'ERROR',
        // Harness only (runner.mjs), read by no function: the API's host and where the local gateway answers for it.
        REHEARSAL_API_HOST: DOMAIN,
        REHEARSAL_GATEWAY: gatewayUrl,
      };
      launches.set(id, { file: path.join(dir, `${file}.mjs`), exportName, env });
      const lambda = new LambdaProcess(id, path.join(dir, `${file}.mjs`), exportName, env);
      processes.set(id, lambda);
      await lambda.start();
    }
  };
  await Promise.all(Array.from({ length: START_CONCURRENCY }, start));
}, 240_000);

afterAll(async () => {
  gatewayServer?.close();
  for (const p of processes.values()) p.stop();
  await standIn.stop();
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

/**
 * The event API Gateway sends for a route of the route table (`/STU3/Patient/{id}`): its resource is the route's
 * resource path (`/STU3/{type}/{id}`), whose `{type}` and `{compartment}` come from the route's own segments.
 */
function proxyEvent(method: string, template: string, options: { body?: string; headers?: Record<string, string>; authorizer?: Record<string, unknown> } = {}): APIGatewayProxyEvent {
  const pathParameters: Record<string, string> = {};
  const concrete = template.replace(/\{([^}]+)\}/g, (_m, name: string) => (pathParameters[name] = name === 'clientId' ? 'ccri-admin' : '1'));
  const resource = gatewayPath({ path: template });
  const segments = template.split('/');
  resource.split('/').forEach((part, i) => {
    if (part !== segments[i]) pathParameters[part.slice(1, -1)] = segments[i]!;
  });
  const headers = { Host: DOMAIN, 'X-Forwarded-Proto': 'https', Accept: 'application/fhir+json', ...options.headers };
  return {
    httpMethod: method,
    resource,
    path: concrete,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: Object.keys(pathParameters).length > 0 ? pathParameters : null,
    stageVariables: null,
    body: options.body ?? null,
    isBase64Encoded: false,
    requestContext: {
      accountId: ACCOUNT,
      apiId: API_ID,
      authorizer: options.authorizer,
      domainName: DOMAIN,
      httpMethod: method,
      identity: { sourceIp: '203.0.113.9' },
      path: `/${STAGE}${concrete}`,
      protocol: 'HTTP/1.1',
      requestId: `rehearsal-${Math.random()}`,
      requestTimeEpoch: Date.now(),
      resourceId: 'r1',
      resourcePath: resource,
      stage: STAGE,
    },
  } as unknown as APIGatewayProxyEvent;
}

const methodArn = (method: string, template: string) =>
  `arn:aws:execute-api:${REGION}:${ACCOUNT}:${API_ID}/${STAGE}/${method}${template.replace(/\{([^}]+)\}/g, (_m, n: string) => (n === 'clientId' ? 'ccri-admin' : '1'))}`;

async function tokenFor(clientId: string, clientSecret: string): Promise<string> {
  const route = apiMethods(assembly).find((m) => m.path === '/oauth2/token' && m.method === 'POST')!;
  const response = await fn(route.functionId!).invoke<APIGatewayProxyResult>(
    proxyEvent('POST', '/oauth2/token', {
      body: 'grant_type=client_credentials',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        Accept: 'application/json',
        Authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`,
      },
    }),
  );
  expect(response.statusCode, response.body).toBe(200);
  return (JSON.parse(response.body) as { access_token: string }).access_token;
}

describe('deploy rehearsal: the built functions of the synthesized templates, each in a fresh Node 24 process', () => {
  it('starts every function of the template from its built asset, on Node 24, with its template environment', () => {
    const functions = assembly.resourcesOf('AWS::Lambda::Function');
    expect(processes.size).toBe(functions.length - frameworkTargets.length);
    expect(processes.size).toBeGreaterThan(3);
    for (const p of processes.values()) expect(p.nodeVersion, p.name).toMatch(/^v24\./);
    // Every framework function forwards to a function that runs here.
    for (const target of frameworkTargets) expect(processes.has(target), target).toBe(true);
  });

  it('fails a function whose environment misses a variable it needs, at init (what a template omission would do)', async () => {
    const [id, launch] = [...launches].find(([, l]) => 'CLIENTS_TABLE_NAME' in l.env && 'KMS_KEY_ID' in l.env)!;
    const { KMS_KEY_ID: _missing, ...env } = launch.env;
    const broken = new LambdaProcess(`${id}-without-KMS_KEY_ID`, launch.file, launch.exportName, env);
    await expect(broken.start()).rejects.toThrow(/failed at init.*KMS_KEY_ID/s);
    broken.stop();
  });

  it('runs the custom resources as CloudFormation creates them (through the framework, which forwards the event)', async () => {
    const customs = assembly.resourcesOf('AWS::CloudFormation::CustomResource').concat(
      assembly.stacks.flatMap((stack) =>
        Object.entries(stack.resources)
          .filter(([, r]) => r.Type.startsWith('Custom::'))
          .map(([id, resource]) => ({ stack, id, resource })),
      ),
    );
    expect(customs.length).toBeGreaterThan(0);
    for (const { stack, id, resource } of customs) {
      const properties = assembly.resolve(stack, resource.Properties);
      const framework = String(properties.ServiceToken).split(':').pop()!;
      const target = String(assembly.resolve(stack, stack.resources[framework]!.Properties!.Environment.Variables.USER_ON_EVENT_FUNCTION_ARN)).split(':').pop()!;
      const result = await fn(target).invoke<{ PhysicalResourceId: string }>({
        RequestType: 'Create',
        ServiceToken: properties.ServiceToken,
        ResponseURL: 'https://cloudformation-custom-resource-response.example/rehearsal',
        StackId: `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/${stack.name}/1`,
        RequestId: `create-${id}`,
        LogicalResourceId: id,
        ResourceType: resource.Type,
        ResourceProperties: properties,
      });
      expect(result.PhysicalResourceId, `${resource.Type} ${id}`).toBeTruthy();
    }
  }, 120_000);

  it('issues a token (KMS Sign allowed by the key policy for the token role only) that verifies against the JWKS', async () => {
    const demo = CCRI_DEMO_CLIENTS[1]!;
    const token = await tokenFor(demo.clientId, demo.clientSecret!);
    const jwksRoute = apiMethods(assembly).find((m) => m.path === '/.well-known/jwks.json')!;
    const jwks = await fn(jwksRoute.functionId!).invoke<APIGatewayProxyResult>(proxyEvent('GET', '/.well-known/jwks.json'));
    expect(jwks.statusCode, jwks.body).toBe(200);
    const [header, claims, signature] = token.split('.') as [string, string, string];
    const { kid } = JSON.parse(Buffer.from(header, 'base64url').toString()) as { kid: string };
    const jwk = (JSON.parse(jwks.body) as { keys: ({ kid: string } & Record<string, string>)[] }).keys.find((k) => k.kid === kid)!;
    const verified = createVerify('RSA-SHA256').update(`${header}.${claims}`).verify(createPublicKey({ key: jwk, format: 'jwk' }), Buffer.from(signature, 'base64url'));
    expect(verified).toBe(true);
    expect(standIn.refusals).toEqual([]);
  });

  it('drives every method of the REST API through the authorizer and its integration: no 5xx anywhere', async () => {
    const writer = standIn.secrets.get([...standIn.secrets.keys()].find((arn) => arn.includes('WriterClientSecret'))!)!;
    const admin = JSON.parse(standIn.secrets.get([...standIn.secrets.keys()].find((arn) => arn.includes('AdminClientSecret'))!)!) as { clientId: string; clientSecret: string };
    const tokens = { fhir: await tokenFor('ccri-demo-writer', writer), admin: await tokenFor(admin.clientId, admin.clientSecret) };
    const authorizerId = assembly.resourcesOf('AWS::ApiGateway::Authorizer').map(({ resource }) => /"Fn::GetAtt":\["([^"]+)","Arn"\]/.exec(JSON.stringify(resource.Properties!.AuthorizerUri))![1]!)[0]!;
    const methods = apiMethods(assembly);
    expect(methods.length).toBeGreaterThan(10);
    // First a demo resource the seed loaded, read through the built Patient function (the loop below deletes it).
    const read = methods.find((m) => m.method === 'GET' && m.path === '/STU3/{type}/{id}')!;
    const arn = methodArn('GET', '/STU3/Patient/{id}');
    const answer = await fn(authorizerId).invoke<{ principalId: string; context: Record<string, unknown> }>({ type: 'TOKEN', authorizationToken: `Bearer ${tokens.fhir}`, methodArn: arn });
    const patient = await fn(read.functionId!).invoke<APIGatewayProxyResult>(proxyEvent('GET', '/STU3/Patient/{id}', { authorizer: { ...answer.context, principalId: answer.principalId } }));
    expect(patient.statusCode, patient.body).toBe(200);
    expect(JSON.parse(patient.body)).toMatchObject({ resourceType: 'Patient', id: '1' });

    const failures: string[] = [];
    // Every method of the template, with every route of the route table it serves (the 14 types share `{type}`).
    const driven = methods.flatMap((m) => {
      const routes = ROUTES.filter((r) => r.method === m.method && gatewayPath(r) === m.path);
      if (routes.length === 0) failures.push(`${m.method} ${m.path}: no route of the route table`);
      return routes.map((r) => ({ ...m, route: r.path }));
    });
    expect(driven.length).toBe(ROUTES.length);
    for (const m of driven) {
      const label = `${m.method} ${m.route} (${m.path})`;
      let authorizer: Record<string, unknown> | undefined;
      if (m.authorized) {
        const token = ROUTES.find((r) => r.method === m.method && r.path === m.route)?.admin ? tokens.admin : tokens.fhir;
        const arn = methodArn(m.method, m.route);
        const answer = await fn(authorizerId).invoke<{ principalId: string; policyDocument: any; context: Record<string, unknown> }>({
          type: 'TOKEN',
          authorizationToken: `Bearer ${token}`,
          methodArn: arn,
        });
        if (evaluatePolicy(answer.policyDocument, arn) !== 'allow') failures.push(`${label}: the authorizer refused the token`);
        authorizer = { ...answer.context, principalId: answer.principalId };
      }
      if (!m.functionId) continue;
      const body = ['POST', 'PUT', 'PATCH'].includes(m.method) ? JSON.stringify({ resourceType: m.route.split('/')[2] ?? 'x' }) : undefined;
      const response = await fn(m.functionId).invoke<APIGatewayProxyResult>(
        proxyEvent(m.method, m.route, { authorizer, body, headers: body ? { 'Content-Type': 'application/fhir+json' } : {} }),
      );
      if (!response || response.statusCode >= 500) failures.push(`${label}: ${response?.statusCode} ${response?.body?.slice(0, 300)}`);
    }
    expect(failures).toEqual([]);
  }, 180_000);

  it('the FHIR function touched the table only with STS sessions of the data-access role, and IAM refused nothing', () => {
    const fhirRole = launches.get(fhirFunctionId())!.env.AWS_ENDPOINT_URL_DYNAMODB!.split('/').pop()!;
    const dataRole = launches.get(fhirFunctionId())!.env.DATA_ACCESS_ROLE_ARN!.split('/').pop()!;
    const sessions = [...standIn.sessions.values()];
    expect(sessions.length).toBeGreaterThan(0);
    for (const session of sessions) {
      expect(session.role).toBe(dataRole);
      expect(session.sessionName).toMatch(/^ccri-/);
      expect(JSON.stringify(session.policy)).toContain('dynamodb:LeadingKeys');
    }
    expect(standIn.dynamoDbCalls.filter((c) => c.role === fhirRole)).toEqual([]);
    const bySessions = standIn.dynamoDbCalls.filter((c) => c.role === dataRole);
    expect(bySessions.length).toBeGreaterThan(10);
    expect(bySessions.every((c) => c.session?.startsWith('ccri-'))).toBe(true);
    expect(standIn.refusals).toEqual([]);
  });

  it('IAM fences a session to its token: the Patient-only client\'s session reads Patient, nothing else; the function role alone reads nothing', async () => {
    const fhir = fhirFunctionId();
    const launch = launches.get(fhir)!;
    const { AWS_ENDPOINT_URL_DYNAMODB: fhirEndpoint, TABLE_NAME: table } = launch.env as Record<string, string>;
    const authorizerId = assembly.resourcesOf('AWS::ApiGateway::Authorizer').map(({ resource }) => /"Fn::GetAtt":\["([^"]+)","Arn"\]/.exec(JSON.stringify(resource.Properties!.AuthorizerUri))![1]!)[0]!;
    const token = await tokenFor(DEMO_PATIENT_ACCESS_CLIENT.clientId, DEMO_PATIENT_ACCESS_CLIENT.clientSecret!);
    const path = '/STU3/Patient/{id}';
    const answer = await fn(authorizerId).invoke<{ principalId: string; context: Record<string, unknown> }>({ type: 'TOKEN', authorizationToken: `Bearer ${token}`, methodArn: methodArn('GET', path) });
    const read = await fn(fhir).invoke<APIGatewayProxyResult>(proxyEvent('GET', path, { authorizer: { ...answer.context, principalId: answer.principalId } }));
    expect(read.statusCode, read.body).not.toBeGreaterThanOrEqual(500);
    const session = [...standIn.sessions.values()].find((s) => s.sessionName === `ccri-${DEMO_PATIENT_ACCESS_CLIENT.clientId}`)!;
    expect(session, 'the FHIR function assumed the data-access role for this client').toBeDefined();

    // What a handler bug would do with that session's credentials: read or write outside the token's grants.
    const as = (credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) =>
      new DynamoDBClient({ region: REGION, endpoint: fhirEndpoint, maxAttempts: 1, credentials: credentials ?? { accessKeyId: BASE_ACCESS_KEY, secretAccessKey: 'local' } });
    const scoped = as(session);
    const key = (pk: string) => ({ pk: { S: pk }, sk: { S: 'v' } });
    await expect(scoped.send(new GetItemCommand({ TableName: table, Key: key('Patient/1') }))).resolves.toBeDefined();
    const refused = { name: 'AccessDeniedException' };
    await expect(scoped.send(new GetItemCommand({ TableName: table, Key: key('Condition/1') }))).rejects.toMatchObject(refused);
    await expect(scoped.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': { S: 'Observation/_a/0' } } }))).rejects.toMatchObject(refused);
    await expect(scoped.send(new PutItemCommand({ TableName: table, Item: key('Patient/1') }))).rejects.toMatchObject(refused);
    await expect(scoped.send(new ScanCommand({ TableName: table }))).rejects.toMatchObject(refused);
    // The function's own role has no DynamoDB permission at all.
    await expect(as().send(new GetItemCommand({ TableName: table, Key: key('Patient/1') }))).rejects.toMatchObject(refused);
    expect(standIn.refusals.length).toBe(5);
  });

  it('loads the lazy chunks of the built functions on first use: the FHIR validator and the write code on a write, JSON Patch on a PATCH, the metadata XML writer', async () => {
    // The asset as Lambda unpacks it (/var/task): index.mjs, the chunks it imports statically, and the lazy chunks.
    const [id, launch] = [...launches].find(([, l]) => 'TABLE_NAME' in l.env && 'CURSOR_KEY' in l.env)!;
    const dir = path.dirname(launch.file);
    const staticImports = (file: string): string[] =>
      [...readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*"(\.\.?\/[^"]+)"/g)].map((m) => path.resolve(path.dirname(file), m[1]!));
    const atInit = new Set([launch.file]);
    for (const file of atInit) for (const imported of staticImports(file)) atInit.add(imported);
    const lazy = (readFileSync(launch.file, 'utf8').match(/import\("\.\/chunks\/[^"]+"\)/g) ?? []).map((m) => path.resolve(dir, m.slice(8, -2)));
    expect(lazy.length, 'index.mjs import()s its chunks').toBeGreaterThan(0);
    for (const chunk of lazy) expect(existsSync(chunk), chunk).toBe(true);
    // The FHIRPath engine and the invariants are in no file loaded at init.
    const invariant = "name.exists() or telecom.exists() or address.exists() or organization.exists()";
    for (const file of atInit) expect(readFileSync(file, 'utf8').includes(invariant), file).toBe(false);
    // Nor is the write code (functions/resource/on-demand.ts): fast-json-patch's errors, the Bundle processing's.
    for (const marker of ['OPERATION_PATH_UNRESOLVABLE', 'Bundle.type must be transaction or batch']) {
      for (const file of atInit) expect(readFileSync(file, 'utf8').includes(marker), `${marker} in ${file}`).toBe(false);
    }

    const writer = standIn.secrets.get([...standIn.secrets.keys()].find((arn) => arn.includes('WriterClientSecret'))!)!;
    const token = await tokenFor('ccri-demo-writer', writer);
    const authorizerId = assembly.resourcesOf('AWS::ApiGateway::Authorizer').map(({ resource }) => /"Fn::GetAtt":\["([^"]+)","Arn"\]/.exec(JSON.stringify(resource.Properties!.AuthorizerUri))![1]!)[0]!;
    const answer = await fn(authorizerId).invoke<{ principalId: string; context: Record<string, unknown> }>({
      type: 'TOKEN',
      authorizationToken: `Bearer ${token}`,
      methodArn: methodArn('POST', '/STU3/Patient'),
    });
    const post = async (resource: Record<string, unknown>) =>
      fn(id).invoke<APIGatewayProxyResult>(
        proxyEvent('POST', '/STU3/Patient', {
          authorizer: { ...answer.context, principalId: answer.principalId },
          body: JSON.stringify(resource),
          headers: { 'Content-Type': 'application/fhir+json' },
        }),
      );
    // A conformant Patient is stored; one that breaks invariant pat-1 (evaluated by FHIRPath) is refused with it.
    const patient = fixture('Patient');
    delete patient.id;
    delete patient.meta;
    patient.identifier[1].value = `rehearsal-${Date.now()}`;
    const created = await post(patient);
    expect(created.statusCode, created.body).toBe(201);
    const refused = await post({ ...patient, contact: [{ name: { family: 'x' }, gender: 'male' }, { gender: 'male' }] });
    expect(refused.statusCode, refused.body).toBe(422);
    expect(refused.body).toContain('invariant pat-1');
    // A PATCH of the created Patient: fast-json-patch from its chunk, then the same validated update.
    const patch = proxyEvent('PATCH', '/STU3/Patient/{id}', {
      authorizer: { ...answer.context, principalId: answer.principalId },
      body: JSON.stringify([{ op: 'replace', path: '/active', value: false }]),
      headers: { 'Content-Type': 'application/json-patch+json' },
    });
    const createdId = (JSON.parse(created.body) as { id: string }).id;
    const patched = await fn(id).invoke<APIGatewayProxyResult>({ ...patch, pathParameters: { ...patch.pathParameters, id: createdId }, path: `/STU3/Patient/${createdId}` });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(JSON.parse(patched.body)).toMatchObject({ id: createdId, active: false, meta: { versionId: '2' } });

    // The metadata function's XML writer is a chunk too: the CapabilityStatement in XML from the built asset.
    const metadata = apiMethods(assembly).find((m) => m.method === 'GET' && m.path === '/STU3/metadata')!;
    const xml = await fn(metadata.functionId!).invoke<APIGatewayProxyResult>(proxyEvent('GET', metadata.path, { headers: { Accept: 'application/fhir+xml' } }));
    expect(xml.statusCode, xml.body).toBe(200);
    expect(xml.body).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?><CapabilityStatement xmlns="http:\/\/hl7.org\/fhir">/);
  }, 60_000);

  it('the audit sink stores a real subscription delivery (gzip + base64 awslogs.data) of the authorizer’s and FHIR function’s audit lines and an ACCESS_DENIED access log line; the admin API lists them', async () => {
    const authorizerId = assembly.resourcesOf('AWS::ApiGateway::Authorizer').map(({ resource }) => /"Fn::GetAtt":\["([^"]+)","Arn"\]/.exec(JSON.stringify(resource.Properties!.AuthorizerUri))![1]!)[0]!;
    const read = { ...apiMethods(assembly).find((m) => m.method === 'GET' && m.path === '/STU3/{type}/{id}')!, path: '/STU3/Patient/{id}' };
    // A refused token: the authorizer prints a denied AuditEvent; a read: the FHIR function prints an allowed one.
    await expect(fn(authorizerId).invoke({ type: 'TOKEN', authorizationToken: 'Bearer a.b.c', methodArn: methodArn('GET', read.path) })).rejects.toThrow(/Unauthorized/);
    const writer = standIn.secrets.get([...standIn.secrets.keys()].find((arn) => arn.includes('WriterClientSecret'))!)!;
    const fhirToken = await tokenFor('ccri-demo-writer', writer);
    const allowed = await fn(authorizerId).invoke<{ principalId: string; context: Record<string, unknown> }>({ type: 'TOKEN', authorizationToken: `Bearer ${fhirToken}`, methodArn: methodArn('GET', read.path) });
    await fn(read.functionId!).invoke(proxyEvent('GET', read.path, { authorizer: { ...allowed.context, principalId: allowed.principalId } }));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const auditLines = (id: string) => fn(id).logs.split('\n').filter((line) => line.startsWith('{"auditEvent":'));
    const printed = [...auditLines(authorizerId).slice(-1), ...auditLines(read.functionId!).slice(-1)];
    expect(printed).toHaveLength(2);
    const denied = JSON.stringify({ requestId: 'rehearsal-denied', ip: '203.0.113.9', httpMethod: 'DELETE', resourcePath: '/STU3/{type}/{id}', path: '/prod/STU3/Patient/1', status: '403', principalId: 'ccri-demo-patient-1', patient: '1', errorType: 'ACCESS_DENIED' });
    const sinkId = [...processes.keys()].find((id) => id.includes('AuditSink'))!;
    expect(sinkId).toBeDefined();
    await expect(fn(sinkId).invoke(subscriptionEvent([...printed, denied, '{"level":"INFO","message":"request answered"}']))).resolves.toEqual({ stored: 3 });

    const admin = JSON.parse(standIn.secrets.get([...standIn.secrets.keys()].find((arn) => arn.includes('AdminClientSecret'))!)!) as { clientId: string; clientSecret: string };
    const adminToken = await tokenFor(admin.clientId, admin.clientSecret);
    const list = apiMethods(assembly).find((m) => m.method === 'GET' && m.path === '/admin/audit-events')!;
    const adminAuth = await fn(authorizerId).invoke<{ principalId: string; context: Record<string, unknown> }>({ type: 'TOKEN', authorizationToken: `Bearer ${adminToken}`, methodArn: methodArn('GET', list.path) });
    const event = proxyEvent('GET', list.path, { authorizer: { ...adminAuth.context, principalId: adminAuth.principalId } });
    const found = await fn(list.functionId!).invoke<APIGatewayProxyResult>({ ...event, queryStringParameters: { limit: '1000' }, multiValueQueryStringParameters: null });
    expect(found.statusCode, found.body).toBe(200);
    const ids = (JSON.parse(found.body) as { entry: { resource: { id: string; source: { identifier: { value: string } } } }[] }).entry.map((e) => e.resource);
    for (const line of printed) expect(ids.map((e) => e.id)).toContain((JSON.parse(line) as { auditEvent: { id: string } }).auditEvent.id);
    // The gateway's denial names the type, read from the access log's path (API Gateway's resource is `{type}`).
    expect(ids.some((e) => e.source.identifier.value === 'ccri-gateway' && JSON.stringify(e).includes('"name":"Patient"'))).toBe(true);
  }, 60_000);

  it('KMS refuses what the key policy does not allow: Sign by any other role', async () => {
    const { allows } = await import('./aws-stand-in');
    const [{ stack, resource }] = assembly.resourcesOf('AWS::KMS::Key');
    const policy = assembly.resolve(stack!, resource!.Properties!.KeyPolicy);
    const token = { 'kms:SigningAlgorithm': 'RSASSA_PKCS1_V1_5_SHA_256', 'kms:MessageType': 'DIGEST' };
    const roleArn = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
    const tokenRole = [...processes.values()].find((p) => p.name.includes('Token'))!;
    expect(tokenRole).toBeDefined();
    const jwksRoleName = assembly.resourcesOf('AWS::IAM::Role').find(({ id }) => id.includes('Jwks'))!.id;
    const tokenRoleName = assembly.resourcesOf('AWS::IAM::Role').find(({ id }) => id.includes('TokenFunctionRole'))!.id;
    expect(allows(policy, 'kms:Sign', { 'aws:PrincipalArn': roleArn(tokenRoleName), ...token })).toBe(true);
    expect(allows(policy, 'kms:Sign', { 'aws:PrincipalArn': roleArn(tokenRoleName), ...token, 'kms:MessageType': 'RAW' })).toBe(false);
    expect(allows(policy, 'kms:Sign', { 'aws:PrincipalArn': roleArn(tokenRoleName), ...token, 'kms:SigningAlgorithm': 'RSASSA_PSS_SHA_256' })).toBe(false);
    expect(allows(policy, 'kms:Sign', { 'aws:PrincipalArn': roleArn(jwksRoleName), ...token })).toBe(false);
    expect(allows(policy, 'kms:GetPublicKey', { 'aws:PrincipalArn': roleArn(jwksRoleName) })).toBe(true);
    expect(allows(policy, 'kms:GetPublicKey', { 'aws:PrincipalArn': roleArn(tokenRoleName) })).toBe(false);
  });
});
