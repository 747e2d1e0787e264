/**
 * The operators' command line for the admin API: `npm run admin -- <command>` (see `--help`). It gets a token with
 * the admin scope from <url>/oauth2/token (client credentials: CCRI_ADMIN_CLIENT_ID / CCRI_ADMIN_CLIENT_SECRET or
 * --client-id / --client-secret) and calls <url>/admin/... . Output is a table or key/value text, or the API's JSON
 * with --json. Exit code 0 on success, 1 when the API refused, 2 on a usage error.
 *
 * Secrets: a new client secret is printed once (create, rotate), as the API returns it; nothing else is.
 */
import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';

import { ADMIN_SCOPE } from '../functions/scopes/admin';

const USAGE = `Usage: npm run admin -- [options] <command> [arguments]

Options:
  --url <url>              API base URL (env CCRI_API_URL; default: the local API, http://$HOST:$PORT, as
                           npm start reads them: http://127.0.0.1:3000; npm start prints the exact command)
  --client-id <id>         admin client id (env CCRI_ADMIN_CLIENT_ID)
  --client-secret <secret> admin client secret (env CCRI_ADMIN_CLIENT_SECRET; prefer the env variable)
  --json                   print the API's JSON instead of text

Clients:
  clients list
  clients get <clientId>
  clients create --name <name> --scopes "<scope> ..." [--id <clientId>] [--patient <id>]
                 [--auth-methods client_secret_basic,client_secret_post,private_key_jwt] [--disabled]
                 [--public-key <public.pem> --kid <kid> | --jwks-uri <url>]   keys for private_key_jwt
  clients update <clientId> [--name <name>] [--scopes "<scope> ..."] [--patient <id> | --unbind-patient]
  clients enable <clientId>
  clients disable <clientId>
  clients rotate <clientId> [--grace <seconds>]   old secret keeps working for the grace period
  clients delete <clientId>

Scope definitions (named scopes over resource types; permissions are letters of c r u d s):
  scopes list
  scopes get <name>
  scopes create <name> --grant <Type>=<perms> [--grant ...] [--description <text>]
  scopes update <name> --grant <Type>=<perms> [--grant ...] [--description <text>]
  scopes delete <name> [--cascade]                 --cascade also removes it from the clients holding it

Audit:
  audit [--from yyyy-mm-dd] [--to yyyy-mm-dd] [--limit n]

Example:
  npm run admin -- scopes create ccri/medications.read --grant MedicationStatement=rs --grant MedicationRequest=rs
  npm run admin -- clients create --name "Meds app" --scopes ccri/medications.read
`;

export interface CliIo {
  env: Record<string, string | undefined>;
  out: (text: string) => void;
  err: (text: string) => void;
  fetch?: typeof fetch;
}

class UsageError extends Error {}
class ApiError extends Error {}

/** Runs one command; resolves to the exit code. */
export async function runAdminCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    return await run(argv, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`${err.message}\n\n${USAGE}`);
      return 2;
    }
    if (err instanceof ApiError) {
      io.err(err.message);
      return 1;
    }
    io.err(`error: ${(err as Error).message}`);
    return 1;
  }
}

