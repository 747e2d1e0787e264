/**
 * The split bundles of the FHIR, metadata and seed functions (the build the CDK hook and the bench share): what Lambda
 * loads at init holds none of the code that only writes, transactions, history, XML or `_summary` need, and that
 * code is in chunks `import()`ed on first use. The deploy rehearsal (test/deploy/) runs the built assets; this checks the build alone.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildSplit, bytesOf, chunkOf, codeSplittingHook, mainChunks, type SplitSource } from './code-splitting';

const ROOT = resolve(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'ccri-split-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function split(name: string, source: SplitSource = { entry: join(ROOT, 'functions', name, 'index.ts') }) {
  const metafile = await buildSplit(source, join(dir, name), { target: 'node20', sourcemap: false });
  const main = mainChunks(metafile);
  const inputsAtInit = new Set(main.flatMap((f) => Object.keys(metafile.outputs[f]!.inputs)));
  return { metafile, main, atInit: (module: string) => [...inputsAtInit].some((i) => i.includes(module)) };
}

let resource: ReturnType<typeof split> | undefined;
const resourceSplit = () => (resource ??= split('resource'));

describe('code splitting of the FHIR function', () => {
  it('loads no validator, FHIRPath, XML parser or model table at init; each is a chunk loaded on first use', async () => {
    const { metafile, main, atInit } = await resourceSplit();
    expect(main[0]).toMatch(/index\.mjs$/);
    for (const module of ['functions/validation/', 'node_modules/fhirpath/', 'node_modules/fast-xml-parser/', 'functions/fhir-model/generated/', 'functions/fhir-model/model.ts']) {
      expect(atInit(module), module).toBe(false);
    }
    for (const module of ['functions/validation/index.ts', 'functions/validation/walker.ts', 'functions/fhir-model/xml.ts', 'functions/fhir-model/summary.ts']) {
      expect(chunkOf(metafile, module), module).toBeDefined();
    }
    expect(bytesOf(metafile, main)).toBeLessThan(360 * 1024);
  }, 60_000);

  it('loads what only writes, transactions, PATCH and history run on first use; reads and searches stay at init', async () => {
    const { metafile, atInit } = await resourceSplit();
    for (const module of ['functions/fhir/service.ts', 'functions/fhir/bundle.ts', 'functions/fhir/patch.ts', 'node_modules/fast-json-patch/', 'functions/fhir/history.ts', 'functions/store/writes.ts']) {
      expect(atInit(module), module).toBe(false);
    }
    expect(chunkOf(metafile, 'functions/resource/on-demand.ts')).toBeDefined();
    // The repository's write half is a chunk the repository imports on its first write; its read half is at init.
    expect(chunkOf(metafile, 'functions/store/writes.ts')).toBeDefined();
    expect(atInit('functions/store/repository.ts')).toBe(true);
    // Not moved out to shrink the number: a read or a search would pay for it on its first request.
    for (const module of ['functions/fhir/read-service.ts', 'functions/fhir/search-service.ts', 'functions/fhir/search.ts', 'functions/fhir/include.ts', 'functions/fhir/compartment.ts']) {
      expect(atInit(module), module).toBe(true);
    }
  }, 60_000);

  it('keeps the profiles out of the XML chunk (XML needs the base types only)', async () => {
    const { metafile } = await resourceSplit();
    const xml = chunkOf(metafile, 'functions/fhir-model/xml.ts')!;
    expect(Object.keys(metafile.outputs[xml]!.inputs).some((i) => i.includes('generated/profiles.json'))).toBe(false);
  }, 60_000);
});

describe('code splitting of the metadata function', () => {
  it('loads the XML writer and the model only on the first XML request', async () => {
    const { metafile, atInit } = await split('metadata');
    expect(atInit('fast-xml-parser')).toBe(false);
    expect(atInit('functions/fhir-model/generated/types.json')).toBe(false);
    expect(chunkOf(metafile, 'functions/fhir-model/xml.ts')).toBeDefined();
  }, 60_000);
});

describe('code splitting of the seed function', () => {
  it('loads the demo-data loader (the FHIR repository, the demo resources) only for demo-data events', async () => {
    const { metafile, atInit } = await split('seed');
    for (const module of ['functions/seed/loader.ts', 'functions/seed/demo-data.ts', 'functions/store/repository.ts']) expect(atInit(module), module).toBe(false);
    expect(atInit('functions/admin/seed.ts')).toBe(true);
    expect(chunkOf(metafile, 'functions/seed/loader.ts')).toBeDefined();
  }, 60_000);
});

describe('the split build', () => {
  it('names the entry index.mjs and puts chunks under chunks/, from a file or from source text', async () => {
    const { metafile, main } = await split('text', { contents: "export const lazy = () => import('./functions/fhir-model/format');", resolveDir: ROOT });
    expect(main).toHaveLength(1);
    expect(main[0]).toMatch(/text\/index\.mjs$/);
    const chunk = chunkOf(metafile, 'functions/fhir-model/format.ts')!;
    expect(chunk).toMatch(/\/chunks\/format-[A-Z0-9]+\.mjs$/);
    expect(readFileSync(main[0]!, 'utf8')).toContain('import("./chunks/format-');
  }, 60_000);

  it('is what the CDK hook runs after its own bundling, for the named entry', () => {
    const [command] = codeSplittingHook('resource').afterBundling('/repo', '/asset');
    expect(command).toBe('cd "/repo" && node --import tsx lib/constructs/code-splitting.ts "functions/resource/index.ts" "/asset"');
  });
});
