import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../runtime/backend.js';
import type { DType } from '../../../runtime/dtypes.js';
import { StatusError } from '../../../runtime/errors.js';
import type { AttrValue } from '../../../runtime/graph/types.js';
import { Attrs } from '../../../runtime/kernels/attrs.js';
import '../../../runtime/kernels/index.js';
import { kernelFor } from '../../../runtime/kernels/registry.js';
import { Tensor } from '../../../runtime/tensor.js';

beforeAll(async () => {
  await initBackend();
});

function run(op: string, inputs: Tensor[], attr: Record<string, AttrValue> = {}): Tensor {
  return kernelFor(op)!.kernel({
    node: { name: 'n', op, input: [], device: '', attr },
    attrs: new Attrs(attr, 'n', op),
    inputs,
    resources: undefined as never,
    functions: undefined as never,
  })[0];
}

const type = (t: DType): AttrValue => ({ kind: 'type', type: t }) as AttrValue;
const C = (dtype: 'complex64' | 'complex128', shape: number[], pairs: number[]) =>
  Tensor.fromHost(dtype, shape, dtype === 'complex64' ? Float32Array.from(pairs) : Float64Array.from(pairs));
const F = (dtype: DType, shape: number[], values: number[]) => Tensor.from(dtype, shape, values);
const len = (...n: number[]) => F('int32', [n.length], n);
const vals = (t: Tensor) => Array.from(t.values() as ArrayLike<number>);

function statusOf(fn: () => unknown): StatusError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(StatusError);
    return e as StatusError;
  }
  throw new Error('expected an error');
}

function expectInvalid(fn: () => unknown, message: string): void {
  const e = statusOf(fn);
  expect(e.code).toBe('INVALID_ARGUMENT');
  expect(e.message).toBe(message);
}

/** A naive DFT of interleaved pairs (the reference). */
function dft(pairs: number[], inverse: boolean): number[] {
  const n = pairs.length / 2;
  const out: number[] = [];
  for (let k = 0; k < n; k++) {
    let re = 0;
    let im = 0;
    for (let j = 0; j < n; j++) {
      const a = ((inverse ? 2 : -2) * Math.PI * ((j * k) % n)) / n;
      re += pairs[2 * j] * Math.cos(a) - pairs[2 * j + 1] * Math.sin(a);
      im += pairs[2 * j] * Math.sin(a) + pairs[2 * j + 1] * Math.cos(a);
    }
    out.push(inverse ? re / n : re, inverse ? im / n : im);
  }
  return out;
}

function expectClose(got: number[], want: number[], tol: number): void {
  expect(got.length).toBe(want.length);
  const scale = Math.max(1, ...want.map(Math.abs));
  for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(tol * scale);
}

let seed = 7;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 4 - 2;

describe('FFT and IFFT', () => {
  it('match a naive DFT at every length 1..40 and at long ones (radix-2, mixed radix, Bluestein)', () => {
    for (const n of [...Array.from({ length: 40 }, (_, i) => i + 1), 97, 251, 400, 441, 1000, 1009, 1024, 1155, 2 * 37 * 3]) {
      const pairs = Array.from({ length: 2 * n }, rand);
      const x = C('complex128', [n], pairs);
      expectClose(vals(run('FFT', [x])), dft(pairs, false), 1e-12);
      expectClose(vals(run('IFFT', [x])), dft(pairs, true), 1e-12);
    }
  });

  it('transforms the innermost axes of a batch, and 2D equals FFT along both axes', () => {
    const pairs = Array.from({ length: 2 * 2 * 3 * 5 }, rand);
    const x = C('complex128', [2, 3, 5], pairs);
    const rows = vals(run('FFT', [x]));
    // FFT2D = FFT over the last axis, then over the middle one.
    const cols = vals(run('Transpose', [C('complex128', [2, 3, 5], rows), F('int32', [3], [0, 2, 1])]));
    const both = vals(run('FFT', [C('complex128', [2, 5, 3], cols)]));
    const back = vals(run('Transpose', [C('complex128', [2, 5, 3], both), F('int32', [3], [0, 2, 1])]));
    expectClose(vals(run('FFT2D', [x])), back, 1e-12);
    expectClose(vals(run('IFFT3D', [run('FFT3D', [x])])), pairs, 1e-12);
  });

  it('keeps complex64 as complex64 and passes empty inputs through', () => {
    const y = run('FFT', [C('complex64', [4], [1, 0, 0, 0, 0, 0, 0, 0])]);
    expect(y.dtype).toBe('complex64');
    expect(vals(y)).toEqual([1, 0, 1, 0, 1, 0, 1, 0]);
    const e = run('IFFT2D', [C('complex64', [0, 3], [])]);
    expect(e.shape).toEqual([0, 3]);
  });

  it('refuses a rank below the transform rank and real inputs (TF wording)', () => {
    expectInvalid(() => run('FFT2D', [C('complex64', [3], [0, 0, 0, 0, 0, 0])]), 'Input must have rank of at least 2 but got: [3]');
    expectInvalid(() => run('FFT', [C('complex64', [], [1, 2])]), 'Input must have rank of at least 1 but got: []');
    expectInvalid(() => run('FFT', [F('float32', [2], [1, 2])]), 'Wrong types for FFT: in=1 out=1');
  });
});

