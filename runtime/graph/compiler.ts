/**
 * Compiles a graph (or a function body) into a Plan, once, at load time:
 *  - resolves input references: "node", "node:1" in graphs; "arg",
 *    "node:out_arg:0" in function bodies;
 *  - prunes to the nodes the fetches and targets need (a fed tensor cuts its
 *    producer off, like a TF session);
 *  - orders the nodes topologically (a cycle, i.e. TF1 while-loop control
 *    flow, is refused);
 *  - looks up kernels, library functions called as ops, and attr defaults
 *    from the MetaGraph's stripped op list; collects every unsupported op;
 *  - folds stateless nodes whose inputs are all constant;
 *  - turns pass-through ops (Identity, IdentityN...) into slot aliases;
 *  - fuses Conv/MatMul + BiasAdd (+ BatchNorm) + activation chains
 *    (optimize/fusion.ts) and marks stateless steps for invariant caching.
 * Each optimisation can be switched off (optimize/options.ts).
 */
import { StatusError, invalidArgument } from '../errors.js';
import { Attrs } from '../kernels/attrs.js';
import { KernelCache, kernelFor, type KernelDef } from '../kernels/registry.js';
import type { Tensor } from '../tensor.js';
import { fuseChains } from './optimize/fusion.js';
import { fuseElementwise } from './optimize/elementwise_fusion.js';
import type { GraphOptimizations } from './optimize/options.js';
import { Plan, withNode, type RunEnv, type Step } from './plan.js';
import type { ArgDef, AttrValue, NodeDef, OpDef } from './types.js';

/** What the compiler needs from the function library it compiles against. */
export interface CompileContext {
  /** OpDefs by name: the MetaGraph's stripped op list plus library function signatures. */
  opDef(op: string): OpDef | undefined;
  /** True when `name` is a function in the library (callable as an op). */
  isFunction(name: string): boolean;
  /** Compiles (once) a function referenced from an attr, to surface its problems at load time. */
  requireFunction(name: string): void;
  /** Records an op the runtime lacks, with the node using it. */
  unsupported(op: string, nodeName: string): void;
  /** The environment used to evaluate folded constants. */
  readonly foldEnv: RunEnv;
  /** Which load-time optimisations apply. */
  readonly optimizations: GraphOptimizations;
}

export interface GraphBody {
  mode: 'graph' | 'function';
  nodes: readonly NodeDef[];
  /** Graph mode: tensor names ("x:0" or "x"). Function mode: input arg names. */
  feeds: readonly string[];
  /** Tensor references to return, in order (graph: "y:0"; function: ret values). */
  fetches: readonly string[];
  /** Nodes to run for their effects (restore op, init op, control_ret). */
  targets: readonly string[];
  /** For messages: what is being compiled ("signature 'serving_default'", "function foo"). */
  label: string;
}

const CALL_FUNCTION: KernelDef = {
  op: '<function call>',
  stateful: true,
  kernel: (ctx) => ctx.functions.call({ name: ctx.node.op, attr: ctx.node.attr }, ctx.inputs),
};

/** Ops never folded even though stateless: their work depends on functions or feeds. */
const NEVER_FOLD = new Set(['Placeholder', 'PlaceholderWithDefault', 'While', 'StatelessWhile', 'If', 'StatelessIf', 'Case', 'StatelessCase', 'PartitionedCall']);

const SWITCH_OPS = new Set(['Switch', 'RefSwitch']);

interface Ref {
  /** Set when the reference is a feed. */
  feed?: number;
  node?: string;
  index: number;
}

