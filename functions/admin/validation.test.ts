import { describe, expect, it } from 'vitest';
import { BadRequestError } from '../fhir/errors';
import {
  foldScopeName,
  validateAuditQuery,
  validateClientCreateBody,
  validateClientScopes,
  validateClientUpdateBody,
  validateGrants,
  validatePermissions,
  validateRotateBody,
  validateScopeDefinitionBody,
  validateScopeName,
} from './validation';

/** The FHIRPath the refusal's OperationOutcome names. */
const expressionOf = (err: BadRequestError) => err.outcome.issue[0]?.expression?.[0];

function refusal(fn: () => unknown): BadRequestError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(BadRequestError);
    return err as BadRequestError;
  }
  throw new Error('expected a BadRequestError');
}

describe('scope definition names', () => {
  it.each(['ccri/medications.read', 'ccri/labs', 'org.example:team/read-only', 'meds', 'a/b/c_d'])('accepts %s', (name) => {
    expect(validateScopeName(name)).toBe(name);
  });

  it.each([
    'patient/Patient.read',
    'user/*.read',
    'system/Observation.rs',
    'patient/anything',
    'user/',
    'launch',
    'launch/patient',
    'openid',
    'profile',
    'fhirUser',
    'offline_access',
    'online_access',
  ])('refuses %s: it clashes with SMART syntax', (name) => {
    expect(refusal(() => validateScopeName(name)).message).toMatch(/clashes with SMART scope syntax/);
  });

  it('refuses the reserved admin scope', () => {
    expect(refusal(() => validateScopeName('ccri/admin')).message).toMatch(/reserved/);
  });

  it.each(['ccri:admin', 'CCRI/Admin', 'ccri.admin', 'ccri_admin', 'Ccri-ADMIN', 'ccri:/admin'])(
    'refuses %s: confusable with the reserved ccri/admin (issue 13.12)',
    (name) => {
      expect(refusal(() => validateScopeName(name)).message).toMatch(/confusable with the reserved "ccri\/admin"/);
    },
  );

  it.each(['Patient/Patient.read', 'patient:Observation.read', 'USER.everything', 'System', 'OpenID', 'FHIRUSER', 'offline-access', 'Launch:patient'])(
    'refuses %s: confusable with a SMART scope',
    (name) => {
      expect(refusal(() => validateScopeName(name)).message).toMatch(/confusable with a SMART scope/);
    },
  );

  it.each([
    ['ccri/medications.read', 'ccri/medications/read'],
    ['CCRI:Meds_Read', 'ccri/meds/read'],
  ])('folds %s to %s', (name, folded) => {
    expect(foldScopeName(name)).toBe(folded);
  });

  it.each([
    ['empty', ''],
    ['not a string', 42],
    ['a space', 'ccri meds'],
    ['a percent sign', 'ccri%2Fmeds'],
    ['a leading slash', '/ccri'],
    ['an empty segment', 'ccri//meds'],
    ['a trailing slash', 'ccri/'],
    ['a quote', 'ccri/"x"'],
    ['too long', `a${'b'.repeat(128)}`],
  ])('refuses a name that is %s', (_what, name) => {
    expect(expressionOf(refusal(() => validateScopeName(name)))).toBe('name');
  });
});

describe('permissions', () => {
  it.each([
    ['rs', 'rs'],
    ['sr', 'rs'],
    ['cruds', 'cruds'],
    ['dc', 'cd'],
    ['r', 'r'],
  ])('accepts %s as %s', (input, canonical) => {
    expect(validatePermissions(input, 'x')).toBe(canonical);
  });

  it.each([
    ['rw', /Bad permission letters "w"/],
    ['read', /Bad permission letters "ea"/],
    ['*', /Bad permission letters "\*"/],
    ['RS', /Bad permission letters "RS"/],
    ['rr', /repeat/],
    ['', /non-empty/],
  ])('refuses %s', (input, message) => {
    expect(refusal(() => validatePermissions(input, 'grants.Patient')).message).toMatch(message);
  });
});

describe('grants', () => {
  it('keeps served types, canonical permissions, in the served types order', () => {
    expect(Object.entries(validateGrants({ Medication: 'sr', MedicationStatement: 'rs', Patient: 'r' }))).toEqual([
      ['Patient', 'r'],
      ['MedicationStatement', 'rs'],
      ['Medication', 'rs'],
    ]);
  });

  it.each([
    [{ Prescription: 'r' }, /Unknown resource type: Prescription/, 'grants.Prescription'],
    [{ patient: 'r' }, /Unknown resource type: patient/, 'grants.patient'],
    [{ MedicationOrder: 'r' }, /MedicationOrder: use MedicationRequest/, 'grants.MedicationOrder'],
    [{ Patient: 'rx' }, /Bad permission letters "x"/, 'grants.Patient'],
    [{ Patient: 5 }, /non-empty string/, 'grants.Patient'],
    [{}, /non-empty object/, 'grants'],
    [[], /non-empty object/, 'grants'],
    [null, /non-empty object/, 'grants'],
  ])('refuses %j', (grants, message, expression) => {
    const err = refusal(() => validateGrants(grants));
    expect(err.message).toMatch(message);
    expect(expressionOf(err)).toBe(expression);
  });
});

