/**
 * The explorer as deployed: its Lambda bundle built like CDK builds it (esbuild with the app's BUNDLING settings,
 * then the afterBundling hook that writes the web assets beside it), then loaded and called.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { EXPLORER_ASSETS_HOOK } from '../../lib/constructs/api-functions';
import { BUNDLING, PROJECT_ROOT } from '../../lib/constructs/function';

const WRITER_SECRET = 'sentinel-writer-secret-never-in-the-page';
const out = mkdtempSync(join(tmpdir(), 'ccri-explorer-bundle-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('the deployed explorer bundle', () => {
  it('holds the page, script and style sheet beside index.mjs and serves them', async () => {
    await build({
      entryPoints: [join(PROJECT_ROOT, 'functions/explorer/index.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      minify: true,
      banner: { js: BUNDLING.banner! },
      outfile: join(out, 'index.mjs'),
      logLevel: 'silent',
    });
    for (const command of EXPLORER_ASSETS_HOOK.afterBundling(PROJECT_ROOT, out)) execFileSync('bash', ['-c', command], { cwd: PROJECT_ROOT, stdio: 'pipe', env: { ...process.env, CCRI_WRITER_CLIENT_SECRET: WRITER_SECRET } });
    expect(readdirSync(join(out, 'explorer')).sort()).toEqual(['app.css', 'app.js', 'index.html']);

    const { handler } = (await import(pathToFileURL(join(out, 'index.mjs')).href)) as { handler: (e: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult> };
    const page = await handler({ resource: '/', httpMethod: 'GET', pathParameters: null, headers: {}, requestContext: { path: '/prod/' } } as unknown as APIGatewayProxyEvent);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<script type="module" src="explorer/app.js">');
    const js = await handler({ resource: '/explorer/{asset}', httpMethod: 'GET', pathParameters: { asset: 'app.js' }, headers: {}, requestContext: { path: '/prod/explorer/app.js' } } as unknown as APIGatewayProxyEvent);
    expect(js.statusCode).toBe(200);
    // The page's bundle carries the demo clients' public ids, never the writer's secret.
    expect(js.body).toContain('a24a4d9f-c264-4af7-a8e5-248c24a6b707');
    expect(js.body).not.toContain(WRITER_SECRET);
  }, 60_000);
});
