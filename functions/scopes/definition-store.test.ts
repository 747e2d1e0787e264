import { describe, expect, it } from 'vitest';
import { accessFromClaims } from './permissions';
import { InMemoryScopeDefinitionStore, isNamedScope, namedScopeGrants, type ScopeDefinition } from './definition-store';

const meds: ScopeDefinition = {
  name: 'ccri/medications.read',
  grants: { MedicationStatement: 'rs', MedicationRequest: 'rs' },
  createdAt: '2025-01-01T00:00:00.000Z',
  updatedAt: '2025-01-01T00:00:00.000Z',
};

/** A store that counts its reads. */
function countingStore(definitions: ScopeDefinition[] = [meds]) {
  const store = new InMemoryScopeDefinitionStore();
  for (const d of definitions) void store.create(d);
  let reads = 0;
  return {
    store,
    reads: () => reads,
    get: async (name: string) => {
      reads++;
      return store.get(name);
    },
  };
}

describe('named scopes expanded at issuance (namedScopeGrants)', () => {
  it('expand into the compact grants the authorizer reads, in RESOURCE_TYPES order', async () => {
    const s = countingStore();
    expect(await namedScopeGrants(['profile', 'ccri/medications.read'], s)).toBe('MedicationRequest:rs MedicationStatement:rs');
  });

  it('read nothing for a client without named scopes (SMART, identity and admin scopes are not looked up)', async () => {
    const s = countingStore();
    expect(await namedScopeGrants(['profile', 'user/Patient.read', 'patient/*.read', 'launch/patient', 'ccri/admin'], s)).toBe('');
    expect(s.reads()).toBe(0);
  });

  it('are read afresh for every token: a definition changed or created a moment ago applies to the next token', async () => {
    const s = countingStore([]);
    expect(await namedScopeGrants(['ccri/medications.read'], s)).toBe('');
    await s.store.create(meds);
    expect(await namedScopeGrants(['ccri/medications.read'], s)).toBe('MedicationRequest:rs MedicationStatement:rs');
    await s.store.replace({ ...meds, grants: { Medication: 'r' } });
    expect(await namedScopeGrants(['ccri/medications.read'], s)).toBe('Medication:r');
    await s.store.delete(meds.name);
    expect(await namedScopeGrants(['ccri/medications.read'], s)).toBe('');
    expect(s.reads()).toBe(4);
  });

  it('merge with the SMART scopes in the authorizer', () => {
    const access = accessFromClaims({ clientId: 'c', scope: 'user/MedicationStatement.c ccri/medications.read', namedGrants: 'MedicationStatement:rs' });
    expect(access.grants.type).toEqual({ MedicationStatement: 'crs' });
  });

  it.each([
    ['ccri/medications.read', true],
    ['ccri/admin', false],
    ['user/Patient.read', false],
    ['openid', false],
  ])('isNamedScope(%s) is %s', (scope, named) => {
    expect(isNamedScope(scope)).toBe(named);
  });
});
