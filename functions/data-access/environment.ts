/** The environment variables lib/constructs/data-access.ts sets on the FHIR function and config.ts reads: contract/environment.ts. */
export { DATA_ACCESS_ENV } from '../../contract/environment';
