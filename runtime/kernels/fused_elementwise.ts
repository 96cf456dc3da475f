/**
 * _ModelhostFusedElementwise: a region of float32 elementwise ops around a
 * Split (graph/optimize/elementwise_fusion.ts), run as one loop over the
 * elements instead of one kernel call per op.
 *
 * Fast path, when the shapes fit: every full-size value of the region has
 * the same shape [..., C] (the Split's pieces), values before a Split are k
 * pieces wide and read piece by piece, and the other operands are
 * per-column vectors ([C], or [kC] before the Split) or scalars. The region
 * is compiled once per operand layout into a JavaScript function (generated
 * from the op list only: op names from a fixed set, numbers for indices)
 * that computes each element through the whole region; each op's result is
 * rounded to float32 as the op-by-op graph stores it, with the same
 * arithmetic as this runtime's host loops (Sigmoid in float64 then rounded,
 * Tanh as TF computes it), so the results are those of the unfused ops.
 * Anything else (other layouts, broadcasting between full values, another
 * dtype) runs op by op through the ops' own kernels: what the graph
 * computes, with TF's checks and errors.
 */
import { invalidArgument } from '../errors.js';
import { FUSED_ELEMENTWISE_OP, type Region, type RegionRef } from '../graph/optimize/elementwise_fusion.js';
import type { NodeDef } from '../graph/types.js';
import { Tensor, allocHost } from '../tensor.js';
import { Attrs } from './attrs.js';
import { tanhFloat32 } from './math.js';
import { kernelFor, registerKernel, type KernelContext } from './registry.js';
import { simdElementwise } from '../simd/simd_kernels.js';

/** A layout plan, with the SIMD program or generated loop built for it on first use. */
type Plan = NonNullable<ReturnType<typeof planLayout>> & { program?: Int32Array; loop?: LoopFn };

interface Compiled {
  region: Region;
  /** Layout plans by the inputs' shapes (null: no fast path for them). */
  plans: Map<string, Plan | null>;
}

/** (inputs, outputs, rows, columns, scalars): fills the outputs. */
type LoopFn = (ins: Float32Array[], outs: Float32Array[], rows: number, cols: number, helpers: Helpers) => void;

interface Helpers {
  tanh: (x: number) => number;
}
const HELPERS: Helpers = { tanh: tanhFloat32 };

const compiled = new WeakMap<NodeDef, Compiled>();
/** Input shapes planned per node at most (a node sees one or two in practice). */
const MAX_PLANS = 8;

function compiledFor(ctx: KernelContext): Compiled {
  let c = compiled.get(ctx.node);
  if (!c) {
    const a = ctx.node.attr.region;
    if (a?.kind !== 's') throw invalidArgument(`${FUSED_ELEMENTWISE_OP} needs a region attr`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder().decode(a.s));
    } catch {
      throw badRegion('not JSON');
    }
    const region = checkRegion(parsed, ctx.inputs.length);
    if (ctx.attrs.int('num_outputs', -1) !== region.outputs.length) throw badRegion('num_outputs differs from its outputs');
    c = { region, plans: new Map() };
    compiled.set(ctx.node, c);
  }
  return c;
}

/** Most ops, outputs and Split pieces a region may have (the pass makes regions of a few dozen ops). */
const MAX_REGION_OPS = 4096;
const MAX_SPLIT = 4096;
const ARITY: Record<string, number> = { Add: 2, AddV2: 2, Sub: 2, Mul: 2, BiasAdd: 2, Sigmoid: 1, Tanh: 1, Split: 1 };

function badRegion(why: string) {
  return invalidArgument(`${FUSED_ELEMENTWISE_OP}: invalid region attr (${why})`);
}

