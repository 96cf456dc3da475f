/**
 * The core of the graph builder: a Scope is the top-level graph or one
 * function body under construction. `scope.op(type, inputs, attrs)` emits a
 * NodeDef the way TensorFlow does:
 *  - the op must be one of builder_opdefs.ts; inputs are checked against its
 *    arg types, and type / number / type-list attrs (T, N, Tin...) are
 *    inferred from the inputs; every attr without a default must be given;
 *  - attrs equal to their default are left out when the model strips
 *    defaults (TF2's SavedModel export does; the loader re-adds them from the
 *    op registry, which keeps older consumers compatible);
 *  - names are unique in the scope ("Mul", "Mul_1"), under name scopes
 *    ("map/while/add");
 *  - references are "node" / "node:1" in the graph and "node:out_arg:0" in
 *    function bodies.
 * A function body may use an Output of an enclosing scope: it is captured
 * as an extra input argument (as tf.function captures), and whoever calls
 * the function passes the outer value.
 */
import { type DType, dtypeToEnum } from '../dtypes.js';
import { internal } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { builderOp, tensorShape } from './builder_opdefs.js';
import type { ArgDef, AttrList, AttrValue, FunctionDef, NodeDef, OpAttrDef, OpDef } from './types.js';

/** A static shape: dims with -1 for unknown ones, or null when even the rank is unknown. */
export type Dims = readonly number[] | null;

/** One output of a node (or a function argument) in a scope, with its dtype and static shape. */
export class Output {
  constructor(
    readonly scope: Scope,
    /** The reference used as a node input in `scope` ("x", "x:1", "x:output:0"). */
    readonly ref: string,
    /** The node (or function argument) producing it. */
    readonly node: string,
    readonly dtype: DType,
    readonly shape: Dims,
  ) {}

  /** Graph tensor name ("x:0"), as signatures name tensors; only for outputs of the top-level graph. */
  get tensorName(): string {
    if (this.scope.kind !== 'graph') throw internal(`${this.ref} is inside function ${this.scope.label}, not a graph tensor`);
    return this.ref.includes(':') ? this.ref : `${this.ref}:0`;
  }
}

/** A function of the library, ready to be called. */
export interface FunctionHandle {
  readonly name: string;
  /** Declared inputs (captured values are passed after them, automatically). */
  readonly inputs: readonly ArgSpec[];
  readonly outputs: readonly { dtype: DType; shape: Dims }[];
  /** Outer values the body captured, in argument order after the declared inputs. */
  readonly captures: readonly Output[];
  readonly stateful: boolean;
}

export interface ArgSpec {
  name: string;
  dtype: DType;
  shape: Dims;
}

/** Attr values in TS form; the op definition's attr type decides how each is encoded. */
export type AttrInput =
  | string
  | number
  | boolean
  | Uint8Array
  | Tensor
  | FunctionHandle
  | null
  | readonly number[]
  | readonly string[]
  | readonly Dims[];

export interface OpOptions {
  /** Node name (made unique, under the current name scope); defaults to the op type. */
  name?: string;
  /** Exact node name, already made unique with uniqueName() (for "Reshape" and its "Reshape/shape"). */
  fullName?: string;
  /** Nodes that must run first (control inputs). */
  control?: readonly string[];
  /** Static shapes of the outputs, when the caller knows them. */
  shapes?: readonly Dims[];
}

/** What a Scope needs from the model it belongs to. */
export interface ModelContext {
  readonly stripDefaultAttrs: boolean;
  /** Records an op type for the stripped_op_list. */
  useOp(def: OpDef): void;
  /** A fresh number for function names (__inference_serving_12). */
  uid(): number;
  addFunction(def: FunctionDef): void;
}

const enc = new TextEncoder();
const emptyList = (): AttrList => ({ s: [], i: [], f: [], b: [], type: [], shape: [], tensor: [], func: [] });

function isHandle(v: AttrInput): v is FunctionHandle {
  return typeof v === 'object' && v !== null && 'captures' in v && 'name' in v;
}

