/**
 * Elementwise fusion (XLA's loop fusion, in the small): a connected region of
 * float32 elementwise ops around a Split along the last axis becomes one
 * _ModelhostFusedElementwise node. That is the shape of a recurrent cell's
 * gates (Keras LSTM: Split of the gate pre-activations, three Sigmoid, two
 * Tanh, three Mul, an Add; GRU: two Splits, Sigmoid, Tanh, Sub from 1...),
 * where each op of a While body step otherwise costs a kernel call.
 *
 * Region:
 *  - seeds: Split nodes (float32, split_dim a scalar Const) and, going up
 *    from each, the elementwise ops whose only use is the region ("wide"
 *    values, as wide as the Split's input; read piece by piece);
 *  - then, going down, every elementwise op whose data inputs are all region
 *    values or values that do not depend on the region ("narrow" values, one
 *    piece wide);
 *  - ops: Add, AddV2, Sub, Mul, Sigmoid, Tanh, BiasAdd (NHWC), Split.
 * Outputs are the narrow values used outside the region (or fetched). A
 * region of fewer than three ops, or whose outside inputs depend on it, is
 * left alone.
 *
 * The fused node carries the region as a JSON attr `region` (ops in order,
 * inputs as outside-input indices or earlier ops' outputs, Split's
 * num_split and split_dim); kernels/fused_elementwise.ts runs it in one loop
 * when the shapes fit (same-shape operands, per-column vectors, scalars) and
 * otherwise op by op with the ops' own kernels — what the graph computes.
 */
import type { AttrValue, NodeDef } from '../types.js';
import type { GraphBody } from '../compiler.js';
import { OUTPUT_ARG } from './fusion.js';

export const FUSED_ELEMENTWISE_OP = '_ModelhostFusedElementwise';

const BINARY = new Set(['Add', 'AddV2', 'Sub', 'Mul']);
const UNARY = new Set(['Sigmoid', 'Tanh']);

/** A region input: an outside value (`ext`) or output `out` of region op `op`. */
export type RegionRef = { ext: number } | { op: number; out: number };

export interface RegionOp {
  op: string;
  inputs: RegionRef[];
  /** Split: pieces and the (constant) split_dim. */
  numSplit?: number;
  splitDim?: number;
  /** True for ops before a Split (values as wide as the Split's input). */
  wide: boolean;
}

export interface Region {
  ops: RegionOp[];
  outputs: { op: number; out: number }[];
  /** Number of outside inputs. */
  inputs: number;
}

const MIN_OPS = 3;

const isFloat32 = (n: NodeDef, attr = 'T') => {
  const t = n.attr[attr];
  return t?.kind === 'type' && t.type === 'float32';
};

/** The scalar int value of a Const node, if it is one. */
function constScalarInt(n: NodeDef | undefined): number | undefined {
  if (!n || n.op !== 'Const') return undefined;
  const v = n.attr.value;
  if (v?.kind !== 'tensor') return undefined;
  const t = v.tensor;
  if (t.rank !== 0 || (t.dtype !== 'int32' && t.dtype !== 'int64')) return undefined;
  return Number((t.values() as ArrayLike<number | bigint>)[0]);
}

