import { createServer, type AddressInfo, type Socket } from 'node:net';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { scopedClientFactory } from './client';

describe('the scoped DynamoDB clients', () => {
  it('give up on a DynamoDB that accepts the connection and never answers (requestTimeout really throws)', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const endpoint = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
      const { documentClient } = scopedClientFactory({ endpoint, maxAttempts: 1, requestTimeoutMs: 300 })();
      await expect(documentClient.send(new GetCommand({ TableName: 't', Key: { pk: 'Patient/1', sk: 'x' } }))).rejects.toMatchObject({
        name: 'TimeoutError',
      });
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  it('share one HTTP handler across sessions (one connection pool)', () => {
    const create = scopedClientFactory();
    const a = create({ accessKeyId: 'a', secretAccessKey: 's' }).client;
    const b = create({ accessKeyId: 'b', secretAccessKey: 's' }).client;
    expect(a.config.requestHandler).toBe(b.config.requestHandler);
  });
});
