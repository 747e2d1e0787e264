/**
 * P4 and throughput: `GET /STU3/Patient/[id]` over real HTTP through the local gateway with the authorizer (its
 * decision cached per token, as API Gateway does), against one bare GetItem of the same item on the same engine;
 * and requests per second of the token route and of reads at concurrency 8 and 32.
 */
import { DEFAULT_FAILED_AUTH_LIMITS } from '../functions/oauth/throttle';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { Agent, request } from 'node:http';
import { CCRI_DEMO_CLIENTS } from '../functions/oauth/demo-clients';
import { FHIR_TABLE } from '../contract/tables';
import { startLocalApi, type LocalApi } from '../local/app';
import { alternating, figure, percentile, runConcurrent, timeEach, type Figure } from './measure';

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** One HTTP request with a keep-alive agent; resolves with the status once the body is read. */
function call(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

export async function apiBench(quick: boolean): Promise<Figure[]> {
  const n = quick ? 40 : 2000;
  const api: LocalApi = await startLocalApi({ port: 0, tablePrefix: `benchapi${Date.now().toString(36)}-`, seed: true });
  try {
    const client = CCRI_DEMO_CLIENTS[0]!;
    const tokenRequest = {
      method: 'POST',
      headers: {
        Authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`,
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    };
    const tokenRes = await call(api.tokenUrl, tokenRequest);
    if (tokenRes.status !== 200) throw new Error(`token: ${tokenRes.status} ${tokenRes.body}`);
    const token = (JSON.parse(tokenRes.body) as { access_token: string }).access_token;
    const readUrl = `${api.fhirBase}/Patient/1`;
    const read = async () => {
      const res = await call(readUrl, { headers: { Authorization: `Bearer ${token}`, Accept: 'application/fhir+json' } });
      if (res.status !== 200) throw new Error(`read: ${res.status} ${res.body}`);
    };
    const TableName = api.tableName(FHIR_TABLE);
    const getItem = async () => {
      const out = await api.documentClient.send(new GetCommand({ TableName, Key: { pk: 'Patient/1', sk: 'v' }, ConsistentRead: true }));
      if (!out.Item) throw new Error('no Patient/1 item');
    };

    const figures: Figure[] = [];
    // Sequential, interleaved in short alternating batches (10 reads, 10 GetItems, ...) so that the noise of this
    // shared machine hits both alike (rounds of 400 let a load spike land on one side only).
    await timeEach(read, n / 10, 0);
    await timeEach(getItem, n / 10, 0);
    const sequential = await alternating(n / 10, () => timeEach(read, 10, 0), () => timeEach(getItem, 10, 0));
    const [readTimes, floorTimes] = sequential.map((runs) => runs.flat());
    for (const p of [50, 99]) {
      figures.push(
        figure(`P4 GET /STU3/Patient/[id] via gateway+authorizer, sequential, p${p}`, percentile(readTimes, p), percentile(floorTimes, p), n, 'ms', 'one bare GetItem on the same engine', { ratio: 1.5 }),
      );
    }
    // Concurrency 8, alike: alternating runs of 80 calls each.
    const concurrent = await alternating(Math.max(1, n / 80), () => runConcurrent(read, Math.min(80, n), 8), () => runConcurrent(getItem, Math.min(80, n), 8));
    const [concurrentRead, concurrentFloor] = concurrent.map((runs) => runs.flatMap((run) => run.latencies));
    for (const p of [50, 99]) {
      figures.push(
        figure(`P4 GET /STU3/Patient/[id], concurrency 8, p${p}`, percentile(concurrentRead, p), percentile(concurrentFloor, p), n, 'ms', 'bare GetItem at concurrency 8', { ratio: 1.5 }),
      );
    }
    // Why the p50 at concurrency 8 reads as it does: both sides keep this process's one thread busy, so their p50s
    // stand about in the ratio of its CPU per call (docs/benchmarks.md, stop 17).
    const cpuPerCall = (runs: { cpuMs: number; latencies: number[] }[]) => runs.reduce((a, r) => a + r.cpuMs, 0) / runs.reduce((a, r) => a + r.latencies.length, 0);
    figures.push(figure('P4 this process\'s CPU per read, concurrency 8', cpuPerCall(concurrent[0]!), cpuPerCall(concurrent[1]!), n, 'ms', 'per bare GetItem at concurrency 8'));
    for (const c of [8, 32]) {
      const reads = await runConcurrent(read, n, c);
      const floor = await runConcurrent(getItem, n, c);
      figures.push(figure(`throughput: reads at concurrency ${c}`, (n / reads.wallMs) * 1000, (n / floor.wallMs) * 1000, n, 'req/s', `bare GetItem at concurrency ${c}`));
      // One client from one address: at most maxFailures of its token requests are in flight at once (issue 13.5,
      // functions/oauth/throttle.ts); more would be answered 429 with Retry-After 1.
      const tc = Math.min(c, DEFAULT_FAILED_AUTH_LIMITS.maxFailures);
      const tokens = await runConcurrent(async () => {
        const res = await call(api.tokenUrl, tokenRequest);
        if (res.status !== 200) throw new Error(`token: ${res.status}`);
      }, Math.max(20, n / 4), tc);
      figures.push(figure(`throughput: token route at concurrency ${tc}`, (Math.max(20, n / 4) / tokens.wallMs) * 1000, (n / floor.wallMs) * 1000, Math.max(20, n / 4), 'req/s', `bare GetItem at concurrency ${c}`));
    }
    return figures;
  } finally {
    agent.destroy();
    await api.close();
  }
}
