import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RESOURCE_TYPES } from '../../contract/resource-types';
import { expandScopes, parsePermissionSuffix, parseScope, splitScope, unionPermissions } from './scopes';

describe('parseScope: SMART v1 scopes', () => {
  it.each([
    ['patient/Patient.read', 'patient', ['Patient'], 'rs'],
    ['user/Condition.read', 'user', ['Condition'], 'rs'],
    ['system/Observation.write', 'system', ['Observation'], 'cud'],
    ['user/Encounter.*', 'user', ['Encounter'], 'cruds'],
    ['patient/*.read', 'patient', RESOURCE_TYPES, 'rs'],
    ['system/*.*', 'system', RESOURCE_TYPES, 'cruds'],
  ])('%s grants %s-level %j with %s', (scope, level, types, permissions) => {
    expect(parseScope(scope)).toEqual({ kind: 'resource', level, typeName: scope.split('/')[1]!.split('.')[0], types, permissions });
  });
});

describe('parseScope: SMART v2 scopes', () => {
  it.each([
    ['patient/Patient.rs', 'rs'],
    ['user/Condition.r', 'r'],
    ['system/Observation.s', 's'],
    ['user/Patient.cruds', 'cruds'],
    ['user/Patient.cud', 'cud'],
    ['user/Patient.c', 'c'],
    ['user/Patient.u', 'u'],
    ['user/Patient.d', 'd'],
    ['user/Patient.crs', 'crs'],
  ])('%s grants %s', (scope, permissions) => {
    expect(parseScope(scope)).toMatchObject({ kind: 'resource', permissions });
  });
});

describe('parseScope: aliases and unknown types', () => {
  it('maps the DSTU2 MedicationOrder to MedicationRequest', () => {
    expect(parseScope('user/MedicationOrder.read')).toEqual({
      kind: 'resource',
      level: 'user',
      typeName: 'MedicationOrder',
      types: ['MedicationRequest'],
      permissions: 'rs',
    });
  });
  it.each(['user/Binary.read', 'patient/DocumentReference.read', 'user/Bundle.*', 'user/Foo.rs'])(
    '%s parses but reaches no served type',
    (scope) => {
      expect(parseScope(scope)).toMatchObject({ kind: 'resource', types: [] });
    },
  );
});

describe('parseScope: scopes that grant no resource access', () => {
  it.each(['profile', 'openid', 'fhirUser', 'launch', 'launch/patient', 'launch/encounter', 'offline_access', 'online_access'])(
    '%s is valid and non-resource',
    (scope) => {
      expect(parseScope(scope)).toEqual({ kind: 'non-resource', scope });
    },
  );
});

describe('parseScope: malformed scopes are invalid and never throw', () => {
  it.each([
    '',
    'Patient.read',
    'patient/Patient',
    'patient/Patient.',
    'patient/Patient.READ',
    'Patient/Patient.read',
    'practitioner/Patient.read',
    'patient/patient.read',
    'patient/Patient.sr',
    'patient/Patient.rr',
    'patient/Patient.x',
    'patient/Patient.readwrite',
    'patient/Patient.read ',
    ' patient/Patient.read',
    'patient/Patient.rs?category=laboratory',
    'patient/Observation.rs?code=1234',
    'patient//Patient.read',
    'patient/*/Patient.read',
    'user/Patient.read.write',
    'user/**.read',
    'x'.repeat(300),
    'user/Patient.c,r',
    'ccri/medications.read',
  ])('%j grants nothing', (scope) => {
    expect(parseScope(scope).kind).toBe('invalid');
  });

  it('never throws on any string', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        const parsed = parseScope(s);
        expect(['resource', 'non-resource', 'invalid']).toContain(parsed.kind);
      }),
    );
  });
});

describe('parsePermissionSuffix', () => {
  it.each([
    ['read', 'rs'],
    ['write', 'cud'],
    ['*', 'cruds'],
    ['rs', 'rs'],
    ['cruds', 'cruds'],
    ['', undefined],
    ['sr', undefined],
    ['all', undefined],
  ])('%j -> %j', (suffix, expected) => {
    expect(parsePermissionSuffix(suffix)).toBe(expected);
  });
});

describe('splitScope and unionPermissions', () => {
  it('splits on any run of whitespace and drops empties', () => {
    expect(splitScope('  profile \t user/Patient.read\n')).toEqual(['profile', 'user/Patient.read']);
    expect(splitScope(undefined)).toEqual([]);
  });
  it('unions in canonical cruds order', () => {
    expect(unionPermissions('s', 'cr')).toBe('crs');
    expect(unionPermissions(undefined, 'd')).toBe('d');
  });
});

describe('expandScopes', () => {
  it('separates whole-type grants from patient-compartment grants, and merges permissions', () => {
    expect(expandScopes('user/Patient.r system/Patient.s patient/Condition.read patient/Condition.c profile junk')).toEqual({
      type: { Patient: 'rs' },
      patient: { Condition: 'crs' },
    });
  });

  it('expands the wildcard type to every served type', () => {
    const grants = expandScopes(['user/*.write']);
    expect(Object.keys(grants.type).sort()).toEqual([...RESOURCE_TYPES].sort());
    expect(new Set(Object.values(grants.type))).toEqual(new Set(['cud']));
  });

  it('grants nothing for profile, openid, malformed scopes or unknown types', () => {
    expect(expandScopes('profile openid fhirUser launch offline_access user/Binary.read patient/Patient user/Patient.x')).toEqual({
      type: {},
      patient: {},
    });
  });

  it('gives the MedicationOrder alias to MedicationRequest', () => {
    expect(expandScopes('user/MedicationOrder.read patient/MedicationOrder.read')).toEqual({
      type: { MedicationRequest: 'rs' },
      patient: { MedicationRequest: 'rs' },
    });
  });

  it('expands a named scope from its definition into whole-type grants (dynamic scopes seam)', () => {
    const definitions = new Map([
      ['ccri/medications.read', { MedicationStatement: 'rs', MedicationOrder: 'read', Unknown: 'rs', Medication: 'bad' }],
    ]);
    expect(expandScopes('ccri/medications.read user/Patient.r', definitions)).toEqual({
      type: { MedicationStatement: 'rs', MedicationRequest: 'rs', Patient: 'r' },
      patient: {},
    });
    expect(expandScopes('ccri/medications.read')).toEqual({ type: {}, patient: {} });
  });
});
