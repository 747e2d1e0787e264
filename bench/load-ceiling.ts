/**
 * What the engine allows for a bulk load: the generated patients + conditions loaded through `bulkLoad` (the
 * repository's items, built as the batches go) against the engine's ceiling for the SAME items — every item built
 * and marshalled before the clock starts, sent with the bare DynamoDB client, 25 to a BatchWriteItem, as many calls
 * in flight. Each into its own fresh table, in the order ceiling, load, load, ceiling (so a drift of the machine's
 * load hits both alike). `npx tsx bench/load-ceiling.ts [patients, default 10000]`; prints JSON lines.
 *
 * Not part of `npm run bench` (it loads the data set four times); docs/storage.md "Measured" has its figures.
 */
import { loadavg } from 'node:os';
import { BatchWriteItemCommand, DynamoDBClient, type WriteRequest } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { ResourceType } from '../contract/resource-types';
import { FHIR_TABLE } from '../contract/tables';
import { definitionOf } from '../functions/fhir/definitions';
import { generatePatients } from '../functions/seed/demo-data';
import { bulkLoad } from '../functions/seed/loader';
import { firstVersionItems } from '../functions/store/writes';
import { createTables } from '../local/tables';
import { benchDynamo } from './dynamo';

const CONCURRENCY = 32;
const patients = Number(process.argv[2] ?? 10_000);
const dynamo = await benchDynamo();
const raw = new DynamoDBClient({ endpoint: dynamo.endpoint });
const data = generatePatients(patients, 2);
const resources = [...data.patients, ...data.conditions];
const lastUpdated = new Date().toISOString();

let tables = 0;
async function freshTable(): Promise<string> {
  const name = `${dynamo.prefix}ceiling${tables++}-${FHIR_TABLE.id}`;
  await createTables(raw, [FHIR_TABLE], () => name);
  return name;
}

async function ceiling(): Promise<{ ms: number; items: number }> {
  const table = await freshTable();
  const requests: WriteRequest[] = [];
  for (const r of resources) {
    const type = r.resourceType as ResourceType;
    for (const item of firstVersionItems(type, { ...r, meta: { profile: [definitionOf(type).profile] } }, lastUpdated)) {
      requests.push({ PutRequest: { Item: marshall(item, { removeUndefinedValues: true }) } });
    }
  }
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < requests.length) {
        let batch = requests.slice(next, (next += 25));
        while (batch.length > 0) {
          const out = await raw.send(new BatchWriteItemCommand({ RequestItems: { [table]: batch } }));
          batch = out.UnprocessedItems?.[table] ?? [];
        }
      }
    }),
  );
  return { ms: performance.now() - start, items: requests.length };
}

async function load(): Promise<{ ms: number }> {
  const tableName = await freshTable();
  const start = performance.now();
  await bulkLoad({ documentClient: dynamo.documentClient, tableName, resources, concurrency: CONCURRENCY });
  return { ms: performance.now() - start };
}

const perSecond = (ms: number) => Math.round(resources.length / (ms / 1000));
const runs: Record<string, number[]> = { ceiling: [], load: [] };
let items = 0;
for (const which of ['ceiling', 'load', 'load', 'ceiling'] as const) {
  const r: { ms: number; items?: number } = which === 'ceiling' ? await ceiling() : await load();
  if (r.items !== undefined) items = r.items;
  runs[which]!.push(r.ms);
  console.log(JSON.stringify({ run: which, resources: resources.length, seconds: +(r.ms / 1000).toFixed(1), resourcesPerSecond: perSecond(r.ms), loadavg: loadavg().map((x) => +x.toFixed(2)) }));
}
const total = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const [c, l] = [total(runs.ceiling!), total(runs.load!)];
console.log(
  JSON.stringify({
    resources: resources.length,
    items,
    itemsPerResource: +(items / resources.length).toFixed(2),
    ceilingPerSecond: perSecond(c / 2),
    loadPerSecond: perSecond(l / 2),
    loadOfCeiling: +(c / l).toFixed(3),
    // the 100k data set (252,293 resources, bench P5) at each rate
    seconds100kAtCeiling: Math.round(252_293 / perSecond(c / 2)),
    seconds100kAtLoad: Math.round(252_293 / perSecond(l / 2)),
  }),
);
raw.destroy();
await dynamo.stop();
process.exit(0);
