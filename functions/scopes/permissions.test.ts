import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RESOURCE_TYPES, type ResourceType } from '../../contract/resource-types';
import { ALL_INTERACTIONS, DEMO_CLIENTS, READ_INTERACTIONS } from './demo-clients.fixture';
import { ForbiddenError } from './errors';
import {
  accessFromClaims,
  accessFromContext,
  decide,
  decideSystem,
  formatGrants,
  parseGrants,
  toContext,
  type Access,
} from './permissions';
import { expandScopes } from './scopes';

const access = (scope: string, patient?: string, strictPatientScopes = false): Access =>
  accessFromClaims({ clientId: 'client-1', scope, ...(patient ? { patient } : {}) }, { strictPatientScopes });

const matrix = (types: readonly ResourceType[]) =>
  types.flatMap((type) => ALL_INTERACTIONS.map((interaction) => ({ type, interaction })));

describe.each(DEMO_CLIENTS)('demo client "$name" (no bound patient, default mode)', (client) => {
  const a = access(client.scope);
  it.each(matrix(RESOURCE_TYPES))('$interaction on $type', ({ type, interaction }) => {
    const expected = READ_INTERACTIONS.includes(interaction) && client.readable.includes(type);
    const decision = decide(a, type, interaction);
    expect(decision.allowed).toBe(expected);
    if (decision.allowed) expect(decision.compartmentPatient).toBeUndefined();
    else expect(decision.reason).toContain(`Insufficient Access Rights to access ${type}`);
  });
});

describe.each(DEMO_CLIENTS)('demo client "$name" in strict mode without a bound patient', (client) => {
  const a = access(client.scope, undefined, true);
  it.each(matrix(RESOURCE_TYPES))('$interaction on $type', ({ type, interaction }) => {
    const expected =
      READ_INTERACTIONS.includes(interaction) && client.readable.includes(type) && !client.patientOnly.includes(type);
    expect(decide(a, type, interaction).allowed).toBe(expected);
  });
});

describe.each(DEMO_CLIENTS)('demo client "$name" bound to patient 42', (client) => {
  const a = access(client.scope, '42');
  it.each(matrix(RESOURCE_TYPES))('$interaction on $type', ({ type, interaction }) => {
    const allowed = READ_INTERACTIONS.includes(interaction) && client.readable.includes(type);
    const expected = !allowed
      ? false
      : client.patientOnly.includes(type)
        ? { allowed: true, compartmentPatient: '42' }
        : { allowed: true };
    const decision = decide(a, type, interaction);
    if (expected === false) expect(decision.allowed).toBe(false);
    else expect(decision).toEqual(expected);
  });
});

describe('interaction -> permission', () => {
  it.each([
    ['user/Patient.r', ['read', 'vread', 'history-instance', 'everything']],
    ['user/Patient.s', ['history-type', 'search-type', 'search-compartment']],
    ['user/Patient.c', ['create', 'validate']],
    ['user/Patient.u', ['update', 'validate']],
    ['user/Patient.d', ['delete']],
    ['user/Patient.read', ['read', 'vread', 'history-instance', 'history-type', 'search-type', 'search-compartment', 'everything']],
    ['user/Patient.write', ['create', 'update', 'delete', 'validate']],
    ['user/Patient.*', ALL_INTERACTIONS],
    ['system/Patient.cruds', ALL_INTERACTIONS],
    ['user/*.cu', ['create', 'update', 'validate']],
  ])('%s allows exactly %j on Patient', (scope, allowed) => {
    for (const interaction of ALL_INTERACTIONS) {
      expect(decide(access(scope), 'Patient', interaction).allowed, interaction).toBe(allowed.includes(interaction));
    }
  });
});

describe('publicly available information', () => {
  const publicTypes: ResourceType[] = ['Organization', 'Practitioner', 'PractitionerRole', 'Location', 'Medication'];
  it.each(publicTypes)('%s is readable and searchable by any valid token, even one without any scope', (type) => {
    for (const scope of ['', 'profile', 'openid junk']) {
      for (const interaction of READ_INTERACTIONS) expect(decide(access(scope), type, interaction).allowed).toBe(true);
    }
  });
  it.each(publicTypes)('%s needs a write scope to be written', (type) => {
    for (const interaction of ['create', 'update', 'delete', 'validate'] as const) {
      expect(decide(access('profile user/*.read'), type, interaction).allowed).toBe(false);
      expect(decide(access(`user/${type}.write`), type, interaction).allowed).toBe(true);
    }
  });
  it('patient data types are not public', () => {
    expect(decide(access('profile'), 'Condition', 'read')).toEqual({
      allowed: false,
      reason:
        'Insufficient Access Rights to access Condition: to read Condition a token needs a scope granting read (r) on it, e.g. user/Condition.read.',
    });
  });
});