const isIndex = (v: unknown, below: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < below;

/**
 * The region attr, checked as untrusted input: a SavedModel may carry this
 * op itself, and the region becomes generated code and interpreter indices.
 * Only known ops, integer indices to outside inputs or earlier ops' outputs,
 * bounded sizes; anything else is INVALID_ARGUMENT.
 */
function checkRegion(v: unknown, inputs: number): Region {
  const r = v as Partial<Region> | null;
  if (!r || typeof r !== 'object' || !Array.isArray(r.ops) || !Array.isArray(r.outputs)) throw badRegion('ops and outputs must be arrays');
  if (r.inputs !== inputs) throw badRegion(`it names ${String(r.inputs)} inputs, the node has ${inputs}`);
  if (r.ops.length === 0 || r.ops.length > MAX_REGION_OPS) throw badRegion(`1 to ${MAX_REGION_OPS} ops`);
  if (r.outputs.length === 0 || r.outputs.length > MAX_REGION_OPS) throw badRegion(`1 to ${MAX_REGION_OPS} outputs`);
  const outputsOf: number[] = [];
  const ref = (x: unknown, before: number): RegionRef => {
    const o = x as Record<string, unknown> | null;
    if (o && typeof o === 'object' && 'ext' in o && Object.keys(o).length === 1 && isIndex(o.ext, inputs)) return { ext: o.ext };
    if (o && typeof o === 'object' && Object.keys(o).length === 2 && isIndex(o.op, before) && isIndex(o.out, outputsOf[o.op as number])) return { op: o.op, out: o.out };
    throw badRegion('an input is neither an outside input nor an earlier op output');
  };
  const ops: Region['ops'] = r.ops.map((raw, i) => {
    const op = raw as Partial<Region['ops'][number]> | null;
    if (!op || typeof op !== 'object' || typeof op.op !== 'string' || !Object.hasOwn(ARITY, op.op)) throw badRegion(`op ${i} is not one of ${Object.keys(ARITY).join(', ')}`);
    if (!Array.isArray(op.inputs) || op.inputs.length !== ARITY[op.op]) throw badRegion(`op ${i} (${op.op}) needs ${ARITY[op.op]} inputs`);
    const checked: Region['ops'][number] = { op: op.op, inputs: op.inputs.map((x) => ref(x, i)), wide: op.wide === true };
    if (op.op === 'Split') {
      if (!isIndex(op.numSplit, MAX_SPLIT + 1) || op.numSplit < 1) throw badRegion(`op ${i}: num_split must be 1 to ${MAX_SPLIT}`);
      if (typeof op.splitDim !== 'number' || !Number.isInteger(op.splitDim) || Math.abs(op.splitDim) > 64) throw badRegion(`op ${i}: split_dim must be an integer`);
      checked.numSplit = op.numSplit;
      checked.splitDim = op.splitDim;
    }
    outputsOf.push(op.op === 'Split' ? checked.numSplit! : 1);
    return checked;
  });
  const outputs = r.outputs.map((o) => {
    const checked = ref(o, ops.length);
    if ('ext' in checked) throw badRegion('an output must be an op output');
    return checked;
  });
  return { ops, outputs, inputs };
}

/** How the loop reads a value. */
type Layout =
  | { kind: 'full'; width: number } // [rows, width] row-major; width C or kC
  | { kind: 'vec'; width: number }
  | { kind: 'scalar' };

const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * The layout of every input and region value when the fast path applies:
 * ext layouts, the piece width C and the row count; undefined otherwise.
 */
function planLayout(region: Region, inputs: readonly Tensor[]): { ext: Layout[]; rows: number; cols: number; shape: readonly number[] } | undefined {
  if (!inputs.every((t) => t.dtype === 'float32')) return undefined;
  // Shapes of every value, as the ops compute them, restricted to the patterns the loop handles.
  const shapes: (readonly number[])[][] = [];
  const shapeOf = (r: RegionRef): readonly number[] => ('ext' in r ? inputs[r.ext].shape : shapes[r.op][r.out]);
  for (const op of region.ops) {
    const ins = op.inputs.map(shapeOf);
    let out: (readonly number[])[];
    if (op.op === 'Split') {
      const s = ins[0];
      const k = op.numSplit ?? 1;
      const dim = op.splitDim! < 0 ? op.splitDim! + s.length : op.splitDim!;
      if (s.length < 1 || dim !== s.length - 1 || s[dim] % k !== 0) return undefined;
      const piece = [...s.slice(0, -1), s[dim] / k];
      out = new Array(k).fill(piece);
    } else if (op.inputs.length === 1) {
      out = [ins[0]];
    } else {
      const [a, b] = ins;
      if (op.op === 'BiasAdd') {
        if (a.length < 2 || b.length !== 1 || b[0] !== a[a.length - 1]) return undefined;
        out = [a];
      } else if (same(a, b)) out = [a];
      else if (sizeIs1(b) && b.length <= a.length) out = [a];
      else if (sizeIs1(a) && a.length <= b.length) out = [b];
      else if (b.length === 1 && a.length >= 2 && b[0] === a[a.length - 1]) out = [a];
      else if (a.length === 1 && b.length >= 2 && a[0] === b[b.length - 1]) out = [b];
      else return undefined;
    }
    shapes.push(out);
  }
  // Every narrow value: one shape N (rank >= 1); wide values: N with a multiple of its last dim.
  let narrow: readonly number[] | undefined;
  region.ops.forEach((op, i) => {
    if (op.wide) return;
    for (const s of shapes[i]) if (!narrow || s.length > narrow.length) narrow = s;
  });
  if (!narrow || narrow.length < 1) return undefined;
  const n = narrow;
  const cols = n[n.length - 1];
  const rows = n.slice(0, -1).reduce((p, d) => p * d, 1);
  if (cols === 0 || rows === 0) return undefined;
  const layoutOf = (s: readonly number[], wideOk: boolean): Layout | undefined => {
    const size = s.reduce((p, d) => p * d, 1);
    if (same(s, n)) return { kind: 'full', width: cols };
    if (wideOk && s.length === n.length && same(s.slice(0, -1), n.slice(0, -1)) && s[s.length - 1] % cols === 0) return { kind: 'full', width: s[s.length - 1] };
    if (size === 1 && s.length <= n.length) return { kind: 'scalar' };
    if (s.length === 1 && (s[0] === cols || (wideOk && s[0] % cols === 0))) return { kind: 'vec', width: s[0] };
    return undefined;
  };
  for (let i = 0; i < region.ops.length; i++) {
    for (const s of shapes[i]) {
      // Region values must be full rows (a scalar- or vector-shaped op result is not handled here).
      if (layoutOf(s, region.ops[i].wide)?.kind !== 'full') return undefined;
    }
  }
  const ext: Layout[] = [];
  for (let e = 0; e < inputs.length; e++) {
    const l = layoutOf(inputs[e].shape, true);
    if (!l) return undefined;
    ext.push(l);
  }
  return { ext, rows, cols, shape: n };
}

const sizeIs1 = (s: readonly number[]) => s.every((d) => d === 1);

/**
 * Walks the region from its outputs: each op's value read `piece` piece
 * widths to the right (values before a Split are read piece by piece, a
 * Split is only an offset), each (op, piece) and (input, piece) lowered
 * once. `input` and `op` build the back end's value for them.
 */
function lower<V>(region: Region, input: (ext: number, piece: number) => V, op: (name: string, args: V[]) => V): V[] {
  const memo = new Map<string, V>();
  const at = (ref: RegionRef, piece: number): V => {
    const id = 'ext' in ref ? `e${ref.ext}/${piece}` : `${ref.op}/${piece}`;
    const hit = memo.get(id);
    if (hit !== undefined) return hit;
    let v: V;
    if ('ext' in ref) v = input(ref.ext, piece);
    else {
      const o = region.ops[ref.op];
      if (o.op === 'Split') return at(o.inputs[0], piece + ref.out);
      v = op(o.op, o.inputs.map((x) => at(x, piece)));
    }
    memo.set(id, v);
    return v;
  };
  return region.outputs.map((o) => at({ op: o.op, out: o.out }, 0));
}

/** The region as one JavaScript loop over the elements (the scalar path), generated from the checked op list. */
function loopFor(region: Region, ext: Layout[]): LoopFn {
  const lines: string[] = [];
  let vars = 0;
  const outputs = lower<string>(
    region,
    (e, piece) => {
      const l = ext[e];
      const off = piece === 0 ? '' : ` + ${piece} * cols`;
      if (l.kind === 'scalar') return `s${e}`;
      if (l.kind === 'vec') return `e${e}[j${off}]`;
      return `e${e}[rowBase${e} + j${off}]`;
    },
    (name, [x, y]) => {
      let expr: string;
      switch (name) {
        case 'Add':
        case 'AddV2':
        case 'BiasAdd':
          expr = `f(${x} + ${y})`;
          break;
        case 'Sub':
          expr = `f(${x} - ${y})`;
          break;
        case 'Mul':
          expr = `f(${x} * ${y})`;
          break;
        case 'Sigmoid':
          expr = `f(1 / (1 + Math.exp(-${x})))`;
          break;
        case 'Tanh':
          expr = `tanh(${x})`;
          break;
        default:
          throw invalidArgument(`${FUSED_ELEMENTWISE_OP}: unexpected op ${name}`);
      }
      const v = `v${vars++}`;
      lines.push(`const ${v} = ${expr};`);
      return v;
    },
  );
  const body = [
    '"use strict";',
    'const f = Math.fround;',
    'const tanh = helpers.tanh;',
    ...ext.map((l, e) => (l.kind === 'scalar' ? `const e${e} = ins[${e}], s${e} = e${e}[0];` : `const e${e} = ins[${e}];`)),
    ...outputs.map((_, o) => `const o${o} = outs[${o}];`),
    'for (let row = 0; row < rows; row++) {',
    ...ext.flatMap((l, e) => (l.kind === 'full' ? [`const rowBase${e} = row * ${l.width};`] : [])),
    'const outBase = row * cols;',
    'for (let j = 0; j < cols; j++) {',
    ...lines,
    ...outputs.map((v, o) => `o${o}[outBase + j] = ${v};`),
    '}',
    '}',
  ].join('\n');
  return new Function('ins', 'outs', 'rows', 'cols', 'helpers', body) as LoopFn;
}

const OPCODE: Record<string, number> = { Add: 1, AddV2: 1, BiasAdd: 1, Sub: 2, Mul: 3, Sigmoid: 4, Tanh: 5 };
const LOAD = 0;
const STORE = 6;

/** The region as a program for runtime/simd's elementwise interpreter (five i32 per instruction). */
function programFor(region: Region, ext: Layout[], cols: number): Int32Array {
  const code: number[] = [];
  let regs = 0;
  const outputs = lower<number>(
    region,
    (e, piece) => {
      const dst = regs++;
      code.push(LOAD, dst, 0, ext[e].kind === 'scalar' ? 0 : piece * cols, e);
      return dst;
    },
    (name, args) => {
      const dst = regs++;
      code.push(OPCODE[name], dst, args[0], args[1] ?? 0, 0);
      return dst;
    },
  );
  outputs.forEach((src, i) => code.push(STORE, 0, src, 0, i));
  return Int32Array.from(code);
}

/** The fast path on the SIMD kernels (operands on the backend), or undefined when they cannot run it. */
function runSimd(c: Compiled, plan: Plan, inputs: readonly Tensor[]): Tensor[] | undefined {
  if (plan.cols % 4 !== 0) return undefined;
  const prog = (plan.program ??= programFor(c.region, plan.ext, plan.cols));
  const ins = inputs.map((t, i) => {
    const l = plan.ext[i];
    const rowBytes = l.kind === 'full' ? l.width * 4 : 0;
    // A host operand is copied into the kernels' scratch block rather than uploaded as a tensor.
    if (!t.isOnBackend) return { host: t.values() as Float32Array, rowBytes, scalar: l.kind === 'scalar' };
    return { tensor: t.toTf(), rowBytes, scalar: l.kind === 'scalar' };
  });
  const outs = simdElementwise(prog, ins, c.region.outputs.length, plan.shape, plan.rows, plan.cols);
  return outs?.map((t) => Tensor.fromTf(t, 'float32'));
}

/** The region op by op with the ops' own kernels. */
function runOpByOp(region: Region, inputs: readonly Tensor[]): Tensor[] {
  const values: Tensor[][] = [];
  const get = (r: RegionRef) => ('ext' in r ? inputs[r.ext] : values[r.op][r.out]);
  const made: Tensor[] = [];
  try {
    region.ops.forEach((op, i) => {
      const attr: NodeDef['attr'] = { T: { kind: 'type', type: 'float32' } };
      const ins = op.inputs.map(get);
      if (op.op === 'Split') {
        attr.num_split = { kind: 'i', i: op.numSplit ?? 1 };
        const dim = Tensor.from('int32', [], [op.splitDim!]);
        made.push(dim);
        ins.unshift(dim);
      }
      const node: NodeDef = { name: `${FUSED_ELEMENTWISE_OP}/${i}`, op: op.op, input: [], device: '', attr };
      const outs = kernelFor(op.op)!.kernel({
        node,
        attrs: new Attrs(attr, node.name, op.op),
        inputs: ins,
        resources: undefined as never,
        functions: undefined as never,
      });
      values.push(outs);
      made.push(...outs);
    });
    return region.outputs.map((o) => values[o.op][o.out]);
  } finally {
    const keep = new Set(region.outputs.map((o) => values[o.op]?.[o.out]));
    for (const t of made) if (!keep.has(t) && !inputs.includes(t)) t.dispose();
  }
}

/** The plan for these inputs' shapes (float32 checked every call), cached per node. */
function planFor(c: Compiled, inputs: readonly Tensor[]): Plan | undefined {
  let key = '';
  for (const t of inputs) {
    if (t.dtype !== 'float32') return undefined;
    key += t.shape.join(',') + ';';
  }
  let plan = c.plans.get(key);
  if (plan === undefined) {
    plan = planLayout(c.region, inputs) ?? null;
    if (c.plans.size >= MAX_PLANS) c.plans.clear();
    c.plans.set(key, plan);
  }
  return plan ?? undefined;
}

function runRegion(c: Compiled, inputs: readonly Tensor[]): Tensor[] {
  const plan = planFor(c, inputs);
  if (!plan) return runOpByOp(c.region, inputs);
  const simd = runSimd(c, plan, inputs);
  if (simd) return simd;
  const loop = (plan.loop ??= loopFor(c.region, plan.ext));
  const size = plan.rows * plan.cols;
  const outs = c.region.outputs.map(() => allocHost('float32', size) as Float32Array);
  const ins = inputs.map((t) => t.values() as Float32Array);
  loop(ins, outs, plan.rows, plan.cols, HELPERS);
  return outs.map((o) => Tensor.fromHost('float32', [...plan.shape], o));
}

registerKernel({
  op: FUSED_ELEMENTWISE_OP,
  outputs: [{ name: 'output', count: (attrs) => attrs.int('num_outputs') }],
  kernel: (ctx) => runRegion(compiledFor(ctx), ctx.inputs),
});
