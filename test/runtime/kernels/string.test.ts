import { describe, expect, it } from 'vitest';
import { StatusError } from '../../../runtime/errors.js';
import type { AttrValue } from '../../../runtime/graph/types.js';
import { Attrs } from '../../../runtime/kernels/attrs.js';
import { kernelFor, type FunctionCaller, type ResourceManager } from '../../../runtime/kernels/registry.js';
import '../../../runtime/kernels/string.js';
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

const s = (v: string): AttrValue => ({ kind: 's', s: new TextEncoder().encode(v) });
const i = (v: number): AttrValue => ({ kind: 'i', i: v });
const b = (v: boolean): AttrValue => ({ kind: 'b', b: v });
const type = (v: 'float32' | 'float64' | 'int32' | 'int64'): AttrValue => ({ kind: 'type', type: v });
const strs = (shape: number[], v: string[]) => Tensor.from('string', shape, v);
const scalar = (v: string) => Tensor.scalar('string', v);

function statusOf(fn: () => unknown): StatusError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(StatusError);
    return e as StatusError;
  }
  throw new Error('expected an error');
}

describe('StringJoin / ReduceJoin', () => {
  it('joins element-wise, broadcasting scalars', () => {
    const [out] = run('StringJoin', [strs([2], ['a', 'b']), scalar('x'), strs([2], ['1', '2'])], {
      separator: s('-'),
    });
    expect(out.shape).toEqual([2]);
    expect(out.strings()).toEqual(['a-x-1', 'b-x-2']);
    const [sc] = run('StringJoin', [scalar('p'), scalar('q')]);
    expect(sc.shape).toEqual([]);
    expect(sc.strings()).toEqual(['pq']);
  });

  it('rejects non-scalar inputs of different shapes', () => {
    const err = statusOf(() => run('StringJoin', [strs([2], ['a', 'b']), strs([3], ['a', 'b', 'c'])]));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toBe('Input shapes do not match: [2] vs. [3]');
  });

  it('reduces over the given axes in row-major order', () => {
    const input = strs([2, 3], ['a', 'b', 'c', 'd', 'e', 'f']);
    const [rows] = run('ReduceJoin', [input, Tensor.scalar('int32', 1)], { separator: s(',') });
    expect(rows.shape).toEqual([2]);
    expect(rows.strings()).toEqual(['a,b,c', 'd,e,f']);
    const [cols] = run('ReduceJoin', [input, Tensor.scalar('int32', -2)], { keep_dims: b(true) });
    expect(cols.shape).toEqual([1, 3]);
    expect(cols.strings()).toEqual(['ad', 'be', 'cf']);
    const [all] = run('ReduceJoin', [input, Tensor.from('int32', [2], [0, 1])]);
    expect(all.shape).toEqual([]);
    expect(all.strings()).toEqual(['abcdef']);
  });

  it('reports bad reduction axes as TF does', () => {
    const input = strs([2], ['a', 'b']);
    const err = statusOf(() => run('ReduceJoin', [input, Tensor.scalar('int32', 2)]));
    expect(err.code).toBe('OUT_OF_RANGE');
    expect(err.message).toBe('Invalid reduction dimension 2 for input with 1 dimension(s)');
    expect(statusOf(() => run('ReduceJoin', [input, Tensor.from('int32', [2], [0, -1])])).message).toBe(
      'Duplicate reduction dimension -1',
    );
  });
});

