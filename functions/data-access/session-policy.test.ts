import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ALL_INTERACTIONS } from '../scopes/demo-clients.fixture';
import { decide } from '../scopes/permissions';
import { evaluate } from '../../local/policy';
import { RESOURCE_TYPES, type ResourceType } from '../../contract/resource-types';
import { DEMO_CLIENTS } from '../scopes/demo-clients.fixture';
import { accessFromClaims, type Access } from '../scopes/permissions';
import {
  READ_ACTIONS,
  SESSION_POLICY_MAX_CHARS,
  WRITE_ACTIONS,
  packPolicy,
  sessionPolicy,
  typeAccess,
  type DataTable,
} from './session-policy';

const TABLE: DataTable = { tableArn: 'arn:aws:dynamodb:eu-west-2:123456789012:table/ccri-dev-Fhir', indexes: true };
const access = (scope: string, patient?: string): Access =>
  accessFromClaims(patient ? { clientId: 'c', scope, patient } : { clientId: 'c', scope });
const PUBLIC: ResourceType[] = ['Practitioner', 'PractitionerRole', 'Organization', 'Location', 'Medication'];

/** What IAM decides for one single-key request of `action` on an item of `type`, under the session policy. */
const decision = (policy: object, action: string, type: ResourceType, resource = TABLE.tableArn) =>
  evaluate(policy, { action, resource, context: { 'dynamodb:LeadingKeys': [`${type}/1`] } });

describe('which types a token may touch in DynamoDB (from decide, not a copy of its rules)', () => {
  it.each(DEMO_CLIENTS)('$name: reads exactly the types it may read, writes none', (client) => {
    const { read, write } = typeAccess(access(client.scope));
    expect(read).toEqual(RESOURCE_TYPES.filter((t) => client.readable.includes(t)));
    expect(write).toEqual([]);
  });

  it.each([
    ['a write-only token also reads the types it writes (FHIR writes read the current version)', 'user/Condition.cud', ['Condition', ...PUBLIC], ['Condition']],
    ['create alone is a write', 'user/Observation.c', ['Observation', ...PUBLIC], ['Observation']],
    ['delete alone is a write', 'user/Encounter.d', ['Encounter', ...PUBLIC], ['Encounter']],
    ['search alone is a read', 'user/Procedure.s', ['Procedure', ...PUBLIC], []],
    ['writing a public type needs a write grant', 'user/Organization.write', PUBLIC, ['Organization']],
    ['profile alone reaches only the public types', 'profile', PUBLIC, []],
    ['every type, every permission', 'system/*.*', RESOURCE_TYPES, RESOURCE_TYPES],
  ] as [string, string, ResourceType[], ResourceType[]][])('%s', (_name, scope, read, write) => {
    const types = typeAccess(access(scope));
    expect(new Set(types.read)).toEqual(new Set(read));
    expect(types.write).toEqual(write);
  });

  it('patient/ grants bound to a patient reach only compartment types (the compartment itself stays in code)', () => {
    const types = typeAccess(access('patient/Observation.read patient/Organization.write', 'p1'));
    expect(types.read).toContain('Observation');
    expect(types.write).toEqual([]);
  });
});

