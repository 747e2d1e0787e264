import { describe, expect, it } from 'vitest';
import { isValidNhsNumber, nhsNumberProblem } from './nhs-number';
import { typeTree } from '../fhir-model/model';
import { isPrimitiveValue } from './primitives';

/** The check as the validator runs it: with the JSON type and regex of the type's StructureDefinition. */
function isPrimitive(type: string, value: unknown): boolean {
  const def = typeTree(type)!.root.children.find((c) => c.name === 'value')!.def;
  return isPrimitiveValue(type, value, def.jsonType, def.regex);
}
import { isSnomedConceptId } from './snomed';

const CASES: [string, unknown[], unknown[]][] = [
  ['boolean', [true, false], ['true', 0, null]],
  ['integer', [0, -5, 2147483647], [1.5, '1', 2147483648]],
  ['positiveInt', [1, 42], [0, -1, 1.1]],
  ['unsignedInt', [0, 42], [-1, '0']],
  ['decimal', [0, -1.25, 72.5], ['72.5', Number.NaN, Number.POSITIVE_INFINITY]],
  ['string', ['a', 'Ann Smith'], ['', '   ', 5]],
  ['code', ['female', 'in-progress', 'a b'], [' female', 'female ', 'a  b', '', 'a\tb']],
  ['id', ['a', 'A-1.b', 'x'.repeat(64)], ['a b', 'a_b', 'x'.repeat(65), '', 7]],
  ['uri', ['http://snomed.info/sct', 'urn:oid:1.2.3', 'urn:uuid:7d1e2a8b-5c3f-4b6a-9d0e-1f2a3b4c5d6e'], ['has space', '']],
  ['oid', ['urn:oid:2.16.840.1.113883.2.1.4.1'], ['2.16.840', 'urn:oid:1.02']],
  ['base64Binary', ['aGVsbG8=', 'aGVs bG8='], ['not base64!', 'abc']],
  ['uuid', ['urn:uuid:7d1e2a8b-5c3f-4b6a-9d0e-1f2a3b4c5d6e'], ['7d1e2a8b-5c3f-4b6a-9d0e-1f2a3b4c5d6e']],
  ['date', ['2020', '2020-02', '2020-02-29', '-0100-01-01'], ['2019-02-29', '2020-13', '2020-1-1', '20200101', '2020-02-28T00:00:00Z', '01/02/2020']],
  [
    'dateTime',
    ['2020', '2020-02', '2020-02-29', '2020-02-29T10:00:00Z', '2020-02-29T10:00:00.123+01:00'],
    ['2020-02-29T10:00:00', '2020-02-29T10:00Z', '2020-02-29T24:00:00Z', '2020-02-29 10:00:00Z', '2020-02-30T10:00:00Z', '2020-02-29T10:00:00+15:00', '2020-06-01T23:59:60-05:30'],
  ],
  ['instant', ['2020-02-29T10:00:00Z', '2020-02-29T10:00:00.5-01:00'], ['2020-02-29', '2020-02-29T10:00:00', '2020-02']],
  ['time', ['10:00:00', '23:59:59.999'], ['24:00:00', '10:00', '10:00:00Z']],
  ['xhtml', ['<div xmlns="http://www.w3.org/1999/xhtml">x</div>', '<div>x</div>'], ['x', '<p>x</p>', '<division>x</division>', '<div><script>alert(1)</script></div>']],
];

describe.each(CASES)('the STU3 primitive %s', (type, valid, invalid) => {
  it.each(valid.map((v) => [v]))('accepts %j', (value) => {
    expect(isPrimitive(type, value)).toBe(true);
  });
  it.each(invalid.map((v) => [v]))('rejects %j', (value) => {
    expect(isPrimitive(type, value)).toBe(false);
  });
});

describe('the NHS number check', () => {
  it.each(['9434765919', '9000000009', '9014017642', '4010232137'])('accepts %s (valid Modulus 11 check digit)', (value) => {
    expect(isValidNhsNumber(value)).toBe(true);
  });
  it.each([
    ['9434765918', 'check-digit'],
    ['9434765960', 'check-digit'], // 943476596: 11 - (sum mod 11) = 10, no valid check digit
    ['4010232130', 'check-digit'],
    ['943476591', 'format'],
    ['94347659190', 'format'],
    ['943 476 5919', 'format'],
    ['94347659a9', 'format'],
    ['', 'format'],
  ])('rejects %s (%s)', (value, problem) => {
    expect(nhsNumberProblem(value)).toBe(problem);
  });
  it('maps a check value of 11 to the digit 0', () => {
    // 000000000 sums to 0: 11 - (0 mod 11) = 11, which becomes the check digit 0.
    expect(isValidNhsNumber('0000000000')).toBe(true);
    expect(isValidNhsNumber('0000000011')).toBe(false);
  });
});

describe('the SNOMED CT concept id check', () => {
  it.each(['44054006', '73430006', '320141001', '42109611000001109', '1107481000000106', '385055001'])('accepts %s', (code) => {
    expect(isSnomedConceptId(code)).toBe(true);
  });
  it.each([
    ['44054007', 'wrong Verhoeff check digit'],
    ['04054006', 'leading zero'],
    ['12345', 'too short'],
    ['4405400X', 'not digits'],
    ['44054016', 'description partition (01), not a concept'],
  ])('rejects %s (%s)', (code) => {
    expect(isSnomedConceptId(code)).toBe(false);
  });
});
