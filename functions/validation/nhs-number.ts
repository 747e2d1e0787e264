/**
 * The NHS number (NHS Data Dictionary, "NHS Number"; NamingSystem https://fhir.nhs.uk/Id/nhs-number): ten digits,
 * the last a Modulus 11 check digit over the first nine.
 */

export type NhsNumberProblem = 'format' | 'check-digit';

/**
 * The Modulus 11 check digit of nine digits: multiply them by the weights 10, 9, ..., 2 and add them up; the check
 * digit is 11 minus the remainder of the sum divided by 11, where 11 becomes 0. Undefined when the result is 10: no
 * valid NHS number has these nine digits. The one copy of the algorithm (the demo data's numbers use it too).
 */
export function nhsCheckDigit(nineDigits: string): number | undefined {
  if (!/^\d{9}$/.test(nineDigits)) throw new Error('nine digits expected');
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += (nineDigits.charCodeAt(i) - 48) * (10 - i);
  const check = 11 - (sum % 11);
  if (check === 10) return undefined;
  return check === 11 ? 0 : check;
}

/** Checks an NHS number: ten digits, the last the check digit of the first nine. Returns `undefined` when valid. */
export function nhsNumberProblem(value: string): NhsNumberProblem | undefined {
  if (!/^\d{10}$/.test(value)) return 'format';
  return nhsCheckDigit(value.slice(0, 9)) === value.charCodeAt(9) - 48 ? undefined : 'check-digit';
}

export function isValidNhsNumber(value: string): boolean {
  return nhsNumberProblem(value) === undefined;
}
