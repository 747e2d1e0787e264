/// <reference types="fhir" />
/**
 * The patient compartment (https://hl7.org/fhir/STU3/compartmentdefinition-patient.html) as routes:
 *  - `GET /Patient/{id}/{Type}`: the type search with one more clause, "refers to Patient/{id} by one of the
 *    type's compartment parameters" (definitions.ts `compartmentParams`); the caller's own compartment, if any,
 *    still applies: a patient-bound token asking for another patient's compartment gets an empty Bundle.
 *  - `GET /Patient/{id}/$everything` (`_since`, `_count`, paging): the Patient, then each compartment type the
 *    token may search, in the route table's type order, each by the same compartment clause. Types the token may
 *    not search are named in the outcome entry. The continuation token holds the type reached and its positions.
 *    A page costs at most one engine page per type (MAX_EXAMINED_PER_PAGE candidates each), whatever the data.
 *    Resources outside the compartment that it refers to (Practitioners, Organizations, Medications) are not
 *    added: ask for them with `_include` on a type search.
 */
import { RESOURCE_TYPES, type ResourceType } from '../../contract/resource-types';
import { PositionsMismatch, runSearch, type Position } from '../store/search-engine';
import type { FhirRepository, StoredVersion } from '../store/repository';
import { definitionOf } from './definitions';
import { CURSOR_PARAM, type CursorCodec } from './cursor';
import { BadRequestError } from './errors';
import { queryString } from './http';
import { DEFAULT_COUNT, MAX_COUNT, matchesAll, parseSearch, type SearchClause } from './search';
import { compartmentClause, type SearchCaller } from './search-access';
import { FhirReadService, assertId } from './read-service';

/** The types `$everything` walks after the Patient: every type with a patient compartment. */
export const EVERYTHING_TYPES: readonly ResourceType[] = RESOURCE_TYPES.filter((t) => t !== 'Patient' && definitionOf(t).compartmentParams.length > 0);

/** "In Patient/{id}'s compartment", as a clause on `type`. */
export function patientCompartment(type: ResourceType, id: string): SearchClause {
  assertId(id);
  return compartmentClause(type, id)!;
}

export async function everything(
  repo: FhirRepository,
  caller: SearchCaller,
  cursors: CursorCodec,
  options: { fhirBase: string; id: string; query: Record<string, string[]> },
): Promise<fhir.Bundle> {
  const { id, query, fhirBase } = options;
  for (const key of Object.keys(query)) {
    if (!['_since', '_count', CURSOR_PARAM, '_format', '_pretty', '_summary', '_elements'].includes(key)) {
      throw new BadRequestError(`$everything takes _since, _count and _cursor; not ${key}`, key);
    }
  }
  const countRaw = query._count?.at(-1);
  if (countRaw !== undefined && !/^\d+$/.test(countRaw)) throw new BadRequestError(`Invalid _count '${countRaw}'`, '_count');
  const count = Math.min(Math.max(countRaw === undefined ? DEFAULT_COUNT : Number(countRaw), 1), MAX_COUNT);
  const since = query._since?.at(-1);
  const sinceClauses = since === undefined ? [] : parseSearch('Patient', { _lastUpdated: [`ge${since}`] }, true).clauses;

  // The Patient itself, as a read: 404 outside the caller's compartment or when it does not exist.
  const patientDecision = caller.decide('Patient', 'read');
  const patient = patientDecision.allowed
    ? await new FhirReadService('Patient', repo).read(id, patientDecision.compartmentPatient ? { compartmentPatient: patientDecision.compartmentPatient } : {})
    : undefined;

  const pairs: [string, string][] = [['_count', String(count)], ...(since === undefined ? [] : [['_since', since] as [string, string]])];
  const binding = `everything\nPatient/${id}\n${JSON.stringify(pairs)}\n${caller.binding}`;
  const cursor = query[CURSOR_PARAM]?.at(-1);
  const start = cursor === undefined ? { t: -1, p: undefined } : stateOf(cursors.open(cursor, binding));
  const url = `${fhirBase}/Patient/${id}/$everything`;

  const refused = EVERYTHING_TYPES.filter((t) => !caller.decide(t, 'search-type').allowed);
  const found: StoredVersion[] = [];
  if (start.t === -1 && patient && matchesAll(patient.id, new Map(), sinceClauses, patient.lastUpdated)) {
    found.push(patient);
  }
  let next: { t: number; p?: Position[] } | undefined;
  for (let t = Math.max(start.t, 0); t < EVERYTHING_TYPES.length; t++) {
    const type = EVERYTHING_TYPES[t]!;
    const decision = caller.decide(type, 'search-type');
    if (!decision.allowed) continue;
    if (found.length >= count) {
      next = { t };
      break;
    }
    const own = compartmentClause(type, decision.compartmentPatient);
    // The caller's own compartment first, to drive the search (search-service.ts)
    const clauses = [...(own ? [own] : []), patientCompartment(type, id), ...sinceClauses];
    const positions = t === start.t ? start.p : undefined;
    const page = await runSearch(repo, { type, clauses, count: count - found.length, positions }).catch((err: unknown) => {
      throw err instanceof PositionsMismatch ? new BadRequestError('Invalid continuation token', CURSOR_PARAM) : err;
    });
    found.push(...page.versions);
    if (page.next) {
      next = { t, p: page.next };
      break;
    }
  }

  const link = (state?: unknown) => `${url}?${queryString([...pairs, ...(state === undefined ? [] : [[CURSOR_PARAM, cursors.seal(state, binding)] as [string, string]])])}`;
  const links: fhir.BundleLink[] = [
    { relation: 'self', url: `${url}?${queryString([...pairs, ...(cursor ? [[CURSOR_PARAM, cursor] as [string, string]] : [])])}` },
    { relation: 'first', url: link() },
    ...(next ? [{ relation: 'next', url: link(next) }] : []),
  ];
  const issues: fhir.OperationOutcomeIssue[] =
    refused.length > 0 ? [{ severity: 'warning', code: 'forbidden', diagnostics: `Not included: resources of type ${refused.join(', ')}, which this token may not search` }] : [];
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    ...(cursor === undefined && !next ? { total: found.length } : {}),
    link: links,
    entry: [
      ...found.map((v) => ({ fullUrl: `${fhirBase}/${v.type}/${v.id}`, resource: v.resource as fhir.Resource, search: { mode: 'match' as const } })),
      ...(issues.length > 0 ? [{ resource: { resourceType: 'OperationOutcome', issue: issues } as fhir.OperationOutcome, search: { mode: 'outcome' as const } }] : []),
    ],
  };
}

function stateOf(payload: unknown): { t: number; p?: Position[] } {
  const s = payload as { t?: unknown; p?: unknown } | null;
  const t = s?.t;
  if (!Number.isInteger(t) || (t as number) < 0 || (t as number) >= EVERYTHING_TYPES.length) throw new BadRequestError('Invalid continuation token', CURSOR_PARAM);
  const p = s?.p;
  if (p !== undefined && !(Array.isArray(p) && p.every((x) => x === 0 || x === 1 || typeof x === 'string'))) {
    throw new BadRequestError('Invalid continuation token', CURSOR_PARAM);
  }
  return { t: t as number, ...(p ? { p: p as Position[] } : {}) };
}
