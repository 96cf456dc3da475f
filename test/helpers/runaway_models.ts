/**
 * SavedModels that misbehave on request, built with the project's graph
 * builder, for the tests of deadlines, cancellation and worker recovery:
 *
 *  - writeCountingModel: input `n` (int32 scalar); a tf.while_loop adds 1 to
 *    a counter until it reaches n and returns it. A huge n runs for hours.
 *  - writeMemoryBombModel: input `x` (float32 [-1]); the outer products of x
 *    with `copies` scaled copies of itself, all held until the run ends, each
 *    reduced to its max; output `y` is their sum. With 16383 elements each
 *    product is just under 2^28 float32 (1 GiB, within a 2^28 element limit) and
 *    five of them need more than the 4 GiB a WASM instance can address, so
 *    the WASM engine aborts; with a few elements it answers at once.
 *  - writeLongKernelModel: input `x` (float32 [-1, -1]); output the max of
 *    x·x: for a 4096 x 4096 x one MatMul of 137 GFLOP, a single kernel no
 *    cancellation check can interrupt.
 *  - writeSlowEchoModel: input `x` (float32 [-1]); output `y` = x after a
 *    tf.while_loop of `iterations` steps (the loop carries x): the same
 *    signature at any cost, so a slow version can stand in for a fast one.
 *  - countingWarmup: a warm-up file (assets.extra/tf_serving_warmup_requests)
 *    replaying one predict of the counting model.
 */
import { ModelBuilder } from '../../runtime/graph/builder.js';
import { tensorToProto } from '../../runtime/proto/tensor_proto.js';
import { protoType } from '../../runtime/proto/schema.js';
import { writeSavedModel } from '../../runtime/savedmodel/writer.js';
import { Tensor } from '../../runtime/tensor.js';
import { writeTfRecords } from '../../server/tfrecord.js';

export async function writeCountingModel(dir: string): Promise<void> {
  const m = new ModelBuilder();
  const fn = m.function('count', [{ name: 'n', dtype: 'int32', shape: [] }], (tf, n) => {
    const [i] = tf.whileLoop(
      (t, i) => t.less(i, n),
      (t, i) => [t.add(i, 1)],
      [tf.constant(0, { dtype: 'int32', name: 'zero' })],
    );
    return tf.identity(i, 'count');
  });
  m.signature('serving_default', fn, { outputs: ['count'] });
  await writeSavedModel(dir, m.build());
}

export async function writeMemoryBombModel(dir: string, copies = 5): Promise<void> {
  const m = new ModelBuilder();
  const fn = m.function('bomb', [{ name: 'x', dtype: 'float32', shape: [-1] }], (tf, x) => {
    const column = tf.reshape(x, [-1, 1], 'column');
    let total = tf.constant(0, { dtype: 'float32', name: 'zero' });
    for (let i = 0; i < copies; i++) {
      const row = tf.reshape(tf.mul(x, i + 1, `scale_${i}`), [1, -1], `row_${i}`);
      total = tf.add(total, tf.reduceMax(tf.matmul(column, row, `outer_${i}`), undefined, false, `max_${i}`), `sum_${i}`);
    }
    return total;
  });
  m.signature('serving_default', fn, { outputs: ['y'] });
  await writeSavedModel(dir, m.build());
}

export async function writeLongKernelModel(dir: string): Promise<void> {
  const m = new ModelBuilder();
  const fn = m.function('long', [{ name: 'x', dtype: 'float32', shape: [-1, -1] }], (tf, x) => tf.reduceMax(tf.matmul(x, x, 'square'), undefined, false, 'max'));
  m.signature('serving_default', fn, { outputs: ['y'] });
  await writeSavedModel(dir, m.build());
}

export async function writeSlowEchoModel(dir: string, iterations: number): Promise<void> {
  const m = new ModelBuilder();
  const fn = m.function('echo', [{ name: 'x', dtype: 'float32', shape: [-1] }], (tf, x) => {
    const [, y] = tf.whileLoop(
      (t, i) => t.less(i, tf.constant(iterations, { dtype: 'int32', name: 'iterations' })),
      (t, i, y) => [t.add(i, 1), t.identity(y)],
      [tf.constant(0, { dtype: 'int32', name: 'zero' }), x],
    );
    return tf.identity(y, 'y');
  });
  m.signature('serving_default', fn, { outputs: ['y'] });
  await writeSavedModel(dir, m.build());
}

/** A TFRecord of one PredictionLog: a predict of the counting model with `n`. */
export function countingWarmup(n: number): Uint8Array {
  const log = protoType('tensorflow.serving.PredictionLog')
    .encode({ predictLog: { request: { modelSpec: { name: 'count' }, inputs: { n: tensorToProto(Tensor.scalar('int32', n)) } } } })
    .finish();
  return writeTfRecords([log]);
}
