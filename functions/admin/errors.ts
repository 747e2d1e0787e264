/// <reference types="fhir" />
/**
 * The admin API's errors. Each carries its HTTP status and the OperationOutcome the caller sees (the same error shape
 * as the rest of the API); `toErrorResponse` in handler.ts turns any error into a response, once, at the edge.
 */

function outcome(code: fhir.code, diagnostics: string, expression?: string): fhir.OperationOutcome {
  const issue: fhir.OperationOutcomeIssue = { severity: 'error', code, diagnostics };
  if (expression) issue.expression = [expression];
  return { resourceType: 'OperationOutcome', issue: [issue] };
}

export abstract class AdminError extends Error {
  abstract readonly statusCode: number;
  readonly headers: Record<string, string> = {};
  constructor(
    message: string,
    readonly outcome: fhir.OperationOutcome,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** 400: the request is malformed or breaks a validation rule; `expression` names the offending field. */
export class ValidationError extends AdminError {
  readonly statusCode = 400;
  constructor(
    details: string,
    readonly expression?: string,
  ) {
    super(details, outcome('invalid', details, expression));
  }
}

/** 403: the caller's token does not hold the admin scope, or the change would lock the caller out. */
export class AdminForbiddenError extends AdminError {
  readonly statusCode = 403;
  constructor(details: string) {
    super(details, outcome('forbidden', details));
  }
}

/** 404: no such client, scope definition or route. */
export class NotFoundError extends AdminError {
  readonly statusCode = 404;
  constructor(details: string) {
    super(details, outcome('not-found', details));
  }
}

/** 409: the target exists already, or is still in use. */
export class ConflictError extends AdminError {
  readonly statusCode = 409;
  constructor(details: string) {
    super(details, outcome('conflict', details));
  }
}

/** 415: a body that is not JSON. */
export class UnsupportedMediaTypeError extends AdminError {
  readonly statusCode = 415;
  constructor(details: string) {
    super(details, outcome('not-supported', details));
  }
}

/** 413: a body over the size cap. */
export class TooLargeError extends AdminError {
  readonly statusCode = 413;
  constructor(details: string) {
    super(details, outcome('too-costly', details));
  }
}

/** 503: a table failed or throttled; retry. */
export class UnavailableError extends AdminError {
  readonly statusCode = 503;
  override readonly headers = { 'Retry-After': '5' };
  constructor(details = 'The service is temporarily unavailable, retry later.') {
    super(details, outcome('transient', details));
  }
}

/** 500: the generic answer to anything unexpected (details go to the log only). */
export function serverErrorOutcome(): fhir.OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'fatal', code: 'exception', diagnostics: 'An unexpected error occurred' }],
  };
}
