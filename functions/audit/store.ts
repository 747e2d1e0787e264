/**
 * The queryable copy of the audit trail (functions/audit/index.ts STORE sink), in the Scopes table beside the
 * admin change log: `pk` = `AUDITEVENT#<yyyy-mm-dd>` (UTC day recorded), `sk` = `<recorded>#<id>`, the AuditEvent as
 * `event`, and `expiresAt` (epoch s, the table's TTL attribute) = recorded + AUDIT_RETENTION_DAYS. Written with
 * BatchWriteItem (25 per call; unprocessed items retried once, then an error), read newest first one day at a time.
 */
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { queryDaysNewestFirst } from '../admin/audit';
import type { AuditEvent } from './audit-event';
import type { AuditSink } from './index';

export const DEFAULT_AUDIT_RETENTION_DAYS = 90;

/** AUDIT_RETENTION_DAYS: 1..3650, default 90. */
export function auditRetentionDaysFromEnv(env: Record<string, string | undefined> = process.env): number {
  const raw = (env.AUDIT_RETENTION_DAYS ?? '').trim();
  if (raw === '') return DEFAULT_AUDIT_RETENTION_DAYS;
  const days = Number(raw);
  if (!Number.isInteger(days) || days < 1 || days > 3650) throw new Error(`AUDIT_RETENTION_DAYS must be an integer from 1 to 3650, not ${raw}`);
  return days;
}

export class DynamoAuditEventStore implements AuditSink {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly retentionDays = DEFAULT_AUDIT_RETENTION_DAYS,
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

  /** Newest first, UTC days `from`..`to` inclusive, at most `limit`. */
  async list(query: { from: string; to: string; limit: number }): Promise<AuditEvent[]> {
    const items = await queryDaysNewestFirst(this.db, this.tableName, 'AUDITEVENT#', query);
    return items.map((item) => item.event as AuditEvent);
  }
}
