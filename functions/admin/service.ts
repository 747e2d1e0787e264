/**
 * The admin operations, as plain functions over the stores: clients, scope definitions, the audit trail. Every change
 * is made by an `actor` (the admin client's id, from the authorizer context) and recorded in the audit trail after it
 * succeeded. No secret leaves this module except a new client secret, once, in the result of `createClient` and
 * `rotateSecret`; the stores hold only its salted hash.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Jwks } from 'aws-jwt-verify/jwk';
import type { ClientAuthMethod } from '../oauth/client-auth';
import { ClientChangedError, InvalidCursorError, hashClientSecret, type ClientAdminStore, type ClientPatch, type ClientRecord, type ClientSecretHash } from '../oauth/clients';
import type { ClientCutoffs } from '../oauth/revocation';
import { ADMIN_SCOPE } from '../scopes/admin';
import type { ScopeDefinition, ScopeDefinitionStore } from '../scopes/definition-store';
import type { AuditAction, AuditLog, AuditRecord } from './audit';
import { BadRequestError, ForbiddenError, ConflictError, NotFoundError } from '../fhir/errors';
import {
  foldScopeName,
  validateClientScopes,
  type ClientCreateInput,
  type ClientUpdateInput,
  type ScopeDefinitionInput,
} from './validation';

/** A client as the admin API shows it: everything but the secret hashes (only how many, and when each expires). */
export interface ClientView {
  clientId: string;
  name: string;
  scopes: string[];
  enabled: boolean;
  authMethods: ClientAuthMethod[];
  patient?: string;
  createdAt: string;
  /** One entry per accepted secret; `notAfter` set on a secret being rotated out. */
  secrets: Array<{ notAfter?: string }>;
  /** private_key_jwt: the registered public keys, or where they are published. */
  jwks?: Jwks;
  jwksUri?: string;
}

export function clientView(client: ClientRecord): ClientView {
  const view: ClientView = {
    clientId: client.clientId,
    name: client.name,
    scopes: client.scopes,
    enabled: client.enabled,
    authMethods: client.authMethods,
    createdAt: client.createdAt,
    secrets: client.secrets.map((s) => (s.notAfter ? { notAfter: s.notAfter } : {})),
  };
  if (client.patient !== undefined) view.patient = client.patient;
  if (client.jwks) view.jwks = client.jwks;
  if (client.jwksUri) view.jwksUri = client.jwksUri;
  return view;
}

export interface AdminServiceDeps {
  clients: ClientAdminStore;
  definitions: ScopeDefinitionStore;
  audit: AuditLog;
  /** The rotation grace period when a request names none, seconds (env ROTATION_GRACE_SECONDS, default 1 day). */
  defaultGraceSeconds: number;
  now?: () => Date;
  /** A new client secret: 64 base64url characters (384 random bits) by default. */
  generateSecret?: () => string;
  /** Where revocations go (functions/oauth/revocation.ts): disabling a client revokes its tokens. */
  revocations?: ClientCutoffs;
}

/** Who asks, for the audit trail. */
export interface Actor {
  clientId: string;
  requestId?: string;
}

export const DEFAULT_GRACE_SECONDS = 24 * 3600;
/** Bytes of client records one listing page holds (then `next`): with one Scan page more, well under 6 MB. */
export const MAX_LISTING_BYTES = 2 * 1024 * 1024;
/**
 * Scope definitions at most. `GET /admin/scopes` answers every one (1.2 KB at most each: about 1.2 MB, under Lambda's
 * 6 MB), and each create or client change reads them all. Two creates at once may both pass the check: the bound
 * holds to within the admin function's concurrency.
 */
export const MAX_SCOPE_DEFINITIONS = 1000;
/** Attempts of a read-modify-write that concurrent changes keep beating (each round, one of them wins). */
const MAX_ATTEMPTS = 5;

export class AdminService {
  private readonly now: () => Date;
  private readonly generateSecret: () => string;

  constructor(private readonly deps: AdminServiceDeps) {
    this.now = deps.now ?? (() => new Date());
    this.generateSecret = deps.generateSecret ?? (() => randomBytes(48).toString('base64url'));
  }

  // ----- clients ------------------------------------------------------------------------------------------------

