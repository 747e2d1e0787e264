/**
 * What the engine allows for a bulk load: the generated patients + conditions loaded through `bulkLoad` (the
 * repository's items, built as the batches go) against the engine's ceiling for the SAME items — every item built
 * and marshalled before the clock starts, sent with the bare DynamoDB client, 25 to a BatchWriteItem, as many calls
 * in flight. Each into its own fresh table, in the order ceiling, load, load, ceiling (so a drift of the machine's
 * load hits both alike), after an untimed warm-up of the engine.
 * `npx tsx bench/load-ceiling.ts [patients, default 10000]`; prints JSON lines.
 *
 * Not part of `npm run bench` (it loads the data set four times); docs/storage.md "Measured" has its figures, and
 * load-ceiling.int.test.ts checks that both ways write the same items.
 */
import { loadavg } from 'node:os';
import { BatchWriteItemCommand, DynamoDBClient, type WriteRequest } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { FHIR_TABLE } from '../contract/tables';
import { generatePatients } from '../functions/seed/demo-data';
import { BULK_CONCURRENCY, bulkLoad, seedItems } from '../functions/seed/loader';
import { createTables } from '../local/tables';
import { benchDynamo, type BenchDynamo } from './dynamo';

const WARM_UP_ITEMS = 30_000;

export interface CeilingRun {
  run: 'ceiling' | 'load';
  table: string;
  ms: number;
}

export interface CeilingResult {
  resources: number;
  /** The items the data set is stored as (the same for both ways in). */
  items: number;
  runs: CeilingRun[];
  ceilingPerSecond: number;
  loadPerSecond: number;
  /** bulkLoad's rate over the ceiling's, over both runs of each. */
  loadOfCeiling: number;
}

/** Loads `patients` generated patients (+ conditions) four times: ceiling, load, load, ceiling, each in a fresh table. */
export async function loadCeiling(dynamo: BenchDynamo, patients: number, log: (line: string) => void = () => {}): Promise<CeilingResult> {
  const raw = new DynamoDBClient({ endpoint: dynamo.endpoint });
  const data = generatePatients(patients, 2);
  const resources = [...data.patients, ...data.conditions];
  const lastUpdated = new Date().toISOString();
  let tables = 0;
  const freshTable = async (): Promise<string> => {
    const name = `${dynamo.prefix}ceiling${tables++}-${FHIR_TABLE.id}`;
    await createTables(raw, [FHIR_TABLE], () => name);
    return name;
  };
  const requests: WriteRequest[] = [];
  for (const r of resources) {
    for (const item of seedItems(r, lastUpdated)) requests.push({ PutRequest: { Item: marshall(item, { removeUndefinedValues: true }) } });
  }
  const ceiling = async (table: string, count = requests.length) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: BULK_CONCURRENCY }, async () => {
        while (next < count) {
          let batch = requests.slice(next, (next = Math.min(count, next + 25)));
          while (batch.length > 0) {
            const out = await raw.send(new BatchWriteItemCommand({ RequestItems: { [table]: batch } }));
            batch = out.UnprocessedItems?.[table] ?? [];
          }
        }
      }),
    );
  };
  const load = (tableName: string) => bulkLoad({ documentClient: dynamo.documentClient, tableName, resources });
  const perSecond = (ms: number) => Math.round(resources.length / (ms / 1000));
  const runs: CeilingRun[] = [];
  try {
    // Untimed: a fresh engine's first writes run slower while the JVM compiles its hot paths.
    await ceiling(await freshTable(), Math.min(requests.length, WARM_UP_ITEMS));
    for (const run of ['ceiling', 'load', 'load', 'ceiling'] as const) {
      const table = await freshTable();
      const start = performance.now();
      await (run === 'ceiling' ? ceiling(table) : load(table));
      const ms = performance.now() - start;
      runs.push({ run, table, ms });
      log(JSON.stringify({ run, resources: resources.length, seconds: +(ms / 1000).toFixed(1), resourcesPerSecond: perSecond(ms), loadavg: loadavg().map((x) => +x.toFixed(2)) }));
    }
  } finally {
    raw.destroy();
  }
  const total = (run: CeilingRun['run']) => runs.filter((r) => r.run === run).reduce((a, r) => a + r.ms, 0);
  return {
    resources: resources.length,
    items: requests.length,
    runs,
    ceilingPerSecond: perSecond(total('ceiling') / 2),
    loadPerSecond: perSecond(total('load') / 2),
    loadOfCeiling: +(total('ceiling') / total('load')).toFixed(3),
  };
}

if (process.argv[1]?.endsWith('bench/load-ceiling.ts')) {
  const dynamo = await benchDynamo();
  const result = await loadCeiling(dynamo, Number(process.argv[2] ?? 10_000), (line) => console.log(line));
  const { runs: _runs, ...summary } = result;
  console.log(
    JSON.stringify({
      ...summary,
      itemsPerResource: +(result.items / result.resources).toFixed(2),
      // the 100k data set (252,293 resources, bench P5) at each rate
      seconds100kAtCeiling: Math.round(252_293 / result.ceilingPerSecond),
      seconds100kAtLoad: Math.round(252_293 / result.loadPerSecond),
    }),
  );
  await dynamo.stop();
  process.exit(0);
}
