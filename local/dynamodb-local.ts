/**
 * The embedded DynamoDB: the official DynamoDB Local engine (1.25.1), taken from the npm registry tarball of
 * amplify-dynamodb-simulator@2.9.30 WITHOUT that package's dependencies: `npm pack` fetches only the tarball, whose
 * sha512 we check against the pinned integrity, and we extract only its `emulator/` folder into a git-ignored
 * cache. The engine runs as a child process on a free port, in memory unless a data dir is given, and dies with us.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const PACKAGE = 'amplify-dynamodb-simulator@2.9.30';
const TARBALL_INTEGRITY =
  'sha512-xTeeRLvzEfqyd5lh3bH4c0kHvSHHmmhD5ZDsHFKAQ5g2Zl6JqlFdutaQhCLHzxEp6Ry1o7TB6niIoXuQAnSewQ==';

/** Where the engine is cached: CCRI_CACHE_DIR or `.cache/` at the project root. */
export function engineDir(): string {
  const root = resolve(process.env.CCRI_CACHE_DIR || resolve(import.meta.dirname, '..', '.cache'));
  return join(root, 'dynamodb-local-1.25.1');
}

/** The DynamoDB endpoint configured by the user (then no engine is started), if any. */
export function configuredEndpoint(): string | undefined {
  return process.env.AWS_ENDPOINT_URL_DYNAMODB || process.env.DYNAMODB_ENDPOINT || undefined;
}

export class DynamoDbLocalError extends Error {
  override name = 'DynamoDbLocalError';
}

