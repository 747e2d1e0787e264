/**
 * The audit sink (AWS only): a CloudWatch Logs subscription delivers the audit lines of the functions that have no
 * store of their own, and this function writes them to the queryable AuditEvent store (functions/audit/store.ts).
 *
 * - The authorizer, the token and the FHIR functions print each AuditEvent as one JSON line `{"auditEvent": {...}}`
 *   (functions/audit/index.ts); the subscription on their log groups (filter: the term `auditEvent`) brings them
 *   here as they are.
 * - API Gateway's own refusals of a route (ACCESS_DENIED: the cached authorizer policy does not list it) reach no
 *   function; the subscription on the stage's access log (filter `$.errorType = "ACCESS_DENIED"`) brings their lines
 *   here, and each becomes a denied AuditEvent (functions/audit/gateway.ts).
 *
 * Why a subscription, not a store write in those functions: the authorizer has no AWS SDK (its bundle and cold start
 * stay small), the token and FHIR functions' roles get no write on the Scopes table (and a batch held in a frozen
 * container is not lost), the request path pays one stdout line,
 * and CloudWatch Logs already batches, retries (an invocation that throws is retried by the service) and keeps the
 * line for the log group's retention. Lines that are not audit records are skipped, never stored. A record is
 * idempotent (its key is its own `recorded#id`), so a retried delivery writes it again harmlessly.
 */
import { gunzipSync } from 'node:zlib';
import type { CloudWatchLogsDecodedData, CloudWatchLogsEvent } from 'aws-lambda';
import { auditEvent, type AuditEvent } from '../audit/audit-event';
import { gatewayDenialAudit } from '../audit/gateway';
import type { AuditSink } from '../audit';

/** The largest decoded payload accepted (CloudWatch Logs delivers at most 1 MB per invocation). */
const MAX_DECODED_BYTES = 8 * 1024 * 1024;

export function decodeLogsEvent(event: CloudWatchLogsEvent): CloudWatchLogsDecodedData {
  const data = event?.awslogs?.data;
  if (typeof data !== 'string') throw new Error('not a CloudWatch Logs subscription event (no awslogs.data)');
  return JSON.parse(gunzipSync(Buffer.from(data, 'base64'), { maxOutputLength: MAX_DECODED_BYTES }).toString('utf8')) as CloudWatchLogsDecodedData;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** An AuditEvent as `record` prints it: the fields the store keys on are checked, anything else is not one. */
function isAuditEvent(value: unknown): value is AuditEvent {
  const e = value as Partial<AuditEvent> | null;
  return (
    typeof e === 'object' &&
    e !== null &&
    e.resourceType === 'AuditEvent' &&
    typeof e.id === 'string' &&
    UUID.test(e.id) &&
    typeof e.recorded === 'string' &&
    !Number.isNaN(Date.parse(e.recorded)) &&
    /^\d{4}-\d{2}-\d{2}T/.test(e.recorded)
  );
}

/** The AuditEvents in one delivery: printed ones as they are, access-log refusals converted. */
export function auditEventsOf(data: CloudWatchLogsDecodedData): AuditEvent[] {
  if (data.messageType !== 'DATA_MESSAGE') return []; // CONTROL_MESSAGE: the service checking the destination.
  const events: AuditEvent[] = [];
  for (const logEvent of data.logEvents ?? []) {
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(logEvent.message) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (typeof line !== 'object' || line === null) continue;
    // Lambda's JSON log format may wrap a raw stdout line as `message`.
    const wrapped = typeof line.message === 'string' && line.message.startsWith('{"auditEvent":') ? safeParse(line.message) : line.message;
    const printed = line.auditEvent ?? (wrapped as { auditEvent?: unknown } | undefined)?.auditEvent;
    if (printed !== undefined) {
      if (isAuditEvent(printed)) events.push(printed);
    } else if (line.errorType === 'ACCESS_DENIED' && typeof line.httpMethod === 'string' && typeof line.resourcePath === 'string') {
      events.push(
        auditEvent(
          gatewayDenialAudit({
            httpMethod: line.httpMethod,
            resourcePath: line.resourcePath,
            path: str(line.path),
            status: Number(line.status) || 403,
            principalId: str(line.principalId),
            patient: str(line.patient),
            requestId: str(line.requestId),
            ip: str(line.ip),
            requestTime: str(line.requestTime) ?? new Date(logEvent.timestamp).toISOString(),
          }),
        ),
      );
    }
  }
  return events;
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value.slice(0, 256) : undefined;
}

/** The Lambda handler: decode, extract, write. A store failure throws, so the service retries the delivery. */
export function createAuditSinkHandler(deps: { store: AuditSink }) {
  return async (event: CloudWatchLogsEvent): Promise<{ stored: number }> => {
    const events = auditEventsOf(decodeLogsEvent(event));
    if (events.length > 0) await deps.store.write(events);
    return { stored: events.length };
  };
}
