/**
 * The admin API's validation rules, as pure functions: a parsed JSON body in, a typed and normalized value out, or a
 * `BadRequestError` (400) naming the field and the rule.
 *
 * Scope definition names (`validateScopeName`):
 * - 1..128 characters: letters, digits, `.`, `_`, `-`, `:`, in `/`-separated non-empty segments, starting with a
 *   letter or digit (e.g. `ccri/medications.read`). This is within RFC 6749 §3.3's scope-token characters, so the
 *   token endpoint's `narrowScope` accepts it as any other registered scope.
 * - must not clash with SMART syntax: no `patient/`, `user/` or `system/` prefix, not `launch` or `launch/...`, not
 *   `openid`, `profile`, `fhirUser`, `offline_access` or `online_access`, nor anything else the SMART grammar parses
 *   (functions/scopes/scopes.ts `parseScope`): a definition must never shadow or be shadowed by a SMART scope;
 * - not the admin scope (`ccri/admin`), which is reserved;
 * - and none of that after folding (`foldScopeName`: lower case, each run of `/ : . _ -` one `/`): `ccri:admin`,
 *   `CCRI/Admin`, `Patient:Observation.read` or `OpenID` would look like a reserved or SMART scope to a person
 *   reading a client's scopes or a consent screen, so they are refused too. A new definition must also not fold to
 *   the same name as an existing one (AdminService.createDefinition).
 * Grants (`validateGrants`): an object of 1..14 entries, each key a resource type this server serves (exact STU3
 * name; a known alias such as `MedicationOrder` is refused with the name to use), each value the permission letters
 * `c r u d s` (create, read, update, delete, search; SMART v2), each at most once, in any order (stored canonical).
 * Client scopes (`validateClientScopes`): each a SMART scope that grants something on a served type, a SMART
 * identity/launch scope, the admin scope, or the name of an existing definition; anything else is an unknown scope.
 */
import { RESOURCE_TYPES, isResourceType, type ResourceType } from '../../contract/resource-types';
import type { Jwks } from 'aws-jwt-verify/jwk';
import type { ClientAuthMethod } from '../oauth/client-auth';
import { ADMIN_SCOPE } from '../scopes/admin';
import { PERMISSION_ORDER, TYPE_ALIASES, parseScope, type PermissionSet } from '../scopes/scopes';
import { BadRequestError } from '../fhir/errors';

export const MAX_SCOPE_NAME_LENGTH = 128;
const SCOPE_NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]*(\/[A-Za-z0-9._:-]+)*$/;
const SMART_LEVEL_PREFIX = /^(patient|user|system)\//;
/** The SMART forms a definition name must not take or resemble, and an example of a good name (for the messages). */
const SMART_FORMS = 'patient/, user/, system/, launch, openid, profile, fhirUser, offline_access';
const NAME_EXAMPLE = 'choose a name such as "ccri/medications.read"';
/** SMART forms, folded: a level as first segment, or an identity/launch scope. */
const FOLDED_SMART = /^((patient|user|system)(\/.*)?|openid|profile|fhiruser|offline\/access|online\/access|launch(\/.*)?)$/;

/**
 * A scope name folded for comparison: lower case, and each run of the separators `/ : . _ -` one `/`. Two names
 * that fold alike are confusable (`ccri:admin`, `CCRI/Admin` and `ccri/admin`).
 */
export function foldScopeName(name: string): string {
  return name.toLowerCase().replace(/[/:._-]+/g, '/');
}

/** Checks a scope definition name; returns it. */
export function validateScopeName(name: unknown, expression = 'name'): string {
  if (typeof name !== 'string' || name.length === 0) throw new BadRequestError('The scope name is required (a string).', expression);
  if (name.length > MAX_SCOPE_NAME_LENGTH) {
    throw new BadRequestError(`The scope name is longer than ${MAX_SCOPE_NAME_LENGTH} characters.`, expression);
  }
  if (SMART_LEVEL_PREFIX.test(name) || parseScope(name).kind !== 'invalid') {
    throw new BadRequestError(`The scope name "${name}" clashes with SMART scope syntax (${SMART_FORMS}): ${NAME_EXAMPLE}.`, expression);
  }
  if (name === ADMIN_SCOPE) throw new BadRequestError(`The scope name "${ADMIN_SCOPE}" is reserved.`, expression);
  const folded = foldScopeName(name);
  if (folded === foldScopeName(ADMIN_SCOPE)) {
    throw new BadRequestError(`The scope name "${name}" is confusable with the reserved "${ADMIN_SCOPE}".`, expression);
  }
  if (FOLDED_SMART.test(folded)) {
    throw new BadRequestError(`The scope name "${name}" is confusable with a SMART scope (${SMART_FORMS}): ${NAME_EXAMPLE}.`, expression);
  }
  if (!SCOPE_NAME.test(name)) {
    throw new BadRequestError(
      `The scope name "${name}" is malformed: use letters, digits, ".", "_", "-", ":" in "/"-separated segments, e.g. "ccri/medications.read".`,
      expression,
    );
  }
  return name;
}