describe('a scope definition body', () => {
  it('takes the name from the URL on update and refuses a rename', () => {
    expect(validateScopeDefinitionBody({ grants: { Patient: 'r' } }, 'ccri/p')).toEqual({ name: 'ccri/p', grants: { Patient: 'r' } });
    expect(refusal(() => validateScopeDefinitionBody({ name: 'ccri/q', grants: { Patient: 'r' } }, 'ccri/p')).message).toMatch(
      /cannot be renamed/,
    );
  });

  it('refuses unknown fields', () => {
    expect(refusal(() => validateScopeDefinitionBody({ name: 'ccri/p', grants: { Patient: 'r' }, level: 'user' })).message).toMatch(
      /Unknown field: level/,
    );
  });
});

describe('client scopes', () => {
  const defined = new Set(['ccri/medications.read']);

  it('accepts SMART scopes on served types, identity and launch scopes, the admin scope and defined names', () => {
    const scopes = ['user/Patient.read', 'patient/*.rs', 'system/MedicationOrder.read', 'profile', 'launch/patient', 'ccri/admin', 'ccri/medications.read'];
    expect(validateClientScopes(scopes, defined)).toEqual(scopes);
  });

  it.each([
    ['an undefined name', 'ccri/labs.read'],
    ['an unknown type', 'user/Prescription.read'],
    ['a bad suffix', 'user/Patient.view'],
    ['a granular v2 scope', 'patient/Observation.rs?category=laboratory'],
    ['garbage', '???'],
  ])('refuses %s as an unknown scope', (_what, scope) => {
    expect(refusal(() => validateClientScopes(['profile', scope], defined)).message).toContain(`Unknown scope: ${scope}`);
  });
});

describe('client bodies', () => {
  it('defaults auth methods and enabled, splits a scope string', () => {
    expect(validateClientCreateBody({ name: 'App', scopes: 'profile  user/Patient.read profile' })).toEqual({
      name: 'App',
      scopes: ['profile', 'user/Patient.read'],
      authMethods: ['client_secret_basic', 'client_secret_post'],
      enabled: true,
    });
  });

  it.each([
    [{ scopes: ['profile'] }, 'name'],
    [{ name: 'App', scopes: [] }, 'scopes'],
    [{ name: 'App', scopes: [1] }, 'scopes'],
    [{ name: 'App', scopes: ['profile'], authMethods: ['private_key_jwt'] }, 'authMethods'],
    [{ name: 'App', scopes: ['profile'], patient: '../1' }, 'patient'],
    [{ name: 'App', scopes: ['profile'], clientId: 'a b' }, 'clientId'],
    [{ name: 'App', scopes: ['profile'], enabled: 'yes' }, 'enabled'],
    [{ name: 'App', scopes: ['profile'], secret: 'x' }, 'secret'],
  ])('refuses %j (field %s)', (body, expression) => {
    expect(expressionOf(refusal(() => validateClientCreateBody(body)))).toBe(expression);
  });

  it('accepts patient: null on update to unbind, and refuses an empty update', () => {
    expect(validateClientUpdateBody({ patient: null })).toEqual({ patient: null });
    expect(refusal(() => validateClientUpdateBody({})).message).toMatch(/Nothing to change/);
  });
});

describe('rotation and audit parameters', () => {
  it.each([[{ graceSeconds: -1 }], [{ graceSeconds: 1.5 }], [{ graceSeconds: '60' }], [{ graceSeconds: 2_592_001 }]])(
    'refuses the rotation body %j',
    (body) => {
      expect(expressionOf(refusal(() => validateRotateBody(body)))).toBe('graceSeconds');
    },
  );

  it('defaults the audit query to the last 7 days and 100 records', () => {
    expect(validateAuditQuery({}, new Date('2025-03-10T12:00:00Z'))).toEqual({ from: '2025-03-04', to: '2025-03-10', limit: 100 });
  });

  it.each([[{ from: ['2025-3-1'] }], [{ limit: ['0'] }], [{ from: ['2025-03-10'], to: ['2025-03-01'] }], [{ from: ['2024-01-01'], to: ['2025-01-01'] }]])(
    'refuses the audit query %j',
    (query) => {
      refusal(() => validateAuditQuery(query, new Date('2025-03-10T12:00:00Z')));
    },
  );
});
