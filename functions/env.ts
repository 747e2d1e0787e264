/** Configuration from the Lambda environment, read once per container by each function's `config.ts`. */

/** The value of a variable the function cannot run without; throws at init, naming it, when it is missing or empty. */
export function requiredEnv(name: string, env: Record<string, string | undefined> = process.env): string {
  const value = env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}
