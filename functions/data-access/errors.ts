/**
 * Data-access errors, for the FHIR edge (which turns FhirErrors into OperationOutcomes in one place):
 * - STS failing to hand out scoped credentials (throttled, unreachable, misconfigured) is an outage of the data
 *   layer for that request: 503 with Retry-After, never a 500. The STS error stays in `cause` for the log.
 * - DynamoDB's AccessDeniedException under a scoped session means the code reached data outside the token's grants
 *   and IAM stopped it (defence in depth worked; `decide` should have refused first). The client gets a 403 that
 *   names nothing it may not know; the caller logs it as an error, since it is a bug on our side.
 */
import { StoreUnavailableError } from '../errors';
import { ForbiddenError } from '../fhir/errors';

export class DataAccessUnavailableError extends StoreUnavailableError {
  constructor(cause: unknown) {
    super('The data store is unavailable (scoped credentials could not be obtained); retry later', { cause, retryAfterSeconds: 2 });
  }
}

export class DataAccessDeniedError extends ForbiddenError {
  constructor(cause: unknown) {
    super("Access denied: the request needs data outside the token's scopes.");
    this.cause = cause;
  }
}

/** Whether an error is IAM refusing a DynamoDB request (AWS, or the local stand-in). */
export function isAccessDenied(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  return e?.name === 'AccessDeniedException' && e.$metadata?.httpStatusCode === 400;
}

/** The DataAccessDeniedError of an AccessDeniedException; any other error unchanged. For the store's error mapping. */
export function mapDataAccessError(error: unknown): unknown {
  return isAccessDenied(error) ? new DataAccessDeniedError(error) : error;
}
