/**
 * The DynamoDB repository on the real DynamoDB Local engine. The behaviour suite every FhirRepository passes
 * (functions/store/fhir-repository-contract.fixture.ts: versions, history, search, the compartment, conditional
 * creates, concurrency, transactions), then what only DynamoDB has: the index items kept in step by transactions and
 * the conditional-create lock items expiring by TTL.
 */
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { parseIfNoneExist, lockKey } from '../../functions/fhir/service';
import { describeFhirRepositoryContract } from '../../functions/store/fhir-repository-contract.fixture';
import { shardOf } from '../../functions/store/index-layout';
import { serviceFixture } from './service-fixture';

const { db, tableName, service, repository } = serviceFixture();
const patientService = service('Patient');

describeFhirRepositoryContract('DynamoFhirRepository', () => repository());

const patient = (family: string, extra: Record<string, unknown> = {}) => ({
  resourceType: 'Patient',
  name: [{ use: 'official', family, given: ['Ann'] }],
  gender: 'female',
  ...extra,
});

/** The `name` index items of a patient other than its given name Ann. */
async function indexItems(id: string) {
  const out = await db.send(
    new QueryCommand({ TableName: tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `Patient/_i/name/${shardOf(id)}` } }),
  );
  return (out.Items ?? []).map((i) => i.sk as string).filter((sk) => sk.endsWith(`#${id}`) && !sk.startsWith('ann#'));
}

describe('DynamoFhirRepository: its index items', () => {
  it('moves the index items with the resource on update, and empties them on delete', async () => {
    const { version } = await patientService.create(patient('Bravo'), {});
    const id = version.id;
    expect(await indexItems(id)).toEqual([`bravo#${id}`]);
    await patientService.update(id, { ...patient('Charlie'), id }, {});
    expect(await indexItems(id)).toEqual([`charlie#${id}`]);
    await patientService.delete(id, {});
    expect(await indexItems(id)).toEqual([]);
  });

  // The contract suite races 50 updates and checks what search sees; this looks at the items themselves.
  it('20 concurrent updates without If-Match leave one consistent index entry', async () => {
    const { version } = await patientService.create(patient('Hotel'), {});
    await Promise.all(Array.from({ length: 20 }, (_, i) => patientService.update(version.id, { ...patient(`Hotel${i}`), id: version.id }, {})));
    const current = await patientService.read(version.id, {});
    expect(current.versionId).toBe(21);
    const family = (current.resource!.name as { family: string }[])[0]!.family.toLowerCase();
    expect(await indexItems(version.id)).toEqual([`${family}#${version.id}`]);
  }, 60_000);
});

describe('DynamoFhirRepository: conditional-create locks', () => {
  it('takes a lock item that expires by DynamoDB TTL (expiresAt, epoch seconds)', async () => {
    const value = `ttl-${Date.now()}`;
    const query = `identifier=urn:test|${value}`;
    const created = await patientService.create({ ...patient('Lima'), identifier: [{ system: 'urn:test', value }] }, {}, query);
    const key = lockKey(parseIfNoneExist('Patient', query));
    const out = await db.send(new GetCommand({ TableName: tableName, Key: { pk: `Patient/_l/${key}`, sk: 'lock' } }));
    expect(out.Item).toMatchObject({ resourceId: created.version.id });
    const now = Math.floor(Date.now() / 1000);
    expect(out.Item!.expiresAt).toBeGreaterThan(now);
    expect(out.Item!.expiresAt).toBeLessThanOrEqual(now + 31);
  });
});
