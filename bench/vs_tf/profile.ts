/**
 * Summaries of V8 CPU profiles (what `node --cpu-prof` writes, or the
 * inspector's Profiler.stop returns): self time per function, self time by
 * where the code lives (WASM kernels, the runtime's JS, tfjs, GC...), and
 * time per runtime kernel — the innermost op whose kernel function (the
 * frame the executor in runtime/graph/plan.ts calls, through the registry's
 * wrapper or not) is on the stack, found from the
 * `registerKernel({ op: '...' })` next to it in the source.
 */
import fs from 'node:fs';
import inspector from 'node:inspector';
import { fileURLToPath } from 'node:url';

export interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}

export interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface ProfileLine {
  name: string;
  ms: number;
  share: number;
}

export interface ProfileSummary {
  totalMs: number;
  topFunctions: ProfileLine[];
  byArea: ProfileLine[];
  byKernel: ProfileLine[];
}

/** Where a frame's code lives, from its URL and name. */
export function area(frame: CpuProfileNode['callFrame']): string {
  const { url, functionName } = frame;
  if (functionName === '(garbage collector)') return 'garbage collection';
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(program)') return 'V8 / native (program)';
  if (url.startsWith('wasm://') || functionName.startsWith('wasm-function') || functionName.startsWith('$')) return 'WASM kernels (tfjs-backend-wasm and runtime/simd)';
  if (url.includes('/runtime/kernels/')) return 'runtime kernels (JS)';
  if (url.includes('/runtime/graph/')) return 'runtime graph executor (JS)';
  if (url.includes('/runtime/')) return 'runtime, other (JS)';
  if (url.includes('tfjs-backend-wasm')) return 'tfjs-backend-wasm (JS glue)';
  if (url.includes('tfjs-core')) return 'tfjs-core (JS)';
  if (url.includes('/server/') || url.includes('/registry/')) return 'server / registry (JS)';
  if (url.startsWith('node:')) return 'Node.js internals (JS)';
  if (url === '') return 'native, no URL (V8 builtins, zlib, socket writes...)';
  return 'other JS';
}

function shortUrl(url: string): string {
  const m = /(?:dist\/|node_modules\/)(.*)$/.exec(url);
  return m ? m[1] : url.replace(/^file:\/\//, '');
}

const opNames = new Map<string, string[]>();

/** The op a kernel function at `url:line` (0-based) is registered for, if the source says so nearby. */
function opAt(url: string, line: number): string | undefined {
  if (!url.startsWith('file://')) return undefined;
  let lines = opNames.get(url);
  if (!lines) {
    try {
      lines = fs.readFileSync(fileURLToPath(url), 'utf8').split('\n');
    } catch {
      lines = [];
    }
    opNames.set(url, lines);
  }
  for (let i = line; i >= Math.max(0, line - 6); i--) {
    const one = /op: '([A-Za-z0-9_]+)'/.exec(lines[i] ?? '');
    if (one) return one[1];
    const many = /op: \[([^\]]+)\]/.exec(lines[i] ?? '');
    if (many) return many[1].replace(/['\s]/g, '').split(',').join('/');
  }
  // Kernels registered in a loop (registerBinary, registerUnary, reductions...): name the helper.
  const file = url.slice(url.lastIndexOf('/') + 1).replace(/\.js$/, '');
  for (let i = line; i >= Math.max(0, line - 12); i--) {
    const fn = /^(?:export )?function (\w+)\(/.exec(lines[i] ?? '');
    if (fn) return `${file}.${fn[1]} kernels`;
    // The end of an earlier top-level function: the loop is at top level.
    if (/^}/.test(lines[i] ?? '')) break;
  }
  return `${file} kernels (line ${line + 1})`;
}

function lines(map: Map<string, number>, totalMs: number, top: number): ProfileLine[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, ms]) => ({ name, ms, share: totalMs > 0 ? ms / totalMs : 0 }));
}

/**
 * Summarises `p`. `window` keeps only samples taken between `fromEndUs` and
 * `toEndUs` microseconds before the profile's end (a server's profile covers
 * its start-up too; the caller knows how long before the process exited the
 * load ran).
 */
