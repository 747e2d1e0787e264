/**
 * Chained parameters and `_has` (reverse chains), one level, as clauses of the main search: each is resolved by
 * ONE bounded search of the other type, run with the caller's own access to that type (its scopes and its
 * compartment), before the main search.
 *  - `patient.family=x` on Condition: the Patients with family=x (at most MAX_CHAIN_TARGETS) become the clause
 *    `patient=Patient/a,Patient/b...`, which drives the main search through the reference index.
 *  - `_has:Condition:patient:code=x` on Patient: the Conditions with code=x (at most MAX_HAS_REFERRERS examined)
 *    give the Patients they refer to (at most MAX_CHAIN_TARGETS), the clause `_id=a,b...`.
 * Chaining through a type the token may not search is a 403: the result would reveal what that type holds.
 * Over a cap: a 400 naming it. The resolved ids are bound into continuation tokens (search-service.ts), so a next
 * page after the data changed is a 400, never a page of another result.
 */
import type { ResourceType } from '../../contract/resource-types';
import { runSearch } from '../store/search-engine';
import type { FhirRepository } from '../store/repository';
import { definitionOf } from './definitions';
import { BadRequestError, ForbiddenError } from './errors';
import { normalizeReference, parseSearch, type SearchClause } from './search';
import { MAX_CHAIN_TARGETS, MAX_HAS_REFERRERS, type ChainSpec, type HasSpec } from './search-request';
import { compartmentClause, type SearchCaller } from './search-access';


/** The caller's search of `type` with these criteria: the clauses, the caller's compartment included; 403 if refused. */
function searchAs(caller: SearchCaller, type: ResourceType, criterion: Record<string, string[]>, key: string): SearchClause[] {
  const decision = caller.decide(type, 'search-type');
  if (!decision.allowed) throw new ForbiddenError(`${key} searches ${type}, which this token may not search`);
  const parsed = parseSearch(type, criterion, true);
  const compartment = compartmentClause(type, decision.compartmentPatient);
  return compartment ? [...parsed.clauses, compartment] : parsed.clauses;
}

export async function chainClause(repo: FhirRepository, caller: SearchCaller, chain: ChainSpec): Promise<SearchClause> {
  const clauses = searchAs(caller, chain.target, chain.criterion, chain.key);
  const page = await runSearch(repo, { type: chain.target, clauses, count: MAX_CHAIN_TARGETS + 1 });
  if (page.versions.length > MAX_CHAIN_TARGETS || page.next) {
    throw new BadRequestError(
      `${chain.key}=${chain.value} matches more than ${MAX_CHAIN_TARGETS} ${chain.target} resources (the most a chain may resolve to); narrow it`,
      chain.key,
    );
  }
  return {
    param: chain.key,
    anyOf: page.versions.map((v) => ({ kind: 'reference' as const, param: chain.param, ref: `${chain.target}/${v.id}` })),
  };
}

export async function hasClause(repo: FhirRepository, caller: SearchCaller, type: ResourceType, has: HasSpec): Promise<SearchClause> {
  const clauses = searchAs(caller, has.source, has.criterion, has.key);
  const page = await runSearch(repo, { type: has.source, clauses, count: MAX_HAS_REFERRERS + 1, budget: MAX_HAS_REFERRERS * 2 });
  if (page.versions.length > MAX_HAS_REFERRERS || page.next) {
    throw new BadRequestError(`${has.key}=${has.value} matches more than ${MAX_HAS_REFERRERS} ${has.source} resources (the most _has examines); narrow it`, has.key);
  }
  const ids = new Set<string>();
  const param = definitionOf(has.source).searchParams[has.param]!;
  for (const v of page.versions) {
    for (const raw of param.extract(v.resource!)) {
      const ref = normalizeReference(raw as string);
      if (ref?.startsWith(`${type}/`)) ids.add(ref.slice(type.length + 1));
    }
  }
  if (ids.size > MAX_CHAIN_TARGETS) {
    throw new BadRequestError(`${has.key}=${has.value} refers to more than ${MAX_CHAIN_TARGETS} ${type} resources (the most _has may resolve to); narrow it`, has.key);
  }
  return { param: has.key, anyOf: [...ids].sort().map((id) => ({ kind: 'id' as const, id })) };
}