async function run(argv: readonly string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        url: { type: 'string' },
        'client-id': { type: 'string' },
        'client-secret': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        name: { type: 'string' },
        scopes: { type: 'string' },
        id: { type: 'string' },
        patient: { type: 'string' },
        'unbind-patient': { type: 'boolean' },
        'auth-methods': { type: 'string' },
        'public-key': { type: 'string' },
        kid: { type: 'string' },
        'jwks-uri': { type: 'string' },
        disabled: { type: 'boolean' },
        grace: { type: 'string' },
        grant: { type: 'string', multiple: true },
        description: { type: 'string' },
        cascade: { type: 'boolean' },
        from: { type: 'string' },
        to: { type: 'string' },
        limit: { type: 'string' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values: opt, positionals } = parsed;
  if (opt.help || positionals.length === 0) {
    io.out(USAGE);
    return 0;
  }
  const [group, action, target] = positionals;
  const api = new AdminApi(
    (opt.url ?? io.env.CCRI_API_URL ?? localApiUrl(io.env)).replace(/\/+$/, ''),
    opt['client-id'] ?? io.env.CCRI_ADMIN_CLIENT_ID,
    opt['client-secret'] ?? io.env.CCRI_ADMIN_CLIENT_SECRET,
    io.fetch ?? fetch,
  );
  const print = (body: unknown, text: () => string) => io.out(opt.json ? JSON.stringify(body, null, 2) : text());
  const need = (value: string | undefined, what: string) => {
    if (!value) throw new UsageError(`missing ${what}`);
    return value;
  };
  const clientPath = () => `/admin/clients/${encodeURIComponent(need(target, '<clientId>'))}`;
  const scopePath = () => `/admin/scopes/${encodeURIComponent(need(target, '<name>'))}`;

  if (group === 'clients') {
    switch (action) {
      case 'list': {
        const clients: Record<string, unknown>[] = [];
        let next: string | undefined;
        do {
          const page = await api.call('GET', `/admin/clients${next === undefined ? '' : `?cursor=${encodeURIComponent(next)}`}`);
          clients.push(...page.clients);
          next = page.next;
        } while (next !== undefined);
        const body = { clients: clients.sort((a, b) => String(a.clientId).localeCompare(String(b.clientId))) };
        print(body, () => table(body.clients, ['clientId', 'name', 'enabled', 'scopes', 'patient', 'secrets']));
        return 0;
      }
      case 'get': {
        const body = await api.call('GET', clientPath());
        print(body, () => keyValues(body));
        return 0;
      }
      case 'create': {
        const request: Record<string, unknown> = { name: need(opt.name, '--name'), scopes: need(opt.scopes, '--scopes') };
        if (opt.id) request.clientId = opt.id;
        if (opt.patient) request.patient = opt.patient;
        if (opt['auth-methods']) request.authMethods = opt['auth-methods'].split(',').map((s) => s.trim());
        if (opt.disabled) request.enabled = false;
        Object.assign(request, clientKeys(opt));
        const body = await api.call('POST', '/admin/clients', request);
        print(body, () => (body.clientSecret ? `${keyValues(body)}\n\nThe client secret is shown only now: keep it safe.` : keyValues(body)));
        return 0;
      }
      case 'update': {
        const request: Record<string, unknown> = {};
        if (opt.name) request.name = opt.name;
        if (opt.scopes) request.scopes = opt.scopes;
        if (opt.patient) request.patient = opt.patient;
        if (opt['unbind-patient']) request.patient = null;
        if (opt['auth-methods']) request.authMethods = opt['auth-methods'].split(',').map((s) => s.trim());
        Object.assign(request, clientKeys(opt));
        const body = await api.call('PATCH', clientPath(), request);
        print(body, () => keyValues(body));
        return 0;
      }
      case 'enable':
      case 'disable': {
        const body = await api.call('PATCH', clientPath(), { enabled: action === 'enable' });
        print(body, () => `${body.clientId}: ${body.enabled ? 'enabled' : 'disabled'}`);
        return 0;
      }
      case 'rotate': {
        const request: Record<string, unknown> = {};
        if (opt.grace !== undefined) {
          const grace = Number(opt.grace);
          if (!Number.isInteger(grace)) throw new UsageError('--grace must be a whole number of seconds');
          request.graceSeconds = grace;
        }
        const body = await api.call('POST', `${clientPath()}/secret`, request);
        print(body, () =>
          [
            `clientId      ${body.clientId}`,
            `clientSecret  ${body.clientSecret}`,
            `old secrets   ${body.previousSecretsNotAfter ? `accepted until ${body.previousSecretsNotAfter}` : 'no longer accepted'}`,
            '',
            'The new client secret is shown only now: keep it safe.',
          ].join('\n'),
        );
        return 0;
      }
      case 'delete': {
        await api.call('DELETE', clientPath());
        print({ deleted: target }, () => `${target}: deleted`);
        return 0;
      }
    }
  }
  if (group === 'scopes') {
    switch (action) {
      case 'list': {
        const body = await api.call('GET', '/admin/scopes');
        print(body, () => table(body.scopes, ['name', 'grants', 'description', 'updatedAt']));
        return 0;
      }
      case 'get': {
        const body = await api.call('GET', scopePath());
        print(body, () => keyValues(body));
        return 0;
      }
      case 'create':
      case 'update': {
        const grants = parseGrants(opt.grant ?? []);
        const request: Record<string, unknown> = { grants };
        if (opt.description !== undefined) request.description = opt.description;
        const body =
          action === 'create'
            ? await api.call('POST', '/admin/scopes', { name: need(target, '<name>'), ...request })
            : await api.call('PUT', scopePath(), request);
        print(body, () => keyValues(body));
        return 0;
      }
      case 'delete': {
        const body = await api.call('DELETE', `${scopePath()}${opt.cascade ? '?cascade=true' : ''}`);
        print(body, () =>
          `${target}: deleted${body.removedFrom?.length ? `; removed from ${body.removedFrom.join(', ')}` : ''}`,
        );
        return 0;
      }
    }
  }
  if (group === 'audit') {
    const query = new URLSearchParams();
    if (opt.from) query.set('from', opt.from);
    if (opt.to) query.set('to', opt.to);
    if (opt.limit) query.set('limit', opt.limit);
    const body = await api.call('GET', `/admin/audit${query.size ? `?${query}` : ''}`);
    print(body, () => table(body.records, ['at', 'actor', 'action', 'target', 'summary']));
    return 0;
  }
  throw new UsageError(`unknown command: ${positionals.join(' ')}`);
}

/** `Type=perms` items into a grants object. */
function parseGrants(items: readonly string[]): Record<string, string> {
  if (items.length === 0) throw new UsageError('give at least one --grant <Type>=<perms>, e.g. --grant Patient=rs');
  const grants: Record<string, string> = {};
  for (const item of items) {
    const match = /^([^=\s]+)=([^=\s]+)$/.exec(item);
    if (!match) throw new UsageError(`--grant ${item}: expected <Type>=<perms>, e.g. MedicationStatement=rs`);
    grants[match[1]!] = match[2]!;
  }
  return grants;
}

