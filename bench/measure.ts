/** Small measuring tools for the benchmarks: every figure is reported beside a floor measured in the same run. */

export interface Figure {
  /** e.g. `P2 authorizer handler (warm)` */
  name: string;
  value: number;
  floor: number;
  /** value / floor (or, where the target is an absolute overhead, value - floor is also given in `overhead`). */
  ratio: number;
  iterations: number;
  units: string;
  /** What the floor is. */
  floorIs: string;
  /** The target, e.g. `<= 2x`, and whether it was met. */
  target?: string;
  met?: boolean;
  overhead?: number;
}

export function median(values: number[]): number {
  return percentile(values, 50);
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

/** Runs `fn` `warmup` times unmeasured, then `iterations` times, and returns each run's duration in ms. */
export async function timeEach(fn: () => Promise<unknown> | unknown, iterations: number, warmup = Math.ceil(iterations / 10)): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  return times;
}

/** Per-call time (ms) of `fn` measured in batches, the median batch: for operations of a few microseconds. */
export async function timePerCall(fn: () => Promise<unknown> | unknown, iterations: number, batches = 15): Promise<number> {
  const perBatch = Math.max(1, Math.floor(iterations / batches));
  for (let i = 0; i < perBatch; i++) await fn();
  const samples: number[] = [];
  for (let b = 0; b < batches; b++) {
    const start = performance.now();
    for (let i = 0; i < perBatch; i++) await fn();
    samples.push((performance.now() - start) / perBatch);
  }
  return median(samples);
}

/** Runs `fn` from `concurrency` workers until `total` calls are made; returns each call's latency and the wall time. */
/** `total` calls, `concurrency` at a time: each call's latency, the wall time, and this process's CPU (ms, all threads). */
export async function runConcurrent(fn: () => Promise<unknown>, total: number, concurrency: number): Promise<{ latencies: number[]; wallMs: number; cpuMs: number }> {
  const latencies: number[] = [];
  let issued = 0;
  const cpu = process.cpuUsage();
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (issued < total) {
        issued++;
        const t = performance.now();
        await fn();
        latencies.push(performance.now() - t);
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  return { latencies, wallMs: performance.now() - start, cpuMs: (used.user + used.system) / 1000 };
}

/**
 * Runs the measurements in turn, `rounds` times (a, b, a, b, ...), so that a change of this shared machine's load hits
 * each alike (one long run of each lets a load spike land on one side only); each one's results, in order.
 */
export async function alternating<T>(rounds: number, ...measurements: Array<() => Promise<T>>): Promise<T[][]> {
  const results = measurements.map(() => [] as T[]);
  for (let r = 0; r < rounds; r++) {
    for (const [k, measure] of measurements.entries()) results[k]!.push(await measure());
  }
  return results;
}

export function figure(
  name: string,
  value: number,
  floor: number,
  iterations: number,
  units: string,
  floorIs: string,
  target?: { ratio?: number; overhead?: number; absolute?: number },
): Figure {
  const ratio = floor > 0 ? value / floor : NaN;
  const f: Figure = { name, value: round(value), floor: round(floor), ratio: round(ratio, 3), iterations, units, floorIs };
  if (target?.ratio !== undefined) {
    f.target = `<= ${target.ratio}x`;
    f.met = ratio <= target.ratio;
  }
  if (target?.overhead !== undefined) {
    f.overhead = round(value - floor);
    f.target = `${f.target ? `${f.target}; ` : ''}<= +${target.overhead} ${units} over the floor`;
    f.met = (f.met ?? true) && value - floor <= target.overhead;
  }
  if (target?.absolute !== undefined) {
    f.target = `${f.target ? `${f.target}; ` : ''}<= ${target.absolute} ${units}`;
    f.met = (f.met ?? true) && value <= target.absolute;
  }
  return f;
}

export function round(value: number, digits = 3): number {
  const m = 10 ** digits;
  return Math.round(value * m) / m;
}

export function formatTable(figures: Figure[]): string {
  const rows = [['figure', 'value', 'floor', 'ratio', 'units', 'n', 'target', 'met']];
  for (const f of figures) {
    rows.push([f.name, String(f.value), String(f.floor), String(f.ratio), f.units, String(f.iterations), f.target ?? '', f.met === undefined ? '' : f.met ? 'yes' : 'NO']);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`).join('\n').replace(/\n/, `\n| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |\n`);
}
