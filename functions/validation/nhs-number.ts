/**
 * The NHS number (NHS Data Dictionary, "NHS Number"; NamingSystem https://fhir.nhs.uk/Id/nhs-number): ten digits,
 * the last a Modulus 11 check digit over the first nine.
 */

export type NhsNumberProblem = 'format' | 'check-digit';

/**
 * Checks an NHS number. Modulus 11: multiply the first nine digits by the weights 10, 9, ..., 2 and add them up;
 * the check digit is 11 minus the remainder of the sum divided by 11, where 11 becomes 0 and 10 means that no
 * valid NHS number has these nine digits. Returns `undefined` when the number is valid.
 */
export function nhsNumberProblem(value: string): NhsNumberProblem | undefined {
  if (value.length !== 10) return 'format';
  let sum = 0;
  for (let i = 0; i < 10; i++) {
    const digit = value.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return 'format';
    if (i < 9) sum += digit * (10 - i);
  }
  let check = 11 - (sum % 11);
  if (check === 11) check = 0;
  if (check === 10) return 'check-digit';
  return check === value.charCodeAt(9) - 48 ? undefined : 'check-digit';
}

export function isValidNhsNumber(value: string): boolean {
  return nhsNumberProblem(value) === undefined;
}
