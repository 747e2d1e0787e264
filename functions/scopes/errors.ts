/**
 * Scope errors. A refused permission is the FHIR 403 (`ForbiddenError`, OperationOutcome code `forbidden`): it is
 * the same class the FHIR edge already turns into a response, so a resource function that re-checks its grants
 * (defence in depth) needs no mapping of its own.
 */
export { ForbiddenError } from '../fhir/errors';
