/**
 * The remapper pass, after Grappler's (tensorflow/core/grappler/optimizers/remapper.cc):
 * a chain
 *
 *   Conv2D | DepthwiseConv2dNative | MatMul
 *     → [BiasAdd]
 *     → [FusedBatchNorm(V2/V3) with is_training=false | Mul [→ Add/AddV2]]   (batchnorm_folding)
 *     → [Relu | Relu6 | Elu | LeakyRelu | Sigmoid | Tanh]
 *
 * becomes one _FusedConv2D / _FusedDepthwiseConv2dNative / _FusedMatMul node
 * named as the chain's last node, its `fused_ops` listing the absorbed ops in
 * order and its extra inputs their second operands (the BatchNorm's four).
 * The Mul/Add pair is how Keras 3 exports an inference BatchNormalization
 * (x * (gamma * rsqrt(var + eps)) + (beta - mean * ...)).
 *
 * A node joins the chain only when the previous node's output is used by it
 * alone: not by another node, not as a control input, not fetched, fed or
 * targeted; so every intermediate value disappears with its node. The fused
 * kernels (kernels/nn_fused.ts) compute exactly the chain's operations, in
 * order, with broadcasting; when the extra operands are per-channel vectors
 * they fold them into the filter and bias and call tfjs's fused WASM kernels.
 */
import type { AttrValue, NodeDef } from '../types.js';
import type { GraphBody } from '../compiler.js';

const ROOTS: Record<string, string> = {
  Conv2D: '_FusedConv2D',
  DepthwiseConv2dNative: '_FusedDepthwiseConv2dNative',
  MatMul: '_FusedMatMul',
};

/**
 * First output argument of each op a chain (or an elementwise region,
 * elementwise_fusion.ts) may hold, for "node:arg:0" references in function bodies.
 */
export const OUTPUT_ARG: Record<string, string> = {
  Conv2D: 'output',
  DepthwiseConv2dNative: 'output',
  MatMul: 'product',
  _FusedConv2D: 'output',
  _FusedDepthwiseConv2dNative: 'output',
  _FusedMatMul: 'product',
  BiasAdd: 'output',
  BiasAddV1: 'output',
  FusedBatchNorm: 'y',
  FusedBatchNormV2: 'y',
  FusedBatchNormV3: 'y',
  Mul: 'z',
  Add: 'z',
  AddV2: 'z',
  Sub: 'z',
  Split: 'output',
  Relu: 'activations',
  Relu6: 'activations',
  Elu: 'activations',
  LeakyRelu: 'activations',
  Sigmoid: 'y',
  Tanh: 'y',
};

const ACTIVATIONS = new Set(['Relu', 'Relu6', 'Elu', 'LeakyRelu', 'Sigmoid', 'Tanh']);
const BATCH_NORMS = new Set(['FusedBatchNorm', 'FusedBatchNormV2', 'FusedBatchNormV3']);

interface Use {
  consumer: NodeDef;
  /** Data input position; -1 for a control input. */
  index: number;
  /** The reference is to output 0 of the producer. */
  output0: boolean;
}

const isFloat32 = (n: NodeDef, attr = 'T') => {
  const t = n.attr[attr];
  return t?.kind === 'type' && t.type === 'float32';
};
const stringAttr = (n: NodeDef, name: string, fallback: string) => {
  const a = n.attr[name];
  return a?.kind === 's' ? new TextDecoder().decode(a.s) : fallback;
};
const boolAttr = (n: NodeDef, name: string, fallback: boolean) => {
  const a = n.attr[name];
  return a?.kind === 'b' ? a.b : fallback;
};
const floatAttr = (n: NodeDef, name: string, fallback: number) => {
  const a = n.attr[name];
  return a?.kind === 'f' ? a.f : fallback;
};
const listOfStrings = (items: string[]): AttrValue => ({
  kind: 'list',
  list: { s: items.map((s) => new TextEncoder().encode(s)), i: [], f: [], b: [], type: [], shape: [], tensor: [], func: [] },
});

/**
 * The body with every fusable chain replaced by its fused node (the same
 * object when nothing fuses). `batchNorms`: also absorb inference BatchNorms.
 */
