import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { scopedClientFactory } from './client';
import { withSilentEndpoint } from './silent-server.fixture';

describe('the scoped DynamoDB clients', () => {
  it('give up on a DynamoDB that accepts the connection and never answers (requestTimeout really throws)', async () => {
    await withSilentEndpoint(async (endpoint) => {
      const { documentClient } = scopedClientFactory({ endpoint, maxAttempts: 1, requestTimeoutMs: 300 })();
      await expect(documentClient.send(new GetCommand({ TableName: 't', Key: { pk: 'Patient/1', sk: 'x' } }))).rejects.toMatchObject({
        name: 'TimeoutError',
      });
    });
  });

  it('share one HTTP handler across sessions (one connection pool)', () => {
    const create = scopedClientFactory();
    const a = create({ accessKeyId: 'a', secretAccessKey: 's' }).client;
    const b = create({ accessKeyId: 'b', secretAccessKey: 's' }).client;
    expect(a.config.requestHandler).toBe(b.config.requestHandler);
  });
});
