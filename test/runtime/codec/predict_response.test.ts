// Output tensors → predict response bodies, byte for byte as TF Serving's
// MakeJsonFromTensors writes them (rapidjson PrettyWriter). Ports the
// FromJson* cases of json_tensor_test.cc (which compare parsed JSON) with the
// exact bytes, and the expected REST bodies of the fixtures README.
import { describe, expect, it } from 'vitest';
import { formatPredictResponse } from '../../../runtime/codec/index.js';
import { StatusError } from '../../../runtime/errors.js';
import { Tensor } from '../../../runtime/tensor.js';

function errorOf(f: () => unknown): StatusError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(StatusError);
    return e as StatusError;
  }
  throw new Error('expected an error');
}

const int12 = () => Tensor.from('int32', [2, 3, 2], [1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2]);

describe('fixtures README bodies (half_plus_two)', () => {
  it('answers {"instances": [[1.0, 2.0], [3.0, 4.0]]} in row format', () => {
    const y = Tensor.from('float32', [2, 2], [2.5, 3.0, 3.5, 4.0]);
    const body = formatPredictResponse({ y }, 'row');
    expect(body).toBe('{\n    "predictions": [[2.5, 3.0], [3.5, 4.0]\n    ]\n}');
    expect(JSON.parse(body)).toEqual({ predictions: [[2.5, 3.0], [3.5, 4.0]] });
  });

  it('answers {"inputs": [3.0, 4.0]} in columnar format', () => {
    const body = formatPredictResponse({ y: Tensor.from('float32', [2], [3.5, 4.0]) }, 'columnar');
    expect(body).toBe('{\n    "outputs": [\n        3.5,\n        4.0\n    ]\n}');
    expect(JSON.parse(body)).toEqual({ outputs: [3.5, 4.0] });
  });

  it('writes one scalar per instance on one line', () => {
    const body = formatPredictResponse({ y: Tensor.from('float32', [3], [2.5, 3, 4.5]) }, 'row');
    expect(body).toBe('{\n    "predictions": [2.5, 3.0, 4.5\n    ]\n}');
  });
});

