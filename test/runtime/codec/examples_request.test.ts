// Classify / regress request bodies → serialized tf.Examples. Ports the
// ClassifyRegressRequestTest cases of TF Serving's json_tensor_test.cc; the
// bytes are checked by decoding them as tensorflow.Example.
import { describe, expect, it } from 'vitest';
import { parseExamplesRequest } from '../../../runtime/codec/index.js';
import { protoType } from '../../../runtime/proto/schema.js';
import { StatusError } from '../../../runtime/errors.js';

type Feature = { bytes?: string[]; float?: number[]; int64?: string[]; empty?: true };

/** An Example's features as plain values (bytes as UTF-8 text, int64 as decimal strings). */
function features(bytes: Uint8Array): Record<string, Feature> {
  const type = protoType('tensorflow.Example');
  const obj = type.toObject(type.decode(bytes), { longs: String, defaults: false }) as {
    features?: { feature?: Record<string, { bytesList?: { value?: Uint8Array[] }; floatList?: { value?: number[] }; int64List?: { value?: string[] } }> };
  };
  const out: Record<string, Feature> = {};
  for (const [name, f] of Object.entries(obj.features?.feature ?? {})) {
    if (f.bytesList) out[name] = { bytes: (f.bytesList.value ?? []).map((b) => Buffer.from(b).toString('utf8')) };
    else if (f.floatList) out[name] = { float: f.floatList.value ?? [] };
    else if (f.int64List) out[name] = { int64: (f.int64List.value ?? []).map(String) };
    else out[name] = { empty: true };
  }
  return out;
}

function message(body: string): string {
  try {
    parseExamplesRequest(body);
  } catch (e) {
    expect(e).toBeInstanceOf(StatusError);
    expect((e as StatusError).code).toBe('INVALID_ARGUMENT');
    return (e as StatusError).message;
  }
  throw new Error(`expected ${body} to be refused`);
}

