/// <reference types="fhir" />
/**
 * Building OperationOutcome issues (https://hl7.org/fhir/STU3/operationoutcome.html). Issue codes come from
 * https://hl7.org/fhir/STU3/valueset-issue-type.html: `structure` (an element that does not belong, or has the
 * wrong JSON shape), `required` (a missing element), `value` (a value in the wrong format), `code-invalid` (a code
 * outside its binding), `invariant` (a rule across elements), `invalid` (not a resource at all).
 */

export type Severity = 'error' | 'warning' | 'information';
export type IssueCode = 'invalid' | 'structure' | 'required' | 'value' | 'code-invalid' | 'invariant' | 'not-supported' | 'too-costly';

/**
 * At most this many issues in one OperationOutcome: the first ones found, then one issue that says how many more
 * there were. A 256 KB body can hold tens of thousands of faults; listing them all would exceed Lambda's 6 MB
 * response limit (API Gateway would answer 502) and help no one.
 */
export const MAX_ISSUES = 100;
/** After this many issues the walk stops: a body built to multiply issues costs no more than this many. */
export const MAX_COUNTED = 1000;

/** A validation issue: always one FHIRPath expression and a diagnostics line a person understands. */
export interface ValidationIssue extends fhir.OperationOutcomeIssue {
  severity: Severity;
  code: IssueCode;
  diagnostics: string;
  expression: [string];
  location?: [string];
}

/** Collects issues while a resource is walked: the first MAX_ISSUES - 1 kept, the others only counted. */
export class Issues {
  private readonly kept: ValidationIssue[] = [];
  private dropped = 0;
  private droppedErrors = 0;

  add(severity: Severity, code: IssueCode, expression: string, diagnostics: string): void {
    if (this.kept.length < MAX_ISSUES - 1) {
      this.kept.push({ severity, code, diagnostics, expression: [expression], location: [xpathOf(expression)] });
      return;
    }
    this.dropped++;
    if (severity === 'error') this.droppedErrors++;
  }

  /** Every issue kept, then (when some were dropped) one that counts them. */
  get list(): ValidationIssue[] {
    if (this.dropped === 0) return this.kept;
    const expression = this.kept[0]?.expression[0] ?? '';
    const summary: ValidationIssue = {
      severity: this.droppedErrors > 0 ? 'error' : 'warning',
      code: 'too-costly',
      diagnostics: this.exhausted
        ? `${this.dropped} more issue(s) (${this.droppedErrors} of them errors) are not listed, and validation stopped there: an outcome lists at most ${MAX_ISSUES}, and at most ${MAX_COUNTED} are looked for. Fix the ones above and validate again.`
        : `${this.dropped} more issue(s) (${this.droppedErrors} of them errors) are not listed: an outcome lists at most ${MAX_ISSUES}. Fix the ones above and validate again.`,
      expression: [expression],
    };
    return [...this.kept, summary];
  }

  /** Whether enough issues were found to stop looking. */
  get exhausted(): boolean {
    return this.count >= MAX_COUNTED;
  }

  /** How many issues were found, listed or not. */
  get count(): number {
    return this.kept.length + this.dropped;
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

/**
 * The STU3 `location` of an issue: the simple XPath the specification asks for (element names, 1-based
 * repetition), from the FHIRPath: `Patient.identifier[0].value` -> `/f:Patient/f:identifier[1]/f:value`.
 */
export function xpathOf(expression: string): string {
  return (
    '/' +
    expression
      .split('.')
      .map((step) => 'f:' + step.replace(/\[(\d+)\]$/, (_, i: string) => `[${Number(i) + 1}]`))
      .join('/')
  );
}
