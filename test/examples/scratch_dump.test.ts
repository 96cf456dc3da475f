import { it } from 'vitest';
import { ModelBuilder } from '../../runtime/graph/builder.js';
import { writeSavedModel } from '../../runtime/savedmodel/writer.js';
import { Tensor } from '../../runtime/tensor.js';
it('dump', async () => {
  const m = new ModelBuilder();
  const w = m.variable('dense/kernel', Tensor.from('float32', [2, 2], [1, 2, 3, 4]));
  const fn = m.function('serving', [{ name: 'x', dtype: 'float32', shape: [-1, 2] }], (tf, x) => {
    const p = tf.softmax(tf.matmul(x, tf.readVariable(w)));
    return tf.mapFn(p, (b, row) => b.squeeze(b.gather(b.constant(['a', 'b']), b.where(b.equal(row, b.reduceMax(row))))), { dtype: 'string', shape: [] });
  });
  m.signature('serving_default', fn);
  await writeSavedModel('/tmp/f5/dump1', m.build(), { overwrite: true });
});