export function compileBody(original: GraphBody, cctx: CompileContext): Plan {
  const passes = cctx.optimizations;
  const chains = passes.has('fusion') ? fuseChains(original, passes.has('batchnorm_folding')) : original;
  const body = passes.has('elementwise_fusion') ? fuseElementwise(chains) : chains;
  const byName = new Map<string, NodeDef>();
  for (const n of body.nodes) byName.set(n.name, n);

  const feedIndex = new Map<string, number>();
  body.feeds.forEach((f, i) => feedIndex.set(body.mode === 'graph' ? normalizeTensorName(f) : f, i));

  const resolve = (ref: string): Ref => {
    if (body.mode === 'graph') {
      const name = normalizeTensorName(ref);
      const fi = feedIndex.get(name);
      if (fi !== undefined) return { feed: fi, index: 0 };
      const colon = name.lastIndexOf(':');
      return { node: name.slice(0, colon), index: Number(name.slice(colon + 1)) };
    }
    const parts = ref.split(':');
    if (parts.length === 1) {
      const fi = feedIndex.get(ref);
      if (fi !== undefined) return { feed: fi, index: 0 };
      return { node: ref, index: 0 };
    }
    if (parts.length === 2) {
      const fi = feedIndex.get(parts[0]);
      if (fi !== undefined && parts[1] === '0') return { feed: fi, index: 0 };
      return { node: parts[0], index: Number(parts[1]) };
    }
    const node = byName.get(parts[0]);
    if (!node) throw invalidArgument(`${body.label}: input '${ref}' names an unknown node`);
    return { node: parts[0], index: outputIndex(node, parts[1], Number(parts[2]), cctx, body.label) };
  };

  // 1. Prune + order: iterative DFS post-order from fetches and targets.
  const order: NodeDef[] = [];
  const state = new Map<string, 1 | 2>(); // 1 visiting, 2 done
  const roots: string[] = [];
  for (const f of body.fetches) {
    const r = resolve(f);
    if (r.node !== undefined) roots.push(r.node);
  }
  for (const t of body.targets) roots.push(t.startsWith('^') ? t.slice(1) : t.split(':')[0]);
  const deps = (n: NodeDef): string[] => {
    const out: string[] = [];
    for (const inp of n.input) {
      if (inp.startsWith('^')) out.push(inp.slice(1));
      else {
        const r = resolve(inp);
        if (r.node !== undefined) out.push(r.node);
      }
    }
    return out;
  };
  for (const root of roots) {
    if (state.get(root) === 2) continue;
    const stack: Array<[string, string[] | undefined]> = [[root, undefined]];
    while (stack.length) {
      const top = stack[stack.length - 1];
      const node = byName.get(top[0]);
      if (!node) throw invalidArgument(`${body.label}: node '${top[0]}' is referenced but not in the graph`);
      if (top[1] === undefined) {
        if (state.get(node.name) === 2) {
          stack.pop();
          continue;
        }
        state.set(node.name, 1);
        top[1] = deps(node);
      }
      const next = top[1].pop();
      if (next === undefined) {
        state.set(node.name, 2);
        order.push(node);
        stack.pop();
      } else {
        const s = state.get(next);
        if (s === 1) {
          throw invalidArgument(
            `${body.label}: the graph has a cycle through node '${next}' (TF1 while_loop control flow: Enter/Merge/Switch/NextIteration/Exit is not supported; export with TF2 control flow)`,
          );
        }
        if (s !== 2) stack.push([next, undefined]);
      }
    }
  }

  // 2. Slots: feeds first, then each consumed node output.
  let numSlots = body.feeds.length;
  // Per producing node, the slot of each consumed output index.
  const outSlots = new Map<string, number[]>();
  const slotFor = (r: Ref): number => {
    if (r.feed !== undefined) return r.feed;
    let list = outSlots.get(r.node!);
    if (list === undefined) outSlots.set(r.node!, (list = []));
    let s = list[r.index];
    if (s === undefined) {
      s = numSlots++;
      list[r.index] = s;
    }
    return s;
  };

  // 3. Steps.
  interface Pending {
    node: NodeDef;
    def: KernelDef;
    attrs: Attrs;
    inputs: number[];
    deref: number[];
    controls: string[];
  }
  const pending: Pending[] = [];
  const defOf = new Map<string, KernelDef>();
  for (const node of order) {
    const def = kernelDefFor(node, cctx);
    if (!def) {
      cctx.unsupported(node.op, node.name);
      continue;
    }
    const invalid = Object.entries(node.attr).find(([, v]) => v.kind === 'invalid');
    if (invalid) {
      const [name, v] = invalid as [string, Extract<AttrValue, { kind: 'invalid' }>];
      cctx.unsupported(`${node.op} (attr '${name}': ${v.reason})`, node.name);
      continue;
    }
    defOf.set(node.name, def);
    const attrs = new Attrs(withDefaults(node, cctx.opDef(node.op)), node.name, node.op);
    for (const v of Object.values(node.attr)) {
      if (v.kind === 'func') cctx.requireFunction(v.func.name);
      if (v.kind === 'list') for (const f of v.list.func) cctx.requireFunction(f.name);
    }
    const inputs: number[] = [];
    const deref: number[] = [];
    const controls: string[] = [];
    for (const inp of node.input) {
      if (inp.startsWith('^')) {
        controls.push(inp.slice(1));
        continue;
      }
      const r = resolve(inp);
      if (r.node !== undefined) checkOutputIndex(node, byName.get(r.node), r.index, cctx.opDef(byName.get(r.node)?.op ?? ''));
      const idx = inputs.length;
      inputs.push(slotFor(r));
      const producer = r.node !== undefined ? defOf.get(r.node) : undefined;
      deref.push(producer?.refOutput && !(def.refInputs ?? []).includes(idx) ? 1 : 0);
    }
    checkInputCount(node, cctx.opDef(node.op), attrs, inputs.length);
    pending.push({ node, def, attrs, inputs, deref, controls });
  }

  const fetchRefs = body.fetches.map(resolve);
  const fetchSlots = Int32Array.from(fetchRefs.map(slotFor));
  const fetchDeref = Uint8Array.from(fetchRefs.map((r) => (r.node !== undefined && defOf.get(r.node)?.refOutput ? 1 : 0)));

  // 4. Fold constants: stateless steps whose inputs are all constants.
  const constants = new Map<number, Tensor>();
  const folded = new Set<string>();
  const steps: Step[] = [];
  for (const p of pending) {
    const outputs = outputSlots(outSlots.get(p.node.name));
    const step: Step = {
      node: p.node,
      attrs: p.attrs,
      def: p.def,
      inputs: Int32Array.from(p.inputs),
      deref: Uint8Array.from(p.deref),
      outputs,
      cache: p.def.cache ? new KernelCache() : undefined,
    };
    const foldable =
      passes.has('constant_folding') &&
      !p.def.stateful &&
      !p.def.refOutput &&
      p.def !== CALL_FUNCTION &&
      !NEVER_FOLD.has(p.node.op) &&
      p.deref.every((d) => d === 0) &&
      p.inputs.every((s) => constants.has(s)) &&
      p.controls.every((c) => folded.has(c));
    if (foldable) {
      try {
        const outs = p.def.kernel({
          node: p.node,
          attrs: p.attrs,
          inputs: p.inputs.map((s) => constants.get(s)!),
          resources: cctx.foldEnv.resources,
          functions: cctx.foldEnv.functions,
        });
        for (let i = 0; i < outputs.length; i++) {
          if (outputs[i] >= 0 && outs[i]) constants.set(outputs[i], outs[i].keep());
        }
        folded.add(p.node.name);
        continue;
      } catch (e) {
        // A node that fails on its constant inputs fails the same way when run; keep it as a
        // step so the error surfaces only if that branch ever executes, as in TensorFlow.
        if (!(e instanceof StatusError)) throw withNode(e, p.node);
      }
    }
    steps.push(step);
  }

  // TF1 conditionals (Switch/Merge) run with dead-branch tracking (plan.ts):
  // every step stays (a pass-through can be dead), with its control dependencies.
  const deadness = steps.some((s) => SWITCH_OPS.has(s.node.op));
  if (deadness) {
    const stepOf = new Map(steps.map((s, i) => [s.node.name, i]));
    const controlsOf = new Map(pending.map((p) => [p.node, p.controls]));
    const withControls = steps.map((step, i) => {
      const controls = controlsOf.get(step.node)!.map((c) => stepOf.get(c)).filter((c): c is number => c !== undefined && c < i);
      return { ...step, controlSteps: Int32Array.from(controls) };
    });
    return labelled(new Plan(withControls, numSlots, [...constants], Int32Array.from(body.feeds.map((_, i) => i)), fetchSlots, fetchDeref, true), body.label);
  }

  // 5. Pass-through steps read values, not reference variables: their outputs
  //    become aliases of their inputs, and the step goes.
  const alias = Int32Array.from({ length: numSlots }, (_, i) => i);
  const runSteps: Step[] = [];
  for (const step of steps) {
    const inputs = step.inputs.map((s) => alias[s]);
    if (passes.has('identity_pruning') && step.def.passThrough && step.deref.every((d) => d === 0)) {
      step.outputs.forEach((o, i) => {
        if (o >= 0 && i < inputs.length) alias[o] = inputs[i];
      });
      if (step.outputs.length <= inputs.length) continue;
    }
    const memo = passes.has('invariant_caching') && cacheable(step) ? { key: undefined, values: undefined } : undefined;
    runSteps.push({ ...step, inputs, memo });
  }
  for (let i = 0; i < fetchSlots.length; i++) fetchSlots[i] = alias[fetchSlots[i]];

  // Keep only constants something still reads; put numeric ones on the backend now.
  const used = new Set<number>();
  for (const s of runSteps) for (const i of s.inputs) used.add(i);
  for (const f of fetchSlots) used.add(f);
  const kept: Array<readonly [number, Tensor]> = [];
  for (const [slot, t] of constants) {
    if (!used.has(slot)) continue;
    if (!t.isOnBackend && (t.dtype === 'float32' || t.dtype === 'int32' || t.dtype === 'bool')) t.toTf();
    kept.push([slot, t]);
  }

  return labelled(new Plan(runSteps, numSlots, kept, Int32Array.from(body.feeds.map((_, i) => i)), fetchSlots, fetchDeref), body.label);
}

