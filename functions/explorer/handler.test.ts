import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY, createExplorerHandler } from './handler';

const assets = {
  'index.html': { body: '<!doctype html><title>x</title>', contentType: 'text/html; charset=utf-8' },
  'app.js': { body: 'console.log(1)', contentType: 'text/javascript; charset=utf-8' },
};
const handler = createExplorerHandler({ assets: async () => assets });

function event(resource: string, options: { asset?: string; path?: string; method?: string; headers?: Record<string, string> } = {}): APIGatewayProxyEvent {
  return {
    resource,
    httpMethod: options.method ?? 'GET',
    pathParameters: options.asset === undefined ? null : { asset: options.asset },
    headers: options.headers ?? {},
    requestContext: { path: options.path ?? '/prod/' },
  } as unknown as APIGatewayProxyEvent;
}

describe('the explorer function', () => {
  it('serves the page at the root and each asset under /explorer/, with the strict headers', async () => {
    const page = await handler(event('/'));
    expect(page).toMatchObject({ statusCode: 200, body: assets['index.html'].body });
    expect(page.headers).toMatchObject({
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Security-Policy': CONTENT_SECURITY_POLICY,
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
      'Referrer-Policy': 'no-referrer',
    });
    const js = await handler(event('/explorer/{asset}', { asset: 'app.js' }));
    expect(js).toMatchObject({ statusCode: 200, body: 'console.log(1)', headers: { 'Content-Type': 'text/javascript; charset=utf-8' } });
  });

  it('redirects the stage root without its slash, so that the page relative URLs resolve under the stage', async () => {
    const res = await handler(event('/', { path: '/prod' }));
    expect(res).toMatchObject({ statusCode: 301, headers: { Location: '/prod/' } });
  });

  it('answers 404 for unknown names, the page by its file name, inherited property names and other methods', async () => {
    for (const e of [
      event('/explorer/{asset}', { asset: 'nope.js' }),
      event('/explorer/{asset}', { asset: 'index.html' }),
      event('/explorer/{asset}', { asset: 'constructor' }),
      event('/explorer/{asset}', { asset: '__proto__' }),
      event('/', { method: 'POST' }),
    ]) {
      const res = await handler(e);
      expect(res.statusCode).toBe(404);
      expect(res.headers?.['Content-Security-Policy']).toBe(CONTENT_SECURITY_POLICY);
    }
  });

  it('answers 304 to a matching If-None-Match', async () => {
    const first = await handler(event('/explorer/{asset}', { asset: 'app.js' }));
    const etag = String(first.headers!.ETag);
    const again = await handler(event('/explorer/{asset}', { asset: 'app.js', headers: { 'If-None-Match': etag } }));
    expect(again).toMatchObject({ statusCode: 304, body: '' });
  });

  it('tries the build again after a failure instead of remembering it', async () => {
    let calls = 0;
    const flaky = createExplorerHandler({
      assets: async () => {
        if (++calls === 1) throw new Error('build failed');
        return assets;
      },
    });
    await expect(flaky(event('/'))).rejects.toThrow('build failed');
    expect((await flaky(event('/'))).statusCode).toBe(200);
  });
});