/** Checks a permission string (letters of `cruds`, each once, any order); returns it canonical. */
export function validatePermissions(value: unknown, expression: string): PermissionSet {
  if (typeof value !== 'string' || value.length === 0) {
    throw new BadRequestError('Permissions must be a non-empty string of the letters c, r, u, d, s (e.g. "rs").', expression);
  }
  const bad = [...value].filter((ch) => !(PERMISSION_ORDER as readonly string[]).includes(ch));
  if (bad.length > 0) {
    throw new BadRequestError(
      `Bad permission letters "${[...new Set(bad)].join('')}" in "${value}": use c (create), r (read), u (update), d (delete), s (search).`,
      expression,
    );
  }
  if (new Set(value).size !== value.length) throw new BadRequestError(`Permission letters repeat in "${value}".`, expression);
  return PERMISSION_ORDER.filter((p) => value.includes(p)).join('');
}

/** Checks a grants object; returns it with canonical permissions, in RESOURCE_TYPES order. */
export function validateGrants(value: unknown): Partial<Record<ResourceType, PermissionSet>> {
  if (!isPlainObject(value) || Object.keys(value).length === 0) {
    throw new BadRequestError(
      'grants must be a non-empty object of resource type to permissions, e.g. {"MedicationStatement": "rs"}.',
      'grants',
    );
  }
  const unknown = Object.keys(value).filter((type) => !isResourceType(type));
  if (unknown.length > 0) {
    const hints = unknown.filter((t) => TYPE_ALIASES[t]).map((t) => ` (${t}: use ${TYPE_ALIASES[t]})`).join('');
    throw new BadRequestError(
      `Unknown resource type${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}${hints}. Served types: ${RESOURCE_TYPES.join(', ')}.`,
      `grants.${unknown[0]}`,
    );
  }
  const grants: Partial<Record<ResourceType, PermissionSet>> = {};
  for (const type of RESOURCE_TYPES) {
    if (type in value) grants[type] = validatePermissions(value[type], `grants.${type}`);
  }
  return grants;
}

export const MAX_DESCRIPTION_LENGTH = 500;

/** The body of `POST /admin/scopes` (with a name) or `PUT /admin/scopes/{name}` (name from the path). */
export interface ScopeDefinitionInput {
  name: string;
  description?: string;
  grants: Partial<Record<ResourceType, PermissionSet>>;
}

export function validateScopeDefinitionBody(body: unknown, pathName?: string): ScopeDefinitionInput {
  const obj = requireObject(body);
  rejectUnknownFields(obj, ['name', 'description', 'grants']);
  let name: string;
  if (pathName !== undefined) {
    name = validateScopeName(pathName, 'name');
    if (obj.name !== undefined && obj.name !== pathName) {
      throw new BadRequestError('The name in the body differs from the name in the URL (a definition cannot be renamed).', 'name');
    }
  } else {
    name = validateScopeName(obj.name);
  }
  const input: ScopeDefinitionInput = { name, grants: validateGrants(obj.grants) };
  const description = optionalString(obj.description, 'description', MAX_DESCRIPTION_LENGTH);
  if (description !== undefined) input.description = description;
  return input;
}

const CLIENT_ID = /^[A-Za-z0-9][A-Za-z0-9._~-]{0,127}$/;
import { FHIR_ID } from '../../contract/fhir-id';
export const SECRET_AUTH_METHODS: readonly ClientAuthMethod[] = ['client_secret_basic', 'client_secret_post'];
export const AUTH_METHODS: readonly ClientAuthMethod[] = [...SECRET_AUTH_METHODS, 'private_key_jwt'];
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];

/**
 * A client's public JWKS for private_key_jwt (RFC 7591 `jwks`): 1..10 keys, each with a `kid`, `kty` RSA (2048 bits
 * or more) or EC (P-384 for ES384), and no private member (a private key sent here is refused, not stored).
 */
