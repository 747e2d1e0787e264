/**
 * `GET /STU3/AuditEvent` for an admin token: the STU3 AuditEvent search parameters this store can answer
 * (https://hl7.org/fhir/STU3/auditevent.html#search), over the day partitions of functions/audit/store.ts.
 *
 * | parameter | matches                                   | example                                   |
 * |-----------|-------------------------------------------|-------------------------------------------|
 * | date      | `recorded` (ge, gt, le, lt, eq; day or instant; repeatable) | `date=ge2026-11-01&date=lt2026-11-08` |
 * | user      | `agent.userId` (the OAuth client id)      | `user=ccri-demo-patient-1`                |
 * | patient   | the bound patient entity                  | `patient=1` or `patient=Patient/1`        |
 * | outcome   | `outcome` (0, 4, 8)                       | `outcome=4`                               |
 * | type      | `type` (`[system|]code`)                  | `type=rest`, `type=…/DCM|110114`          |
 * | subtype   | `subtype` (the interaction)               | `subtype=read`                            |
 * | source    | `source.identifier` (`ccri-fhir`, ...)    | `source=ccri-authorizer`                  |
 * | _count    | page size, 1..1000 (default 100)          |                                           |
 *
 * Bounded: a search covers at most 93 days (default: the last 7), examines at most MAX_EXAMINED (store.ts) stored events per
 * page, and pages with an opaque `_cursor` (the position after the page's last event, newest first). A parameter
 * repeated where it may not be, an unknown parameter or a bad value is a 400 OperationOutcome.
 */
import { isFhirId } from '../../contract/fhir-id';
import { BadRequestError } from '../fhir/errors';
import type { AuditEvent } from './audit-event';

/** The filters answered; the CapabilityStatement documents each (functions/metadata/capability-statement.ts). */
export const AUDIT_FILTERS = ['date', 'user', 'patient', 'outcome', 'type', 'subtype', 'source'] as const;
export type AuditFilter = (typeof AUDIT_FILTERS)[number];
export const AUDIT_SEARCH_PARAMS: readonly string[] = [...AUDIT_FILTERS, '_count', '_cursor'];
export const MAX_AUDIT_DAYS = 93;
export const MAX_AUDIT_COUNT = 1000;

