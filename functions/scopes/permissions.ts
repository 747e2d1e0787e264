/**
 * Permission decisions: may this token perform this FHIR interaction on this resource type, and if only inside a
 * patient's compartment, which one. Pure functions over the token's grants; the authorizer uses them to build its
 * policy (policy.ts) and each FHIR resource function re-checks them from the authorizer context (defence in depth).
 *
 * The rules, in the order `decide` applies them:
 * 1. Interaction -> permission (SMART v2 `cruds`): read, vread, history-instance: `r`; search-type: `s`; create: `c`;
 *    update: `u`; delete: `d`; `$validate`: `c` or `u` (validating is a dry run of a create or an update). What shows
 *    the caller stored data needs that permission too (ALSO_NEEDS): PATCH also `r`; conditional update, delete and
 *    create (`decide(..., 'create', true)`) also `s`.
 * 2. A `user/` or `system/` grant of that permission on the type allows it on the whole type.
 * 3. "Publicly Available Information" (the CCRI's name; PUBLIC_INFORMATION_TYPES): any valid token, even one holding
 *    only `profile`, may read and search those types. Writing them needs a write grant like any other type.
 * 4. A `patient/` grant of that permission (SMART App Launch: "patient/ scopes ... the current patient"):
 *    - token bound to a patient (`patient` claim): allowed inside that patient's compartment only
 *      (`compartmentPatient`), and only on types that have a patient compartment;
 *    - no bound patient: the grant acts on the whole type, as the CCRI did (it treated `patient/` like `user/`). With
 *      the strict setting (`strictPatientScopes`, env `STRICT_PATIENT_SCOPES=true`) such grants are dropped when the
 *      grants are built (`accessFromClaims`), so they allow nothing.
 * 5. Anything else is refused with a reason the client may see.
 */
import type { Interaction, SystemInteraction } from '../../contract/routes';
import { PUBLIC_INFORMATION_TYPES, RESOURCE_TYPES, isResourceType, type ResourceType } from '../../contract/resource-types';
import { ForbiddenError } from './errors';
import {
  PERMISSION_ORDER,
  emptyGrants,
  expandScopes,
  hasPermission,
  unionPermissions,
  type Grants,
  type Permission,
  type PermissionSet,
  type ScopeDefinitions,
} from './scopes';

export type { Grants, Permission, PermissionSet, ScopeDefinitions } from './scopes';

/** What a verified token may do: who it is, its scope claim as issued, its bound patient, and its grants. */
export interface Access {
  /** The OAuth client the token was issued to (`client_id`). */
  clientId: string;
  /** The token's `scope` claim, space-separated, as issued. */
  scope: string;
  /** The patient the client is bound to (the token's `patient` claim, a FHIR id), if any. */
  patient?: string;
  /** What the scopes grant (already narrowed by the strict setting). */
  grants: Grants;
}

export type Decision =
  | { allowed: true; compartmentPatient?: string }
  | { allowed: false; reason: string };

/** The permissions an interaction needs; holding ANY one of them is enough. */
export const INTERACTION_PERMISSIONS: Readonly<Record<Interaction, readonly Permission[]>> = {
  read: ['r'],
  vread: ['r'],
  'history-instance': ['r'],
  'search-type': ['s'],
  create: ['c'],
  update: ['u'],
  delete: ['d'],
  validate: ['c', 'u'],
  // SMART v2: `u` covers update and patch, `d` delete, `s` search and type-level history.
  patch: ['u'],
  'update-conditional': ['u'],
  'delete-conditional': ['d'],
  'history-type': ['s'],
  // Search breadth (issue 15): a compartment search is a search of its type; $everything needs read on Patient
  // (each type in it is then decided on its own, functions/fhir/compartment.ts).
  'search-compartment': ['s'],
  everything: ['r'],
};

/** Types whose resources belong to a patient's compartment: everything that holds patient data. */
export const PATIENT_COMPARTMENT_TYPES: ReadonlySet<ResourceType> = new Set(
  RESOURCE_TYPES.filter((type) => !PUBLIC_INFORMATION_TYPES.has(type)),
);

/** Options for turning token claims into an Access. */
export interface GrantOptions {
  /**
   * Refuse `patient/` scopes on tokens without a bound patient, instead of letting them act on the whole type as the
   * CCRI did. Default false (CCRI compatible). Env `STRICT_PATIENT_SCOPES=true` in the authorizer.
   */
  strictPatientScopes?: boolean;
  /** Named scope definitions (dynamic scopes); see `expandScopes`. */
  definitions?: ScopeDefinitions;
}

/**
 * The Access of a verified token's claims: what its SMART scopes grant, plus `namedGrants`, the grants of its named
 * scopes as the token endpoint expanded them at issuance (the token's `ccri_grants` claim, in `formatGrants` form;
 * functions/scopes/definition-store.ts `namedScopeGrants`). Undefined `namedGrants`: none. A malformed value
 * grants nothing (the verifier refuses such a token before this).
 */