  /** A page of the clients (sorted by id within it) and the cursor of the next, when there may be one. */
  async listClients(cursor?: string): Promise<{ clients: ClientView[]; next?: string }> {
    const page = await this.deps.clients.listPage(cursor, MAX_LISTING_BYTES).catch((err: unknown) => {
      throw err instanceof InvalidCursorError ? new BadRequestError('Invalid cursor: use the next of a listing.', 'cursor') : err;
    });
    const clients = page.clients.sort((a, b) => a.clientId.localeCompare(b.clientId)).map(clientView);
    return page.next === undefined ? { clients } : { clients, next: page.next };
  }

  async getClient(clientId: string): Promise<ClientView> {
    return clientView(await this.requireClient(clientId));
  }

  /**
   * Registers a client; the result holds its secret, the only time it is ever shown. A client that may only use
   * private_key_jwt gets no secret at all.
   */
  async createClient(actor: Actor, input: ClientCreateInput): Promise<{ client: ClientView; clientSecret?: string }> {
    const scopes = await this.checkScopes(input.scopes);
    const now = this.now();
    const clientSecret = input.authMethods.some((m) => m !== 'private_key_jwt') ? this.generateSecret() : undefined;
    const record: ClientRecord = {
      clientId: input.clientId ?? randomUUID(),
      name: input.name,
      secrets: clientSecret === undefined ? [] : [hashClientSecret(clientSecret)],
      scopes,
      enabled: input.enabled,
      authMethods: input.authMethods,
      createdAt: now.toISOString(),
    };
    if (input.patient !== undefined) record.patient = input.patient;
    if (input.jwks) record.jwks = input.jwks;
    if (input.jwksUri) record.jwksUri = input.jwksUri;
    if (!(await this.deps.clients.create(record))) throw new ConflictError(`A client ${record.clientId} exists already.`);
    const client = clientView(record);
    await this.audit(actor, 'client.create', record.clientId, {
      name: client.name,
      scopes: client.scopes,
      enabled: client.enabled,
      authMethods: client.authMethods,
      ...(client.patient ? { patient: client.patient } : {}),
      ...(client.jwksUri ? { jwksUri: client.jwksUri } : {}),
      ...(client.jwks ? { jwksKids: client.jwks.keys.map((k) => k.kid) } : {}),
    });
    return clientSecret === undefined ? { client } : { client, clientSecret };
  }

  /** Changes a client's name, scopes, enabled flag, auth methods or bound patient. */
  async updateClient(actor: Actor, clientId: string, input: ClientUpdateInput): Promise<ClientView> {
    const current = await this.requireClient(clientId);
    if (clientId === actor.clientId) {
      if (input.enabled === false) throw new ForbiddenError('An admin client cannot disable itself.');
      if (input.scopes && !input.scopes.includes(ADMIN_SCOPE) && current.scopes.includes(ADMIN_SCOPE)) {
        throw new ForbiddenError(`An admin client cannot remove ${ADMIN_SCOPE} from itself.`);
      }
    }
    const patch: ClientPatch = { ...input, ...(input.scopes ? { scopes: await this.checkScopes(input.scopes) } : {}) };
    // Disabling a client revokes every token it holds (within the authorizer's stated bound), not only new ones.
    const tokensNotBefore = input.enabled === false && current.enabled ? await this.revokeTokensOf(clientId) : undefined;
    const updated = await this.deps.clients.update(clientId, patch);
    if (!updated) throw new NotFoundError(`No client ${clientId}.`);
    await this.audit(actor, 'client.update', clientId, { ...patch, ...(tokensNotBefore ? { tokensNotBefore } : {}), ...changedScopes(current.scopes, patch.scopes) });
    return clientView(updated);
  }

