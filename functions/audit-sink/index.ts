// Lambda entry of the audit sink (AWS only): SCOPES_TABLE_NAME (the AuditEvent store), AUDIT_RETENTION_DAYS.
import { requiredEnv } from '../env';
import { DynamoAuditEventStore, auditRetentionDaysFromEnv } from '../audit/store';
import { createDocumentClient } from '../store/client';
import { createAuditSinkHandler } from './handler';

export const handler = createAuditSinkHandler({
  store: new DynamoAuditEventStore(createDocumentClient(), requiredEnv('SCOPES_TABLE_NAME'), auditRetentionDaysFromEnv()),
});
