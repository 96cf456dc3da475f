/**
 * Assert, Print and PrintV2 (tensorflow/core/kernels/logging_ops.cc). Assert
 * fails the run with INVALID_ARGUMENT listing its data when the condition is
 * false; Print passes its input through and PrintV2 does nothing visible: a
 * server does not echo request data to its log.
 */
import { invalidArgument } from '../errors.js';
import { registerKernel } from './registry.js';

registerKernel({
  op: 'Assert',
  stateful: true,
  kernel: (ctx) => {
    const [cond, ...data] = ctx.inputs;
    if (cond.dtype !== 'bool' || cond.size !== 1) throw invalidArgument(`In[0] should be a scalar: [${cond.shape}]`);
    if ((cond.values() as ArrayLike<number | boolean>)[0]) return [];
    const summarize = ctx.attrs.int('summarize', 3);
    const shown = data.map((t) => {
      const v = Array.from(t.values() as ArrayLike<unknown>).slice(0, summarize);
      const text = v.map((x) => (x instanceof Uint8Array ? Buffer.from(x).toString('utf8') : String(x)));
      return t.rank === 0 ? text[0] : `[${text.join(' ')}${t.size > summarize ? '...' : ''}]`;
    });
    throw invalidArgument(`assertion failed: [${shown.join('] [')}]`);
  },
});

registerKernel({ op: 'Print', stateful: true, kernel: (ctx) => [ctx.inputs[0]] });
registerKernel({ op: 'PrintV2', stateful: true, kernel: () => [] });
