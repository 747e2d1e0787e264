/**
 * The SMART on FHIR scope grammar, as pure functions: a scope string in, what it grants out.
 *
 * - SMART App Launch 1.0 (http://hl7.org/fhir/smart-app-launch/1.0.0/scopes-and-launch-context.html):
 *   `(patient|user|system)/(Type|*).(read|write|*)`. `system/` comes from the Backend Services profile.
 * - SMART App Launch 2.x (https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html#scopes-for-requesting-fhir-resources):
 *   the suffix is an in-order, non-empty subset of `cruds` (create, read, update, delete, search). The v1 suffixes map
 *   onto it as the spec's "Scope Equivalence" table says: `read` = `rs`, `write` = `cud`, `*` = `cruds`.
 *
 * Nothing here throws: a scope that does not parse grants nothing and leaves the others alone.
 */
import { RESOURCE_TYPES, isResourceType, type ResourceType } from '../../contract/resource-types';

/** One SMART v2 permission: create, read, update, delete, search. */
export type Permission = 'c' | 'r' | 'u' | 'd' | 's';

/** The permissions in SMART v2's canonical order. */
export const PERMISSION_ORDER: readonly Permission[] = ['c', 'r', 'u', 'd', 's'];

/** A set of permissions as its canonical string: an in-order subset of `cruds` (possibly empty). */
export type PermissionSet = string;

/** SMART scope levels: `patient/` (a patient's compartment), `user/` (what the user may see), `system/` (backend). */
export type ScopeLevel = 'patient' | 'user' | 'system';

/**
 * What a set of scopes grants, per resource type.
 * - `type`: `user/` and `system/` grants, which reach the whole type.
 * - `patient`: `patient/` grants, which reach the bound patient's compartment (see permissions.ts `decide`).
 */
export interface Grants {
  type: Partial<Record<ResourceType, PermissionSet>>;
  patient: Partial<Record<ResourceType, PermissionSet>>;
}

/**
 * Scopes defined by name (a later issue keeps them in DynamoDB), e.g. `ccri/medications.read` ->
 * `{ MedicationStatement: 'rs', MedicationRequest: 'rs' }`. Each value is a permission suffix in the same grammar
 * (`rs`, `read`, `write`, `*`...). A named scope grants on the whole type, like a `user/` scope.
 */
export type ScopeDefinitions = ReadonlyMap<string, Readonly<Record<string, string>>>;

/**
 * Type names of earlier FHIR versions that clients still ask for, mapped to the STU3 type this server serves.
 * `MedicationOrder` is the DSTU2 name of `MedicationRequest`: the CCRI's "Patient, Condition & Medication" demo client
 * holds `user/MedicationOrder.read`, and reaches medication requests through this alias as its name promises.
 */
export const TYPE_ALIASES: Readonly<Record<string, ResourceType>> = { MedicationOrder: 'MedicationRequest' };

/**
 * Scopes that are valid but grant no resource access: OpenID Connect identity (`openid`, `profile`, `fhirUser`),
 * launch context (`launch`, `launch/patient`, `launch/encounter`) and refresh tokens (`offline_access`, `online_access`).
 */
const NON_RESOURCE_SCOPE = /^(openid|profile|fhirUser|offline_access|online_access|launch(\/[A-Za-z]+)?)$/;

/** A parsed scope. */
export type ParsedScope =
  | {
      kind: 'resource';
      level: ScopeLevel;
      /** The type as written (`*` for all types), before aliasing. */
      typeName: string;
      /** The served types it reaches (empty when the type is unknown here). */
      types: readonly ResourceType[];
      permissions: PermissionSet;
    }
  | { kind: 'non-resource'; scope: string }
  | { kind: 'invalid'; scope: string; reason: string };

// level / type-or-* . suffix. FHIR type names are capitalised alphanumerics.
const RESOURCE_SCOPE = /^(patient|user|system)\/(\*|[A-Z][A-Za-z]{0,63})\.([a-z*]{1,5})$/;
const V2_SUFFIX = /^c?r?u?d?s?$/;
const MAX_SCOPE_LENGTH = 256;

