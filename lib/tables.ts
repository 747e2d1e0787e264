/**
 * The DynamoDB tables, declared once as plain data: the CDK data stack creates them in AWS and the local runtime
 * (local/tables.ts) creates them in DynamoDB Local. Every table has the same key shape, a string partition key
 * `pk` and a string sort key `sk`, so that one item layout per domain (documented beside its code) fits all.
 */
import { RESOURCE_TYPES, type ResourceType } from '../functions/fhir/resource-types';

export interface TableSpec {
  /** Logical id, stable: used for CDK construct ids, env var names and local table names. */
  id: string;
  /** What lives there, for people. */
  description: string;
  /** The attribute DynamoDB's TTL deletes expired items by (epoch seconds), if any. */
  ttlAttribute?: string;
}

/** OAuth clients (secret hashes, scopes, bound patient, status) and failed-authentication counters. */
export const CLIENTS_TABLE: TableSpec = {
  id: 'Clients',
  description: 'OAuth2 clients: secret hashes, registered scopes, bound patient, status',
  ttlAttribute: 'expiresAt',
};

/** Scope definitions over profiles and the admin audit trail (issue: dynamic scopes). */
export const SCOPES_TABLE: TableSpec = {
  id: 'Scopes',
  description: 'Named scope definitions over profiles, and the audit trail of admin changes',
};

/** One table per FHIR resource type: the function of a type is granted its own table and no other. */
export function resourceTable(type: ResourceType): TableSpec {
  return {
    id: `Resource${type}`,
    description: `FHIR ${type}: current versions, history and search index items`,
    ttlAttribute: 'expiresAt',
  };
}

export const TABLES: readonly TableSpec[] = [CLIENTS_TABLE, SCOPES_TABLE, ...RESOURCE_TYPES.map(resourceTable)];

/** The table name used by the local runtime and the tests: `<prefix><id>`. */
export function localTableName(spec: TableSpec, prefix = 'ccri-'): string {
  return `${prefix}${spec.id}`;
}
