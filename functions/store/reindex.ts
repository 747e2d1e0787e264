/**
 * The reconciler of one-round-trip creates (functions/store/repository.ts): walks every current version of the
 * FHIR table and puts back the index items a live one should have and has not, and the change-log items of every
 * version of every resource (the upgrade to the patients' change logs, docs/storage.md). Needed only after a writer
 * died while retrying items DynamoDB had left unprocessed (the writer logs nothing then: it is gone), so it is an
 * operator's command (`npm run migrate -- --table=<FHIR table> --reindex`), not a request path: it Scans, which
 * the FHIR function's data-access role may never do. Reads the expected keys and writes only the missing ones.
 */
import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isResourceType } from '../../contract/resource-types';
import { Limiter } from './concurrency';
import { FhirRepository } from './repository';

export interface ReindexSummary {
  /** Current versions seen. */
  resources: number;
  /** Index items written back. */
  written: number;
  /** Listing items of the earlier layout removed (a token folded into the listing key since). */
  removed: number;
}

export async function reindexTable(options: {
  documentClient: DynamoDBDocumentClient;
  tableName: string;
  onProgress?: (summary: ReindexSummary) => void;
}): Promise<ReindexSummary> {
  const repository = new FhirRepository({ documentClient: options.documentClient, tableName: options.tableName });
  const limiter = new Limiter(8);
  const summary: ReindexSummary = { resources: 0, written: 0, removed: 0 };
  let start: Record<string, unknown> | undefined;
  do {
    const page = await options.documentClient.send(
      new ScanCommand({
        TableName: options.tableName,
        FilterExpression: 'sk = :v',
        ExpressionAttributeValues: { ':v': 'v' },
        ProjectionExpression: 'pk',
        ExclusiveStartKey: start,
      }),
    );
    await Promise.all(
      (page.Items ?? []).map(({ pk }) =>
        limiter.run(async () => {
          const [type, id] = String(pk).split('/', 2) as [string, string];
          if (!isResourceType(type) || !id) return;
          summary.resources++;
          const { written, removed } = await repository.reindexMissing(type, id);
          summary.written += written;
          summary.removed += removed;
        }),
      ),
    );
    options.onProgress?.(summary);
    start = page.LastEvaluatedKey;
  } while (start);
  return summary;
}