/**
 * The permissions a scope suffix names, canonical, or undefined when it is not a suffix.
 * v1 `read` = `rs`, `write` = `cud`, `*` = `cruds`; v2 an in-order non-empty subset of `cruds`.
 */
export function parsePermissionSuffix(suffix: string): PermissionSet | undefined {
  if (suffix === 'read') return 'rs';
  if (suffix === 'write') return 'cud';
  if (suffix === '*') return 'cruds';
  if (suffix.length > 0 && V2_SUFFIX.test(suffix)) return suffix;
  return undefined;
}

/** The served types a type name reaches: itself, its alias target, or every type for `*`; [] when unknown. */
export function typesNamed(typeName: string): readonly ResourceType[] {
  if (typeName === '*') return RESOURCE_TYPES;
  if (isResourceType(typeName)) return [typeName];
  const alias = TYPE_ALIASES[typeName];
  return alias ? [alias] : [];
}

/** Parses one scope token. Never throws. */
export function parseScope(scope: string): ParsedScope {
  if (typeof scope !== 'string' || scope.length === 0 || scope.length > MAX_SCOPE_LENGTH) {
    return { kind: 'invalid', scope: String(scope).slice(0, MAX_SCOPE_LENGTH), reason: 'empty or too long' };
  }
  if (NON_RESOURCE_SCOPE.test(scope)) return { kind: 'non-resource', scope };
  // SMART v2 granular scopes (`patient/Observation.rs?category=laboratory`) narrow a grant by a search; this server
  // cannot enforce that narrowing, so such a scope grants nothing rather than the whole type.
  const match = RESOURCE_SCOPE.exec(scope);
  if (!match) return { kind: 'invalid', scope, reason: 'not a SMART scope' };
  const [, level, typeName, suffix] = match as unknown as [string, ScopeLevel, string, string];
  const permissions = parsePermissionSuffix(suffix);
  if (permissions === undefined) return { kind: 'invalid', scope, reason: `bad permission suffix "${suffix}"` };
  return { kind: 'resource', level, typeName, types: typesNamed(typeName), permissions };
}

/** Splits a space-separated scope claim (RFC 6749 §3.3) into its tokens. */
export function splitScope(scope: string | undefined | null): string[] {
  if (typeof scope !== 'string') return [];
  return scope.split(/[ \t\r\n]+/).filter((s) => s.length > 0);
}

/** The union of two permission sets, canonical. */
export function unionPermissions(a: PermissionSet | undefined, b: PermissionSet | undefined): PermissionSet {
  const all = `${a ?? ''}${b ?? ''}`;
  return PERMISSION_ORDER.filter((p) => all.includes(p)).join('');
}

/** Whether a permission set holds a permission. */
export function hasPermission(set: PermissionSet | undefined, permission: Permission): boolean {
  return set !== undefined && set.includes(permission);
}

/** Grants with nothing in them. */
export function emptyGrants(): Grants {
  return { type: {}, patient: {} };
}

function add(target: Partial<Record<ResourceType, PermissionSet>>, types: readonly ResourceType[], perms: PermissionSet) {
  for (const type of types) {
    const merged = unionPermissions(target[type], perms);
    if (merged) target[type] = merged;
  }
}

/**
 * What a list of scopes grants. `user/` and `system/` scopes grant on the whole type, `patient/` scopes on the bound
 * patient's compartment; identity, launch and malformed scopes and unknown types grant nothing. A scope named in
 * `definitions` (dynamic scopes, stored in DynamoDB) expands to the type grants it defines.
 */
export function expandScopes(scopes: string | readonly string[], definitions?: ScopeDefinitions): Grants {
  const tokens = typeof scopes === 'string' ? splitScope(scopes) : scopes;
  const grants = emptyGrants();
  for (const token of tokens) {
    const defined = definitions?.get(token);
    if (defined) {
      for (const [typeName, suffix] of Object.entries(defined)) {
        const perms = parsePermissionSuffix(suffix);
        if (perms !== undefined) add(grants.type, typesNamed(typeName), perms);
      }
      continue;
    }
    const parsed = parseScope(token);
    if (parsed.kind !== 'resource') continue;
    add(parsed.level === 'patient' ? grants.patient : grants.type, parsed.types, parsed.permissions);
  }
  return grants;
}
