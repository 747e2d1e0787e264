/// <reference types="fhir" />
/**
 * OperationOutcome factories (https://hl7.org/fhir/STU3/operationoutcome.html): one named factory per situation,
 * so that every error the API returns has the same shape. Issue codes from https://hl7.org/fhir/STU3/valueset-issue-type.html.
 */

function outcome(
  code: fhir.code,
  diagnostics: string,
  severity: 'fatal' | 'error' | 'warning' | 'information' = 'error',
  expression?: string,
): fhir.OperationOutcome {
  const issue: fhir.OperationOutcomeIssue = { severity, code, diagnostics };
  if (expression) issue.expression = [expression];
  return { resourceType: 'OperationOutcome', issue: [issue] };
}

export const allOk = (diagnostics = 'All OK'): fhir.OperationOutcome => outcome('informational', diagnostics, 'information');
export const notFound = (diagnostics: string) => outcome('not-found', diagnostics);
export const gone = (diagnostics: string) => outcome('deleted', diagnostics);
export const badRequest = (diagnostics: string, expression?: string) => outcome('invalid', diagnostics, 'error', expression);
export const forbidden = (diagnostics: string) => outcome('forbidden', diagnostics);
export const methodNotAllowed = (diagnostics: string) => outcome('not-supported', diagnostics);
export const preconditionFailed = (diagnostics: string) => outcome('conflict', diagnostics);
export const conflict = (diagnostics: string) => outcome('conflict', diagnostics);
export const notAcceptable = (diagnostics: string) => outcome('not-supported', diagnostics);
export const unsupportedMediaType = (diagnostics: string) => outcome('not-supported', diagnostics);
export const tooLarge = (diagnostics: string) => outcome('too-costly', diagnostics);
export const unavailable = (diagnostics: string) => outcome('transient', diagnostics);
export const serverError = () => outcome('exception', 'An unexpected error occurred', 'fatal');

/**
 * THE outcome of a validation run (422 on create/update, 200 on $validate): every issue found; with none, the one
 * `information` issue of `whenValid` (an outcome must hold at least one issue).
 */
export function validationIssues(issues: readonly fhir.OperationOutcomeIssue[], whenValid: fhir.OperationOutcome = allOk()): fhir.OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: issues.length > 0 ? [...issues] : whenValid.issue };
}

/** 422: the issues of a failed validation. */
export const processingErrors = (issues: readonly fhir.OperationOutcomeIssue[]): fhir.OperationOutcome => validationIssues(issues);
