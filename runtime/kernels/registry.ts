/**
 * The kernel registry: TF op name → kernel. Kernel families (math.ts, nn.ts,
 * array.ts, control.ts, string.ts, image.ts, parsing.ts, state.ts...) each call
 * `registerKernel` at import; kernels/index.ts imports every family.
 *
 * Contract of a kernel:
 *  - synchronous; receives input tensors (ref inputs already read, unless the
 *    op lists them in `refInputs`) and typed attrs; returns its outputs in
 *    OpDef order, list args flattened;
 *  - never disposes or mutates its inputs (the executor owns them); it may
 *    return an input unchanged (Identity);
 *  - throws StatusError (usually INVALID_ARGUMENT) with TensorFlow's wording
 *    for bad input; the executor adds the node name.
 * Numeric work goes through tfjs ops (WASM) for float32/int32/bool; float64,
 * int64 beyond int32, strings, resources and variants are handled on the host.
 */
import type { DType } from '../dtypes.js';
import type { NameAttrList, NodeDef } from '../graph/types.js';
import type { Tensor } from '../tensor.js';
import type { Attrs } from './attrs.js';
import { roundHalfOutputs } from './half.js';

/** Where variables and other per-model state live (one per loaded model). */
export interface ResourceManager {
  /** Finds or creates the variable with this key (container/shared_name, or the node name for VariableV2). */
  variable(key: string, dtype: DType, shape: readonly number[]): Variable;
  lookup(key: string): Variable | undefined;
  all(): Variable[];
  /** The checkpoint opened for this prefix (RestoreV2 reads variables through it). */
  checkpoint(prefix: string): CheckpointReader;
  /**
   * Other per-model resources (lookup tables...): the one stored under `key`,
   * made by `create` on first use. It lives as long as the loaded model.
   */
  resource<T extends object>(key: string, create: () => T): T;
  /**
   * Reads a file the model names at run time (a vocabulary asset). Only files
   * inside the model's folder can be read (INVALID_ARGUMENT otherwise), so a
   * model cannot read the server's other files.
   */
  readModelFile(file: string): Buffer;
}

/** Read access to a TensorBundle checkpoint (runtime/checkpoint/bundle_reader.ts). */
export interface CheckpointReader {
  has(key: string): boolean;
  read(key: string): Tensor;
}

/** A variable's state. `value` is undefined until restored or assigned. */
export interface Variable {
  readonly key: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  value: Tensor | undefined;
  /** Replaces the value (keeps the new tensor alive, disposes the old one). */
  assign(t: Tensor): void;
  /** The value, or FAILED_PRECONDITION naming the variable when uninitialised. */
  read(): Tensor;
}

/** Calls into the function library (PartitionedCall, While, If, map_fn bodies). */
export interface FunctionCaller {
  call(fn: NameAttrList, inputs: Tensor[]): Tensor[];
}

export interface KernelContext {
  readonly node: NodeDef;
  readonly attrs: Attrs;
  readonly inputs: Tensor[];
  readonly resources: ResourceManager;
  readonly functions: FunctionCaller;
  /** For kernels declaring `cache`: this step's cache (absent when folding constants). */
  readonly cache?: KernelCache;
}

/**
 * Values a kernel derives from some of its inputs (folded filters, say) and
 * keeps for later runs while those inputs stay the same persistent tensors.
 * Owned by the plan step; freed when the plan is disposed.
 */
export class KernelCache {
  private key: readonly Tensor[] | undefined;
  private values: Tensor[] | undefined;

  /** The values stored for exactly these input tensors, if any. */
  get(key: readonly Tensor[]): Tensor[] | undefined {
    const k = this.key;
    if (!k || k.length !== key.length) return undefined;
    for (let i = 0; i < k.length; i++) if (k[i] !== key[i]) return undefined;
    return this.values;
  }

  /** Stores values derived from `key` when every key tensor is persistent (else they would never match again); true when stored. */
  set(key: readonly Tensor[], values: Tensor[]): boolean {
    if (!key.every((t) => t.isPersistent)) return false;
    this.dispose();
    this.key = key.slice();
    this.values = values.map((v) => v.keep());
    return true;
  }

  dispose(): void {
    for (const v of this.values ?? []) v.dispose();
    this.key = undefined;
    this.values = undefined;
  }
}

export type Kernel = (ctx: KernelContext) => Tensor[];

/** An output argument of the op, in OpDef order; `count` for list arguments (number_attr / type_list_attr). */
export interface OutputArg {
  name: string;
  count?: (attrs: Attrs) => number;
}

export interface KernelDef {
  /** Op name(s) this kernel implements. */
  op: string | string[];
  kernel: Kernel;
  /**
   * Output args by name, needed to resolve "node:arg:i" references inside
   * function bodies. Omit for ops whose outputs form one argument (most ops).
   */
  outputs?: OutputArg[];
  /** Input indices that receive a ref variable itself instead of its value (Assign, AssignAdd...). */
  refInputs?: number[];
  /** Stateful ops are never constant-folded and always run (variables, random, I/O). */
  stateful?: boolean;
  /** The op outputs a TF1 reference variable (VariableV2): consumers get its value unless they list the input in `refInputs`. */
  refOutput?: boolean;
  /**
   * Output i is input i, unchanged (Identity, IdentityN...): the compiler
   * turns such steps into slot aliases, so they cost nothing at run time.
   */
  passThrough?: boolean;
  /** The kernel gets a KernelCache per plan step (ctx.cache). */
  cache?: boolean;
}

const kernels = new Map<string, KernelDef>();

export function registerKernel(def: KernelDef): void {
  // float16/bfloat16 outputs are rounded to half precision at every op, as TF's CPU kernels store them (half.ts).
  const inner = def.kernel;
  const wrapped: KernelDef = def.passThrough ? def : { ...def, kernel: (ctx) => roundHalfOutputs(inner(ctx)) };
  for (const op of Array.isArray(def.op) ? def.op : [def.op]) {
    if (kernels.has(op)) throw new Error(`kernel for ${op} registered twice`);
    kernels.set(op, wrapped);
  }
}

export function kernelFor(op: string): KernelDef | undefined {
  return kernels.get(op);
}

export function supportedOps(): string[] {
  return [...kernels.keys()].sort();
}
