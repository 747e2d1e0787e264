/**
 * The DynamoDB tables, declared once as plain data: the CDK data stack creates them in AWS and the local runtime
 * (local/tables.ts) creates them in DynamoDB Local. Every table has the same key shape, a string partition key
 * `pk` and a string sort key `sk`, so that one item layout per domain (documented beside its code) fits all.
 */

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

/**
 * All FHIR data of every type: current versions, history, search index items, conditional-create locks. Every key
 * of resource type T starts with `T/` (functions/store/repository.ts, docs/storage.md), so that an IAM policy can
 * tell the types apart (`dynamodb:LeadingKeys` `T/*`); nothing else lives here, and nothing Scans it.
 */
export const FHIR_TABLE: TableSpec = {
  id: 'Fhir',
  description: 'FHIR resources of every type: current versions, history, search index items and locks, keys prefixed by type',
  ttlAttribute: 'expiresAt',
};

export const TABLES: readonly TableSpec[] = [CLIENTS_TABLE, SCOPES_TABLE, FHIR_TABLE];

/** The table name used by the local runtime and the tests: `<prefix><id>`. */
export function localTableName(spec: TableSpec, prefix = 'ccri-'): string {
  return `${prefix}${spec.id}`;
}