describe('patient context', () => {
  it('a patient/ grant on a patient-bound token reaches only that patient\'s compartment, for reads and writes', () => {
    const a = access('patient/Condition.cruds', 'p1');
    for (const interaction of ALL_INTERACTIONS) {
      expect(decide(a, 'Condition', interaction)).toEqual({ allowed: true, compartmentPatient: 'p1' });
    }
  });

  it('a user/ or system/ grant of the same permission wins over the patient/ one (no compartment)', () => {
    const a = access('patient/Condition.rs user/Condition.r', 'p1');
    expect(decide(a, 'Condition', 'read')).toEqual({ allowed: true });
    expect(decide(a, 'Condition', 'search-type')).toEqual({ allowed: true, compartmentPatient: 'p1' });
    expect(decide(access('patient/Observation.cruds system/Observation.c', 'p1'), 'Observation', 'create')).toEqual({
      allowed: true,
    });
  });

  it('without a bound patient, patient/ grants act on the whole type (CCRI behaviour)', () => {
    expect(decide(access('patient/Condition.read'), 'Condition', 'search-type')).toEqual({ allowed: true });
  });

  it('in strict mode, patient/ grants of a token without a bound patient allow nothing', () => {
    const a = access('patient/Condition.read user/Patient.read', undefined, true);
    expect(decide(a, 'Condition', 'read').allowed).toBe(false);
    expect(decide(a, 'Patient', 'read')).toEqual({ allowed: true });
    expect(a.grants).toEqual({ type: { Patient: 'rs' }, patient: {} });
  });

  it('in strict mode, a patient-bound token keeps its patient/ grants', () => {
    expect(decide(access('patient/Condition.read', 'p1', true), 'Condition', 'read')).toEqual({
      allowed: true,
      compartmentPatient: 'p1',
    });
  });

  it('patient/ grants do not reach types outside the patient compartment on a patient-bound token', () => {
    const a = access('patient/Organization.write patient/Organization.read', 'p1');
    expect(decide(a, 'Organization', 'create')).toMatchObject({ allowed: false });
    expect(decide(a, 'Organization', 'read')).toEqual({ allowed: true });
  });
});

describe('the authorizer context', () => {
  it('is {clientId, scope, patient?, grants} with a compact grants string', () => {
    const a = access('user/Patient.read patient/Observation.rs user/MedicationOrder.read profile', 'p-1');
    expect(toContext(a)).toEqual({
      clientId: 'client-1',
      scope: 'user/Patient.read patient/Observation.rs user/MedicationOrder.read profile',
      patient: 'p-1',
      grants: 'Patient:rs MedicationRequest:rs patient/Observation:rs',
    });
    expect(toContext(access('profile'))).toEqual({ clientId: 'client-1', scope: 'profile', grants: '' });
  });

  it('round-trips through accessFromContext, ignoring what API Gateway adds', () => {
    const a = access(DEMO_CLIENTS[1]!.scope, '9');
    const ctx = { ...toContext(a), principalId: 'client-1', integrationLatency: '12' } as Record<string, string>;
    expect(accessFromContext(ctx)).toEqual(a);
  });

  it('round-trips any grants', () => {
    const scopeToken = fc.constantFrom(
      'user/Patient.read',
      'patient/Condition.cud',
      'system/*.s',
      'patient/*.r',
      'user/MedicationOrder.write',
      'user/Observation.crds',
      'profile',
    );
    fc.assert(
      fc.property(fc.array(scopeToken, { maxLength: 8 }), (tokens) => {
        const grants = expandScopes(tokens);
        expect(parseGrants(formatGrants(grants))).toEqual(grants);
      }),
    );
  });

  it.each([
    ['absent', undefined],
    ['without clientId', { scope: '', grants: '' }],
    ['with an empty clientId', { clientId: '', scope: '', grants: '' }],
    ['without grants', { clientId: 'c', scope: '' }],
    ['with malformed grants', { clientId: 'c', scope: '', grants: 'Patient=rs' }],
    ['with an unknown type in grants', { clientId: 'c', scope: '', grants: 'Binary:rs' }],
    ['with permissions out of order', { clientId: 'c', scope: '', grants: 'Patient:sr' }],
    ['with a patient that is not a FHIR id', { clientId: 'c', scope: '', grants: '', patient: 'a/b' }],
  ])('refuses a context %s with a 403 ForbiddenError', (_name, ctx) => {
    expect(() => accessFromContext(ctx as Record<string, string> | undefined)).toThrow(ForbiddenError);
    try {
      accessFromContext(ctx as Record<string, string> | undefined);
    } catch (err) {
      expect((err as ForbiddenError).statusCode).toBe(403);
    }
  });
});

