/**
 * The one-off copy from the per-type tables of version 1 (`<prefix>Resource<Type>`: `R#<id>` with `CURRENT` and
 * `V#<n>` items, `I#...` index items, `L#...` locks) into the FHIR table of version 2, through the repository
 * (`importVersions`): every version of every resource, ids, version ids and timestamps kept; the index rebuilt for
 * the current versions; old index items and locks left behind. Reads the old tables (a Scan of each OLD table for
 * the resource ids, one Query per resource for its versions); never touches them. Idempotent: rerun after a failure.
 */
import { QueryCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { RESOURCE_TYPES, type ResourceType } from '../../contract/resource-types';
import { mapLimit } from './concurrency';
import { FhirRepository, type FhirResource } from './repository';

export interface MigrationOptions {
  documentClient: DynamoDBDocumentClient;
  /** The old table of a type, or undefined when that type had none. */
  oldTableName(type: ResourceType): string | undefined;
  /** The FHIR table of version 2. */
  tableName: string;
  concurrency?: number;
  onProgress?: (type: ResourceType, resources: number) => void;
}

export async function migrateFromPerTypeTables(options: MigrationOptions): Promise<Record<string, number>> {
  const repository = new FhirRepository({ documentClient: options.documentClient, tableName: options.tableName });
  const summary: Record<string, number> = {};
  for (const type of RESOURCE_TYPES) {
    const table = options.oldTableName(type);
    if (!table) continue;
    let migrated = 0;
    let start: Record<string, unknown> | undefined;
    do {
      const page = await options.documentClient.send(
        new ScanCommand({
          TableName: table,
          FilterExpression: 'sk = :current AND begins_with(pk, :r)',
          ExpressionAttributeValues: { ':current': 'CURRENT', ':r': 'R#' },
          ProjectionExpression: 'pk',
          ExclusiveStartKey: start,
        }),
      );
      const ids = (page.Items ?? []).map((i) => String(i.pk).slice(2));
      await mapLimit(ids, options.concurrency ?? 16, async (id) => {
        const versions = await queryAll(options.documentClient, table, `R#${id}`);
        await repository.importVersions(
          type,
          id,
          versions.map((v) => ({
            versionId: Number(v.versionId),
            lastUpdated: String(v.lastUpdated),
            deleted: Boolean(v.deleted),
            method: v.method as 'POST' | 'PUT' | 'DELETE' | undefined,
            ...(typeof v.resource === 'string' ? { resource: JSON.parse(v.resource) as FhirResource } : {}),
          })),
        );
      });
      migrated += ids.length;
      options.onProgress?.(type, migrated);
      start = page.LastEvaluatedKey;
    } while (start);
    summary[type] = migrated;
  }
  return summary;
}

async function queryAll(db: DynamoDBDocumentClient, table: string, pk: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await db.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :v)',
        ExpressionAttributeValues: { ':pk': pk, ':v': 'V#' },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    items.push(...((out.Items ?? []) as Record<string, unknown>[]));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}
