/**
 * The write-unit table of docs/storage.md is the one bench/wcu.ts computes from the items the repository writes, and
 * the typical Care Connect Patient stays within the issue-21 target of 10 WCU per create.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeCostMarkdown, writeCostTable } from './wcu';

describe('write units per create', () => {
  it('docs/storage.md holds the table bench/wcu.ts computes (regenerate with npx tsx bench/wcu.ts)', () => {
    const doc = readFileSync(resolve(import.meta.dirname, '..', 'docs', 'storage.md'), 'utf8');
    expect(doc).toContain(writeCostMarkdown());
  });

  it('a typical Patient costs at most 10 WCU', () => {
    expect(writeCostTable().find((r) => r.label.startsWith('Patient (typical'))!.wcu).toBeLessThanOrEqual(10);
  });
});
