/**
 * An execution plan: a signature (or function body, or restore/init op)
 * compiled once into a flat list of steps over numbered value slots, pruned
 * to what the fetched outputs and targets need, with constants folded.
 * `run` executes the steps in order; it is synchronous and allocation-light.
 */
import { checkCancelled } from '../cancellation.js';
import { StatusError, internal } from '../errors.js';
import type { Attrs } from '../kernels/attrs.js';
import type { FunctionCaller, KernelCache, KernelDef, ResourceManager, Variable } from '../kernels/registry.js';
import { Tensor } from '../tensor.js';
import { activeProfiler } from './profile.js';
import type { NodeDef } from './types.js';

export interface Step {
  readonly node: NodeDef;
  readonly attrs: Attrs;
  readonly def: KernelDef;
  /** Slot of each data input. */
  readonly inputs: Int32Array;
  /** 1 where the input is a TF1 reference variable whose value must be read. */
  readonly deref: Uint8Array;
  /** Slot per output index; -1 where nothing consumes that output. */
  readonly outputs: Int32Array;
  /** Plans with TF1 conditionals only: steps this one has control dependencies on. */
  readonly controlSteps?: Int32Array;
  /** Invariant caching (optimize/options.ts): the last outputs computed from persistent inputs. */
  readonly memo?: StepMemo;
  /** The kernel's own cache, for kernels that declare `cache`. */
  readonly cache?: KernelCache;
}

/**
 * A stateless step's last outputs, kept while its inputs stay the same
 * persistent tensors (constants, variable values, other cached outputs).
 * A variable assigned a new value gives a new tensor, so the key no longer
 * matches and the step runs again.
 */
export interface StepMemo {
  key: Tensor[] | undefined;
  /** Outputs by output index (consumed ones only); `owned[i]` when the memo made it persistent and must free it. */
  values: Array<Tensor | undefined> | undefined;
  owned?: boolean[];
  /** Times the key changed; a step whose inputs keep changing stops caching. */
  misses?: number;
}

/** Keys that changed this often are not cached any more (inputs that vary, e.g. a loop variable). */
const MAX_MEMO_MISSES = 8;

/**
 * Replaced memo outputs wait here until the outermost run ends
 * (`releaseRetired`): a step of the same run may still read them.
 */
const retired: Tensor[] = [];

/** Frees the memo outputs replaced during the runs that just ended; called after each top-level run. */
export function releaseRetired(): void {
  for (const t of retired.splice(0)) t.dispose();
}

export interface RunEnv {
  readonly resources: ResourceManager;
  readonly functions: FunctionCaller;
}

/** Appends the failing node the way TensorFlow does ("...\n\t [[{{node add}}]]"), once. */
export function withNode(e: unknown, node: NodeDef): StatusError {
  if (e instanceof StatusError) {
    if (e.message.includes('[[{{node ')) return e;
    return new StatusError(e.code, `${e.message}\n\t [[{{node ${node.name}}}]]`);
  }
  const msg = e instanceof Error ? e.message : String(e);
  return new StatusError('INTERNAL', `${msg}\n\t [[{{node ${node.name}}}]]`);
}

export class Plan {
  /** What the plan computes, for profiles ("signature 'serving_default'", "function foo"). */
  label = '';

  constructor(
    readonly steps: readonly Step[],
    readonly numSlots: number,
    /** Folded constants and their slots; persistent for the plan's life. */
    readonly constants: ReadonlyArray<readonly [number, Tensor]>,
    readonly feedSlots: Int32Array,
    readonly fetchSlots: Int32Array,
    readonly fetchDeref: Uint8Array,
    /** The plan holds TF1 Switch/Merge conditionals: run it with dead-branch tracking. */
    readonly deadness = false,
  ) {}

  run(feeds: readonly Tensor[], env: RunEnv): Tensor[] {
    if (feeds.length !== this.feedSlots.length) {
      throw internal(`plan expects ${this.feedSlots.length} feeds, got ${feeds.length}`);
    }
    if (this.deadness) return this.runWithDeadness(feeds, env);
    const slots: (Tensor | undefined)[] = new Array(this.numSlots);
    const constants = this.constants;
    for (let i = 0; i < constants.length; i++) slots[constants[i][0]] = constants[i][1];
    for (let i = 0; i < feeds.length; i++) slots[this.feedSlots[i]] = feeds[i];

    const steps = this.steps;
    const profiler = activeProfiler();
    for (let s = 0; s < steps.length; s++) {
      checkCancelled();
      const step = steps[s];
      const slotsIn = step.inputs;
      const n = slotsIn.length;
      const inputs: Tensor[] = new Array(n);
      for (let i = 0; i < n; i++) {
        const t = slots[slotsIn[i]];
        if (t === undefined) throw internal(`input ${i} of node ${step.node.name} was never produced`);
        inputs[i] = step.deref[i] ? readRef(t) : t;
      }
      const memo = step.memo;
      let outs: Tensor[] | Array<Tensor | undefined>;
      if (memo !== undefined && memo.key !== undefined && sameTensors(memo.key, inputs)) {
        outs = memo.values!;
      } else {
        const started = profiler?.enter() ?? 0;
        try {
          outs = step.def.kernel({ node: step.node, attrs: step.attrs, inputs, resources: env.resources, functions: env.functions, cache: step.cache });
        } catch (e) {
          throw withNode(e, step.node);
        } finally {
          profiler?.leave(started, this.label, step.node);
        }
        if (memo !== undefined && (memo.misses ?? 0) < MAX_MEMO_MISSES && invariantInputs(inputs)) remember(memo, inputs, outs, step.outputs);
      }
      const o = step.outputs;
      for (let i = 0; i < o.length; i++) {
        if (o[i] < 0) continue;
        const t = outs[i];
        if (t === undefined) throw internal(`node ${step.node.name} (${step.node.op}) produced ${outs.length} outputs; output ${i} is needed`);
        slots[o[i]] = t;
      }
    }

    const out: Tensor[] = new Array(this.fetchSlots.length);
    for (let i = 0; i < out.length; i++) {
      const t = slots[this.fetchSlots[i]];
      if (t === undefined) throw internal(`fetch ${i} was never produced`);
      out[i] = this.fetchDeref[i] ? readRef(t) : t;
    }
    return out;
  }

