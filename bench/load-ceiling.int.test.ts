/**
 * bench/load-ceiling.ts compares bulkLoad with the engine's ceiling for the same items: the comparison holds only if
 * both ways write exactly the same items. A smoke run on a tiny data set (no time asserted).
 */
import { paginateScan } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { benchDynamo, type BenchDynamo } from './dynamo';
import { loadCeiling } from './load-ceiling';

let dynamo: BenchDynamo;
beforeAll(async () => {
  dynamo = await benchDynamo(`ceiling${Date.now().toString(36)}-`);
}, 120_000);
afterAll(async () => dynamo?.stop());

/** Every key of a table, sorted; the change log's keys hold the load's time, which differs from run to run. */
async function keysOf(table: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const page of paginateScan({ client: dynamo.documentClient }, { TableName: table, ProjectionExpression: 'pk, sk' })) {
    for (const item of page.Items ?? []) {
      const sk = /\/_[cp]\//.test(String(item.pk)) ? String(item.sk).replace(/^[^#]+#/, '<lastUpdated>#') : item.sk;
      keys.push(`${item.pk} ${sk}`);
    }
  }
  return keys.sort();
}

describe('the bulk-load ceiling', () => {
  it('loads the same items into every table, by the bare client and by bulkLoad, four runs in the order ceiling, load, load, ceiling', async () => {
    const result = await loadCeiling(dynamo, 20);
    expect(result.runs.map((r) => r.run)).toEqual(['ceiling', 'load', 'load', 'ceiling']);
    expect(result.resources).toBeGreaterThan(20);
    expect(result.items).toBeGreaterThan(result.resources * 5);
    const [first, ...others] = await Promise.all(result.runs.map((r) => keysOf(r.table)));
    expect(first).toHaveLength(result.items);
    for (const keys of others) expect(keys).toEqual(first);
    expect(result.ceilingPerSecond).toBeGreaterThan(0);
    expect(result.loadPerSecond).toBeGreaterThan(0);
  }, 120_000);
});
