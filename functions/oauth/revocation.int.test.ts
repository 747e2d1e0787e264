/**
 * The revocation store's bounds on DynamoDB Local, with small bounds: single-token revocations per client and in
 * total. Past either, a revocation becomes the client's cut-off, so the list the authorizer fetches stays bounded
 * however many clients revoke (test/oauth/revocation.int.test.ts has the per-client bound end to end).
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLIENTS_TABLE, localTableName } from '../../contract/tables';
import { createTestTables, testDocumentClient, uniquePrefix } from '../../test/support/dynamodb';
import { clientKey, DynamoRevocationStore, type RevokedToken } from './revocation';

const prefix = uniquePrefix();
const tableName = localTableName(CLIENTS_TABLE, prefix);
beforeAll(() => createTestTables([CLIENTS_TABLE], prefix));

const now = () => Math.floor(Date.now() / 1000);
const token = (clientId: string, iat = now() - 60): RevokedToken => ({ jti: randomUUID(), clientId, iat, exp: iat + 3600 });

describe('DynamoRevocationStore bounds', () => {
  it('past the total of single-token revocations, any client’s revocation is its cut-off: the list grows no further', async () => {
    const store = new DynamoRevocationStore(testDocumentClient(), tableName, { perClient: 100, total: 3 });
    const tag = randomUUID().slice(0, 8);
    const first = [token(`a-${tag}`), token(`b-${tag}`), token(`c-${tag}`)];
    for (const t of first) await store.revokeToken(t);
    const older = token(`d-${tag}`, now() - 120);
    const revoked = token(`d-${tag}`);
    const newer = token(`d-${tag}`, revoked.iat + 5);
    await store.revokeToken(revoked);
    const list = await store.list(now());
    expect(list.jti.filter((j) => first.some((t) => t.jti === j))).toHaveLength(3);
    expect(list.jti).not.toContain(revoked.jti);
    expect(list.clients[clientKey(`d-${tag}`)]).toBe(revoked.iat + 1);
    expect(await store.isRevoked(revoked)).toBe(true);
    expect(await store.isRevoked(older)).toBe(true);
    expect(await store.isRevoked(newer)).toBe(false);
    expect(await store.isRevoked(token(`e-${tag}`))).toBe(false);
  });

  it('past the bound per client, that client’s revocation is its cut-off; another client still revokes one token', async () => {
    const tag = randomUUID().slice(0, 8);
    // A table of its own: the total counts every revocation made in a table, the test above's too.
    const ownPrefix = uniquePrefix();
    await createTestTables([CLIENTS_TABLE], ownPrefix);
    const store = new DynamoRevocationStore(testDocumentClient(), localTableName(CLIENTS_TABLE, ownPrefix), { perClient: 2, total: 100 });
    const mine = [token(`a-${tag}`), token(`a-${tag}`), token(`a-${tag}`)];
    for (const t of mine) await store.revokeToken(t);
    const other = token(`b-${tag}`);
    await store.revokeToken(other);
    const list = await store.list(now());
    expect(list.jti).toEqual(expect.arrayContaining([mine[0]!.jti, mine[1]!.jti, other.jti]));
    expect(list.jti).not.toContain(mine[2]!.jti);
    expect(list.clients[clientKey(`a-${tag}`)]).toBe(mine[2]!.iat + 1);
    expect(list.clients[clientKey(`b-${tag}`)]).toBeUndefined();
  });
});