describe('regex kernels (RE2 syntax)', () => {
  it('matches the whole string only', () => {
    const input = strs([4], ['abc123', 'abc', 'abc123x', 'ABC9']);
    const [m] = run('StaticRegexFullMatch', [input], { pattern: s('[a-z]+\\d+') });
    expect(Array.from(m.values() as Uint8Array)).toEqual([1, 0, 0, 0]);
    const [ci] = run('RegexFullMatch', [input, scalar('(?i)abc\\d*')]);
    expect(ci.dtype).toBe('bool');
    expect(Array.from(ci.values() as Uint8Array)).toEqual([1, 1, 0, 1]);
  });

  it('reports an invalid pattern with the pattern and RE2 reason', () => {
    const err = statusOf(() => run('RegexFullMatch', [strs([1], ['a']), scalar('(abc')]));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toBe('Invalid pattern: (abc, error: missing ): (abc');
    expect(statusOf(() => run('RegexFullMatch', [strs([1], ['a']), strs([1], ['a'])])).message).toBe(
      'Pattern must be scalar, but received [1]',
    );
  });

  it('replaces globally or once, with \\N group references', () => {
    const input = strs([2], ['2024-01-15', 'no date']);
    const pattern = scalar('(\\d+)-(\\d+)-(\\d+)');
    const [g] = run('RegexReplace', [input, pattern, scalar('\\3/\\2/\\1')]);
    expect(g.strings()).toEqual(['15/01/2024', 'no date']);
    const [first] = run('StaticRegexReplace', [strs([1], ['a1b22c333'])], {
      pattern: s('\\d+'),
      rewrite: s('#'),
      replace_global: b(false),
    });
    expect(first.strings()).toEqual(['a#b22c333']);
    const [all] = run('StaticRegexReplace', [strs([1], ['a1b22c333'])], { pattern: s('\\d+'), rewrite: s('#') });
    expect(all.strings()).toEqual(['a#b#c#']);
  });

  it('handles empty matches like RE2::GlobalReplace, on UTF-8 characters', () => {
    const [out] = run('StaticRegexReplace', [strs([2], ['abc', 'héé'])], { pattern: s('x*'), rewrite: s('-') });
    expect(out.strings()).toEqual(['-a-b-c-', '-h-é-é-']);
  });

  it('leaves strings unchanged when the rewrite names a group the pattern lacks', () => {
    const [out] = run('StaticRegexReplace', [strs([1], ['abc'])], { pattern: s('(b)'), rewrite: s('\\2') });
    expect(out.strings()).toEqual(['abc']);
  });
});

describe('StringToNumber', () => {
  it('parses floats the way safe_strtof does', () => {
    const input = strs([7], ['1.5', '  -2.25 ', '1e3', '.5', 'inf', '-INF', '0x1A']);
    const [out] = run('StringToNumber', [input]);
    expect(out.dtype).toBe('float32');
    expect(Array.from(out.values() as Float32Array)).toEqual([1.5, -2.25, 1000, 0.5, Infinity, -Infinity, 26]);
    const [nan] = run('StringToNumber', [strs([1], ['nan'])], { out_type: type('float64') });
    expect(Number.isNaN((nan.values() as Float64Array)[0])).toBe(true);
  });

  it('parses int32 and int64 with range checks', () => {
    const [i32] = run('StringToNumber', [strs([3], ['-12', ' 7 ', '2147483647'])], { out_type: type('int32') });
    expect(Array.from(i32.values() as Int32Array)).toEqual([-12, 7, 2147483647]);
    const [i64] = run('StringToNumber', [strs([1], ['-9223372036854775808'])], { out_type: type('int64') });
    expect((i64.values() as BigInt64Array)[0]).toBe(-(2n ** 63n));
    for (const bad of ['2147483648', '+5', '1.0', '']) {
      const err = statusOf(() => run('StringToNumber', [strs([1], [bad])], { out_type: type('int32') }));
      expect(err.message).toBe(`StringToNumberOp could not correctly convert string: ${bad}`);
    }
  });

  it('rejects junk with TF wording', () => {
    for (const bad of ['abc', '1.5x', '1e', 'infinity', '0x', '1 2']) {
      const err = statusOf(() => run('StringToNumber', [strs([1], [bad])]));
      expect(err.code).toBe('INVALID_ARGUMENT');
      expect(err.message).toBe(`StringToNumberOp could not correctly convert string: ${bad}`);
    }
  });
});

