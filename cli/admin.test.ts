import { describe, expect, it } from 'vitest';
import { localApiUrl } from './admin';

describe('the admin CLI’s default API URL', () => {
  it.each([
    [{}, 'http://127.0.0.1:3000'],
    [{ PORT: '3001' }, 'http://127.0.0.1:3001'],
    [{ PORT: '0' }, 'http://127.0.0.1:3000'],
    [{ HOST: 'localhost', PORT: '8080' }, 'http://localhost:8080'],
    [{ HOST: '0.0.0.0', PORT: '8080' }, 'http://127.0.0.1:8080'],
    [{ HOST: '::1' }, 'http://[::1]:3000'],
  ])('follows HOST and PORT as npm start reads them: %o -> %s', (env, url) => {
    expect(localApiUrl(env)).toBe(url);
  });
});