export interface AuditSearch {
  /** UTC days, inclusive, newest first. */
  from: string;
  to: string;
  /** Instants `recorded` must lie in: [after, before) as ISO strings (inclusive/exclusive handled by the compare). */
  bounds: Array<{ op: 'ge' | 'gt' | 'le' | 'lt'; at: string }>;
  /** The store position to continue after (`<recorded>#<id>`), from `_cursor`. */
  cursor?: string;
  count: number;
  filter: (event: AuditEvent) => boolean;
  /** The query, canonical, for the Bundle's links (without `_cursor`). */
  canonical: [string, string][];
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;
const CURSOR = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z#[0-9a-f-]{36}$/;

export function parseAuditSearch(query: Record<string, string[]>, now: Date): AuditSearch {
  for (const name of Object.keys(query)) {
    if (!AUDIT_SEARCH_PARAMS.includes(name)) {
      throw new BadRequestError(`Unknown search parameter '${name}' for AuditEvent (supported: ${AUDIT_SEARCH_PARAMS.join(', ')})`, name);
    }
  }
  const one = (name: string): string | undefined => {
    const values = query[name];
    if (values && values.length > 1) throw new BadRequestError(`The parameter ${name} must not be repeated`, name);
    if (values?.[0] !== undefined && values[0].length > 256) throw new BadRequestError(`The parameter ${name} is too long`, name);
    return values?.[0];
  };
  const canonical: [string, string][] = [];

  const bounds: AuditSearch['bounds'] = [];
  for (const raw of query.date ?? []) {
    const m = /^(eq|ge|gt|le|lt)?(.+)$/.exec(raw);
    const value = m?.[2] ?? '';
    const op = (m?.[1] ?? 'eq') as 'eq' | 'ge' | 'gt' | 'le' | 'lt';
    if (!(DAY.test(value) || INSTANT.test(value)) || Number.isNaN(Date.parse(DAY.test(value) ? `${value}T00:00:00Z` : value))) {
      throw new BadRequestError(`Invalid date '${raw}': expected [eq|ge|gt|le|lt] and a date yyyy-mm-dd or an instant`, 'date');
    }
    // A day is the interval [day, day + 1); an instant is a point.
    const start = new Date(DAY.test(value) ? `${value}T00:00:00Z` : value).toISOString();
    const end = DAY.test(value) ? new Date(Date.parse(start) + 86_400_000).toISOString() : start;
    if (op === 'eq') bounds.push({ op: 'ge', at: start }, DAY.test(value) ? { op: 'lt', at: end } : { op: 'le', at: end });
    else if (op === 'ge') bounds.push({ op: 'ge', at: start });
    else if (op === 'gt') bounds.push(DAY.test(value) ? { op: 'ge', at: end } : { op: 'gt', at: start });
    else if (op === 'lt') bounds.push({ op: 'lt', at: start });
    else bounds.push(DAY.test(value) ? { op: 'lt', at: end } : { op: 'le', at: start });
    canonical.push(['date', raw]);
  }
  const lower = bounds.filter((b) => b.op === 'ge' || b.op === 'gt').map((b) => b.at).sort().pop();
  // The last day an upper bound admits (`lt` midnight admits nothing of that day).
  const upper = bounds
    .filter((b) => b.op === 'le' || b.op === 'lt')
    .map((b) => new Date(Date.parse(b.at) - (b.op === 'lt' ? 1 : 0)).toISOString().slice(0, 10))
    .sort()
    .shift();
  const today = now.toISOString().slice(0, 10);
  const to = upper ?? today;
  const from = lower ? lower.slice(0, 10) : new Date(Date.parse(`${to}T00:00:00Z`) - 6 * 86_400_000).toISOString().slice(0, 10);
  if (from > to) throw new BadRequestError('The date range is empty', 'date');
  if ((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000 >= MAX_AUDIT_DAYS) {
    throw new BadRequestError(`An AuditEvent search covers at most ${MAX_AUDIT_DAYS} days: narrow the date`, 'date');
  }

  const tests: Array<(e: AuditEvent) => boolean> = [];
  const user = one('user');
  if (user !== undefined) {
    const id = user.includes('|') ? user.slice(user.indexOf('|') + 1) : user;
    tests.push((e) => e.agent.some((a) => (a.userId as { value?: string } | undefined)?.value === id));
    canonical.push(['user', user]);
  }
  const patient = one('patient');
  if (patient !== undefined) {
    const ref = patient.startsWith('Patient/') ? patient : `Patient/${patient}`;
    if (!isFhirId(ref.slice('Patient/'.length))) throw new BadRequestError(`Invalid patient '${patient}'`, 'patient');
    tests.push((e) => (e.entity ?? []).some((x) => (x.reference as { reference?: string } | undefined)?.reference === ref && x.role !== undefined));
    canonical.push(['patient', patient]);
  }
  const outcome = one('outcome');
  if (outcome !== undefined) {
    const codes = outcome.split(',');
    if (!codes.every((c) => ['0', '4', '8', '12'].includes(c))) throw new BadRequestError(`Invalid outcome '${outcome}': 0, 4, 8 or 12`, 'outcome');
    tests.push((e) => codes.includes(e.outcome));
    canonical.push(['outcome', outcome]);
  }
  const token = (name: 'type' | 'subtype', codings: (e: AuditEvent) => Array<{ system: string; code: string }>) => {
    const value = one(name);
    if (value === undefined) return;
    const alternatives = value.split(',').map((t) => (t.includes('|') ? { system: t.slice(0, t.indexOf('|')), code: t.slice(t.indexOf('|') + 1) } : { code: t }));
    tests.push((e) => codings(e).some((c) => alternatives.some((a) => a.code === c.code && (!('system' in a) || a.system === '' || a.system === c.system))));
    canonical.push([name, value]);
  };
  token('type', (e) => [e.type]);
  token('subtype', (e) => e.subtype ?? []);
  const source = one('source');
  if (source !== undefined) {
    tests.push((e) => e.source.identifier.value === source);
    canonical.push(['source', source]);
  }
  for (const b of bounds) {
    tests.push((e) => (b.op === 'ge' ? e.recorded >= b.at : b.op === 'gt' ? e.recorded > b.at : b.op === 'le' ? e.recorded <= b.at : e.recorded < b.at));
  }

  const rawCount = one('_count') ?? '100';
  const count = Number(rawCount);
  if (!/^\d+$/.test(rawCount) || count < 1 || count > MAX_AUDIT_COUNT) throw new BadRequestError(`_count must be 1..${MAX_AUDIT_COUNT}`, '_count');
  canonical.push(['_count', String(count)]);
  const cursor = one('_cursor');
  if (cursor !== undefined && !CURSOR.test(cursor)) throw new BadRequestError('Invalid _cursor', '_cursor');

  return { from, to, bounds, cursor, count, canonical, filter: (e) => tests.every((t) => t(e)) };
}