describe('parseExamplesRequest', () => {
  it('turns strings, decimals and integers into bytes, float and int64 lists (RequestNoContext)', () => {
    const r = parseExamplesRequest(`{
      "examples": [
        { "names": [ "foo", "bar" ], "ratings": [ 8.0, 9.0 ], "age": 20 },
        { "names": [ "baz" ], "ratings": 6.0 }
      ]
    }`);
    expect(r.signatureName).toBeUndefined();
    expect(r.context).toBeUndefined();
    expect(r.examples.map(features)).toEqual([
      { names: { bytes: ['foo', 'bar'] }, ratings: { float: [8, 9] }, age: { int64: ['20'] } },
      { names: { bytes: ['baz'] }, ratings: { float: [6] } },
    ]);
  });

  it('reads the context, b64 values, NaN/Infinity and true/false (RequestWithContextAndSignature)', () => {
    const r = parseExamplesRequest(`{
      "signature_name": "custom_signture",
      "context": { "query": "pizza", "location": [ "sfo" ] },
      "examples": [
        { "names": [ "foo", "bar" ], "ratings": [ 8.0, 9.0, NaN, Infinity ], "age": 20 },
        { "names": [ "baz", { "b64": "aGVsbG8=" } ], "ratings": 6.0, "intboolmix": [ 1, true, false ] },
        { "names": "bar", "ratings": -Infinity }
      ]
    }`);
    expect(r.signatureName).toBe('custom_signture');
    expect(features(r.context!)).toEqual({ query: { bytes: ['pizza'] }, location: { bytes: ['sfo'] } });
    // Each example is fed as context + example: context features merged in.
    expect(r.examples.map(features)).toEqual([
      {
        query: { bytes: ['pizza'] },
        location: { bytes: ['sfo'] },
        names: { bytes: ['foo', 'bar'] },
        ratings: { float: [8, 9, NaN, Infinity] },
        age: { int64: ['20'] },
      },
      {
        query: { bytes: ['pizza'] },
        location: { bytes: ['sfo'] },
        names: { bytes: ['baz', 'hello'] },
        ratings: { float: [6] },
        intboolmix: { int64: ['1', '1', '0'] },
      },
      { query: { bytes: ['pizza'] }, location: { bytes: ['sfo'] }, names: { bytes: ['bar'] }, ratings: { float: [-Infinity] } },
    ]);
  });

  it('lets an example feature replace a context feature of the same name', () => {
    const r = parseExamplesRequest('{"context": {"x": 1.5, "c": "ctx"}, "examples": [{"x": 2.5}]}');
    expect(features(r.examples[0])).toEqual({ x: { float: [2.5] }, c: { bytes: ['ctx'] } });
  });

  it('serializes the README regress example {"x": 80.0} as a float feature', () => {
    const r = parseExamplesRequest('{"signature_name": "regress_x_to_y", "examples": [ { "x": 80.0 } ] }');
    expect(r.signatureName).toBe('regress_x_to_y');
    expect(r.examples).toHaveLength(1);
    expect(features(r.examples[0])).toEqual({ x: { float: [80] } });
    // features { feature { key: "x" value { float_list { value: 80 } } } }
    expect(Buffer.from(r.examples[0]).toString('hex')).toBe('0a0f0a0d0a0178120812060a040000a042');
  });

  it('keeps int64 features exact and empty lists as features without a kind', () => {
    const r = parseExamplesRequest('{"examples": [{"id": [9223372036854775807, -9223372036854775808], "none": []}]}');
    expect(features(r.examples[0])).toEqual({
      id: { int64: ['9223372036854775807', '-9223372036854775808'] },
      none: { empty: true },
    });
  });

  it('refuses what TF Serving refuses, with its texts (JsonErrors)', () => {
    expect(message('{"signature_name": [ "hello" ], "examples": [ { "names": [ "foo", "bar" ] } ]}')).toBe(
      'JSON Value: {\n    "signature_name": [\n        "hello"\n    ],\n    "examples": [\n        {\n            "names": [\n                "foo",\n                "bar"\n            ]\n        }\n    ]\n} not formatted correctly. \'signature_name\' key must be a string value.',
    );
    expect(message('{"context": [ { "names": [ "foo", "bar" ] } ]}')).toBe('Example must be JSON object but got JSON Array');
    expect(message('{"examples": { "names": [ "foo", "bar" ] }}')).toBe(
      'JSON Value: {\n    "examples": {\n        "names": [\n            "foo",\n            "bar"\n        ]\n    }\n} Expecting \'examples\' value to be an list/array',
    );
    expect(message('{"examples": [ [ { "names": [ "foo", "bar" ] } ] ]}')).toBe('Example must be JSON object but got JSON Array');
    expect(message('{"examples": [ { "names": [ 10, null ] } ]}')).toBe(
      'Feature: names has element with unexpected JSON type: Null',
    );
    expect(message('{"examples": [ { "names": [ 10, 10.0 ] } ]}')).toBe(
      'Unexpected element type in feature: names expecting type: int64',
    );
    expect(message('{"examples": [ { "names": [ 10, { "test": 10 } ] } ]}')).toBe(
      'Feature: names has element with unexpected JSON type: Object',
    );
    expect(message('{"examples": [ { "names": [ [10], 20 ] } ]}')).toBe(
      'Feature: names has element with unexpected JSON type: Array',
    );
    expect(message('{"examples": [ { "names": [ 20, 18446744073709551603 ] } ]}')).toBe(
      'Feature: names has uint64_t element. Only int64_t is supported.',
    );
    expect(message('{"examples": [ { "names": [ "a", 1.5 ] } ]}')).toBe(
      'Unexpected element type in feature: names expecting type: bytes',
    );
    expect(message('{"examples": [ { "names": [ { "b64": "!" } ] } ]}')).toBe('Unable to base64 decode');
  });

  it('needs a non-empty "examples" list', () => {
    expect(message('{"signature_name": "s"}')).toBe(
      'JSON Value: {\n    "signature_name": "s"\n} When method is classify, key \'examples\' is expected and was not found',
    );
    expect(message('{"examples": []}')).toBe('JSON Value: {\n    "examples": []\n} \'examples\' value is an empty array');
  });

  it('refuses bad JSON and non-object documents', () => {
    expect(message('')).toBe('JSON Parse error: The document is empty');
    expect(message('[{"x": 1}]')).toBe('JSON Value: [\n    {\n        "x": 1\n    }\n] Is not object');
  });
});
