/**
 * A single-valued broad token folded into the listing's sort key (functions/store/index-layout.ts: Patient gender,
 * statuses): `gender=x` is a begins_with on the listing, the listing still lists every resource once, an update moves
 * the resource between values, and the upgrade from the earlier layout (`npm run migrate -- --reindex`) rewrites the
 * listing items and removes the old ones. On DynamoDB Local, through the repository and the search engine.
 */
import { DeleteCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { parseSearch } from '../../functions/fhir/search';
import { shardOf } from '../../functions/store/index-layout';
import { reindexTable } from '../../functions/store/reindex';
import { runSearch } from '../../functions/store/search-engine';
import { serviceFixture } from './service-fixture';

const fixture = serviceFixture();
const patient = (id: string, gender?: string) => ({ resourceType: 'Patient', id, name: [{ family: `F${id}` }], ...(gender ? { gender } : {}) });

/** Every id a search returns, following its pages (`_count` per page). */
async function allIds(query: Record<string, string[]>, count = 2): Promise<string[]> {
  const parsed = parseSearch('Patient', query);
  const ids: string[] = [];
  let positions: Parameters<typeof runSearch>[1]['positions'];
  for (let page = 0; page < 50; page++) {
    const out = await runSearch(fixture.repository(), { type: 'Patient', clauses: parsed.clauses, count, positions });
    ids.push(...out.versions.map((v) => v.id));
    if (!out.next) return ids.sort();
    positions = out.next;
  }
  throw new Error('too many pages');
}

async function listingKeys(id: string): Promise<string[]> {
  const out = await fixture.db.send(
    new QueryCommand({ TableName: fixture.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `Patient/_a/${shardOf(id)}` }, ConsistentRead: true }),
  );
  return (out.Items ?? []).map((i) => i.sk as string).filter((sk) => sk === id || sk.endsWith(`#${id}`));
}

describe('gender folded into the listing key', () => {
  const ids = { f1: 'lst-f1', f2: 'lst-f2', m1: 'lst-m1', u1: 'lst-u1', n1: 'lst-n1' };

  it('writes one listing item per resource, carrying the code, and no gender item of its own', async () => {
    const service = fixture.service('Patient');
    await service.update(ids.f1, patient(ids.f1, 'female'), {});
    await service.update(ids.f2, patient(ids.f2, 'female'), {});
    await service.update(ids.m1, patient(ids.m1, 'male'), {});
    await service.update(ids.u1, patient(ids.u1, 'unknown'), {});
    await service.update(ids.n1, patient(ids.n1), {});
    expect(await listingKeys(ids.f1)).toEqual([`female#${ids.f1}`]);
    expect(await listingKeys(ids.n1)).toEqual([ids.n1]);
    const genderItems = await fixture.db.send(
      new QueryCommand({ TableName: fixture.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `Patient/_i/gender=female/${shardOf(ids.f1)}` } }),
    );
    expect(genderItems.Items).toEqual([]);
  });

  it('finds by code, by system|code and by OR of codes, on every page; the listing lists everyone once', async () => {
    expect(await allIds({ gender: ['female'] })).toEqual([ids.f1, ids.f2]);
    expect(await allIds({ gender: ['http://hl7.org/fhir/administrative-gender|female'] })).toEqual([ids.f1, ids.f2]);
    expect(await allIds({ gender: ['other-system|female'] })).toEqual([]);
    expect(await allIds({ gender: ['male,unknown'] }, 1)).toEqual([ids.m1, ids.u1]);
    expect(await allIds({}, 2)).toEqual(Object.values(ids).sort());
    expect(await allIds({ gender: ['female'], name: ['Flst-f2'] })).toEqual([ids.f2]);
  });

  it('an update that changes the gender moves the resource: its old listing item is removed', async () => {
    await fixture.service('Patient').update(ids.f2, patient(ids.f2, 'male'), {});
    expect(await listingKeys(ids.f2)).toEqual([`male#${ids.f2}`]);
    expect(await allIds({ gender: ['female'] })).toEqual([ids.f1]);
    expect(await allIds({ gender: ['male'] })).toEqual([ids.f2, ids.m1]);
    await fixture.service('Patient').update(ids.f2, patient(ids.f2), {});
    expect(await listingKeys(ids.f2)).toEqual([ids.f2]);
    expect(await allIds({}, 3)).toEqual(Object.values(ids).sort());
  });

  it('a delete removes the listing item', async () => {
    await fixture.service('Patient').delete(ids.u1, {});
    expect(await listingKeys(ids.u1)).toEqual([]);
    expect(await allIds({ gender: ['unknown'] })).toEqual([]);
  });
});

describe('the upgrade from the earlier layout (npm run migrate -- --reindex)', () => {
  it('writes the new listing item, removes the listing and gender items of the earlier layout, and converges', async () => {
    const id = 'lst-old';
    await fixture.service('Patient').update(id, patient(id, 'female'), {});
    // The earlier layout: the listing item by id alone and a gender item of its own.
    const shard = shardOf(id);
    const old = [
      { pk: `Patient/_a/${shard}`, sk: id },
      { pk: `Patient/_i/gender=female/${shard}`, sk: `http:%2F%2Fhl7.org%2Ffhir%2Fadministrative-gender|${id}` },
    ];
    await fixture.db.send(new DeleteCommand({ TableName: fixture.tableName, Key: { pk: `Patient/_a/${shard}`, sk: `female#${id}` } }));
    // Written recently (read repair of the listing would delete an old one on its own: it is not this resource's key).
    for (const key of old) await fixture.db.send(new PutCommand({ TableName: fixture.tableName, Item: { ...key, t: Date.now(), v: 1 } }));
    expect(await allIds({ gender: ['female'] })).not.toContain(id); // what an upgraded API sees before the step
    expect(await allIds({})).not.toContain(id); // the old listing item is not this resource's: never returned

    const summary = await reindexTable({ documentClient: fixture.db, tableName: fixture.tableName });
    expect(summary.removed).toBe(2);
    expect(summary.written).toBeGreaterThanOrEqual(1);
    expect(await listingKeys(id)).toEqual([`female#${id}`]);
    for (const key of old) {
      const left = await fixture.db.send(new QueryCommand({ TableName: fixture.tableName, KeyConditionExpression: 'pk = :pk AND sk = :sk', ExpressionAttributeValues: { ':pk': key.pk, ':sk': key.sk } }));
      expect(left.Items).toEqual([]);
    }
    expect(await allIds({ gender: ['female'] })).toContain(id);
    expect((await allIds({})).filter((x) => x === id)).toHaveLength(1);
    expect(await reindexTable({ documentClient: fixture.db, tableName: fixture.tableName })).toMatchObject({ written: 0, removed: 0 });
  }, 20_000);

  it('leaves an old-layout item a newer write made (its version is ahead of the one read)', async () => {
    const id = 'lst-race';
    await fixture.service('Patient').update(id, patient(id, 'male'), {});
    const key = { pk: `Patient/_a/${shardOf(id)}`, sk: id };
    await fixture.db.send(new PutCommand({ TableName: fixture.tableName, Item: { ...key, t: 1, v: 2 } }));
    expect((await fixture.repository().reindexMissing('Patient', id)).removed).toBe(0);
    await fixture.db.send(new DeleteCommand({ TableName: fixture.tableName, Key: key }));
  });
});
