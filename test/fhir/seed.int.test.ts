/** Loading data on the real DynamoDB Local engine: the idempotent demo load, the custom resource, the bulk loader. */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoClientStore, secretMatches } from '../../functions/oauth/clients';
import { seedDeployedClients } from '../../functions/seed/clients';
import type { ResourceType } from '../../contract/resource-types';
import { parseSearch } from '../../functions/fhir/search';
import { FhirService } from '../../functions/fhir/service';
import { demoResources, generatePatients } from '../../functions/seed/demo-data';
import { ADMIN_CLIENT_RESOURCE, createSeedHandler, DEMO_DATA_RESOURCE } from '../../functions/seed/handler';
import { bulkLoad, loadDemoData } from '../../functions/seed/loader';
import { FhirRepository } from '../../functions/store/repository';
import { CLIENTS_TABLE, FHIR_TABLE, localTableName, type TableSpec } from '../../contract/tables';
import { createTestTables, testDocumentClient, uniquePrefix } from '../support/dynamodb';

const documentClient = testDocumentClient();

const tableFor = (prefix: string) => localTableName(FHIR_TABLE, prefix);

const service = (prefix: string, type: ResourceType) => new FhirService(type, new FhirRepository({ documentClient, tableName: tableFor(prefix) }));

describe('loadDemoData', () => {
  const prefix = uniquePrefix();
  beforeAll(() => createTestTables([FHIR_TABLE], prefix));

  it('loads every demo resource once, and a second run changes nothing', async () => {
    const first = await loadDemoData({ documentClient, tableName: tableFor(prefix) });
    expect(first).toEqual({ written: demoResources().length, unchanged: 0 });
    const second = await loadDemoData({ documentClient, tableName: tableFor(prefix) });
    expect(second).toEqual({ written: 0, unchanged: demoResources().length });
    const patient = await service(prefix, 'Patient').read('1', {});
    expect(patient.versionId).toBe(1);
  });

  it('runs as the CloudFormation custom resources: Create and Update seed, Delete removes the demo clients, an unknown type fails', async () => {
    const clientsPrefix = prefix;
    await createTestTables([CLIENTS_TABLE], clientsPrefix);
    const secretsManager = new SecretsManagerClient({ region: 'eu-west-2' });
    const sm = mockClient(secretsManager);
    sm.on(GetSecretValueCommand, { SecretId: 'arn:writer' }).resolves({ SecretString: 'writer-secret' });
    sm.on(GetSecretValueCommand, { SecretId: 'arn:admin' }).resolves({ SecretString: JSON.stringify({ clientId: 'ops-admin', clientSecret: 'admin-secret' }) });
    const tableName = (spec: TableSpec) => localTableName(spec, clientsPrefix);
    const handler = createSeedHandler({ documentClient, tableName, secretsManager });
    const base = { ServiceToken: 'x', ResponseURL: 'x', StackId: 's', RequestId: 'r', LogicalResourceId: 'Seed' };

    const demo = { ...base, ResourceType: DEMO_DATA_RESOURCE, ResourceProperties: { ServiceToken: 'x', WriterSecretArn: 'arn:writer' } };
    const created = await handler({ ...demo, RequestType: 'Create' });
    expect(created).toEqual({ PhysicalResourceId: 'ccri-Seed', Data: { written: 0, unchanged: demoResources().length, writerClientId: 'ccri-demo-writer' } });
    const updated = await handler({ ...demo, RequestType: 'Update', PhysicalResourceId: 'ccri-Seed', OldResourceProperties: { ServiceToken: 'x' } });
    expect(updated.Data).toMatchObject({ written: 0 });

    const admin = { ...base, ResourceType: ADMIN_CLIENT_RESOURCE, ResourceProperties: { ServiceToken: 'x', AdminSecretArn: 'arn:admin' } };
    expect(await handler({ ...admin, RequestType: 'Create' })).toEqual({ PhysicalResourceId: 'ccri-Seed', Data: { adminClientId: 'ops-admin' } });
    const store = new DynamoClientStore(documentClient, tableName(CLIENTS_TABLE));
    const adminRecord = await store.get('ops-admin');
    expect(adminRecord?.scopes).toEqual(['ccri/admin']);
    expect(secretMatches(adminRecord!.secrets, 'admin-secret', new Date())).toBe(true);
    expect(JSON.stringify(adminRecord)).not.toContain('admin-secret');
    expect(secretMatches((await store.get('ccri-demo-writer'))!.secrets, 'writer-secret', new Date())).toBe(true);

    expect(await handler({ ...demo, RequestType: 'Delete', PhysicalResourceId: 'ccri-Seed' })).toEqual({ PhysicalResourceId: 'ccri-Seed', Data: { removedClients: 5 } });
    expect(await store.get('ops-admin')).toBeDefined(); // test/deploy/demo-data-off.int.test.ts: the demo clients are gone
    await expect(handler({ ...base, ResourceType: 'Custom::Other', ResourceProperties: { ServiceToken: 'x' }, RequestType: 'Create' })).rejects.toThrow(/Custom::Other/);
    await expect(handler({ ...admin, ResourceProperties: { ServiceToken: 'x' }, RequestType: 'Create' })).rejects.toThrow(/AdminSecretArn/);
  });
});

