/**
 * P1: what a cold start costs per function: the bytes of its bundle (esbuild with the deployed settings, minified,
 * without source map) and the time a fresh node process takes to load it. Floors from the same run: a bare node
 * start, and per function a bundle holding only the AWS SDK v3 clients that function imports.
 *
 * The functions deployed with code splitting (lib/constructs/code-splitting.ts SPLIT_ENTRIES: the FHIR, metadata
 * and seed functions) are measured on their MAIN chunk (index.mjs and the chunks it imports statically: what Lambda
 * loads at init), against a floor built the same way; their lazy chunks (the validator, the XML model) are reported
 * beside: bytes, and the time their first use takes to import them into a started process.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { buildSplit, bytesOf, chunkOf, entryOutput, mainChunks, SPLIT_ENTRIES, staticClosure } from '../lib/constructs/code-splitting';
import { BUNDLING } from '../lib/constructs/function';
import { figure, median, type Figure } from './measure';

const ROOT = resolve(import.meta.dirname, '..');
/** The function entries that are deployed (functions/<name>/index.ts). */
export const ENTRIES = ['authorizer', 'token', 'jwks', 'metadata', 'resource', 'admin', 'seed'] as const;

/** Per split entry, its lazy parts: the modules a first use imports (in that order), whose chunks are reported. */
const LAZY: Record<string, { what: string; modules: string[] }[]> = {
  resource: [
    { what: 'writes, transactions, PATCH, history (first such request)', modules: ['functions/resource/on-demand.ts'] },
    { what: 'validator (first write or $validate)', modules: ['functions/validation/index.ts', 'functions/validation/walker.ts'] },
  ],
  metadata: [{ what: 'XML model (first XML request)', modules: ['functions/fhir-model/xml.ts'] }],
  seed: [{ what: 'demo-data loader (demo data Create/Update)', modules: ['functions/seed/loader.ts'] }],
};

/** The environment each entry reads at init (placeholder values: loading must not touch AWS). */
const ENV: Record<string, string> = {
  AWS_REGION: 'eu-west-2',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  CLIENTS_TABLE_NAME: 'bench-clients',
  SCOPES_TABLE_NAME: 'bench-scopes',
  KMS_KEY_ID: 'arn:aws:kms:eu-west-2:123456789012:key/00000000-0000-0000-0000-000000000000',
  KMS_KEY_IDS: 'arn:aws:kms:eu-west-2:123456789012:key/00000000-0000-0000-0000-000000000000',
  TOKEN_LIFETIME_SECONDS: '3600',
  TABLE_NAME: 'bench-fhir',
  DATA_ACCESS_ROLE_ARN: 'arn:aws:iam::123456789012:role/bench-data-access',
  DATA_TABLE_ARN: 'arn:aws:dynamodb:eu-west-2:123456789012:table/bench-fhir',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: '1',
};

/**
 * The deployed bundles' esbuild settings (lib/constructs/function.ts BUNDLING), minus the source map; the target is
 * this machine's node so that the bundles load here.
 */
export const ESBUILD = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: `node${process.versions.node.split('.')[0]}`,
  minify: BUNDLING.minify,
  sourcemap: false,
  mainFields: BUNDLING.mainFields,
  logLevel: 'error',
  banner: { js: BUNDLING.banner! },
} as const satisfies BuildOptions;

async function bundle(entry: string, outfile: string): Promise<Metafile> {
  const result = await build({ ...ESBUILD, entryPoints: [entry], outfile, metafile: true });
  return result.metafile!;
}

/** The AWS SDK client packages a bundle pulled in, e.g. `@aws-sdk/client-dynamodb`, `@aws-sdk/lib-dynamodb`. */
function sdkClientsOf(metafile: Metafile, split: boolean): string[] {
  const found = new Set<string>();
  // A split bundle holds at init only the clients of its main chunk (one made on first use, like STS, is not floor).
  const inputs = split ? mainChunks(metafile).flatMap((f) => Object.keys(metafile.outputs[f]!.inputs)) : Object.keys(metafile.inputs);
  for (const input of inputs) {
    const m = /node_modules\/(@aws-sdk\/(?:client-[a-z0-9-]+|lib-dynamodb))\//.exec(input);
    if (m) found.add(m[1]!);
  }
  return [...found].sort();
}

