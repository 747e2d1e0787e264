/// <reference types="fhir" />
/**
 * FHIR errors: each carries the HTTP status and the OperationOutcome the client sees. Domain code throws them (the
 * admin API too, which answers OperationOutcomes); `errorResponse` (functions/fhir/http.ts) turns any error into a
 * response, once, at the edge. The base, `HttpError`, and the storage-neutral `StoreUnavailableError` live in
 * functions/errors.ts.
 */
import { HttpError } from '../errors';
import {
  badRequest,
  conflict,
  forbidden,
  gone,
  methodNotAllowed,
  notAcceptable,
  notFound,
  preconditionFailed,
  processingErrors,
  tooLarge,
  unsupportedMediaType,
} from './outcome';

/** An HttpError whose body is an OperationOutcome. */
export abstract class FhirError extends HttpError {
  /** Extra response headers (e.g. Retry-After). */
  readonly headers: Record<string, string> = {};
  constructor(
    message: string,
    readonly outcome: fhir.OperationOutcome,
  ) {
    super(message);
  }
}

/** 400: a malformed request (bad JSON, bad search value, id mismatch, bad continuation token). */
export class BadRequestError extends FhirError {
  readonly statusCode = 400;
  constructor(details: string, expression?: string) {
    super(details, badRequest(details, expression));
  }
}

/** 403: authenticated, but the grants do not allow this (defence in depth behind the authorizer). */
export class ForbiddenError extends FhirError {
  readonly statusCode = 403;
  constructor(details: string) {
    super(details, forbidden(details));
  }
}

/** 404: no such resource (or one the caller may not know of). */
export class NotFoundError extends FhirError {
  readonly statusCode = 404;
  constructor(details: string) {
    super(details, notFound(details));
  }
}

/** 405 */
export class MethodNotAllowedError extends FhirError {
  readonly statusCode = 405;
  constructor(details: string) {
    super(details, methodNotAllowed(details));
  }
}

/** 406: the client asked for a format other than JSON. */
export class NotAcceptableError extends FhirError {
  readonly statusCode = 406;
  constructor(details: string) {
    super(details, notAcceptable(details));
  }
}

/** 409: a write conflict that retries could not resolve. */
export class ConflictError extends FhirError {
  readonly statusCode = 409;
  constructor(details: string) {
    super(details, conflict(details));
  }
}

/** 410: the resource was deleted. */
export class GoneError extends FhirError {
  readonly statusCode = 410;
  constructor(details: string) {
    super(details, gone(details));
  }
}

/** 412: If-Match mismatch, or If-None-Exist matched several resources. */
export class PreconditionFailedError extends FhirError {
  readonly statusCode = 412;
  constructor(details: string) {
    super(details, preconditionFailed(details));
  }
}

/**
 * The 412 of an If-Match that does not hold, the same whether the resource is at another version, deleted or absent:
 * a caller that may write but not read (a write-only token) learns neither whether it exists nor its version.
 */
export function ifMatchFailed(ref: string, asked: number): PreconditionFailedError {
  return new PreconditionFailedError(`${ref} is not at version ${asked}, as If-Match asked`);
}

/** 413: body or item over the size cap. */
export class TooLargeError extends FhirError {
  readonly statusCode = 413;
  constructor(details: string) {
    super(details, tooLarge(details));
  }
}

/** 400 `too-costly`: the answer asked for would pass a bound of the server (the response Lambda may return). */
export class TooCostlyError extends FhirError {
  readonly statusCode = 400;
  constructor(details: string) {
    super(details, tooLarge(details));
  }
}

/** 415: a body that is not JSON (e.g. XML). */
export class UnsupportedMediaTypeError extends FhirError {
  readonly statusCode = 415;
  constructor(details: string) {
    super(details, unsupportedMediaType(details));
  }
}

/** 422: the resource does not conform to its profile; every issue listed. */
export class UnprocessableEntityError extends FhirError {
  readonly statusCode = 422;
  constructor(issues: fhir.OperationOutcomeIssue[]) {
    super('resource failed validation', processingErrors(issues));
  }
}
