/**
 * Named scope definitions ("dynamic scopes"): an operator defines, at run time, a scope name such as
 * `ccri/medications.read` granting a set of resource types with permissions (`{ MedicationStatement: 'rs', ... }`).
 * The admin API writes them (functions/admin); the authorizer reads them all, caches them per container for a
 * bounded time (`cachedScopeDefinitions`) and expands them beside the SMART scopes (scopes.ts `expandScopes`).
 *
 * Item layout in the Scopes table (lib/tables.ts SCOPES_TABLE): `pk` = `SCOPE`, `sk` = the scope name, plus the
 * attributes of `ScopeDefinition`. One partition: the authorizer loads every definition with one Query (paged).
 * The audit trail lives in the same table under `pk` = `AUDIT#<yyyy-mm-dd>` (functions/admin/audit.ts).
 */
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { RESOURCE_TYPES, type ResourceType } from '../fhir/resource-types';
import type { PermissionSet, ScopeDefinitions } from './scopes';

/** A named scope: what it grants, on the whole type (like a `user/` scope). */
export interface ScopeDefinition {
  /** The scope name a client registers and a token carries, e.g. `ccri/medications.read`. */
  name: string;
  /** For people. */
  description?: string;
  /** Each served type it reaches, with its permissions in canonical `cruds` order (`rs`, `cruds`...). */
  grants: Partial<Record<ResourceType, PermissionSet>>;
  /** ISO 8601 instants. */
  createdAt: string;
  updatedAt: string;
}

/** The store failed (throttling, outage): the caller may retry. */
export class ScopeStoreUnavailableError extends Error {
  readonly statusCode = 503;
  constructor(options?: { cause?: unknown }) {
    super('the scope definitions store is unavailable', options);
    this.name = 'ScopeStoreUnavailableError';
  }
}

/** Where scope definitions live. Every method may throw `ScopeStoreUnavailableError`. */
export interface ScopeDefinitionStore {
  list(): Promise<ScopeDefinition[]>;
  get(name: string): Promise<ScopeDefinition | undefined>;
  /** False (nothing written) when a definition with that name exists. */
  create(definition: ScopeDefinition): Promise<boolean>;
  /** False (nothing written) when there is no definition with that name. */
  replace(definition: ScopeDefinition): Promise<boolean>;
  /** False when there was none. */
  delete(name: string): Promise<boolean>;
}

/** The partition key of every definition item. */
export const SCOPE_PARTITION = 'SCOPE';

export function scopeKey(name: string): { pk: string; sk: string } {
  return { pk: SCOPE_PARTITION, sk: name };
}

/** `ScopeDefinitionStore` over the DynamoDB Scopes table. */
export class DynamoScopeDefinitionStore implements ScopeDefinitionStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async list(): Promise<ScopeDefinition[]> {
    const definitions: ScopeDefinition[] = [];
    let startKey: Record<string, unknown> | undefined;
    await this.call(async () => {
      do {
        const page = await this.db.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': SCOPE_PARTITION },
            ExclusiveStartKey: startKey,
            ConsistentRead: true,
          }),
        );
        for (const item of page.Items ?? []) definitions.push(definitionFromItem(item));
        startKey = page.LastEvaluatedKey;
      } while (startKey);
    });
    return definitions;
  }

  async get(name: string): Promise<ScopeDefinition | undefined> {
    const { Item } = await this.call(() =>
      this.db.send(new GetCommand({ TableName: this.tableName, Key: scopeKey(name), ConsistentRead: true })),
    );
    return Item ? definitionFromItem(Item) : undefined;
  }

  create(definition: ScopeDefinition): Promise<boolean> {
    return this.conditionalPut(definition, 'attribute_not_exists(pk)');
  }

  replace(definition: ScopeDefinition): Promise<boolean> {
    return this.conditionalPut(definition, 'attribute_exists(pk)');
  }

  async delete(name: string): Promise<boolean> {
    const { Attributes } = await this.call(() =>
      this.db.send(new DeleteCommand({ TableName: this.tableName, Key: scopeKey(name), ReturnValues: 'ALL_OLD' })),
    );
    return Attributes !== undefined;
  }

  private async conditionalPut(definition: ScopeDefinition, condition: string): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...scopeKey(definition.name), ...definition },
          ConditionExpression: condition,
        }),
      );
      return true;
    } catch (err) {
      if ((err as Error).name === 'ConditionalCheckFailedException') return false;
      throw new ScopeStoreUnavailableError({ cause: err });
    }
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw new ScopeStoreUnavailableError({ cause: err });
    }
  }
}

