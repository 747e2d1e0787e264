/**
 * The direction of imports between the folders (docs/development.md, "Which folder may import which"), checked on
 * every source file so that a new import the wrong way fails the run, naming the file and the import:
 * - contract/ (plain data both sides share) imports nothing of ours outside contract/, and no AWS library;
 * - functions/ (what runs in the Lambdas) imports nothing from lib/, local/, cli/, bin/, bench/ or test/, and no CDK;
 * - lib/ (CDK) imports from functions/ only what is listed in LIB_MAY_IMPORT, each with its reason;
 * - functions/store/ sits below functions/fhir/: the imports it still has upward are listed in STORE_TO_FHIR_DEBT,
 *   and no new one may be added.
 * Test files and fixtures (`*.test.ts`, `*.fixture.ts`) are exempt: tests reach across folders by design.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '../..');
const FOLDERS = ['bin', 'bench', 'cli', 'contract', 'functions', 'lib', 'local'];

/** lib/ -> functions/ imports that are legitimate, with why. */
const LIB_MAY_IMPORT: Record<string, string> = {
  // The data-access role's boundary (CDK) and each request's session policy (runtime) are built from the same pure
  // action lists and key conditions, so that the two can never disagree; the module imports no AWS library.
  'functions/data-access/session-policy.ts': 'one source for the IAM role boundary and the session policy',
};

/**
 * functions/store -> functions/fhir imports that exist today (issue 19.3, left): the index layout and the search
 * engine evaluate FHIR search values (functions/fhir/search.ts, definitions.ts) and the store throws FHIR 409/412/413
 * errors. Moving the search-value model below the store is the next step; until then, this list may only shrink.
 */
const STORE_TO_FHIR_DEBT = new Set([
  'functions/store/index-layout.ts -> functions/fhir/search.ts',
  'functions/store/index-layout.ts -> functions/fhir/definitions.ts',
  'functions/store/search-engine.ts -> functions/fhir/search.ts',
  'functions/store/writes.ts -> functions/fhir/errors.ts',
  'functions/store/writes.ts -> functions/fhir/search.ts',
  'functions/store/memory-repository.ts -> functions/fhir/errors.ts',
  'functions/store/memory-repository.ts -> functions/fhir/search.ts',
  'functions/store/errors.ts -> functions/fhir/errors.ts',
]);

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sourceFiles(path);
    return /\.tsx?$/.test(entry.name) && !/\.(test|fixture)\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Every module a file imports (static, re-export, dynamic), relative ones as repository paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const specifiers = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g)].map(
    (m) => m[1] ?? m[2] ?? m[3]!,
  );
  return specifiers.map((s) => {
    if (!s.startsWith('.')) return s;
    const path = relative(ROOT, resolve(dirname(join(ROOT, file)), s));
    return /\.[a-z]+$/.test(path) && !path.endsWith('.js') ? path : `${path.replace(/\.js$/, '')}.ts`;
  });
}

const edges = FOLDERS.flatMap((folder) => sourceFiles(folder).flatMap((file) => importsOf(file).map((to) => ({ from: file, to }))));
const isOurs = (to: string) => FOLDERS.some((f) => to.startsWith(`${f}/`)) || to.startsWith('test/') || to.startsWith('web/');
const list = (found: { from: string; to: string }[]) => found.map((e) => `${e.from} -> ${e.to}`);

describe('the direction of imports between folders', () => {
  it('reads the imports of every source file (the check would pass vacuously otherwise)', () => {
    expect(edges.length).toBeGreaterThan(500);
    expect(edges).toContainEqual({ from: 'lib/api.ts', to: 'contract/bearer.ts' });
    expect(edges).toContainEqual({ from: 'functions/resource/handler.ts', to: 'functions/fhir/http.ts' });
  });

  it('contract/ imports only contract/ and no AWS library', () => {
    const wrong = edges.filter((e) => e.from.startsWith('contract/') && ((isOurs(e.to) && !e.to.startsWith('contract/')) || /^(aws-cdk-lib|constructs|@aws-sdk\/)/.test(e.to)));
    expect(list(wrong)).toEqual([]);
  });

  it('functions/ never imports lib/, local/, cli/, bin/, bench/ or test/, nor the CDK', () => {
    const wrong = edges.filter((e) => e.from.startsWith('functions/') && (/^(lib|local|cli|bin|bench|test)\//.test(e.to) || /^(aws-cdk-lib|constructs)(\/|$)/.test(e.to)));
    expect(list(wrong)).toEqual([]);
  });

  it('lib/ imports from functions/ only the pure modules it shares with the runtime, each with its reason', () => {
    const wrong = edges.filter((e) => e.from.startsWith('lib/') && e.to.startsWith('functions/') && !(e.to in LIB_MAY_IMPORT));
    expect(list(wrong)).toEqual([]);
  });

  it('functions/store/ adds no import of functions/fhir/ to the ones being moved out', () => {
    const upward = list(edges.filter((e) => e.from.startsWith('functions/store/') && e.to.startsWith('functions/fhir/')));
    expect(upward.filter((edge) => !STORE_TO_FHIR_DEBT.has(edge))).toEqual([]);
  });
});
