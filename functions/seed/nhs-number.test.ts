import { describe, expect, it } from 'vitest';
import { isValidNhsNumber, nhsCheckDigit } from '../validation/nhs-number';
import { testNhsNumber, testNhsNumbers } from './nhs-number';

describe('NHS number check digit (Modulus 11)', () => {
  it.each([
    ['943476591', 9],
    ['999000001', 8],
  ])('of %s is %i', (nine, check) => {
    expect(nhsCheckDigit(nine)).toBe(check);
  });

  it('has no check digit when the remainder gives 10', () => {
    // 999000000: 9*10+9*9+9*8 = 243; 243 mod 11 = 1; 11 - 1 = 10
    expect(nhsCheckDigit('999000000')).toBeUndefined();
  });

  it('yields only valid numbers of the 999 range, ascending', () => {
    const numbers: string[] = [];
    for (const n of testNhsNumbers()) {
      numbers.push(n);
      if (numbers.length === 50) break;
    }
    for (const n of numbers) {
      expect(n.startsWith('999')).toBe(true);
      expect(isValidNhsNumber(n)).toBe(true);
    }
    expect([...numbers].sort()).toEqual(numbers);
    expect(testNhsNumber(0)).toBe(numbers[0]);
  });
});
