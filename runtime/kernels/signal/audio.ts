/**
 * DecodeWav, EncodeWav, AudioSpectrogram and Mfcc: the speech-commands front
 * end (tf.audio.decode_wav/encode_wav, tf.raw_ops.AudioSpectrogram, Mfcc).
 *
 * DecodeWav follows tensorflow/core/kernels/decode_wav_op.cc and
 * tensorflow/core/lib/wav/wav_io.cc (DecodeLin16WaveAsFloatVector): RIFF/WAVE
 * with optional JUNK/bext/iXML/qlty/mext/levl/link/axml chunks before "fmt ",
 * a 16- or 18-byte PCM format chunk of 16-bit samples, one data chunk (other
 * chunks skipped); samples become s / 32768. desired_samples pads with zeros
 * or crops, desired_channels repeats the last channel or drops channels.
 * Every malformed header gets TF's message (INVALID_ARGUMENT). EncodeWav
 * (encode_wav_op.cc, EncodeAudioAsS16LEWav) writes the 44-byte header and
 * samples as roundf(x × 32768) clamped to int16 (NaN → 0, as x86 converts).
 *
 * Follows tensorflow/core/kernels/spectrogram_op.cc and spectrogram.cc: input
 * float32 [samples, channels]; per channel, windows of `window_size` samples
 * every `stride` samples (1 + (samples - window_size) / stride of them, 0 when
 * the input is shorter), each multiplied by a periodic Hann window
 * (0.5 - 0.5 cos(2πi/window_size), in double), zero-padded to the next power
 * of two and transformed in double; the output is float32
 * [channels, frames, fft_length/2 + 1] of re² + im² (rounded to float), or
 * its float square root when magnitude_squared is false.
 *
 * Mfcc follows mfcc_op.cc, mfcc.cc, mfcc_mel_filterbank.cc and mfcc_dct.cc:
 * per spectrogram row (read as doubles), an HTK-style mel filterbank of
 * triangles over the square roots of the bins (mel = 1127 ln(1 + f/700),
 * DC excluded; bins start at trunc(1.5 + lower/hz_per_bin) and end at
 * trunc(upper/hz_per_bin), hz_per_bin = sample_rate / 2 / (bins - 1)), a
 * floor of 1e-12 and a natural log, then the first dct_coefficient_count
 * terms of a DCT-II scaled by sqrt(2 / channels); output float32
 * [audio_channels, rows, dct_coefficient_count]. Error texts are TF's.
 */
import { invalidArgument } from '../../errors.js';
import { checkTensorSize } from '../../limits.js';
import { Tensor, allocHost, decodeString, shapeString } from '../../tensor.js';
import { unsupportedDtype } from '../host_math.js';
import { registerKernel } from '../registry.js';
import { realSpectrumPlan } from './fft.js';

registerKernel({
  op: 'AudioSpectrogram',
  kernel: ({ inputs: [input], attrs }) => {
    const windowSize = attrs.int('window_size');
    const stride = attrs.int('stride');
    const squared = attrs.bool('magnitude_squared', false);
    if (windowSize <= 1) throw invalidArgument(`window_size must be > 1, got ${windowSize}`);
    if (stride <= 0) throw invalidArgument(`stride must be > 0, got ${stride}`);
    if (input.rank !== 2) throw invalidArgument(`input must be 2-dimensional${shapeString(input.shape)}`);
    if (input.dtype !== 'float32') throw unsupportedDtype('AudioSpectrogram', input.dtype);
    let fftLength = 1;
    while (fftLength < windowSize) fftLength *= 2;
    const width = fftLength / 2 + 1;
    const [samples, channels] = input.shape;
    const height = samples < windowSize ? 0 : 1 + Math.floor((samples - windowSize) / stride);
    const outShape = [channels, height, width];
    const out = allocHost('float32', checkTensorSize(outShape, 'float32')) as Float32Array;
    if (out.length === 0) return [Tensor.fromHost('float32', outShape, out)];
    const window = new Float64Array(windowSize);
    const pi = Math.atan(1) * 4;
    for (let i = 0; i < windowSize; i++) window[i] = 0.5 - 0.5 * Math.cos((2 * pi * i) / windowSize);
    const x = input.values() as Float32Array;
    const spectrum = realSpectrumPlan(fftLength);
    const frame = new Float64Array(fftLength);
    for (let c = 0; c < channels; c++) {
      for (let f = 0; f < height; f++) {
        const start = f * stride;
        frame.fill(0);
        for (let j = 0; j < windowSize; j++) frame[j] = x[(start + j) * channels + c] * window[j];
        const [re, im] = spectrum(frame);
        const row = (c * height + f) * width;
        for (let k = 0; k < width; k++) {
          const power = Math.fround(re[k] * re[k] + im[k] * im[k]);
          out[row + k] = squared ? power : Math.sqrt(power);
        }
      }
    }
    return [Tensor.fromHost('float32', outShape, out)];
  },
});

