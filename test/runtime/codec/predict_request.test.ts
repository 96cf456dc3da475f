// Predict request bodies → tensors. Ports the request cases of TF Serving's
// json_tensor_test.cc (FillPredictRequestFromJson) and pins the exact error
// texts of json_tensor.cc.
import { describe, expect, it } from 'vitest';
import type { DType } from '../../../runtime/dtypes.js';
import { StatusError } from '../../../runtime/errors.js';
import type { Tensor } from '../../../runtime/tensor.js';
import { parsePredictRequest, readPredictRequest, type InputSpec } from '../../../runtime/codec/index.js';

type Specs = Record<string, InputSpec>;
const spec = (dtype: DType): InputSpec => ({ dtype });

function decode(body: string | Uint8Array, specs: Specs) {
  return parsePredictRequest(body, () => specs);
}

/** dtype, shape and elements as plain values (strings for DT_STRING). */
function plain(t: Tensor): { dtype: string; shape: number[]; values: unknown[] } {
  const values = t.dtype === 'string' ? t.strings() : Array.from(t.values() as ArrayLike<unknown>);
  return { dtype: t.dtype, shape: [...t.shape], values };
}

function errorOf(body: string | Uint8Array, specs: Specs): StatusError {
  try {
    decode(body, specs);
  } catch (e) {
    expect(e).toBeInstanceOf(StatusError);
    return e as StatusError;
  }
  throw new Error(`expected ${String(body)} to be refused`);
}

const message = (body: string, specs: Specs) => errorOf(body, specs).message;

