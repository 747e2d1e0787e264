/** A smoke run of the benchmark (tiny iterations) so that `npm run bench` keeps working; no time is asserted. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBench } from './run';

describe('npm run bench', () => {
  it('measures each figure beside its floor and writes them as JSON', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ccri-bench-'));
    try {
      const out = join(dir, 'results.json');
      await runBench({ quick: true, only: ['P2', 'P3', 'V'], out, log: () => {} });
      const results = JSON.parse(readFileSync(out, 'utf8')) as { machine: string; figures: Array<Record<string, unknown>> };
      expect(results.machine).toMatch(/node v\d+/);
      expect(results.figures.map((f) => String(f.name).split(' ')[0])).toEqual(['P2', 'P3', 'V', 'V', 'V', 'V']);
      for (const f of results.figures) {
        expect(f).toMatchObject({ value: expect.any(Number), floor: expect.any(Number), ratio: expect.any(Number), iterations: expect.any(Number), units: expect.any(String) });
        expect(f.value as number).toBeGreaterThan(0);
        expect(f.floor as number).toBeGreaterThan(0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
