/** The names of the environment variables the CDK stacks set (lib/) and the functions read (their config.ts modules). */

/** Set by lib/constructs/data-access.ts on the FHIR function, read by functions/data-access/config.ts. */
export const DATA_ACCESS_ENV = {
  /** The role assumed per session. */
  roleArn: 'DATA_ACCESS_ROLE_ARN',
  /** The FHIR table's ARN (the session policy names it; reads may also use its indexes). */
  tableArn: 'DATA_TABLE_ARN',
  /** `sts` (what the template sets) or `direct` (emulators only, functions/resource/config.ts). */
  mode: 'DATA_ACCESS',
} as const;

/**
 * How long the AuditEvent store keeps an event, in days: the DynamoDB TTL its items get. Set by the CDK context
 * `ccri:auditRetentionDays` (lib/config.ts) as AUDIT_RETENTION_DAYS on the audit sink and the admin function, read
 * by functions/audit/store.ts; both check the same bounds.
 */
export const AUDIT_RETENTION = {
  env: 'AUDIT_RETENTION_DAYS',
  defaultDays: 90,
  minDays: 1,
  maxDays: 3650,
} as const;
