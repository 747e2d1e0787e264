/** The environment variables lib/constructs/data-access.ts sets on the FHIR function and config.ts reads. */
export const DATA_ACCESS_ENV = {
  /** The role assumed per session. */
  roleArn: 'DATA_ACCESS_ROLE_ARN',
  /** The FHIR table's ARN (the session policy names it; reads may also use its indexes). */
  tableArn: 'DATA_TABLE_ARN',
  /** `sts` (what the template sets) or `direct` (emulators only, functions/resource/config.ts). */
  mode: 'DATA_ACCESS',
} as const;
