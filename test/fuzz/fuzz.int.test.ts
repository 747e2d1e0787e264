/**
 * A sample of the hostile-input suite (test/fuzz/model.ts) in `npm test`: 200 cases with a fixed seed (FUZZ_SEED to
 * change it) through the local gateway over real HTTP. `npm run fuzz` runs the same model at 10,000 cases.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../support/local-api';
import { fuzzContext, prepareWriterEnv, runFuzz, summarize, type FuzzContext } from './model';

const SAMPLE_CASES = 200;
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : 20_261_128;

let api: TestApi;
let ctx: FuzzContext;

beforeAll(async () => {
  const writer = prepareWriterEnv();
  api = await startTestApi();
  ctx = await fuzzContext(api, writer);
});

afterAll(async () => {
  await api?.close();
});

describe('hostile requests through the local gateway (sample)', () => {
  it(`keeps every invariant over ${SAMPLE_CASES} cases: no 5xx, OAuth or OperationOutcome errors, refused writes change nothing`, async () => {
    const report = await runFuzz(api, ctx, { cases: SAMPLE_CASES, seed: SEED, batch: 50 });
    expect(report.cases).toBe(SAMPLE_CASES);
    expect(summarize(report.violations), `seed ${report.seed}`).toEqual([]);
  }, 120_000);
});
