/**
 * The admin function's dependencies, from its environment (read once per container):
 * - `CLIENTS_TABLE_NAME` (required): the Clients table;
 * - `SCOPES_TABLE_NAME` (required): the Scopes table (scope definitions and the audit trail);
 * - `ROTATION_GRACE_SECONDS` (optional, default 86400): how long a rotated-out secret keeps working when the rotate
 *   request names no `graceSeconds`; 0..2592000.
 */
import { intEnv, requiredEnv, type Env } from '../env';
import { DynamoClientAdminStore } from '../oauth/clients';
import { DynamoClientCutoffs } from '../oauth/revocation';
import { DynamoScopeDefinitionStore } from '../scopes/definition-store';
import { createDocumentClient } from '../store/client';
import { configureAudit } from '../audit';
import { DynamoAuditEventStore, auditRetentionDaysFromEnv } from '../audit/store';
import { DynamoAuditLog } from './audit';
import type { AdminHandlerDeps } from './handler';
import { DEFAULT_GRACE_SECONDS } from './service';
import { MAX_GRACE_SECONDS } from './validation';

export function adminDepsFromEnv(env: Env = process.env): AdminHandlerDeps {
  const db = createDocumentClient();
  const scopesTable = requiredEnv('SCOPES_TABLE_NAME', env);
  const auditEvents = new DynamoAuditEventStore(db, scopesTable, auditRetentionDaysFromEnv(env));
  configureAudit({ store: auditEvents });
  return {
    auditEvents,
    clients: new DynamoClientAdminStore(db, requiredEnv('CLIENTS_TABLE_NAME', env)),
    definitions: new DynamoScopeDefinitionStore(db, scopesTable),
    audit: new DynamoAuditLog(db, scopesTable),
    revocations: new DynamoClientCutoffs(db, requiredEnv('CLIENTS_TABLE_NAME', env)),
    defaultGraceSeconds: rotationGraceSecondsFromEnv(env),
  };
}

/** ROTATION_GRACE_SECONDS: 0..MAX_GRACE_SECONDS, default DEFAULT_GRACE_SECONDS. */
export function rotationGraceSecondsFromEnv(env: Env = process.env): number {
  return intEnv('ROTATION_GRACE_SECONDS', { min: 0, max: MAX_GRACE_SECONDS, fallback: DEFAULT_GRACE_SECONDS }, env);
}

/** The same, from the value alone. */
export function graceSeconds(value: string | undefined): number {
  return rotationGraceSecondsFromEnv({ ROTATION_GRACE_SECONDS: value });
}
