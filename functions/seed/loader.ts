/**
 * Loading resources into the per-type tables. `loadDemoData` is idempotent (a resource whose stored content is
 * unchanged is left alone, a changed one gets a new version): `npm start` and the deployed custom resource run it
 * on every start/deploy. `bulkLoad` writes first versions of NEW ids with parallel BatchWriteItem calls, for
 * benchmark data sets (100k patients).
 */
import { randomInt } from 'node:crypto';
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { definitionOf } from '../fhir/definitions';
import type { ResourceType } from '../fhir/resource-types';
import { firstVersionItems, ResourceRepository } from '../store/repository';
import { byType, demoResources, type DemoResource } from './demo-data';

export interface LoadOptions {
  documentClient: DynamoDBDocumentClient;
  /** The table of a type (lib/tables.ts resourceTable + the runtime's naming). */
  tableName(type: ResourceType): string;
  /** Default: the demo data set. */
  resources?: readonly DemoResource[];
  /** Parallel writes. Default 16. */
  concurrency?: number;
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
  for (const [type, resources] of groups) {
    const repository = new ResourceRepository({ documentClient: options.documentClient, tableName: options.tableName(type), type });
    const profile = definitionOf(type).profile;
    await inParallel(resources, options.concurrency ?? 16, async (resource) => {
      const wanted = { ...resource, meta: { profile: [profile] } };
      const current = await repository.read(resource.id);
      if (current?.resource && !current.deleted && withoutMeta(current.resource) === withoutMeta(wanted)) {
        summary.unchanged++;
        return;
      }
      await repository.update(resource.id, wanted);
      summary.written++;
    });
  }
  return summary;
}

/**
 * Writes first versions of resources whose ids are not in the tables yet, 25 items per BatchWriteItem, many
 * batches in parallel, unprocessed items retried with backoff. Returns the number of resources written.
 */
export async function bulkLoad(options: LoadOptions & { resources: readonly DemoResource[] }): Promise<number> {
  const lastUpdated = new Date().toISOString();
  const batches: { table: string; items: Record<string, unknown>[] }[] = [];
  for (const [type, resources] of byType(options.resources)) {
    const table = options.tableName(type);
    const profile = definitionOf(type).profile;
    let items: Record<string, unknown>[] = [];
    for (const resource of resources) {
      items.push(...firstVersionItems(type, { ...resource, meta: { profile: [profile] } }, lastUpdated));
      while (items.length >= 25) batches.push({ table, items: items.splice(0, 25) });
    }
    if (items.length > 0) batches.push({ table, items });
    items = [];
  }
  await inParallel(batches, options.concurrency ?? 32, async ({ table, items }) => {
    let pending = items.map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      const out = await options.documentClient.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
      pending = (out.UnprocessedItems?.[table] ?? []) as typeof pending;
      if (pending.length > 0) await new Promise((r) => setTimeout(r, Math.min(2000, 25 * 2 ** attempt) + randomInt(25)));
    }
  });
  return options.resources.length;
}
