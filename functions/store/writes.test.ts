/**
 * The write half of the repository (writes.ts) is not in what the FHIR function loads at init: the split build
 * (lib/constructs/code-splitting.ts, what the CDK deploys and the bench measures) puts it in a chunk that the
 * repository `import()`s on its first write, so a container that only serves reads never parses it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildSplit, chunkOf, mainChunks } from '../../lib/constructs/code-splitting';

const ROOT = resolve(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'ccri-writes-split-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the write half of the repository', () => {
  it('is a chunk of its own, loaded on the first write, not at init', async () => {
    const metafile = await buildSplit({ entry: join(ROOT, 'functions', 'resource', 'index.ts') }, dir, { target: 'node20', sourcemap: false });
    const atInit = new Set(mainChunks(metafile).flatMap((f) => Object.keys(metafile.outputs[f]!.inputs)));
    expect([...atInit].filter((i) => i.endsWith('functions/store/writes.ts'))).toEqual([]);
    expect([...atInit].some((i) => i.endsWith('functions/store/repository.ts'))).toBe(true);
    expect(chunkOf(metafile, 'functions/store/writes.ts')).toBeDefined();
  }, 60_000);
});