export function validateJwks(value: unknown): Jwks {
  if (!isPlainObject(value) || !Array.isArray(value.keys) || value.keys.length === 0 || value.keys.length > 10) {
    throw new BadRequestError('jwks must be a JWKS: {"keys": [...]} with 1 to 10 public keys.', 'jwks');
  }
  value.keys.forEach((key: unknown, i: number) => {
    const where = `jwks.keys[${i}]`;
    if (!isPlainObject(key)) throw new BadRequestError('Each key must be a JWK object.', where);
    if (typeof key.kid !== 'string' || key.kid === '' || key.kid.length > 256) throw new BadRequestError('Each key needs a kid (SMART requires it).', `${where}.kid`);
    if (PRIVATE_JWK_MEMBERS.some((m) => m in key)) {
      throw new BadRequestError('The key holds private key material: register the PUBLIC key only (and treat this private key as exposed).', where);
    }
    if (key.kty === 'RSA') {
      if (typeof key.n !== 'string' || typeof key.e !== 'string' || Buffer.from(key.n, 'base64url').length < 256) {
        throw new BadRequestError('An RSA key needs n and e, and at least 2048 bits.', where);
      }
    } else if (key.kty === 'EC') {
      if (key.crv !== 'P-384' || typeof key.x !== 'string' || typeof key.y !== 'string') {
        throw new BadRequestError('An EC key must be on P-384 (ES384) with x and y.', where);
      }
    } else {
      throw new BadRequestError('kty must be RSA or EC.', `${where}.kty`);
    }
    if (key.use !== undefined && key.use !== 'sig') throw new BadRequestError('use must be sig.', `${where}.use`);
  });
  return value as unknown as Jwks;
}

/** A client's jwks_uri: an absolute https URL (http only for localhost, for local development). */
export function validateJwksUri(value: unknown): string {
  let url: URL | undefined;
  try {
    url = typeof value === 'string' && value.length <= 2048 ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  const local = url?.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (!url || (url.protocol !== 'https:' && !local) || url.username || url.password) {
    throw new BadRequestError('jwksUri must be an https URL (http only on localhost), without credentials.', 'jwksUri');
  }
  return url.toString();
}

/** The key fields of a client body: private_key_jwt needs exactly one of jwks and jwksUri; secret-only clients none. */
function validateKeys(obj: Record<string, unknown>, authMethods: readonly ClientAuthMethod[] | undefined): { jwks?: Jwks; jwksUri?: string } {
  const keys: { jwks?: Jwks; jwksUri?: string } = {};
  if (obj.jwks !== undefined && obj.jwks !== null) keys.jwks = validateJwks(obj.jwks);
  if (obj.jwksUri !== undefined && obj.jwksUri !== null) keys.jwksUri = validateJwksUri(obj.jwksUri);
  if (keys.jwks && keys.jwksUri) throw new BadRequestError('Give jwks or jwksUri, not both.', 'jwks');
  if (authMethods?.includes('private_key_jwt') && !keys.jwks && !keys.jwksUri) {
    throw new BadRequestError('private_key_jwt needs the client public keys: jwks (inline) or jwksUri.', 'authMethods');
  }
  return keys;
}

export function validateClientId(value: unknown, expression = 'clientId'): string {
  if (typeof value !== 'string' || !CLIENT_ID.test(value)) {
    throw new BadRequestError(
      'A client id is 1..128 characters: letters, digits, ".", "_", "~", "-", starting with a letter or digit.',
      expression,
    );
  }
  return value;
}

/** Scopes as a JSON array of strings or one space-separated string; each once, in order. */
export function parseScopeList(value: unknown): string[] {
  const list = typeof value === 'string' ? value.split(' ') : value;
  if (!Array.isArray(list) || list.some((s) => typeof s !== 'string')) {
    throw new BadRequestError('scopes must be an array of strings (or one space-separated string).', 'scopes');
  }
  const scopes = [...new Set((list as string[]).map((s) => s.trim()).filter((s) => s !== ''))];
  if (scopes.length === 0) throw new BadRequestError('A client needs at least one scope.', 'scopes');
  if (scopes.length > 100) throw new BadRequestError('A client may hold at most 100 scopes.', 'scopes');
  return scopes;
}

/**
 * Checks that every scope is one this server knows: a SMART resource scope on a served type (or a known alias), a
 * SMART identity or launch scope, the admin scope, or an existing definition's name.
 */
export function validateClientScopes(scopes: readonly string[], definitionNames: ReadonlySet<string>): string[] {
  const unknown = scopes.filter((scope) => {
    if (scope === ADMIN_SCOPE || definitionNames.has(scope)) return false;
    const parsed = parseScope(scope);
    if (parsed.kind === 'non-resource') return false;
    return !(parsed.kind === 'resource' && parsed.types.length > 0);
  });
  if (unknown.length > 0) {
    throw new BadRequestError(
      `Unknown scope${unknown.length > 1 ? 's' : ''}: ${unknown.join(' ')}. A client may hold SMART scopes on served types (e.g. user/Patient.read), openid/profile/launch scopes, ${ADMIN_SCOPE}, or the name of a scope definition (GET /admin/scopes).`,
      'scopes',
    );
  }
  return [...scopes];
}

function validateAuthMethods(value: unknown): ClientAuthMethod[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new BadRequestError(`authMethods must be a non-empty array of ${AUTH_METHODS.join(', ')}.`, 'authMethods');
  }
  const bad = value.filter((m) => !AUTH_METHODS.includes(m as ClientAuthMethod));
  if (bad.length > 0) {
    throw new BadRequestError(
      `Unsupported authentication method ${bad.map(String).join(', ')}: use ${AUTH_METHODS.join(', ')}.`,
      'authMethods',
    );
  }
  return [...new Set(value as ClientAuthMethod[])];
}

