/** The Clients table store against the real DynamoDB Local engine, and the token function when DynamoDB fails. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLIENTS_TABLE, localTableName } from '../../contract/tables';
import { authenticateClient, DynamoClientStore } from '../../functions/oauth/clients';
import {
  CCRI_DEMO_CLIENTS,
  DEMO_PATIENT_ACCESS_CLIENT,
  DEMO_PATIENT_CLIENT,
  demoClientRecord,
  seedClients,
} from '../../functions/oauth/demo-clients';
import { LocalRsaSigner } from '../../functions/oauth/signer';
import { toOAuthError } from '../../functions/oauth/errors';
import { createTokenHandler } from '../../functions/token/handler';
import { createTestTables, testDocumentClient, uniquePrefix } from '../support/dynamodb';
import { basicAuth, tokenEvent } from './events';

const prefix = uniquePrefix();
const tableName = localTableName(CLIENTS_TABLE, prefix);
const db = testDocumentClient();
const store = new DynamoClientStore(db, tableName);

beforeAll(async () => {
  await createTestTables([CLIENTS_TABLE], prefix);
});

describe('DynamoClientStore on DynamoDB Local', () => {
  it('stores a client under pk CLIENT#<id>, sk CLIENT, with its secret only as a hash', async () => {
    await store.put(demoClientRecord(DEMO_PATIENT_CLIENT));
    const { Item } = await db.send(new GetCommand({ TableName: tableName, Key: { pk: `CLIENT#${DEMO_PATIENT_CLIENT.clientId}`, sk: 'CLIENT' } }));
    expect(Item).toMatchObject({
      clientId: DEMO_PATIENT_CLIENT.clientId,
      scopes: ['patient/*.read'],
      patient: '1',
      enabled: true,
      authMethods: ['client_secret_basic', 'client_secret_post'],
      secrets: [{ alg: 'hmac-sha256', salt: expect.any(String), hash: expect.any(String) }],
    });
    expect(JSON.stringify(Item)).not.toContain(DEMO_PATIENT_CLIENT.clientSecret);
  });

  it('reads back what it stored, and nothing for an unknown id', async () => {
    const record = demoClientRecord(DEMO_PATIENT_ACCESS_CLIENT);
    await store.put(record);
    expect(await store.get(DEMO_PATIENT_ACCESS_CLIENT.clientId)).toEqual(record);
    expect(await store.get('no-such-client')).toBeUndefined();
  });

  it('seeds the CCRI demo clients idempotently, each authenticating with its exact secret and scopes', async () => {
    await seedClients(store, CCRI_DEMO_CLIENTS);
    await seedClients(store, CCRI_DEMO_CLIENTS);
    for (const client of CCRI_DEMO_CLIENTS) {
      const record = await authenticateClient(store, { clientId: client.clientId, clientSecret: client.clientSecret, method: 'client_secret_basic' });
      expect(record.scopes.join(' ')).toBe(client.scope);
      expect(record.patient).toBeUndefined();
      expect(record.secrets).toHaveLength(1);
    }
  });

  it('turns a DynamoDB failure into a store outage, which the OAuth edge answers 503 temporarily_unavailable', async () => {
    const missing = new DynamoClientStore(db, `${prefix}NoSuchTable`);
    await expect(missing.get('x').catch((e: unknown) => Promise.reject(toOAuthError(e)))).rejects.toMatchObject({ statusCode: 503, error: 'temporarily_unavailable' });
    await expect(missing.put(demoClientRecord(DEMO_PATIENT_CLIENT))).rejects.toMatchObject({ statusCode: 503 });
  });
});

describe('the token function when DynamoDB fails', () => {
  it.each([
    ['the table does not exist', () => new DynamoClientStore(db, `${prefix}NoSuchTable`)],
    [
      'DynamoDB cannot be reached',
      () =>
        new DynamoClientStore(
          DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: 'http://127.0.0.1:9', maxAttempts: 1 })),
          tableName,
        ),
    ],
  ])('answers 503 temporarily_unavailable with Retry-After when %s, never a 500', async (_name, makeStore) => {
    const handler = createTokenHandler({ clients: makeStore(), signer: new LocalRsaSigner(), tokenLifetimeSeconds: 3600, limiter: null });
    const c = DEMO_PATIENT_ACCESS_CLIENT;
    const response = await handler(tokenEvent({ grant_type: 'client_credentials' }, { Authorization: basicAuth(c.clientId, c.clientSecret) }));
    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body)).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });
    expect(response.headers).toMatchObject({ 'Retry-After': '5', 'Cache-Control': 'no-store' });
  });
});