export function fuseElementwise(body: GraphBody): GraphBody {
  if (!body.nodes.some((n) => n.op === 'Split')) return body;
  const fn = body.mode === 'function';
  const byName = new Map<string, NodeDef>();
  for (const n of body.nodes) byName.set(n.name, n);

  /** Producer and output index of a data reference; undefined for a function argument or graph feed name. */
  const parse = (ref: string): { node: string; out: number } | undefined => {
    const parts = ref.split(':');
    if (fn) {
      if (parts.length !== 3) return undefined;
      const producer = byName.get(parts[0]);
      if (!producer) return undefined;
      // Only the ops a region holds need output numbering: their first output argument.
      if (OUTPUT_ARG[producer.op] !== undefined && OUTPUT_ARG[producer.op] !== parts[1]) return { node: parts[0], out: -1 };
      return { node: parts[0], out: Number(parts[2]) };
    }
    if (parts.length === 1) return byName.has(ref) ? { node: ref, out: 0 } : undefined;
    const name = parts.slice(0, -1).join(':');
    return byName.has(name) ? { node: name, out: Number(parts[parts.length - 1]) } : undefined;
  };
  const dataInputs = (n: NodeDef) => n.input.filter((r) => !r.startsWith('^'));

  // Uses of each node: consumers (data or control) and whether the value is fetched/pinned.
  const consumers = new Map<string, NodeDef[]>();
  for (const n of body.nodes) {
    for (const ref of n.input) {
      const name = ref.startsWith('^') ? ref.slice(1) : parse(ref)?.node;
      if (name === undefined) continue;
      let list = consumers.get(name);
      if (!list) consumers.set(name, (list = []));
      list.push(n);
    }
  }
  const pinned = new Set<string>();
  for (const ref of [...body.fetches, ...body.targets, ...(fn ? [] : body.feeds)]) {
    const name = ref.startsWith('^') ? ref.slice(1) : (parse(ref)?.node ?? ref.split(':')[0]);
    pinned.add(name);
  }

  const candidate = (n: NodeDef): boolean => {
    if (!isFloat32(n)) return false;
    if (n.input.some((r) => r.startsWith('^'))) return false; // keep control dependencies where they are
    if (BINARY.has(n.op)) return dataInputs(n).length === 2;
    if (UNARY.has(n.op)) return dataInputs(n).length === 1;
    if (n.op === 'BiasAdd') {
      const f = n.attr.data_format;
      return dataInputs(n).length === 2 && (f === undefined || (f.kind === 's' && new TextDecoder().decode(f.s) === 'NHWC'));
    }
    return false;
  };
  const splitDimOf = (n: NodeDef): number | undefined => {
    if (n.op !== 'Split' || !isFloat32(n) || n.input.some((r) => r.startsWith('^'))) return undefined;
    const [dim] = dataInputs(n);
    const p = parse(dim);
    return p ? constScalarInt(byName.get(p.node)) : undefined;
  };

  // One region per Split, grown in body order; a node joins the first region that reaches it.
  const claimed = new Set<string>();
  const wide = new Set<string>();
  const regions: string[][] = [];
  for (const seed of body.nodes) {
    if (claimed.has(seed.name) || splitDimOf(seed) === undefined) continue;
    const region = growRegion(seed);
    for (const m of region) claimed.add(m);
    regions.push(region);
  }
  if (regions.length === 0) return body;

  /** The seed, its wide ancestors and the narrow ops below it. */
  function growRegion(seed: NodeDef): string[] {
    const inRegion = new Set<string>([seed.name]);
    const stack = [dataInputs(seed)[1]];
    while (stack.length) {
      const p = parse(stack.pop()!);
      const producer = p && byName.get(p.node);
      if (!producer || p.out !== 0 || inRegion.has(producer.name) || claimed.has(producer.name) || pinned.has(producer.name) || !candidate(producer)) continue;
      if (!(consumers.get(producer.name) ?? []).every((c) => inRegion.has(c.name))) continue;
      inRegion.add(producer.name);
      wide.add(producer.name);
      // Only the value operand of a BiasAdd is as wide; its bias stays an outside input.
      const ins = dataInputs(producer);
      stack.push(...(producer.op === 'BiasAdd' ? [ins[0]] : ins));
    }

    // Whether a node depends on the region (transitively). Growing the region never changes an
    // answer: a node added below consumes region values, so whatever depends on it already did.
    const memo = new Map<string, boolean>();
    const producersOf = (n: NodeDef | undefined): string[] =>
      (n?.input ?? []).map((ref) => (ref.startsWith('^') ? ref.slice(1) : parse(ref)?.node)).filter((x): x is string => x !== undefined);
    const dependsOnRegion = (name: string): boolean => {
      const known = memo.get(name);
      if (known !== undefined) return known;
      // Iterative post-order DFS over producers; a cycle (TF1 loops) counts as depending, to stay safe.
      const visiting = new Set<string>();
      const dfs: Array<[string, string[] | undefined]> = [[name, undefined]];
      while (dfs.length) {
        const top = dfs[dfs.length - 1];
        if (top[1] === undefined) {
          if (memo.has(top[0])) {
            dfs.pop();
            continue;
          }
          visiting.add(top[0]);
          top[1] = producersOf(byName.get(top[0]));
        }
        const next = top[1].find((x) => !memo.has(x) && !inRegion.has(x));
        if (next !== undefined && !visiting.has(next)) {
          dfs.push([next, undefined]);
          continue;
        }
        const result = next !== undefined || top[1].some((x) => inRegion.has(x) || memo.get(x) === true);
        memo.set(top[0], result);
        visiting.delete(top[0]);
        dfs.pop();
      }
      return memo.get(name)!;
    };

    // Down: narrow elementwise ops whose inputs are region values or independent of the region.
    const work = [...inRegion];
    while (work.length) {
      const from = work.pop()!;
      for (const n of consumers.get(from) ?? []) {
        if (inRegion.has(n.name) || claimed.has(n.name) || !candidate(n)) continue;
        let ok = true;
        for (const ref of dataInputs(n)) {
          const p = parse(ref);
          const producer = p && byName.get(p.node);
          if (producer && inRegion.has(producer.name)) {
            if (wide.has(producer.name) || p!.out < 0) ok = false;
          } else if (producer && dependsOnRegion(producer.name)) ok = false;
        }
        if (ok) {
          inRegion.add(n.name);
          work.push(n.name);
        }
      }
    }
    return [...inRegion];
  }

  const order = new Map<string, number>();
  body.nodes.forEach((n, i) => order.set(n.name, i));
  const replacedRefs = new Map<string, string>(); // old reference → fused output reference
  const removed = new Set<string>();
  const fusedNodes = new Map<number, NodeDef>(); // position of the first member → fused node
  for (const list of regions) {
    if (list.length < MIN_OPS || !list.some((m) => byName.get(m)!.op === 'Split')) continue;
    const names = list.sort((a, b) => order.get(a)! - order.get(b)!);
    const index = new Map<string, number>();
    names.forEach((m, i) => index.set(m, i));
    const externals: string[] = [];
    const extIndex = new Map<string, number>();
    const ops: RegionOp[] = [];
    let valid = true;
    for (const m of names) {
      const node = byName.get(m)!;
      const ins = dataInputs(node);
      const refs: RegionRef[] = [];
      const valueInputs = node.op === 'Split' ? [ins[1]] : ins;
      for (const ref of valueInputs) {
        const p = parse(ref);
        const at = p && index.get(p.node);
        if (at !== undefined) {
          if (p!.out < 0) valid = false;
          refs.push({ op: at, out: p!.out });
          continue;
        }
        let e = extIndex.get(ref);
        if (e === undefined) {
          e = externals.length;
          externals.push(ref);
          extIndex.set(ref, e);
        }
        refs.push({ ext: e });
      }
      const op: RegionOp = { op: node.op, inputs: refs, wide: wide.has(m) };
      if (node.op === 'Split') {
        const k = node.attr.num_split;
        op.numSplit = k?.kind === 'i' ? k.i : 1;
        op.splitDim = splitDimOf(node)!;
      }
      ops.push(op);
    }
    if (!valid) continue;
    // Outputs: region values used outside (or pinned); every use of a member outside must be a data use of such a value.
    const outputs: { op: number; out: number }[] = [];
    const outputRef = new Map<string, number>();
    const fusedName = `${names[names.length - 1]}/modelhost_fused_elementwise`;
    const mine = new Set(names);
    if (byName.has(fusedName)) continue;
    for (const m of names) {
      const outside = (consumers.get(m) ?? []).filter((c) => !mine.has(c.name));
      if (pinned.has(m) && wide.has(m)) valid = false;
      for (const c of outside) {
        for (const ref of c.input) {
          if (ref === `^${m}`) valid = false; // a control edge from inside: keep the region unfused
          if (ref.startsWith('^')) continue;
          const p = parse(ref);
          if (!p || p.node !== m) continue;
          if (wide.has(m) || p.out < 0) valid = false;
          if (!outputRef.has(ref)) {
            outputRef.set(ref, outputs.length);
            outputs.push({ op: index.get(m)!, out: p.out });
          }
        }
      }
      if (pinned.has(m)) {
        for (const ref of [...body.fetches, ...body.targets]) {
          const p = ref.startsWith('^') ? undefined : parse(ref);
          if (ref === m || ref === `^${m}`) valid = false;
          if (p && p.node === m && !outputRef.has(ref)) {
            if (p.out < 0) valid = false;
            outputRef.set(ref, outputs.length);
            outputs.push({ op: index.get(m)!, out: p.out });
          }
        }
      }
    }
    if (!valid || outputs.length === 0) continue;
    const region: Region = { ops, outputs, inputs: externals.length };
    const attr: Record<string, AttrValue> = {
      T: { kind: 'type', type: 'float32' },
      num_outputs: { kind: 'i', i: outputs.length },
      region: { kind: 's', s: new TextEncoder().encode(JSON.stringify(region)) },
    };
    const first = byName.get(names[0])!;
    fusedNodes.set(order.get(names[0])!, { name: fusedName, op: FUSED_ELEMENTWISE_OP, device: first.device, input: externals, attr });
    for (const [ref, i] of outputRef) replacedRefs.set(ref, fn ? `${fusedName}:output:${i}` : `${fusedName}:${i}`);
    for (const m of names) removed.add(m);
  }
  if (fusedNodes.size === 0) return body;

  const rename = (ref: string) => replacedRefs.get(ref) ?? (fn ? ref : (replacedRefs.get(`${ref}:0`) ?? ref));
  const nodes: NodeDef[] = [];
  body.nodes.forEach((n, i) => {
    const fused = fusedNodes.get(i);
    if (fused) nodes.push(fused);
    if (!removed.has(n.name)) nodes.push({ ...n, input: n.input.map((r) => (r.startsWith('^') ? r : rename(r))) });
  });
  return { ...body, nodes, fetches: body.fetches.map(rename) };
}
