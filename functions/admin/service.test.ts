import { describe, expect, it } from 'vitest';
import { InMemoryClientStore } from '../oauth/clients';
import { InMemoryScopeDefinitionStore } from '../scopes/definition-store';
import { InMemoryAuditLog } from './audit';
import { AdminService } from './service';

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
