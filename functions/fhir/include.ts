/// <reference types="fhir" />
/**
 * `_include` and `_revinclude` (https://hl7.org/fhir/STU3/search.html#include) for one page of matches. Every
 * included resource is decided on what was actually read, by its own type:
 *  - `_include`: the references of the matches (one BatchGetItem per 100, any types); a reference to a type the
 *    token may not read is not followed; a resource read that is outside the caller's compartment is dropped. Both
 *    are reported as issues of the Bundle's outcome entry, by count and type only: the caller already sees the
 *    references themselves, and "not found" and "not accessible" are one answer, so nothing tells them apart.
 *  - `_revinclude`: a search of the referring type (at most REVINCLUDE_REFS_PER_SEARCH matches per Query fan-out)
 *    run with the caller's own access to that type, its compartment as one more clause checked on each resource;
 *    a type the token may not search is reported and skipped.
 * At most MAX_INCLUDED resources per page; over it, the first MAX_INCLUDED and a `too-costly` issue.
 */
import type { ResourceType } from '../../contract/resource-types';
import { runSearch } from '../store/search-engine';
import type { FhirRepository, StoredVersion } from '../store/repository';
import { definitionOf } from './definitions';
import { compartmentPatients, normalizeReference, type SearchClause } from './search';
import { compartmentClause, type SearchCaller } from './search-access';
import { MAX_INCLUDE_DEPTH, MAX_INCLUDED, type IncludeSpec } from './search-request';
import { isResourceType } from '../../contract/resource-types';

/** Matches one `_revinclude` search takes as reference values at once (one index partition each). */
export const REVINCLUDE_REFS_PER_SEARCH = 50;

export interface Included {
  versions: StoredVersion[];
  issues: fhir.OperationOutcomeIssue[];
}

const key = (v: { type: string; id: string }) => `${v.type}/${v.id}`;

/** The `Type/id` references of a resource that an include spec follows. */
function referencesOf(v: StoredVersion, spec: IncludeSpec): string[] {
  if (spec.source !== '*' && spec.source !== v.type) return [];
  const params = definitionOf(v.type).searchParams;
  const names = spec.param === '*' ? Object.keys(params).filter((n) => params[n]!.type === 'reference') : [spec.param];
  const out: string[] = [];
  for (const name of names) {
    for (const raw of params[name]?.extract(v.resource!) ?? []) {
      const ref = normalizeReference(raw as string);
      if (ref && (!spec.target || ref.startsWith(`${spec.target}/`))) out.push(ref);
    }
  }
  return out;
}

export async function includeFor(
  repo: FhirRepository,
  caller: SearchCaller,
  matches: readonly StoredVersion[],
  specs: { includes: IncludeSpec[]; revincludes: IncludeSpec[]; recurse: boolean },
): Promise<Included> {
  const seen = new Set(matches.map(key));
  const versions: StoredVersion[] = [];
  const refused = new Set<string>();
  let withheld = 0;
  let capped = false;
  const room = () => MAX_INCLUDED - versions.length;
  const add = (v: StoredVersion) => {
    if (seen.has(key(v))) return;
    if (room() <= 0) {
      capped = true;
      return;
    }
    seen.add(key(v));
    versions.push(v);
  };

  // _include, and with :recurse again on what it included
  let sources: readonly StoredVersion[] = matches;
  for (let depth = 0; depth < (specs.recurse ? MAX_INCLUDE_DEPTH : 1) && specs.includes.length > 0 && sources.length > 0; depth++) {
    const wanted = new Map<string, { type: ResourceType; id: string }>();
    for (const v of sources) {
      for (const ref of specs.includes.flatMap((spec) => referencesOf(v, spec))) {
        const [type, id] = ref.split('/') as [string, string];
        if (seen.has(ref) || wanted.has(ref) || !isResourceType(type)) continue;
        const decision = caller.decide(type, 'read');
        if (!decision.allowed) {
          refused.add(type);
          continue;
        }
        wanted.set(ref, { type, id });
      }
    }
    const refs = [...wanted.values()];
    if (refs.length > room()) capped = true;
    const read = await repo.readRefs(refs.slice(0, Math.max(room(), 0)));
    withheld += Math.min(refs.length, Math.max(room(), 0)) - read.length; // missing or deleted: counted with the withheld
    const before = versions.length;
    for (const v of read) {
      const patient = caller.decide(v.type, 'read');
      const inCompartment =
        patient.allowed && (patient.compartmentPatient === undefined || compartmentPatients(v.type, v.id, v.resource!).includes(patient.compartmentPatient));
      if (!inCompartment) withheld++;
      else add(v);
    }
    sources = versions.slice(before);
  }

  // _revinclude: the caller's own search of the referring type
  for (const spec of specs.revincludes) {
    const source = spec.source as ResourceType;
    const decision = caller.decide(source, 'search-type');
    if (!decision.allowed) {
      refused.add(source);
      continue;
    }
    const targets = matches.filter((m) => definitionOf(source).searchParams[spec.param]!.target === m.type || spec.target === m.type);
    for (let i = 0; i < targets.length && room() > 0; i += REVINCLUDE_REFS_PER_SEARCH) {
      const chunk = targets.slice(i, i + REVINCLUDE_REFS_PER_SEARCH);
      const clauses: SearchClause[] = [{ param: spec.param, anyOf: chunk.map((m) => ({ kind: 'reference', param: spec.param, ref: key(m) })) }];
      const compartment = compartmentClause(source, decision.compartmentPatient);
      if (compartment) clauses.push(compartment);
      const page = await runSearch(repo, { type: source, clauses, count: room() + 1 });
      page.versions.forEach(add);
      if (page.next) capped = true;
    }
  }

  const issues: fhir.OperationOutcomeIssue[] = [];
  if (refused.size > 0) {
    issues.push({
      severity: 'warning',
      code: 'forbidden',
      diagnostics: `Not included: resources of type ${[...refused].sort().join(', ')}, which this token may not read`,
    });
  }
  if (withheld > 0) {
    issues.push({
      severity: 'warning',
      code: 'suppressed',
      diagnostics: `Not included: ${withheld} referenced resource(s) not found or not accessible to this token`,
    });
  }
  if (capped) {
    issues.push({
      severity: 'warning',
      code: 'too-costly',
      diagnostics: `At most ${MAX_INCLUDED} resources are included per page; some were left out: ask for a smaller _count`,
    });
  }
  return { versions, issues };
}
