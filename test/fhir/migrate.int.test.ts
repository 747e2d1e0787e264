/** `npm run migrate`: the per-type tables of version 1 copied into the FHIR table, on DynamoDB Local. */
import { DeleteCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { GoneError, NotFoundError } from '../../functions/fhir/errors';
import { parseSearch } from '../../functions/fhir/search';
import { runMigrate } from '../../cli/migrate';
import { FHIR_TABLE, localTableName } from '../../contract/tables';
import { createTestTables, testDocumentClient } from '../support/dynamodb';
import { serviceFixture } from './service-fixture';

const fixture = serviceFixture();
const db = testDocumentClient();
const oldPrefix = `old${Date.now().toString(36)}-`;
const oldTable = (type: string) => ({ id: `Resource${type}`, description: 'v1', ttlAttribute: 'expiresAt' });

/** The items version 1 wrote for a resource: CURRENT, V#<n> per version, an index item. */
async function putV1(type: string, id: string, versions: { resource?: Record<string, unknown>; method: string }[]) {
  const TableName = `${oldPrefix}Resource${type}`;
  for (const [i, v] of versions.entries()) {
    const versionId = i + 1;
    const item = {
      versionId,
      lastUpdated: `2024-01-0${versionId}T00:00:00.000Z`,
      deleted: !v.resource,
      ...(v.resource ? { resource: JSON.stringify({ ...v.resource, id, meta: { versionId: String(versionId) } }) } : {}),
    };
    await db.send(new PutCommand({ TableName, Item: { pk: `R#${id}`, sk: `V#${String(versionId).padStart(10, '0')}`, ...item, method: v.method } }));
    if (versionId === versions.length) await db.send(new PutCommand({ TableName, Item: { pk: `R#${id}`, sk: 'CURRENT', ...item } }));
  }
  await db.send(new PutCommand({ TableName, Item: { pk: 'I#_all', sk: id, id } }));
}

beforeAll(async () => {
  await createTestTables([oldTable('Patient'), oldTable('Condition')], oldPrefix);
  await putV1('Patient', 'm1', [
    { resource: { resourceType: 'Patient', name: [{ family: 'Before' }] }, method: 'POST' },
    { resource: { resourceType: 'Patient', name: [{ family: 'Migrated' }], gender: 'female' }, method: 'PUT' },
  ]);
  await putV1('Condition', 'mc1', [
    { resource: { resourceType: 'Condition', subject: { reference: 'Patient/m1' } }, method: 'POST' },
    { method: 'DELETE' },
  ]);
});

describe('npm run migrate', () => {
  it('copies every version, rebuilds the index, keeps a deletion in its compartment; a rerun changes nothing', async () => {
    const lines: string[] = [];
    const argv = [`--table=${fixture.tableName}`, `--old-prefix=${oldPrefix}`];
    expect(await runMigrate(argv, (l) => lines.push(l))).toEqual({ Patient: 1, Condition: 1 });
    expect(lines[0]).toMatch(/migrating 2 per-type tables/);
    const patients = fixture.service('Patient');
    const current = await patients.read('m1', {});
    expect(current).toMatchObject({ versionId: 2, lastUpdated: '2024-01-02T00:00:00.000Z' });
    expect((await patients.vread('m1', '1', {})).resource!.name).toEqual([{ family: 'Before' }]);
    expect((await patients.history('m1', 10, undefined, {})).versions.map((v) => [v.versionId, v.method])).toEqual([
      [2, 'PUT'],
      [1, 'POST'],
    ]);
    expect((await patients.search(parseSearch('Patient', { family: ['migrated'], gender: ['female'] }), {})).versions.map((v) => v.id)).toEqual(['m1']);
    expect((await patients.search(parseSearch('Patient', { family: ['before'] }), {})).versions).toEqual([]);
    const conditions = fixture.service('Condition');
    await expect(conditions.read('mc1', { compartmentPatient: 'm1' })).rejects.toBeInstanceOf(GoneError);
    await expect(conditions.read('mc1', { compartmentPatient: 'other' })).rejects.toBeInstanceOf(NotFoundError);
    await runMigrate(argv, () => {});
    expect((await patients.read('m1', {})).versionId).toBe(2);
  });

  it('refuses to run without a target and a source', async () => {
    await expect(runMigrate([`--table=${localTableName(FHIR_TABLE, 'x')}`])).rejects.toThrow(/usage/);
    await expect(runMigrate(['--reindex'])).rejects.toThrow(/usage/);
  });

  it('--reindex: checks every current version and writes back only what is missing (nothing on a sound table)', async () => {
    const lines: string[] = [];
    const summary = await runMigrate([`--table=${fixture.tableName}`, '--reindex'], (l) => lines.push(l));
    expect(summary.resources).toBeGreaterThan(0);
    expect(summary.written).toBe(0);
    expect(lines.at(-1)).toMatch(/^done: \d+ resources, 0 index items written back$/);
  });

  it('--reindex writes back the patients’ change logs a table written before them lacks: every version, a deleted resource’s too', async () => {
    const log = { type: 'Condition', patient: 'm1' } as const;
    const repository = fixture.repository();
    const before = await repository.queryChanges(log, undefined, undefined, 10);
    expect(before.sks).toHaveLength(2); // mc1: created in m1's compartment, then deleted (the deletion keeps it)
    // The table as an earlier version left it: no patient's log.
    const items = await db.send(new QueryCommand({ TableName: fixture.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'Condition/_p/m1' } }));
    for (const item of items.Items ?? []) await db.send(new DeleteCommand({ TableName: fixture.tableName, Key: { pk: item.pk, sk: item.sk } }));
    expect((await repository.queryChanges(log, undefined, undefined, 10)).sks).toEqual([]);
    const summary = await runMigrate([`--table=${fixture.tableName}`, '--reindex'], () => {});
    expect(summary.written).toBe(2);
    expect((await repository.queryChanges(log, undefined, undefined, 10)).sks).toEqual(before.sks);
  });
});
