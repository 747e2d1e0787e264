/**
 * The audit trail of access decisions: one call, `record(input)`, from any function (token endpoint, authorizer,
 * FHIR function through functions/audit/fhir.ts, admin API). How it is stored and survives a crash: docs/audit.md.
 *
 * Off the request path: `record` is synchronous and does no I/O of its own beyond one line to stdout; the event is
 * built (functions/audit/audit-event.ts) and handed to the sinks:
 * - the LOG sink (always): one JSON line `{"auditEvent": {...}}` on stdout. On Lambda that line is in CloudWatch
 *   Logs the moment it is written, so a record survives a crash or a timeout of the function right after it. On AWS
 *   the audit sink function (functions/audit-sink), subscribed to the authorizer's, the token and the FHIR functions'
 *   log groups, writes these lines to the queryable store.
 * - a STORE sink where the process has one (`configureAudit`): batched (25 events or 1 s, whichever first) into the
 *   store the admin API queries, with a TTL (AUDIT_RETENTION_DAYS). The admin function on AWS (which holds that store
 *   anyway), and `npm start`, where every function shares one process.
 */
import { auditEvent, type AuditEvent, type AuditInput } from './audit-event';

export type { AuditEvent, AuditInput } from './audit-event';

export interface AuditSink {
  write(events: readonly AuditEvent[]): Promise<void>;
}

let store: AuditSink | undefined;
let buffer: AuditEvent[] = [];
let timer: ReturnType<typeof setTimeout> | undefined;
let inFlight: Promise<void> = Promise.resolve();
let writeLine: (line: string) => void = (line) => process.stdout.write(line);

/** Adds a store sink (and, for tests, where log lines go). */
export function configureAudit(options: { store?: AuditSink; writeLine?: (line: string) => void }): void {
  store = options.store ?? store;
  if (options.writeLine) writeLine = options.writeLine;
}

/** Records one decision. Never throws, never waits. */
export function record(input: AuditInput): AuditEvent {
  const event = auditEvent(input);
  try {
    writeLine(`${JSON.stringify({ auditEvent: event })}\n`);
  } catch {
    // The request must not fail because its audit line could not be written.
  }
  if (store) {
    buffer.push(event);
    if (buffer.length >= 25) void flushAudit();
    else if (!timer) {
      timer = setTimeout(() => void flushAudit(), 1000);
      timer.unref?.();
    }
  }
  return event;
}

/** Writes what is buffered to the store sink now (tests, and before a container is frozen when that matters). */
export function flushAudit(): Promise<void> {
  if (timer) clearTimeout(timer);
  timer = undefined;
  const batch = buffer;
  buffer = [];
  if (!store || batch.length === 0) return inFlight;
  const sink = store;
  inFlight = inFlight.then(() => sink.write(batch)).catch(() => {
    // A store outage loses nothing the log has; it must not fail requests.
  });
  return inFlight;
}
