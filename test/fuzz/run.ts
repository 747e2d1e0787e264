/**
 * `npm run fuzz`: the hostile-input suite at full size (default 10,000 cases; FUZZ_CASES, FUZZ_SEED to change)
 * against the whole local API over real HTTP: its own embedded DynamoDB Local engine, or the DynamoDB that
 * AWS_ENDPOINT_URL_DYNAMODB names. Prints the case count, the statuses seen and every violation; exits 1 on any.
 */
import { randomBytes } from 'node:crypto';
import { startLocalApi } from '../../local/app';
import { fuzzContext, prepareWriterEnv, runFuzz, summarize } from './model';

process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';

async function main(): Promise<number> {
  const cases = Number(process.env.FUZZ_CASES ?? 10_000);
  const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
  const writer = prepareWriterEnv();
  const started = Date.now();
  const api = await startLocalApi({ port: 0, tablePrefix: `fuzz${randomBytes(3).toString('hex')}-`, seed: true, log: () => {} });
  try {
    const ctx = await fuzzContext(api, writer);
    console.log(`fuzz: ${cases} cases against ${api.baseUrl} (DynamoDB ${api.endpoint})`);
    const report = await runFuzz(api, ctx, { cases, seed, onProgress: (done) => console.log(`  ${done} cases...`) });
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`fuzz: ${report.cases} cases (${report.refusedWriteCases} refused writes checked against table snapshots), seed ${report.seed}, ${seconds} s`);
    console.log(`statuses: ${Object.entries(report.statuses).map(([s, n]) => `${s}: ${n}`).join(', ')}`);
    console.log(`violations: ${report.violations.length}`);
    for (const line of summarize(report.violations)) console.log(line);
    return report.violations.length === 0 ? 0 : 1;
  } finally {
    await api.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error('fuzz: could not run', err);
    process.exit(2);
  },
);
