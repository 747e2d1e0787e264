import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { assertJava, DynamoDbLocalError, engineDir, startEngine } from './dynamodb-local';

afterEach(() => vi.unstubAllEnvs());

describe('the embedded DynamoDB Local engine manager', () => {
  it('says at once, and what to do instead, when there is no Java', () => {
    vi.stubEnv('PATH', '/nonexistent');
    expect(() => assertJava()).toThrow(DynamoDbLocalError);
    expect(() => assertJava()).toThrow(/Java 17 or later.*\n.*\n.*AWS_ENDPOINT_URL_DYNAMODB/s);
  });

  it('keeps the cache where CCRI_CACHE_DIR says, as an absolute path', () => {
    vi.stubEnv('CCRI_CACHE_DIR', 'relative/cache');
    expect(engineDir()).toMatch(/^\/.*\/relative\/cache\/dynamodb-local-1\.25\.1$/);
  });

  it('fails as soon as the engine exits, with its own words, rather than waiting for it to answer', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'ccri-badcache-'));
    try {
      mkdirSync(join(cache, 'dynamodb-local-1.25.1'));
      writeFileSync(join(cache, 'dynamodb-local-1.25.1', 'DynamoDBLocal.jar'), 'not a jar');
      writeFileSync(join(cache, 'dynamodb-local-1.25.1', '.verified'), '');
      vi.stubEnv('CCRI_CACHE_DIR', cache);
      await expect(startEngine()).rejects.toThrow(/exited during start-up:\n.*corrupt jarfile/);
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });
});
