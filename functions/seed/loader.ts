/**
 * Loading resources into the FHIR table. `loadDemoData` is idempotent (a resource whose stored content is
 * unchanged is left alone, a changed one gets a new version): `npm start` and the deployed custom resource run it
 * on every start/deploy. `bulkLoad` writes first versions of NEW ids with parallel BatchWriteItem calls, for
 * benchmark data sets (100k patients).
 */
import { randomInt } from 'node:crypto';
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { definitionOf } from '../fhir/definitions';
import { FhirRepository } from '../store/repository';
import { firstVersionItems } from '../store/writes';
import type { ResourceType } from '../../contract/resource-types';
import { byType, demoResources, type DemoResource } from './demo-data';

export interface LoadOptions {
  documentClient: DynamoDBDocumentClient;
  /** The FHIR table (contract/tables.ts FHIR_TABLE, with the runtime's naming). */
  tableName: string;
  /** Default: the demo data set. */
  resources?: readonly DemoResource[];
  /** Parallel writes. Default 16. */
  concurrency?: number;
}

/** BatchWriteItem calls bulkLoad keeps in flight by default (bench/search.ts and bench/load-ceiling.ts load with it). */
export const BULK_CONCURRENCY = 32;

/** The items bulkLoad writes for a new resource: its first version, claiming its type's Care Connect profile. */
export function seedItems(resource: DemoResource, lastUpdated: string): Record<string, unknown>[] {
  const type = resource.resourceType as ResourceType;
  return firstVersionItems(type, { ...resource, meta: { profile: [definitionOf(type).profile] } }, lastUpdated);
}

export interface LoadSummary {
  written: number;
  unchanged: number;
}

async function inParallel<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  });
  await Promise.all(workers);
}

const withoutMeta = (r: Record<string, unknown>) => {
  const { meta: _meta, ...rest } = r;
  return JSON.stringify(rest);
};

/** Loads the demo data (or the given resources) idempotently through the repository (transactions, index). */
export async function loadDemoData(options: LoadOptions): Promise<LoadSummary> {
  const summary: LoadSummary = { written: 0, unchanged: 0 };
  const groups = byType(options.resources ?? demoResources());
  const repository = new FhirRepository({ documentClient: options.documentClient, tableName: options.tableName });
  for (const [type, resources] of groups) {
    const profile = definitionOf(type).profile;
    await inParallel(resources, options.concurrency ?? 16, async (resource) => {
      const wanted = { ...resource, meta: { profile: [profile] } };
      const current = await repository.read(type, resource.id);
      if (current?.resource && !current.deleted && withoutMeta(current.resource) === withoutMeta(wanted)) {
        summary.unchanged++;
        return;
      }
      await repository.update(type, resource.id, wanted);
      summary.written++;
    });
  }
  return summary;
}

/**
 * Writes first versions of resources whose ids are not in the table yet, as fast as DynamoDB takes them: the
 * repository's own items (`firstVersionItems`: version, index, change log), packed 25 to a BatchWriteItem (DynamoDB's
 * maximum) across resources, so that every call is full (a 15-item Patient alone would leave 10 places empty: 40%
 * more calls), `concurrency` calls in flight, unprocessed items retried with backoff, items built as the batches go
 * (memory stays flat at 100,000 resources). A resource's items may span two calls: like any bulk load, the data set
 * is complete when bulkLoad returns, not resource by resource. `onProgress(done, total)` after each call, counting
 * the resources whose last item it wrote, for a progress bar. Returns the resources written.
 */
export async function bulkLoad(
  options: LoadOptions & { resources: readonly DemoResource[]; onProgress?: (done: number, total: number) => void },
): Promise<number> {
  const lastUpdated = new Date().toISOString();
  const table = options.tableName;
  const total = options.resources.length;
  let next = 0;
  let done = 0;
  /** Items built but not yet taken (fewer than 25 plus one resource's), each with whether it ends its resource. */
  const queue: { item: Record<string, unknown>; last: boolean }[] = [];
  /** The next call: up to 25 items, and how many resources it completes. */
  const take = (): { items: Record<string, unknown>[]; completes: number } | undefined => {
    while (queue.length < 25 && next < total) {
      const own = seedItems(options.resources[next++]!, lastUpdated);
      own.forEach((item, i) => queue.push({ item, last: i === own.length - 1 }));
    }
    const slice = queue.splice(0, 25);
    return slice.length > 0 ? { items: slice.map((q) => q.item), completes: slice.filter((q) => q.last).length } : undefined;
  };
  const write = async (items: Record<string, unknown>[]) => {
    let pending = items.map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      const out = await options.documentClient.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
      pending = (out.UnprocessedItems?.[table] ?? []) as typeof pending;
      if (pending.length > 0) await new Promise((r) => setTimeout(r, Math.min(2000, 25 * 2 ** attempt) + randomInt(25)));
    }
  };
  const workers = Array.from({ length: options.concurrency ?? BULK_CONCURRENCY }, async () => {
    for (let batch = take(); batch; batch = take()) {
      await write(batch.items);
      done += batch.completes;
      options.onProgress?.(done, total);
    }
  });
  await Promise.all(workers);
  return total;
}

/** A one-line progress bar on a TTY (or a line per 10% elsewhere): `onProgress` for bulkLoad. */
export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr): (done: number, total: number) => void {
  const started = Date.now();
  let lastTenth = -1;
  return (done, total) => {
    const fraction = total === 0 ? 1 : done / total;
    const rate = Math.round(done / Math.max((Date.now() - started) / 1000, 0.001));
    const text = `${label} [${'#'.repeat(Math.round(fraction * 30)).padEnd(30, '.')}] ${done}/${total} ${rate}/s`;
    if (stream.isTTY) stream.write(`\r${text}${done === total ? '\n' : ''}`);
    else if (Math.floor(fraction * 10) > lastTenth) {
      lastTenth = Math.floor(fraction * 10);
      stream.write(`${text}\n`);
    }
  };
}