/** Encodes a TS attr value for an attr of type `type` ("int", "list(type)"...). */
export function attrValue(type: string, v: AttrInput, where: string): AttrValue {
  const bad = (): never => {
    throw internal(`${where}: value ${String(v)} does not fit attr type ${type}`);
  };
  switch (type) {
    case 'type':
      return typeof v === 'string' && dtypeToEnum(v as DType) !== undefined ? { kind: 'type', type: v as DType } : bad();
    case 'int':
      return typeof v === 'number' && Number.isInteger(v) ? { kind: 'i', i: v } : bad();
    case 'float':
      return typeof v === 'number' ? { kind: 'f', f: v } : bad();
    case 'bool':
      return typeof v === 'boolean' ? { kind: 'b', b: v } : bad();
    case 'string':
      return typeof v === 'string' ? { kind: 's', s: enc.encode(v) } : v instanceof Uint8Array ? { kind: 's', s: v } : bad();
    case 'shape':
      return v === null || Array.isArray(v) ? { kind: 'shape', shape: tensorShape(v as Dims) } : bad();
    case 'tensor':
      return typeof v === 'object' && v !== null && 'dtype' in v && 'shape' in v && !isHandle(v) ? { kind: 'tensor', tensor: v as Tensor } : bad();
    case 'func':
      if (typeof v === 'string') return { kind: 'func', func: { name: v, attr: {} } };
      return v !== null && isHandle(v) ? { kind: 'func', func: { name: v.name, attr: {} } } : bad();
    default: {
      const list = emptyList();
      if (!Array.isArray(v)) return bad();
      const items = v as readonly unknown[];
      if (type === 'list(type)') {
        if (!items.every((d) => dtypeToEnum(d as DType) !== undefined)) return bad();
        list.type = items as DType[];
      }
      else if (type === 'list(int)') list.i = items as number[];
      else if (type === 'list(float)') list.f = items as number[];
      else if (type === 'list(string)') list.s = (items as string[]).map((s) => enc.encode(s));
      else if (type === 'list(shape)') list.shape = (items as Dims[]).map(tensorShape);
      else return bad();
      return { kind: 'list', list };
    }
  }
}

/** True when two attr values encode the same thing (used to strip defaults; tensors never compare equal). */
export function sameAttr(a: AttrValue, b: AttrValue): boolean {
  const hasTensor = (x: AttrValue) => x.kind === 'tensor' || (x.kind === 'list' && x.list.tensor.length > 0);
  if (hasTensor(a) || hasTensor(b)) return false;
  const bytes = (_k: string, val: unknown) => (val instanceof Uint8Array ? Array.from(val) : val);
  return JSON.stringify(a, bytes) === JSON.stringify(b, bytes);
}

/** Lowercase identifier from a node name, as TF names captured arguments ("dense/kernel" → "dense_kernel"). */
export function argNameOf(name: string): string {
  const s = name.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  return /^[a-z]/.test(s) ? s : `arg_${s}`;
}

let scopeIds = 0;

export class Scope {
  readonly nodes: NodeDef[] = [];
  /** Declared and captured arguments, for function scopes. */
  readonly args: ArgSpec[] = [];
  /** Number of declared arguments; captured ones follow. */
  private declared = 0;
  private readonly captured = new Map<string, { outer: Output; inner: Output }>();
  private readonly used = new Set<string>();
  private readonly emitted = new Set<string>();
  private prefix = '';
  private sealed = false;
  private statefulOps = false;
  private readonly id = ++scopeIds;

  constructor(
    readonly model: ModelContext,
    readonly kind: 'graph' | 'function',
    /** For messages: "graph" or the function's name. */
    readonly label: string,
    namePrefix = '',
  ) {
    this.prefix = namePrefix;
  }

  /** True once a stateful op (or a call of a stateful function) was emitted here. */
  get stateful(): boolean {
    return this.statefulOps;
  }

  /** Makes `name` unique in this scope under the current name scope, and reserves it. */
  uniqueName(name: string): string {
    const base = this.prefix ? `${this.prefix}/${name}` : name;
    let candidate = base;
    for (let k = 1; this.used.has(candidate); k++) candidate = `${base}_${k}`;
    this.used.add(candidate);
    return candidate;
  }

  /** Runs `fn` with node names under a fresh name scope ("map", then "map_1"); returns its result. */
  nameScope<T>(name: string, fn: () => T): T {
    const saved = this.prefix;
    const full = this.uniqueName(name);
    this.prefix = full;
    try {
      return fn();
    } finally {
      this.prefix = saved;
    }
  }

  /** The current name scope ("map/while"), empty at the top. */
  get namePrefix(): string {
    return this.prefix;
  }

  /** Declares an input argument of a function scope. */
  addArg(name: string, dtype: DType, shape: Dims): Output {
    if (this.kind !== 'function') throw internal('only function scopes have arguments');
    if (this.sealed) throw internal(`function ${this.label} is already finished`);
    const argName = this.uniqueArgName(name);
    this.args.splice(this.declared, 0, { name: argName, dtype, shape });
    this.declared++;
    return new Output(this, argName, argName, dtype, shape);
  }

