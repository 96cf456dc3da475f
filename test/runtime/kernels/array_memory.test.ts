import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../runtime/backend.js';
import type { Tensor } from '../../../runtime/tensor.js';
import { attr, bool, f32, i32, onBackend, run } from './array_harness.js';

beforeAll(async () => {
  await initBackend();
});

describe('backend memory', () => {
  it('array kernels on backend tensors leave no tfjs tensors behind but their outputs', () => {
    const before = tf.memory().numTensors;
    const x = onBackend('float32', [4, 4], Array.from({ length: 16 }, (_, i) => i));
    const b = onBackend('bool', [4], [true, false, true, false]);
    const inputs: Tensor[] = [x, b];
    // Host inputs may be uploaded (and cache their backend copy), so track them too.
    const keep = <T extends Tensor>(t: T): T => {
      inputs.push(t);
      return t;
    };
    const outputs: Tensor[] = [
      ...run('Transpose', [x, keep(i32([2], [1, 0]))]),
      ...run('StridedSlice', [x, keep(i32([2], [3, 0])), keep(i32([2], [0, 4])), keep(i32([2], [-1, 2]))], {
        begin_mask: attr.i(0),
        end_mask: attr.i(1),
      }),
      ...run('GatherV2', [x, keep(i32([2], [3, 1])), keep(i32([], [1]))]),
      ...run('GatherNd', [x, keep(i32([1, 2], [2, 2]))]),
      ...run('ConcatV2', [x, x, keep(i32([], [0]))]),
      ...run('Pack', [x, x], { axis: attr.i(1) }),
      ...run('Unpack', [x], { num: attr.i(4), axis: attr.i(0) }),
      ...run('Split', [keep(i32([], [1])), x], { num_split: attr.i(2) }),
      ...run('Tile', [x, keep(i32([2], [2, 1]))]),
      ...run('PadV2', [x, keep(i32([2, 2], [1, 1, 0, 0])), keep(f32([], [7]))]),
      ...run('ReverseV2', [b, keep(i32([1], [0]))]),
      ...run('SelectV2', [b, x, keep(f32([], [0]))]),
      ...run('Select', [keep(bool([4], [true, true, false, false])), x, x]),
      ...run('OneHot', [keep(onBackend('int32', [2], [0, 3])), keep(i32([], [4])), keep(f32([], [1])), keep(f32([], [0]))]),
      ...run('MatrixBandPart', [x, keep(i32([], [0])), keep(i32([], [-1]))]),
      ...run('BroadcastTo', [keep(onBackend('float32', [1, 4], [1, 2, 3, 4])), keep(i32([2], [4, 4]))]),
      ...run('ZerosLike', [x]),
      ...run('Fill', [keep(i32([2], [16, 16])), keep(f32([], [2]))]),
    ];
    for (const t of outputs) t.values();
    for (const t of [...outputs, ...inputs]) t.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