describe('single output', () => {
  it('writes nested lists per instance (FromJsonSingleTensor)', () => {
    expect(formatPredictResponse({ int_tensor: int12() }, 'row')).toBe(
      '{\n    "predictions": [[[1, 2], [3, 4], [5, 6]], [[7, 8], [9, 0], [1, 2]]\n    ]\n}',
    );
    const columnar = formatPredictResponse({ int_tensor: int12() }, 'columnar');
    expect(JSON.parse(columnar)).toEqual({
      outputs: [
        [
          [1, 2],
          [3, 4],
          [5, 6],
        ],
        [
          [7, 8],
          [9, 0],
          [1, 2],
        ],
      ],
    });
    expect(columnar.startsWith('{\n    "outputs": [\n        [\n            [\n                1,\n                2\n            ],')).toBe(true);
  });

  it('writes a vector as scalars per instance (FromJsonSingleScalarTensor)', () => {
    const t = Tensor.from('int32', [5], [1, 2, 3, 4, 5]);
    expect(formatPredictResponse({ int_tensor: t }, 'row')).toBe('{\n    "predictions": [1, 2, 3, 4, 5\n    ]\n}');
    expect(formatPredictResponse({ int_tensor: t }, 'columnar')).toBe(
      '{\n    "outputs": [\n        1,\n        2,\n        3,\n        4,\n        5\n    ]\n}',
    );
  });

  it('writes a scalar output bare in columnar format', () => {
    expect(formatPredictResponse({ y: Tensor.scalar('float32', 3.5) }, 'columnar')).toBe('{\n    "outputs": 3.5\n}');
  });

  it('writes outputs named *_bytes as {"b64": ...} (FromJsonSingleBytesTensor)', () => {
    const t = Tensor.from('string', [2, 2], ['hello', 'world', 'tf', 'serving']);
    const body = formatPredictResponse({ str_tensor_bytes: t }, 'row');
    expect(body).toBe(
      '{\n    "predictions": [[{\n                "b64": "aGVsbG8="\n            }, {\n                "b64": "d29ybGQ="\n            }], [{\n                "b64": "dGY="\n            }, {\n                "b64": "c2VydmluZw=="\n            }]\n    ]\n}',
    );
    expect(JSON.parse(body)).toEqual({
      predictions: [
        [{ b64: 'aGVsbG8=' }, { b64: 'd29ybGQ=' }],
        [{ b64: 'dGY=' }, { b64: 'c2VydmluZw==' }],
      ],
    });
  });

  it('prints floats with six significant digits or as many as needed (FromJsonSingleFloatTensorSixDigitPrecision)', () => {
    const t = Tensor.from('float32', [2, 3], [9000000, 999999, 0.5, 0.0003, 0.00003, 555557.5]);
    expect(formatPredictResponse({ float_tensor: t }, 'row')).toBe(
      '{\n    "predictions": [[9e+06, 999999.0, 0.5], [0.0003, 3e-05, 555557.5]\n    ]\n}',
    );
  });

  it('prints NaN and infinities as TF Serving does (FromJsonSingleFloatTensorNonFinite)', () => {
    const t = Tensor.from('float32', [2, 2], [NaN, Infinity, 3, -Infinity]);
    expect(formatPredictResponse({ float_tensor: t }, 'row')).toBe(
      '{\n    "predictions": [[NaN, Infinity], [3.0, -Infinity]\n    ]\n}',
    );
  });

  it('prints float32 values as float32, not as the double they widen to', () => {
    const t = Tensor.from('float32', [3], [0.1, 1 / 3, 0.2]);
    expect(formatPredictResponse({ y: t }, 'row')).toBe('{\n    "predictions": [0.1, 0.333333343, 0.2\n    ]\n}');
  });

  it('prints doubles at double precision', () => {
    const t = Tensor.from('float64', [3], [0.1, 1 / 3, 8]);
    expect(formatPredictResponse({ y: t }, 'row')).toBe('{\n    "predictions": [0.1, 0.33333333333333331, 8.0\n    ]\n}');
  });

  it('prints int64 and uint64 exactly', () => {
    const i64 = Tensor.from('int64', [2], [9007199254740993n, -9223372036854775808n]);
    expect(formatPredictResponse({ y: i64 }, 'row')).toBe(
      '{\n    "predictions": [9007199254740993, -9223372036854775808\n    ]\n}',
    );
    const u64 = Tensor.from('uint64', [1], [18446744073709551615n]);
    expect(formatPredictResponse({ y: u64 }, 'columnar')).toBe('{\n    "outputs": [\n        18446744073709551615\n    ]\n}');
  });

  it('prints bool, small integer types and uint32', () => {
    expect(formatPredictResponse({ y: Tensor.from('bool', [2], [true, false]) }, 'row')).toBe(
      '{\n    "predictions": [true, false\n    ]\n}',
    );
    expect(formatPredictResponse({ y: Tensor.from('uint8', [2], [255, 0]) }, 'row')).toBe(
      '{\n    "predictions": [255, 0\n    ]\n}',
    );
    expect(formatPredictResponse({ y: Tensor.from('int8', [1], [-128]) }, 'row')).toBe('{\n    "predictions": [-128\n    ]\n}');
    expect(formatPredictResponse({ y: Tensor.from('uint32', [1], [4294967295]) }, 'row')).toBe(
      '{\n    "predictions": [4294967295\n    ]\n}',
    );
  });

  it('writes strings as UTF-8 text with rapidjson escapes', () => {
    const t = Tensor.from('string', [3], ['é/"\\', 'tab\there\n', '\u0001\u001f']);
    expect(formatPredictResponse({ y: t }, 'row')).toBe(
      '{\n    "predictions": ["é/\\"\\\\", "tab\\there\\n", "\\u0001\\u001F"\n    ]\n}',
    );
  });

  it('replaces bytes that are not UTF-8 in text outputs (use a *_bytes name to get them exactly)', () => {
    const bad = Tensor.from('string', [1], [new Uint8Array([0x61, 0xff, 0x62])]);
    expect(JSON.parse(formatPredictResponse({ y: bad }, 'row'))).toEqual({ predictions: ['a\ufffdb'] });
    expect(JSON.parse(formatPredictResponse({ y_bytes: bad }, 'row'))).toEqual({ predictions: [{ b64: 'Yf9i' }] });
  });
});