describe('row format ("instances")', () => {
  it('stacks bare values of a single input along a batch dimension (SingleUnnamedTensor)', () => {
    const r = decode('{"instances": [[1,2],[3,4],[5,6]]}', { default: spec('int32') });
    expect(r.format).toBe('row');
    expect(r.signatureName).toBeUndefined();
    expect(plain(r.inputs.default)).toEqual({ dtype: 'int32', shape: [3, 2], values: [1, 2, 3, 4, 5, 6] });
  });

  it('takes integers and decimals for a float input (MixedInputForFloatTensor)', () => {
    const r = decode('{"instances": [1, 2.0, 3, 4, 5.003, 0.007, 0.0]}', { default: spec('float32') });
    expect(plain(r.inputs.default)).toEqual({
      dtype: 'float32',
      shape: [7],
      values: [1, 2, 3, 4, 5.003, 0.007, 0].map(Math.fround),
    });
  });

  it('takes integers and decimals for a double input (MixedInputForDoubleTensor)', () => {
    const r = decode('{"instances": [1.0, 2, 3, 4, 0.662, 0, 0.0]}', { default: spec('float64') });
    expect(plain(r.inputs.default).values).toEqual([1, 2, 3, 4, 0.662, 0, 0]);
  });

  it('rounds integers and decimals to float alike (FloatTensorWithPrecisionLoss)', () => {
    for (const body of ['{"instances": [1435774380]}', '{"instances": [1435774380.0]}']) {
      expect(plain(decode(body, { default: spec('float32') }).inputs.default).values).toEqual([1435774336]);
    }
  });

  it('turns doubles beyond float range into infinities and tiny ones into zeros (FloatTensorThatExceedsMax/Min)', () => {
    const f = { default: spec('float32') };
    expect(plain(decode('{ "instances": [1.79769e+308] }', f).inputs.default).values).toEqual([Infinity]);
    expect(plain(decode('{ "instances": [-1.79769e+308] }', f).inputs.default).values).toEqual([-Infinity]);
    expect(plain(decode('{ "instances": [2.22507e-308] }', f).inputs.default).values).toEqual([0]);
    const negZero = (decode('{ "instances": [-2.22507e-308] }', f).inputs.default.values() as Float32Array)[0];
    expect(Object.is(negZero, -0)).toBe(true);
  });

  it('reads "signature_name" (SingleUnnamedTensorWithSignature)', () => {
    const r = decode('{"signature_name": "predict_images", "instances": [[1,2]]}', { default: spec('int32') });
    expect(r.signatureName).toBe('predict_images');
    expect(plain(r.inputs.default).shape).toEqual([1, 2]);
  });

  it('reads a body given as a byte slice (TensorFromNonNullTerminatedBuffer)', () => {
    const bytes = Buffer.from('{"instances": [[1,2],[3,4],[5,6]]}X');
    const r = decode(bytes.subarray(0, bytes.length - 1), { default: spec('int32') });
    expect(plain(r.inputs.default).values).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('decodes {"b64": ...} scalars and lists for string inputs (SingleUnnamedTensorBase64Scalars/Lists)', () => {
    const s = { default: spec('string') };
    const scalars = decode('{"instances": [ { "b64" : "aGVsbG8=" }, { "b64": "d29ybGQ=" } ]}', s);
    expect(plain(scalars.inputs.default)).toEqual({ dtype: 'string', shape: [2], values: ['hello', 'world'] });
    const lists = decode('{"instances": [ [{ "b64" : "aGVsbG8=" }], [{ "b64": "d29ybGQ=" }] ]}', s);
    expect(plain(lists.inputs.default)).toEqual({ dtype: 'string', shape: [2, 1], values: ['hello', 'world'] });
  });

  it('reads instances keyed by input name (SingleNamedTensorBase64)', () => {
    const r = decode('{"instances": [{"default": [ [{ "b64" : "aGVsbG8=" }], [{ "b64": "d29ybGQ=" }] ]}]}', {
      default: spec('string'),
    });
    expect(plain(r.inputs.default)).toEqual({ dtype: 'string', shape: [1, 2, 1], values: ['hello', 'world'] });
  });

  it('keeps raw bytes of b64 values', () => {
    const r = decode('{"instances": [{"b64": "AP8Q"}]}', { x: spec('string') });
    expect(Array.from((r.inputs.x.values() as Uint8Array[])[0])).toEqual([0, 255, 16]);
  });

  it('reads several named inputs of different types, NaN and Infinity included (MultipleNamedTensor)', () => {
    const r = decode(
      `{"instances": [
        {"int_tensor": [[1,2],[3,4],[5,6]], "str_tensor": ["foo", "bar"], "float_tensor": [1.0, NaN], "dbl_tensor": [NaN]},
        {"int_tensor": [[7,8],[9,0],[1,2]], "str_tensor": ["baz", "bat"], "float_tensor": [2.0, Infinity], "dbl_tensor": [2.0]}
      ]}`,
      { int_tensor: spec('int32'), str_tensor: spec('string'), float_tensor: spec('float32'), dbl_tensor: spec('float64') },
    );
    expect(plain(r.inputs.int_tensor)).toEqual({
      dtype: 'int32',
      shape: [2, 3, 2],
      values: [1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2],
    });
    expect(plain(r.inputs.str_tensor)).toEqual({ dtype: 'string', shape: [2, 2], values: ['foo', 'bar', 'baz', 'bat'] });
    expect(plain(r.inputs.float_tensor)).toEqual({ dtype: 'float32', shape: [2, 2], values: [1, NaN, 2, Infinity] });
    expect(plain(r.inputs.dbl_tensor)).toEqual({ dtype: 'float64', shape: [2, 1], values: [NaN, 2] });
  });

  it('accepts empty lists as zero-sized dimensions', () => {
    const r = decode('{"instances": [[], []]}', { x: spec('float32') });
    expect(plain(r.inputs.x)).toEqual({ dtype: 'float32', shape: [2, 0], values: [] });
  });
});

describe('columnar format ("inputs")', () => {
  it('takes the value as written, named or not (SingleUnnamedTensorColumnarFormat)', () => {
    const s = { int_tensor: spec('int32') };
    for (const body of ['{"inputs": {"int_tensor": [[[1,2],[3,4],[5,6]]]}}', '{"inputs": [[[1,2],[3,4],[5,6]]]}']) {
      const r = decode(body, s);
      expect(r.format).toBe('columnar');
      expect(plain(r.inputs.int_tensor)).toEqual({ dtype: 'int32', shape: [1, 3, 2], values: [1, 2, 3, 4, 5, 6] });
    }
  });

  it('reads several inputs, a b64 scalar included (MultipleNamedTensorColumnarFormat)', () => {
    const r = decode(
      '{"inputs": {"int_tensor": [[[1,2],[3,4],[5,6]]], "str_tensor": ["foo", "bar"], "bin_tensor": { "b64" : "aGVsbG8=" }}}',
      { int_tensor: spec('int32'), str_tensor: spec('string'), bin_tensor: spec('string') },
    );
    expect(plain(r.inputs.int_tensor).shape).toEqual([1, 3, 2]);
    expect(plain(r.inputs.str_tensor)).toEqual({ dtype: 'string', shape: [2], values: ['foo', 'bar'] });
    expect(plain(r.inputs.bin_tensor)).toEqual({ dtype: 'string', shape: [], values: ['hello'] });
  });

  it('reads the README example {"inputs": [3.0, 4.0]} for half_plus_two', () => {
    const r = decode('{"signature_name": "serving_default", "inputs": [3.0, 4.0]}', { x: spec('float32') });
    expect(r.signatureName).toBe('serving_default');
    expect(plain(r.inputs.x)).toEqual({ dtype: 'float32', shape: [2], values: [3, 4] });
  });

  it('ignores keys that are not inputs', () => {
    const r = decode('{"inputs": {"x": 1.5, "unused": "anything"}}', { x: spec('float32') });
    expect(Object.keys(r.inputs)).toEqual(['x']);
  });
});

describe('value types', () => {
  it('keeps int64 values exact beyond 2^53', () => {
    const r = decode('{"instances": [9007199254740993, -9223372036854775808, 9223372036854775807]}', { x: spec('int64') });
    expect(Array.from(r.inputs.x.values() as BigInt64Array)).toEqual([
      9007199254740993n,
      -9223372036854775808n,
      9223372036854775807n,
    ]);
  });

  it('reads uint64 up to 2^64-1 and uint32 up to 2^32-1', () => {
    const u64 = decode('{"inputs": [18446744073709551615, 0]}', { x: spec('uint64') });
    expect(Array.from(u64.inputs.x.values() as BigUint64Array)).toEqual([18446744073709551615n, 0n]);
    const u32 = decode('{"inputs": [4294967295]}', { x: spec('uint32') });
    expect(Array.from(u32.inputs.x.values() as Uint32Array)).toEqual([4294967295]);
  });

  it('stores int32-range values into narrow integer types with C++ wrap-around, as TF Serving does', () => {
    expect(plain(decode('{"inputs": [300, -1, 255]}', { x: spec('uint8') }).inputs.x).values).toEqual([44, 255, 255]);
    expect(plain(decode('{"inputs": [200]}', { x: spec('int8') }).inputs.x).values).toEqual([-56]);
  });

  it('reads booleans', () => {
    expect(plain(decode('{"instances": [true, false]}', { x: spec('bool') }).inputs.x)).toEqual({
      dtype: 'bool',
      shape: [2],
      values: [1, 0],
    });
  });

  it('reads JSON strings as UTF-8 bytes', () => {
    const r = decode('{"instances": ["é"]}', { x: spec('string') });
    expect(Array.from((r.inputs.x.values() as Uint8Array[])[0])).toEqual([0xc3, 0xa9]);
  });

  it('refuses values of the wrong JSON type with TF texts', () => {
    expect(message('{"inputs": "x"}', { x: spec('float32') })).toBe(
      'JSON Value: "x" Type: String is not of expected type: float',
    );
    expect(message('{"inputs": [1.0]}', { x: spec('int32') })).toBe(
      'JSON Value: 1.0 Type: Number is not of expected type: int32',
    );
    expect(message('{"inputs": [0.1]}', { x: spec('int64') })).toBe(
      'JSON Value: 0.1 Type: Number is not of expected type: int64',
    );
    expect(message('{"inputs": [2147483648]}', { x: spec('int32') })).toBe(
      'JSON Value: 2147483648 Type: Number is not of expected type: int32',
    );
    expect(message('{"inputs": [-1]}', { x: spec('uint32') })).toBe(
      'JSON Value: -1 Type: Number is not of expected type: uint32',
    );
    expect(message('{"inputs": [1]}', { x: spec('bool') })).toBe('JSON Value: 1 Type: Number is not of expected type: bool');
    expect(message('{"inputs": [null]}', { x: spec('string') })).toBe(
      'JSON Value: null Type: Null is not of expected type: string',
    );
    expect(message('{"inputs": [true]}', { x: spec('float64') })).toBe(
      'JSON Value: true Type: True is not of expected type: double',
    );
    expect(message('{"inputs": [{"a": 1}]}', { x: spec('float32') })).toBe(
      'JSON Value: {\n    "a": 1\n} Type: Object is not of expected type: float',
    );
  });

  it('echoes doubles in errors as the float they round to, when within float range', () => {
    expect(message('{"inputs": [1.23456789]}', { x: spec('int32') })).toBe(
      'JSON Value: 1.23456788 Type: Number is not of expected type: int32',
    );
    expect(message('{"inputs": [1e300]}', { x: spec('int32') })).toBe(
      'JSON Value: 1e+300 Type: Number is not of expected type: int32',
    );
    expect(message('{"inputs": [NaN]}', { x: spec('bool') })).toBe('JSON Value: NaN Type: Number is not of expected type: bool');
  });

  it('refuses dtypes TF Serving cannot read from JSON with UNIMPLEMENTED', () => {
    const e = errorOf('{"inputs": [1.5]}', { x: spec('float16') });
    expect(e.code).toBe('UNIMPLEMENTED');
    expect(e.message).toBe('Conversion of JSON Value: 1.5 to type: half');
  });

  it('refuses complex inputs as TF Serving does: [re, im] pairs are not read, the first leaf is named', () => {
    // json_tensor.cc's AddValueToTensor has no case for DT_COMPLEX64/128: a
    // pair is just one more nesting level, and its first number is refused.
    for (const [dtype, name] of [['complex64', 'complex64'], ['complex128', 'complex128']] as const) {
      const e = errorOf('{"inputs": [[1.5, -2], [0, 1]]}', { x: spec(dtype) });
      expect(e.code).toBe('UNIMPLEMENTED');
      expect(e.message).toBe(`Conversion of JSON Value: 1.5 to type: ${name}`);
    }
    const row = errorOf('{"instances": [[3, 4]]}', { x: spec('complex64') });
    expect(row.code).toBe('INVALID_ARGUMENT');
    expect(row.message).toBe(
      "Failed to process element: 0 of 'instances' list. Error: UNIMPLEMENTED: Conversion of JSON Value: 3 to type: complex64",
    );
  });

  it('refuses malformed base64 objects', () => {
    expect(message('{"inputs": {"b64": "a"}}', { x: spec('string') })).toBe('Unable to base64 decode');
    expect(message('{"inputs": [{"b64": 1}]}', { x: spec('string') })).toBe(
      'JSON Value: {\n    "b64": 1\n} not formatted correctly for base64 data',
    );
  });
});

describe('ragged and mismatched lists', () => {
  it('refuses ragged lists within one value', () => {
    expect(message('{"inputs": [[1, 2], [3]]}', { x: spec('float32') })).toBe(
      'Encountered list at unexpected size: 1 at level: 1 expected size: 2',
    );
    expect(message('{"inputs": [[1, 2], 3]}', { x: spec('float32') })).toBe(
      'JSON Value: 3 found at incorrect level: 2 in the JSON DOM. Expected at level: 2',
    );
    expect(message('{"inputs": [1, [2]]}', { x: spec('float32') })).toBe(
      'Encountered list at unexpected level: 1 expected < 1',
    );
  });

  it('refuses instances of different sizes or shapes (SingleUnnamedTensorErrors)', () => {
    const s = { default: spec('int32') };
    expect(message('{"instances": [[1,2],[3,4],[5,6,7]]}', s)).toBe(
      "Failed to process element: 2 of 'instances' list. Error: INVALID_ARGUMENT: Expecting tensor size: 2 but got: 3",
    );
    expect(message('{"instances": [[1,2],[3,4],[[5,6]]]}', s)).toBe(
      "Failed to process element: 2 of 'instances' list. Error: INVALID_ARGUMENT: Expecting shape [2] but got: [1,2]",
    );
    expect(message('{"instances": [1, [1]]}', s)).toBe(
      "Failed to process element: 1 of 'instances' list. Error: INVALID_ARGUMENT: Expecting shape [] but got: [1]",
    );
    expect(message('{"instances": [[1,2],["a", "b"]]}', s)).toBe(
      'Failed to process element: 1 of \'instances\' list. Error: INVALID_ARGUMENT: JSON Value: "a" Type: String is not of expected type: int32',
    );
    expect(message('{"instances": [[1, 2], [3]]}', s)).toBe(
      "Failed to process element: 1 of 'instances' list. Error: INVALID_ARGUMENT: Expecting tensor size: 2 but got: 1",
    );
  });

  it('reports a bad value in a mismatched instance before the mismatch', () => {
    expect(message('{"instances": [[1, 2], [true]]}', { x: spec('int32') })).toBe(
      "Failed to process element: 1 of 'instances' list. Error: INVALID_ARGUMENT: JSON Value: true Type: True is not of expected type: int32",
    );
  });

  it('refuses named instances that disagree (MultipleNamedTensorErrors)', () => {
    const s = { int_tensor: spec('int32'), str_tensor: spec('string') };
    expect(
      message(
        '{"instances": [{"int_tensor": [[1,2],[3,4],[5,6]], "str_tensor": ["foo", "bar"]}, {"int_tensor": [[[7,8],[9,0],[1,2]]], "str_tensor": ["baz", "bat"]}]}',
        s,
      ),
    ).toBe(
      "Failed to process element: 1 key: int_tensor of 'instances' list. Error: INVALID_ARGUMENT: Expecting shape [3,2] but got: [1,3,2]",
    );
    expect(
      message(
        '{"instances": [{"int_tensor": [[1,2],[3,4],[5,6],[7,8]], "str_tensor": ["foo", "bar"]}, {"int_tensor": [[7,8],[9,0],[1,2]], "str_tensor": ["baz", "bat"]}]}',
        s,
      ),
    ).toBe(
      "Failed to process element: 1 key: int_tensor of 'instances' list. Error: INVALID_ARGUMENT: Expecting tensor size: 8 but got: 6",
    );
    expect(message('{"instances": [{"int_tensor": [1], "str_tensor": ["a"]}, [1, 20, 30]]}', s)).toBe(
      'Expecting object but got list at item 1 of input list',
    );
    expect(message('{"instances": [["baz", "bar"], {"str_tensor": ["baz", "bat"]}]}', { str_tensor: spec('string') })).toBe(
      'Expecting value/list but got object at item 1 of input list',
    );
  });

  it('refuses instances whose keys are not exactly the inputs', () => {
    const s = { a: spec('float32'), b: spec('float32') };
    expect(message('{"instances": [{"a": 1.5}]}', s)).toBe(
      "Failed to process element: 0 of 'instances' list. JSON object: {\n    \"a\": 1.5\n} keys must be equal to: a,b",
    );
    expect(message('{"instances": [{"a": 1, "b": 2, "c": 3}]}', s)).toBe(
      "Failed to process element: 0 key: c of 'instances' list. Error: INVALID_ARGUMENT: JSON object: does not have named input: c",
    );
    expect(message('{"instances": [1, 2]}', s)).toBe(
      'instances is a plain list, but expecting list of objects as multiple input tensors required as per tensorinfo_map',
    );
  });

  it('refuses columnar inputs that miss an input or are not an object', () => {
    const s = { a: spec('float32'), b: spec('float32') };
    expect(message('{"inputs": {"a": 1}}', s)).toBe("Missing named input: b in 'inputs' object.");
    expect(message('{"inputs": [1, 2]}', s)).toBe(
      'inputs is a plain value/list, but expecting an object as multiple input tensors required as per tensorinfo_map',
    );
  });
});

describe('document errors', () => {
  const s = { default: spec('int32') };

  it('refuses bad JSON with rapidjson texts', () => {
    expect(message('', s)).toBe('JSON Parse error: The document is empty');
    expect(message('instances = [1, 2]', s)).toBe('JSON Parse error: Invalid value. at offset: 0');
  });

  it('refuses a document that is not an object', () => {
    expect(message('[1, 2]', s)).toBe('JSON Value: [\n    1,\n    2\n] Is not object');
  });

  it("requires a string 'signature_name', echoing the document", () => {
    expect(message('{"signature_name": 5, "instances": [[1,2]]}', s)).toBe(
      'JSON Value: {\n    "signature_name": 5,\n    "instances": [\n        [\n            1,\n            2\n        ]\n    ]\n} not formatted correctly. \'signature_name\' key must be a string value.',
    );
    expect(message('{ "signature_name": 100 }', s)).toContain("'signature_name' key must be a string value.");
  });

  it('wants exactly one of "instances" and "inputs"', () => {
    expect(message('{"instances": [1], "inputs": [1]}', s)).toBe(
      'JSON Value: {\n    "instances": [\n        1\n    ],\n    "inputs": [\n        1\n    ]\n} Not formatted correctly expecting only one of \'inputs\' or \'instances\' keys to exist ',
    );
    expect(message('{"instances": {"a": 1}}', s)).toBe(
      'JSON Value: {\n    "instances": {\n        "a": 1\n    }\n} Expecting \'instances\' to be an list/array',
    );
    expect(message('{"instances": []}', s)).toBe('JSON Value: {\n    "instances": []\n} No values in \'instances\' array');
    expect(message('{"signature_name": "x"}', s)).toBe("Missing 'inputs' or 'instances' key");
  });

  it('echoes NaN in a document only up to the NaN, as rapidjson stops writing there', () => {
    expect(message('{"instances": [NaN], "inputs": 1}', s)).toBe(
      'JSON Value: {\n    "instances": [\n         Not formatted correctly expecting only one of \'inputs\' or \'instances\' keys to exist ',
    );
  });

  it('needs a signature with inputs', () => {
    expect(message('{"instances": [1]}', {})).toBe('Failed to get input map for signature: DEFAULT');
    expect(() => parsePredictRequest('{"signature_name": "sig", "instances": [1]}', () => ({}))).toThrow(
      'Failed to get input map for signature: sig',
    );
  });

  it('passes on errors of the signature lookup', () => {
    const notFound = new StatusError('NOT_FOUND', 'no such signature');
    expect(() =>
      parsePredictRequest('{"signature_name": "nope", "instances": [1]}', () => {
        throw notFound;
      }),
    ).toThrow(notFound);
  });

  it('all errors are INVALID_ARGUMENT unless noted', () => {
    expect(errorOf('{"instances": [[1,2],[3]]}', s).code).toBe('INVALID_ARGUMENT');
    expect(errorOf('{', s).code).toBe('INVALID_ARGUMENT');
  });
});

describe('two-step reading', () => {
  it('gives the signature name before the inputs are converted', () => {
    const doc = readPredictRequest('{"signature_name": "classify", "instances": [1.5, 2.5]}');
    expect(doc.signatureName).toBe('classify');
    const { format, inputs } = doc.decodeInputs({ x: spec('float32') });
    expect(format).toBe('row');
    expect(plain(inputs.x).values).toEqual([1.5, 2.5]);
  });

  it('refuses a bad document already when reading it', () => {
    expect(() => readPredictRequest('{"signature_name": []}')).toThrow("'signature_name' key must be a string value.");
    expect(() => readPredictRequest('nope')).toThrow('JSON Parse error: Invalid value. at offset: 1');
  });
});

describe('fast and exact reading agree', () => {
  // A number of 8+ digits under an unused key sends a body through the exact parser;
  // every body must give the same tensors (or error) either way.
  const bodies: [string, Specs][] = [
    ['{"instances": [[1, 2], [3, 4]]}', { x: spec('float32') }],
    ['{"instances": [[1.5, -2.25], [3, 4e5]]}', { x: spec('float32') }],
    ['{"instances": [-0, 0.0, -0.0]}', { x: spec('float32') }],
    ['{"instances": [1, 2, 3]}', { x: spec('int32') }],
    ['{"instances": [1.0, 2]}', { x: spec('int32') }],
    ['{"instances": [1, 2], "note": "v1.5"}', { x: spec('int64') }],
    ['{"instances": [1.5]}', { x: spec('int64') }],
    ['{"inputs": {"a": [true], "b": ["s", {"b64": "YQ=="}]}}', { a: spec('bool'), b: spec('string') }],
    ['{"instances": [{"a": 1, "b": 2.5}, {"a": 3, "b": 4}]}', { a: spec('int32'), b: spec('float64') }],
    ['{"instances": [[1, 2], [3]]}', { x: spec('float32') }],
    ['{"instances": [{"a": 1}]}', { a: spec('int32'), b: spec('int32') }],
  ];
  for (const [body, specs] of bodies) {
    it(body, () => {
      const padded = body.replace(/}$/, ', "pad": 12345678}');
      type Outcome = { format?: string; inputs?: Record<string, ReturnType<typeof plain>>; error?: string };
      const run = (b: string): Outcome => {
        try {
          const r = decode(b, specs);
          return { format: r.format, inputs: Object.fromEntries(Object.entries(r.inputs).map(([k, t]) => [k, plain(t)])) };
        } catch (e) {
          return { error: (e as Error).message.replace(/,\n {4}"pad": 12345678/, '') };
        }
      };
      const fast = run(body);
      const exact = run(padded);
      expect(fast).toEqual(exact);
      // -0 must stay distinguishable: "-0" is the integer 0, "-0.0" a negative zero.
      for (const [k, t] of Object.entries(fast.inputs ?? {})) {
        t.values.forEach((v, i) => expect(Object.is(v, exact.inputs?.[k].values[i])).toBe(true));
      }
    });
  }
});
