/**
 * `sam local start-api` and LocalStack, replayed: their exact events (test/emulators/events.ts, with the source of
 * every field) handed to the bundled functions as the Lambda runtime loads them, with the configuration
 * docs/local-emulators.md gives. A token issued through the emulator's URL must get a 200 on a protected read;
 * nothing taken from the request (the Host header above all) may pick the issuer the verifier trusts.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoClientStore } from '../../functions/oauth/clients';
import { DEMO_CLINICAL_ACCESS_CLIENT, DEMO_PATIENT_ACCESS_CLIENT, localDemoClientsSeeder, type DemoClient } from '../../functions/oauth/demo-clients';
import { loadDemoData } from '../../functions/seed/loader';
import { ROUTES, type FunctionName } from '../../contract/routes';
import { CLIENTS_TABLE, FHIR_TABLE, localTableName, SCOPES_TABLE, TABLES } from '../../contract/tables';
import { evaluatePolicy } from '../../local/policy';
import { createTestTables, testDocumentClient, uniquePrefix } from '../support/dynamodb';
import {
  localStackMethodArn,
  localStackProxyEvent,
  localStackUrls,
  samAuthorizerVerdict,
  samMethodArn,
  samProxyEvent,
  samTokenAuthorizerEvent,
  type EmulatedRequest,
} from './events';
import { buildBundles, startKmsEndpoint, type Bundles, type Handler, type KmsEndpoint } from './functions';

const prefix = uniquePrefix();
const tableOf = (spec: Parameters<typeof localTableName>[0]) => localTableName(spec, prefix);

let kms: KmsEndpoint;
let bundles: Bundles;
let samServer: Server;
/**
 * A stand-in for `sam local start-api` serving the public routes of the route table with the bundles below, under
 * SAM's exact event: where the authorizer fetches the JWKS (and whatever else it fetches from its issuer).
 */
let samBase: string;
const samServes: Partial<Record<FunctionName, Handler>> = {};

beforeAll(async () => {
  await createTestTables(TABLES, prefix);
  const db = testDocumentClient();
  await localDemoClientsSeeder(new DynamoClientStore(db, tableOf(CLIENTS_TABLE)))();
  await loadDemoData({ documentClient: db, tableName: tableOf(FHIR_TABLE) });
  kms = await startKmsEndpoint();
  // The SDK reads its endpoint settings at the first call, not at load: set for the whole file.
  process.env.AWS_ENDPOINT_URL_KMS = kms.url;
  bundles = await buildBundles(['token', 'jwks', 'authorizer', 'resource', 'metadata']);
  samServer = createServer((req, res) => void serveLikeSam(req, res));
  await new Promise<void>((r) => samServer.listen(0, '127.0.0.1', () => r()));
  samBase = `http://127.0.0.1:${(samServer.address() as AddressInfo).port}`;
  samServes.jwks = await bundles.load('jwks', { KMS_KEY_IDS: kms.keyArn });
  samServes.token = await bundles.load('token', functionEnv.token(samBase));
}, 120_000);

afterAll(async () => {
  delete process.env.AWS_ENDPOINT_URL_KMS;
  await new Promise<void>((r) => samServer?.close(() => r()));
  await kms?.close();
  bundles?.dispose();
});

async function serveLikeSam(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://sam.local');
  const route = ROUTES.find((r) => r.auth === 'public' && r.method === req.method && r.path === url.pathname);
  const handler = route && samServes[route.function];
  if (!route || !handler) {
    res.writeHead(403, { 'Content-Type': 'application/json' });
    res.end('{"message":"Missing Authentication Token"}');
    return;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const headers: Record<string, string> = {};
  // Werkzeug names headers in title case ([S6]).
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === 'string') headers[name.replace(/(^|-)([a-z])/g, (_m, d: string, c: string) => d + c.toUpperCase())] = value;
  }
  const query: Record<string, string[]> = {};
  for (const [k, v] of url.searchParams) (query[k] ??= []).push(v);
  const body = Buffer.concat(chunks).toString('utf8');
  const answer = (await handler(samProxyEvent({ method: route.method, resource: route.path, path: url.pathname, headers, query, ...(body ? { body } : {}) }))) as {
    statusCode: number;
    headers?: Record<string, string>;
    body: string;
  };
  res.writeHead(answer.statusCode, answer.headers ?? {});
  res.end(answer.body);
}

/** The environment the template plus `--env-vars` give each function (docs/local-emulators.md). */
const functionEnv = {
  token: (issuer: string | undefined) => ({
    CLIENTS_TABLE_NAME: tableOf(CLIENTS_TABLE),
    SCOPES_TABLE_NAME: tableOf(SCOPES_TABLE),
    KMS_KEY_ID: kms.keyArn,
    ISSUER: issuer,
    AUDIENCE: issuer && `${issuer}/STU3`,
  }),
  // SCOPES_TABLE_NAME is an Fn::ImportValue SAM cannot resolve: it passes "" ([S8]), and no named scopes load.
  authorizer: (issuer: string | undefined, fetchFrom?: string) => ({
    ISSUER: issuer,
    AUDIENCE: issuer && `${issuer}/STU3`,
    SCOPES_TABLE_NAME: '',
    // Where the authorizer fetches from when that is not its issuer (LocalStack's DNS, below).
    JWKS_URI: fetchFrom && `${fetchFrom}/.well-known/jwks.json`,
    REVOCATIONS_URI: fetchFrom && `${fetchFrom}/oauth2/revocations`,
  }),
  // No STS role to assume in an emulator: the function's own credentials (functions/resource/config.ts).
  patient: { TABLE_NAME: tableOf(FHIR_TABLE), DATA_ACCESS: 'direct' },
};