  /**
   * Rotates the client's secret: a new secret is added, and every older one keeps working until now + graceSeconds
   * (`notAfter`; an earlier notAfter is kept), then stops. Secrets already expired are dropped.
   */
  async rotateSecret(
    actor: Actor,
    clientId: string,
    graceSeconds: number = this.deps.defaultGraceSeconds,
    revokeTokens = false,
  ): Promise<{ clientId: string; clientSecret: string; previousSecretsNotAfter: string | null; client: ClientView }> {
    const now = this.now();
    const deadline = new Date(now.getTime() + graceSeconds * 1000).toISOString();
    const clientSecret = this.generateSecret();
    // A leaked secret's tokens go first, once (not per attempt of the read-modify-write below).
    if (revokeTokens) await this.revokeTokensOf(clientId);
    let kept: ClientSecretHash[] = [];
    const updated = await this.updateFrom(clientId, 'secrets', (current) => {
      kept =
        graceSeconds === 0
          ? []
          : current.secrets
              .filter((s) => s.notAfter === undefined || Date.parse(s.notAfter) > now.getTime())
              .map((s) => ({ ...s, notAfter: s.notAfter && Date.parse(s.notAfter) < Date.parse(deadline) ? s.notAfter : deadline }));
      return { secrets: [...kept, hashClientSecret(clientSecret)] };
    });
    const previousSecretsNotAfter = kept.length > 0 ? deadline : null;
    await this.audit(actor, 'client.rotate-secret', clientId, {
      graceSeconds,
      previousSecretsNotAfter,
      previousSecretsKept: kept.length,
      revokeTokens,
    });
    return { clientId, clientSecret, previousSecretsNotAfter, client: clientView(updated) };
  }

  /** Revokes every token the client holds now (POST /admin/clients/{clientId}/revoke-tokens). */
  async revokeClientTokens(actor: Actor, clientId: string): Promise<{ clientId: string; tokensNotBefore: string }> {
    await this.requireClient(clientId);
    const tokensNotBefore = await this.revokeTokensOf(clientId);
    await this.audit(actor, 'client.revoke-tokens', clientId, { tokensNotBefore });
    return { clientId, tokensNotBefore: new Date(tokensNotBefore * 1000).toISOString() };
  }

  /**
   * Revokes the client's tokens issued up to now: cut-off the next whole second (a token's `iat` is in seconds), so
   * that every token issued so far, even this second, is refused; the store also raises the client record's
   * `tokensNotBefore`, from which the token endpoint issues new ones.
   */
  private async revokeTokensOf(clientId: string): Promise<number> {
    if (!this.deps.revocations) throw new Error('no revocation store configured');
    const notBefore = Math.floor(this.now().getTime() / 1000) + 1;
    await this.deps.revocations.revokeClientTokens(clientId, notBefore);
    return notBefore;
  }

  async deleteClient(actor: Actor, clientId: string): Promise<void> {
    if (clientId === actor.clientId) throw new ForbiddenError('An admin client cannot delete itself.');
    const current = await this.requireClient(clientId);
    if (!(await this.deps.clients.delete(clientId))) throw new NotFoundError(`No client ${clientId}.`);
    await this.audit(actor, 'client.delete', clientId, { name: current.name, scopes: current.scopes });
  }

  // ----- scope definitions --------------------------------------------------------------------------------------

  /** Every definition, by name: at most MAX_SCOPE_DEFINITIONS, so one answer holds them all. */
  listDefinitions(): Promise<ScopeDefinition[]> {
    return this.deps.definitions.list();
  }

  async getDefinition(name: string): Promise<ScopeDefinition> {
    const found = await this.deps.definitions.get(name);
    if (!found) throw new NotFoundError(`No scope definition ${name}.`);
    return found;
  }

  async createDefinition(actor: Actor, input: ScopeDefinitionInput): Promise<ScopeDefinition> {
    const existing = await this.deps.definitions.list();
    if (existing.length >= MAX_SCOPE_DEFINITIONS) throw new ConflictError(`At most ${MAX_SCOPE_DEFINITIONS} scope definitions: delete one first.`);
    const folded = foldScopeName(input.name);
    const twin = existing.find((d) => d.name !== input.name && foldScopeName(d.name) === folded);
    if (twin) {
      throw new ConflictError(`The scope name ${input.name} is confusable with the existing definition ${twin.name}: choose another name.`);
    }
    const at = this.now().toISOString();
    const definition: ScopeDefinition = { ...input, createdAt: at, updatedAt: at };
    if (!(await this.deps.definitions.create(definition))) {
      throw new ConflictError(`A scope definition ${input.name} exists already: PUT /admin/scopes/{name} changes it.`);
    }
    await this.audit(actor, 'scope.create', input.name, { grants: input.grants, description: input.description });
    return definition;
  }