function labelled(plan: Plan, label: string): Plan {
  plan.label = label;
  return plan;
}

/** Steps whose outputs depend on their inputs and attrs alone (what constant folding would fold). */
function cacheable(step: Step): boolean {
  return !step.def.stateful && !step.def.refOutput && step.def !== CALL_FUNCTION && !NEVER_FOLD.has(step.node.op) && step.deref.every((d) => d === 0) && step.inputs.length > 0;
}

function kernelDefFor(node: NodeDef, cctx: CompileContext): KernelDef | undefined {
  const k = kernelFor(node.op);
  if (k) return k;
  if (cctx.isFunction(node.op)) {
    cctx.requireFunction(node.op);
    return CALL_FUNCTION;
  }
  return undefined;
}

/** Slot per output index of a node (-1 where nothing consumes it), from its consumed outputs. */
function outputSlots(consumed: readonly number[] | undefined): Int32Array {
  if (consumed === undefined) return new Int32Array(0);
  // An index no op has (a malformed "node:4294967295") stays unproduced: the run reports it.
  const n = Math.min(consumed.length, MAX_OUTPUT_INDEX);
  const out = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i++) if (consumed[i] !== undefined) out[i] = consumed[i];
  return out;
}

/** More outputs than any op has (list outputs included). */
const MAX_OUTPUT_INDEX = 1 << 16;