const freqToMel = (f: number) => 1127.0 * Math.log1p(f / 700.0);

registerKernel({
  op: 'Mfcc',
  kernel: ({ inputs: [spectrogram, rateT], attrs }) => {
    const upper = attrs.float('upper_frequency_limit', 4000);
    const lower = attrs.float('lower_frequency_limit', 20);
    const channels = attrs.int('filterbank_channel_count', 40);
    const coefficients = attrs.int('dct_coefficient_count', 13);
    if (spectrogram.rank !== 3) throw invalidArgument(`spectrogram must be 3-dimensional${shapeString(spectrogram.shape)}`);
    if (rateT.rank !== 0) throw invalidArgument(`Input sample_rate should be a scalar tensor, got ${shapeString(rateT.shape)} instead.`);
    if (spectrogram.dtype !== 'float32') throw unsupportedDtype('Mfcc', spectrogram.dtype);
    const sampleRate = rateT.numbers()[0];
    const [audioChannels, rows, bins] = spectrogram.shape;
    // MfccMelFilterbank::Initialize and MfccDct::Initialize refuse these.
    if (channels < 1 || sampleRate <= 0 || bins < 2 || lower < 0 || upper <= lower || coefficients < 1 || coefficients > channels) {
      throw invalidArgument(`Mfcc initialization failed for channel count ${bins} and sample rate ${sampleRate}`);
    }
    const outShape = [audioChannels, rows, coefficients];
    const out = allocHost('float32', checkTensorSize(outShape, 'float32')) as Float32Array;
    checkTensorSize([bins + channels * coefficients], 'float64');

    const centers = new Float64Array(channels + 1);
    const melLow = freqToMel(lower);
    const spacing = (freqToMel(upper) - melLow) / (channels + 1);
    for (let i = 0; i < channels + 1; i++) centers[i] = melLow + spacing * (i + 1);
    const hzPerBin = (0.5 * sampleRate) / (bins - 1);
    const start = Math.trunc(1.5 + lower / hzPerBin);
    const end = Math.trunc(upper / hzPerBin);
    const band = new Int32Array(bins);
    const weights = new Float64Array(bins);
    let channel = 0;
    for (let i = 0; i < bins; i++) {
      if (i < start || i > end) {
        band[i] = -2;
        continue;
      }
      const melf = freqToMel(i * hzPerBin);
      while (channel < channels && centers[channel] < melf) channel++;
      band[i] = channel - 1;
      const c = band[i];
      weights[i] = c >= 0 ? (centers[c + 1] - melf) / (centers[c + 1] - centers[c]) : (centers[0] - melf) / (centers[0] - melLow);
    }
    const cosines = new Float64Array(coefficients * channels);
    const fnorm = Math.sqrt(2.0 / channels);
    const arg = (Math.atan(1) * 4) / channels;
    for (let i = 0; i < coefficients; i++) for (let j = 0; j < channels; j++) cosines[i * channels + j] = fnorm * Math.cos(i * arg * (j + 0.5));

    const x = spectrogram.values() as Float32Array;
    const mel = new Float64Array(channels);
    // A spectrogram too short for the filterbank leaves TF's working vector empty: all-zero coefficients.
    if (bins <= end) return [Tensor.fromHost('float32', outShape, out)];
    for (let r = 0; r < audioChannels * rows; r++) {
      const row = r * bins;
      mel.fill(0);
      for (let i = start; i <= end; i++) {
        const v = Math.sqrt(x[row + i]);
        const w = v * weights[i];
        const c = band[i];
        if (c >= 0) mel[c] += w;
        if (c + 1 < channels) mel[c + 1] += v - w;
      }
      for (let c = 0; c < channels; c++) mel[c] = Math.log(mel[c] < 1e-12 ? 1e-12 : mel[c]);
      for (let i = 0; i < coefficients; i++) {
        let sum = 0;
        for (let j = 0; j < channels; j++) sum += cosines[i * channels + j] * mel[j];
        out[r * coefficients + i] = sum;
      }
    }
    return [Tensor.fromHost('float32', outShape, out)];
  },
});

