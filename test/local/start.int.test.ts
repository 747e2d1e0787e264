import { spawn, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');

function javaProcesses(): string[] {
  const ps = spawnSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  return ps.stdout.split('\n').filter((line) => line.includes('DynamoDBLocal.jar'));
}

describe('npm start', () => {
  it('serves the CapabilityStatement on its own embedded DynamoDB and leaves no java process when stopped', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', CCRI_ACCESS_LOG: '0' };
    delete env.AWS_ENDPOINT_URL_DYNAMODB;
    delete env.DYNAMODB_ENDPOINT;
    const child = spawn(process.execPath, ['--import', 'tsx', 'local/start.ts'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stderr.on('data', (d) => (output += d));
    const fhirBase = await new Promise<string>((ok, fail) => {
      child.stdout.on('data', (d) => {
        output += d;
        const m = /is up at (http:\/\/\S+)/.exec(output);
        if (m) ok(m[1]!);
      });
      child.once('exit', (code) => fail(new Error(`npm start exited with ${code}: ${output}`)));
    });
    const enginePort = /DynamoDB\s+http:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1];
    const engine = () => javaProcesses().filter((line) => line.includes(`-port ${enginePort} `));
    expect(enginePort).toBeDefined();
    expect(engine()).toHaveLength(1);
    expect(output).toContain('a24a4d9f-c264-4af7-a8e5-248c24a6b707');
    expect(output).toMatch(/curl -s -X POST http:\/\/127\.0\.0\.1:\d+\/oauth2\/token/);

    const res = await fetch(`${fhirBase}/metadata`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ resourceType: 'CapabilityStatement', fhirVersion: '3.0.1' });

    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    await new Promise((r) => setTimeout(r, 500));
    expect(engine()).toEqual([]);
  }, 60_000);
});
