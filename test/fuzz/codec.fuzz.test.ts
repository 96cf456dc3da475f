// Fuzz: the TF Serving JSON codec (predict, classify and regress request
// bodies) over random JSON, mutated valid requests, deep nesting, huge
// numbers, bad base64 and wrong types. Every body ends in tensors or an
// INVALID_ARGUMENT StatusError (HTTP 400) — never another exception.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseExamplesRequest, readPredictRequest } from '../../runtime/codec/index.js';
import type { DType } from '../../runtime/dtypes.js';
import { StatusError } from '../../runtime/errors.js';
import { expectStatusOrResult, mutatedText } from './fuzz_helpers.js';

const DTYPES: DType[] = ['float32', 'float64', 'int32', 'int8', 'uint8', 'int64', 'uint32', 'uint64', 'bool', 'string'];
const SPECS = [
  { x: { dtype: 'float32' as DType } },
  { x: { dtype: 'int64' as DType } },
  { x: { dtype: 'string' as DType } },
  { a: { dtype: 'int32' as DType }, b: { dtype: 'string' as DType } },
  { x: { dtype: 'bool' as DType }, y: { dtype: 'float64' as DType }, z: { dtype: 'uint8' as DType } },
];

/** A predict body: parse, then decode against every spec; results or INVALID_ARGUMENT. */
function predictEndsWell(body: string | Uint8Array): void {
  const show = () => (typeof body === 'string' ? body : Buffer.from(body).toString('latin1'));
  const doc = expectStatusOrResult(() => readPredictRequest(body), ['INVALID_ARGUMENT'], show);
  if (doc instanceof StatusError) return;
  for (const spec of SPECS) {
    const r = expectStatusOrResult(() => doc.decodeInputs(spec), ['INVALID_ARGUMENT'], show);
    if (!(r instanceof StatusError)) for (const t of Object.values(r.inputs)) t.dispose();
  }
}

function examplesEndWell(body: string): void {
  expectStatusOrResult(() => parseExamplesRequest(body), ['INVALID_ARGUMENT'], () => body);
}

/** JSON-ish text: valid JSON values plus the tokens rapidjson reads beyond JSON (NaN, Infinity) and broken ones. */
const number = fc.oneof(
  fc.double().map(String),
  fc.integer().map(String),
  fc.bigInt({ min: -(1n << 70n), max: 1n << 70n }).map(String),
  fc.constantFrom('NaN', '-Infinity', 'Inf', '1e400', '-1e-400', '1.', '-', '01', '1e', '9'.repeat(400), '0.' + '1'.repeat(400), '1e99999999999', '3.0', '-0', '-0.0'),
);
const leaf = fc.oneof(
  number,
  fc.constantFrom('true', 'false', 'null', '""', '"\\ud800"', '"\\u00e9"', '"\\x"', '{"b64": "aGVsbG8="}', '{"b64": "!!"}', '{"b64": 5}'),
  fc.string({ maxLength: 12 }).map((s) => JSON.stringify(s)),
);
const jsonText: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('value'), { maxLength: 6 }).map((items) => `[${items.join(',')}]`),
    fc
      .array(fc.tuple(fc.constantFrom('instances', 'inputs', 'signature_name', 'examples', 'context', 'x', 'a', 'b', 'b64', '__proto__'), tie('value')), { maxLength: 4 })
      .map((entries) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
  ),
})).value;

const VALID_BODIES = [
  '{"instances": [[1.0, 2.0], [3.0, 4.0]]}',
  '{"inputs": {"a": [1, 2, 3], "b": ["x", "y"]}}',
  '{"signature_name": "serving_default", "instances": [{"a": 1, "b": {"b64": "aGVsbG8="}}, {"a": 2, "b": "z"}]}',
  '{"instances": [true, false, true]}',
  '{"inputs": [[[1, 2], [3, 4]], [[5, 6], [7, 8]]]}',
  '{"examples": [{"x": 80.0, "tags": ["a", "b"], "n": 3}], "context": {"c": [1, 2]}}',
  `{"instances": [[${Array.from({ length: 300 }, (_, i) => i / 4).join(',')}]]}`,
  `{"inputs": [${Array.from({ length: 400 }, (_, i) => i).join(',')}]}`,
];

describe('codec fuzz', () => {
  it('random JSON-ish bodies (as predict and as classify/regress)', () => {
    fc.assert(
      fc.property(jsonText, (body) => {
        predictEndsWell(body);
        predictEndsWell(`{"instances": [${body}]}`);
        predictEndsWell(`{"inputs": ${body}}`);
        examplesEndWell(`{"examples": [${body}]}`);
        examplesEndWell(body);
      }),
      { numRuns: 1000 },
    );
  }, 30_000);

  it('mutated valid requests', () => {
    fc.assert(
      fc.property(fc.constantFrom(...VALID_BODIES).chain((b) => mutatedText(b)), (body) => {
        predictEndsWell(body);
        predictEndsWell(Buffer.from(body, 'utf8'));
        examplesEndWell(body);
      }),
      { numRuns: 2000 },
    );
  }, 30_000);

  it('arbitrary bytes, including invalid UTF-8 and NULs', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        predictEndsWell(bytes);
        predictEndsWell(Buffer.concat([Buffer.from('{"instances": ['), bytes, Buffer.from(']}')]));
      }),
      { numRuns: 1200 },
    );
  }, 30_000);

  it('deep nesting of arrays and objects answers INVALID_ARGUMENT at any depth', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200_000 }), fc.constantFrom('[', '{"a":', '[{"b64":'), fc.boolean(), (depth, open, closed) => {
        const close = open === '[' ? ']' : open === '{"a":' ? '}' : '}]';
        const inner = `${open.repeat(depth)}1${closed ? close.repeat(depth) : ''}`;
        predictEndsWell(`{"instances": [${inner}]}`);
        examplesEndWell(`{"examples": [${inner}]}`);
      }),
      { numRuns: 60 },
    );
    const deep = `{"inputs": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    expect(() => readPredictRequest(deep)).toThrow(/--max_json_depth/);
  }, 30_000);

  it('long number lists of every dtype agree with the same lists read as JS values', () => {
    // Lists of 256+ numbers are typed arrays in the exact parser; a body with an 8-digit
    // number elsewhere is read only by the exact parser, one without may take JSON.parse.
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer({ min: -300, max: 300 }).map(String), fc.constantFrom('1.0', '-0.0', '2.5', '1e2', '-7', '0')), { minLength: 256, maxLength: 700 }),
        fc.constantFrom(...DTYPES),
        (tokens, dtype) => {
          const list = `[${tokens.join(',')}]`;
          const outcome = (body: string) => {
            try {
              return { values: Array.from(readPredictRequest(body).decodeInputs({ x: { dtype } }).inputs.x.values() as ArrayLike<unknown>, String) };
            } catch (e) {
              return { error: (e as Error).message.replace(/JSON Value: \{[\s\S]*\} /, '') };
            }
          };
          expect(outcome(`{"pad": 12345678, "inputs": ${list}}`)).toEqual(outcome(`{"pad": 1, "inputs": ${list}}`));
          expect(outcome(`{"pad": 12345678, "instances": ${list}}`)).toEqual(outcome(`{"pad": 1, "instances": ${list}}`));
        },
      ),
      { numRuns: 300 },
    );
  }, 30_000);
});