// ---------------------------------------------------------------------------
// DecodeWav

const CHUNKS_BEFORE_FMT = new Set(['JUNK', 'bext', 'iXML', 'qlty', 'mext', 'levl', 'link', 'axml']);

/** wav_io.cc's reader: a byte offset that only moves forward within the data, with TF's errors. */
class WavReader {
  offset = 0;
  private readonly view: DataView;
  constructor(readonly data: Uint8Array) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  /** IncrementOffset: the offset `n` bytes on, or "Data too short" past the end. */
  advance(n: number): number {
    if (this.offset > this.data.length) throw invalidArgument(`Initial offset is outside data range: ${this.offset}`);
    const next = this.offset + n;
    if (next > this.data.length) throw invalidArgument('Data too short when trying to read string');
    return next;
  }

  text(n: number): string {
    const next = this.advance(n);
    const s = decodeString(this.data.subarray(this.offset, next));
    this.offset = next;
    return s;
  }

  expect(text: string): void {
    const found = this.text(text.length);
    if (found !== text) throw invalidArgument(`Header mismatch: Expected ${text} but found ${found}`);
  }

  u16(): number {
    const next = this.advance(2);
    const v = this.view.getUint16(this.offset, true);
    this.offset = next;
    return v;
  }

  u32(): number {
    const next = this.advance(4);
    const v = this.view.getUint32(this.offset, true);
    this.offset = next;
    return v;
  }
}

function decodeWav(bytes: Uint8Array, desiredChannels: number, desiredSamples: number): Tensor[] {
  const r = new WavReader(bytes);
  r.expect('RIFF');
  r.u32(); // total file size (unchecked, as in TF)
  r.expect('WAVE');
  let found = r.text(4);
  while (found !== 'fmt ') {
    if (!CHUNKS_BEFORE_FMT.has(found)) throw invalidArgument(`Unexpected field ${found}`);
    const size = r.u32();
    r.offset = r.advance(size);
    found = r.text(4);
  }
  const formatSize = r.u32();
  if (formatSize !== 16 && formatSize !== 18) throw invalidArgument(`Bad format chunk size for WAV: Expected 16 or 18, but got${formatSize}`);
  const format = r.u16();
  if (format !== 1) throw invalidArgument(`Bad audio format for WAV: Expected 1 (PCM), but got${format}`);
  const channels = r.u16();
  if (channels < 1) throw invalidArgument(`Bad number of channels for WAV: Expected at least 1, but got ${channels}`);
  const sampleRate = r.u32();
  const bytesPerSecond = r.u32();
  const bytesPerFrame = r.u16();
  const bits = r.u16();
  if (bits !== 16) throw invalidArgument(`Can only read 16-bit WAV files, but received ${bits}`);
  const expectedFrame = Math.floor((bits * channels + 7) / 8);
  if (bytesPerFrame !== expectedFrame) {
    throw invalidArgument(`Bad bytes per sample in WAV header: Expected ${expectedFrame} but got ${bytesPerFrame}`);
  }
  const expectedPerSecond = (bytesPerFrame * sampleRate) >>> 0;
  if (bytesPerSecond !== expectedPerSecond) {
    throw invalidArgument(
      `Bad bytes per second in WAV header: Expected ${expectedPerSecond} but got ${bytesPerSecond} (sample_rate=${sampleRate}, bytes_per_sample=${bytesPerFrame})`,
    );
  }
  if (formatSize === 18) r.offset += 2;

  let samples: Float32Array | undefined;
  let frames = 0;
  while (r.offset < bytes.length) {
    const id = r.text(4);
    const size = r.u32();
    if (size > 2147483647) throw invalidArgument(`WAV data chunk '${id}' is too large: ${size} bytes, but the limit is 2147483647`);
    if (id === 'data') {
      if (samples) throw invalidArgument('More than one data chunk found in WAV');
      frames = Math.floor(size / bytesPerFrame);
      const count = (frames * channels) >>> 0;
      r.advance(2 * count); // the data exists before anything is allocated
      samples = new Float32Array(count);
      const view = new DataView(bytes.buffer, bytes.byteOffset + r.offset, 2 * count);
      for (let i = 0; i < count; i++) samples[i] = view.getInt16(2 * i, true) / 32768;
      r.offset += 2 * count;
    } else {
      r.offset += size;
    }
  }
  if (!samples) throw invalidArgument('No data chunk found in WAV');

  if (desiredChannels < -1) throw invalidArgument(`desired_channels must be >= -1, got ${desiredChannels}`);
  if (desiredSamples < -1) throw invalidArgument(`desired_samples must be >= -1, got ${desiredSamples}`);
  const outFrames = desiredSamples === -1 ? frames | 0 : desiredSamples;
  const outChannels = desiredChannels === -1 ? channels : desiredChannels;
  if (outFrames < 0) throw invalidArgument(`Output sample count must be >= 0, got ${outFrames}`);
  const shape = [outFrames, outChannels];
  const out = allocHost('float32', checkTensorSize(shape, 'float32')) as Float32Array;
  for (let s = 0; s < Math.min(outFrames, frames); s++) {
    for (let c = 0; c < outChannels; c++) out[s * outChannels + c] = samples[s * channels + (c < channels ? c : channels - 1)];
  }
  return [Tensor.fromHost('float32', shape, out), Tensor.scalar('int32', sampleRate | 0)];
}