  /**
   * TF1 conditionals as TensorFlow's executor runs them: Switch forwards its
   * data to the output its predicate picks and marks the other dead; a step
   * with a dead input or a dead control dependency is dead too (it does not
   * run); Merge forwards its first live input (and its index), and is dead
   * only when all its inputs are.
   */
  private runWithDeadness(feeds: readonly Tensor[], env: RunEnv): Tensor[] {
    const slots: (Tensor | undefined)[] = new Array(this.numSlots);
    const dead = new Uint8Array(this.numSlots);
    const deadStep = new Uint8Array(this.steps.length);
    for (const [slot, t] of this.constants) slots[slot] = t;
    for (let i = 0; i < feeds.length; i++) slots[this.feedSlots[i]] = feeds[i];
    const setOutputs = (step: Step, outs: (Tensor | undefined)[]) => {
      step.outputs.forEach((slot, i) => {
        if (slot < 0) return;
        if (outs[i] === undefined) dead[slot] = 1;
        else slots[slot] = outs[i];
      });
    };
    this.steps.forEach((step, s) => {
      const op = step.node.op;
      const isMerge = op === 'Merge' || op === 'RefMerge';
      const inDead = Array.from(step.inputs, (slot) => dead[slot] === 1);
      const controlDead = step.controlSteps?.some((c) => deadStep[c] === 1) ?? false;
      if (controlDead || (isMerge ? inDead.every(Boolean) : inDead.some(Boolean))) {
        deadStep[s] = 1;
        setOutputs(step, []);
        return;
      }
      const inputs = Array.from(step.inputs, (slot, i) => {
        const t = slots[slot];
        if (t === undefined && !(isMerge && inDead[i])) throw internal(`input ${i} of node ${step.node.name} was never produced`);
        return t !== undefined && step.deref[i] ? readRef(t) : t;
      });
      if (op === 'Switch' || op === 'RefSwitch') {
        const pred = inputs[1]!;
        if (pred.size !== 1) throw withNode(new StatusError('INVALID_ARGUMENT', `The second input must be a scalar, but it has shape [${pred.shape}]`), step.node);
        const taken = Boolean((pred.values() as ArrayLike<number | boolean>)[0]);
        setOutputs(step, taken ? [undefined, inputs[0]] : [inputs[0], undefined]);
        return;
      }
      if (isMerge) {
        const i = inDead.indexOf(false);
        setOutputs(step, [inputs[i], Tensor.scalar('int32', i)]);
        return;
      }
      let outs: Tensor[];
      const profiler = activeProfiler();
      const started = profiler?.enter() ?? 0;
      try {
        outs = step.def.kernel({ node: step.node, attrs: step.attrs, inputs: inputs as Tensor[], resources: env.resources, functions: env.functions, cache: step.cache });
      } catch (e) {
        throw withNode(e, step.node);
      } finally {
        profiler?.leave(started, this.label, step.node);
      }
      setOutputs(step, outs);
    });
    return Array.from(this.fetchSlots, (slot, i) => {
      const t = slots[slot];
      if (t === undefined) throw new StatusError('INVALID_ARGUMENT', `Retval[${i}] does not have value`);
      return this.fetchDeref[i] ? readRef(t) : t;
    });
  }

  dispose(): void {
    for (const [, t] of this.constants) t.dispose();
    for (const step of this.steps) {
      if (step.memo) forget(step.memo);
      step.cache?.dispose();
    }
  }
}

function sameTensors(a: readonly Tensor[], b: readonly Tensor[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Inputs that outlive runs and hold plain values (not handles to state that changes in place). */
function invariantInputs(inputs: readonly Tensor[]): boolean {
  for (let i = 0; i < inputs.length; i++) {
    const t = inputs[i];
    if (!t.isPersistent || t.isDisposed || t.dtype === 'resource' || t.dtype === 'variant') return false;
  }
  return true;
}

function remember(memo: StepMemo, inputs: Tensor[], outs: ReadonlyArray<Tensor | undefined>, slots: Int32Array): void {
  if (memo.values !== undefined) {
    memo.misses = (memo.misses ?? 0) + 1;
    memo.values.forEach((t, i) => {
      if (t && memo.owned?.[i]) retired.push(t);
    });
    memo.values = undefined;
  }
  const values: Array<Tensor | undefined> = new Array(outs.length);
  const owned: boolean[] = new Array(outs.length).fill(false);
  for (let i = 0; i < outs.length; i++) {
    const t = outs[i];
    if (t === undefined || i >= slots.length || slots[i] < 0) continue;
    if (!t.isPersistent) {
      t.keep();
      owned[i] = true;
    }
    values[i] = t;
  }
  memo.key = inputs.slice();
  memo.values = values;
  memo.owned = owned;
}

function forget(memo: StepMemo): void {
  memo.values?.forEach((t, i) => {
    if (t && memo.owned?.[i]) t.dispose();
  });
  memo.key = undefined;
  memo.values = undefined;
  memo.owned = undefined;
}

/** A VariableV2 output carries the variable itself; reading it gives its current value. */
export function readRef(t: Tensor): Tensor {
  return ((t.values() as unknown[])[0] as Variable).read();
}
