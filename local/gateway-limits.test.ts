/**
 * The local gateway's bounds, as an attacker would probe them: a body that never ends, a function or an authorizer
 * that never answers, a flood of distinct tokens in the authorizer cache.
 */
import { connect } from 'node:net';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import type { Route } from '../contract/routes';
import { LocalGateway, parserRefusal, type LocalGatewayOptions } from './gateway';

const routes: Route[] = [
  { method: 'GET', path: '/STU3/metadata', function: 'metadata', auth: 'public' },
  { method: 'POST', path: '/oauth2/token', function: 'token', auth: 'public' },
  { method: 'GET', path: '/STU3/Patient/{id}', function: 'fhir', auth: 'authorized', fhir: { type: 'Patient', interaction: 'read' } },
];

const allowAll = (principalId: string): APIGatewayAuthorizerResult => ({
  principalId,
  policyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: '*' }] },
});

const ok = async () => ({ statusCode: 200, headers: { 'Content-Type': 'application/json' }, body: '{}' });
const never = () => new Promise<never>(() => {});

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

async function serve(options: Partial<LocalGatewayOptions>): Promise<{ gateway: LocalGateway; base: string; port: number }> {
  const gateway = new LocalGateway({
    routes,
    handlers: { metadata: ok, token: ok, fhir: ok },
    authorizer: async (event) => allowAll(event.authorizationToken),
    authorizerCacheSeconds: 300,
    domainName: 'localhost:0',
    ...options,
  });
  server = createServer(gateway.listener);
  server.on('clientError', parserRefusal(500));
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return { gateway, base: `http://127.0.0.1:${port}`, port };
}

/** What the server sends back on a raw connection after `payload`, until it closes the connection. */
function rawResponse(port: number, payload: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (d) => (received += d.toString('latin1')));
    socket.on('close', () => resolve(received));
    socket.on('error', () => {});
    socket.on('connect', () => socket.write(payload));
  });
}

describe('the local gateway bounds', () => {
  it('answers 413 to a streamed body as soon as it passes the limit, without reading the rest, and closes', async () => {
    const { port } = await serve({ maxBodyBytes: 1024 });
    // 4 KB of a chunked body, then nothing more: a body that never ends.
    const text = await rawResponse(port, `POST /oauth2/token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1000\r\n${'a'.repeat(4096)}\r\n`);
    expect(text).toMatch(/^HTTP\/1\.1 413/);
    expect(text).toMatch(/connection: close/i);
  });

  it('answers 413 at once when Content-Length declares more than the limit', async () => {
    const { port } = await serve({ maxBodyBytes: 1024 });
    const text = await rawResponse(port, 'POST /oauth2/token HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\nabc');
    expect(text).toMatch(/^HTTP\/1\.1 413/);
  });

  it('answers 504 with an OperationOutcome when a function does not answer within the integration timeout', async () => {
    const { base } = await serve({ handlers: { metadata: never }, integrationTimeoutMs: 200 });
    const res = await fetch(`${base}/STU3/metadata`, { signal: AbortSignal.timeout(5_000) });
    expect(res.status).toBe(504);
    expect(await res.json()).toMatchObject({ resourceType: 'OperationOutcome' });
  });

  it('answers 503 AUTHORIZER_FAILURE when the authorizer does not answer within the timeout', async () => {
    const { base } = await serve({ authorizer: never, integrationTimeoutMs: 200 });
    const res = await fetch(`${base}/STU3/Patient/1`, { headers: { Authorization: 'Bearer t' }, signal: AbortSignal.timeout(5_000) });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
  });

  it('keeps at most maxCachedAuthorizations decisions however many distinct tokens arrive', async () => {
    const { gateway, base } = await serve({ maxCachedAuthorizations: 3 });
    for (let i = 0; i < 10; i++) {
      const res = await fetch(`${base}/STU3/Patient/1`, { headers: { Authorization: `Bearer t${i}` } });
      expect(res.status).toBe(200);
    }
    expect(gateway.cachedAuthorizations).toBe(3);
    // The newest are the ones kept.
    const before = gateway.authorizerInvocations;
    await fetch(`${base}/STU3/Patient/1`, { headers: { Authorization: 'Bearer t9' } });
    expect(gateway.authorizerInvocations).toBe(before);
  });
});

