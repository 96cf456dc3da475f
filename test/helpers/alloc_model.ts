/**
 * A SavedModel whose output sizes come from the request, the way an attacker
 * would use a model to make the server allocate: signature
 *   serving_default: dims int32 [-1]              → Fill(dims, 1.5) float32
 *   tile:            x float32 [-1], multiples int32 [1] → Tile(x, multiples)
 *   range:           limit int64 []               → Range(0, limit, 1) int64
 * Each output node is named after its op ("Fill", "Tile", "Range").
 */
import { ModelBuilder } from '../../runtime/graph/builder.js';
import { writeSavedModel } from '../../runtime/savedmodel/writer.js';
import { Tensor } from '../../runtime/tensor.js';

export async function writeAllocModel(dir: string): Promise<void> {
  const m = new ModelBuilder();
  const fill = m.function('fill', [{ name: 'dims', dtype: 'int32', shape: [-1] }], (tf, dims) => {
    const value = tf.constant(1.5, { dtype: 'float32', name: 'value' });
    return tf.op('Fill', [dims, value], {}, { name: 'Fill' })[0];
  });
  const tile = m.function(
    'tile',
    [
      { name: 'x', dtype: 'float32', shape: [-1] },
      { name: 'multiples', dtype: 'int32', shape: [1] },
    ],
    (tf, x, multiples) => tf.op('Tile', [x, multiples], {}, { name: 'Tile' })[0],
  );
  const range = m.function('range', [{ name: 'limit', dtype: 'int64', shape: [] }], (tf, limit) => {
    const start = tf.constant(Tensor.scalar('int64', 0n), { name: 'start' });
    const delta = tf.constant(Tensor.scalar('int64', 1n), { name: 'delta' });
    return tf.op('Range', [start, limit, delta], {}, { name: 'Range' })[0];
  });
  m.signature('serving_default', fill, { outputs: ['filled'] });
  m.signature('tile', tile, { outputs: ['tiled'] });
  m.signature('range', range, { outputs: ['range'] });
  await writeSavedModel(dir, m.build());
}
