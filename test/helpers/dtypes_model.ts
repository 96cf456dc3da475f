/**
 * A SavedModel that echoes one input per dtype, to see how a request's
 * values become a tensor of a signature's dtype: signature `<dtype>` (e.g.
 * "int32", "string", "float16") has input `x` of that dtype, shape [-1], and
 * output `y` = Identity(x); serving_default is the float32 one.
 */
import type { DType } from '../../runtime/dtypes.js';
import { ModelBuilder } from '../../runtime/graph/builder.js';
import { writeSavedModel } from '../../runtime/savedmodel/writer.js';

export const ECHO_DTYPES: readonly DType[] = ['float32', 'float64', 'int32', 'int16', 'int8', 'uint8', 'int64', 'uint32', 'uint64', 'bool', 'string', 'float16'];

export async function writeDtypesModel(dir: string): Promise<void> {
  const m = new ModelBuilder();
  for (const dtype of ECHO_DTYPES) {
    const fn = m.function(`echo_${dtype}`, [{ name: 'x', dtype, shape: [-1] }], (tf, x) => tf.op('Identity', [x], {}, { name: `echo_${dtype}` })[0]);
    m.signature(dtype, fn, { outputs: ['y'] });
    if (dtype === 'float32') m.signature('serving_default', fn, { outputs: ['y'] });
  }
  await writeSavedModel(dir, m.build());
}
