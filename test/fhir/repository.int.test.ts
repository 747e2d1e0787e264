/**
 * The repository and the FHIR service on the real DynamoDB Local engine: versions, history, the index kept in step
 * by transactions, paging, totals, and concurrency (If-Match races, retried updates, conditional creates).
 */
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { GoneError, NotFoundError, PreconditionFailedError, ForbiddenError } from '../../functions/fhir/errors';
import { parseSearch } from '../../functions/fhir/search';
import { lockKey, parseIfNoneExist } from '../../functions/fhir/service';
import { shardOf } from '../../functions/store/index-layout';
import type { Position } from '../../functions/store/search-engine';
import { serviceFixture } from './service-fixture';

const fixtureForCrossType = serviceFixture();
const { db, tableName, service } = fixtureForCrossType;
const patientService = service('Patient');
const conditionService = service('Condition');

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

describe('versions and history', () => {
  it('creates version 1 with server-owned meta and the Care Connect profile', async () => {
    const { version, created } = await patientService.create(
      { ...patient('Alpha'), meta: { versionId: '99', lastUpdated: '2000-01-01T00:00:00Z' } },
      {},
    );
    expect(created).toBe(true);
    expect(version.versionId).toBe(1);
    expect(version.resource!.meta).toEqual({
      versionId: '1',
      lastUpdated: version.lastUpdated,
      profile: ['https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Patient-1'],
    });
    expect(version.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('updates to version 2, moves the index with the resource and keeps version 1 readable', async () => {
    const { version } = await patientService.create(patient('Bravo'), {});
    const id = version.id;
    expect(await indexItems(id)).toEqual([`bravo#${id}`]);
    const updated = await patientService.update(id, { ...patient('Charlie'), id }, {});
    expect(updated.version.versionId).toBe(2);
    expect(updated.created).toBe(false);
    expect(await indexItems(id)).toEqual([`charlie#${id}`]);
    expect((await patientService.vread(id, '1', {})).resource!.name).toEqual([{ use: 'official', family: 'Bravo', given: ['Ann'] }]);
    expect((await patientService.read(id, {})).versionId).toBe(2);
  });

  it('deletes: 410 on read, index emptied, history kept newest first, delete again is a no-op', async () => {
    const { version } = await patientService.create(patient('Delta'), {});
    const id = version.id;
    await patientService.delete(id, {});
    await expect(patientService.read(id, {})).rejects.toBeInstanceOf(GoneError);
    await expect(patientService.vread(id, '2', {})).rejects.toBeInstanceOf(GoneError);
    expect(await indexItems(id)).toEqual([]);
    await patientService.delete(id, {});
    const history = await patientService.history(id, 10, undefined, {});
    expect(history.versions.map((v) => [v.versionId, v.deleted, v.method])).toEqual([
      [2, true, 'DELETE'],
      [1, false, 'POST'],
    ]);
    const search = await patientService.search(parseSearch('Patient', { family: ['delta'] }), {});
    expect(search.versions.map((v) => v.id)).not.toContain(id);
  });

  it('update of an unknown id creates it with the client id (update-as-create)', async () => {
    const result = await patientService.update('client-chosen-1', { ...patient('Echo'), id: 'client-chosen-1' }, {});
    expect(result.created).toBe(true);
    expect(result.version.versionId).toBe(1);
  });

  it('404 for an id never written and for an unknown version', async () => {
    await expect(patientService.read('nope', {})).rejects.toBeInstanceOf(NotFoundError);
    await expect(patientService.vread('client-chosen-1', '9', {})).rejects.toBeInstanceOf(NotFoundError);
  });

  it('If-Match with a stale version is a 412', async () => {
    const { version } = await patientService.create(patient('Foxtrot'), {});
    await patientService.update(version.id, { ...patient('Foxtrot2'), id: version.id }, {}, 1);
    await expect(patientService.update(version.id, { ...patient('Foxtrot3'), id: version.id }, {}, 1)).rejects.toBeInstanceOf(
      PreconditionFailedError,
    );
  });
});

describe('search', () => {
  const family = `Paging${Date.now()}`;
  const ids: string[] = [];

  beforeAll(async () => {
    for (let i = 0; i < 25; i++) ids.push((await patientService.create(patient(family, { gender: i % 2 ? 'male' : 'female' }), {})).version.id);
    ids.sort();
  });

  it('pages through every match once, with DynamoDB\'s own cursor, the total by _summary=count', async () => {
    const seen: string[] = [];
    let positions: Position[] | undefined;
    let pages = 0;
    do {
      const result = await patientService.search(parseSearch('Patient', { family: [family.toLowerCase()], _count: ['10'] }), {}, positions);
      expect(result.versions.length).toBeLessThanOrEqual(10);
      seen.push(...result.versions.map((v) => v.id));
      positions = result.next;
      pages++;
    } while (positions);
    expect(pages).toBeGreaterThanOrEqual(3);
    expect([...seen].sort()).toEqual(ids);
    expect((await patientService.search(parseSearch('Patient', { family: [family], _summary: ['count'] }), {})).total).toBe(25);
  });

  it('intersects parameters (AND) and unions comma-separated values (OR)', async () => {
    const and = await patientService.search(parseSearch('Patient', { family: [family], gender: ['male'], _count: ['100'] }), {});
    expect(and.total).toBe(12);
    const or = await patientService.search(parseSearch('Patient', { family: [family], gender: ['male,female'], _count: ['100'] }), {});
    expect(or.total).toBe(25);
    const both = await patientService.search(parseSearch('Patient', { gender: ['male,female'], name: [family], _summary: ['count'] }), {});
    expect(both.total).toBe(25);
  });

  it('constrains a search to the patient compartment', async () => {
    const result = await patientService.search(parseSearch('Patient', { family: [family] }), { compartmentPatient: ids[3]! });
    expect(result.total).toBe(1);
    expect(result.versions[0]!.id).toBe(ids[3]);
  });
});

describe('patient compartment on writes and reads', () => {
  it('hides another patient’s condition (404) and refuses writing it (403)', async () => {
    const { version } = await conditionService.create({ resourceType: 'Condition', subject: { reference: 'Patient/p1' } }, {});
    await expect(conditionService.read(version.id, { compartmentPatient: 'p2' })).rejects.toBeInstanceOf(NotFoundError);
    expect((await conditionService.read(version.id, { compartmentPatient: 'p1' })).id).toBe(version.id);
    await expect(
      conditionService.create({ resourceType: 'Condition', subject: { reference: 'Patient/p1' } }, { compartmentPatient: 'p2' }),
    ).rejects.toBeInstanceOf(ForbiddenError);
    await expect(
      conditionService.update(version.id, { resourceType: 'Condition', id: version.id, subject: { reference: 'Patient/p2' } }, { compartmentPatient: 'p2' }),
    ).rejects.toBeInstanceOf(ForbiddenError);
    await expect(conditionService.delete(version.id, { compartmentPatient: 'p2' })).rejects.toBeInstanceOf(ForbiddenError);
  });
});

describe('concurrency', () => {
  it('50 concurrent updates with the same If-Match: exactly one succeeds, the others get 412', async () => {
    const { version } = await patientService.create(patient('Golf'), {});
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => patientService.update(version.id, { ...patient(`Golf${i}`), id: version.id }, {}, 1)),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results.filter((r) => r.status === 'rejected')) {
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(PreconditionFailedError);
    }
    expect((await patientService.read(version.id, {})).versionId).toBe(2);
  });

  it('50 concurrent updates without If-Match make 50 versions and leave one consistent index entry', async () => {
    const { version } = await patientService.create(patient('Hotel'), {});
    await Promise.all(Array.from({ length: 50 }, (_, i) => patientService.update(version.id, { ...patient(`Hotel${i}`), id: version.id }, {})));
    const current = await patientService.read(version.id, {});
    expect(current.versionId).toBe(51);
    const family = (current.resource!.name as { family: string }[])[0]!.family.toLowerCase();
    expect(await indexItems(version.id)).toEqual([`${family}#${version.id}`]);
  }, 60_000);

  it('concurrent conditional creates with the same If-None-Exist make one resource', async () => {
    const value = `cc-${Date.now()}`;
    const body = { ...patient('India'), identifier: [{ system: 'urn:test', value }] };
    const results = await Promise.all(
      Array.from({ length: 10 }, () => patientService.create(body, {}, `identifier=urn:test|${value}`)),
    );
    expect(new Set(results.map((r) => r.version.id)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const search = await patientService.search(parseSearch('Patient', { identifier: [`urn:test|${value}`] }), {});
    expect(search.total).toBe(1);
  });

  it('conditional create after the match was deleted creates again (stale lock replaced)', async () => {
    const value = `cc2-${Date.now()}`;
    const body = { ...patient('Juliet'), identifier: [{ system: 'urn:test', value }] };
    const first = await patientService.create(body, {}, `identifier=urn:test|${value}`);
    await patientService.delete(first.version.id, {});
    const second = await patientService.create(body, {}, `identifier=urn:test|${value}`);
    expect(second.created).toBe(true);
    expect(second.version.id).not.toBe(first.version.id);
  });

  it('If-None-Exist matching several resources is a 412; matching one returns it', async () => {
    const value = `dup-${Date.now()}`;
    const body = { ...patient('Kilo'), identifier: [{ system: 'urn:test', value }] };
    const one = await patientService.create(body, {});
    const again = await patientService.create(body, {}, `identifier=${value}`);
    expect(again).toMatchObject({ created: false, version: { id: one.version.id } });
    await patientService.create(body, {});
    await expect(patientService.create(body, {}, `identifier=${value}`)).rejects.toBeInstanceOf(PreconditionFailedError);
  });

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

describe('cross-type reads and writes (the seams of issue 15)', () => {
  const { repository } = fixtureForCrossType;
  it('writes a Patient and its Condition in one transaction, reads both in one call', async () => {
    const repo = repository();
    const p = `tx-${Date.now().toString(36)}`;
    const results = await repo.writeAll([
      { type: 'Patient', id: p, resource: { resourceType: 'Patient', name: [{ family: 'Txn' }] } },
      { type: 'Condition', id: `${p}-c`, resource: { resourceType: 'Condition', subject: { reference: `Patient/${p}` } } },
    ]);
    expect(results.map((r) => [r.version.type, r.version.versionId, r.created])).toEqual([
      ['Patient', 1, true],
      ['Condition', 1, true],
    ]);
    expect((await repo.readRefs([{ type: 'Condition', id: `${p}-c` }, { type: 'Patient', id: p }])).map((v) => `${v.type}/${v.id}`)).toEqual([`Condition/${p}-c`, `Patient/${p}`]);
    expect((await service('Condition').search(parseSearch('Condition', { patient: [p] }), {})).versions).toHaveLength(1);
  });

  it('is all or nothing: a stale If-Match on one entry writes none', async () => {
    const repo = repository();
    const p = `tx2-${Date.now().toString(36)}`;
    await repo.writeAll([{ type: 'Patient', id: p, resource: { resourceType: 'Patient' } }]);
    await expect(
      repo.writeAll([
        { type: 'Condition', id: `${p}-c`, resource: { resourceType: 'Condition', subject: { reference: `Patient/${p}` } } },
        { type: 'Patient', id: p, resource: { resourceType: 'Patient', gender: 'male' }, ifMatch: 7 },
      ]),
    ).rejects.toBeInstanceOf(PreconditionFailedError);
    expect(await repo.read('Condition', `${p}-c`)).toBeUndefined();
  });

  it('refuses a transaction over 100 DynamoDB items before writing anything (413)', async () => {
    const entries = Array.from({ length: 40 }, (_, i) => ({ type: 'Patient' as const, id: `big-${i}-${Date.now().toString(36)}`, resource: { resourceType: 'Patient', name: [{ family: 'Big' }] } }));
    await expect(repository().writeAll(entries)).rejects.toThrow(/at most 100/);
    expect(await repository().read('Patient', entries[0]!.id)).toBeUndefined();
  });
});
