/**
 * Issue 13.2: turning demo data off really closes the demo clients. The real seed handler (the deployed custom
 * resource's code) and the real token handler, on DynamoDB Local: the demo clients get tokens after Create; after an
 * Update with `DemoData: off` (a redeploy with -c ccri:demoData=false) or a Delete of the custom resource, every
 * one of them (the CCRI's three with their published secrets, the patient-bound one and the writer) gets 401
 * invalid_client, and the admin client is untouched.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { APIGatewayProxyResult, CloudFormationCustomResourceEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoClientStore } from '../../functions/oauth/clients';
import { CCRI_DEMO_CLIENTS, DEFAULT_WRITER_CLIENT_ID, DEMO_PATIENT_CLIENT } from '../../functions/oauth/demo-clients';
import { demoClientIds } from '../../functions/seed/clients';
import { ADMIN_CLIENT_RESOURCE, createSeedHandler, DEMO_DATA_RESOURCE } from '../../functions/seed/handler';
import { tokenDepsFromEnv } from '../../functions/token/config';
import { createTokenHandler } from '../../functions/token/handler';
import { CLIENTS_TABLE, localTableName, SCOPES_TABLE, TABLES, type TableSpec } from '../../contract/tables';
import { mockKms, rsaKey } from '../oauth/kms-mock';
import { basicAuth, tokenEvent } from '../oauth/events';
import { createTestTables, testDocumentClient, uniquePrefix } from '../support/dynamodb';

const KEY_ARN = 'arn:aws:kms:eu-west-2:123456789012:key/11111111-2222-3333-4444-555555555555';
const WRITER_SECRET = 'generated-writer-secret-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ';
const ADMIN = { clientId: 'ccri-admin', clientSecret: 'generated-admin-secret-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHI' };

const prefix = uniquePrefix();
const tableName = (spec: TableSpec) => localTableName(spec, prefix);
const documentClient = testDocumentClient();
const secretsManager = new SecretsManagerClient({ region: 'eu-west-2' });
let kms: ReturnType<typeof mockKms>;
let calls = 0;

/** Every client the demo data seeds, with the secret a caller would present. */
const DEMO_CREDENTIALS = [
  ...[...CCRI_DEMO_CLIENTS, DEMO_PATIENT_CLIENT].map((c) => ({ clientId: c.clientId, clientSecret: c.clientSecret! })),
  { clientId: DEFAULT_WRITER_CLIENT_ID, clientSecret: WRITER_SECRET },
];

beforeAll(async () => {
  await createTestTables(TABLES, prefix);
  const sm = mockClient(secretsManager);
  sm.on(GetSecretValueCommand, { SecretId: 'arn:writer' }).resolves({ SecretString: WRITER_SECRET });
  sm.on(GetSecretValueCommand, { SecretId: 'arn:admin' }).resolves({ SecretString: JSON.stringify(ADMIN) });
  kms = mockKms({ [KEY_ARN]: rsaKey() });
});

afterAll(() => kms.restore());

const seed = () => createSeedHandler({ documentClient, tableName, secretsManager });
const token = () => createTokenHandler(tokenDepsFromEnv({ CLIENTS_TABLE_NAME: tableName(CLIENTS_TABLE), SCOPES_TABLE_NAME: tableName(SCOPES_TABLE), KMS_KEY_ID: KEY_ARN }));

const base = { ServiceToken: 'x', ResponseURL: 'https://example.org/', StackId: 'stack', RequestId: 'r', LogicalResourceId: 'SeedingDemoDataResource' };
const demoProperties = (demoData: 'on' | 'off') => ({
  ServiceToken: 'x',
  DemoData: demoData,
  ...(demoData === 'on' ? { WriterSecretArn: 'arn:writer' } : {}),
});
const demoEvent = (requestType: 'Create' | 'Update' | 'Delete', demoData: 'on' | 'off'): CloudFormationCustomResourceEvent =>
  ({
    ...base,
    ResourceType: DEMO_DATA_RESOURCE,
    RequestType: requestType,
    ResourceProperties: demoProperties(demoData),
    ...(requestType === 'Create' ? {} : { PhysicalResourceId: 'ccri-SeedingDemoDataResource' }),
    ...(requestType === 'Update' ? { OldResourceProperties: demoProperties(demoData === 'on' ? 'off' : 'on') } : {}),
  }) as CloudFormationCustomResourceEvent;

