/**
 * The admin API's errors: the same OperationOutcome-carrying HTTP errors as the FHIR API (functions/fhir/errors.ts),
 * under the names the admin code speaks; `toErrorResponse` in handler.ts turns any error into a response, once.
 */
export {
  BadRequestError as ValidationError,
  ConflictError,
  FhirError as AdminError,
  ForbiddenError as AdminForbiddenError,
  NotFoundError,
  ServiceUnavailableError,
  TooLargeError,
  UnsupportedMediaTypeError,
} from '../fhir/errors';
export { serverError as serverErrorOutcome } from '../fhir/outcome';