describe('AsString', () => {
  const fmt = (t: Tensor, attr: Record<string, AttrValue> = {}) => run('AsString', [t], attr)[0].strings();

  it('formats floats with %f, %e and %g', () => {
    const t = Tensor.from('float32', [3], [3.14159, -0.5, 1234567]);
    expect(fmt(t)).toEqual(['3.141590', '-0.500000', '1234567.000000']);
    expect(fmt(t, { precision: i(2) })).toEqual(['3.14', '-0.50', '1234567.00']);
    expect(fmt(t, { scientific: b(true) })).toEqual(['3.141590e+00', '-5.000000e-01', '1.234567e+06']);
    expect(fmt(t, { shortest: b(true) })).toEqual(['3.14159', '-0.5', '1.23457e+06']);
    expect(fmt(Tensor.from('float64', [2], [1e-5, 100]), { shortest: b(true) })).toEqual(['1e-05', '100']);
  });

  it('rounds the exact binary value half to even, like printf', () => {
    expect(fmt(Tensor.from('float64', [4], [2.5, 3.5, 0.125, 0.1]), { precision: i(0) })).toEqual(['2', '4', '0', '0']);
    expect(fmt(Tensor.from('float64', [2], [0.125, 0.375]), { precision: i(2) })).toEqual(['0.12', '0.38']);
    // 0.1f is 0.100000001490116..., which shows at 10 digits.
    expect(fmt(Tensor.from('float32', [1], [0.1]), { precision: i(10) })).toEqual(['0.1000000015']);
  });

  it('pads with width and fill', () => {
    const t = Tensor.from('int32', [2], [42, -7]);
    expect(fmt(t, { width: i(5) })).toEqual(['   42', '   -7']);
    expect(fmt(t, { width: i(5), fill: s('0') })).toEqual(['00042', '-0007']);
    expect(fmt(t, { width: i(5), fill: s('-') })).toEqual(['42   ', '-7   ']);
    expect(fmt(Tensor.from('int64', [1], [2n ** 62n]))).toEqual(['4611686018427387904']);
    expect(fmt(Tensor.from('bool', [2], [true, false]))).toEqual(['true', 'false']);
  });

  it('validates attributes as TF does', () => {
    const ints = Tensor.from('int32', [1], [1]);
    expect(statusOf(() => fmt(ints, { precision: i(2) })).message).toBe('precision not supported for datatype int32');
    expect(statusOf(() => fmt(ints, { shortest: b(true) })).message).toBe(
      'scientific and shortest format not supported for datatype int32',
    );
    const f = Tensor.from('float32', [1], [1]);
    expect(statusOf(() => fmt(f, { shortest: b(true), scientific: b(true) })).message).toBe(
      'Cannot select both scientific and shortest notation',
    );
    expect(statusOf(() => fmt(f, { fill: s('ab') })).message).toBe('Fill string must be one or fewer characters');
    expect(statusOf(() => fmt(f, { fill: s('x') })).message).toBe('Fill argument not supported: "x"');
  });
});

describe('per-string kernels', () => {
  it('StringLength counts bytes or UTF-8 characters', () => {
    const input = strs([2], ['héllo', '']);
    expect(Array.from(run('StringLength', [input])[0].values() as Int32Array)).toEqual([6, 0]);
    const [chars] = run('StringLength', [input], { unit: s('UTF8_CHAR') });
    expect(chars.dtype).toBe('int32');
    expect(Array.from(chars.values() as Int32Array)).toEqual([5, 0]);
  });

  it('Substr takes byte or character ranges, with negative positions from the end', () => {
    const input = strs([2], ['hello', 'world']);
    expect(run('Substr', [input, Tensor.scalar('int32', 1), Tensor.scalar('int32', 3)])[0].strings()).toEqual([
      'ell',
      'orl',
    ]);
    expect(
      run('Substr', [input, Tensor.from('int32', [2], [-2, 0]), Tensor.from('int32', [2], [5, 2])])[0].strings(),
    ).toEqual(['lo', 'wo']);
    const utf = strs([1], ['héllo']);
    const [chars] = run('Substr', [utf, Tensor.scalar('int64', 1n), Tensor.scalar('int64', 2n)], {
      unit: s('UTF8_CHAR'),
    });
    expect(chars.strings()).toEqual(['él']);
    const [tail] = run('Substr', [utf, Tensor.scalar('int32', -4), Tensor.scalar('int32', 2)], {
      unit: s('UTF8_CHAR'),
    });
    expect(tail.strings()).toEqual(['él']);
  });

  it('Substr broadcasts a vector of positions against a matrix of strings', () => {
    const input = strs([2, 2], ['abcd', 'efgh', 'ijkl', 'mnop']);
    const [out] = run('Substr', [input, Tensor.from('int32', [2], [0, 2]), Tensor.from('int32', [2], [1, 2])]);
    expect(out.shape).toEqual([2, 2]);
    expect(out.strings()).toEqual(['a', 'gh', 'i', 'op']);
  });

  it('Substr reports an out-of-range position', () => {
    const err = statusOf(() => run('Substr', [strs([1], ['abc']), Tensor.scalar('int32', 4), Tensor.scalar('int32', 1)]));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toBe("pos 4 out of range for string b'abc' at index 0");
  });

  it('StringLower / StringUpper change ASCII only unless utf-8 is requested', () => {
    const input = strs([1], ['Héllo ÀB']);
    expect(run('StringLower', [input])[0].strings()).toEqual(['héllo Àb']);
    expect(run('StringUpper', [input])[0].strings()).toEqual(['HéLLO ÀB']);
    expect(run('StringLower', [input], { encoding: s('utf-8') })[0].strings()).toEqual(['héllo àb']);
    expect(run('StringUpper', [input], { encoding: s('utf-8') })[0].strings()).toEqual(['HÉLLO ÀB']);
  });

  it('StringStrip removes surrounding whitespace', () => {
    expect(run('StringStrip', [strs([2], ['  a b \n', '\t'])])[0].strings()).toEqual(['a b', '']);
  });
});

