/**
 * A tiny HTTP proxy in front of the real DynamoDB Local engine that a test switches between three states:
 * - `up`: every request is forwarded to the engine;
 * - `throttling`: every request is answered as DynamoDB answers when it throttles (HTTP 400,
 *   ProvisionedThroughputExceededException), so the SDK's own error parsing and retry logic run for real;
 * - `down`: the port is closed (connections refused, open ones cut), as when DynamoDB is unreachable.
 * Handlers built with a client pointed at `endpoint` see a real outage and a real recovery, without a restart.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ProxyState = 'up' | 'throttling' | 'down';

export class SwitchableProxy {
  private server: Server | undefined;
  private port = 0;
  private state: ProxyState = 'up';
  /** Requests that reached the proxy while throttling (the SDK's attempts, retries included). */
  throttled = 0;

  constructor(private readonly target: string) {}

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    await this.listen(0);
  }

  async set(state: ProxyState): Promise<void> {
    if (state === this.state) return;
    if (state === 'down') {
      const server = this.server!;
      this.server = undefined;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    } else if (this.state === 'down') {
      await this.listen(this.port);
    }
    this.state = state;
  }

  async stop(): Promise<void> {
    await this.set('down');
  }

  private async listen(port: number): Promise<void> {
    const server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    if (this.state === 'throttling') {
      this.throttled++;
      req.resume();
      req.on('end', () => {
        const body = JSON.stringify({
          __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
          message: 'The level of configured provisioned throughput for the table was exceeded.',
        });
        res.writeHead(400, { 'Content-Type': 'application/x-amz-json-1.0', 'x-amzn-RequestId': 'throttled' });
        res.end(body);
      });
      return;
    }
    const url = new URL(req.url ?? '/', this.target);
    const upstream = request(
      { host: url.hostname, port: url.port, path: url.pathname + url.search, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  }
}
