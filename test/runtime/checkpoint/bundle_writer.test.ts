import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BundleReader } from '../../../runtime/checkpoint/bundle_reader.js';
import { encodeBundle, writeBundle } from '../../../runtime/checkpoint/bundle_writer.js';
import type { DType } from '../../../runtime/dtypes.js';
import { StatusError } from '../../../runtime/errors.js';
import { Tensor } from '../../../runtime/tensor.js';

const FIXTURES = path.resolve(import.meta.dirname, '../../../../shared/fixtures/tf-serving');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-writer-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('writeBundle → BundleReader', () => {
  it('round-trips every dtype, shape and awkward key', async () => {
    const long = 'x'.repeat(300); // a two-byte varint length
    const tensors: [string, Tensor][] = [
      ['f32', Tensor.from('float32', [2, 3], [1, -2.5, 3e38, 0, -0, 7])],
      ['f64', Tensor.from('float64', [2], [Math.PI, -1e-300])],
      ['f16', Tensor.from('float16', [3], [1, -0.5, 65504])],
      ['bf16', Tensor.from('bfloat16', [2], [1.5, -3])],
      ['i8', Tensor.from('int8', [2], [-128, 127])],
      ['i16', Tensor.from('int16', [2], [-32768, 32767])],
      ['i32', Tensor.from('int32', [1], [-123456789])],
      ['i64', Tensor.from('int64', [2], [-(2n ** 63n), 2n ** 53n + 1n])],
      ['u8', Tensor.from('uint8', [2], [0, 255])],
      ['u16', Tensor.from('uint16', [1], [65535])],
      ['u32', Tensor.from('uint32', [1], [4294967295])],
      ['u64', Tensor.from('uint64', [1], [2n ** 64n - 1n])],
      ['bool', Tensor.from('bool', [3], [true, false, true])],
      ['c64', Tensor.fromHost('complex64', [1], Float32Array.from([1, -1]))],
      ['c128', Tensor.fromHost('complex128', [1], Float64Array.from([2, 0.5]))],
      ['str', Tensor.from('string', [2, 2], ['', 'héllo', long, '\u0000bin'])],
      ['empty', Tensor.from('float32', [0, 4], [])],
      ['empty_str', Tensor.from('string', [0], [])],
      ['dense/kernel/.ATTRIBUTES/VARIABLE_VALUE', Tensor.scalar('float32', 0.25)],
      ['ünïcode/ключ', Tensor.scalar('int32', 5)],
    ];
    const prefix = path.join(tmp, 'all', 'variables', 'variables');
    await writeBundle(prefix, tensors);
    expect(fs.readdirSync(path.dirname(prefix)).sort()).toEqual(['variables.data-00000-of-00001', 'variables.index']);
    const r = await BundleReader.open(prefix);
    expect(r.keys()).toEqual([...tensors.map(([k]) => k)].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
    for (const [key, t] of tensors) {
      const back = r.read(key);
      expect(back.dtype, key).toBe(t.dtype);
      expect(back.shape, key).toEqual(t.shape);
      expect(back.values(), key).toEqual(t.values());
    }
  });

  it('writes the data in the order given and the index sorted', () => {
    const { data } = encodeBundle([
      ['z', Tensor.scalar('int32', 1)],
      ['a', Tensor.scalar('int32', 2)],
    ]);
    expect(Array.from(new Int32Array(data.buffer.slice(0)))).toEqual([1, 2]);
  });

  it('rejects duplicate and empty keys and unsaveable dtypes', () => {
    const t = Tensor.scalar('float32', 1);
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as StatusError).code + ': ' + (e as StatusError).message;
      }
      return 'ok';
    };
    expect(code(() => encodeBundle([['a', t], ['a', t]]))).toBe('INVALID_ARGUMENT: Adding duplicate key: a');
    expect(code(() => encodeBundle([['', t]]))).toMatch(/^INVALID_ARGUMENT/);
    expect(code(() => encodeBundle([['h', Tensor.scalar('resource', {})]]))).toMatch(/^UNIMPLEMENTED/);
  });
});

describe('rewriting TensorFlow checkpoints', () => {
  // TF 1.14+ compresses index blocks with snappy (when that saves 1/8); TF up to 1.12 did not.
  const cases: [string, 'snappy' | 'none'][] = [
    ['saved_model_half_plus_two_cpu/00000123', 'snappy'], // TF 1.14
    ['saved_model_half_plus_two_cpu_with_saved_model_config/00000123', 'snappy'], // TF 2.4
    ['saved_model_half_plus_two_tf2_cpu/00000123', 'snappy'], // TF 2.14, with a string tensor
    ['saved_model_half_plus_two_mkl/00000123', 'none'], // TF 1.12
    ['saved_model_half_plus_two_2_versions/00000124', 'none'], // TF 1.1
    ['saved_model_half_plus_three/00000123', 'none'], // TF 1.0
    ['saved_model_counter/00000123', 'none'], // TF 1.5
  ];
  for (const [dir, compression] of cases) {
    it(`reproduces ${dir} byte for byte`, async () => {
      const prefix = path.join(FIXTURES, dir, 'variables', 'variables');
      const r = await BundleReader.open(prefix);
      const keys = r.keys().sort((a, b) => r.entry(a).offset - r.entry(b).offset);
      const { index, data } = encodeBundle(
        keys.map((k) => [k, r.read(k)] as const),
        { compression },
      );
      expect(Buffer.from(data).equals(fs.readFileSync(`${prefix}.data-00000-of-00001`))).toBe(true);
      expect(Buffer.from(index).equals(fs.readFileSync(`${prefix}.index`))).toBe(true);
    });
  }
});