export function accessFromClaims(
  claims: { clientId: string; scope: string; patient?: string; namedGrants?: string },
  options: GrantOptions = {},
): Access {
  const grants = expandScopes(claims.scope, options.definitions);
  const named = claims.namedGrants ? parseGrants(claims.namedGrants) : undefined;
  if (named) {
    for (const type of RESOURCE_TYPES) {
      const merged = unionPermissions(grants.type[type], named.type[type]);
      if (merged) grants.type[type] = merged;
    }
  }
  if (options.strictPatientScopes && claims.patient === undefined) grants.patient = {};
  const access: Access = { clientId: claims.clientId, scope: claims.scope, grants };
  if (claims.patient !== undefined) access.patient = claims.patient;
  return access;
}

const VERBS: Readonly<Record<Interaction, string>> = {
  read: 'read',
  vread: 'read',
  'history-instance': 'read the history of',
  'search-type': 'search',
  create: 'create',
  update: 'update',
  delete: 'delete',
  validate: 'validate',
  patch: 'patch',
  'update-conditional': 'update',
  'delete-conditional': 'delete',
  'history-type': 'read the history of',
  'search-compartment': 'search',
  everything: 'read $everything of',
};

const PERMISSION_NAMES: Readonly<Record<Permission, string>> = {
  c: 'create (c)',
  r: 'read (r)',
  u: 'update (u)',
  d: 'delete (d)',
  s: 'search (s)',
};

/**
 * Interactions that show the caller what is stored, and so also need the permission of the interaction that would
 * show it: PATCH applies the patch to the stored resource and answers with the result (its `test` operation probes
 * it), so it needs read; a conditional update or delete searches (its 0, 1 or many answers), so it needs search.
 * A conditional create is a create with a header (or a Bundle entry's `ifNoneExist`): `decide`'s `conditional`.
 */
export const ALSO_NEEDS: Readonly<Partial<Record<Interaction, Interaction>>> = {
  patch: 'read',
  'update-conditional': 'search-type',
  'delete-conditional': 'search-type',
};

/**
 * Decides whether `access` may perform `interaction` on `type`, and what it also needs (ALSO_NEEDS). See the rules
 * at the top of this file. Both decisions bound to a compartment are bound to the same patient, the token's.
 * `conditional`: a create with `If-None-Exist` (or a Bundle entry's `ifNoneExist`), which searches first and answers
 * with the match it found, so it needs search on the type as well.
 */
export function decide(access: Access, type: ResourceType, interaction: Interaction, conditional = false): Decision {
  if (conditional && interaction === 'create') return decideBoth(access, type, 'create', 'search-type', 'conditionally create');
  const also = ALSO_NEEDS[interaction];
  return also === undefined ? decideOne(access, type, interaction) : decideBoth(access, type, interaction, also, VERBS[interaction]);
}

function decideBoth(access: Access, type: ResourceType, interaction: Interaction, also: Interaction, verb: string): Decision {
  const first = decideOne(access, type, interaction);
  if (!first.allowed) return first;
  const second = decideOne(access, type, also);
  if (!second.allowed) {
    return {
      allowed: false,
      reason: `Insufficient Access Rights to access ${type}: to ${verb} ${type} a token also needs to ${VERBS[also]} it, e.g. user/${type}.read.`,
    };
  }
  const compartmentPatient = first.compartmentPatient ?? second.compartmentPatient;
  return compartmentPatient === undefined ? { allowed: true } : { allowed: true, compartmentPatient };
}

function decideOne(access: Access, type: ResourceType, interaction: Interaction): Decision {
  const needed = INTERACTION_PERMISSIONS[interaction];
  if (!needed) return { allowed: false, reason: `Unknown interaction ${String(interaction)}.` };
  const holds = (set: PermissionSet | undefined) => needed.some((p) => hasPermission(set, p));

  if (holds(access.grants.type[type])) return { allowed: true };
  if (PUBLIC_INFORMATION_TYPES.has(type) && needed.every((p) => p === 'r' || p === 's')) return { allowed: true };
  if (holds(access.grants.patient[type])) {
    if (access.patient === undefined) return { allowed: true };
    if (PATIENT_COMPARTMENT_TYPES.has(type)) return { allowed: true, compartmentPatient: access.patient };
    return {
      allowed: false,
      reason: `Insufficient Access Rights to access ${type}: patient/ scopes reach only the bound patient's compartment, and ${type} is not in it.`,
    };
  }
  const wanted = needed.map((p) => PERMISSION_NAMES[p]).join(' or ');
  const example = needed[0] === 'r' || needed[0] === 's' ? 'read' : 'write';
  return {
    allowed: false,
    reason: `Insufficient Access Rights to access ${type}: to ${VERBS[interaction]} ${type} a token needs a scope granting ${wanted} on it, e.g. user/${type}.${example}.`,
  };
}

/**
 * The interactions a system-level route may carry out on each type: a Bundle's entries read, search, create, update,
 * patch and delete; system history returns what type-level history would (SMART v2: `s`).
 */