  async updateDefinition(actor: Actor, input: ScopeDefinitionInput): Promise<ScopeDefinition> {
    const current = await this.getDefinition(input.name);
    const definition: ScopeDefinition = { ...input, createdAt: current.createdAt, updatedAt: this.now().toISOString() };
    if (!(await this.deps.definitions.replace(definition))) throw new NotFoundError(`No scope definition ${input.name}.`);
    await this.audit(actor, 'scope.update', input.name, {
      grants: input.grants,
      previousGrants: current.grants,
      description: input.description,
    });
    return definition;
  }

  /**
   * Deletes a definition. Refused (409) while clients hold the scope, unless `cascade`, which deletes it and then
   * removes the scope from those clients. (Deleting first is the safe order: a client holding an undefined name is
   * granted nothing by it.)
   */
  async deleteDefinition(actor: Actor, name: string, cascade: boolean): Promise<{ removedFrom: string[] }> {
    await this.getDefinition(name);
    const holders = (await this.deps.clients.list()).filter((c) => c.scopes.includes(name));
    if (holders.length > 0 && !cascade) {
      const ids = holders.map((c) => c.clientId).sort();
      throw new ConflictError(
        `Scope ${name} is held by ${ids.length} client${ids.length > 1 ? 's' : ''} (${ids.slice(0, 20).join(', ')}${ids.length > 20 ? ', ...' : ''}): remove it from them first, or delete with ?cascade=true.`,
      );
    }
    if (!(await this.deps.definitions.delete(name))) throw new NotFoundError(`No scope definition ${name}.`);
    const removedFrom: string[] = [];
    for (const holder of holders) {
      const updated = await this.updateFrom(holder.clientId, 'scopes', (current) => ({ scopes: current.scopes.filter((s) => s !== name) })).catch((err: unknown) => {
        if (err instanceof NotFoundError) return undefined; // deleted meanwhile
        throw err;
      });
      if (updated) removedFrom.push(holder.clientId);
    }
    removedFrom.sort();
    await this.audit(actor, 'scope.delete', name, { cascade, removedFrom });
    return { removedFrom };
  }

  // ----- audit --------------------------------------------------------------------------------------------------

  listAudit(query: { from: string; to: string; limit: number }): Promise<AuditRecord[]> {
    return this.deps.audit.list(query);
  }

  // ----- helpers ------------------------------------------------------------------------------------------------

  /**
   * A read-modify-write of a client's `field` (its secrets, its scopes): the patch `change` makes of the stored
   * client is written only while that field still holds what was read; else read again (concurrent rotations each
   * keep the others' secrets; a cascade never restores a scope removed meanwhile), and after MAX_ATTEMPTS a 409.
   */
  private async updateFrom(
    clientId: string,
    field: 'secrets' | 'scopes',
    change: (current: ClientRecord) => ClientPatch,
  ): Promise<ClientRecord> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.requireClient(clientId);
      try {
        const updated = await this.deps.clients.update(clientId, change(current), { [field]: current[field] });
        if (!updated) throw new NotFoundError(`No client ${clientId}.`);
        return updated;
      } catch (err) {
        if (!(err instanceof ClientChangedError)) throw err;
        if (attempt >= MAX_ATTEMPTS) throw new ConflictError(`Client ${clientId} kept changing while it was being updated: try again.`);
      }
    }
  }

  private async requireClient(clientId: string): Promise<ClientRecord> {
    const client = await this.deps.clients.get(clientId);
    if (!client) throw new NotFoundError(`No client ${clientId}.`);
    return client;
  }

  private async checkScopes(scopes: readonly string[]): Promise<string[]> {
    const names = new Set((await this.deps.definitions.list()).map((d) => d.name));
    return validateClientScopes(scopes, names);
  }

  private async audit(actor: Actor, action: AuditAction, target: string, summary: Record<string, unknown>): Promise<void> {
    const clean = JSON.parse(JSON.stringify(summary)) as Record<string, unknown>;
    await this.deps.audit.record(
      { actor: actor.clientId, action, target, summary: clean, ...(actor.requestId ? { requestId: actor.requestId } : {}) },
      this.now(),
    );
  }
}

function changedScopes(before: readonly string[], after: readonly string[] | undefined): Record<string, unknown> {
  if (!after) return {};
  return {
    scopesAdded: after.filter((s) => !before.includes(s)),
    scopesRemoved: before.filter((s) => !after.includes(s)),
  };
}
