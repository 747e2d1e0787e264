/**
 * The FHIR id grammar has one copy (contract/fhir-id.ts): every runtime module, the CDK code and the explorer's page
 * (web/src, bundled by esbuild from the same import) compose their patterns from it. A hand-written copy of the
 * pattern anywhere else fails here, naming the file.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FHIR_ID_PATTERN } from '../../contract/fhir-id';

const ROOT = resolve(__dirname, '../..');
const FOLDERS = ['cli', 'contract', 'functions', 'lib', 'local', 'web/src'];

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' || entry.name === 'generated' ? [] : sourceFiles(path);
    return /\.ts$/.test(entry.name) && !/\.test\.ts$/.test(entry.name) ? [path] : [];
  });
}

describe('the FHIR id grammar', () => {
  it('is written once, in contract/fhir-id.ts', () => {
    // The pattern as it appears in a regular-expression literal (`/[A-Za-z0-9\-.]{1,64}/`) or a string (`'[A-Za-z0-9\\-.]{1,64}'`).
    const copies = [FHIR_ID_PATTERN, FHIR_ID_PATTERN.replace(/\\/g, '\\\\')];
    const files = FOLDERS.flatMap(sourceFiles);
    expect(files).toContain('web/src/json-view.ts');
    const holders = files.filter((file) => copies.some((copy) => readFileSync(join(ROOT, file), 'utf8').includes(copy)));
    expect(holders).toEqual(['contract/fhir-id.ts']);
  });
});