/** Makes sure the engine is in the cache: downloads and verifies it once. Returns the engine folder. */
export function ensureEngine(log: (line: string) => void = () => {}): string {
  const dir = engineDir();
  if (existsSync(join(dir, 'DynamoDBLocal.jar')) && existsSync(join(dir, '.verified'))) return dir;
  log(`Fetching DynamoDB Local from the npm registry (${PACKAGE}, ~55 MB, once)...`);
  const work = mkdtempSync(join(tmpdir(), 'ccri-ddb-'));
  try {
    const pack = spawnSync('npm', ['pack', PACKAGE, '--silent', '--pack-destination', work], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (pack.status !== 0) {
      throw new DynamoDbLocalError(`npm pack ${PACKAGE} failed: ${pack.stderr.trim()}`);
    }
    const tarball = join(work, pack.stdout.trim().split('\n').pop()!);
    const digest = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
    if (digest !== TARBALL_INTEGRITY) {
      throw new DynamoDbLocalError(`integrity check failed for ${PACKAGE}: got ${digest}`);
    }
    const staging = `${dir}.partial`;
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    const untar = spawnSync('tar', ['xzf', tarball, '-C', staging, '--strip-components=2', 'package/emulator'], {
      encoding: 'utf8',
    });
    if (untar.status !== 0) throw new DynamoDbLocalError(`extracting the engine failed: ${untar.stderr}`);
    writeFileSync(join(staging, '.verified'), `${PACKAGE} ${TARBALL_INTEGRITY}\n`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
    return dir;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Fails at once, with what to do, when no Java 17+ runtime is on the PATH. */
export function assertJava(): void {
  const java = spawnSync('java', ['-version'], { encoding: 'utf8' });
  const text = `${java.stderr ?? ''}${java.stdout ?? ''}`;
  const major = /version "(\d+)/.exec(text)?.[1];
  if (java.error || java.status !== 0 || !major || Number(major) < 17) {
    throw new DynamoDbLocalError(
      'Java 17 or later is needed to run the embedded DynamoDB Local engine, and none was found on the PATH.\n' +
        'Install it (Debian/Ubuntu: apt-get install -y openjdk-17-jre-headless), or point the project at another\n' +
        'DynamoDB instead: AWS_ENDPOINT_URL_DYNAMODB=http://localhost:8000 (Docker amazon/dynamodb-local, LocalStack, ...).',
    );
  }
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface RunningEngine {
  endpoint: string;
  stop(): Promise<void>;
}

export interface EngineOptions {
  /** Keep data in this folder across restarts; in memory when absent. */
  dataDir?: string;
  log?: (line: string) => void;
}

/**
 * Starts DynamoDB Local on a free port and waits until it answers. The java process runs under a tiny shell
 * watchdog that reads our stdin pipe: when this process dies in any way (even SIGKILL) the pipe closes and the
 * watchdog kills java, so no orphan engine is left behind.
 */
/** An origin no browser can have (RFC 6761 reserves `.invalid`): the engine's CORS allow-list names only it. */
export const NO_BROWSER_ORIGIN = 'https://no-browser-origin.invalid';

export async function startEngine(options: EngineOptions = {}): Promise<RunningEngine> {
  assertJava();
  const dir = ensureEngine(options.log);
  const port = await freePort();
  const storage = options.dataDir ? ['-dbPath', resolve(options.dataDir)] : ['-inMemory'];
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const java = [
    'java',
    '-Xms64m',
    '-XX:+UseSerialGC',
    `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
    '-jar',
    join(dir, 'DynamoDBLocal.jar'),
    '-port',
    String(port),
    // No browser origin may call the engine (its default is `*`): a web page the developer visits could otherwise
    // read and write every table, as the engine accepts any credentials. The engine has no option to listen on
    // loopback only: it listens on every interface (docs/local-emulators.md says what that means).
    '-cors',
    NO_BROWSER_ORIGIN,
    '-disableTelemetry',
    ...storage,
  ]
    .map(shellQuote)
    .join(' ');
  // The watchdog: java in the background; a reader of our stdin pipe (fd 3: a background job's own stdin would be
  // /dev/null) kills it when the pipe closes; the shell exits with java, so a failed start is seen at once.
  const log = join(tmpdir(), `ccri-dynamodb-local-${port}.log`);
  const script =
    `exec 3<&0; ${java} </dev/null >/dev/null 2>${shellQuote(log)} & J=$!; ` +
    `( cat <&3 >/dev/null; kill $J 2>/dev/null ) & W=$!; ` +
    `trap 'kill $J 2>/dev/null' TERM INT; wait $J; S=$?; kill $W 2>/dev/null; exit $S`;
  const child: ChildProcess = spawn('sh', ['-c', script], { stdio: ['pipe', 'ignore', 'ignore'], detached: true, cwd: options.dataDir ? resolve(options.dataDir) : dir });
  const endpoint = `http://127.0.0.1:${port}`;
  let exited = false;
  const exitedPromise = new Promise<void>((done) => child.once('exit', () => ((exited = true), done())));
  try {
    await waitUntilAnswering(endpoint, () => exited);
  } catch (err) {
    process.kill(-child.pid!, 'SIGTERM');
    const output = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').slice(-5).join('\n') : '';
    throw new DynamoDbLocalError(`${(err as Error).message}${output ? `\n${output}` : ''}`);
  }
  return {
    endpoint,
    async stop() {
      if (exited) return;
      child.stdin?.end();
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        /* already gone */
      }
      await Promise.race([exitedPromise, new Promise((r) => setTimeout(r, 5000))]);
    },
  };
}

async function waitUntilAnswering(endpoint: string, exited: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited()) throw new DynamoDbLocalError('DynamoDB Local exited during start-up:');
    try {
      const res = await fetch(endpoint, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-amz-json-1.0',
          'X-Amz-Target': 'DynamoDB_20120810.ListTables',
          Authorization: 'AWS4-HMAC-SHA256 Credential=local/20260101/eu-west-2/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
        },
        body: '{}',
      });
      if (res.status < 500) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new DynamoDbLocalError(`DynamoDB Local did not answer on ${endpoint} within ${timeoutMs / 1000} s`);
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
