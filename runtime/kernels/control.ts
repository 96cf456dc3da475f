/**
 * Functional control flow (TF2): PartitionedCall / StatefulPartitionedCall,
 * While / StatelessWhile, If / StatelessIf, Case / StatelessCase. Bodies are
 * library functions compiled once at load (the compiler requires every
 * function named in an attr); here they are only called.
 */
import { checkCancelled } from '../cancellation.js';
import { dtypeShortName } from '../dtypes.js';
import { invalidArgument } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { LoopMemory, loopScopesEnabled } from './loop_scope.js';
import { registerKernel } from './registry.js';

/** TensorFlow's truth value of a predicate: scalar → nonzero/non-empty; otherwise → has elements. */
export function truthy(t: Tensor): boolean {
  if (t.rank > 0) return t.size > 0;
  const v = t.values();
  const x = (v as ArrayLike<unknown>)[0];
  if (t.dtype === 'string') return (x as Uint8Array).length > 0;
  if (typeof x === 'bigint') return x !== 0n;
  return x !== 0 && x !== undefined;
}

registerKernel({
  op: ['PartitionedCall', 'StatefulPartitionedCall'],
  stateful: true,
  kernel: (ctx) => ctx.functions.call(ctx.attrs.func('f'), ctx.inputs),
});

/** Safety net for a loop whose condition never turns false. */
const MAX_ITERATIONS = 1 << 30;

registerKernel({
  op: ['While', 'StatelessWhile'],
  stateful: true,
  kernel: (ctx) => {
    const cond = ctx.attrs.func('cond');
    const body = ctx.attrs.func('body');
    const memory = loopScopesEnabled() ? new LoopMemory() : undefined;
    let vars = ctx.inputs;
    for (let i = 0; ; i++) {
      if (i >= MAX_ITERATIONS) throw invalidArgument(`While loop ${ctx.node.name} exceeded ${MAX_ITERATIONS} iterations`);
      checkCancelled();
      memory?.beginIteration();
      let next: Tensor[] | undefined;
      try {
        const [c] = ctx.functions.call(cond, vars);
        if (truthy(c)) {
          next = ctx.functions.call(body, vars);
          if (next.length !== vars.length) {
            throw invalidArgument(`While body ${body.name} returned ${next.length} values for ${vars.length} loop variables`);
          }
        }
      } finally {
        // Frees the iteration's intermediates and the variables it replaced (loop_scope.ts); on an error, all it made.
        memory?.endIteration(next);
      }
      if (next === undefined) return vars;
      vars = next;
    }
  },
});

registerKernel({
  op: ['If', 'StatelessIf'],
  stateful: true,
  kernel: (ctx) => {
    const [cond, ...args] = ctx.inputs;
    const branch = truthy(cond) ? ctx.attrs.func('then_branch') : ctx.attrs.func('else_branch');
    return ctx.functions.call(branch, args);
  },
});

registerKernel({
  op: ['Case', 'StatelessCase'],
  stateful: true,
  kernel: (ctx) => {
    const [indexT, ...args] = ctx.inputs;
    const branches = ctx.attrs.funcs('branches');
    const index = Number((indexT.values() as Int32Array)[0]);
    // Out-of-range indices run the last branch (the default), as TF does.
    const b = index >= 0 && index < branches.length ? branches[index] : branches[branches.length - 1];
    return ctx.functions.call(b, args);
  },
});

/** A graph input. Reached only when nothing fed it: TF's error for a missing feed. */
registerKernel({
  op: 'Placeholder',
  stateful: true,
  kernel: (ctx) => {
    const dtype = ctx.attrs.has('dtype') ? ` with dtype ${dtypeShortName(ctx.attrs.type('dtype'))}` : '';
    throw invalidArgument(`You must feed a value for placeholder tensor '${ctx.node.name}'${dtype}`);
  },
});

// TF1 conditionals: Switch and Merge are executed by the plan itself, which
// tracks dead branches (graph/plan.ts); these kernels only let them compile.
for (const op of ['Switch', 'RefSwitch', 'Merge', 'RefMerge']) {
  registerKernel({
    op,
    stateful: true,
    outputs: op.endsWith('Switch') ? [{ name: 'output_false' }, { name: 'output_true' }] : [{ name: 'output' }, { name: 'value_index' }],
    kernel: (ctx) => {
      throw invalidArgument(`${ctx.node.op} ran outside a plan that tracks TF1 dead branches`);
    },
  });
}
