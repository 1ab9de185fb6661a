import fs from 'node:fs';

/*
 * Reading onnxruntime's profiles for the benchmarks' `--profile`: where a graph's time goes, per operator type.
 */

/** One event of onnxruntime's profile (Chrome trace format); times in µs. */
interface TraceEvent {
  readonly cat: string;
  readonly name: string;
  readonly ts: number;
  readonly dur: number;
  readonly args: { readonly op_name?: string };
}

/**
 * Kernel ms per operator type in a profile (`trace`, a file), the first run left out as warm-up: each node at
 * its fastest run, summed per type; `total` first, then the types over 1 ms, largest first.
 */
export function kernelMsOfTrace(trace: string): Record<string, number> {
  const events = JSON.parse(fs.readFileSync(trace, 'utf8')) as TraceEvent[];
  const warmUp = events.find((e) => e.name === 'model_run');
  if (!warmUp) throw new Error(`no run in the profile ${trace}`);
  const fastest = new Map<string, { op: string; us: number }>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || e.ts < warmUp.ts + warmUp.dur) continue;
    const seen = fastest.get(e.name);
    if (!seen || e.dur < seen.us) fastest.set(e.name, { op: e.args.op_name ?? '?', us: e.dur });
  }
  const byOp = new Map<string, number>();
  for (const { op, us } of fastest.values()) byOp.set(op, (byOp.get(op) ?? 0) + us);
  const total = [...byOp.values()].reduce((a, b) => a + b, 0);
  const sorted = [...byOp].sort((a, b) => b[1] - a[1]).filter(([, us]) => us >= 1000);
  return {
    total: Math.round(total / 1000),
    ...Object.fromEntries(sorted.map(([op, us]) => [op, Math.round(us / 1000)])),
  };
}
