/**
 * The functions as the Lambda runtime runs them: each `functions/<name>/index.ts` bundled with the deployed esbuild
 * settings (bench/cold-start.ts ESBUILD, from lib/constructs/function.ts BUNDLING), loaded with the environment the
 * template (plus `--env-vars`) gives it, and its exported `handler` called with an emulator's event.
 *
 * KMS cannot run here, and a bundle carries its own copy of the AWS SDK (aws-sdk-client-mock cannot reach it), so
 * the bundles talk to a small KMS endpoint over HTTP (AWS_ENDPOINT_URL_KMS, the SDK's own setting) that signs for
 * real with an RSA key: RSASSA-PKCS1-v1_5 over the SHA-256 digest the token function sends (RFC 8017 §8.2.1), and
 * GetPublicKey returns the key's real DER SubjectPublicKeyInfo. It speaks the KMS JSON protocol (X-Amz-Target
 * TrentService.Sign / TrentService.GetPublicKey) and nothing else.
 */
import { constants, createPublicKey, generateKeyPairSync, privateEncrypt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { ESBUILD } from '../../bench/cold-start';

const ROOT = resolve(import.meta.dirname, '../..');

/** DigestInfo DER prefix for SHA-256 (RFC 8017 §9.2 note 1). */
const SHA256_DIGEST_INFO = Buffer.from('3031300d060960864801650304020105000420', 'hex');

export interface KmsEndpoint {
  url: string;
  keyArn: string;
  close(): Promise<void>;
}

export async function startKmsEndpoint(keyArn = 'arn:aws:kms:us-east-1:123456789012:key/0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9'): Promise<KmsEndpoint> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, string>;
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(body));
      };
      if (input.KeyId !== keyArn) return reply(400, { __type: 'NotFoundException', message: `no key ${input.KeyId}` });
      if (target === 'TrentService.Sign') {
        const digest = Buffer.from(input.Message!, 'base64');
        if (input.MessageType !== 'DIGEST' || input.SigningAlgorithm !== 'RSASSA_PKCS1_V1_5_SHA_256' || digest.length !== 32) {
          return reply(400, { __type: 'ValidationException', message: 'expected a SHA-256 DIGEST for RSASSA_PKCS1_V1_5_SHA_256' });
        }
        const signature = privateEncrypt({ key: privateKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([SHA256_DIGEST_INFO, digest]));
        return reply(200, { KeyId: keyArn, Signature: signature.toString('base64'), SigningAlgorithm: input.SigningAlgorithm });
      }
      if (target === 'TrentService.GetPublicKey') {
        const der = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
        return reply(200, {
          KeyId: keyArn,
          PublicKey: der.toString('base64'),
          KeySpec: 'RSA_2048',
          KeyUsage: 'SIGN_VERIFY',
          SigningAlgorithms: ['RSASSA_PKCS1_V1_5_SHA_256'],
        });
      }
      return reply(400, { __type: 'UnknownOperationException', message: target });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    keyArn,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

export type Handler = (event: unknown, context?: unknown) => Promise<any>;

export interface Bundles {
  /**
   * Loads a fresh instance of `functions/<name>` (a cold start) with `env` set while its module initialises (where
   * the functions read their configuration); `undefined` removes a variable.
   */
  load(name: string, env: Record<string, string | undefined>): Promise<Handler>;
  dispose(): void;
}

export async function buildBundles(names: readonly string[]): Promise<Bundles> {
  const dir = mkdtempSync(join(tmpdir(), 'ccri-emulators-'));
  await Promise.all(
    names.map((name) => build({ ...ESBUILD, entryPoints: [join(ROOT, 'functions', name, 'index.ts')], outfile: join(dir, `${name}.mjs`) })),
  );
  let instance = 0;
  return {
    async load(name, env) {
      const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
      const apply = (values: Record<string, string | undefined>) => {
        for (const [k, v] of Object.entries(values)) {
          if (v === undefined) delete process.env[k];
          else process.env[k] = v;
        }
      };
      apply(env);
      try {
        const url = `${pathToFileURL(join(dir, `${name}.mjs`)).href}?instance=${++instance}`;
        const mod = (await import(/* @vite-ignore */ url)) as { handler: Handler };
        return mod.handler;
      } finally {
        apply(saved);
      }
    },
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