describe('RFFT and IRFFT', () => {
  it('RFFT is the first n/2+1 bins of the FFT; fft_length crops the input', () => {
    const x = [1, -2, 0.5, 3, 0, 1.5, -1];
    const spectrum = dft(x.flatMap((v) => [v, 0]), false);
    expectClose(vals(run('RFFT', [F('float64', [7], x), len(7)])), spectrum.slice(0, 8), 1e-12);
    const cropped = dft(x.slice(0, 4).flatMap((v) => [v, 0]), false);
    const r = run('RFFT', [F('float64', [7], x), len(4)]);
    expect(r.dtype).toBe('complex128');
    expect(r.shape).toEqual([3]);
    expectClose(vals(r), cropped.slice(0, 6), 1e-12);
    expect(run('RFFT', [F('float32', [7], x), len(0)]).shape).toEqual([0]);
  });

  it('IRFFT inverts RFFT for even and odd lengths, ignoring the imaginary DC and Nyquist parts', () => {
    for (const n of [1, 2, 5, 8, 9]) {
      const x = Array.from({ length: 2 * n }, rand);
      const s = run('RFFT', [F('float64', [2, n], x), len(n)]);
      const back = run('IRFFT', [s, len(n)]);
      expect(back.dtype).toBe('float64');
      expectClose(vals(back), x, 1e-12);
      // Perturb the imaginary part of DC (and Nyquist when n is even): the result does not change.
      const pairs = vals(s);
      pairs[1] += 5;
      if (n % 2 === 0) pairs[2 * (n / 2) + 1] -= 3;
      const h = Math.floor(n / 2) + 1;
      expectClose(vals(run('IRFFT', [C('complex128', [2, h], pairs), len(n)])), x, 1e-12);
    }
  });

  it('RFFT2D/IRFFT2D and RFFT3D/IRFFT3D round-trip', () => {
    const x = Array.from({ length: 2 * 3 * 6 }, rand);
    const t = F('float64', [2, 3, 6], x);
    expectClose(vals(run('IRFFT2D', [run('RFFT2D', [t, len(3, 6)]), len(3, 6)])), x, 1e-12);
    expectClose(vals(run('IRFFT3D', [run('RFFT3D', [t, len(2, 3, 6)]), len(2, 3, 6)])), x, 1e-12);
  });

  it('refuses bad fft_length and short inputs with TF wording', () => {
    const x = F('float32', [2, 5], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expectInvalid(() => run('RFFT', [x, len(4, 4)]), 'fft_length must have shape [1]');
    expectInvalid(() => run('RFFT2D', [x, len(4)]), 'fft_length must have shape [2]');
    expectInvalid(() => run('RFFT', [x, len(-1)]), 'fft_length[0] must >= 0, but got: -1');
    expectInvalid(() => run('RFFT', [x, len(8)]), 'Input dimension 1 must have length of at least 8 but got: 5');
    expectInvalid(() => run('RFFT3D', [x, len(1, 1, 1)]), 'Input must have rank of at least 3 but got: [2,5]');
    const s = C('complex64', [3], [1, 0, 2, 0, 3, 0]);
    expectInvalid(() => run('IRFFT', [s, len(6)]), 'Input dimension 0 must have length of at least 4 but got: 3');
    expect(run('IRFFT', [s, len(5)]).shape).toEqual([5]);
    expectInvalid(
      () => run('RFFT', [x, len(4)], { Tcomplex: type('complex128') }),
      'Wrong types for forward real FFT: in=1 out=18',
    );
    expectInvalid(() => run('IRFFT', [s, len(4)], { Treal: type('float64') }), 'Wrong types for backward real FFT: in=8 out=2');
  });

  it('bounds the output an fft_length can ask for (RESOURCE_EXHAUSTED, no allocation)', () => {
    // An empty input passes the length check, so fft_length alone sets the output size.
    const e = statusOf(() => run('IRFFT', [C('complex64', [0], []), len(2 ** 30)]));
    expect(e.code).toBe('RESOURCE_EXHAUSTED');
    const r = statusOf(() => run('RFFT2D', [F('float32', [0, 0], []), len(2 ** 20, 2 ** 20)]));
    expect(r.code).toBe('RESOURCE_EXHAUSTED');
    // An empty input with a sane fft_length gives zeros of the output shape.
    const z = run('IRFFT', [C('complex64', [0], []), len(4)]);
    expect(z.shape).toEqual([4]);
    expect(vals(z)).toEqual([0, 0, 0, 0]);
  });
});

describe('complex parts and math', () => {
  it('Complex broadcasts; Real, Imag, ComplexAbs, Angle, Conj take it apart', () => {
    const z = run('Complex', [F('float32', [2], [3, -1]), F('float32', [], [4])]);
    expect(z.dtype).toBe('complex64');
    expect(vals(z)).toEqual([3, 4, -1, 4]);
    expect(vals(run('Real', [z]))).toEqual([3, -1]);
    expect(vals(run('Imag', [z]))).toEqual([4, 4]);
    expect(vals(run('ComplexAbs', [z]))[0]).toBe(5);
    expect(vals(run('Angle', [z]))[1]).toBeCloseTo(Math.atan2(4, -1), 6);
    expect(vals(run('Conj', [z]))).toEqual([3, -4, -1, -4]);
    const z128 = run('Complex', [F('float64', [1], [1]), F('float64', [1], [2])], { Tout: type('complex128') });
    expect(z128.dtype).toBe('complex128');
    expect(run('Real', [z128], { Tout: type('float64') }).dtype).toBe('float64');
  });

  it('does complex arithmetic with broadcasting and reductions', () => {
    const a = C('complex64', [2], [1, 2, 3, -1]);
    const b = C('complex64', [], [0, 1]);
    expect(vals(run('Mul', [a, b]))).toEqual([-2, 1, 1, 3]);
    expect(vals(run('AddV2', [a, b]))).toEqual([1, 3, 3, 0]);
    expect(vals(run('RealDiv', [a, b]))).toEqual([2, -1, -1, -3]);
    expect(vals(run('Square', [a]))).toEqual([-3, 4, 8, -6]);
    expect(vals(run('Sum', [a, len(0)]))).toEqual([4, 1]);
    expect(vals(run('Mean', [a, len(0)]))).toEqual([2, 0.5]);
    expect(vals(run('Prod', [a, len(0)]))).toEqual([5, 5]);
    expect(vals(run('Equal', [a, C('complex64', [2], [1, 2, 3, 1])]))).toEqual([1, 0]);
    expect(vals(run('Cast', [a], { SrcT: type('complex64'), DstT: type('float32') }))).toEqual([1, 3]);
  });

  it('refuses what TF refuses for complex', () => {
    const a = C('complex64', [2], [1, 2, 3, -1]);
    expectInvalid(() => run('Abs', [a]), 'Abs does not support DT_COMPLEX64 tensors');
    expectInvalid(() => run('Max', [a, len(0)]), 'Max does not support DT_COMPLEX64 tensors');
    expectInvalid(() => run('Maximum', [a, a]), 'Maximum does not support DT_COMPLEX64 tensors');
    expectInvalid(() => run('Real', [F('float32', [1], [1])]), 'Real does not support DT_FLOAT tensors');
    expectInvalid(
      () => run('AddV2', [a, C('complex128', [2], [1, 2, 3, 4])]),
      'cannot compute AddV2 as input #1(zero-based) was expected to be a complex64 tensor but is a complex128 tensor',
    );
    expectInvalid(() => run('Mul', [a, C('complex64', [3], [1, 2, 3, 4, 5, 6])]), 'Incompatible shapes: [2] vs. [3]');
    expect(statusOf(() => run('Mul', [C('complex64', [2 ** 15, 1], new Array(2 ** 16).fill(0)), C('complex64', [1, 2 ** 15], new Array(2 ** 16).fill(0))])).code).toBe(
      'RESOURCE_EXHAUSTED',
    );
  });
});

describe('AudioSpectrogram and Mfcc', () => {
  const int = (i: number): AttrValue => ({ kind: 'i', i }) as AttrValue;
  const bool = (b: boolean): AttrValue => ({ kind: 'b', b }) as AttrValue;
  const f = (x: number): AttrValue => ({ kind: 'f', f: x }) as AttrValue;
  const audio = F('float32', [40, 1], Array.from({ length: 40 }, (_, i) => Math.sin(i / 3)));

  it('frames, windows and transforms each channel; shapes follow TF', () => {
    const s = run('AudioSpectrogram', [audio], { window_size: int(10), stride: int(6), magnitude_squared: bool(true) });
    expect(s.shape).toEqual([1, 6, 9]); // 1 + (40 - 10) / 6 frames; fft 16 → 9 bins
    const none = run('AudioSpectrogram', [F('float32', [5, 2], new Array(10).fill(1))], { window_size: int(8), stride: int(2) });
    expect(none.shape).toEqual([2, 0, 5]);
    const m = run('Mfcc', [s, F('int32', [], [16000])], {
      dct_coefficient_count: int(4), filterbank_channel_count: int(5), lower_frequency_limit: f(20), upper_frequency_limit: f(8000),
    });
    expect(m.shape).toEqual([1, 6, 4]);
  });

  it('refuses bad attrs and shapes with TF wording', () => {
    expectInvalid(() => run('AudioSpectrogram', [audio], { window_size: int(1), stride: int(1) }), 'window_size must be > 1, got 1');
    expectInvalid(() => run('AudioSpectrogram', [audio], { window_size: int(4), stride: int(0) }), 'stride must be > 0, got 0');
    expectInvalid(() => run('AudioSpectrogram', [F('float32', [3], [1, 2, 3])], { window_size: int(2), stride: int(1) }), 'input must be 2-dimensional[3]');
    expectInvalid(() => run('Mfcc', [F('float32', [2, 2], [1, 2, 3, 4]), F('int32', [], [8000])]), 'spectrogram must be 3-dimensional[2,2]');
    expectInvalid(
      () => run('Mfcc', [F('float32', [1, 1, 2], [1, 2]), F('int32', [1], [8000])]),
      'Input sample_rate should be a scalar tensor, got [1] instead.',
    );
    expectInvalid(
      () => run('Mfcc', [F('float32', [1, 1, 2], [1, 2]), F('int32', [], [0])]),
      'Mfcc initialization failed for channel count 2 and sample rate 0',
    );
  });
});

describe('DecodeWav', () => {
  const int = (i: number): AttrValue => ({ kind: 'i', i }) as AttrValue;
  /** A 16-bit PCM WAV: header fields can be overridden to make it malformed. */
  function wav(samples: number[][], o: { rate?: number; bits?: number; format?: number; fmtSize?: number; first?: string; frame?: number; noData?: boolean; shortBy?: number } = {}): Uint8Array {
    const channels = samples[0]?.length ?? 1;
    const rate = o.rate ?? 8000;
    const data = Buffer.alloc(samples.length * channels * 2);
    samples.flat().forEach((v, i) => data.writeInt16LE(v, 2 * i));
    const fmt = Buffer.alloc(16);
    fmt.writeUInt16LE(o.format ?? 1, 0);
    fmt.writeUInt16LE(channels, 2);
    fmt.writeUInt32LE(rate, 4);
    const frame = o.frame ?? 2 * channels;
    fmt.writeUInt32LE(rate * frame, 8);
    fmt.writeUInt16LE(frame, 12);
    fmt.writeUInt16LE(o.bits ?? 16, 14);
    const chunk = (id: string, body: Buffer) => {
      const h = Buffer.alloc(8);
      h.write(id, 0, 'latin1');
      h.writeUInt32LE(body.length + (id === 'data' ? (o.shortBy ?? 0) : 0), 4);
      if (id === 'fmt ' && o.fmtSize !== undefined) h.writeUInt32LE(o.fmtSize, 4);
      return Buffer.concat([h, body]);
    };
    const body = Buffer.concat([Buffer.from('WAVE'), chunk(o.first ?? 'fmt ', fmt), o.noData ? Buffer.alloc(0) : chunk('data', data)]);
    const riff = Buffer.alloc(8);
    riff.write('RIFF', 0, 'latin1');
    riff.writeUInt32LE(body.length, 4);
    return new Uint8Array(Buffer.concat([riff, body]));
  }
  const decode = (bytes: Uint8Array, attr: Record<string, AttrValue> = {}) =>
    kernelFor('DecodeWav')!.kernel({
      node: { name: 'n', op: 'DecodeWav', input: [], device: '', attr },
      attrs: new Attrs(attr, 'n', 'DecodeWav'),
      inputs: [Tensor.from('string', [], [bytes])],
      resources: undefined as never,
      functions: undefined as never,
    });

  it('decodes samples as s / 32768 with the sample rate; pads, crops and repeats channels on request', () => {
    const [audio, rate] = decode(wav([[16384, -32768], [1, 32767]]));
    expect(audio.shape).toEqual([2, 2]);
    expect(vals(audio)).toEqual([0.5, -1, 1 / 32768, 32767 / 32768]);
    expect(vals(rate)).toEqual([8000]);
    const [more] = decode(wav([[16384, -32768]]), { desired_samples: int(2), desired_channels: int(3) });
    expect(vals(more)).toEqual([0.5, -1, -1, 0, 0, 0]);
  });

  it('refuses malformed files with TF wording', () => {
    expectInvalid(() => decode(new Uint8Array([82, 73, 70])), 'Data too short when trying to read string');
    expectInvalid(() => decode(new TextEncoder().encode('RIFX0000')), 'Header mismatch: Expected RIFF but found RIFX');
    expectInvalid(() => decode(wav([[1]], { first: 'LIST' })), 'Unexpected field LIST');
    expectInvalid(() => decode(wav([[1]], { fmtSize: 20 })), 'Bad format chunk size for WAV: Expected 16 or 18, but got20');
    expectInvalid(() => decode(wav([[1]], { format: 3 })), 'Bad audio format for WAV: Expected 1 (PCM), but got3');
    expectInvalid(() => decode(wav([[1]], { bits: 8 })), 'Can only read 16-bit WAV files, but received 8');
    expectInvalid(() => decode(wav([[1]], { frame: 4 })), 'Bad bytes per sample in WAV header: Expected 2 but got 4');
    expectInvalid(() => decode(wav([[1]], { noData: true })), 'No data chunk found in WAV');
    expectInvalid(() => decode(wav([[1, 2]], { shortBy: 4 })), 'Data too short when trying to read string');
    expectInvalid(() => decode(wav([[1]]), { desired_samples: int(-2) }), 'desired_samples must be >= -1, got -2');
    expectInvalid(
      () =>
        kernelFor('DecodeWav')!.kernel({
          node: { name: 'n', op: 'DecodeWav', input: [], device: '', attr: {} },
          attrs: new Attrs({}, 'n', 'DecodeWav'),
          inputs: [Tensor.from('string', [2], ['a', 'b'])],
          resources: undefined as never,
          functions: undefined as never,
        }),
      'contents must be scalar, got shape [2]',
    );
  });

  it('bounds desired_samples × desired_channels by the tensor limit', () => {
    const e = statusOf(() => decode(wav([[1]]), { desired_samples: int(2 ** 30), desired_channels: int(4) }));
    expect(e.code).toBe('RESOURCE_EXHAUSTED');
  });
});

describe('EncodeWav', () => {
  it('refuses what TF refuses, with its words (checked against TF 2.21)', () => {
    const rate = (r: number) => F('int32', [], [r]);
    expectInvalid(() => run('EncodeWav', [F('float32', [2, 1], [0, 0]), rate(-1)]), 'sample_rate must be in (0, 2^32), got: 18446744073709551615');
    expectInvalid(() => run('EncodeWav', [F('float32', [2, 1], [0, 0]), rate(0)]), 'sample_rate must be in (0, 2^32), got: 0');
    expectInvalid(() => run('EncodeWav', [F('float32', [2, 0], []), rate(8000)]), 'num_channels must be in (0, 2^16), got: 0');
    expectInvalid(() => run('EncodeWav', [F('float32', [3], [0, 0, 0]), rate(8000)]), 'audio must be 2-dimensional[3]');
  });

  it('round-trips through DecodeWav, rounding halves away from zero and clipping', () => {
    const wav = run('EncodeWav', [F('float32', [4, 1], [0.5 / 32768, -1.5 / 32768, 2, NaN]), F('int32', [], [8000])]);
    const bytes = (wav.values() as Uint8Array[])[0];
    expect(bytes.length).toBe(44 + 8);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    expect([0, 1, 2, 3].map((i) => view.getInt16(44 + 2 * i, true))).toEqual([1, -2, 32767, 0]);
  });
});
