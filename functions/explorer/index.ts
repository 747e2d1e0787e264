// Lambda entry of the explorer function: the web explorer's assets, built by web/build.ts into the `explorer/`
// folder beside this bundle when CDK bundles the function (lib/constructs/api-functions.ts).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createExplorerHandler, type ExplorerAssets } from './handler';
import { contentTypeOf } from './content-types';

const folder = join(dirname(fileURLToPath(import.meta.url)), 'explorer');

export const handler = createExplorerHandler({
  assets: async () => {
    const assets: Record<string, { body: string; contentType: string }> = {};
    for (const name of readdirSync(folder)) {
      assets[name] = { body: readFileSync(join(folder, name), 'utf8'), contentType: contentTypeOf(extname(name)) };
    }
    return assets as ExplorerAssets;
  },
});
