/**
 * The audit trail of admin changes: who (the admin client's id), what (action, target, a summary that never holds a
 * secret or a hash), when. Written by every change the admin API makes, after the change; listed by
 * `GET /admin/audit` (admin only) and `npm run admin -- audit`.
 *
 * Item layout in the Scopes table (contract/tables.ts SCOPES_TABLE): `pk` = `AUDIT#<yyyy-mm-dd>` (UTC day of the change),
 * `sk` = `<ISO timestamp>#<uuid>`, so one Query per day returns that day's changes in time order. Records are never
 * updated or deleted by the application.
 */
import { randomUUID } from 'node:crypto';
import { PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ScopeStoreUnavailableError } from '../scopes/definition-store';

export type AuditAction =
  | 'client.create'
  | 'client.update'
  | 'client.rotate-secret'
  | 'client.revoke-tokens'
  | 'client.delete'
  | 'scope.create'
  | 'scope.update'
  | 'scope.delete';

export interface AuditRecord {
  /** ISO 8601 instant of the change. */
  at: string;
  /** Unique id of the record. */
  id: string;
  /** Who: the admin client id (the token's client_id). */
  actor: string;
  action: AuditAction;
  /** The client id or scope name changed. */
  target: string;
  /** What changed, without secrets: e.g. the new scopes, the grace period of a rotation. */
  summary: Record<string, unknown>;
  /** The API request id, to find the access log line. */
  requestId?: string;
}

export type AuditEntry = Omit<AuditRecord, 'at' | 'id'>;

export interface AuditLog {
  record(entry: AuditEntry, at: Date): Promise<AuditRecord>;
  /** Newest first, days `from`..`to` (yyyy-mm-dd, UTC, inclusive), at most `limit`. */
  list(query: { from: string; to: string; limit: number }): Promise<AuditRecord[]>;
}

function newRecord(entry: AuditEntry, at: Date): AuditRecord {
  return { at: at.toISOString(), id: randomUUID(), ...entry };
}

/** The UTC days from `to` back to `from`, inclusive. */
/**
 * The items of the day partitions `<prefix><day>`, days `from`..`to` newest first and each day newest first (sort key
 * descending), at most `limit`: the walker of the admin audit trail and of the AuditEvents (functions/audit/store.ts).
 */
export async function queryDaysNewestFirst(
  db: DynamoDBDocumentClient,
  tableName: string,
  prefix: string,
  query: { from: string; to: string; limit: number },
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  for (const day of daysDescending(query.from, query.to)) {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await db.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': `${prefix}${day}` },
          ScanIndexForward: false,
          Limit: query.limit - items.length,
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey && items.length < query.limit);
    if (items.length >= query.limit) break;
  }
  return items.slice(0, query.limit);
}

export function daysDescending(from: string, to: string): string[] {
  const days: string[] = [];
  for (let t = Date.parse(`${to}T00:00:00Z`); t >= Date.parse(`${from}T00:00:00Z`); t -= 86_400_000) {
    days.push(new Date(t).toISOString().slice(0, 10));
  }
  return days;
}

export class DynamoAuditLog implements AuditLog {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async record(entry: AuditEntry, at: Date): Promise<AuditRecord> {
    const record = newRecord(entry, at);
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: `AUDIT#${record.at.slice(0, 10)}`, sk: `${record.at}#${record.id}`, ...record },
        }),
      );
    } catch (err) {
      throw new ScopeStoreUnavailableError({ cause: err });
    }
    return record;
  }

  async list(query: { from: string; to: string; limit: number }): Promise<AuditRecord[]> {
    try {
      return (await queryDaysNewestFirst(this.db, this.tableName, 'AUDIT#', query)).map(recordFromItem);
    } catch (err) {
      throw new ScopeStoreUnavailableError({ cause: err });
    }
  }
}

function recordFromItem(item: Record<string, unknown>): AuditRecord {
  const record: AuditRecord = {
    at: String(item.at),
    id: String(item.id),
    actor: String(item.actor),
    action: String(item.action) as AuditAction,
    target: String(item.target),
    summary: (item.summary && typeof item.summary === 'object' ? item.summary : {}) as Record<string, unknown>,
  };
  if (typeof item.requestId === 'string') record.requestId = item.requestId;
  return record;
}

export class InMemoryAuditLog implements AuditLog {
  readonly records: AuditRecord[] = [];

  async record(entry: AuditEntry, at: Date): Promise<AuditRecord> {
    const record = newRecord(entry, at);
    this.records.push(structuredClone(record));
    return record;
  }

  async list(query: { from: string; to: string; limit: number }): Promise<AuditRecord[]> {
    return this.records
      .filter((r) => r.at.slice(0, 10) >= query.from && r.at.slice(0, 10) <= query.to)
      .sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0))
      .slice(0, query.limit)
      .map((r) => structuredClone(r));
  }
}
