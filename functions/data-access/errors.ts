/**
 * Data-access errors. STS failing to hand out scoped credentials (throttled, unreachable, misconfigured) is an
 * outage of the data layer for that request, not a bug in it: the FHIR edge answers 503 with Retry-After (a
 * FhirError, turned into an OperationOutcome in one place), never a 500. The STS error stays in `cause` for the log.
 */
import { ServiceUnavailableError } from '../fhir/errors';

export class DataAccessUnavailableError extends ServiceUnavailableError {
  constructor(cause: unknown) {
    super('The data store is unavailable (scoped credentials could not be obtained); retry later', 2);
    this.cause = cause;
  }
}
