/**
 * Writes without a transaction, with faults injected between their steps (functions/store/repository.ts): a crash
 * never makes search return a wrong resource or miss a live one, and the orphan index items it leaves are deleted by
 * read repair once older than the grace period, so the index converges to the resources.
 */
import { BatchWriteCommand, DeleteCommand, GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { parseSearch } from '../../functions/fhir/search';
import { FhirService } from '../../functions/fhir/service';
import { shardOf } from '../../functions/store/index-layout';
import { ORPHAN_GRACE_MS } from '../../functions/store/search-engine';
import { reindexTable } from '../../functions/store/reindex';
import { serviceFixture } from '../fhir/service-fixture';

const fixture = serviceFixture();
const later = () => new Date(Date.now() + ORPHAN_GRACE_MS + 60_000);

/** A document client that fails the commands `fail` picks, once each time it says so. */
function faulty(db: DynamoDBDocumentClient, fail: (command: unknown) => boolean): DynamoDBDocumentClient {
  const wrapped = Object.create(db) as DynamoDBDocumentClient;
  wrapped.send = (async (command: never) => {
    if (fail(command)) throw Object.assign(new Error('injected crash'), { name: 'InjectedCrash' });
    return db.send(command);
  }) as typeof db.send;
  return wrapped;
}

async function nameIndex(id: string, value: string): Promise<string[]> {
  const out = await fixture.db.send(
    new QueryCommand({ TableName: fixture.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `Patient/_i/name/${shardOf(id)}` } }),
  );
  return (out.Items ?? []).map((i) => i.sk as string).filter((sk) => sk === `${value}#${id}`);
}

const patient = (id: string, family: string) => ({ resourceType: 'Patient', id, name: [{ family }] });

describe('a crash between the index items and the version', () => {
  it('leaves orphans that search never returns, and read repair deletes them', async () => {
    const id = `crash-${Date.now().toString(36)}`;
    const family = `orphan${Date.now().toString(36)}`;
    const crashing = faulty(fixture.db, (c) => c instanceof PutCommand && (c.input.Item as { sk?: string }).sk === 'v');
    await expect(new FhirService('Patient', fixture.repository({ documentClient: crashing })).update(id, patient(id, family), {})).rejects.toThrow(/injected/);
    expect(await nameIndex(id, family)).toHaveLength(1); // the orphan
    const search = () => fixture.service('Patient').search(parseSearch('Patient', { name: [family] }), {});
    expect((await search()).versions).toEqual([]);
    expect(await nameIndex(id, family)).toHaveLength(1); // too young to judge: a writer may still be on its way
    await new FhirService('Patient', fixture.repository({ now: later })).search(parseSearch('Patient', { name: [family] }), {});
    expect(await nameIndex(id, family)).toEqual([]);
  });
});

/**
 * A document client whose BatchWriteItem writes only the current version of each batch and reports every index item
 * unprocessed (what DynamoDB does under throttling), and that fails the commands `crash` picks (a dead writer).
 */
function throttlingIndex(db: DynamoDBDocumentClient, crash: (command: unknown) => boolean = () => false): DynamoDBDocumentClient {
  const wrapped = Object.create(db) as DynamoDBDocumentClient;
  wrapped.send = (async (command: never) => {
    if (crash(command)) throw Object.assign(new Error('injected crash'), { name: 'InjectedCrash' });
    if (!((command as unknown) instanceof BatchWriteCommand)) return db.send(command);
    const [table, requests] = Object.entries((command as BatchWriteCommand).input.RequestItems!)[0]!;
    const isVersion = (r: (typeof requests)[number]) => (r.PutRequest?.Item as { sk?: string } | undefined)?.sk === 'v';
    const versions = requests.filter(isVersion);
    if (versions.length > 0) await db.send(new BatchWriteCommand({ RequestItems: { [table]: versions } }));
    const rest = requests.filter((r) => !isVersion(r));
    return { UnprocessedItems: rest.length > 0 ? { [table]: rest } : {} };
  }) as typeof db.send;
  return wrapped;
}

