/**
 * Functions and functional control flow for the graph builder, compiled the
 * way TF 2.x compiles them (tensorflow/python/ops/while_v2.py, map_fn.py):
 *
 *  - defineFunction: a FunctionDef "__inference_<name>_<uid>"; called with
 *    (Stateful)PartitionedCall, captured values passed after the inputs;
 *  - whileLoop: a While (or StatelessWhile, when neither body nor cond has a
 *    stateful op) over cond/body functions "<scope>_cond_<uid>" and
 *    "<scope>_body_<uid>". With maximumIterations the loop variables are
 *    prefixed by a loop counter and the maximum, and cond becomes
 *    `counter < max && cond(...)`, as while_v2 does. Values either function
 *    captures become extra loop variables that the body passes through;
 *  - mapFn: tf.map_fn — TensorListFromTensor over the elements,
 *    TensorListReserve for the results, a while loop whose body reads an
 *    element (TensorListGetItem), applies `fn` and writes the result
 *    (TensorListSetItem), then TensorListStack.
 */
import type { DType } from '../dtypes.js';
import { internal } from '../errors.js';
import { TfOps } from './builder_ops.js';
import { type ArgSpec, argNameOf, type Dims, type FunctionHandle, Output, Scope } from './builder_scope.js';

/** The most general shape covering both (for loop variables whose shape may change). */
export function relaxDims(a: Dims, b: Dims): Dims {
  if (a === null || b === null || a.length !== b.length) return null;
  return a.map((d, i) => (d === b[i] ? d : -1));
}

/** The most specific shape compatible with both; INTERNAL when they conflict. */
export function mergeDims(a: Dims, b: Dims): Dims {
  if (a === null) return b;
  if (b === null) return a;
  if (a.length !== b.length) throw internal(`shapes [${a.join(',')}] and [${b.join(',')}] are incompatible`);
  return a.map((d, i) => {
    if (d === -1) return b[i];
    if (b[i] !== -1 && b[i] !== d) throw internal(`shapes [${a.join(',')}] and [${b.join(',')}] are incompatible`);
    return d;
  });
}

export interface MapFnOutput {
  /** dtype of each result (fn_output_signature). */
  dtype: DType;
  /** Static shape of each result when known; lets an empty batch stack to [0, ...shape]. */
  shape?: Dims;
}

export class Tf extends TfOps {
  /** A library function "__inference_<name>_<uid>" whose body `body` builds from its inputs. */
  defineFunction(name: string, inputs: readonly ArgSpec[], body: (tf: Tf, ...args: Output[]) => Output | readonly Output[]): FunctionHandle {
    const scope = new Tf(this.model, 'function', `__inference_${name}_${this.model.uid()}`);
    const args = inputs.map((a) => scope.addArg(a.name, a.dtype, a.shape));
    const result = body(scope, ...args);
    return scope.finishFunction(result instanceof Output ? [result] : result);
  }

  /** An int32 Const holding a TensorList element shape: -1 when the rank is unknown, else the dims (-1 unknown). */
  elementShape(dims: Dims, name: string): Output {
    return dims === null ? this.constant(-1, { dtype: 'int32', name }) : this.constant([...dims], { dtype: 'int32', name });
  }

