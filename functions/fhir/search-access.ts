/**
 * What a search across types needs to know of its caller: the permission decision for any type and interaction
 * (functions/scopes/permissions.ts `decide` over the token's grants), and what continuation tokens are bound to.
 * Included, chained and compartment resources are each decided by the type they are of, never by the searched one.
 */
import type { Interaction } from '../../contract/routes';
import type { ResourceType } from '../../contract/resource-types';
import type { Decision } from '../scopes/permissions';
import { COMPARTMENT_PARAM, definitionOf, inPatientCompartment } from './definitions';
import type { SearchClause } from './search';

export interface SearchCaller {
  /** The client id and its compartment: what continuation tokens are bound to besides the query. */
  binding: string;
  decide(type: ResourceType, interaction: Interaction): Decision;
}

/** A patient's compartment as a search clause on `type` (undefined: no constraint), checked on every candidate. */
export function compartmentClause(type: ResourceType, patient: string | undefined): SearchClause | undefined {
  if (patient === undefined || !inPatientCompartment(type)) return undefined;
  if (type === 'Patient') return { param: COMPARTMENT_PARAM, anyOf: [{ kind: 'id', id: patient }] };
  return {
    param: COMPARTMENT_PARAM,
    anyOf: definitionOf(type).compartmentParams.map((param) => ({ kind: 'reference' as const, param, ref: `Patient/${patient}` })),
  };
}