  private uniqueArgName(name: string): string {
    let candidate = name;
    for (let k = 1; this.used.has(candidate); k++) candidate = `${name}_${k}`;
    this.used.add(candidate);
    return candidate;
  }

  /** Identifies an output across scopes (for de-duplicating captures). */
  static key(x: Output): string {
    return `${x.scope.id}|${x.ref}`;
  }

  /** `x` as seen from this scope: itself, or the argument capturing it from an enclosing scope. */
  resolve(x: Output): Output {
    if (x.scope === this) return x;
    if (this.kind === 'graph') throw internal(`${x.ref} belongs to function ${x.scope.label} and cannot be used in the graph`);
    const key = Scope.key(x);
    const found = this.captured.get(key);
    if (found) return found.inner;
    if (this.sealed) throw internal(`function ${this.label} is finished; it cannot capture ${x.ref} any more`);
    const argName = this.uniqueArgName(argNameOf(x.node));
    this.args.push({ name: argName, dtype: x.dtype, shape: x.shape });
    const inner = new Output(this, argName, argName, x.dtype, x.shape);
    this.captured.set(key, { outer: x, inner });
    return inner;
  }

  /** Outer values captured so far, in argument order. */
  get captures(): Output[] {
    return [...this.captured.values()].map((c) => c.outer);
  }

  /** Reorders captured arguments to follow `outer` (capturing any that are missing), so two bodies share one signature. */
  alignCaptures(outer: readonly Output[]): Output[] {
    const inner = outer.map((x) => this.resolve(x));
    if (this.captured.size !== outer.length) throw internal(`function ${this.label} captured values outside the aligned set`);
    const specs = inner.map((o) => this.args.find((a) => a.name === o.ref)!);
    this.args.splice(this.declared, this.args.length - this.declared, ...specs);
    const entries = outer.map((x) => [Scope.key(x), this.captured.get(Scope.key(x))!] as const);
    this.captured.clear();
    for (const [k, v] of entries) this.captured.set(k, v);
    return inner;
  }

  /**
   * Emits one node. `inputs` follow the op's input args (an array for list
   * args); returns its outputs, flattened in OpDef order.
   */
  op(type: string, inputs: readonly (Output | readonly Output[])[], attrs: Record<string, AttrInput> = {}, opts: OpOptions = {}): Output[] {
    const { def, allowed } = builderOp(type);
    const name = opts.fullName ?? this.uniqueName(opts.name ?? type);
    const where = `${this.label}: node ${name} (${type})`;
    if (this.emitted.has(name)) throw internal(`${where}: a node of that name already exists`);
    this.emitted.add(name);
    this.used.add(name);
    if (inputs.length !== def.inputArg.length) throw internal(`${where}: expects ${def.inputArg.length} inputs, got ${inputs.length}`);
    const attr: Record<string, AttrValue> = {};
    const attrDef = (n: string): OpAttrDef => {
      const a = def.attr.find((d) => d.name === n);
      if (!a) throw internal(`${where}: op has no attr ${n}`);
      return a;
    };
    for (const [k, v] of Object.entries(attrs)) attr[k] = attrValue(attrDef(k).type, v, `${where} attr ${k}`);
    const setInferred = (n: string, v: AttrValue) => {
      const prev = attr[n];
      if (prev && !sameAttr(prev, v)) throw internal(`${where}: inputs disagree on attr ${n}`);
      attr[n] = v;
    };
    const refs: string[] = [];
    def.inputArg.forEach((arg, i) => {
      const given = inputs[i];
      const isList = arg.numberAttr !== '' || arg.typeListAttr !== '';
      if (Array.isArray(given) !== isList) throw internal(`${where}: input ${arg.name} must be ${isList ? 'a list' : 'one tensor'}`);
      const xs = (isList ? (given as Output[]) : [given as Output]).map((x) => this.resolve(x));
      for (const x of xs) refs.push(x.ref);
      if (arg.numberAttr) setInferred(arg.numberAttr, { kind: 'i', i: xs.length });
      if (arg.typeListAttr) setInferred(arg.typeListAttr, attrValue('list(type)', xs.map((x) => x.dtype), where));
      for (const x of xs) {
        if (arg.type !== undefined && x.dtype !== arg.type) throw internal(`${where}: input ${arg.name} must be ${arg.type}, got ${x.dtype}`);
        if (arg.typeAttr) setInferred(arg.typeAttr, { kind: 'type', type: x.dtype });
      }
    });
    for (const a of def.attr) {
      const v = attr[a.name];
      if (!v) {
        if (!a.defaultValue) throw internal(`${where}: missing attr ${a.name}`);
        continue;
      }
      const ok = allowed.get(a.name);
      if (ok && v.kind === 'type' && !ok.includes(v.type)) throw internal(`${where}: attr ${a.name}=${v.type} is not allowed`);
      if (this.model.stripDefaultAttrs && a.defaultValue && sameAttr(v, a.defaultValue)) delete attr[a.name];
    }
    const full = { ...withDefaults(def, attr) };
    for (const c of opts.control ?? []) refs.push(`^${c}`);
    this.nodes.push({ name, op: type, input: refs, device: '', attr: sortedRecord(attr) });
    this.model.useOp(def);
    if (def.isStateful) this.statefulOps = true;
    return this.outputsOf(name, def, full, opts.shapes);
  }

