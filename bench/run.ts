/**
 * `npm run bench`: every figure beside its floor measured in the same run, printed as a table and written to
 * bench/results.json. `--quick` runs each section briefly (the smoke test in `npm test` uses it), `--only=P1,P2`
 * picks sections, `--out=FILE` writes elsewhere, `--size=100000` sets the large data set of P5/P6 (default 20,000).
 */
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { coldStart } from './cold-start';
import { benchDynamo, type BenchDynamo } from './dynamo';
import { apiBench } from './api';
import { authorizerBench, tokenBench } from './handlers';
import { searchBench } from './search';
import { writeBench } from './writes';
import { formatTable, type Figure } from './measure';
import { validationCost } from './validation';

type Section = (quick: boolean, dynamo: () => Promise<BenchDynamo>, options: { size?: number }) => Promise<Figure[]>;

export const SECTIONS: Record<string, Section> = {
  P1: (quick) => coldStart(quick),
  P2: (quick) => authorizerBench(quick),
  P3: async (quick, dynamo) => tokenBench(quick, await dynamo()),
  P4: (quick) => apiBench(quick),
  P5: async (quick, dynamo, options) => searchBench(quick, await dynamo(), options.size),
  P7: async (quick, dynamo) => writeBench(quick, await dynamo()),
  V: (quick) => validationCost(quick),
};

export async function runBench(options: { quick: boolean; only?: string[]; out: string; size?: number; log?: (line: string) => void }) {
  const log = options.log ?? ((line: string) => console.log(line));
  const figures: Figure[] = [];
  let dynamo: Promise<BenchDynamo> | undefined;
  const getDynamo = () => (dynamo ??= benchDynamo());
  try {
    for (const [key, section] of Object.entries(SECTIONS)) {
      if (options.only && !options.only.includes(key)) continue;
      log(`running ${key}...`);
      figures.push(...(await section(options.quick, getDynamo, { size: options.size })));
    }
  } finally {
    if (dynamo) await (await dynamo).stop();
  }
  const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`;
  const results = { date: new Date().toISOString(), machine, quick: options.quick, figures };
  writeFileSync(options.out, JSON.stringify(results, null, 2) + '\n');
  return results;
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('bench/run.ts')) {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const only = args.find((a) => a.startsWith('--only='))?.slice(7).split(',');
  const out = args.find((a) => a.startsWith('--out='))?.slice(6) ?? resolve(import.meta.dirname, 'results.json');
  const sizeArg = args.find((a) => a.startsWith('--size='))?.slice(7);
  const results = await runBench({ quick, only, out, size: sizeArg ? Number(sizeArg) : undefined });
  console.log(`\n${results.date} on ${results.machine}\n`);
  console.log(formatTable(results.figures));
  console.log(`\nwritten to ${out}`);
  process.exit(0);
}
