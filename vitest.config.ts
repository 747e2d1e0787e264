import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Two projects, told apart by the file name alone (docs/development.md):
 * - `*.int.test.ts`: integration tests. They need the DynamoDB Local engine (started once for the run by the
 *   global setup) or real HTTP to the local API. `npm run test:int`.
 * - every other `*.test.ts`: unit tests. No engine is started, and DynamoDB points at a closed port, so a unit test
 *   that touches a table fails at once. `npm run test:unit`, in seconds.
 * `npm test` runs both.
 */
const FOLDERS = ['contract', 'functions', 'lib', 'local', 'test', 'bench'];
const INTEGRATION = FOLDERS.map((folder) => `${folder}/**/*.int.test.ts`);

export default defineConfig({
  test: {
    setupFiles: ['test/support/setup-env.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: FOLDERS.map((folder) => `${folder}/**/*.test.ts`),
          exclude: [...configDefaults.exclude, ...INTEGRATION],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: INTEGRATION,
          globalSetup: ['test/support/global-setup.ts'],
        },
      },
    ],
  },
});