/** The admin API with a token fetched once per run. */
class AdminApi {
  private token: string | undefined;

  constructor(
    private readonly baseUrl: string,
    private readonly clientId: string | undefined,
    private readonly clientSecret: string | undefined,
    private readonly fetcher: typeof fetch,
  ) {}

  async call(method: string, path: string, body?: unknown): Promise<any> {
    const token = await this.getToken();
    const response = await this.send(`${this.baseUrl}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${token}`,
        Accept: 'application/json',
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const parsed = text ? safeJson(text) : undefined;
    if (!response.ok) {
      const detail =
        parsed?.issue?.map((i: { diagnostics?: string }) => i.diagnostics).join('; ') ?? parsed?.message ?? text.slice(0, 300);
      throw new ApiError(`${method} ${path}: HTTP ${response.status}${detail ? `: ${detail}` : ''}`);
    }
    return parsed ?? {};
  }

  private async getToken(): Promise<string> {
    if (this.token) return this.token;
    if (!this.clientId || !this.clientSecret) {
      throw new UsageError('admin credentials missing: set CCRI_ADMIN_CLIENT_ID and CCRI_ADMIN_CLIENT_SECRET (or the flags)');
    }
    const basic = Buffer.from(`${encodeURIComponent(this.clientId)}:${encodeURIComponent(this.clientSecret)}`).toString('base64');
    const response = await this.send(`${this.baseUrl}/oauth2/token`, {
      method: 'POST',
      headers: { Authorization: `Basic ${basic}`, 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: ADMIN_SCOPE }).toString(),
    });
    const body = safeJson(await response.text());
    if (!response.ok || typeof body?.access_token !== 'string') {
      throw new ApiError(
        `token request refused: HTTP ${response.status}${body?.error ? ` ${body.error}: ${body.error_description ?? ''}` : ''}`,
      );
    }
    this.token = body.access_token as string;
    return this.token;
  }

  private async send(url: string, init: RequestInit): Promise<Response> {
    try {
      return await this.fetcher(url, init);
    } catch (err) {
      throw new ApiError(`cannot reach ${this.baseUrl}: ${(err as Error).cause ?? (err as Error).message}`);
    }
  }
}

function safeJson(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A value as one table cell. */
function cell(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v === 'object' && v !== null && Object.keys(v).length <= 1)) {
      if (value.every((v) => typeof v === 'object' && v !== null)) {
        return `${value.length}${value.some((v) => v.notAfter) ? ' (rotating)' : ''}`;
      }
    }
    return value.map(String).join(' ');
  }
  if (typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${k}:${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
      .join(' ');
  }
  return String(value);
}

/** Rows as an aligned text table. */
export function table(rows: ReadonlyArray<Record<string, unknown>>, columns: readonly string[]): string {
  if (rows.length === 0) return '(none)';
  const cells = rows.map((row) => columns.map((c) => cell(row[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: readonly string[]) => values.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...cells.map(line)].join('\n');
}

/** An object as aligned `key  value` lines. */
export function keyValues(obj: Record<string, unknown>): string {
  const keys = Object.keys(obj);
  const width = Math.max(...keys.map((k) => k.length));
  return keys.map((k) => `${k.padEnd(width)}  ${cell(obj[k])}`).join('\n');
}

/**
 * The URL `npm start` listens on, from the same HOST and PORT it reads (local/start.ts): `PORT=3001 npm start` and
 * `PORT=3001 npm run admin -- clients list` meet. With PORT=0 the port is picked at start: use the command the banner
 * prints (CCRI_API_URL=...).
 */
export function localApiUrl(env: Record<string, string | undefined>): string {
  const host = env.HOST && env.HOST !== '0.0.0.0' && env.HOST !== '::' ? env.HOST : '127.0.0.1';
  const port = env.PORT && env.PORT !== '0' ? env.PORT : '3000';
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const code = await runAdminCli(process.argv.slice(2), {
    env: process.env,
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
  });
  process.exitCode = code;
}

/**
 * private_key_jwt keys from the options: `--public-key <PEM file> --kid <kid>` (e.g. made with
 * `openssl pkey -in key.pem -pubout`) becomes an inline JWKS of that one key; `--jwks-uri <url>` registers the URL.
 */
function clientKeys(opt: { 'public-key'?: string; kid?: string; 'jwks-uri'?: string }): Record<string, unknown> {
  if (opt['jwks-uri']) return { jwksUri: opt['jwks-uri'] };
  if (!opt['public-key']) return {};
  if (!opt.kid) throw new UsageError('--public-key needs --kid <kid> (the kid your assertions will name)');
  const jwk = createPublicKey(readFileSync(opt['public-key'], 'utf8')).export({ format: 'jwk' });
  const alg = jwk.kty === 'EC' ? 'ES384' : 'RS384';
  return { jwks: { keys: [{ ...jwk, kid: opt.kid, alg, use: 'sig' }] } };
}
