/**
 * Named scope definitions ("dynamic scopes"): an operator defines, at run time, a scope name such as
 * `ccri/medications.read` granting a set of resource types with permissions (`{ MedicationStatement: 'rs', ... }`).
 * The admin API writes them (functions/admin); the token endpoint reads the ones a client holds when it issues a
 * token and writes what they grant into the token (`namedScopeGrants`), so the authorizer never reads this table.
 *
 * Item layout in the Scopes table (contract/tables.ts SCOPES_TABLE): `pk` = `SCOPE`, `sk` = the scope name, plus the
 * attributes of `ScopeDefinition`. One partition: the admin API lists every definition (at most 1,000, functions/admin/service.ts
 * MAX_SCOPE_DEFINITIONS) with one Query, paged by DynamoDB, in name order.
 * The audit trail lives in the same table under `pk` = `AUDIT#<yyyy-mm-dd>` (functions/admin/audit.ts).
 */
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { RESOURCE_TYPES, type ResourceType } from '../../contract/resource-types';
import { StoreUnavailableError } from '../errors';
import { ADMIN_SCOPE } from './admin';
import { formatGrants } from './permissions';
import { expandScopes, parseScope, type PermissionSet, type ScopeDefinitions } from './scopes';

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

/** The store failed (throttling, outage): the caller may retry. A StoreUnavailableError: every edge answers 503. */
export class ScopeStoreUnavailableError extends StoreUnavailableError {
  constructor(options?: { cause?: unknown }) {
    super(undefined, options);
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

/**
 * One definition from the DynamoDB Scopes table: what the token endpoint reads at issuance (`namedScopeGrants`), so
 * that its bundle does not carry the admin API's writes (DynamoScopeDefinitionStore).
 */
export class DynamoScopeDefinitionReader implements Pick<ScopeDefinitionStore, 'get'> {
  constructor(
    protected readonly db: DynamoDBDocumentClient,
    protected readonly tableName: string,
  ) {}

  async get(name: string): Promise<ScopeDefinition | undefined> {
    const { Item } = await this.call(() =>
      this.db.send(new GetCommand({ TableName: this.tableName, Key: scopeKey(name), ConsistentRead: true })),
    );
    return Item ? definitionFromItem(Item) : undefined;
  }

  protected async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw new ScopeStoreUnavailableError({ cause: err });
    }
  }
}

/** `ScopeDefinitionStore` over the DynamoDB Scopes table: the admin API's. */
export class DynamoScopeDefinitionStore extends DynamoScopeDefinitionReader implements ScopeDefinitionStore {
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

  /** By name, in code point order, as DynamoDB returns a partition's sort keys. */
  async list(): Promise<ScopeDefinition[]> {
    return [...this.definitions.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((d) => structuredClone(d));
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

/**
 * The grants of the named scopes among `scopes`, in the compact form of the authorizer context (`formatGrants`:
 * `MedicationStatement:rs MedicationRequest:rs`), '' when none grants anything. The token endpoint calls it for
 * every token it issues and puts the result in the token (claim `ccri_grants`, functions/oauth/token.ts), so that the
 * authorizer needs no database: it verifies the signature and reads the grants.
 *
 * Read from the store at issuance with consistent reads and NO cache, on purpose: a definition created or changed
 * through the admin API applies to the very next token (a cache here could hand a brand-new client a token that
 * grants nothing, for as long as the cache lived, and that token would keep its wrong grants until it expires).
 * Only scopes that are neither SMART nor the admin scope are looked up (one GetItem each, in parallel; a client holds
 * at most 100 scopes), so a client without named scopes costs no read at all. A name without a definition (deleted)
 * grants nothing.
 * @throws ScopeStoreUnavailableError
 */
export async function namedScopeGrants(
  scopes: readonly string[],
  store: Pick<ScopeDefinitionStore, 'get'>,
): Promise<string> {
  const names = [...new Set(scopes.filter(isNamedScope))];
  if (names.length === 0) return '';
  const found = await Promise.all(names.map((name) => store.get(name)));
  const definitions = toScopeDefinitions(found.filter((d): d is ScopeDefinition => d !== undefined));
  return formatGrants({ type: expandScopes(names, definitions).type, patient: {} });
}

/** Whether a scope may be a named scope: not SMART syntax (resource, identity, launch) and not the admin scope. */
export function isNamedScope(scope: string): boolean {
  return scope !== ADMIN_SCOPE && parseScope(scope).kind === 'invalid';
}