function definitionFromItem(item: Record<string, unknown>): ScopeDefinition {
  // DynamoDB does not keep a map's key order: put the types back in RESOURCE_TYPES order.
  const stored = (item.grants && typeof item.grants === 'object' ? item.grants : {}) as Record<string, unknown>;
  const grants: ScopeDefinition['grants'] = {};
  for (const type of RESOURCE_TYPES) if (typeof stored[type] === 'string') grants[type] = stored[type] as string;
  const definition: ScopeDefinition = {
    name: String(item.name ?? item.sk),
    grants,
    createdAt: String(item.createdAt ?? ''),
    updatedAt: String(item.updatedAt ?? item.createdAt ?? ''),
  };
  if (typeof item.description === 'string' && item.description !== '') definition.description = item.description;
  return definition;
}

/** `ScopeDefinitionStore` in memory, for unit tests. */
export class InMemoryScopeDefinitionStore implements ScopeDefinitionStore {
  private readonly definitions = new Map<string, ScopeDefinition>();

  async list(): Promise<ScopeDefinition[]> {
    return [...this.definitions.values()].map((d) => structuredClone(d));
  }
  async get(name: string): Promise<ScopeDefinition | undefined> {
    const found = this.definitions.get(name);
    return found && structuredClone(found);
  }
  async create(definition: ScopeDefinition): Promise<boolean> {
    if (this.definitions.has(definition.name)) return false;
    this.definitions.set(definition.name, structuredClone(definition));
    return true;
  }
  async replace(definition: ScopeDefinition): Promise<boolean> {
    if (!this.definitions.has(definition.name)) return false;
    this.definitions.set(definition.name, structuredClone(definition));
    return true;
  }
  async delete(name: string): Promise<boolean> {
    return this.definitions.delete(name);
  }
}

/** The definitions in the shape `expandScopes` takes. */
export function toScopeDefinitions(definitions: readonly ScopeDefinition[]): ScopeDefinitions {
  return new Map(definitions.map((d) => [d.name, { ...d.grants } as Readonly<Record<string, string>>]));
}

/** How long an authorizer container keeps the definitions it loaded, by default (env SCOPE_DEFINITIONS_CACHE_SECONDS). */
export const DEFAULT_DEFINITIONS_CACHE_SECONDS = 60;

/**
 * The authorizer's `loadScopeDefinitions`: every definition, loaded at most once per `ttlSeconds` per container
 * (concurrent callers share one load). So a change made through the admin API reaches a token's grants within
 * `ttlSeconds` + the API Gateway authorizer result cache TTL (a cached policy is reused until it expires).
 * `ttlSeconds: 0` loads on every call. A failed load is not cached: it throws (AUTHORIZER_FAILURE, 503) and the next
 * call tries again; a stale copy is never served past its TTL, so a deleted definition cannot outlive the bound.
 */
export function cachedScopeDefinitions(
  load: () => Promise<readonly ScopeDefinition[]>,
  options: { ttlSeconds: number; now?: () => number },
): () => Promise<ScopeDefinitions> {
  const now = options.now ?? Date.now;
  const ttlMs = Math.max(0, options.ttlSeconds) * 1000;
  let cached: { value: ScopeDefinitions; expiresAt: number } | undefined;
  let inFlight: Promise<ScopeDefinitions> | undefined;
  return async () => {
    if (cached && cached.expiresAt > now()) return cached.value;
    if (!inFlight) {
      const startedAt = now();
      inFlight = load()
        .then((definitions) => {
          const value = toScopeDefinitions(definitions);
          // The TTL runs from the start of the load: the copy is never older than ttlSeconds when it is used.
          if (ttlMs > 0) cached = { value, expiresAt: startedAt + ttlMs };
          return value;
        })
        .finally(() => {
          inFlight = undefined;
        });
    }
    return inFlight;
  };
}