describe('a create in one round trip (version and index items in one BatchWriteItem)', () => {
  const currentVersion = (id: string) => fixture.db.send(new GetCommand({ TableName: fixture.tableName, Key: { pk: `Patient/${id}`, sk: 'v' }, ConsistentRead: true }));

  it('is one BatchWriteItem and is found by search at once (read-your-writes)', async () => {
    const family = `onetrip${Date.now().toString(36)}`;
    const sent: string[] = [];
    const counting = Object.create(fixture.db) as DynamoDBDocumentClient;
    counting.send = ((command: { constructor: { name: string } }) => {
      sent.push(command.constructor.name);
      return fixture.db.send(command as never);
    }) as typeof fixture.db.send;
    const service = new FhirService('Patient', fixture.repository({ documentClient: counting }));
    const { version } = await service.create({ resourceType: 'Patient', name: [{ family }] }, {});
    expect(sent).toEqual(['BatchWriteCommand']);
    const found = await fixture.service('Patient').search(parseSearch('Patient', { name: [family] }), {});
    expect(found.versions.map((v) => v.id)).toEqual([version.id]);
  });

  it('whose index items stay unprocessed: the version is taken back, the client gets a 503, nothing unsearchable stays', async () => {
    const id = `throttled-${Date.now().toString(36)}`;
    const repository = fixture.repository({ documentClient: throttlingIndex(fixture.db), newId: () => id });
    await expect(repository.create('Patient', patient(id, `throttled${Date.now().toString(36)}`))).rejects.toMatchObject({ name: 'StoreUnavailableError', statusCode: 503 });
    expect((await currentVersion(id)).Item).toBeUndefined();
  }, 20_000);

  it('whose writer dies while retrying: the reconciler puts the missing index items back, and converges', async () => {
    const id = `dead-${Date.now().toString(36)}`;
    const family = `deadwriter${Date.now().toString(36)}`;
    // The writer's retries and its compensation fail: it died after DynamoDB had written the version only.
    let batches = 0;
    const dying = throttlingIndex(fixture.db, (c) => (c instanceof BatchWriteCommand && ++batches > 1) || c instanceof DeleteCommand);
    await expect(fixture.repository({ documentClient: dying, newId: () => id }).create('Patient', patient(id, family))).rejects.toThrow(/injected/);
    expect((await currentVersion(id)).Item).toBeDefined();
    const search = () => fixture.service('Patient').search(parseSearch('Patient', { name: [family] }), {});
    expect((await search()).versions).toEqual([]); // live but unindexed: what the reconciler is for
    const summary = await reindexTable({ documentClient: fixture.db, tableName: fixture.tableName });
    expect(summary.written).toBeGreaterThanOrEqual(2); // the listing and the name
    expect((await search()).versions.map((v) => v.id)).toEqual([id]);
    expect(await nameIndex(id, family)).toHaveLength(1);
    expect((await reindexTable({ documentClient: fixture.db, tableName: fixture.tableName })).written).toBe(0);
  }, 20_000);
});

describe('a crash before the old index items are deleted', () => {
  it('keeps the resource out of searches for its old value, and read repair converges', async () => {
    const id = `stale-${Date.now().toString(36)}`;
    const [before, after] = [`beforex${Date.now().toString(36)}`, `afterx${Date.now().toString(36)}`];
    await fixture.service('Patient').update(id, patient(id, before), {});
    const noDeletes = faulty(fixture.db, (c) => c instanceof DeleteCommand);
    await new FhirService('Patient', fixture.repository({ documentClient: noDeletes })).update(id, patient(id, after), {});
    expect(await nameIndex(id, before)).toHaveLength(1); // stale
    expect((await fixture.service('Patient').search(parseSearch('Patient', { name: [before] }), {})).versions).toEqual([]);
    expect((await fixture.service('Patient').search(parseSearch('Patient', { name: [after] }), {})).versions.map((v) => v.id)).toEqual([id]);
    await new FhirService('Patient', fixture.repository({ now: later })).search(parseSearch('Patient', { name: [before] }), {});
    expect(await nameIndex(id, before)).toEqual([]);
    expect(await nameIndex(id, after)).toHaveLength(1);
  });

  it('a later version that takes the value back keeps its index item (the guarded delete)', async () => {
    const id = `back-${Date.now().toString(36)}`;
    const [a, b] = [`alphax${Date.now().toString(36)}`, `bravox${Date.now().toString(36)}`];
    await fixture.service('Patient').update(id, patient(id, a), {});
    await fixture.service('Patient').update(id, patient(id, b), {});
    await fixture.service('Patient').update(id, patient(id, a), {});
    // replay the delete of version 2's step 4 (a slow writer): `v < 2` no longer holds, the item stays
    await fixture.db.send(new DeleteCommand({ TableName: fixture.tableName, Key: { pk: `Patient/_i/name/${shardOf(id)}`, sk: `${a}#${id}` }, ConditionExpression: 'v < :v', ExpressionAttributeValues: { ':v': 2 } })).catch(() => undefined);
    expect(await nameIndex(id, a)).toHaveLength(1);
    expect((await fixture.service('Patient').search(parseSearch('Patient', { name: [a] }), {})).versions.map((v) => v.id)).toEqual([id]);
  });
});
