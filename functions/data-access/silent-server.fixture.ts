/** Test fixture: an endpoint that accepts connections and never answers (a hung STS or DynamoDB). */
import { createServer, type AddressInfo, type Socket } from 'node:net';

export async function withSilentEndpoint(run: (endpoint: string) => Promise<void>): Promise<void> {
  const sockets: Socket[] = [];
  const silent = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  try {
    await run(`http://127.0.0.1:${(silent.address() as AddressInfo).port}`);
  } finally {
    for (const socket of sockets) socket.destroy();
    silent.close();
  }
}
