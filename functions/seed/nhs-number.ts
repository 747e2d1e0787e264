/**
 * NHS numbers for synthetic data: 10 digits, the last a Modulus 11 check digit (weights 10..2 on the first nine;
 * check = 11 - (sum mod 11); 11 -> 0; 10 -> no valid number with these nine digits). Demo data uses the 999
 * range, which is never issued to real people. The check digit: functions/validation/nhs-number.ts.
 */
import { nhsCheckDigit } from '../validation/nhs-number';

/** Valid NHS numbers of the 999 test range in ascending order (about 909,000 of them). */
export function* testNhsNumbers(): Generator<string> {
  for (let body = 999_000_000; body <= 999_999_999; body++) {
    const check = nhsCheckDigit(String(body));
    if (check !== undefined) yield `${body}${check}`;
  }
}

/** The n-th (0-based) valid NHS number of the 999 test range. */
export function testNhsNumber(n: number): string {
  let i = 0;
  for (const number of testNhsNumbers()) if (i++ === n) return number;
  throw new Error('999 range exhausted');
}