describe('string splits', () => {
  it('StringSplitV2 splits on a separator keeping empty pieces, like str.split(sep)', () => {
    const [indices, values, shape] = run('StringSplitV2', [strs([2], ['a,,b', 'c']), scalar(',')]);
    expect(values.strings()).toEqual(['a', '', 'b', 'c']);
    expect(Array.from(indices.values() as BigInt64Array)).toEqual([0n, 0n, 0n, 1n, 0n, 2n, 1n, 0n]);
    expect(indices.shape).toEqual([4, 2]);
    expect(Array.from(shape.values() as BigInt64Array)).toEqual([2n, 3n]);
  });

  it('StringSplitV2 splits on runs of whitespace without a separator, honouring maxsplit', () => {
    const [, values] = run('StringSplitV2', [strs([1], ['  a  b c ']), scalar('')]);
    expect(values.strings()).toEqual(['a', 'b', 'c']);
    const [, limited] = run('StringSplitV2', [strs([1], ['a<>b<>c']), scalar('<>')], { maxsplit: i(1) });
    expect(limited.strings()).toEqual(['a', 'b<>c']);
    const [, ws] = run('StringSplitV2', [strs([1], [' a b  c d']), scalar('')], { maxsplit: i(2) });
    expect(ws.strings()).toEqual(['a', 'b', 'c d']);
  });

  it('StringSplit treats each delimiter character separately and skips empties', () => {
    const [, values, shape] = run('StringSplit', [strs([2], ['a b,c', 'd,,e']), scalar(' ,')]);
    expect(values.strings()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(Array.from(shape.values() as BigInt64Array)).toEqual([2n, 3n]);
    const [, chars] = run('StringSplit', [strs([1], ['xyz']), scalar('')]);
    expect(chars.strings()).toEqual(['x', 'y', 'z']);
  });
});

describe('ShardedFilename', () => {
  it('formats "%s-%05d-of-%05d"', () => {
    const [out] = run('ShardedFilename', [scalar('/tmp/ckpt'), Tensor.scalar('int32', 3), Tensor.scalar('int32', 12)]);
    expect(out.strings()).toEqual(['/tmp/ckpt-00003-of-00012']);
    const [spec] = run('ShardedFilespec', [scalar('model'), Tensor.scalar('int32', 2)]);
    expect(spec.strings()).toEqual(['model-?????-of-00002']);
  });
});

describe('hash buckets', () => {
  it('fingerprint64 matches farmhash Fingerprint64 (as published for BigQuery FARM_FINGERPRINT)', async () => {
    const { fingerprint64 } = await import('../../../runtime/kernels/string_hash.js');
    const fp = (text: string) => BigInt.asIntN(64, fingerprint64(new TextEncoder().encode(text)));
    expect(fp('alphabet')).toBe(-2427165924636348523n);
    expect(fp('1footrue')).toBe(-1541654101129638711n);
    expect(fp('2applefalse')).toBe(2794438866806483259n);
    expect(fp('3true')).toBe(-4880158226897771312n);
    expect(fp('Amazon Redshift')).toBe(8085098817162212970n);
  });

  it('sipHash24 matches the SipHash-2-4 reference vector', async () => {
    const { sipHash24 } = await import('../../../runtime/kernels/string_hash.js');
    const msg = Uint8Array.from({ length: 15 }, (_, k) => k);
    expect(sipHash24([0x0706050403020100n, 0x0f0e0d0c0b0a0908n], msg)).toBe(0xa129ca6149be45e5n);
  });

  it('StringToHashBucketFast / Strong give the buckets of TF\'s documented examples', () => {
    const [fast] = run('StringToHashBucketFast', [strs([3], ['Hello', 'TensorFlow', '2.x'])], { num_buckets: i(3) });
    expect(fast.dtype).toBe('int64');
    expect(Array.from(fast.values() as BigInt64Array)).toEqual([0n, 2n, 2n]);
    const key: AttrValue = { kind: 'list', list: { s: [], i: [1, 2], f: [], b: [], type: [], shape: [], tensor: [], func: [] } };
    const [strong] = run('StringToHashBucketStrong', [strs([2], ['Hello', 'TF'])], { num_buckets: i(3), key });
    expect(Array.from(strong.values() as BigInt64Array)).toEqual([2n, 0n]);
  });
});
