/**
 * A model's function library (GraphDef.library): compiles each FunctionDef
 * into a Plan once, on first reference at load time, and calls it for
 * PartitionedCall, While, If, Case and functions used directly as ops.
 * Also the CompileContext for every plan of the model: OpDefs for attr
 * defaults and output names, and the list of unsupported ops found.
 */
import { StatusError, internal, invalidArgument, unimplemented } from '../errors.js';
import type { FunctionCaller, ResourceManager } from '../kernels/registry.js';
import type { Tensor } from '../tensor.js';
import { compileBody, type CompileContext, type GraphBody } from './compiler.js';
import { GRAPH_PASSES, type GraphOptimizations } from './optimize/options.js';
import type { Plan, RunEnv } from './plan.js';
import type { FunctionDef, NameAttrList, OpDef } from './types.js';

export class FunctionLibrary implements FunctionCaller, CompileContext {
  private readonly defs = new Map<string, FunctionDef>();
  private readonly opDefs = new Map<string, OpDef>();
  private readonly plans = new Map<string, Plan>();
  private readonly compiling = new Set<string>();
  private readonly missing = new Map<string, Set<string>>();
  /** Per compile scope (a function, or one compileChecked body): its own missing ops and the functions it requires. */
  private readonly scopes = new Map<string, { missing: Map<string, Set<string>>; calls: Set<string> }>();
  private readonly scopeStack: string[] = [];
  private nextScope = 0;
  readonly foldEnv: RunEnv;

  constructor(
    functions: readonly FunctionDef[],
    strippedOpList: readonly OpDef[],
    readonly resources: ResourceManager,
    /** Load-time passes for every plan of this library (default: all). */
    readonly optimizations: GraphOptimizations = new Set(GRAPH_PASSES),
  ) {
    for (const op of strippedOpList) this.opDefs.set(op.name, op);
    for (const f of functions) {
      this.defs.set(f.signature.name, f);
      this.opDefs.set(f.signature.name, f.signature);
    }
    this.foldEnv = { resources, functions: this };
  }

  opDef(op: string): OpDef | undefined {
    return this.opDefs.get(op);
  }

  isFunction(name: string): boolean {
    return this.defs.has(name);
  }

  unsupported(op: string, nodeName: string): void {
    let s = this.missing.get(op);
    if (!s) this.missing.set(op, (s = new Set()));
    s.add(nodeName);
    const scope = this.currentScope();
    if (scope) {
      let own = scope.missing.get(op);
      if (!own) scope.missing.set(op, (own = new Set()));
      own.add(nodeName);
    }
  }

  private currentScope() {
    const top = this.scopeStack[this.scopeStack.length - 1];
    return top === undefined ? undefined : this.scopes.get(top);
  }

  private inScope<T>(key: string, fn: () => T): T {
    if (!this.scopes.has(key)) this.scopes.set(key, { missing: new Map(), calls: new Set() });
    this.scopeStack.push(key);
    try {
      return fn();
    } finally {
      this.scopeStack.pop();
    }
  }

  /** Unsupported ops reachable from a scope, through the functions it calls. */
  private missingFrom(key: string): Map<string, Set<string>> {
    const out = new Map<string, Set<string>>();
    const seen = new Set<string>();
    const visit = (k: string) => {
      if (seen.has(k)) return;
      seen.add(k);
      const scope = this.scopes.get(k);
      if (!scope) return;
      for (const [op, nodes] of scope.missing) {
        let s = out.get(op);
        if (!s) out.set(op, (s = new Set()));
        for (const n of nodes) s.add(n);
      }
      for (const c of scope.calls) visit(c);
    };
    visit(key);
    return out;
  }

  /**
   * Compiles a body that must be able to run: UNIMPLEMENTED (worded as
   * assertSupported) when it reaches an op the runtime lacks, directly or in
   * a function it calls. Unsupported ops elsewhere in the library do not matter.
   */
  compileChecked(body: GraphBody, what: string): Plan {
    const key = `body:${this.nextScope++}`;
    const plan = this.inScope(key, () => compileBody(body, this));
    const missing = this.missingFrom(key);
    this.scopes.delete(key);
    // The refused plan is dropped, not disposed: its folded constants may be
    // the graph's own Const tensors, shared with other plans.
    if (missing.size > 0) throw unimplemented(describeMissing(what, missing));
    return plan;
  }

  /** Unsupported ops found so far: op → node names. */
  unsupportedOps(): Map<string, string[]> {
    return new Map([...this.missing].map(([op, nodes]) => [op, [...nodes]]));
  }

  /** Throws UNIMPLEMENTED listing every unsupported op and the nodes using it, if any. */
  assertSupported(what: string): void {
    if (this.missing.size === 0) return;
    throw unimplemented(describeMissing(what, this.missing));
  }

  /** Compiles a graph body against this library (signature, restore or init plans). */
  compile(body: GraphBody): Plan {
    return compileBody(body, this);
  }

  requireFunction(name: string): void {
    this.currentScope()?.calls.add(`fn:${name}`);
    this.plan(name);
  }

  /** The compiled plan of a function, compiling it on first use. */
  plan(name: string): Plan {
    const cached = this.plans.get(name);
    if (cached) return cached;
    const def = this.defs.get(name);
    if (!def) throw invalidArgument(`Function ${name} is not defined in the SavedModel's function library`);
    if (this.compiling.has(name)) {
      throw unimplemented(`Function ${name} calls itself recursively, which the runtime does not support`);
    }
    this.compiling.add(name);
    try {
      for (const a of def.signature.inputArg) {
        if (a.numberAttr || a.typeListAttr) {
          throw unimplemented(`Function ${name}: list-typed input argument '${a.name}' is not supported`);
        }
      }
      const plan = this.inScope(`fn:${name}`, () => compileBody(
        {
          mode: 'function',
          nodes: def.nodeDef,
          feeds: def.signature.inputArg.map((a) => a.name),
          fetches: def.signature.outputArg.map((a) => {
            const r = def.ret[a.name];
            if (r === undefined) throw invalidArgument(`Function ${name} has no return value for output '${a.name}'`);
            return r;
          }),
          targets: Object.values(def.controlRet),
          label: `function ${name}`,
        },
        this,
      ));
      this.plans.set(name, plan);
      return plan;
    } finally {
      this.compiling.delete(name);
    }
  }

  call(fn: NameAttrList, inputs: Tensor[]): Tensor[] {
    const plan = this.plan(fn.name);
    if (inputs.length !== plan.feedSlots.length) {
      throw invalidArgument(`Function ${fn.name} expects ${plan.feedSlots.length} inputs, got ${inputs.length}`);
    }
    try {
      return plan.run(inputs, this.foldEnv);
    } catch (e) {
      if (e instanceof StatusError) throw e;
      throw internal(`in function ${fn.name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  dispose(): void {
    for (const p of this.plans.values()) p.dispose();
    this.plans.clear();
  }
}

function describeMissing(what: string, missing: Map<string, Set<string>>): string {
  const lines = [...missing].map(([op, nodes]) => {
    const list = [...nodes];
    return `  ${op} (used by ${list.slice(0, 5).join(', ')}${list.length > 5 ? `, and ${list.length - 5} more` : ''})`;
  });
  return `${what} uses ops the modelhost runtime does not support:\n${lines.join('\n')}`;
}