describe('bulkLoad', () => {
  const prefix = uniquePrefix();
  beforeAll(() => createTestTables([FHIR_TABLE], prefix));

  it('writes generated patients and conditions that search finds with exact totals', async () => {
    const { patients, conditions } = generatePatients(400, 11);
    const progress: number[] = [];
    await bulkLoad({ documentClient, tableName: tableFor(prefix), resources: [...patients, ...conditions], onProgress: (done) => progress.push(done) });
    expect(progress.at(-1)).toBe(patients.length + conditions.length);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    const all = await service(prefix, 'Patient').search(parseSearch('Patient', { _count: ['0'] }), {});
    expect(all.total).toBe(400);
    const females = patients.filter((p) => p.gender === 'female').length;
    expect((await service(prefix, 'Patient').search(parseSearch('Patient', { gender: ['female'], _summary: ['count'] }), {})).total).toBe(females);
    const owner = patients[17]!.id;
    const theirs = conditions.filter((c) => (c.subject as { reference: string }).reference === `Patient/${owner}`).length;
    expect((await service(prefix, 'Condition').search(parseSearch('Condition', { patient: [owner], _summary: ['count'] }), {})).total).toBe(theirs);
    const read = await service(prefix, 'Patient').read(owner, {});
    expect(read.resource!.meta).toMatchObject({ versionId: '1' });
    // a bulk-loaded resource updates like any other
    const updated = await service(prefix, 'Patient').update(owner, { ...read.resource!, gender: 'other' }, {});
    expect(updated.version.versionId).toBe(2);
  });
});

describe('seedDeployedClients', () => {
  const prefix = uniquePrefix();
  beforeAll(() => createTestTables([CLIENTS_TABLE], prefix));

  it('stores the demo clients and the writer with the hash of its generated secret from Secrets Manager', async () => {
    const secretsManager = new SecretsManagerClient({ region: 'eu-west-2' });
    const sm = mockClient(secretsManager);
    sm.on(GetSecretValueCommand, { SecretId: 'arn:writer' }).resolves({ SecretString: 'generated-secret-value' });
    const clientsTableName = localTableName(CLIENTS_TABLE, prefix);
    const writerId = await seedDeployedClients({ documentClient, clientsTableName, writerSecretArn: 'arn:writer', secretsManager });
    expect(writerId).toBe('ccri-demo-writer');
    const store = new DynamoClientStore(documentClient, clientsTableName);
    const writer = await store.get(writerId);
    expect(writer?.scopes).toEqual(['system/*.read', 'system/*.write']);
    expect(secretMatches(writer!.secrets, 'generated-secret-value', new Date())).toBe(true);
    expect(JSON.stringify(writer)).not.toContain('generated-secret-value');
    expect(await store.get('ccri-demo-patient-1')).toMatchObject({ patient: '1' });
  });
});