/** The smallest program that holds the same SDK clients: one client made of each. */
function sdkOnlySource(clients: string[]): string {
  const lines: string[] = [];
  for (const pkg of clients) {
    if (pkg === '@aws-sdk/lib-dynamodb') continue;
    const name = pkg.replace('@aws-sdk/client-', '');
    const cls = { dynamodb: 'DynamoDBClient', kms: 'KMSClient', 'secrets-manager': 'SecretsManagerClient', sts: 'STSClient' }[name];
    if (!cls) throw new Error(`no floor recipe for ${pkg}`);
    lines.push(`import { ${cls} } from '${pkg}';`, `export const ${name.replace(/-/g, '_')} = new ${cls}({});`);
  }
  if (clients.includes('@aws-sdk/lib-dynamodb')) {
    lines.push(`import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';`, 'export const doc = DynamoDBDocumentClient.from(dynamodb);');
  }
  return lines.join('\n') + '\n';
}

/** Wall time (ms) of `node <file>` in a fresh process. */
function spawnTime(file: string): number {
  const start = performance.now();
  const r = spawnSync(process.execPath, [file], { env: { ...process.env, ...ENV }, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = performance.now() - start;
  if (r.status !== 0) throw new Error(`loading ${file} failed: ${r.stderr.toString().slice(0, 500)}`);
  return ms;
}

/**
 * Median wall time (ms) of `node <file>` in fresh processes, for each file. The files are loaded in turn (a, b, a,
 * b, ...), so that a function and its floor see the same load on a shared machine.
 */
function loadTimes(files: string[], runs: number): number[] {
  const times = files.map(() => [] as number[]);
  for (let i = 0; i < runs + 2; i++) {
    files.forEach((file, k) => {
      const ms = spawnTime(file);
      if (i >= 2) times[k]!.push(ms);
    });
  }
  return times.map(median);
}

/** Imports the main chunk, then the lazy chunks in order, in one fresh process: prints both durations (ms). */
const FIRST_USE = `const [main, ...lazy] = process.argv.slice(2);
let t = performance.now(); await import(main); const init = performance.now() - t;
t = performance.now(); for (const chunk of lazy) await import(chunk); const first = performance.now() - t;
process.stdout.write(JSON.stringify([init, first]));`;

/** Median in-process times (ms) of importing the main chunk and then, on first use, the lazy chunks. */
function firstUseTime(script: string, files: string[], runs: number): { init: number; firstUse: number } {
  const init: number[] = [];
  const firstUse: number[] = [];
  for (let i = 0; i < runs + 1; i++) {
    const r = spawnSync(process.execPath, [script, ...files], { env: { ...process.env, ...ENV }, stdio: ['ignore', 'pipe', 'pipe'] });
    if (r.status !== 0) throw new Error(`loading ${files.join(', ')} failed: ${r.stderr.toString().slice(0, 500)}`);
    const [a, b] = JSON.parse(r.stdout.toString()) as [number, number];
    if (i >= 1) init.push(a), firstUse.push(b);
  }
  return { init: median(init), firstUse: median(firstUse) };
}

/** A function's bundle as Lambda loads it at init: its bytes, the file node starts, and the split build's metafile. */
async function bundleFor(name: string, dir: string, source: { entry: string } | { contents: string }): Promise<{ bytes: number; file: string; metafile: Metafile }> {
  mkdirSync(dir, { recursive: true });
  const target = ESBUILD.target;
  if (SPLIT_ENTRIES.includes(name)) {
    const metafile = await buildSplit('entry' in source ? source : { contents: source.contents, resolveDir: ROOT }, dir, { target, sourcemap: false });
    return { bytes: bytesOf(metafile, mainChunks(metafile)), file: resolve(entryOutput(metafile)), metafile };
  }
  const file = join(dir, 'index.mjs');
  const metafile =
    'entry' in source
      ? await bundle(source.entry, file)
      : (await build({ ...ESBUILD, stdin: { contents: source.contents, resolveDir: ROOT, sourcefile: 'sdk-only.mjs' }, outfile: file, metafile: true })).metafile!;
  return { bytes: statSync(file).size, file, metafile };
}

export async function coldStart(quick: boolean): Promise<Figure[]> {
  const runs = quick ? 3 : 21;
  const dir = mkdtempSync(join(tmpdir(), 'ccri-bench-'));
  try {
    const bare = join(dir, 'bare.mjs');
    writeFileSync(bare, '');
    const figures: Figure[] = [];
    for (const name of ENTRIES) {
      const split = SPLIT_ENTRIES.includes(name);
      const { bytes, file: out, metafile } = await bundleFor(name, join(dir, name), { entry: join(ROOT, 'functions', name, 'index.ts') });
      const what = split ? 'main chunk' : 'bundle';
      const clients = sdkClientsOf(metafile, split);
      if (clients.length === 0) {
        const [ms, bareMs] = loadTimes([out, bare], runs) as [number, number];
        figures.push(figure(`P1 ${name}: ${what} size`, bytes / 1024, 0, 1, 'KB', 'none (no SDK client)', { absolute: 60 }));
        figures.push(figure(`P1 ${name}: init time`, ms, bareMs, runs, 'ms', 'bare node start', { overhead: 30 }));
      } else {
        const floor = await bundleFor(name, join(dir, name, 'sdk-only'), { contents: sdkOnlySource(clients) });
        const [ms, floorMs] = loadTimes([out, floor.file], runs) as [number, number];
        let floorIs = `${split ? 'main chunk of a split bundle' : 'bundle'} of only ${clients.join(' + ')}`;
        if (split) {
          // The same clients in one file, as the functions without splitting are measured: for comparison.
          const single = join(dir, name, 'sdk-only-single.mjs');
          await build({ ...ESBUILD, stdin: { contents: sdkOnlySource(clients), resolveDir: ROOT, sourcefile: 'sdk-only.mjs' }, outfile: single });
          floorIs += ` (in one file: ${Math.round(statSync(single).size / 1024)} KB)`;
        }
        figures.push(figure(`P1 ${name}: ${what} size`, bytes / 1024, floor.bytes / 1024, 1, 'KB', floorIs, { ratio: 1.2 }));
        figures.push(figure(`P1 ${name}: init time`, ms, floorMs, runs, 'ms', `${floorIs}, loaded by node`, { ratio: 1.25 }));
      }
      const lazies = split ? (LAZY[name] ?? []) : [];
      const main = new Set(mainChunks(metafile));
      const script = join(dir, name, 'first-use.mjs');
      if (lazies.length > 0) writeFileSync(script, FIRST_USE);
      for (const lazy of lazies) {
        const chunks = lazy.modules.map((m) => chunkOf(metafile, m));
        if (chunks.some((c) => c === undefined)) throw new Error(`${name}: ${lazy.modules.join(', ')} did not become lazy chunks`);
        const lazyFiles = [...new Set(chunks.flatMap((c) => staticClosure(metafile, c!)))].filter((f) => !main.has(f));
        const times = firstUseTime(script, [out, ...chunks.map((c) => resolve(c!))], runs);
        const lazyIs = `main chunk (${Math.round(bytes / 1024)} KB)`;
        figures.push(figure(`P1 ${name}: lazy ${lazy.what}: size`, bytesOf(metafile, lazyFiles) / 1024, bytes / 1024, 1, 'KB', lazyIs));
        figures.push(figure(`P1 ${name}: lazy ${lazy.what}: load on first use`, times.firstUse, times.init, runs, 'ms', `${lazyIs}: its import at init, in the same process`));
      }
    }
    return figures;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