async function tokenStatuses(): Promise<Record<string, { status: number; error?: string }>> {
  const handler = token();
  const out: Record<string, { status: number; error?: string }> = {};
  for (const c of [...DEMO_CREDENTIALS, ADMIN]) {
    const event = tokenEvent({ grant_type: 'client_credentials' }, { Authorization: basicAuth(c.clientId, c.clientSecret) });
    // A new source address per call: the failed-authentication limit per IP (README, Hardening) is not under test.
    event.requestContext.identity.sourceIp = `198.51.100.${++calls % 250}`;
    const response = (await handler(event)) as APIGatewayProxyResult;
    out[c.clientId] = { status: response.statusCode, error: (JSON.parse(response.body) as { error?: string }).error };
  }
  return out;
}

const expectDemoClients = (statuses: Awaited<ReturnType<typeof tokenStatuses>>, expected: { status: number; error?: string }) => {
  for (const id of demoClientIds()) expect(statuses[id], id).toEqual(expected);
  expect(statuses[ADMIN.clientId], 'the admin client').toEqual({ status: 200, error: undefined });
};

describe('turning demo data off removes every demo client (seed custom resource + token function, DynamoDB Local)', () => {
  it('covers every client the demo data seeds', () => {
    expect(DEMO_CREDENTIALS.map((c) => c.clientId).sort()).toEqual(demoClientIds().sort());
    expect(demoClientIds()).toHaveLength(5);
  });

  it('create: the demo clients get tokens; update with demo off: 401 invalid_client for each; on again: they work', async () => {
    await seed()({ ...base, RequestType: 'Create', ResourceType: ADMIN_CLIENT_RESOURCE, ResourceProperties: { ServiceToken: 'x', AdminSecretArn: 'arn:admin' } });
    await seed()(demoEvent('Create', 'on'));
    expectDemoClients(await tokenStatuses(), { status: 200, error: undefined });

    const off = await seed()(demoEvent('Update', 'off'));
    expect(off.Data).toEqual({ removedClients: 5 });
    expectDemoClients(await tokenStatuses(), { status: 401, error: 'invalid_client' });
    const store = new DynamoClientStore(documentClient, tableName(CLIENTS_TABLE));
    for (const id of demoClientIds()) expect(await store.get(id), id).toBeUndefined();

    await seed()(demoEvent('Update', 'on'));
    expectDemoClients(await tokenStatuses(), { status: 200, error: undefined });
  });

  it('delete of the custom resource (demo data dropped, or the stack deleted with the tables retained): 401 invalid_client for each', async () => {
    await seed()(demoEvent('Create', 'on'));
    const deleted = await seed()(demoEvent('Delete', 'on'));
    expect(deleted).toEqual({ PhysicalResourceId: 'ccri-SeedingDemoDataResource', Data: { removedClients: 5 } });
    expectDemoClients(await tokenStatuses(), { status: 401, error: 'invalid_client' });
    // Idempotent: CloudFormation may send Delete again (a retried cleanup); nothing is left to remove.
    expect((await seed()(demoEvent('Delete', 'on'))).Data).toEqual({ removedClients: 0 });
  });

  it('refuses a DemoData value other than on/off (the deployment fails instead of guessing)', async () => {
    const event = { ...demoEvent('Update', 'off'), ResourceProperties: { ServiceToken: 'x', DemoData: 'false' } };
    await expect(seed()(event as CloudFormationCustomResourceEvent)).rejects.toThrow(/DemoData must be on or off/);
  });
});
