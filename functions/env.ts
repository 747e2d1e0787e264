/**
 * Configuration from the Lambda environment: THE helpers every function's `config.ts` reads its variables with,
 * once per container, at init (never `process.env` inline, never at import). One naming scheme: variables are
 * UPPER_SNAKE_CASE, named by what they hold (`CLIENTS_TABLE_NAME`, `TOKEN_LIFETIME_SECONDS`), the CDK stacks set
 * them (lib/, names shared through contract/environment.ts where both sides spell them). A value that is set but
 * malformed throws at init, naming the variable and what it must be: a misconfigured function fails to start
 * instead of running with a default nobody chose.
 */

export type Env = Readonly<Record<string, string | undefined>>;

/** The value of a variable the function cannot run without; throws at init, naming it, when it is missing or empty. */
export function requiredEnv(name: string, env: Env = process.env): string {
  const value = env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

/** The trimmed value, or undefined when the variable is unset or blank. */
export function optionalEnv(name: string, env: Env = process.env): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

/** An integer within [min, max], or `fallback` when unset or blank; anything else throws, naming the bounds. */
export function intEnv(name: string, bounds: { min: number; max: number; fallback: number }, env: Env = process.env): number {
  const raw = optionalEnv(name, env);
  if (raw === undefined) return bounds.fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < bounds.min || value > bounds.max) {
    throw new Error(`${name} must be an integer from ${bounds.min} to ${bounds.max}, not ${raw}`);
  }
  return value;
}

/** `true` or `false` (any case), or `fallback` when unset or blank; anything else throws. */
export function booleanEnv(name: string, fallback: boolean, env: Env = process.env): boolean {
  const raw = optionalEnv(name, env)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (raw !== 'true' && raw !== 'false') throw new Error(`${name} must be "true" or "false"`);
  return raw === 'true';
}

/** A comma-separated list, items trimmed, empty items dropped; [] when unset. */
export function listEnv(name: string, env: Env = process.env): string[] {
  return (env[name] ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** A URL-like value with trailing slashes removed, or undefined when unset or blank. */
export function baseUrlEnv(name: string, env: Env = process.env): string | undefined {
  return optionalEnv(name, env)?.replace(/\/+$/, '');
}