const basic = (c: DemoClient) => `Basic ${Buffer.from(`${encodeURIComponent(c.clientId)}:${encodeURIComponent(c.clientSecret)}`).toString('base64')}`;

const tokenRequest = (client: DemoClient, headers: Record<string, string> = {}): EmulatedRequest => ({
  method: 'POST',
  resource: '/oauth2/token',
  path: '/oauth2/token',
  headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: basic(client), ...headers },
  body: 'grant_type=client_credentials',
});

const read = (type: string, id: string, token: string): EmulatedRequest => ({
  method: 'GET',
  // The template's resource (lib/api.ts: the types share one `{type}` tree), as SAM and LocalStack read it.
  resource: '/STU3/{type}/{id}',
  path: `/STU3/${type}/${id}`,
  pathParameters: { type, id },
  headers: { Authorization: `Bearer ${token}`, Accept: 'application/fhir+json' },
});

const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as { iss: string; aud: string };

async function issue(token: Handler, event: unknown): Promise<string> {
  const res = await token(event);
  expect(res.statusCode, res.body).toBe(200);
  return (JSON.parse(res.body) as { access_token: string }).access_token;
}

describe('sam local start-api -t cdk.out/<stack>.template.json', () => {
  /**
   * The issuer the docs configure for sam local (`-c ccri:issuer=http://host.docker.internal:3000`): the name the
   * function containers reach sam local by, so the authorizer's default JWKS URL, <ISSUER>/.well-known/jwks.json, is
   * sam local's own JWKS route. Here the same role is played by the stand-in on a free port.
   */
  const issuerUrl = () => samBase;

  it('gives a token issued through sam local a 200 on a protected read, with ISSUER and AUDIENCE configured', async () => {
    const token = await bundles.load('token', functionEnv.token(issuerUrl()));
    const authorizer = await bundles.load('authorizer', functionEnv.authorizer(issuerUrl()));
    const patient = await bundles.load('resource', functionEnv.patient);

    const accessToken = await issue(token, samProxyEvent(tokenRequest(DEMO_PATIENT_ACCESS_CLIENT)));
    expect(claimsOf(accessToken)).toMatchObject({ iss: issuerUrl(), aud: `${issuerUrl()}/STU3` });

    const request = read('Patient', '1', accessToken);
    const answer = await authorizer(samTokenAuthorizerEvent(request, `Bearer ${accessToken}`));
    expect(samAuthorizerVerdict(answer, samMethodArn('GET', '/STU3/Patient/1'))).toBe('allow');
    // The cached-policy property holds under SAM's method ARN too: the same answer covers other reads...
    expect(samAuthorizerVerdict(answer, samMethodArn('GET', '/STU3/Patient/2'))).toBe('allow');
    // ...and not what the scopes do not grant (SAM answers 403 there).
    expect(samAuthorizerVerdict(answer, samMethodArn('GET', '/STU3/Condition/1'))).toBe('deny');

    const res = await patient(samProxyEvent(request, { ...answer.context, principalId: answer.principalId }));
    expect(res.statusCode, res.body).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ resourceType: 'Patient', id: '1' });
  });

  it('refuses to derive an issuer from SAM\'s placeholder method ARN when ISSUER is not set (no JWKS fetch to the internet)', async () => {
    const token = await bundles.load('token', functionEnv.token(issuerUrl()));
    const authorizer = await bundles.load('authorizer', functionEnv.authorizer(undefined));
    const accessToken = await issue(token, samProxyEvent(tokenRequest(DEMO_PATIENT_ACCESS_CLIENT)));
    const request = read('Patient', '1', accessToken);
    // A function error: API Gateway would answer 503 AUTHORIZER_FAILURE, SAM CLI answers 502 ([S4]).
    await expect(authorizer(samTokenAuthorizerEvent(request, `Bearer ${accessToken}`))).rejects.toThrow(/ISSUER not configured/);
  });

  it('never lets the Host header pick the issuer the verifier trusts', async () => {
    const authorizer = await bundles.load('authorizer', functionEnv.authorizer(issuerUrl()));
    const evilHost = { Host: 'evil.example:3000' };

    // A token function without ISSUER takes its issuer from SAM's domainName, i.e. the client's Host ([S5]):
    const unconfigured = await bundles.load('token', functionEnv.token(undefined));
    const forged = await issue(unconfigured, samProxyEvent(tokenRequest(DEMO_CLINICAL_ACCESS_CLIENT, evilHost)));
    expect(claimsOf(forged).iss).toBe('http://evil.example:3000');
    // ...which the authorizer, whose issuer is configuration, refuses (SAM: 502; API Gateway: 401).
    await expect(authorizer(samTokenAuthorizerEvent(read('Patient', '1', forged), `Bearer ${forged}`))).rejects.toThrow('Unauthorized');

    // With ISSUER set, the Host header changes nothing in the token.
    const configured = await bundles.load('token', functionEnv.token(issuerUrl()));
    const fine = await issue(configured, samProxyEvent(tokenRequest(DEMO_CLINICAL_ACCESS_CLIENT, evilHost)));
    expect(claimsOf(fine).iss).toBe(issuerUrl());
    const answer = await authorizer(samTokenAuthorizerEvent(read('Patient', '1', fine), `Bearer ${fine}`));
    expect(samAuthorizerVerdict(answer, samMethodArn('GET', '/STU3/Patient/1'))).toBe('allow');
  });

  it('answers the SMART discovery with sam local\'s root URL (no stage in it)', async () => {
    const metadata = await bundles.load('metadata', { PUBLIC_BASE_URL: undefined, TOKEN_ISSUER: undefined });
    const res = await metadata(samProxyEvent({ method: 'GET', resource: '/STU3/.well-known/smart-configuration', path: '/STU3/.well-known/smart-configuration' }));
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ token_endpoint: 'http://127.0.0.1:3000/oauth2/token' });
  });
});

