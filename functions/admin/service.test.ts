import { describe, expect, it } from 'vitest';
import { InMemoryClientStore } from '../oauth/clients';
import { InMemoryScopeDefinitionStore } from '../scopes/definition-store';
import { InMemoryAuditLog } from './audit';
import { AdminService, MAX_SCOPE_DEFINITIONS } from './service';

const actor = { clientId: 'admin-1' };

describe('deleting a scope definition with cascade', () => {
  it('never restores to a holder a scope removed from it while the cascade ran', async () => {
    const definitions = new InMemoryScopeDefinitionStore();
    const clients = new InMemoryClientStore();
    const service = new AdminService({ clients, definitions, audit: new InMemoryAuditLog(), defaultGraceSeconds: 0 });
    await service.createDefinition(actor, { name: 'ccri/meds.read', grants: { Medication: 'rs' } });
    const { client } = await service.createClient(actor, { name: 'Holder', scopes: ['ccri/meds.read', 'user/Patient.read'], authMethods: ['client_secret_basic'], enabled: true });
    // Another admin takes user/Patient.read away from the holder after the cascade listed the holders.
    const remove = definitions.delete.bind(definitions);
    definitions.delete = async (name) => {
      await service.updateClient(actor, client.clientId, { scopes: ['ccri/meds.read'] });
      return remove(name);
    };
    expect(await service.deleteDefinition(actor, 'ccri/meds.read', true)).toEqual({ removedFrom: [client.clientId] });
    expect((await service.getClient(client.clientId)).scopes).toEqual([]);
  });
});

describe('the number of scope definitions', () => {
  it(`is bounded: the ${MAX_SCOPE_DEFINITIONS + 1}st create is refused (409) naming the bound, and the listing holds them all by name`, async () => {
    const definitions = new InMemoryScopeDefinitionStore();
    const service = new AdminService({ clients: new InMemoryClientStore(), definitions, audit: new InMemoryAuditLog(), defaultGraceSeconds: 0 });
    const at = new Date(0).toISOString();
    for (let i = MAX_SCOPE_DEFINITIONS; i > 0; i--) {
      await definitions.create({ name: `ccri/set${i}.read`, grants: { Medication: 'rs' }, createdAt: at, updatedAt: at });
    }
    const extra = { name: 'ccri/one-more.read', grants: { Medication: 'rs' as const } };
    await expect(service.createDefinition(actor, extra)).rejects.toThrow(`At most ${MAX_SCOPE_DEFINITIONS} scope definitions`);
    await expect(service.createDefinition(actor, extra)).rejects.toMatchObject({ statusCode: 409 });

    const listed = (await service.listDefinitions()).map((d) => d.name);
    expect(listed).toHaveLength(MAX_SCOPE_DEFINITIONS);
    expect(listed).toEqual([...listed].sort());

    await service.deleteDefinition(actor, 'ccri/set1.read', false);
    expect((await service.createDefinition(actor, extra)).name).toBe(extra.name);
  });
});
