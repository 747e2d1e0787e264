import { describe, expect, it } from 'vitest';
import { BadRequestError } from './errors';
import { matchesAll, parseSearch, searchValues } from './search';
import { parseSearchRequest } from './search-request';
import { sortVersions } from './search-service';
import type { StoredVersion } from '../store/repository';

const q = (query: Record<string, string | string[]>) => Object.fromEntries(Object.entries(query).map(([k, v]) => [k, Array.isArray(v) ? v : [v]]));

describe('parseSearchRequest: what reaches other types, parsed and bound before any read', () => {
  it('parses _include (Type:param[:target], *, :recurse) and _revinclude', () => {
    const r = parseSearchRequest('Patient', q({ _include: ['Patient:general-practitioner:Practitioner', '*'], '_include:recurse': 'Patient:general-practitioner', _revinclude: 'Condition:patient' }));
    expect(r.includes).toEqual([
      { source: 'Patient', param: 'general-practitioner', target: 'Practitioner' },
      { source: '*', param: '*' },
      { source: 'Patient', param: 'general-practitioner' },
    ]);
    expect(r.recurse).toBe(true);
    expect(r.revincludes).toEqual([{ source: 'Condition', param: 'patient' }]);
    expect(r.canonical.map(([k]) => k)).toEqual(['_include', '_include', '_include:recurse', '_revinclude']);
  });

  it('parses one-level chains, with and without a type modifier, and _has', () => {
    const r = parseSearchRequest('Observation', q({ 'subject:Patient.identifier': 'X', 'patient.family:exact': 'Jones' }));
    expect(r.chains).toEqual([
      { key: 'subject:Patient.identifier', value: 'X', param: 'subject', target: 'Patient', criterion: { identifier: ['X'] } },
      { key: 'patient.family:exact', value: 'Jones', param: 'patient', target: 'Patient', criterion: { 'family:exact': ['Jones'] } },
    ]);
    const has = parseSearchRequest('Patient', q({ '_has:Condition:patient:clinical-status': 'active' }));
    expect(has.has).toEqual([{ key: '_has:Condition:patient:clinical-status', value: 'active', source: 'Condition', param: 'patient', criterion: { 'clinical-status': ['active'] } }]);
  });

  it('parses _sort: -, :desc, several keys', () => {
    expect(parseSearchRequest('Patient', q({ _sort: '-birthdate,_id' })).sort).toEqual([{ param: 'birthdate', desc: true }, { param: '_id', desc: false }]);
    expect(parseSearchRequest('Patient', q({ '_sort:desc': '_lastUpdated' })).sort).toEqual([{ param: '_lastUpdated', desc: true }]);
  });

  it.each([
    ['Patient', { _include: 'Patient:nope' }],
    ['Patient', { _include: 'Patient:gender' }],
    ['Patient', { _include: 'Unknown:x' }],
    ['Patient', { _revinclude: '*' }],
    ['Patient', { '_revinclude:recurse': 'Condition:patient' }],
    ['Patient', { '_include:fuzzy': 'Patient:general-practitioner' }],
    ['Condition', { 'patient.organization.name': 'x' }],
    ['Condition', { 'category.code': 'x' }],
    ['Condition', { 'patient.nope': 'x' }],
    ['Condition', { 'patient._has:Condition:patient:code': 'x' }],
    ['Patient', { '_has:Condition:patient': 'x' }],
    ['Patient', { '_has:Practitioner:name:name': 'x' }],
    ['Patient', { '_has:Condition:patient:_has:Condition:patient:code': 'x' }],
    ['Patient', { _sort: 'gender' }],
    ['Patient', { _sort: 'nope' }],
    ['Patient', { _sort: 'a,b,c,d' }],
    ['Patient', { _include: ['Patient:general-practitioner', 'Patient:general-practitioner', 'Patient:general-practitioner', '*', '*', '*'] }],
    ['Condition', { 'patient.family': ['a', 'b', 'c'] }],
    ['Patient', { _tag: 'x' }],
    ['Patient', { _text: 'x' }],
    ['Patient', { 'family:fuzzy': 'x' }],
    ['Patient', { 'gender:contains': 'x' }],
    ['Patient', { 'family:missing': 'maybe' }],
    ['Patient', { '_id:missing': 'true' }],
  ] as const)('%s?%o is a 400, never dropped', (type, query) => {
    expect(() => parseSearchRequest(type, q(query as Record<string, string | string[]>))).toThrow(BadRequestError);
  });

  it('lists unknown parameters as ignored (lenient), refuses them under strict handling', () => {
    expect(parseSearchRequest('Patient', q({ colour: 'blue', family: 'x' })).ignored).toEqual(['colour']);
    expect(() => parseSearchRequest('Patient', q({ colour: 'blue' }), true)).toThrow(BadRequestError);
  });

  it('parseSearch alone (If-None-Exist) refuses what only a search serves', () => {
    for (const key of ['_include', '_sort', 'patient.family', '_has:Condition:patient:code']) {
      expect(() => parseSearch('Condition', q({ [key]: 'x' }), true)).toThrow(BadRequestError);
    }
  });
});