/** "x" → "x:0"; "x:1" stays. */
export function normalizeTensorName(name: string): string {
  return /:\d+$/.test(name) ? name : `${name}:0`;
}

/**
 * TF's graph import checks: a node has every attr its OpDef declares (after
 * defaults), and as many data inputs as the OpDef's input args make (a list
 * arg counts its number_attr or type_list_attr). Skipped when the OpDef is
 * unknown.
 */
function checkInputCount(node: NodeDef, opDef: OpDef | undefined, attrs: Attrs, given: number): void {
  for (const a of opDef?.attr ?? []) {
    if (attrs.values[a.name] === undefined) {
      throw invalidArgument(`NodeDef missing attr '${a.name}' from Op<name=${node.op}>; NodeDef: {{node ${node.name}}}`);
    }
  }
  const expected = opDef ? argCount(opDef.inputArg, attrs.values) : undefined;
  if (opDef && expected !== undefined && expected !== given) {
    throw invalidArgument(
      `NodeDef expected inputs '${opDef.inputArg.map((a) => a.name).join(', ')}' do not match ${given} inputs specified; ` +
        `Op<name=${node.op}>; NodeDef: {{node ${node.name}}}`,
    );
  }
}

/** Tensors a list of OpDef args stands for with these attrs; undefined when an attr it needs is unknown. */
function argCount(args: readonly ArgDef[], attrs: Readonly<Record<string, AttrValue>>): number | undefined {
  let n = 0;
  for (const arg of args) {
    if (arg.numberAttr) {
      const v = attrs[arg.numberAttr];
      if (v?.kind !== 'i') return undefined;
      n += v.i;
    } else if (arg.typeListAttr) {
      const v = attrs[arg.typeListAttr];
      if (v?.kind !== 'list') return undefined;
      n += v.list.type.length;
    } else {
      n++;
    }
  }
  return n;
}

