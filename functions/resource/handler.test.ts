import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createFhirHandler } from './handler';
import type { Access } from '../scopes/permissions';
import { validateResource } from '../validation';

const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-2' }));
const ddb = mockClient(documentClient);
const seen: Access[] = [];
const handler = createFhirHandler({
  tableName: 'Fhir',
  clientFor: (access) => {
    seen.push(access);
    return documentClient;
  },
  validator: validateResource,
});

const WRITER = { clientId: 'w', scope: 'system/*.*', grants: 'Patient:cruds' };

function event(
  method: string,
  path: string,
  options: { authorizer?: Record<string, string> | null; body?: string; query?: Record<string, string>; headers?: Record<string, string> } = {},
): APIGatewayProxyEvent {
  const parts = path.split('/');
  const resource = parts.length >= 4 ? `/STU3/Patient/{id}` : '/STU3/Patient';
  return {
    httpMethod: method,
    path,
    resource,
    pathParameters: parts.length >= 4 ? { id: parts[3]! } : null,
    queryStringParameters: options.query ?? null,
    multiValueQueryStringParameters: options.query ? Object.fromEntries(Object.entries(options.query).map(([k, v]) => [k, [v]])) : null,
    headers: { 'X-Forwarded-Proto': 'https', ...(options.body ? { 'Content-Type': 'application/fhir+json' } : {}), ...options.headers },
    multiValueHeaders: {},
    body: options.body ?? null,
    isBase64Encoded: false,
    stageVariables: null,
    requestContext: {
      requestId: 'r1',
      domainName: 'api.example.org',
      authorizer: options.authorizer === null ? undefined : (options.authorizer ?? WRITER),
    } as unknown as APIGatewayProxyEvent['requestContext'],
  } as APIGatewayProxyEvent;
}

beforeEach(() => ddb.reset());

describe('defence in depth', () => {
  it('refuses a request without authorizer context with a 403 before touching DynamoDB', async () => {
    const res = await handler(event('GET', '/STU3/Patient/1', { authorizer: null }));
    expect(res.statusCode).toBe(403);
    expect(JSON.parse(res.body)).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'forbidden' }] });
    expect(ddb.calls()).toHaveLength(0);
  });

  it('refuses an interaction the grants do not allow with a 403 before touching DynamoDB', async () => {
    const res = await handler(event('DELETE', '/STU3/Patient/1', { authorizer: { clientId: 'c', scope: 'user/Patient.read', grants: 'Patient:rs' } }));
    expect(res.statusCode).toBe(403);
    expect(JSON.parse(res.body).issue[0].diagnostics).toContain('Patient');
    expect(ddb.calls()).toHaveLength(0);
  });
});

describe('the least-privilege seam', () => {
  it('asks the client provider once per request, with the caller\'s Access, and uses only that client', async () => {
    seen.length = 0;
    ddb.on(GetCommand).resolves({ Item: { pk: 'Patient/1', sk: 'v', versionId: 1, lastUpdated: '2020-01-01T00:00:00Z', resource: '{"resourceType":"Patient","id":"1"}' } });
    const res = await handler(event('GET', '/STU3/Patient/1', { authorizer: { clientId: 'c', scope: 'user/Patient.read', grants: 'Patient:rs' } }));
    expect(res.statusCode).toBe(200);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ clientId: 'c', scope: 'user/Patient.read', grants: { type: { Patient: 'rs' } } });
    expect(ddb.commandCalls(GetCommand)[0]!.args[0].input).toMatchObject({ TableName: 'Fhir', Key: { pk: 'Patient/1', sk: 'v' } });
  });

  it('never asks for a client when the request is refused', async () => {
    seen.length = 0;
    await handler(event('GET', '/STU3/Patient/1', { authorizer: { clientId: 'c', scope: 'user/Condition.read', grants: 'Condition:rs' } }));
    expect(seen).toHaveLength(0);
  });
});

describe('DynamoDB failures', () => {
  it('turns throttling into a 503 with Retry-After and an OperationOutcome', async () => {
    ddb.on(GetCommand).rejects(Object.assign(new Error('slow down'), { name: 'ProvisionedThroughputExceededException' }));
    const res = await handler(event('GET', '/STU3/Patient/1'));
    expect(res.statusCode).toBe(503);
    expect(res.headers?.['Retry-After']).toBe('1');
    expect(JSON.parse(res.body).issue[0].code).toBe('transient');
  });

  it('turns an unreachable DynamoDB into a 503', async () => {
    ddb.on(QueryCommand).rejects(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    const res = await handler(event('GET', '/STU3/Patient', { query: { family: 'x' } }));
    expect(res.statusCode).toBe(503);
  });

  it('turns an item over the size limit into a 413', async () => {
    ddb.on(GetCommand).resolves({});
    ddb.on(BatchWriteCommand).resolves({});
    ddb.on(PutCommand).rejects(Object.assign(new Error('Item size has exceeded the maximum allowed size'), { name: 'ValidationException' }));
    const body = JSON.stringify({ resourceType: 'Patient', name: [{ use: 'official', family: 'A' }] });
    const res = await handler(event('PUT', '/STU3/Patient/abc', { body: body.replace('{', '{"id":"abc",') }));
    expect(res.statusCode).toBe(413);
  });

  it('hides an unexpected error behind a generic 500 OperationOutcome', async () => {
    ddb.on(GetCommand).rejects(new Error('secret internal detail'));
    const res = await handler(event('GET', '/STU3/Patient/1'));
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain('secret internal detail');
    expect(JSON.parse(res.body).resourceType).toBe('OperationOutcome');
  });
});

describe('request checks', () => {
  it.each([
    ['If-Match garbage', { 'If-Match': 'yesterday' }],
  ])('%s is a 400', async (_, headers) => {
    ddb.on(GetCommand).resolves({});
    const res = await handler(
      event('PUT', '/STU3/Patient/abc', { body: JSON.stringify({ resourceType: 'Patient', id: 'abc' }), headers }),
    );
    expect(res.statusCode).toBe(400);
  });

  it('answers 422 with every profile issue when the resource does not conform', async () => {
    const res = await handler(
      event('POST', '/STU3/Patient', { body: JSON.stringify({ resourceType: 'Patient', gender: 'robot', name: [{ use: 'official' }] }) }),
    );
    expect(res.statusCode).toBe(422);
    const outcome = JSON.parse(res.body);
    expect(outcome.resourceType).toBe('OperationOutcome');
    expect(outcome.issue.length).toBeGreaterThanOrEqual(1);
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
    expect(ddb.commandCalls(BatchWriteCommand)).toHaveLength(0);
  });
});
