import { describe, expect, it } from 'vitest';
import { BadRequestError } from './errors';
import {
  dateRange,
  decodeCursor,
  encodeCursor,
  indexKeys,
  normalizeReference,
  normalizeString,
  parseSearch,
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

describe('indexKeys', () => {
  const patient = {
    resourceType: 'Patient',
    id: '7',
    identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9990000018' }],
    name: [{ family: 'Sánchez', given: ['José'] }],
    gender: 'male',
    birthDate: '1980-05-12',
    telecom: [{ system: 'phone', value: '0113 496 0000' }],
  };

  it('derives string, token (both variants), date and _all keys', () => {
    const keys = indexKeys('Patient', '7', patient).map((k) => `${k.pk} ${k.sk}`);
    expect(keys).toEqual(
      expect.arrayContaining([
        'I#_all 7',
        'I#family sanchez#7',
        'I#given jose#7',
        'I#name sanchez#7',
        'I#name jose#7',
        'I#gender#sc http://hl7.org/fhir/administrative-gender|male#7',
        'I#gender#c male#7',
        'I#identifier#sc https://fhir.nhs.uk/Id/nhs-number|9990000018#7',
        'I#identifier#c 9990000018#7',
        'I#birthdate 1980-05-12T00:00:00.000Z#7',
        'I#phone#sc |0113 496 0000#7',
      ]),
    );
  });

  it('derives normalized references for reference parameters', () => {
    const keys = indexKeys('Condition', 'c1', { resourceType: 'Condition', subject: { reference: 'http://x/STU3/Patient/1' } });
    expect(keys).toContainEqual({ pk: 'I#patient', sk: 'Patient/1#c1' });
  });
});

describe('parseSearch', () => {
  it.each([
    ['identifier', 'sys|code', { pk: 'I#identifier#sc', op: 'begins_with', value: 'sys|code#' }],
    ['identifier', 'code', { pk: 'I#identifier#c', op: 'begins_with', value: 'code#' }],
    ['identifier', '|code', { pk: 'I#identifier#sc', op: 'begins_with', value: '|code#' }],
    ['identifier', 'sys|', { pk: 'I#identifier#sc', op: 'begins_with', value: 'sys|' }],
    ['family', 'SÁN', { pk: 'I#family', op: 'begins_with', value: 'san' }],
    ['family:exact', 'Sánchez', { pk: 'I#family', op: 'begins_with', value: 'sanchez#' }],
    ['birthdate', '1980', { pk: 'I#birthdate', op: 'between', value: '1980-01-01T00:00:00.000Z', value2: '1980-12-31T23:59:59.999Z#~' }],
    ['birthdate', 'ge1980-05', { pk: 'I#birthdate', op: 'ge', value: '1980-05-01T00:00:00.000Z' }],
    ['birthdate', 'gt1980-05', { pk: 'I#birthdate', op: 'gt', value: '1980-05-31T23:59:59.999Z#~' }],
    ['birthdate', 'le1980', { pk: 'I#birthdate', op: 'le', value: '1980-12-31T23:59:59.999Z#~' }],
    ['birthdate', 'lt1980', { pk: 'I#birthdate', op: 'lt', value: '1980-01-01T00:00:00.000Z' }],
    ['_id', '5', { pk: 'I#_all', op: 'eq', value: '5' }],
  ])('turns %s=%s into a key condition', (name, value, condition) => {
    expect(parseSearch('Patient', { [name]: [value] }).clauses).toEqual([{ param: name, anyOf: [condition] }]);
  });

  it.each([
    ['patient', '123', 'Patient/123#'],
    ['patient', 'Patient/123', 'Patient/123#'],
    ['subject', '123', 'Patient/123#'],
    ['subject', 'Patient/123', 'Patient/123#'],
  ])('turns Observation %s=%s into a reference condition', (name, value, prefix) => {
    expect(parseSearch('Observation', { [name]: [value] }).clauses[0]!.anyOf).toEqual([{ pk: `I#${name}`, op: 'begins_with', value: prefix }]);
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

  it('caps _count at 100 and defaults it to 10', () => {
    expect(parseSearch('Patient', {}).count).toBe(10);
    expect(parseSearch('Patient', { _count: ['500'] }).count).toBe(100);
  });
});

describe('continuation tokens', () => {
  it('round-trips', () => {
    expect(decodeCursor(encodeCursor('abc-1'))).toBe('abc-1');
  });

  it.each(['garbage!', Buffer.from('{"v":2,"after":"x"}').toString('base64url'), Buffer.from('not json').toString('base64url'), ''])(
    'rejects %j with a 400',
    (token) => {
      expect(() => decodeCursor(token)).toThrow(BadRequestError);
    },
  );
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