export function fuseChains(body: GraphBody, batchNorms: boolean): GraphBody {
  const fn = body.mode === 'function';
  const byName = new Map<string, NodeDef>();
  for (const n of body.nodes) byName.set(n.name, n);
  if (!body.nodes.some((n) => n.op in ROOTS)) return body;

  /** The producer a reference names and whether it is that producer's output 0. */
  const parse = (ref: string): { node: string; output0: boolean } | undefined => {
    if (ref.startsWith('^')) return { node: ref.slice(1), output0: false };
    const parts = ref.split(':');
    if (fn) {
      if (parts.length !== 3) return undefined; // a function argument
      const producer = byName.get(parts[0]);
      return { node: parts[0], output0: parts[2] === '0' && producer !== undefined && OUTPUT_ARG[producer.op] === parts[1] };
    }
    if (parts.length === 1) return { node: parts[0], output0: true };
    return { node: parts.slice(0, -1).join(':'), output0: parts[parts.length - 1] === '0' };
  };

  const uses = new Map<string, Use[]>();
  for (const n of body.nodes) {
    let data = 0;
    for (const ref of n.input) {
      const p = parse(ref);
      const index = ref.startsWith('^') ? -1 : data++;
      if (!p) continue;
      let list = uses.get(p.node);
      if (!list) uses.set(p.node, (list = []));
      list.push({ consumer: n, index, output0: p.output0 });
    }
  }
  // Values the caller sees or replaces: never an intermediate of a chain.
  const pinned = new Set<string>();
  for (const ref of [...body.fetches, ...body.targets, ...(fn ? [] : body.feeds)]) {
    const p = parse(ref);
    if (p) pinned.add(p.node);
  }

  /** The single consumer of `n`'s output 0, if that is its only use. */
  const soleConsumer = (n: NodeDef): Use | undefined => {
    if (pinned.has(n.name)) return undefined;
    const u = uses.get(n.name);
    if (!u || u.length !== 1 || !u[0].output0 || u[0].index < 0) return undefined;
    return u[0];
  };

  const replaced = new Map<string, NodeDef>(); // last node name → fused node
  const removed = new Set<string>();
  for (const root of body.nodes) {
    const fusedOp = ROOTS[root.op];
    if (!fusedOp || removed.has(root.name) || !isFloat32(root)) continue;
    if (root.op !== 'MatMul' && stringAttr(root, 'data_format', 'NHWC') !== 'NHWC') continue;
    const chain: NodeDef[] = [root];
    const fusedOps: string[] = [];
    const args: string[] = [];
    let epsilon: number | undefined;
    let alpha: number | undefined;
    let stage = 0; // 0: after the root, 1: after BiasAdd, 2: after a BatchNorm, 3: after Mul
    for (;;) {
      const use = soleConsumer(chain[chain.length - 1]);
      if (!use) break;
      const c = use.consumer;
      if (removed.has(c.name) || !isFloat32(c)) break;
      if ((c.op === 'BiasAdd' || c.op === 'BiasAddV1') && stage === 0 && use.index === 0 && stringAttr(c, 'data_format', 'NHWC') === 'NHWC') {
        fusedOps.push('BiasAdd');
        args.push(c.input[1]);
        stage = 1;
      } else if (batchNorms && BATCH_NORMS.has(c.op) && stage <= 1 && use.index === 0 && !boolAttr(c, 'is_training', true) && stringAttr(c, 'data_format', 'NHWC') === 'NHWC' && root.op !== 'MatMul' && onlyOutput0Used(c, uses)) {
        fusedOps.push('FusedBatchNorm');
        args.push(...c.input.filter((r) => !r.startsWith('^')).slice(1, 5));
        epsilon = floatAttr(c, 'epsilon', 0.0001);
        stage = 2;
      } else if (batchNorms && c.op === 'Mul' && stage <= 1) {
        fusedOps.push('Mul');
        args.push(otherOperand(c, use.index));
        stage = 3;
      } else if ((c.op === 'Add' || c.op === 'AddV2') && stage === 3) {
        fusedOps.push('Add');
        args.push(otherOperand(c, use.index));
        stage = 4;
      } else if (ACTIVATIONS.has(c.op) && use.index === 0) {
        fusedOps.push(c.op);
        if (c.op === 'LeakyRelu') alpha = floatAttr(c, 'alpha', 0.2);
        chain.push(c);
        break;
      } else break;
      chain.push(c);
    }
    if (fusedOps.length === 0) continue;
    const last = chain[chain.length - 1];
    const controls = new Set<string>();
    for (const n of chain) for (const r of n.input) if (r.startsWith('^')) controls.add(r);
    const attr: Record<string, AttrValue> = {
      ...root.attr,
      fused_ops: listOfStrings(fusedOps),
      num_args: { kind: 'i', i: args.length },
    };
    if (epsilon !== undefined) attr.epsilon = { kind: 'f', f: epsilon };
    if (alpha !== undefined) attr.leakyrelu_alpha = { kind: 'f', f: alpha };
    const rootData = root.input.filter((r) => !r.startsWith('^'));
    const fused: NodeDef = { name: last.name, op: fusedOp, device: last.device, input: [rootData[0], rootData[1], ...args, ...controls], attr };
    replaced.set(last.name, fused);
    for (const n of chain) removed.add(n.name);
  }
  if (replaced.size === 0) return body;

  // Function bodies name outputs by argument: references to a replaced node now name the fused op's output.
  const rename = (ref: string): string => {
    if (!fn || ref.startsWith('^')) return ref;
    const parts = ref.split(':');
    const fused = parts.length === 3 ? replaced.get(parts[0]) : undefined;
    return fused ? `${parts[0]}:${OUTPUT_ARG[fused.op]}:${parts[2]}` : ref;
  };
  const nodes: NodeDef[] = [];
  for (const n of body.nodes) {
    const fused = replaced.get(n.name);
    if (fused) nodes.push(fused);
    else if (!removed.has(n.name)) nodes.push(fn ? { ...n, input: n.input.map(rename) } : n);
  }
  return { ...body, nodes, fetches: body.fetches.map(rename), targets: body.targets };
}

/** A BatchNorm joins a chain only when its statistics outputs go unused. */
function onlyOutput0Used(n: NodeDef, uses: Map<string, Use[]>): boolean {
  return (uses.get(n.name) ?? []).every((u) => u.output0 && u.index >= 0);
}

/** The operand of a binary op that is not the chain's value. */
function otherOperand(n: NodeDef, index: number): string {
  const data = n.input.filter((r) => !r.startsWith('^'));
  return data[index === 0 ? 1 : 0];
}
