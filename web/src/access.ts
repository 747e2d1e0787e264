/**
 * "What this token may do", decided by the server's own rules: the SMART grammar and the permission decisions of
 * functions/scopes are bundled into the page as they are (no second copy). The page reads the token's claims only;
 * the live calls (main.ts) then confirm each cell against the API.
 */
import type { Interaction } from '../../contract/routes';
import { RESOURCE_TYPES, type ResourceType } from '../../contract/resource-types';
import { accessFromClaims, decide, type Access } from '../../functions/scopes/permissions';
import { parseScope, splitScope } from '../../functions/scopes/scopes';

export { RESOURCE_TYPES, type ResourceType };

/** The grid's columns and the interactions each stands for. */
export const COLUMNS = {
  read: ['read'],
  search: ['search-type'],
  write: ['create', 'update', 'delete'],
} as const satisfies Record<string, readonly Interaction[]>;

export type Column = keyof typeof COLUMNS;

export interface Cell {
  /** allowed on the whole type, only in the bound patient's compartment, or denied. */
  verdict: 'allowed' | 'compartment' | 'denied';
  /** For write: which of create/update/delete. */
  interactions: Interaction[];
  /** Why not, in the server's words (the 403 reason the FHIR functions give). */
  reason?: string;
  patient?: string;
}

export function accessOf(claims: Record<string, unknown>): Access {
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return accessFromClaims({ clientId: str(claims.client_id) ?? str(claims.sub) ?? '', scope: str(claims.scope) ?? '', patient: str(claims.patient) });
}

export function cellOf(access: Access, type: ResourceType, column: Column): Cell {
  const allowed: Interaction[] = [];
  let compartment: string | undefined;
  let reason: string | undefined;
  for (const interaction of COLUMNS[column]) {
    const d = decide(access, type, interaction);
    if (d.allowed) {
      allowed.push(interaction);
      compartment ??= d.compartmentPatient;
    } else reason ??= d.reason;
  }
  if (allowed.length === 0) return { verdict: 'denied', interactions: [], reason };
  return compartment ? { verdict: 'compartment', interactions: allowed, patient: compartment } : { verdict: 'allowed', interactions: allowed };
}

/** Why `interaction` on `type` is refused to this token, in the server's words; undefined when the rules allow it. */
export function refusalReason(access: Access, type: ResourceType, interaction: Interaction): string | undefined {
  const d = decide(access, type, interaction);
  return d.allowed ? undefined : d.reason;
}

/** Scopes of the claim that the SMART grammar does not read as resource scopes (named scopes, typos). */
export function unreadScopes(scope: unknown): string[] {
  return splitScope(typeof scope === 'string' ? scope : '').filter((s) => parseScope(s).kind === 'invalid');
}
