/**
 * Write units per create on DynamoDB, computed from the items a create writes (functions/store/repository.ts
 * `firstVersionItems`, the same items the repository writes) with DynamoDB's item-size rules: attribute names and
 * values in UTF-8 bytes, numbers about 1 byte per 2 digits + 1; one WCU per 1 KB of each item, rounded up per item
 * (standard, non-transactional writes; a TransactWriteItems would double each).
 */
import type { ResourceType } from '../contract/resource-types';
import { definitionOf } from '../functions/fhir/definitions';
import { demoResources, generatePatients } from '../functions/seed/demo-data';
import { firstVersionItems } from '../functions/store/repository';

export function itemBytes(item: Record<string, unknown>): number {
  const size = (v: unknown): number => {
    if (typeof v === 'string') return Buffer.byteLength(v, 'utf8');
    if (typeof v === 'number') return Math.ceil(String(Math.abs(v)).replace(/^0+|\./g, '').length / 2) + 1;
    if (typeof v === 'boolean' || v === null) return 1;
    if (Array.isArray(v)) return 3 + v.reduce((n: number, x) => n + 1 + size(x), 0);
    if (typeof v === 'object') return 3 + Object.entries(v as object).reduce((n, [k, x]) => n + 1 + Buffer.byteLength(k) + size(x), 0);
    return 0;
  };
  return Object.entries(item).reduce((n, [k, v]) => n + Buffer.byteLength(k) + size(v), 0);
}

export interface WriteCost {
  label: string;
  items: number;
  indexItems: number;
  resourceBytes: number;
  wcu: number;
}

export function createCost(label: string, type: ResourceType, resource: Record<string, unknown> & { id: string }): WriteCost {
  const items = firstVersionItems(type, { ...resource, resourceType: type, meta: { profile: [definitionOf(type).profile] } }, new Date(0).toISOString());
  const wcu = items.reduce((n, item) => n + Math.max(1, Math.ceil(itemBytes(item) / 1024)), 0);
  return { label, items: items.length, indexItems: items.length - 1, resourceBytes: itemBytes(items[0]!), wcu };
}

/** One row per demo resource type (its first demo resource), and the generated benchmark Patient. */
export function writeCostTable(): WriteCost[] {
  const seen = new Set<string>();
  const rows: WriteCost[] = [];
  for (const r of demoResources()) {
    if (seen.has(r.resourceType)) continue;
    seen.add(r.resourceType);
    rows.push(createCost(`${r.resourceType}/${r.id} (demo)`, r.resourceType as ResourceType, r));
  }
  const { patients } = generatePatients(1, 1);
  rows.push(createCost('Patient (generated, bench/P5-P8)', 'Patient', patients[0]!));
  return rows;
}

export function writeCostMarkdown(): string {
  const lines = ['| resource | items written | of which index items | current-version item (bytes) | WCU per create |', '|---|---|---|---|---|'];
  for (const r of writeCostTable()) lines.push(`| ${r.label} | ${r.items} | ${r.indexItems} | ${r.resourceBytes} | ${r.wcu} |`);
  return lines.join('\n');
}

if (process.argv[1]?.endsWith('bench/wcu.ts')) console.log(writeCostMarkdown());
