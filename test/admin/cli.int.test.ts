/**
 * The operators' CLI (`npm run admin -- ...`, cli/admin.ts), spawned as a real process against the local API:
 * it gets an admin token from /oauth2/token and drives the admin API, printing tables or --json.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../support/local-api';
import { requestToken } from './support';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const TSX = resolve(ROOT, 'node_modules/.bin/tsx');
const ADMIN = { clientId: 'cli-admin', clientSecret: randomBytes(32).toString('base64url') };

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi({ seed: true, admin: ADMIN });
});

afterAll(async () => {
  await api?.close();
});

/** Runs the CLI; resolves with its exit code, stdout and stderr (never rejects). */
async function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const childEnv: Record<string, string | undefined> = {
    ...process.env,
    CCRI_API_URL: api.baseUrl,
    CCRI_ADMIN_CLIENT_ID: ADMIN.clientId,
    CCRI_ADMIN_CLIENT_SECRET: ADMIN.clientSecret,
    ...env,
  };
  try {
    const { stdout, stderr } = await run(TSX, ['cli/admin.ts', ...args], { cwd: ROOT, env: childEnv, timeout: 20_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('npm run admin', () => {
  it('creates a scope definition and lists it as a table', async () => {
    const created = await cli([
      'scopes', 'create', 'cli/labs.read', '--grant', 'Observation=sr', '--grant', 'Procedure=rs', '--description', 'Lab results',
    ]);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/^name\s+cli\/labs\.read$/m);
    const listed = await cli(['scopes', 'list']);
    expect(listed.stdout).toMatch(/^NAME\s+GRANTS\s+DESCRIPTION\s+UPDATEDAT$/m);
    expect(listed.stdout).toMatch(/cli\/labs\.read\s+Procedure:rs Observation:rs\s+Lab results/);
  });

  it('registers a client with it, printing the secret once, which then gets a token', async () => {
    const created = await cli(['--json', 'clients', 'create', '--id', 'cli-labs', '--name', 'Labs app', '--scopes', 'cli/labs.read profile']);
    expect(created.code, created.stderr).toBe(0);
    const body = JSON.parse(created.stdout) as { clientId: string; clientSecret: string; scopes: string[] };
    expect(body).toMatchObject({ clientId: 'cli-labs', scopes: ['cli/labs.read', 'profile'] });
    expect((await requestToken(api, { clientId: 'cli-labs', clientSecret: body.clientSecret })).status).toBe(200);
    const got = await cli(['clients', 'get', 'cli-labs']);
    expect(got.stdout).toMatch(/^enabled\s+true$/m);
    expect(got.stdout).not.toContain(body.clientSecret);
  });

  it('disables and rotates clients', async () => {
    const disabled = await cli(['clients', 'disable', 'cli-labs']);
    expect(disabled.stdout.trim()).toBe('cli-labs: disabled');
    const rotated = await cli(['clients', 'rotate', 'cli-labs', '--grace', '0']);
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stdout).toMatch(/^clientSecret\s+[A-Za-z0-9_-]{64}$/m);
    expect(rotated.stdout).toMatch(/^old secrets\s+no longer accepted$/m);
    const listed = await cli(['clients', 'list']);
    expect(listed.stdout).toMatch(/^cli-labs\s+Labs app\s+false\s+cli\/labs\.read profile/m);
  });

  it('refuses to delete a definition still held, then deletes it with --cascade', async () => {
    const refused = await cli(['scopes', 'delete', 'cli/labs.read']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/HTTP 409: Scope cli\/labs\.read is held by 1 client \(cli-labs\)/);
    const deleted = await cli(['scopes', 'delete', 'cli/labs.read', '--cascade']);
    expect(deleted.stdout.trim()).toBe('cli/labs.read: deleted; removed from cli-labs');
  });

  it('shows the audit trail of those changes', async () => {
    const audit = await cli(['audit']);
    expect(audit.code, audit.stderr).toBe(0);
    for (const action of ['scope.create', 'client.create', 'client.update', 'client.rotate-secret', 'scope.delete']) {
      expect(audit.stdout).toMatch(new RegExp(`cli-admin\\s+${action.replace('.', '\\.')}`));
    }
  });

  it('prints the API validation message and exits 1 on a 400', async () => {
    const bad = await cli(['scopes', 'create', 'user/Patient.read', '--grant', 'Patient=r']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/HTTP 400: The scope name "user\/Patient\.read" clashes with SMART scope syntax/);
  });

  it('exits 1 with the token error when the admin credentials are wrong', async () => {
    const denied = await cli(['clients', 'list'], { CCRI_ADMIN_CLIENT_SECRET: 'wrong' });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/token request refused: HTTP 401 invalid_client/);
  });

  it('exits 2 with the usage on an unknown command', async () => {
    const usage = await cli(['clients', 'frobnicate']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/unknown command: clients frobnicate[\s\S]*Usage: npm run admin/);
  });
});