function validatePatient(value: unknown): string {
  if (typeof value !== 'string' || !FHIR_ID.test(value)) {
    throw new BadRequestError('patient must be a FHIR id (1..64 of A-Z a-z 0-9 - .): the bound Patient.', 'patient');
  }
  return value;
}

/** The body of `POST /admin/clients`. Scopes are checked against the definitions separately (`validateClientScopes`). */
export interface ClientCreateInput {
  clientId?: string;
  name: string;
  scopes: string[];
  authMethods: ClientAuthMethod[];
  patient?: string;
  enabled: boolean;
  jwks?: Jwks;
  jwksUri?: string;
}

export function validateClientCreateBody(body: unknown): ClientCreateInput {
  const obj = requireObject(body);
  rejectUnknownFields(obj, ['clientId', 'name', 'scopes', 'authMethods', 'patient', 'enabled', 'jwks', 'jwksUri']);
  const name = optionalString(obj.name, 'name', 200);
  if (name === undefined || name.trim() === '') throw new BadRequestError('name is required (a string).', 'name');
  const input: ClientCreateInput = {
    name,
    scopes: parseScopeList(obj.scopes),
    authMethods: obj.authMethods === undefined ? [...SECRET_AUTH_METHODS] : validateAuthMethods(obj.authMethods),
    enabled: optionalBoolean(obj.enabled, 'enabled') ?? true,
  };
  if (obj.clientId !== undefined) input.clientId = validateClientId(obj.clientId);
  if (obj.patient !== undefined && obj.patient !== null) input.patient = validatePatient(obj.patient);
  Object.assign(input, validateKeys(obj, input.authMethods));
  return input;
}

/** The body of `PATCH /admin/clients/{clientId}`: any of name, scopes, enabled, authMethods, patient (null unbinds). */
export interface ClientUpdateInput {
  name?: string;
  scopes?: string[];
  enabled?: boolean;
  authMethods?: ClientAuthMethod[];
  patient?: string | null;
  jwks?: Jwks | null;
  jwksUri?: string | null;
}

export function validateClientUpdateBody(body: unknown): ClientUpdateInput {
  const obj = requireObject(body);
  rejectUnknownFields(obj, ['name', 'scopes', 'enabled', 'authMethods', 'patient', 'jwks', 'jwksUri']);
  const input: ClientUpdateInput = {};
  const name = optionalString(obj.name, 'name', 200);
  if (name !== undefined) {
    if (name.trim() === '') throw new BadRequestError('name must not be empty.', 'name');
    input.name = name;
  }
  if (obj.scopes !== undefined) input.scopes = parseScopeList(obj.scopes);
  const enabled = optionalBoolean(obj.enabled, 'enabled');
  if (enabled !== undefined) input.enabled = enabled;
  if (obj.authMethods !== undefined) input.authMethods = validateAuthMethods(obj.authMethods);
  if (obj.patient === null) input.patient = null;
  else if (obj.patient !== undefined) input.patient = validatePatient(obj.patient);
  const keys = validateKeys(obj, undefined);
  // Setting one kind of key clears the other; null clears it.
  if (keys.jwks || obj.jwks === null) Object.assign(input, { jwks: keys.jwks ?? null, jwksUri: null });
  if (keys.jwksUri || obj.jwksUri === null) Object.assign(input, { jwksUri: keys.jwksUri ?? null, ...(keys.jwksUri ? { jwks: null } : {}) });
  if (Object.keys(input).length === 0) {
    throw new BadRequestError('Nothing to change: give any of name, scopes, enabled, authMethods, patient, jwks, jwksUri.');
  }
  return input;
}