registerKernel({
  op: 'DecodeWav',
  outputs: [{ name: 'audio' }, { name: 'sample_rate' }],
  kernel: ({ inputs: [contents], attrs }) => {
    if (contents.rank !== 0) throw invalidArgument(`contents must be scalar, got shape ${shapeString(contents.shape)}`);
    const bytes = (contents.values() as Uint8Array[])[0];
    return decodeWav(bytes, attrs.int('desired_channels', -1), attrs.int('desired_samples', -1));
  },
});

// ---------------------------------------------------------------------------
// EncodeWav

registerKernel({
  op: 'EncodeWav',
  kernel: ({ inputs: [audio, rateT] }) => {
    if (audio.rank !== 2) throw invalidArgument(`audio must be 2-dimensional${shapeString(audio.shape)}`);
    if (rateT.rank !== 0) throw invalidArgument(`Input sample_rate should be a scalar tensor, got ${shapeString(rateT.shape)} instead.`);
    if (audio.dtype !== 'float32') throw unsupportedDtype('EncodeWav', audio.dtype);
    if (audio.size >= 2147483647) throw invalidArgument('Cannot encode audio with >= max int32 elements');
    const rate = rateT.numbers()[0];
    const [frames, channels] = audio.shape;
    // size_t of an int32: a negative rate reads as a huge one.
    const rateText = rate < 0 ? BigInt.asUintN(64, BigInt(rate)).toString() : String(rate);
    if (rate <= 0) throw invalidArgument(`sample_rate must be in (0, 2^32), got: ${rateText}`);
    if (channels === 0 || channels > 65535) throw invalidArgument(`num_channels must be in (0, 2^16), got: ${channels}`);
    const samples = frames * channels;
    const fileSize = 44 + 2 * samples;
    if (fileSize > 4294967295) throw invalidArgument('Provided channels and frames cannot be encoded as a WAV.');
    const bytes = new Uint8Array(fileSize);
    const view = new DataView(bytes.buffer);
    const ascii = (at: number, text: string) => {
      for (let i = 0; i < 4; i++) bytes[at + i] = text.charCodeAt(i);
    };
    ascii(0, 'RIFF');
    view.setUint32(4, fileSize - 8, true);
    ascii(8, 'WAVE');
    ascii(12, 'fmt ');
    view.setUint32(16, 16, true);
    view.setUint16(20, 1, true);
    view.setUint16(22, channels, true);
    view.setUint32(24, rate, true);
    view.setUint32(28, (rate * 2 * channels) >>> 0, true);
    view.setUint16(32, 2 * channels, true);
    view.setUint16(34, 16, true);
    ascii(36, 'data');
    view.setUint32(40, 2 * samples, true);
    const x = audio.values() as Float32Array;
    for (let i = 0; i < samples; i++) {
      const v = Math.fround(x[i] * 32768);
      const r = v < 0 ? -Math.round(-v) : Math.round(v); // roundf: halves away from zero
      view.setInt16(44 + 2 * i, r !== r ? 0 : r < -32768 ? -32768 : r > 32767 ? 32767 : r, true);
    }
    return [Tensor.from('string', [], [bytes])];
  },
});