/** TF's graph import check: an input names an output its producer has (when the producer's OpDef is known). */
function checkOutputIndex(node: NodeDef, producer: NodeDef | undefined, index: number, opDef: OpDef | undefined): void {
  if (!producer || !opDef) return;
  const outputs = argCount(opDef.outputArg, withDefaults(producer, opDef));
  if (outputs !== undefined && index >= outputs) {
    throw invalidArgument(
      `Node '${node.name}': Connecting to invalid output ${index} of source node ${producer.name} which has ${outputs} outputs.`,
    );
  }
}

/** Node attrs with the op definition's defaults for those stripped from the NodeDef. */
function withDefaults(node: NodeDef, opDef: OpDef | undefined): Record<string, AttrValue> {
  if (!opDef) return node.attr;
  let merged: Record<string, AttrValue> | undefined;
  for (const a of opDef.attr) {
    if (a.defaultValue && node.attr[a.name] === undefined) {
      merged ??= { ...node.attr };
      merged[a.name] = a.defaultValue;
    }
  }
  return merged ?? node.attr;
}

/**
 * Flattened output index of "node:arg:i" (function bodies name outputs by
 * their OpDef argument). Uses the kernel's declared output args, else the
 * OpDef (stripped op list or library function signature).
 */
function outputIndex(node: NodeDef, arg: string, i: number, cctx: CompileContext, label: string): number {
  const opDef = cctx.opDef(node.op);
  const def = kernelFor(node.op);
  const attrs = new Attrs(withDefaults(node, opDef), node.name, node.op);
  if (def?.outputs) {
    let base = 0;
    for (const o of def.outputs) {
      if (o.name === arg) return base + i;
      base += o.count ? o.count(attrs) : 1;
    }
    throw invalidArgument(`${label}: op ${node.op} has no output named '${arg}' (referenced from node ${node.name})`);
  }
  if (opDef && opDef.outputArg.length > 1) {
    let base = 0;
    for (const o of opDef.outputArg) {
      if (o.name === arg) return base + i;
      if (o.numberAttr) base += attrs.int(o.numberAttr);
      else if (o.typeListAttr) base += attrs.types(o.typeListAttr).length;
      else base += 1;
    }
    throw invalidArgument(`${label}: op ${node.op} has no output named '${arg}' (referenced from node ${node.name})`);
  }
  // A single output argument (possibly a list): the index is the position in it.
  if (!def && !opDef && !cctx.isFunction(node.op)) {
    // Unsupported op: recorded when its node is compiled; the index does not matter then.
    return i;
  }
  if (opDef && opDef.outputArg.length === 1 && opDef.outputArg[0].name !== arg) {
    throw invalidArgument(`${label}: op ${node.op} has no output named '${arg}' (referenced from node ${node.name})`);
  }
  return i;
}

