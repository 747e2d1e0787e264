import { describe, expect, it } from 'vitest';
import { BadRequestError } from './errors';
import { indexKeys } from '../store/index-layout';
import {
  dateRange,
  matchesAll,
  normalizeReference,
  normalizeString,
  parseSearch,
  searchValues,
  splitValues,
} from './search';

describe('normalizeString', () => {
  it.each([
    ['Sánchez', 'sanchez'],
    ['  MÜLLER  ', 'muller'],
    ['Zoë  Ann', 'zoe ann'],
    ['a#b%c', 'a%23b%25c'],
  ])('folds %j to %j', (input, expected) => {
    expect(normalizeString(input)).toBe(expected);
  });
});

describe('normalizeReference', () => {
  it.each([
    ['Patient/1', undefined, 'Patient/1'],
    ['https://example.org/STU3/Patient/1/_history/3', undefined, 'Patient/1'],
    ['123', 'Patient', 'Patient/123'],
    ['123', undefined, undefined],
    ['not a ref!', 'Patient', undefined],
  ])('normalizes %j (target %j) to %j', (input, target, expected) => {
    expect(normalizeReference(input, target)).toBe(expected);
  });
});

describe('dateRange', () => {
  it.each([
    ['2019', '2019-01-01T00:00:00.000Z', '2019-12-31T23:59:59.999Z'],
    ['2019-02', '2019-02-01T00:00:00.000Z', '2019-02-28T23:59:59.999Z'],
    ['2020-02-29', '2020-02-29T00:00:00.000Z', '2020-02-29T23:59:59.999Z'],
    ['2019-03-15T10:00:00+01:00', '2019-03-15T09:00:00.000Z', '2019-03-15T09:00:00.999Z'],
    ['2019-03-15T10:00Z', '2019-03-15T10:00:00.000Z', '2019-03-15T10:00:59.999Z'],
  ])('covers %j from %s to %s', (input, lower, upper) => {
    const range = dateRange(input)!;
    expect(new Date(range.lower).toISOString()).toBe(lower);
    expect(new Date(range.upper).toISOString()).toBe(upper);
  });

  it.each(['2019-13', '2019-02-30', 'yesterday', '19', '2019-01-01T25:00Z'])('rejects %j', (input) => {
    expect(dateRange(input)).toBeUndefined();
  });
});

describe('splitValues', () => {
  it('splits on commas but not on escaped ones', () => {
    expect(splitValues('a,b\\,c,d')).toEqual(['a', 'b,c', 'd']);
  });
});

describe('index keys (functions/store/index-layout.ts)', () => {
  const patient = {
    resourceType: 'Patient',
    id: '7',
    identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9990000018' }],
    name: [{ family: 'Sánchez', given: ['José'] }],
    gender: 'male',
    birthDate: '1980-05-12',
    telecom: [{ system: 'phone', value: '0113 496 0000' }],
  };
  const keysOf = (type: 'Patient' | 'Condition', id: string, r: Record<string, unknown>) =>
    indexKeys(type, id, searchValues(type, r)).map((k) => `${k.pk.replace(/\/\d$/, '/<s>')} ${k.sk}`);

  it('one item per (parameter, value): family and given live in name; gender in the listing; ranges are sharded', () => {
    expect(keysOf('Patient', '7', patient).sort()).toEqual(
      [
        'Patient/_a/<s> male#7',
        'Patient/_i/name/<s> sanchez#7',
        'Patient/_i/name/<s> jose#7',
        'Patient/_i/identifier=9990000018 https:%2F%2Ffhir.nhs.uk%2FId%2Fnhs-number|7',
        'Patient/_i/birthdate/<s> 1980-05-12T00:00:00.000Z#7',
        'Patient/_i/phone=0113 496 0000 |7',
      ].sort(),
    );
  });

  it('a resource without the listed token is listed by its id alone', () => {
    const { gender: _, ...noGender } = patient;
    expect(keysOf('Patient', '7', noGender)).toContain('Patient/_a/<s> 7');
    expect(keysOf('Patient', '7', noGender).filter((k) => k.startsWith('Patient/_a/'))).toHaveLength(1);
  });

  it('derives normalized references for reference parameters', () => {
    const keys = indexKeys('Condition', 'c1', searchValues('Condition', { resourceType: 'Condition', subject: { reference: 'http://x/STU3/Patient/1' } }));
    expect(keys).toContainEqual({ pk: 'Condition/_i/patient=Patient/1', sk: 'c1' });
  });
});