export function summarise(p: CpuProfile, top = 12, window?: { fromEndUs: number; toEndUs: number }): ProfileSummary {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  const samples = p.samples ?? [];
  const deltas = p.timeDeltas ?? [];
  if (samples.length) {
    // timeDeltas[i] is the time before sample i; the time after it is attributed to it.
    let at = p.startTime;
    for (let i = 0; i < samples.length; i++) {
      at += deltas[i] ?? 0;
      if (window && (at < p.endTime - window.fromEndUs || at > p.endTime - window.toEndUs)) continue;
      const ms = (deltas[i + 1] ?? 0) / 1000;
      self.set(samples[i], (self.get(samples[i]) ?? 0) + ms);
    }
  } else {
    const total = (p.endTime - p.startTime) / 1000;
    const hits = p.nodes.reduce((s, n) => s + (n.hitCount ?? 0), 0);
    for (const n of p.nodes) self.set(n.id, ((n.hitCount ?? 0) / Math.max(1, hits)) * total);
  }
  const functions = new Map<string, number>();
  const areas = new Map<string, number>();
  const kernels = new Map<string, number>();
  const kernelOf = new Map<number, string>();
  const url = (id: number | undefined) => (id === undefined ? '' : (byId.get(id)?.callFrame.url ?? ''));
  const inPlan = (id: number | undefined) => url(id).includes('/runtime/graph/plan');
  const inRegistry = (id: number | undefined) => url(id).includes('/runtime/kernels/registry');
  // A kernel function: called by the plan executor, directly or through the registry's wrapper.
  const isKernelEntry = (id: number) => {
    if (!url(id).includes('/runtime/kernels/') || inRegistry(id)) return false;
    const up = parent.get(id);
    return inPlan(up) || (inRegistry(up) && inPlan(parent.get(up!)));
  };
  const findKernel = (id: number): string => {
    const cached = kernelOf.get(id);
    if (cached !== undefined) return cached;
    let result = '(outside any kernel)';
    const n = byId.get(id)!;
    const up = parent.get(id);
    if (isKernelEntry(id)) {
      result = opAt(n.callFrame.url, n.callFrame.lineNumber) ?? `${n.callFrame.functionName || '(anonymous)'} ${shortUrl(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
    } else if (up !== undefined) {
      result = findKernel(up);
    }
    kernelOf.set(id, result);
    return result;
  };
  let totalMs = 0;
  for (const [id, ms] of self) {
    const n = byId.get(id);
    if (!n || ms === 0) continue;
    const f = n.callFrame;
    if (f.functionName === '(idle)') continue;
    totalMs += ms;
    const key = f.url ? `${f.functionName || '(anonymous)'} (${shortUrl(f.url)}:${f.lineNumber + 1})` : f.functionName || '(anonymous)';
    functions.set(key, (functions.get(key) ?? 0) + ms);
    const a = area(f);
    areas.set(a, (areas.get(a) ?? 0) + ms);
    const k = findKernel(id);
    kernels.set(k, (kernels.get(k) ?? 0) + ms);
  }
  return { totalMs, topFunctions: lines(functions, totalMs, top), byArea: lines(areas, totalMs, 20), byKernel: lines(kernels, totalMs, top) };
}

/** Profiles `fn` in this thread with the inspector (the profiler `--cpu-prof` uses) at `intervalUs`. */
export async function profileThis<T>(fn: () => T | Promise<T>, intervalUs = 200): Promise<{ result: T; profile: CpuProfile }> {
  const session = new inspector.Session();
  session.connect();
  const post = <R>(method: string, params?: object) =>
    new Promise<R>((resolve, reject) => session.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res as R))));
  try {
    await post('Profiler.enable');
    await post('Profiler.setSamplingInterval', { interval: intervalUs });
    await post('Profiler.start');
    const result = await fn();
    const { profile } = await post<{ profile: CpuProfile }>('Profiler.stop');
    return { result, profile };
  } finally {
    session.disconnect();
  }
}

/** Markdown for a summary: three small tables. */
export function summaryMarkdown(s: ProfileSummary): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const t = (title: string, rows: ProfileLine[]) =>
    [`| ${title} | self ms | share |`, '| --- | ---: | ---: |', ...rows.map((r) => `| ${r.name.replace(/\|/g, '\\|')} | ${r.ms.toFixed(0)} | ${pct(r.share)} |`)].join('\n');
  return [
    `Sampled ${s.totalMs.toFixed(0)} ms of CPU (idle excluded).`,
    '',
    t('where the time goes', s.byArea),
    '',
    t('runtime kernel on the stack (op)', s.byKernel),
    '',
    t('top self-time functions', s.topFunctions),
  ].join('\n');
}
