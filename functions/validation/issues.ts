/// <reference types="fhir" />
/**
 * Building OperationOutcome issues (https://hl7.org/fhir/STU3/operationoutcome.html). Issue codes come from
 * https://hl7.org/fhir/STU3/valueset-issue-type.html: `structure` (an element that does not belong, or has the
 * wrong JSON shape), `required` (a missing element), `value` (a value in the wrong format), `code-invalid` (a code
 * outside its binding), `invariant` (a rule across elements), `invalid` (not a resource at all).
 */

export type Severity = 'error' | 'warning' | 'information';
export type IssueCode = 'invalid' | 'structure' | 'required' | 'value' | 'code-invalid' | 'invariant' | 'not-supported';

/** A validation issue: always one FHIRPath expression and a diagnostics line a person understands. */
export interface ValidationIssue extends fhir.OperationOutcomeIssue {
  severity: Severity;
  code: IssueCode;
  diagnostics: string;
  expression: [string];
}

/** Collects issues while a resource is walked. */
export class Issues {
  readonly list: ValidationIssue[] = [];

  add(severity: Severity, code: IssueCode, expression: string, diagnostics: string): void {
    this.list.push({ severity, code, diagnostics, expression: [expression] });
  }
  error(code: IssueCode, expression: string, diagnostics: string): void {
    this.add('error', code, expression, diagnostics);
  }
  warning(code: IssueCode, expression: string, diagnostics: string): void {
    this.add('warning', code, expression, diagnostics);
  }
}

/** A value quoted for a diagnostics line, shortened so that a huge value cannot flood the outcome. */
export function quote(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  const shown = text === undefined ? String(value) : text;
  return `'${shown.length > 60 ? `${shown.slice(0, 57)}...` : shown}'`;
}
