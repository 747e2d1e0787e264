/**
 * Code splitting for the functions that carry code only some requests need: the FHIR function (the validator, the
 * FHIRPath engine, the XML parser and the model tables compiled from the definitions: ~1.4 MB that a JSON read never
 * runs; and the writes, transactions, PATCH and history), the metadata function (the XML writer and the model, for
 * `Accept: application/fhir+xml`) and the seed function (the FHIR repository and the demo resources, which only the
 * demo-data custom resource's Create and Update load).
 *
 * esbuild writes such a function as `index.mjs` (what Lambda loads at init, with the chunks it imports statically)
 * and `chunks/*.mjs`, which the code loads with `import()` on first use. The CDK's own bundling writes one file
 * (`--outfile`), so the `afterBundling` hook (CODE_SPLITTING_HOOK) re-bundles the same entry into the asset folder
 * with the same settings plus `splitting`, replacing that file. The bench (bench/cold-start.ts) builds with the same
 * `buildSplit` and measures `mainChunks`, so that P1 is measured on what Lambda loads at init.
 *
 * Run as a script by the hook: `node --import tsx lib/constructs/code-splitting.ts <entry.ts> <outdir>`.
 */
import { readdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import type { ICommandHooks } from 'aws-cdk-lib/aws-lambda-nodejs';
import { BUNDLING } from './function';

/** The deployed functions (functions/<name>/) bundled with code splitting. */
export const SPLIT_ENTRIES: readonly string[] = ['resource', 'metadata', 'seed'];

/** Where the lazily loaded chunks go inside the asset (Lambda: /var/task/chunks/). */
export const CHUNKS_DIR = 'chunks';

/** BUNDLING (lib/constructs/function.ts) as esbuild options, plus splitting into `index.mjs` + `chunks/`. */
export function splitBuildOptions(target: string, sourcemap: boolean): BuildOptions {
  return {
    bundle: true,
    platform: 'node',
    format: 'esm',
    target,
    minify: BUNDLING.minify,
    sourcemap: sourcemap ? 'linked' : false,
    sourcesContent: BUNDLING.sourcesContent,
    mainFields: BUNDLING.mainFields,
    // Every chunk is a module of its own: each gets the `require` shim for the CommonJS code it holds.
    banner: { js: BUNDLING.banner! },
    splitting: true,
    entryNames: 'index',
    chunkNames: `${CHUNKS_DIR}/[name]-[hash]`,
    outExtension: { '.js': '.mjs' },
    logLevel: 'warning',
    metafile: true,
  };
}

/** What to bundle: a file, or source text (the bench's SDK floors) resolved from `resolveDir`. */
export type SplitSource = { entry: string } | { contents: string; resolveDir: string };

/** Bundles `source` into `outdir` as `index.mjs` + `chunks/`; returns esbuild's metafile. */
export async function buildSplit(source: SplitSource, outdir: string, options: { target?: string; sourcemap?: boolean } = {}): Promise<Metafile> {
  const base = splitBuildOptions(options.target ?? BUNDLING.target!, options.sourcemap ?? true);
  const result =
    'entry' in source
      ? await build({ ...base, entryPoints: { index: source.entry }, outdir })
      : await build({ ...base, entryPoints: { index: 'virtual:entry' }, plugins: [virtualEntry(source.contents, source.resolveDir)], outdir });
  return result.metafile!;
}

/** Source text as the entry `index` (esbuild's `stdin` would name the output `stdin.mjs`). */
function virtualEntry(contents: string, resolveDir: string): NonNullable<BuildOptions['plugins']>[number] {
  return {
    name: 'virtual-entry',
    setup(b) {
      b.onResolve({ filter: /^virtual:entry$/ }, () => ({ path: 'entry', namespace: 'virtual' }));
      b.onLoad({ filter: /.*/, namespace: 'virtual' }, () => ({ contents, loader: 'js', resolveDir }));
    },
  };
}

/** The output files a module loads when it is imported: itself and, transitively, the chunks it imports statically. */
export function staticClosure(metafile: Metafile, file: string): string[] {
  const seen = new Set([file]);
  const queue = [file];
  for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
    for (const { path: imported, kind } of metafile.outputs[next]?.imports ?? []) {
      if (kind === 'import-statement' && metafile.outputs[imported] && !seen.has(imported)) {
        seen.add(imported);
        queue.push(imported);
      }
    }
  }
  return [...seen];
}

const jsOutputs = (metafile: Metafile) => Object.keys(metafile.outputs).filter((f) => f.endsWith('.mjs'));

/** The entry file of a split build (`…/index.mjs`). */
export function entryOutput(metafile: Metafile): string {
  // Chunks made for `import()` have an entryPoint too: the entry is the one named `index.mjs`, outside chunks/.
  const entry = jsOutputs(metafile).find((f) => /(^|\/)index\.mjs$/.test(f) && !f.includes(`/${CHUNKS_DIR}/`));
  if (!entry) throw new Error('no entry output in the metafile');
  return entry;
}

/** What Lambda loads at init: `index.mjs` and the chunks it imports statically. */
export const mainChunks = (metafile: Metafile): string[] => staticClosure(metafile, entryOutput(metafile));

/**
 * The chunk a source module became (e.g. `functions/validation/walker.ts`): the output whose inputs hold it, and
 * that is loaded by `import()` (not at init).
 */
export function chunkOf(metafile: Metafile, sourceFile: string): string | undefined {
  const main = new Set(mainChunks(metafile));
  return jsOutputs(metafile).find((f) => !main.has(f) && Object.keys(metafile.outputs[f]!.inputs).some((i) => i.endsWith(sourceFile)));
}

/** Sum of the bytes of these outputs. */
export const bytesOf = (metafile: Metafile, files: readonly string[]) => files.reduce((sum, f) => sum + metafile.outputs[f]!.bytes, 0);

/**
 * The CDK hook: replaces the single file the CDK bundled for `functions/<entryName>/index.ts` by the split build.
 * Used by lib/constructs/api-functions.ts and seeding.ts for the SPLIT_ENTRIES.
 */
export function codeSplittingHook(entryName: string): ICommandHooks {
  return {
    beforeBundling: () => [],
    beforeInstall: () => [],
    afterBundling: (inputDir, outputDir) => [
      `cd "${inputDir}" && node --import tsx lib/constructs/code-splitting.ts "functions/${entryName}/index.ts" "${outputDir}"`,
    ],
  };
}

/** The script the hook runs: clears the asset folder's bundle and writes the split one. */
async function main(entry: string, outdir: string): Promise<void> {
  for (const file of readdirSync(outdir)) if (/^index\.mjs(\.map)?$/.test(file) || file === CHUNKS_DIR) rmSync(path.join(outdir, file), { recursive: true, force: true });
  await buildSplit({ entry: path.resolve(entry) }, outdir);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [entry, outdir] = process.argv.slice(2);
  if (!entry || !outdir) throw new Error('usage: code-splitting.ts <entry.ts> <outdir>');
  main(entry, outdir).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
