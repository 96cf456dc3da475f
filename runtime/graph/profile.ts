/**
 * Per-op timing of plan runs (`modelhost run --profile`). While a Profiler is
 * active on this thread, every kernel call of every plan (function bodies,
 * While/If branches included) is timed; each record holds the *self* time of
 * a node (its kernel's wall time minus the kernels it ran inside, e.g. a
 * While's body), so the records add up to the whole run and no time is
 * counted twice. Kernels are synchronous (WASM, host loops), so wall time is
 * their cost. When no profiler is active, plans pay one null check per step.
 */
import type { NodeDef } from './types.js';

export interface NodeTiming {
  /** The plan the node belongs to: "signature 'serving_default'", "function while_body_12"... */
  plan: string;
  node: string;
  op: string;
  count: number;
  /** Self time, milliseconds. */
  ms: number;
}

export interface OpTiming {
  op: string;
  count: number;
  ms: number;
  /** Fraction of the profiled time. */
  share: number;
}

export class Profiler {
  private readonly byNode = new Map<string, NodeTiming>();
  /** Time spent in kernels run inside the current kernel, per nesting level. */
  private readonly childMs: number[] = [];
  /** Wall time of the profiled runs, set by `measure`. */
  totalMs = 0;

  /** Called by Plan.run around each kernel. */
  enter(): number {
    this.childMs.push(0);
    return performance.now();
  }

  leave(start: number, plan: string, node: NodeDef): void {
    const elapsed = performance.now() - start;
    const inner = this.childMs.pop() ?? 0;
    if (this.childMs.length > 0) this.childMs[this.childMs.length - 1] += elapsed;
    const key = `${plan}\u0000${node.name}`;
    let t = this.byNode.get(key);
    if (!t) this.byNode.set(key, (t = { plan, node: node.name, op: node.op, count: 0, ms: 0 }));
    t.count++;
    t.ms += elapsed - inner;
  }

  /** Runs `fn` with this profiler active on this thread; adds its wall time to totalMs. */
  measure<T>(fn: () => T): T {
    const previous = active;
    active = this;
    const start = performance.now();
    try {
      return fn();
    } finally {
      this.totalMs += performance.now() - start;
      active = previous;
    }
  }

  nodes(): NodeTiming[] {
    return [...this.byNode.values()].sort((a, b) => b.ms - a.ms);
  }

  ops(): OpTiming[] {
    const byOp = new Map<string, OpTiming>();
    let total = 0;
    for (const t of this.byNode.values()) {
      let o = byOp.get(t.op);
      if (!o) byOp.set(t.op, (o = { op: t.op, count: 0, ms: 0, share: 0 }));
      o.count += t.count;
      o.ms += t.ms;
      total += t.ms;
    }
    const out = [...byOp.values()].sort((a, b) => b.ms - a.ms);
    for (const o of out) o.share = total > 0 ? o.ms / total : 0;
    return out;
  }
}

let active: Profiler | undefined;

/** The profiler active on this thread, if any (read by Plan.run once per run). */
export function activeProfiler(): Profiler | undefined {
  return active;
}

/**
 * The profile as text tables: per op type (count, total ms, ms per run,
 * share) and the `topNodes` slowest nodes. `runs` divides totals into per-run figures.
 */
export function formatProfile(p: Profiler, runs: number, topNodes = 20): string {
  const ops = p.ops();
  const kernelMs = ops.reduce((s, o) => s + o.ms, 0);
  const lines: string[] = [];
  lines.push(
    `profile: ${runs} run(s), ${fmt(p.totalMs / runs)} ms per run, of which kernels ${fmt(kernelMs / runs)} ms (the rest: feeds, plan dispatch, scope cleanup)`,
  );
  lines.push('');
  lines.push(table(['op', 'count/run', 'total ms', 'ms/run', 'share'], ops.map((o) => [o.op, fmt(o.count / runs), fmt(o.ms), fmt(o.ms / runs), pct(o.share)]), 1));
  lines.push('');
  const nodes = p.nodes().slice(0, topNodes);
  lines.push(`slowest ${nodes.length} nodes:`);
  lines.push(
    table(
      ['node', 'op', 'in', 'count/run', 'ms/run', 'share'],
      nodes.map((n) => [n.node, n.op, n.plan, fmt(n.count / runs), fmt(n.ms / runs), pct(kernelMs > 0 ? n.ms / kernelMs : 0)]),
      3,
    ),
  );
  return lines.join('\n');
}

function fmt(x: number): string {
  return x >= 100 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toFixed(3);
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

/** A plain-text table; the first `left` columns are left-aligned, the rest (numbers) right-aligned. */
function table(header: string[], rows: string[][], left: number): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < left ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