describe('LocalStack (http://<api>.execute-api.localhost.localstack.cloud:4566/<stage> and /restapis/<api>/<stage>/_user_request_)', () => {
  const apiId = 'abc123xyz9';
  const issuer = localStackUrls(apiId, 'prod').hostBased;

  it('community edition runs no authorizer: a protected route without one fails closed, never returns data', async () => {
    const patient = await bundles.load('resource', functionEnv.patient);
    for (const urlShape of ['hostBased', 'pathBased'] as const) {
      const res = await patient(localStackProxyEvent(read('Patient', '1', 'anything'), { apiId, urlShape }));
      expect([401, 403]).toContain(res.statusCode);
      expect(JSON.parse(res.body)).toMatchObject({ resourceType: 'OperationOutcome' });
    }
  });

  it('with ccri:issuer set to the host-based URL, a token issued through LocalStack gets a 200 through either URL shape (Pro authorizer)', async () => {
    const token = await bundles.load('token', functionEnv.token(issuer));
    // In LocalStack the authorizer's container resolves *.localhost.localstack.cloud to LocalStack and fetches
    // <ISSUER>/.well-known/jwks.json; that name does not resolve here, so JWKS_URI stands in for the DNS.
    const authorizer = await bundles.load('authorizer', functionEnv.authorizer(issuer, samBase));
    const patient = await bundles.load('resource', functionEnv.patient);

    const accessToken = await issue(token, localStackProxyEvent(tokenRequest(DEMO_PATIENT_ACCESS_CLIENT), { apiId, urlShape: 'hostBased' }));
    expect(claimsOf(accessToken).iss).toBe(issuer);
    for (const urlShape of ['hostBased', 'pathBased'] as const) {
      const request = read('Patient', '1', accessToken);
      const methodArn = localStackMethodArn(apiId, 'GET', '/STU3/Patient/1');
      const answer = await authorizer({ type: 'TOKEN', authorizationToken: `Bearer ${accessToken}`, methodArn });
      expect(evaluatePolicy(answer.policyDocument, methodArn)).toBe('allow');
      const res = await patient(localStackProxyEvent(request, { apiId, urlShape }, { ...answer.context, principalId: answer.principalId }));
      expect(res.statusCode, res.body).toBe(200);
    }
  });

  it('without ISSUER, derives no issuer from LocalStack\'s placeholder account', async () => {
    const token = await bundles.load('token', functionEnv.token(issuer));
    const authorizer = await bundles.load('authorizer', functionEnv.authorizer(undefined));
    const accessToken = await issue(token, localStackProxyEvent(tokenRequest(DEMO_PATIENT_ACCESS_CLIENT), { apiId, urlShape: 'hostBased' }));
    const methodArn = localStackMethodArn(apiId, 'GET', '/STU3/Patient/1');
    await expect(authorizer({ type: 'TOKEN', authorizationToken: `Bearer ${accessToken}`, methodArn })).rejects.toThrow(/ISSUER not configured/);
  });

  it('answers the SMART discovery with the stage of the host-based URL', async () => {
    const metadata = await bundles.load('metadata', { PUBLIC_BASE_URL: undefined, TOKEN_ISSUER: undefined });
    const event = localStackProxyEvent(
      { method: 'GET', resource: '/STU3/.well-known/smart-configuration', path: '/STU3/.well-known/smart-configuration', headers: { 'X-Forwarded-Proto': 'http' } },
      { apiId, urlShape: 'hostBased' },
    );
    const res = await metadata(event);
    expect(JSON.parse(res.body)).toMatchObject({ token_endpoint: `${issuer}/oauth2/token` });
  });
});