describe('the Lambda response payload limit', () => {
  const big = (bytes: number) => async () => ({ statusCode: 200, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ x: 'a'.repeat(bytes) }) });

  it('answers 502 with an OperationOutcome, as API Gateway does, when a function returns more than 6 MB', async () => {
    const { base } = await serve({ handlers: { metadata: big(6 * 1024 * 1024) } });
    const res = await fetch(`${base}/STU3/metadata`);
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({ resourceType: 'OperationOutcome' });
  });

  it('passes a response just under the limit', async () => {
    const { base } = await serve({ handlers: { metadata: big(6 * 1024 * 1024 - 1024) } });
    const res = await fetch(`${base}/STU3/metadata`);
    expect(res.status).toBe(200);
    expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(6 * 1024 * 1024 - 1024);
  });
});

describe('what Node’s HTTP parser refuses before the gateway', () => {
  /** A POST with headers over Node's 16 KB and a 1 MB body, as the fuzz suite sent: the status, or the error. */
  function oversizeHeaders(port: number): Promise<{ status: number; body: string } | { error: string }> {
    return new Promise((resolve) => {
      const req = request({ port, host: '127.0.0.1', method: 'POST', path: `/STU3/Patient/1?q=${'v'.repeat(6000)}`, headers: { Authorization: `Bearer ${'t'.repeat(6500)}`, 'If-None-Exist': 'x'.repeat(4000), 'Content-Type': 'application/fhir+json' } }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', (err) => resolve({ error: (err as NodeJS.ErrnoException).code ?? err.message }));
      req.end(`{"resourceType":"Patient","text":"${'x'.repeat(1024 * 1024)}"}`);
    });
  }

  it('answers headers over 16 KB with a 431 OperationOutcome the client can read, even while it still sends a body', async () => {
    const { port } = await serve({});
    const answer = await oversizeHeaders(port);
    expect(answer).toMatchObject({ status: 431 });
    expect(JSON.parse((answer as { body: string }).body)).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ diagnostics: 'The request line and headers are over 16 KB' }] });
  });

  it('answers a request that is not HTTP with a 400 OperationOutcome and closes', async () => {
    const { port } = await serve({});
    const raw = await rawResponse(port, 'HELLO /\r\n\r\n');
    expect(raw).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(raw).toContain('"resourceType":"OperationOutcome"');
  });

  it('writes nothing into a response already being sent when a pipelined request after it is not HTTP: it closes', async () => {
    const big = 'x'.repeat(4 * 1024 * 1024);
    let answered!: () => void;
    const handed = new Promise<void>((resolve) => (answered = resolve));
    const metadata = async () => {
      answered();
      return { statusCode: 200, headers: { 'Content-Type': 'text/plain' }, body: big };
    };
    const { port } = await serve({ handlers: { metadata } });
    const received = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      const chunks: Buffer[] = [];
      socket.on('error', () => {});
      socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
      socket.on('connect', async () => {
        // Not read yet: the 4 MB answer fills the buffers, its headers sent, its body still going out.
        socket.pause();
        socket.write('GET /STU3/metadata HTTP/1.1\r\nHost: x\r\n\r\n');
        await handed; // the gateway writes the answer as soon as the function returns (this process, microtasks)
        await new Promise((r) => setTimeout(r, 50));
        socket.write('HELLO /\r\n\r\n');
        await new Promise((r) => setTimeout(r, 200));
        socket.on('data', (d: Buffer) => chunks.push(d));
        socket.resume();
      });
    });
    expect(received).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(received).not.toContain('HTTP/1.1 400');
    expect(received.length).toBeLessThan(big.length);
  });
});
