/**
 * bulkLoad (functions/seed/loader.ts) packs the repository's own items 25 to a BatchWriteItem across resources: every
 * call but the last is full, and what it writes is exactly what the repository would write for each resource.
 */
import { BatchWriteCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { FHIR_TABLE, localTableName } from '../../contract/tables';
import { generatePatients } from '../../functions/seed/demo-data';
import { bulkLoad } from '../../functions/seed/loader';
import { firstVersionItems } from '../../functions/store/writes';
import type { ResourceType } from '../../contract/resource-types';
import { definitionOf } from '../../functions/fhir/definitions';
import { createTestTables, testDocumentClient, uniquePrefix } from '../support/dynamodb';

const prefix = uniquePrefix();
const db = testDocumentClient();
const tableName = localTableName(FHIR_TABLE, prefix);
beforeAll(() => createTestTables([FHIR_TABLE], prefix));

describe('bulkLoad', () => {
  it('fills every BatchWriteItem (25 items) across resources and writes exactly the repository items', async () => {
    const { patients, conditions } = generatePatients(60, 3);
    const resources = [...patients, ...conditions];
    const calls: number[] = [];
    const counting = Object.create(db) as DynamoDBDocumentClient;
    counting.send = ((command: unknown) => {
      if (command instanceof BatchWriteCommand) calls.push(Object.values(command.input.RequestItems!)[0]!.length);
      return db.send(command as never);
    }) as typeof db.send;
    const progress: number[] = [];
    expect(await bulkLoad({ documentClient: counting, tableName, resources, concurrency: 4, onProgress: (done) => progress.push(done) })).toBe(resources.length);

    const expected = resources.flatMap((r) =>
      firstVersionItems(r.resourceType as ResourceType, { ...r, meta: { profile: [definitionOf(r.resourceType as ResourceType).profile] } }, 'x').map((i) => `${i.pk}\n${i.sk}`),
    );
    expect(calls.reduce((a, b) => a + b, 0)).toBe(expected.length);
    expect(calls.length).toBe(Math.ceil(expected.length / 25));
    expect(calls.filter((n) => n < 25).length).toBeLessThanOrEqual(1);
    expect(progress.at(-1)).toBe(resources.length);

    const stored: string[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await db.send(new ScanCommand({ TableName: tableName, ProjectionExpression: 'pk, sk', ExclusiveStartKey: start }));
      for (const i of page.Items ?? []) stored.push(`${i.pk}\n${i.sk}`);
      start = page.LastEvaluatedKey;
    } while (start);
    // the change-log keys (the type's and the patients') carry the load's timestamp: compare everything else
    // exactly, and count those
    const noClock = (k: string) => !k.includes('/_c/') && !k.includes('/_p/');
    expect(stored.filter(noClock).sort()).toEqual(expected.filter(noClock).sort());
    expect(stored.filter((k) => k.includes('/_c/'))).toHaveLength(resources.length);
    expect(stored.filter((k) => !noClock(k))).toHaveLength(expected.filter((k) => !noClock(k)).length);
  });
});