  /** tf.while_loop: returns the final values of `loopVars`. */
  whileLoop(
    cond: (tf: Tf, ...vars: Output[]) => Output,
    body: (tf: Tf, ...vars: Output[]) => readonly Output[],
    loopVars: readonly Output[],
    opts: { name?: string; maximumIterations?: Output; parallelIterations?: number } = {},
  ): Output[] {
    const full = this.uniqueName(opts.name ?? 'while');
    const fnBase = argNameOf(full);
    const extra: Output[] = [];
    if (opts.maximumIterations) {
      if (opts.maximumIterations.dtype !== 'int32') throw internal('whileLoop: maximumIterations must be int32');
      extra.push(this.constant(0, { dtype: 'int32', fullName: `${full}/loop_counter` }), opts.maximumIterations);
    }
    const vars = [...extra, ...loopVars];
    const declare = (scope: Tf) =>
      vars.map((v, i) => {
        const name = i < extra.length ? `${fnBase}_${i === 0 ? 'loop_counter' : 'maximum_iterations'}` : 'placeholder';
        return scope.addArg(name, v.dtype, v.shape);
      });

    const condScope = new Tf(this.model, 'function', `${fnBase}_cond_${this.model.uid()}`, full);
    const condArgs = declare(condScope);
    let pred = cond(condScope, ...condArgs.slice(extra.length));
    if (extra.length > 0) pred = condScope.logicalAnd(condScope.less(condArgs[0], condArgs[1]), pred);
    if (pred.dtype !== 'bool') throw internal(`whileLoop: cond must return bool, got ${pred.dtype}`);

    const bodyScope = new Tf(this.model, 'function', `${fnBase}_body_${this.model.uid()}`, full);
    const bodyArgs = declare(bodyScope);
    let next = [...body(bodyScope, ...bodyArgs.slice(extra.length))];
    if (next.length !== loopVars.length) throw internal(`whileLoop: body returned ${next.length} values for ${loopVars.length} loop variables`);
    next.forEach((v, i) => {
      if (v.dtype !== loopVars[i].dtype) throw internal(`whileLoop: loop variable ${i} is ${loopVars[i].dtype} but the body returns ${v.dtype}`);
    });
    if (extra.length > 0) next = [bodyScope.add(bodyArgs[0], 1), bodyArgs[1], ...next];

    const seen = new Set<string>();
    const captures = [...condScope.captures, ...bodyScope.captures].filter((x) => {
      const k = Scope.key(x);
      return seen.has(k) ? false : (seen.add(k), true);
    });
    condScope.alignCaptures(captures);
    const passThrough = bodyScope.alignCaptures(captures);
    const condFn = condScope.finishFunction([pred]);
    const bodyFn = bodyScope.finishFunction([...next, ...passThrough]);

    const inputs = [...vars, ...captures];
    const shapes = inputs.map((v, i) => relaxDims(v.shape, bodyFn.outputs[i].shape));
    const stateful = condFn.stateful || bodyFn.stateful;
    const outs = this.op(
      stateful ? 'While' : 'StatelessWhile',
      [inputs],
      { cond: condFn, body: bodyFn, output_shapes: shapes, parallel_iterations: opts.parallelIterations ?? 10 },
      { fullName: full, shapes },
    );
    if (stateful) this.markStateful();
    return outs.slice(extra.length, extra.length + loopVars.length);
  }

  /** tf.map_fn(fn, elems, fn_output_signature=out) over the first dimension of `elems`. */
  mapFn(elems: Output, fn: (tf: Tf, elem: Output) => Output, out: MapFnOutput, name = 'map'): Output {
    return this.nameScope(name, () => {
      const n = this.element(this.shapeOf(elems), 0);
      const elemShape: Dims = elems.shape === null ? null : elems.shape.slice(1);
      const reserveShape = this.elementShape(out.shape ?? null, 'TensorArrayV2_1/element_shape');
      const acc = this.op('TensorListReserve', [reserveShape, n], { element_dtype: out.dtype, shape_type: 'int32' }, { name: 'TensorArrayV2_1', shapes: [[]] })[0];
      const unstackShape = this.elementShape(elemShape, 'TensorArrayUnstack/TensorListFromTensor/element_shape');
      const list = this.op('TensorListFromTensor', [elems, unstackShape], { shape_type: 'int32' }, { name: 'TensorArrayUnstack/TensorListFromTensor', shapes: [[]] })[0];
      const i0 = this.constant(0, { dtype: 'int32', name: 'Const' });
      let written: Dims = out.shape ?? null;
      const [, result] = this.whileLoop(
        (tf, i) => tf.less(i, n),
        (tf, i, ta) => {
          const readShape = tf.elementShape(elemShape, 'TensorArrayV2Read/Const');
          const item = tf.op('TensorListGetItem', [list, i, readShape], { element_dtype: elems.dtype }, { name: 'TensorArrayV2Read/TensorListGetItem', shapes: [elemShape] })[0];
          const value = fn(tf, item);
          if (value.dtype !== out.dtype) throw internal(`mapFn: fn returned ${value.dtype}, expected ${out.dtype}`);
          written = mergeDims(written, value.shape);
          const ta2 = tf.op('TensorListSetItem', [ta, i, value], {}, { name: 'TensorArrayV2Write/TensorListSetItem', shapes: [[]] })[0];
          return [tf.add(i, 1), ta2];
        },
        [i0, acc],
        { maximumIterations: n },
      );
      const stackShape = this.elementShape(written, 'TensorArrayV2Stack/TensorListStack/element_shape');
      const batch = elems.shape === null ? -1 : elems.shape[0];
      return this.op('TensorListStack', [result, stackShape], { element_dtype: out.dtype }, {
        name: 'TensorArrayV2Stack/TensorListStack',
        shapes: [written === null ? null : [batch, ...written]],
      })[0];
    });
  }
}
