/**
 * The queryable copy of the audit trail (functions/audit/index.ts STORE sink), in the Scopes table beside the
 * admin change log: `pk` = `AUDITEVENT#<yyyy-mm-dd>` (UTC day recorded), `sk` = `<recorded>#<id>`, the AuditEvent as
 * `event`, and `expiresAt` (epoch s, the table's TTL attribute) = recorded + AUDIT_RETENTION_DAYS. Written with
 * BatchWriteItem (25 per call; unprocessed items retried once, then an error), read newest first one day at a time.
 */
import { BatchWriteCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { daysDescending, queryDaysNewestFirst } from '../admin/audit';
import { AUDIT_RETENTION } from '../../contract/environment';
import { intEnv, type Env } from '../env';
import type { AuditEvent } from './audit-event';
import type { AuditSink } from './index';
import type { AuditSearch } from './search';

/** Stored events examined for one page of a search at most (the filters run on them): the cost bound of a request. */
export const MAX_EXAMINED = 5000;

/** AUDIT_RETENTION_DAYS (set from the CDK context ccri:auditRetentionDays): 1..3650, default 90. */
export function auditRetentionDaysFromEnv(env: Env = process.env): number {
  return intEnv(AUDIT_RETENTION.env, { min: AUDIT_RETENTION.minDays, max: AUDIT_RETENTION.maxDays, fallback: AUDIT_RETENTION.defaultDays }, env);
}

export class DynamoAuditEventStore implements AuditSink {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly retentionDays: number = AUDIT_RETENTION.defaultDays,
  ) {}

  async write(events: readonly AuditEvent[]): Promise<void> {
    for (let i = 0; i < events.length; i += 25) {
      const requests = events.slice(i, i + 25).map((event) => ({
        PutRequest: {
          Item: {
            pk: `AUDITEVENT#${event.recorded.slice(0, 10)}`,
            sk: `${event.recorded}#${event.id}`,
            event,
            expiresAt: Math.floor(Date.parse(event.recorded) / 1000) + this.retentionDays * 86_400,
          },
        },
      }));
      let unprocessed: Record<string, unknown>[] | undefined = requests;
      for (let attempt = 0; attempt < 2 && unprocessed && unprocessed.length > 0; attempt++) {
        const result = await this.db.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: unprocessed as never } }));
        unprocessed = result.UnprocessedItems?.[this.tableName] as Record<string, unknown>[] | undefined;
      }
      // Still throttled: fail, so that the caller knows (the audit sink's delivery is then retried by the service).
      if (unprocessed && unprocessed.length > 0) throw new Error(`${unprocessed.length} audit events not written (throttled)`);
    }
  }

  /**
   * One page of an AuditEvent search (functions/audit/search.ts), newest first: the events the filter keeps, at most
   * `count`, examining at most `maxExamined` stored events; `next` is the position to continue after (also when the
   * examination bound stopped the page short, so that a client pages on instead of missing events).
   */
  async search(search: Pick<AuditSearch, 'from' | 'to' | 'cursor' | 'count' | 'filter'>, maxExamined = MAX_EXAMINED): Promise<{ events: AuditEvent[]; next?: string }> {
    const events: AuditEvent[] = [];
    let examined = 0;
    const startDay = search.cursor && search.cursor.slice(0, 10) < search.to ? search.cursor.slice(0, 10) : search.to;
    for (const day of daysDescending(search.from, startDay)) {
      const after = search.cursor && search.cursor.slice(0, 10) === day ? search.cursor : undefined;
      let startKey: Record<string, unknown> | undefined;
      do {
        const page = await this.db.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: after ? 'pk = :pk AND sk < :after' : 'pk = :pk',
            ExpressionAttributeValues: { ':pk': `AUDITEVENT#${day}`, ...(after ? { ':after': after } : {}) },
            ScanIndexForward: false,
            Limit: Math.min(1000, maxExamined - examined),
            ExclusiveStartKey: startKey,
          }),
        );
        for (const item of page.Items ?? []) {
          examined++;
          const event = item.event as AuditEvent;
          if (search.filter(event)) {
            if (events.length === search.count) return { events, next: `${events[events.length - 1]!.recorded}#${events[events.length - 1]!.id}` };
            events.push(event);
          }
          if (examined >= maxExamined) return { events, next: String(item.sk) };
        }
        startKey = page.LastEvaluatedKey;
      } while (startKey);
    }
    return { events };
  }

  /** Newest first, UTC days `from`..`to` inclusive, at most `limit`. */
  async list(query: { from: string; to: string; limit: number }): Promise<AuditEvent[]> {
    const items = await queryDaysNewestFirst(this.db, this.tableName, 'AUDITEVENT#', query);
    return items.map((item) => item.event as AuditEvent);
  }
}
