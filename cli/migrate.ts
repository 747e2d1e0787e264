/**
 * `npm run migrate -- --table=<FHIR table> (--old-prefix=<prefix> | --old=Patient=<table>,Condition=<table>,...)`:
 * the one-off copy of a version-1 deployment's per-type tables into the FHIR table (functions/store/migrate-v1.ts).
 * `--old-prefix=ccri-` finds `ccri-ResourcePatient`, `ccri-ResourceCondition`, ... (the local naming); on AWS name
 * each retained table with `--old`. DynamoDB is the SDK's (AWS_REGION, credentials) or AWS_ENDPOINT_URL_DYNAMODB.
 * docs/storage.md (Migration) has the upgrade steps.
 *
 * `npm run migrate -- --table=<FHIR table> --reindex`: the reconciler of one-round-trip creates
 * (functions/store/reindex.ts): puts back index items a live resource should have and has not, and the
 * change-log items of every version (the upgrade to the patients' change logs). Also the upgrade
 * step of the listing layout (a single-valued token folded into the listing key, docs/storage.md "Upgrading"): it
 * writes each resource's new listing item and removes the one of the earlier layout.
 */
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { RESOURCE_TYPES, type ResourceType } from '../contract/resource-types';
import { migrateFromPerTypeTables } from '../functions/store/migrate-v1';
import { reindexTable } from '../functions/store/reindex';

export async function runMigrate(argv: string[], log: (line: string) => void = console.log): Promise<Record<string, number>> {
  const arg = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const table = arg('table');
  const prefix = arg('old-prefix');
  if (argv.includes('--reindex')) {
    if (!table) throw new Error('usage: npm run migrate -- --table=<FHIR table> --reindex');
    const client = new DynamoDBClient({});
    try {
      const summary = await reindexTable({
        documentClient: DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }),
        tableName: table,
        onProgress: (s) => log(`  ${s.resources} resources checked, ${s.written} index items written back`),
      });
      const removed = summary.removed > 0 ? `, ${summary.removed} listing items of the earlier layout removed` : '';
      log(`done: ${summary.resources} resources, ${summary.written} index items written back${removed}`);
      return { ...summary };
    } finally {
      client.destroy();
    }
  }
  const named = new Map((arg('old') ?? '').split(',').filter(Boolean).map((pair) => pair.split('=', 2) as [string, string]));
  if (!table || (prefix === undefined && named.size === 0)) {
    throw new Error('usage: npm run migrate -- --table=<FHIR table> (--old-prefix=<prefix> | --old=Patient=<table>,Condition=<table>,...)');
  }
  for (const type of named.keys()) if (!(RESOURCE_TYPES as readonly string[]).includes(type)) throw new Error(`unknown resource type ${type}`);
  const client = new DynamoDBClient({});
  try {
    const exists = async (name: string) =>
      client.send(new DescribeTableCommand({ TableName: name })).then(
        () => true,
        () => false,
      );
    const old = new Map<ResourceType, string>();
    for (const type of RESOURCE_TYPES) {
      const name = named.get(type) ?? (prefix !== undefined ? `${prefix}Resource${type}` : undefined);
      if (name && (await exists(name))) old.set(type, name);
    }
    log(`migrating ${old.size} per-type tables into ${table}`);
    const summary = await migrateFromPerTypeTables({
      documentClient: DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }),
      oldTableName: (type) => old.get(type),
      tableName: table,
      onProgress: (type, n) => log(`  ${type}: ${n} resources`),
    });
    log(`done: ${Object.entries(summary).map(([t, n]) => `${t} ${n}`).join(', ') || 'nothing to migrate'}`);
    return summary;
  } finally {
    client.destroy();
  }
}

if (process.argv[1]?.endsWith('cli/migrate.ts')) {
  runMigrate(process.argv.slice(2)).catch((err: Error) => {
    console.error(err.message);
    process.exit(1);
  });
}