  /** Marks this scope stateful (a call of a stateful function). */
  markStateful(): void {
    this.statefulOps = true;
  }

  private outputsOf(name: string, def: OpDef, attr: Record<string, AttrValue>, shapes: readonly Dims[] | undefined): Output[] {
    const outs: Output[] = [];
    for (const arg of def.outputArg) {
      let dtypes: DType[];
      if (arg.typeListAttr) dtypes = (attr[arg.typeListAttr] as { list: AttrList }).list.type;
      else {
        const dtype = arg.type ?? (attr[arg.typeAttr] as { type: DType }).type;
        const n = arg.numberAttr ? (attr[arg.numberAttr] as { i: number }).i : 1;
        dtypes = new Array<DType>(n).fill(dtype);
      }
      dtypes.forEach((dtype, j) => {
        const k = outs.length;
        const ref = this.kind === 'graph' ? (k === 0 ? name : `${name}:${k}`) : `${name}:${arg.name}:${j}`;
        outs.push(new Output(this, ref, name, dtype, shapes?.[k] ?? null));
      });
    }
    return outs;
  }

  /**
   * Emits a call of a library function: StatefulPartitionedCall when the
   * function is stateful, else PartitionedCall; its captures are passed
   * after `args`.
   */
  call(fn: FunctionHandle, args: readonly Output[], name?: string): Output[] {
    if (args.length !== fn.inputs.length) throw internal(`${this.label}: function ${fn.name} takes ${fn.inputs.length} inputs, got ${args.length}`);
    const type = fn.stateful ? 'StatefulPartitionedCall' : 'PartitionedCall';
    const outs = this.op(type, [[...args, ...fn.captures]], { Tout: fn.outputs.map((o) => o.dtype), f: fn }, { name: name ?? type, shapes: fn.outputs.map((o) => o.shape) });
    if (fn.stateful) this.markStateful();
    return outs;
  }

  /**
   * Finishes a function scope into a FunctionDef (registered with the model):
   * each result is returned through an Identity node, outputs named
   * "identity", "identity_1"... as TF names them.
   */
  finishFunction(results: readonly Output[]): FunctionHandle {
    if (this.kind !== 'function') throw internal('finishFunction on the graph');
    if (this.sealed) throw internal(`function ${this.label} is already finished`);
    const saved = this.prefix;
    this.prefix = '';
    const outputs = results.map((r, i) => {
      const id = this.op('Identity', [r], {}, { shapes: [r.shape] })[0];
      return { argName: i === 0 ? 'identity' : `identity_${i}`, out: id };
    });
    this.prefix = saved;
    this.sealed = true;
    const argDef = (name: string, type: DType): ArgDef => ({ name, type, typeAttr: '', numberAttr: '', typeListAttr: '', isRef: false });
    const def: FunctionDef = {
      signature: {
        name: this.label,
        inputArg: this.args.map((a) => argDef(a.name, a.dtype)),
        outputArg: outputs.map((o) => argDef(o.argName, o.out.dtype)),
        controlOutput: [],
        attr: [],
        isStateful: this.statefulOps,
      },
      attr: {},
      nodeDef: this.nodes,
      ret: Object.fromEntries(outputs.map((o) => [o.argName, o.out.ref])),
      controlRet: {},
    };
    this.model.addFunction(def);
    return {
      name: this.label,
      inputs: this.args.slice(0, this.declared),
      outputs: outputs.map((o) => ({ dtype: o.out.dtype, shape: o.out.shape })),
      captures: this.captures,
      stateful: this.statefulOps,
    };
  }
}

function withDefaults(def: OpDef, attr: Record<string, AttrValue>): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {};
  for (const a of def.attr) {
    const v = attr[a.name] ?? a.defaultValue;
    if (v) out[a.name] = v;
  }
  return out;
}

function sortedRecord<T>(r: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.keys(r).sort().map((k) => [k, r[k]]));
}
