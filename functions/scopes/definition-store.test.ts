import { describe, expect, it } from 'vitest';
import { cachedScopeDefinitions, type ScopeDefinition } from './definition-store';
import { expandScopes } from './scopes';

const meds: ScopeDefinition = {
  name: 'ccri/medications.read',
  grants: { MedicationStatement: 'rs', MedicationRequest: 'rs' },
  createdAt: '2025-01-01T00:00:00.000Z',
  updatedAt: '2025-01-01T00:00:00.000Z',
};

function setup(ttlSeconds: number) {
  let clock = 1_000_000;
  let stored: ScopeDefinition[] = [meds];
  let loads = 0;
  const load = cachedScopeDefinitions(
    async () => {
      loads++;
      return stored;
    },
    { ttlSeconds, now: () => clock },
  );
  return {
    load,
    loads: () => loads,
    advance: (ms: number) => (clock += ms),
    store: (definitions: ScopeDefinition[]) => (stored = definitions),
  };
}

describe('the authorizer definitions cache', () => {
  it('loads once per TTL and serves the copy within it', async () => {
    const t = setup(60);
    expect([...(await t.load()).keys()]).toEqual(['ccri/medications.read']);
    t.store([]);
    t.advance(59_999);
    expect((await t.load()).size).toBe(1);
    expect(t.loads()).toBe(1);
  });

  it('reloads once the TTL has passed, so a deletion stops granting within it', async () => {
    const t = setup(60);
    expect(expandScopes('ccri/medications.read', await t.load()).type).toEqual({ MedicationStatement: 'rs', MedicationRequest: 'rs' });
    t.store([]);
    t.advance(60_000);
    expect(expandScopes('ccri/medications.read', await t.load()).type).toEqual({});
    expect(t.loads()).toBe(2);
  });

  it('shares one load between concurrent callers', async () => {
    const t = setup(60);
    await Promise.all([t.load(), t.load(), t.load()]);
    expect(t.loads()).toBe(1);
  });

  it('loads every time with a TTL of 0', async () => {
    const t = setup(0);
    await t.load();
    await t.load();
    expect(t.loads()).toBe(2);
  });

  it('does not cache a failed load', async () => {
    let fail = true;
    const load = cachedScopeDefinitions(
      async () => {
        if (fail) throw new Error('DynamoDB down');
        return [meds];
      },
      { ttlSeconds: 60 },
    );
    await expect(load()).rejects.toThrow('DynamoDB down');
    fail = false;
    expect((await load()).size).toBe(1);
  });
});