describe('IAM and decide agree, for any scopes (property)', () => {
  const scope = fc
    .tuple(fc.constantFrom('patient', 'user', 'system'), fc.constantFrom('*', ...RESOURCE_TYPES), fc.constantFrom('read', 'write', '*', 'c', 'r', 'u', 'd', 's', 'cud', 'rs', 'cruds'))
    .map(([level, type, perms]) => `${level}/${type}.${perms}`);
  const tokens = fc.record({ scopes: fc.array(scope, { maxLength: 6 }), patient: fc.option(fc.constant('p1'), { nil: undefined }) });

  it('every interaction decide allows has the DynamoDB actions it needs; a type decide refuses entirely is untouchable', () => {
    fc.assert(
      fc.property(tokens, ({ scopes, patient }) => {
        const a = access(['profile', ...scopes].join(' '), patient);
        const policy = sessionPolicy(a, TABLE);
        for (const type of RESOURCE_TYPES) {
          const allowed = ALL_INTERACTIONS.filter((i) => decide(a, type, i).allowed);
          const reads = READ_ACTIONS.every((action) => decision(policy, action, type) === 'allow');
          const writes = WRITE_ACTIONS.every((action) => decision(policy, action, type) === 'allow');
          const none = [...READ_ACTIONS, ...WRITE_ACTIONS].every((action) => decision(policy, action, type) === 'implicit-deny');
          if (allowed.length > 0) expect(reads, `${type}: ${allowed}`).toBe(true);
          if (allowed.some((i) => ['create', 'update', 'delete'].includes(i))) expect(writes, type).toBe(true);
          if (!allowed.some((i) => ['create', 'update', 'delete', 'validate'].includes(i))) {
            expect(WRITE_ACTIONS.some((action) => decision(policy, action, type) === 'allow'), type).toBe(false);
          }
          if (allowed.length === 0) expect(none, type).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('the session policy', () => {
  const demo = (name: string) => access(DEMO_CLIENTS.find((c) => c.name === name)!.scope);

  it.each(DEMO_CLIENTS.flatMap((client) => RESOURCE_TYPES.map((type) => [client.name, type, client] as const)))(
    '%s on %s: read actions exactly where readable, never a write action',
    (_name, type, client) => {
      const policy = sessionPolicy(access(client.scope), TABLE);
      const expected = client.readable.includes(type) ? 'allow' : 'implicit-deny';
      for (const action of READ_ACTIONS) expect(decision(policy, action, type), action).toBe(expected);
      for (const action of WRITE_ACTIONS) expect(decision(policy, action, type), action).toBe('implicit-deny');
    },
  );

  it.each(RESOURCE_TYPES.flatMap((written) => RESOURCE_TYPES.map((type) => [written, type] as const)))(
    'a token that may write only %s may write %s: only if it is the same type',
    (written, type) => {
      const policy = sessionPolicy(access(`user/${written}.write`), TABLE);
      for (const action of WRITE_ACTIONS) expect(decision(policy, action, type), action).toBe(written === type ? 'allow' : 'implicit-deny');
    },
  );

  it('reads may use the indexes; writes go to the table only', () => {
    const policy = sessionPolicy(demo('Patient Access'), TABLE);
    expect(decision(policy, 'dynamodb:Query', 'Patient', `${TABLE.tableArn}/index/gsi1`)).toBe('allow');
    const writer = sessionPolicy(access('user/Patient.*'), TABLE);
    expect(decision(writer, 'dynamodb:PutItem', 'Patient', `${TABLE.tableArn}/index/gsi1`)).toBe('implicit-deny');
    const noIndexes = sessionPolicy(demo('Patient Access'), { ...TABLE, indexes: false });
    expect(decision(noIndexes, 'dynamodb:Query', 'Patient', `${TABLE.tableArn}/index/gsi1`)).toBe('implicit-deny');
  });

  it('never allows a Scan, another table, or a prefix that only starts like an allowed type', () => {
    const policy = sessionPolicy(access('system/*.*'), TABLE);
    expect(evaluate(policy, { action: 'dynamodb:Scan', resource: TABLE.tableArn, context: {} })).toBe('implicit-deny');
    expect(decision(policy, 'dynamodb:GetItem', 'Patient', TABLE.tableArn.replace('Fhir', 'Clients'))).toBe('implicit-deny');
    const medication = sessionPolicy(access('user/Medication.write'), TABLE);
    expect(decision(medication, 'dynamodb:PutItem', 'Medication')).toBe('allow');
    expect(decision(medication, 'dynamodb:PutItem', 'MedicationRequest')).toBe('implicit-deny');
    expect(evaluate(medication, { action: 'dynamodb:PutItem', resource: TABLE.tableArn, context: { 'dynamodb:LeadingKeys': ['Medication'] } })).toBe(
      'implicit-deny',
    );
  });

  it('guards against ForAllValues on an empty key set: a request without a leading key is denied', () => {
    const policy = sessionPolicy(access('system/*.*'), TABLE);
    for (const context of [{}, { 'dynamodb:LeadingKeys': [] }]) {
      for (const action of [...READ_ACTIONS, ...WRITE_ACTIONS]) {
        expect(evaluate(policy, { action, resource: TABLE.tableArn, context }), action).toBe('implicit-deny');
      }
    }
    // The pitfall itself: the same policy without its Null guard would allow them.
    const unguarded = structuredClone(policy);
    for (const statement of unguarded.Statement) delete statement.Condition!.Null;
    expect(evaluate(unguarded, { action: 'dynamodb:GetItem', resource: TABLE.tableArn, context: {} })).toBe('allow');
  });

  it('a batch is allowed only when EVERY key is of an allowed type', () => {
    const policy = sessionPolicy(demo('Patient Access'), TABLE);
    const batch = (...keys: string[]) =>
      evaluate(policy, { action: 'dynamodb:BatchGetItem', resource: TABLE.tableArn, context: { 'dynamodb:LeadingKeys': keys } });
    expect(batch('Patient/1', 'Patient/2', 'Organization/3')).toBe('allow');
    expect(batch('Patient/1', 'Condition/2')).toBe('implicit-deny');
  });

  it('is deterministic: equal grants give equal text (the credential cache key)', () => {
    expect(packPolicy(sessionPolicy(access('user/Patient.read user/Condition.read'), TABLE))).toBe(
      packPolicy(sessionPolicy(access('user/Condition.rs user/Patient.read'), TABLE)),
    );
  });

  describe(`stays under STS's ${SESSION_POLICY_MAX_CHARS}-character session-policy limit`, () => {
    const longest = 'arn:aws-us-gov:dynamodb:us-gov-west-1:123456789012:table/'.concat('t'.repeat(255));
    it.each([
      ...DEMO_CLIENTS.map((c) => [c.name, c.scope] as const),
      ['every type, every permission', 'system/*.*'] as const,
      ['every level of every type', 'system/*.* user/*.* patient/*.*'] as const,
    ])('%s, with the longest table ARN DynamoDB allows', (_name, scope) => {
      const text = packPolicy(sessionPolicy(access(scope), { tableArn: longest, indexes: true }));
      expect(text.length).toBeLessThanOrEqual(SESSION_POLICY_MAX_CHARS);
      expect(JSON.parse(text)).toEqual(sessionPolicy(access(scope), { tableArn: longest, indexes: true }));
    });

    it('packPolicy refuses a policy STS would refuse', () => {
      const policy = sessionPolicy(access('system/*.*'), { tableArn: `${longest}${'x'.repeat(200)}`, indexes: true });
      expect(() => packPolicy(policy)).toThrow(RangeError);
    });
  });
});
