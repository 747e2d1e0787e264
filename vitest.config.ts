import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Three projects (docs/development.md):
 * - `*.int.test.ts`: integration tests. They need the DynamoDB Local engine (started once for the run by the
 *   global setup) or real HTTP to the local API. `npm run test:int`.
 * - `test/cdk/*.test.ts`: the CDK assertion tests. No engine, but each synthesizes the whole app (20+ functions,
 *   cdk-nag) for every context variant it checks: most of the time of a unit run. `npm run test:cdk`.
 * - every other `*.test.ts`: unit tests. No engine is started, and DynamoDB points at a closed port, so a unit test
 *   that touches a table fails at once. `npm run test:unit`, in seconds: they run in worker threads that share
 *   their module cache between files (`isolate: false`, half the CPU of a run goes to re-importing otherwise), so
 *   a unit test leaves no state behind: environment variables through `vi.stubEnv` (undone after each test here),
 *   no assignment to `process.env`, no module-level mutation another file could see.
 * `npm test` runs all three.
 */
const FOLDERS = ['cli', 'contract', 'functions', 'lib', 'local', 'test', 'bench'];
const INTEGRATION = FOLDERS.map((folder) => `${folder}/**/*.int.test.ts`);
const CDK = ['test/cdk/**/*.test.ts'];

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
          exclude: [...configDefaults.exclude, ...INTEGRATION, ...CDK],
          pool: 'threads',
          isolate: false,
          unstubEnvs: true,
          unstubGlobals: true,
          restoreMocks: true,
        },
      },
      {
        extends: true,
        test: {
          name: 'cdk',
          include: CDK,
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
