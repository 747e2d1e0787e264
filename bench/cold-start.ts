/**
 * P1: what a cold start costs per function: the bytes of its bundle (esbuild with the deployed settings, minified,
 * without source map) and the time a fresh node process takes to load it. Floors from the same run: a bare node
 * start, and per function a bundle holding only the AWS SDK v3 clients that function imports.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { BUNDLING } from '../lib/constructs/function';
import { figure, median, type Figure } from './measure';

const ROOT = resolve(import.meta.dirname, '..');
/** The function entries that are deployed (functions/<name>/index.ts). */
export const ENTRIES = ['authorizer', 'token', 'jwks', 'metadata', 'resource', 'admin', 'seed'] as const;

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
function sdkClientsOf(metafile: Metafile): string[] {
  const found = new Set<string>();
  for (const input of Object.keys(metafile.inputs)) {
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

/** Median wall time (ms) of `node <file>` in fresh processes. */
function loadTime(file: string, runs: number): number {
  const times: number[] = [];
  for (let i = 0; i < runs + 2; i++) {
    const start = performance.now();
    const r = spawnSync(process.execPath, [file], { env: { ...process.env, ...ENV }, stdio: ['ignore', 'ignore', 'pipe'] });
    const ms = performance.now() - start;
    if (r.status !== 0) throw new Error(`loading ${file} failed: ${r.stderr.toString().slice(0, 500)}`);
    if (i >= 2) times.push(ms);
  }
  return median(times);
}

export async function coldStart(quick: boolean): Promise<Figure[]> {
  const runs = quick ? 3 : 21;
  const dir = mkdtempSync(join(tmpdir(), 'ccri-bench-'));
  try {
    const bare = join(dir, 'bare.mjs');
    writeFileSync(bare, '');
    const bareMs = loadTime(bare, runs);
    const figures: Figure[] = [];
    for (const name of ENTRIES) {
      const out = join(dir, name, 'index.mjs');
      mkdirSync(join(dir, name), { recursive: true });
      const metafile = await bundle(join(ROOT, 'functions', name, 'index.ts'), out);
      const bytes = statSync(out).size;
      const ms = loadTime(out, runs);
      const clients = sdkClientsOf(metafile);
      if (clients.length === 0) {
        figures.push(figure(`P1 ${name}: bundle size`, bytes / 1024, 0, 1, 'KB', 'none (no SDK client)', { absolute: 60 }));
        figures.push(figure(`P1 ${name}: init time`, ms, bareMs, runs, 'ms', 'bare node start', { overhead: 30 }));
        continue;
      }
      const floorEntry = join(dir, name, 'sdk-only.mjs');
      await build({ ...ESBUILD, stdin: { contents: sdkOnlySource(clients), resolveDir: ROOT, sourcefile: 'sdk-only.mjs' }, outfile: floorEntry });
      const floorBytes = statSync(floorEntry).size;
      const floorMs = loadTime(floorEntry, runs);
      const floorIs = `bundle of only ${clients.join(' + ')}`;
      figures.push(figure(`P1 ${name}: bundle size`, bytes / 1024, floorBytes / 1024, 1, 'KB', floorIs, { ratio: 1.2 }));
      figures.push(figure(`P1 ${name}: init time`, ms, floorMs, runs, 'ms', `${floorIs}, loaded by node`, { ratio: 1.25 }));
    }
    return figures;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