describe('modifiers and _lastUpdated: the exact test on the resource', () => {
  const patient = { resourceType: 'Patient', gender: 'female', name: [{ family: 'Sánchez', given: ['Ana'] }] };
  const match = (query: Record<string, string>, lastUpdated = '2024-05-01T10:00:00.000Z') =>
    matchesAll('7', searchValues('Patient', patient), parseSearch('Patient', q(query)).clauses, lastUpdated);

  it.each([
    [{ 'family:contains': 'nch' }, true],
    [{ 'family:contains': 'xyz' }, false],
    [{ 'family:exact': 'sanchez' }, true],
    [{ 'family:exact': 'sanch' }, false],
    [{ 'gender:not': 'male' }, true],
    [{ 'gender:not': 'female' }, false],
    [{ 'gender:not': 'male,female' }, false],
    [{ 'email:not': 'a@b' }, true],
    [{ 'email:missing': 'true' }, true],
    [{ 'email:missing': 'false' }, false],
    [{ 'family:missing': 'false' }, true],
    [{ 'birthdate:missing': 'true' }, true],
    [{ 'general-practitioner:missing': 'true' }, true],
    [{ _lastUpdated: 'ge2024-05-01' }, true],
    [{ _lastUpdated: 'lt2024-05-01' }, false],
    [{ _lastUpdated: '2024-05' }, true],
  ] as const)('%o: %s', (query, expected) => {
    expect(match(query as Record<string, string>)).toBe(expected);
  });
});

describe('sortVersions', () => {
  const v = (id: string, birthDate?: string, family?: string): StoredVersion => ({
    type: 'Patient',
    id,
    versionId: 1,
    lastUpdated: `2024-01-0${id}T00:00:00.000Z`,
    deleted: false,
    resource: { resourceType: 'Patient', id, ...(birthDate ? { birthDate } : {}), ...(family ? { name: [{ family }] } : {}) },
  });
  const all = [v('1', '1980', 'b'), v('2', '1970', 'a'), v('3', undefined, 'a'), v('4', '1990')];

  it('sorts by date and string parameters, either direction, missing values last, then by id', () => {
    expect(sortVersions('Patient', all, [{ param: 'birthdate', desc: false }]).map((x) => x.id)).toEqual(['2', '1', '4', '3']);
    expect(sortVersions('Patient', all, [{ param: 'birthdate', desc: true }]).map((x) => x.id)).toEqual(['4', '1', '2', '3']);
    expect(sortVersions('Patient', all, [{ param: 'family', desc: false }, { param: 'birthdate', desc: true }]).map((x) => x.id)).toEqual(['2', '3', '1', '4']);
    expect(sortVersions('Patient', all, [{ param: '_lastUpdated', desc: true }]).map((x) => x.id)).toEqual(['4', '3', '2', '1']);
    expect(sortVersions('Patient', all, [{ param: '_id', desc: true }]).map((x) => x.id)).toEqual(['4', '3', '2', '1']);
  });
});
