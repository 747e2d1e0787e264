/**
 * The local console, for people (`npm start` only; on AWS every line stays the JSON CloudWatch and Logs Insights
 * query). The functions log one JSON object per line (Powertools Logger), the audit trail one `{"auditEvent": ...}`
 * line per decision, and the local gateway one access-log line per request; interleaved raw, they are hard to read.
 * Here each becomes one aligned line:
 *
 *   12:03:04.123 INFO  token     token issued  clientId=ccri-demo-writer scope="system/*.read" requestId=4f1c...
 *   12:03:04.130 AUDIT authorizer 0 token accepted  client=ccri-demo-writer
 *   12:03:04.131 HTTP            GET /STU3/Patient/1 -> 200 (7 ms)
 *
 * Nothing is added to what the functions chose to log (no bodies, no secrets): fields are shown as they were, only
 * laid out. `CCRI_LOG_FORMAT=json npm start` keeps the raw lines (to pipe into jq).
 */

const LEVEL_WIDTH = 5;
const SOURCE_WIDTH = 10;
/** Fields of a Powertools log line shown in the prefix, or dropped as noise on a laptop. */
const SHOWN_APART = new Set(['level', 'message', 'timestamp', 'service', 'sampling_rate', 'xray_trace_id', 'cold_start', 'function_name', 'function_memory_size', 'function_arn', 'function_request_id']);

const time = (iso: unknown): string => {
  const date = typeof iso === 'string' ? new Date(iso) : new Date();
  return (Number.isNaN(date.getTime()) ? new Date() : date).toISOString().slice(11, 23);
};

const field = (key: string, value: unknown): string => {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return `${key}=${/[\s"]/.test(text ?? '') ? JSON.stringify(text) : text}`;
};

const line = (at: string, label: string, source: string, text: string) =>
  `${at} ${label.padEnd(LEVEL_WIDTH)} ${source.padEnd(SOURCE_WIDTH)} ${text}`.trimEnd();

/** One raw console line as a person reads it; a line that is none of the known shapes comes back unchanged. */
export function formatLogLine(raw: string, now: () => Date = () => new Date()): string {
  const text = raw.trim();
  if (!text.startsWith('{')) return raw;
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return raw;
  }
  if (parsed === null || typeof parsed !== 'object') return raw;
  const audit = parsed.auditEvent as
    | { recorded?: string; outcome?: string; outcomeDesc?: string; source?: { identifier?: { value?: string } }; agent?: { userId?: { value?: string } }[] }
    | undefined;
  if (audit && typeof audit === 'object') {
    const source = String(audit.source?.identifier?.value ?? '').replace(/^ccri-/, '');
    const client = audit.agent?.find((a) => a.userId?.value)?.userId?.value;
    return line(time(audit.recorded), 'AUDIT', source, `${audit.outcome ?? '?'} ${audit.outcomeDesc ?? ''}${client ? `  ${field('client', client)}` : ''}`);
  }
  if (typeof parsed.level !== 'string' || typeof parsed.message !== 'string') return raw;
  const rest = Object.entries(parsed)
    .filter(([key]) => !SHOWN_APART.has(key))
    .map(([key, value]) => field(key, value))
    .join(' ');
  const source = String(parsed.service ?? '').replace(/^ccri-/, '');
  return line(time(parsed.timestamp ?? now().toISOString()), parsed.level, source, `${parsed.message}${rest ? `  ${rest}` : ''}`);
}

/** An access-log line of the local gateway, in the same columns. */
export function formatAccessLine(entry: { method: string; path: string; status: number; ms: number }, now: () => Date = () => new Date()): string {
  return line(time(now().toISOString()), 'HTTP', '', `${entry.method} ${entry.path} -> ${entry.status} (${entry.ms} ms)`);
}

/**
 * Formats every line written to stdout and stderr from now on (the functions in this process log through them).
 * Returns a function that restores the raw streams.
 */
export function installPrettyConsole(): () => void {
  const restore: (() => void)[] = [];
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
    let pending = '';
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      if (typeof chunk !== 'string' && !(chunk instanceof Uint8Array)) return write(chunk, ...rest);
      pending += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop()!;
      const callback = rest.find((r): r is () => void => typeof r === 'function');
      if (lines.length === 0) {
        if (callback) process.nextTick(callback);
        return true;
      }
      return callback ? write(`${lines.map((l) => formatLogLine(l)).join('\n')}\n`, callback) : write(`${lines.map((l) => formatLogLine(l)).join('\n')}\n`);
    }) as typeof stream.write;
    restore.push(() => {
      stream.write = write as typeof stream.write;
    });
  }
  return () => restore.forEach((r) => r());
}