const SYSTEM_INTERACTIONS: Readonly<Record<SystemInteraction, readonly Interaction[]>> = {
  transaction: ['read', 'search-type', 'create', 'update', 'patch', 'delete'],
  'history-system': ['history-type'],
};

/**
 * Decides a route of no one type (`POST /STU3`, `GET /STU3/_history`): allowed when the token may carry out at least
 * one of its interactions on at least one type, since the function then decides every entry (a Bundle) or every
 * returned version (history) with `decide`, and refuses or leaves out the rest. Any valid token may read and search
 * the public types (rule 3), so both routes are open to every token today; the rule stays exact if that changes.
 */
export function decideSystem(access: Access, interaction: SystemInteraction): Decision {
  const interactions = SYSTEM_INTERACTIONS[interaction];
  if (!interactions) return { allowed: false, reason: `Unknown interaction ${String(interaction)}.` };
  if (RESOURCE_TYPES.some((type) => interactions.some((i) => decide(access, type, i).allowed))) return { allowed: true };
  return { allowed: false, reason: `Insufficient Access Rights: the token's scopes allow no ${interaction} entry on any type.` };
}

// ---------------------------------------------------------------------------------------------------------------
// The authorizer context: API Gateway hands it to the resource functions as `requestContext.authorizer`, strings only.
// ---------------------------------------------------------------------------------------------------------------

/**
 * The access token claim that carries what the token's named scopes granted when it was issued, in `formatGrants`
 * form (type grants only). A private claim name (RFC 7519 §4.3), prefixed so it cannot collide with a registered one.
 */
export const NAMED_GRANTS_CLAIM = 'ccri_grants';

/** The authorizer context contract (string values only). */
export interface AuthorizerContext {
  clientId: string;
  scope: string;
  patient?: string;
  /** `formatGrants(access.grants)`. */
  grants: string;
  [key: string]: string | undefined;
}

import { FHIR_ID } from '../../contract/fhir-id';
const GRANT_ITEM = /^(patient\/)?([A-Za-z]+):(c?r?u?d?s?)$/;

/** Whether a value is a valid FHIR id (https://hl7.org/fhir/STU3/datatypes.html#id). */
export function isFhirId(value: unknown): value is string {
  return typeof value === 'string' && FHIR_ID.test(value);
}

/**
 * The compact form of grants for the authorizer context: space-separated `Type:perms` (whole type) and
 * `patient/Type:perms` (patient compartment) items, types in RESOURCE_TYPES order, perms canonical `cruds` order.
 * E.g. `Patient:rs Condition:rs patient/Observation:rs`.
 */
export function formatGrants(grants: Grants): string {
  const items: string[] = [];
  for (const type of RESOURCE_TYPES) {
    const perms = grants.type[type];
    if (perms) items.push(`${type}:${perms}`);
  }
  for (const type of RESOURCE_TYPES) {
    const perms = grants.patient[type];
    if (perms) items.push(`patient/${type}:${perms}`);
  }
  return items.join(' ');
}

/** Parses `formatGrants` output; undefined when any item is malformed. */
export function parseGrants(value: string): Grants | undefined {
  const grants = emptyGrants();
  for (const item of value.split(' ').filter((s) => s.length > 0)) {
    const match = GRANT_ITEM.exec(item);
    if (!match) return undefined;
    const [, patient, type, perms] = match as unknown as [string, string | undefined, string, string];
    if (!isResourceType(type) || perms.length === 0) return undefined;
    const target = patient ? grants.patient : grants.type;
    const merged = `${target[type] ?? ''}${perms}`;
    target[type] = PERMISSION_ORDER.filter((p) => merged.includes(p)).join('');
  }
  return grants;
}

/** The authorizer context of an Access: `{clientId, scope, patient?, grants}`, strings only. */
export function toContext(access: Access): AuthorizerContext {
  const context: AuthorizerContext = { clientId: access.clientId, scope: access.scope, grants: formatGrants(access.grants) };
  if (access.patient !== undefined) context.patient = access.patient;
  return context;
}

/**
 * The Access a resource function re-checks, from `requestContext.authorizer`. Extra keys (API Gateway adds
 * `principalId`, `integrationLatency`) are ignored. Throws ForbiddenError (403) when the context is absent or invalid:
 * a protected route reached without the authorizer's context must not touch data.
 */
export function accessFromContext(ctx: Record<string, string> | undefined): Access {
  const refuse = () => new ForbiddenError('Access denied: the request carries no valid authorization context.');
  if (!ctx || typeof ctx !== 'object') throw refuse();
  const { clientId, scope, patient, grants } = ctx;
  if (typeof clientId !== 'string' || clientId.length === 0) throw refuse();
  if (typeof scope !== 'string' || typeof grants !== 'string') throw refuse();
  if (patient !== undefined && patient !== '' && !isFhirId(patient)) throw refuse();
  const parsed = parseGrants(grants);
  if (!parsed) throw refuse();
  const access: Access = { clientId, scope, grants: parsed };
  if (patient) access.patient = patient;
  return access;
}
