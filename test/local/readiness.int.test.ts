/**
 * `npm start` listens before it is ready (it needs its port for the base URL, then builds the handlers and loads
 * the demo data). A request in that window is answered at once, 503 + Retry-After in the format of its path,
 * never left hanging; and the server bounds slow or partial requests (slowloris) with its timeouts.
 */
import { connect } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../support/local-api';

interface Answer {
  status: number;
  retryAfter: string | null;
  contentType: string | null;
  body: unknown;
}

async function answer(url: string, init?: RequestInit): Promise<Answer> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(5_000) });
  return {
    status: res.status,
    retryAfter: res.headers.get('retry-after'),
    contentType: res.headers.get('content-type'),
    body: await res.json(),
  };
}

const tokenRequest = (): RequestInit => ({
  method: 'POST',
  headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: `Basic ${Buffer.from('a:b').toString('base64')}` },
  body: 'grant_type=client_credentials',
});

/** What a raw socket receives until the server closes it, and how long that took. */
function rawExchange(port: number, send: (write: (s: string) => void) => void, maxMs: number): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text, closed: false });
    }, maxMs);
    socket.on('data', (d) => (text += d.toString('latin1')));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closed: true });
    });
    socket.on('error', () => {});
    socket.on('connect', () => send((s) => socket.write(s)));
  });
}

describe('npm start while it is loading the demo data', () => {
  let api: TestApi | undefined;
  afterAll(() => api?.close());

  it('answers 503 with Retry-After (OperationOutcome on FHIR paths, OAuth error JSON on /oauth2), then serves', async () => {
    const early: Record<string, Answer> = {};
    api = await startTestApi({
      seed: true,
      onListening: async (baseUrl) => {
        early.metadata = await answer(`${baseUrl}/STU3/metadata`);
        early.read = await answer(`${baseUrl}/STU3/Patient/1`, { headers: { Authorization: 'Bearer x' } });
        early.token = await answer(`${baseUrl}/oauth2/token`, tokenRequest());
        early.jwks = await answer(`${baseUrl}/.well-known/jwks.json`);
      },
    });
    for (const name of ['metadata', 'read', 'jwks']) {
      expect(early[name], name).toMatchObject({
        status: 503,
        retryAfter: expect.stringMatching(/^\d+$/),
        contentType: expect.stringContaining('application/fhir+json'),
        body: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'transient' }] },
      });
    }
    expect(early.token).toMatchObject({
      status: 503,
      retryAfter: expect.stringMatching(/^\d+$/),
      contentType: expect.stringContaining('application/json'),
      body: { error: 'temporarily_unavailable', error_description: expect.any(String) },
    });

    // Ready: the same requests are served by the gateway.
    expect((await answer(`${api.fhirBase}/metadata`)).status).toBe(200);
    expect((await answer(api.tokenUrl, tokenRequest())).status).toBe(401);
  }, 120_000);
});

describe('the local server against slow and partial requests', () => {
  let api: TestApi | undefined;
  afterAll(() => api?.close());
  const limits = { headersTimeoutMs: 400, requestTimeoutMs: 800, keepAliveTimeoutMs: 300, connectionsCheckingIntervalMs: 50 };

  it('closes a connection whose headers trickle in (slowloris) with 408 once the headers timeout passes', async () => {
    api = await startTestApi({ seed: false, serverLimits: limits });
    const port = Number(new URL(api.baseUrl).port);
    const result = await rawExchange(
      port,
      (write) => {
        write('GET /STU3/metadata HTTP/1.1\r\nHost: x\r\n');
        const drip = setInterval(() => write('X-Drip: 1\r\n'), 50);
        setTimeout(() => clearInterval(drip), 5_000);
      },
      5_000,
    );
    expect(result.closed).toBe(true);
    expect(result.text).toMatch(/^HTTP\/1\.1 408/);
  }, 60_000);

  it('closes a connection whose body never completes with 408 once the request timeout passes', async () => {
    const port = Number(new URL(api!.baseUrl).port);
    const result = await rawExchange(
      port,
      (write) => write('POST /oauth2/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ngrant_type'),
      5_000,
    );
    expect(result.closed).toBe(true);
    expect(result.text).toMatch(/^HTTP\/1\.1 408/);
  });

  it('closes an idle keep-alive connection', async () => {
    const port = Number(new URL(api!.baseUrl).port);
    const result = await rawExchange(port, (write) => write('GET /STU3/metadata HTTP/1.1\r\nHost: x\r\n\r\n'), 5_000);
    expect(result.text).toMatch(/^HTTP\/1\.1 200/);
    expect(result.closed).toBe(true);
  });
});
