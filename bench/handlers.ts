/**
 * P2 and P3: the two security handlers per request, against the raw cryptography (and storage) they cannot avoid.
 * - P2: the authorizer handler, warm, per request, against one raw `crypto.verify` RS256 of the same token.
 * - P3: the token handler with the local signer, per request, against one raw RSA-2048 sign plus one GetItem on
 *   the same DynamoDB engine.
 */
import { createPublicKey, createSign, createVerify, generateKeyPairSync, randomUUID } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { configureAudit } from '../functions/audit';
import { createAuthorizerHandler } from '../functions/authorizer/handler';
import type { Jwks } from '../functions/authorizer/verifier';
import { DynamoClientStore, clientKey as clientItemKey } from '../functions/oauth/clients';
import { clientKey } from '../functions/oauth/revocation-list';
import { CCRI_DEMO_CLIENTS, demoClientRecord } from '../functions/oauth/demo-clients';
import { LocalRsaSigner } from '../functions/oauth/signer';
import { signJwt } from '../functions/oauth/token';
import { createTokenHandler } from '../functions/token/handler';
import { CLIENTS_TABLE } from '../contract/tables';
import { alternating, figure, median, timePerCall, type Figure } from './measure';
import type { BenchDynamo } from './dynamo';

const ISSUER = 'https://bench.execute-api.eu-west-2.amazonaws.com/prod';
const AUDIENCE = `${ISSUER}/STU3`;
const METHOD_ARN = 'arn:aws:execute-api:eu-west-2:123456789012:bench/prod/GET/STU3/Patient/1';

export async function authorizerBench(quick: boolean): Promise<Figure[]> {
  const iterations = quick ? 200 : 5000;
  const signer = new LocalRsaSigner();
  const client = CCRI_DEMO_CLIENTS[1]!;
  const now = Math.floor(Date.now() / 1000);
  const token = await signJwt(
    { iss: ISSUER, aud: AUDIENCE, sub: client.clientId, client_id: client.clientId, scope: client.scope, iat: now, exp: now + 3600, jti: randomUUID() },
    signer,
  );
  const jwks = { keys: await signer.publicJwks() } as unknown as Jwks;
  // The warm path with the revocation check on: a list of 1,000 revoked tokens and 100 client cut-offs (none of
  // them this token's), loaded once as a container would hold it.
  const revoked = {
    jti: Array.from({ length: 1000 }, () => randomUUID()),
    clients: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [clientKey(`revoked-client-${i}`), now])),
  };
  // An accepted token is not audited by the authorizer (docs/audit.md); refused ones would be printed: not here.
  configureAudit({ writeLine: () => {} });
  const handler = createAuthorizerHandler({ issuer: ISSUER, audience: AUDIENCE, verifier: { jwks }, revocations: { fetchList: async () => revoked } });
  const event = { type: 'TOKEN' as const, authorizationToken: `Bearer ${token}`, methodArn: METHOD_ARN };
  const result = await handler(event);
  if (!JSON.stringify(result.policyDocument).includes('Allow')) throw new Error('bench token was not allowed');

  const [header, payload, signature] = token.split('.') as [string, string, string];
  const publicKey = createPublicKey({ key: jwks.keys[0] as unknown as import('node:crypto').JsonWebKey, format: 'jwk' });
  const signatureBytes = Buffer.from(signature, 'base64url');
  const rawVerify = () => {
    const v = createVerify('RSA-SHA256');
    v.update(`${header}.${payload}`);
    if (!v.verify(publicKey, signatureBytes)) throw new Error('bad signature');
  };
  // Finely interleaved: a short batch of handler calls, then one of raw verifies, and again, each batch timed; the
  // medians of the batches. A batch lasts a few ms, so a load spike on this shared machine hits a handler batch and
  // the floor batch beside it alike (rounds of whole seconds each swung the ratio by 0.3 under load).
  const { handlerMs, floorMs } = await interleavedMedians(() => handler(event), rawVerify, iterations);
  return [figure('P2 authorizer handler, warm, per request (revocation check on)', handlerMs * 1000, floorMs * 1000, iterations, 'µs', 'one raw crypto.verify RS256 of the same token', { ratio: 2 })];
}

/** Per-call medians (ms) of `a` and `b`, timed in alternating batches of `perBatch` calls after a warm-up. */
async function interleavedMedians(a: () => unknown, b: () => unknown, iterations: number, perBatch = 50): Promise<{ handlerMs: number; floorMs: number }> {
  const batches = Math.max(15, Math.round(iterations / perBatch));
  const timeBatch = async (fn: () => unknown) => {
    const start = performance.now();
    for (let i = 0; i < perBatch; i++) await fn();
    return (performance.now() - start) / perBatch;
  };
  await timeBatch(a);
  await timeBatch(b);
  const [as, bs] = await alternating(batches, () => timeBatch(a), () => timeBatch(b));
  return { handlerMs: median(as), floorMs: median(bs) };
}

export async function tokenBench(quick: boolean, dynamo: BenchDynamo): Promise<Figure[]> {
  const iterations = quick ? 50 : 1000;
  const tableName = dynamo.tableName(CLIENTS_TABLE);
  const store = new DynamoClientStore(dynamo.documentClient, tableName);
  const client = CCRI_DEMO_CLIENTS[0]!;
  await store.put(demoClientRecord(client));
  const signer = new LocalRsaSigner();
  const handler = createTokenHandler({ clients: store, signer, tokenLifetimeSeconds: 3600, issuer: ISSUER, audience: AUDIENCE, limiter: null });
  const basic = `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`;
  const event = {
    resource: '/oauth2/token',
    path: '/oauth2/token',
    httpMethod: 'POST',
    headers: { Authorization: basic, 'Content-Type': 'application/x-www-form-urlencoded' },
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: 'grant_type=client_credentials',
    isBase64Encoded: false,
    requestContext: { requestId: 'bench', domainName: 'bench.execute-api.eu-west-2.amazonaws.com', stage: 'prod' },
  } as unknown as APIGatewayProxyEvent;
  const first = await handler(event);
  if (first.statusCode !== 200) throw new Error(`token bench got ${first.statusCode}: ${first.body}`);

  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const input = Buffer.from('x'.repeat(700));
  const floor = async () => {
    await dynamo.documentClient.send(new GetCommand({ TableName: tableName, Key: clientItemKey(client.clientId) }));
    const s = createSign('RSA-SHA256');
    s.update(input);
    s.sign(privateKey);
  };
  const rounds = 5;
  const [handlerSamples, floorSamples] = await alternating(rounds, () => timePerCall(() => handler(event), iterations / rounds, 3), () => timePerCall(floor, iterations / rounds, 3));
  return [figure('P3 token handler (local signer), per request', median(handlerSamples), median(floorSamples), iterations, 'ms', 'one raw RSA-2048 sign + one GetItem on the same engine', { ratio: 2 })];
}