describe('routes of no one type (issue 15): POST /STU3, GET /STU3/_history', () => {
  it.each(DEMO_CLIENTS.flatMap((c) => [c.scope, `${c.scope} junk`]))('open to every demo client, whose entries are then decided one by one (%s)', (scope) => {
    expect(decideSystem(access(scope), 'transaction')).toEqual({ allowed: true });
    expect(decideSystem(access(scope, '42'), 'history-system')).toEqual({ allowed: true });
  });
  it('needs at least one interaction on one type; an unknown system interaction allows nothing', () => {
    const nothing: Access = { clientId: 'c', scope: '', grants: { type: {}, patient: {} } };
    expect(decideSystem(nothing, 'transaction').allowed).toBe(true); // the public types: any valid token reads them
    expect(decideSystem(nothing, 'nope' as never).allowed).toBe(false);
  });
  it('decides patch with u and r, conditional update with u and s, conditional delete with d and s, type history with s', () => {
    expect(decide(access('user/Patient.u'), 'Patient', 'patch').allowed).toBe(false);
    expect(decide(access('user/Patient.ru'), 'Patient', 'patch').allowed).toBe(true);
    expect(decide(access('user/Patient.u'), 'Patient', 'update-conditional').allowed).toBe(false);
    expect(decide(access('user/Patient.us'), 'Patient', 'update-conditional').allowed).toBe(true);
    expect(decide(access('user/Patient.cs'), 'Patient', 'update-conditional').allowed).toBe(false);
    expect(decide(access('user/Patient.d'), 'Patient', 'delete-conditional').allowed).toBe(false);
    expect(decide(access('user/Patient.ds'), 'Patient', 'delete-conditional').allowed).toBe(true);
    expect(decide(access('user/Patient.r'), 'Patient', 'history-type').allowed).toBe(false);
    expect(decide(access('user/Patient.s'), 'Patient', 'history-type').allowed).toBe(true);
  });

  it('decides a conditional create with c and s', () => {
    expect(decide(access('user/Patient.write'), 'Patient', 'create', true)).toMatchObject({ allowed: false, reason: expect.stringContaining('search') });
    expect(decide(access('user/Patient.cs'), 'Patient', 'create', true).allowed).toBe(true);
    expect(decide(access('user/Patient.rs'), 'Patient', 'create', true).allowed).toBe(false);
  });

  it('keeps the compartment of either half of a decision that needs two permissions', () => {
    // write on the whole type, read only in the bound patient's compartment: PATCH is bound to the compartment
    expect(decide(access('user/Condition.u patient/Condition.r', '42'), 'Condition', 'patch')).toEqual({ allowed: true, compartmentPatient: '42' });
    expect(decide(access('patient/Condition.c user/Condition.s', '42'), 'Condition', 'create', true)).toEqual({ allowed: true, compartmentPatient: '42' });
    expect(decide(access('user/Condition.us'), 'Condition', 'update-conditional')).toEqual({ allowed: true });
  });
});

describe.each(DEMO_CLIENTS)('demo client "$name" x the interactions of issue 15, bound to patient 42 or not, strict or not', (client) => {
  const cases = RESOURCE_TYPES.flatMap((type) =>
    (['history-type', 'patch', 'update-conditional', 'delete-conditional'] as const).flatMap((interaction) =>
      [undefined, '42'].flatMap((patient) => [false, true].map((strict) => ({ type, interaction, patient, strict }))),
    ),
  );
  it.each(cases)('$interaction on $type, patient $patient, strict $strict', ({ type, interaction, patient, strict }) => {
    const readable = client.readable.includes(type) && !(strict && patient === undefined && client.patientOnly.includes(type));
    const decision = decide(access(client.scope, patient, strict), type, interaction);
    // No demo client writes; type history follows search, inside the compartment of a bound patient/ grant.
    if (interaction !== 'history-type' || !readable) return expect(decision.allowed).toBe(false);
    expect(decision).toEqual(patient && client.patientOnly.includes(type) ? { allowed: true, compartmentPatient: '42' } : { allowed: true });
  });
});