describe('several outputs', () => {
  const outputs = () => ({
    int_tensor: int12(),
    str_tensor: Tensor.from('string', [2, 2], ['foo', 'bar', 'baz', 'bat']),
    float_tensor: Tensor.from('float32', [2, 1], [1, 2]),
    double_scalar_tensor: Tensor.from('float64', [2], [8, 9]),
    str_tensor_bytes: Tensor.from('string', [2, 2], ['hello', 'world', 'tf', 'serving']),
  });

  it('writes one object per instance, keys in name order (FromJsonMultipleNamedTensors, row)', () => {
    const body = formatPredictResponse(outputs(), 'row');
    expect(JSON.parse(body)).toEqual({
      predictions: [
        {
          double_scalar_tensor: 8.0,
          float_tensor: [1.0],
          int_tensor: [
            [1, 2],
            [3, 4],
            [5, 6],
          ],
          str_tensor: ['foo', 'bar'],
          str_tensor_bytes: [{ b64: 'aGVsbG8=' }, { b64: 'd29ybGQ=' }],
        },
        {
          double_scalar_tensor: 9.0,
          float_tensor: [2.0],
          int_tensor: [
            [7, 8],
            [9, 0],
            [1, 2],
          ],
          str_tensor: ['baz', 'bat'],
          str_tensor_bytes: [{ b64: 'dGY=' }, { b64: 'c2VydmluZw==' }],
        },
      ],
    });
    expect(body.startsWith(
      '{\n    "predictions": [\n        {\n            "double_scalar_tensor": 8.0,\n            "float_tensor": [1.0],\n            "int_tensor": [[1, 2], [3, 4], [5, 6]],\n            "str_tensor": ["foo", "bar"],\n            "str_tensor_bytes": [{\n',
    )).toBe(true);
    expect(body.endsWith('            }]\n        }\n    ]\n}')).toBe(true);
  });

  it('writes one object of outputs (FromJsonMultipleNamedTensors, columnar)', () => {
    const body = formatPredictResponse(outputs(), 'columnar');
    expect(JSON.parse(body)).toEqual({
      outputs: {
        double_scalar_tensor: [8.0, 9.0],
        float_tensor: [[1.0], [2.0]],
        int_tensor: [
          [
            [1, 2],
            [3, 4],
            [5, 6],
          ],
          [
            [7, 8],
            [9, 0],
            [1, 2],
          ],
        ],
        str_tensor: [
          ['foo', 'bar'],
          ['baz', 'bat'],
        ],
        str_tensor_bytes: [
          [{ b64: 'aGVsbG8=' }, { b64: 'd29ybGQ=' }],
          [{ b64: 'dGY=' }, { b64: 'c2VydmluZw==' }],
        ],
      },
    });
    expect(body.startsWith('{\n    "outputs": {\n        "double_scalar_tensor": [\n            8.0,\n            9.0\n        ],\n')).toBe(
      true,
    );
  });

  it('follows a given output order', () => {
    const body = formatPredictResponse(
      { a: Tensor.from('int32', [1], [1]), b: Tensor.from('int32', [1], [2]), c: Tensor.from('int32', [1], [3]) },
      'row',
      ['c', 'a'],
    );
    expect(body).toBe('{\n    "predictions": [\n        {\n            "c": 3,\n            "a": 1,\n            "b": 2\n        }\n    ]\n}');
  });
});

describe('batch sizes', () => {
  it('writes an empty list for a zero batch (FromJsonSingleZeroBatchTensor, FromJsonMultipleZeroBatchTensors)', () => {
    expect(formatPredictResponse({ int_tensor: Tensor.from('int32', [0, 2], []) }, 'row')).toBe(
      '{\n    "predictions": []\n}',
    );
    const two = { str_tensor: Tensor.from('string', [0, 1, 2], []), float_tensor: Tensor.from('float32', [0, 3, 4], []) };
    expect(formatPredictResponse(two, 'row')).toBe('{\n    "predictions": []\n}');
  });

  it('refuses outputs with different batch sizes (FromJsonMultipleNamedTensorsErrors, ...ZeroBatchTensorsErrors)', () => {
    const e = errorOf(() =>
      formatPredictResponse(
        { int_tensor: Tensor.from('int32', [2, 3], [1, 2, 3, 4, 5, 6]), str_tensor: Tensor.from('string', [1, 3], ['foo', 'bar', 'baz']) },
        'row',
      ),
    );
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toBe('Tensor name: str_tensor has inconsistent batch size: 1 expecting: 2');
    expect(
      errorOf(() =>
        formatPredictResponse(
          { int_tensor: Tensor.from('int32', [0, 2], []), str_tensor: Tensor.from('string', [1, 2], ['foo', 'bar']) },
          'row',
        ),
      ).message,
    ).toBe('Tensor name: str_tensor has inconsistent batch size: 1 expecting: 0');
  });

  it('does not need a shared batch size in columnar format', () => {
    const body = formatPredictResponse({ a: Tensor.from('int32', [1], [1]), b: Tensor.from('int32', [2], [2, 3]) }, 'columnar');
    expect(JSON.parse(body)).toEqual({ outputs: { a: [1], b: [2, 3] } });
  });
});

describe('errors (FromJsonSingleTensorErrors)', () => {
  it('refuses an empty output map', () => {
    expect(errorOf(() => formatPredictResponse({}, 'row')).message).toBe('Cannot convert empty tensor map to JSON');
  });

  it('refuses dtypes TF Serving cannot write', () => {
    const c = Tensor.fromHost('complex64', [2], new Float32Array([1, 0, 2, 0]));
    expect(errorOf(() => formatPredictResponse({ tensor: c }, 'row')).message).toBe(
      'Failed to write JSON value for tensor type: complex64',
    );
    const z = Tensor.fromHost('complex128', [1, 1], new Float64Array([0.5, -1]));
    expect(errorOf(() => formatPredictResponse({ tensor: z }, 'columnar')).message).toBe(
      'Failed to write JSON value for tensor type: complex128',
    );
    const h = Tensor.from('float16', [1], [1]);
    expect(errorOf(() => formatPredictResponse({ tensor: h }, 'columnar')).message).toBe(
      'Failed to write JSON value for tensor type: half',
    );
  });

  it('refuses a scalar output in row format', () => {
    expect(errorOf(() => formatPredictResponse({ tensor: Tensor.scalar('int32', 1) }, 'row')).message).toBe(
      'Tensor name: tensor has no shape information ',
    );
  });
});