describe('parseSearch', () => {
  it.each([
    ['identifier', 'sys|code', { kind: 'token', param: 'identifier', system: 'sys', code: 'code' }],
    ['identifier', 'code', { kind: 'token', param: 'identifier', code: 'code' }],
    ['identifier', '|code', { kind: 'token', param: 'identifier', system: '', code: 'code' }],
    ['identifier', 'sys|', { kind: 'token', param: 'identifier', system: 'sys' }],
    ['family', 'SÁN', { kind: 'string', param: 'family', value: 'san', exact: false }],
    ['family:exact', 'Sánchez', { kind: 'string', param: 'family', value: 'sanchez', exact: true }],
    ['birthdate', '1980', { kind: 'date', param: 'birthdate', op: 'eq', lower: '1980-01-01T00:00:00.000Z', upper: '1980-12-31T23:59:59.999Z' }],
    ['birthdate', 'ge1980-05', { kind: 'date', param: 'birthdate', op: 'ge', lower: '1980-05-01T00:00:00.000Z', upper: '1980-05-31T23:59:59.999Z' }],
    ['_id', '5', { kind: 'id', id: '5' }],
  ])('turns %s=%s into a condition', (name, value, condition) => {
    expect(parseSearch('Patient', { [name]: [value] }).clauses).toEqual([{ param: name, anyOf: [condition] }]);
  });

  it.each([
    ['patient', '123'],
    ['patient', 'Patient/123'],
    ['subject', '123'],
    ['subject', 'Patient/123'],
  ])('turns Observation %s=%s into a reference condition', (name, value) => {
    expect(parseSearch('Observation', { [name]: [value] }).clauses[0]!.anyOf).toEqual([{ kind: 'reference', param: name, ref: 'Patient/123' }]);
  });

  it.each([
    ['family', 'san', true],
    ['family', 'sanchez', true],
    ['family:exact', 'sanche', false],
    ['given', 'jo', true],
    ['name', 'jos', true],
    ['gender', 'male', true],
    ['gender', 'http://hl7.org/fhir/administrative-gender|male', true],
    ['gender', '|male', false],
    ['identifier', 'https://fhir.nhs.uk/Id/nhs-number|', true],
    ['birthdate', 'ge1980-05-12', true],
    ['birthdate', 'gt1980-05-12', false],
    ['birthdate', 'lt1980', false],
    ['phone', '0113 496 0000', true],
  ])('matches %s=%s on the resource itself: %s', (name, value, expected) => {
    const resource = {
      resourceType: 'Patient',
      identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9990000018' }],
      name: [{ family: 'Sánchez', given: ['José'] }],
      gender: 'male',
      birthDate: '1980-05-12',
      telecom: [{ system: 'phone', value: '0113 496 0000' }],
    };
    expect(matchesAll('7', searchValues('Patient', resource), parseSearch('Patient', { [name]: [value] }).clauses)).toBe(expected);
  });

  it('makes commas an OR and repeated parameters an AND', () => {
    const parsed = parseSearch('Patient', { gender: ['male,female'], family: ['a', 'b'] });
    expect(parsed.clauses.map((c) => c.anyOf.length)).toEqual([2, 1, 1]);
  });

  it('ignores unknown parameters, or rejects them in strict mode', () => {
    expect(parseSearch('Patient', { colour: ['red'] }).ignored).toEqual(['colour']);
    expect(() => parseSearch('Patient', { colour: ['red'] }, true)).toThrow(BadRequestError);
  });

  it.each([
    ['birthdate', 'sa2019'],
    ['birthdate', 'not-a-date'],
    ['birthdate', 'eq2019-13'],
    ['_count', 'ten'],
    ['_id', 'bad id!'],
    ['gender:text', 'male'],
    ['patient', 'http://x'],
  ])('rejects %s=%s with a 400', (name, value) => {
    const type = name === 'patient' ? 'Condition' : 'Patient';
    expect(() => parseSearch(type, { [name]: [value] })).toThrow(BadRequestError);
  });

  it('caps _count at 100 and defaults it to 10; _count=0 and _summary=count ask for the total only', () => {
    expect(parseSearch('Patient', {}).count).toBe(10);
    expect(parseSearch('Patient', { _count: ['500'] }).count).toBe(100);
    expect(parseSearch('Patient', { _count: ['0'] }).countOnly).toBe(true);
    expect(parseSearch('Patient', { _summary: ['count'] }).countOnly).toBe(true);
  });
});

describe('13.4 fan-out limits: a clear 400 naming the limit', () => {
  const ids = (n: number) => Array.from({ length: n }, (_, i) => `x${i}`).join(',');
  it('caps the values of one parameter (OR width)', () => {
    expect(() => parseSearch('Organization', { _id: [ids(1500)] })).toThrow(/at most 20 values/);
    expect(() => parseSearch('Organization', { _id: [ids(20)] })).not.toThrow();
  });
  it('caps the repetitions of one parameter and the number of clauses', () => {
    expect(() => parseSearch('Patient', { family: Array.from({ length: 6 }, (_, i) => `f${i}`) })).toThrow(/repeated at most 5 times/);
    const many = Object.fromEntries(['family', 'given', 'name', 'gender', 'email', 'phone', 'identifier', 'address-postalcode'].map((p) => [p, ['a', 'b']]));
    expect(() => parseSearch('Patient', { ...many })).toThrow(/at most 10 search criteria/);
  });
  it('names the limit in the OperationOutcome', () => {
    try {
      parseSearch('Organization', { _id: [ids(21)] });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(BadRequestError);
      expect(JSON.stringify((err as BadRequestError).outcome)).toMatch(/_id.*at most 20 values/);
    }
  });
});