/** The longest rotation grace period accepted: 30 days. */
export const MAX_GRACE_SECONDS = 30 * 24 * 3600;

/**
 * The body of `POST /admin/clients/{clientId}/secret`: `{ graceSeconds?, revokeTokens? }` (empty body = the
 * configured grace, tokens kept). `revokeTokens: true` also revokes every token the client holds (a leaked secret).
 */
export function validateRotateBody(body: unknown): { graceSeconds?: number; revokeTokens?: boolean } {
  if (body === undefined) return {};
  const obj = requireObject(body);
  rejectUnknownFields(obj, ['graceSeconds', 'revokeTokens']);
  const revokeTokens = optionalBoolean(obj.revokeTokens, 'revokeTokens');
  if (obj.graceSeconds === undefined) return revokeTokens === undefined ? {} : { revokeTokens };
  const grace = obj.graceSeconds;
  if (typeof grace !== 'number' || !Number.isInteger(grace) || grace < 0 || grace > MAX_GRACE_SECONDS) {
    throw new BadRequestError(`graceSeconds must be an integer from 0 to ${MAX_GRACE_SECONDS} (30 days).`, 'graceSeconds');
  }
  return revokeTokens === undefined ? { graceSeconds: grace } : { graceSeconds: grace, revokeTokens };
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** `GET /admin/audit?from=yyyy-mm-dd&to=yyyy-mm-dd&limit=n`: defaults the last 7 days (UTC) and 100 records. */
export function validateAuditQuery(
  query: Record<string, string[]>,
  now: Date,
): { from: string; to: string; limit: number } {
  const one = (name: string) => queryValue(query, name);
  const date = (name: string, fallback: string) => {
    const value = one(name) ?? fallback;
    if (!DATE.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`))) {
      throw new BadRequestError(`${name} must be a date yyyy-mm-dd (UTC).`, name);
    }
    return value;
  };
  const today = now.toISOString().slice(0, 10);
  const weekAgo = new Date(now.getTime() - 6 * 86_400_000).toISOString().slice(0, 10);
  const to = date('to', today);
  const from = date('from', one('to') ? to : weekAgo);
  if (from > to) throw new BadRequestError('from must not be after to.', 'from');
  const days = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000;
  if (days > 92) throw new BadRequestError('The audit range is at most 93 days.', 'from');
  const rawLimit = one('limit') ?? '100';
  const limit = Number(rawLimit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw new BadRequestError('limit must be an integer from 1 to 1000.', 'limit');
  }
  return { from, to, limit };
}

/** The value of query parameter `name`, undefined when absent; given twice or over `maxLength` characters: a 400. */
export function queryValue(query: Record<string, string[]>, name: string, maxLength = 256): string | undefined {
  const values = query[name];
  if (values && (values.length > 1 || values[0]!.length > maxLength)) {
    throw new BadRequestError(`The parameter ${name} must be given once, in at most ${maxLength} characters.`, name);
  }
  return values?.[0];
}

/** The JSON body of a request, parsed; undefined when there is none. */
export function parseJsonBody(body: string | undefined): unknown {
  if (body === undefined || body.trim() === '') return undefined;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    throw new BadRequestError('The request body is not valid JSON.');
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function requireObject(body: unknown): Record<string, unknown> {
  if (!isPlainObject(body)) throw new BadRequestError('The request body must be a JSON object.');
  return body;
}

function rejectUnknownFields(obj: Record<string, unknown>, allowed: readonly string[]): void {
  const unknown = Object.keys(obj).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) {
    throw new BadRequestError(`Unknown field${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}. Allowed: ${allowed.join(', ')}.`, unknown[0]);
  }
}

function optionalString(value: unknown, field: string, maxLength: number): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new BadRequestError(`${field} must be a string.`, field);
  if (value.length > maxLength) throw new BadRequestError(`${field} is longer than ${maxLength} characters.`, field);
  return value;
}

function optionalBoolean(value: unknown, field: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw new BadRequestError(`${field} must be true or false.`, field);
  return value;
}
