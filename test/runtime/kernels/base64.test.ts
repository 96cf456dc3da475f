import { describe, expect, it } from 'vitest';
import { StatusError } from '../../../runtime/errors.js';
import type { AttrValue } from '../../../runtime/graph/types.js';
import { Attrs } from '../../../runtime/kernels/attrs.js';
import { base64Decode, base64Encode } from '../../../runtime/kernels/base64.js';
import { kernelFor, type FunctionCaller, type ResourceManager } from '../../../runtime/kernels/registry.js';
import { Tensor } from '../../../runtime/tensor.js';

function run(op: string, inputs: Tensor[], attr: Record<string, AttrValue> = {}): Tensor[] {
  const def = kernelFor(op);
  if (!def) throw new Error(`no kernel for ${op}`);
  return def.kernel({
    node: { name: 'n', op, input: [], device: '', attr },
    attrs: new Attrs(attr, 'n', op),
    inputs,
    resources: {} as ResourceManager,
    functions: {} as FunctionCaller,
  });
}

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

function decodeError(s: string): string {
  try {
    base64Decode(bytes(s));
  } catch (e) {
    expect(e).toBeInstanceOf(StatusError);
    expect((e as StatusError).code).toBe('INVALID_ARGUMENT');
    return (e as Error).message;
  }
  throw new Error(`'${s}' decoded without error`);
}

describe('TF web-safe base64', () => {
  it('encodes with the web-safe alphabet and pads only when asked', () => {
    // 0xfb 0xff 0xbf encodes to "+/+/" in standard base64.
    expect(text(base64Encode(Uint8Array.of(0xfb, 0xff, 0xbf)))).toBe('-_-_');
    expect(text(base64Encode(bytes('ab')))).toBe('YWI');
    expect(text(base64Encode(bytes('ab'), true))).toBe('YWI=');
    expect(text(base64Encode(bytes('a'), true))).toBe('YQ==');
    expect(text(base64Encode(bytes('abc'), true))).toBe('YWJj');
    expect(text(base64Encode(new Uint8Array(0), true))).toBe('');
  });

  it('decodes padded and unpadded input to the same bytes', () => {
    expect(text(base64Decode(bytes('YWI')))).toBe('ab');
    expect(text(base64Decode(bytes('YWI=')))).toBe('ab');
    expect(text(base64Decode(bytes('YQ')))).toBe('a');
    expect(text(base64Decode(bytes('YQ==')))).toBe('a');
    expect(Array.from(base64Decode(bytes('-_-_')))).toEqual([0xfb, 0xff, 0xbf]);
    expect(base64Decode(new Uint8Array(0)).length).toBe(0);
  });

  it('round-trips every byte value', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    for (const pad of [false, true]) {
      for (let n = 0; n <= 7; n++) {
        const part = all.subarray(0, 250 + n);
        expect(Array.from(base64Decode(base64Encode(part, pad)))).toEqual(Array.from(part));
      }
    }
  });

  it('rejects the standard alphabet, whitespace and misplaced padding with TF wording', () => {
    for (const bad of ['+/+/', 'YW J', 'YWI\n', 'Y=I=', 'YQ=A', '====', 'YWJ=Y']) {
      expect(decodeError(bad)).toBe('Invalid character found in base64.');
    }
    expect(decodeError('YWJjZ')).toBe('Base64 string length cannot be 1 modulo 4.');
    expect(decodeError('Y')).toBe('Base64 string length cannot be 1 modulo 4.');
  });

  it('EncodeBase64 / DecodeBase64 kernels keep the shape and honour pad', () => {
    const input = Tensor.from('string', [2, 1], ['hello', 'tf']);
    const [enc] = run('EncodeBase64', [input], { pad: { kind: 'b', b: true } });
    expect(enc.shape).toEqual([2, 1]);
    expect(enc.strings()).toEqual(['aGVsbG8=', 'dGY=']);
    const [plain] = run('EncodeBase64', [input]);
    expect(plain.strings()).toEqual(['aGVsbG8', 'dGY']);
    const [dec] = run('DecodeBase64', [enc]);
    expect(dec.strings()).toEqual(['hello', 'tf']);
    expect(() => run('DecodeBase64', [Tensor.from('string', [1], ['aGV+bG8'])])).toThrowError(
      'Invalid character found in base64.',
    );
  });
});
