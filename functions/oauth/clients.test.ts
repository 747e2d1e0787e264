import { describe, expect, it } from 'vitest';
import type { SecretCredentials } from './client-auth';
import {
  authenticateClient,
  hashClientSecret,
  InMemoryClientStore,
  secretMatches,
  type ClientRecord,
  type ClientStore,
} from './clients';
import { InvalidClientError, TemporarilyUnavailableError } from './errors';

const NOW = new Date('2026-01-01T00:00:00Z');

function record(overrides: Partial<ClientRecord> = {}): ClientRecord {
  return {
    clientId: 'client-1',
    name: 'Client 1',
    secrets: [hashClientSecret('right-secret')],
    scopes: ['profile'],
    enabled: true,
    authMethods: ['client_secret_basic', 'client_secret_post'],
    createdAt: NOW.toISOString(),
    ...overrides,
  };
}

async function storeWith(...clients: ClientRecord[]): Promise<ClientStore> {
  const store = new InMemoryClientStore();
  for (const client of clients) await store.put(client);
  return store;
}

const creds = (clientSecret: string, clientId = 'client-1', method: SecretCredentials['method'] = 'client_secret_basic') => ({
  clientId,
  clientSecret,
  method,
});

describe('client secrets', () => {
  it('are stored as a salted HMAC-SHA-256 hash, never in plaintext', () => {
    const a = hashClientSecret('right-secret');
    const b = hashClientSecret('right-secret');
    expect(a.alg).toBe('hmac-sha256');
    expect(JSON.stringify(a)).not.toContain('right-secret');
    expect(a.salt).not.toBe(b.salt);
    expect(a.hash).not.toBe(b.hash);
  });

  it('match only the right secret', () => {
    const secrets = [hashClientSecret('right-secret')];
    expect(secretMatches(secrets, 'right-secret', NOW)).toBe(true);
    expect(secretMatches(secrets, 'right-secreT', NOW)).toBe(false);
    expect(secretMatches(secrets, '', NOW)).toBe(false);
  });

  it('accept the old and the new secret during a rotation grace period, and only the new one after it', () => {
    const secrets = [hashClientSecret('new-secret'), hashClientSecret('old-secret', { notAfter: '2026-01-02T00:00:00Z' })];
    expect(secretMatches(secrets, 'old-secret', NOW)).toBe(true);
    expect(secretMatches(secrets, 'new-secret', NOW)).toBe(true);
    const later = new Date('2026-01-02T00:00:01Z');
    expect(secretMatches(secrets, 'old-secret', later)).toBe(false);
    expect(secretMatches(secrets, 'new-secret', later)).toBe(true);
  });
});

describe('authenticateClient', () => {
  it('returns the client for its right secret, by either secret method', async () => {
    const store = await storeWith(record({ patient: '1' }));
    await expect(authenticateClient(store, creds('right-secret'), NOW)).resolves.toMatchObject({
      clientId: 'client-1',
      patient: '1',
    });
    await expect(
      authenticateClient(store, creds('right-secret', 'client-1', 'client_secret_post'), NOW),
    ).resolves.toMatchObject({ clientId: 'client-1' });
  });

  it('refuses an unknown client and a wrong secret alike: 401 invalid_client, same description', async () => {
    const store = await storeWith(record());
    const unknown = await authenticateClient(store, creds('right-secret', 'nobody'), NOW).catch((e: unknown) => e);
    const wrong = await authenticateClient(store, creds('wrong-secret'), NOW).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(InvalidClientError);
    expect(wrong).toBeInstanceOf(InvalidClientError);
    expect(unknown).toMatchObject({ statusCode: 401, error: 'invalid_client', reason: 'unknown client' });
    expect(wrong).toMatchObject({ statusCode: 401, error: 'invalid_client', reason: 'wrong or expired secret' });
    expect((unknown as InvalidClientError).description).toBe((wrong as InvalidClientError).description);
    expect((unknown as InvalidClientError).headers).toEqual((wrong as InvalidClientError).headers);
  });

  it('refuses a disabled client with 401 invalid_client', async () => {
    const store = await storeWith(record({ enabled: false }));
    await expect(authenticateClient(store, creds('right-secret'), NOW)).rejects.toMatchObject({
      statusCode: 401,
      error: 'invalid_client',
      description: 'The client is disabled.',
    });
  });

  it('does not tell a caller with a wrong secret that the client is disabled', async () => {
    const store = await storeWith(record({ enabled: false }));
    await expect(authenticateClient(store, creds('wrong'), NOW)).rejects.toMatchObject({
      description: 'Client authentication failed.',
    });
  });

  it('refuses an authentication method the client is not registered for', async () => {
    const store = await storeWith(record({ authMethods: ['client_secret_basic'] }));
    await expect(
      authenticateClient(store, creds('right-secret', 'client-1', 'client_secret_post'), NOW),
    ).rejects.toMatchObject({ statusCode: 401, error: 'invalid_client' });
  });

  it('passes a store outage through as 503 temporarily_unavailable', async () => {
    const failing: ClientStore = {
      get: async () => {
        throw new TemporarilyUnavailableError();
      },
      put: async () => undefined,
    };
    await expect(authenticateClient(failing, creds('x'), NOW)).rejects.toMatchObject({
      statusCode: 503,
      error: 'temporarily_unavailable',
    });
  });
});
