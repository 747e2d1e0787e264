/**
 * Builds the web explorer: web/src/main.ts bundled by esbuild into one browser ES module, the style sheet and the
 * page, in memory. `npm start` builds on the first request for the page (local/handlers.ts); CDK runs this file as
 * a script when it bundles the explorer function, writing the files into the bundle (`tsx web/build.ts <dir>`).
 *
 * The demo clients the page offers are taken from functions/oauth/demo-clients.ts at build time (ids, names,
 * registered scopes and the published secrets of the CCRI's three clients and the patient-bound one); the writer's
 * secret is never in the page: the person who started the API types it in.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { contentTypeOf } from '../functions/explorer/content-types';
import type { ExplorerAssets } from '../functions/explorer/handler';
import { CCRI_DEMO_CLIENTS, DEFAULT_WRITER_CLIENT_ID, DEMO_PATIENT_CLIENT, WRITER_SCOPE } from '../functions/oauth/demo-clients';

const here = dirname(fileURLToPath(import.meta.url));

/** What the page knows of a demo client. `clientSecret` is absent for the writer (never published). */
export interface PageDemoClient {
  clientId: string;
  clientSecret?: string;
  name: string;
  scope: string;
  patient?: string;
}

export function pageDemoClients(env: Record<string, string | undefined> = process.env): PageDemoClient[] {
  return [
    ...[...CCRI_DEMO_CLIENTS, DEMO_PATIENT_CLIENT].map(({ clientId, clientSecret, name, scope, patient }) => ({
      clientId,
      clientSecret,
      name,
      scope,
      ...(patient ? { patient } : {}),
    })),
    { clientId: env.CCRI_WRITER_CLIENT_ID || DEFAULT_WRITER_CLIENT_ID, name: 'Writer (read-write demo client)', scope: WRITER_SCOPE },
  ];
}

export async function buildExplorerAssets(env: Record<string, string | undefined> = process.env): Promise<ExplorerAssets> {
  const result = await build({
    entryPoints: [join(here, 'src', 'main.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    define: { __DEMO_CLIENTS__: JSON.stringify(pageDemoClients(env)) },
    logLevel: 'silent',
  });
  const assets: Record<string, { body: string; contentType: string }> = {
    'app.js': { body: result.outputFiles[0]!.text, contentType: contentTypeOf('.js') },
  };
  for (const name of ['index.html', 'app.css']) {
    assets[name] = { body: readFileSync(join(here, name), 'utf8'), contentType: contentTypeOf(extname(name)) };
  }
  return assets;
}

/** `tsx web/build.ts <dir>`: writes the assets into <dir>. */
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = process.argv[2];
  if (!out) {
    console.error('usage: tsx web/build.ts <output folder>');
    process.exit(2);
  }
  const assets = await buildExplorerAssets();
  mkdirSync(out, { recursive: true });
  for (const [name, asset] of Object.entries(assets)) writeFileSync(join(out, name), asset.body);
}
