"""Signal processing and complex numbers: FFTs of every rank, real FFTs with fft_length, STFT, complex arithmetic."""
import numpy as np
import tensorflow as tf

from common import save_module, spec
from registry import case, spectral

RNG = np.random.default_rng(14)


def one(model_dir, fn, specs, feeds):
    m = tf.Module()
    save_module(model_dir, m, serving_default=tf.function(fn, input_signature=specs))
    return {"serving_default": feeds if isinstance(feeds, list) else [feeds]}


def cplx(shape, dtype=np.complex64, scale=2.0):
    return (RNG.uniform(-scale, scale, shape) + 1j * RNG.uniform(-scale, scale, shape)).astype(dtype)


def real(shape, dtype=np.float32, scale=2.0):
    return RNG.uniform(-scale, scale, shape).astype(dtype)


@case
def fft_ifft_lengths(model_dir):
    # Powers of two and other lengths (Bluestein), batches, length 1.
    def fn(x):
        return {"fft": tf.signal.fft(x), "ifft": tf.signal.ifft(x), "roundtrip": tf.signal.ifft(tf.signal.fft(x))}
    return one(model_dir, fn, [spec(None, tf.complex64, "x")],
               [{"x": cplx([n])} for n in (1, 2, 3, 5, 7, 8, 12, 16, 31)] + [{"x": cplx([3, 2, 6])}, {"x": np.zeros([2, 0], np.complex64)}])


@case
def fft_complex128(model_dir):
    def fn(x):
        return {"fft": tf.signal.fft(x), "ifft": tf.signal.ifft(x), "fft2d": tf.signal.fft2d(x), "ifft3d": tf.signal.ifft3d(x)}
    return one(model_dir, fn, [spec(None, tf.complex128, "x")],
               [{"x": cplx([2, 3, 4], np.complex128)}, {"x": cplx([1, 5, 6], np.complex128)}])


@case
def fft_2d_3d(model_dir):
    def fn(x):
        return {"fft2d": tf.signal.fft2d(x), "ifft2d": tf.signal.ifft2d(x), "fft3d": tf.signal.fft3d(x), "ifft3d": tf.signal.ifft3d(x)}
    return one(model_dir, fn, [spec(None, tf.complex64, "x")], [{"x": cplx([2, 3, 4, 5])}, {"x": cplx([4, 4, 8])}])


@case
def rfft_irfft_1d(model_dir):
    def fn(x):
        n = tf.shape(x)[-1]
        spectrum = tf.signal.rfft(x)
        return {
            "rfft": spectrum,
            "rfft_crop": tf.signal.rfft(x, fft_length=[4]),
            "rfft_pad": tf.signal.rfft(x, fft_length=[11]),
            "irfft": tf.signal.irfft(spectrum, fft_length=[n]),
            "irfft_default": tf.signal.irfft(spectrum),
            "irfft_pad": tf.signal.irfft(spectrum, fft_length=[16]),
        }
    return one(model_dir, fn, [spec([None, None], tf.float32, "x")],
               [{"x": real([3, 8])}, {"x": real([2, 9])}, {"x": real([1, 5])}])


@case
def irfft_raw_spectrum(model_dir):
    # A spectrum that is not Hermitian: the imaginary DC/Nyquist parts are ignored, longer inputs cropped.
    def fn(s):
        return {
            "even": tf.signal.irfft(s, fft_length=[8]),
            "odd": tf.signal.irfft(s, fft_length=[7]),
            "short": tf.signal.irfft(s, fft_length=[4]),
            "one": tf.signal.irfft(s, fft_length=[1]),
            "irfft2d": tf.signal.irfft2d(s, fft_length=[2, 6]),
        }
    return one(model_dir, fn, [spec([None, 5], tf.complex64, "s")], [{"s": cplx([2, 5])}, {"s": cplx([3, 5])}])


@case
def rfft_2d_3d(model_dir):
    def fn(x):
        s2 = tf.signal.rfft2d(x)
        s3 = tf.signal.rfft3d(x)
        return {
            "rfft2d": s2, "irfft2d": tf.signal.irfft2d(s2, fft_length=tf.shape(x)[-2:]),
            "rfft2d_len": tf.signal.rfft2d(x, fft_length=[3, 4]),
            "rfft3d": s3, "irfft3d": tf.signal.irfft3d(s3, fft_length=tf.shape(x)[-3:]),
            "irfft3d_odd": tf.signal.irfft3d(s3, fft_length=[2, 3, 5]),
        }
    return one(model_dir, fn, [spec([None, None, None], tf.float32, "x")], [{"x": real([2, 3, 6])}, {"x": real([3, 4, 7])}])


@case
def rfft_float64(model_dir):
    def fn(x):
        s = tf.signal.rfft(x)
        return {"rfft": s, "irfft": tf.signal.irfft(s, fft_length=[tf.shape(x)[-1]]), "rfft2d": tf.signal.rfft2d(x, fft_length=[2, 5])}
    return one(model_dir, fn, [spec([None, None], tf.float64, "x")], [{"x": real([2, 10], np.float64)}, {"x": real([3, 7], np.float64)}])


@case
def stft_magnitude(model_dir):
    def fn(signal):
        stft = tf.signal.stft(signal, frame_length=16, frame_step=8, fft_length=16, window_fn=tf.signal.hann_window)
        padded = tf.signal.stft(signal, frame_length=12, frame_step=5, fft_length=16, pad_end=True)
        return {"magnitude": tf.abs(stft), "stft": stft, "padded": padded,
                # log(power + eps) with an eps well above float32 FFT noise: TF's own float32 spectrum has
                # absolute errors near 1e-6 on near-empty bins, which log(x + 1e-6) would amplify 100-fold.
                "log_power": tf.math.log(tf.abs(padded) ** 2 + 1e-2)}
    t = np.arange(64, dtype=np.float32)
    sig = np.stack([np.sin(0.3 * t) + 0.5 * np.cos(1.1 * t), real([64])])
    return one(model_dir, fn, [spec([None, 64], tf.float32, "signal")], {"signal": sig.astype(np.float32)})


@case
def complex_parts(model_dir):
    def fn(re, im):
        z = tf.complex(re, im)
        zb = tf.complex(re, tf.constant(0.5))  # broadcast
        return {
            "z": z, "zb": zb, "real": tf.math.real(z), "imag": tf.math.imag(z), "abs": tf.abs(z),
            "angle": tf.math.angle(z), "conj": tf.math.conj(z),
            "to_float": tf.cast(z, tf.float32), "from_float": tf.cast(re, tf.complex64),
            "to_c128": tf.cast(z, tf.complex128), "to_int": tf.cast(z * 3.7, tf.int32), "to_int64": tf.cast(-z * 2.5, tf.int64),
            "to_bool": tf.cast(tf.complex(re, im * 0), tf.bool), "to_bool_imag": tf.cast(tf.complex(re * 0, im), tf.bool),
            "from_int": tf.cast(tf.cast(re, tf.int32), tf.complex64), "from_bool": tf.cast(re > 0, tf.complex128),
            "to_half": tf.cast(z, tf.float16), "to_double": tf.cast(tf.cast(z, tf.complex128), tf.float64),
        }
    return one(model_dir, fn, [spec([None, 3], tf.float32, "re"), spec([None, 3], tf.float32, "im")],
               {"re": np.array([[1, -2, 0], [3.5, 0, -0.0]], np.float32), "im": np.array([[0, 1.5, -3], [2, 0, 0]], np.float32)})


@case
def complex_arithmetic(model_dir):
    def fn(a, b):
        return {
            "add": a + b, "sub": a - b, "mul": a * b, "div": a / b, "neg": -a, "square": tf.square(a),
            "exp": tf.exp(a), "log": tf.math.log(a), "sqrt": tf.sqrt(a), "reciprocal": tf.math.reciprocal(a),
            "sign": tf.sign(a), "sin": tf.sin(a), "cos": tf.cos(a), "tanh": tf.tanh(a),
            "broadcast_mul": a * b[:1], "scalar_add": a + tf.constant(1 - 2j, tf.complex64),
            "equal": tf.equal(a, b), "not_equal": tf.not_equal(a, a),
            "sum": tf.reduce_sum(a), "sum_axis": tf.reduce_sum(a, axis=1), "mean": tf.reduce_mean(a, axis=0, keepdims=True),
            "prod": tf.reduce_prod(a, axis=1), "add_n": tf.add_n([a, b, a]),
            "euclidean_norm": tf.math.reduce_euclidean_norm(a, axis=1),
            "squared_difference": tf.math.squared_difference(a, b),
        }
    return one(model_dir, fn, [spec([None, 4], tf.complex64, "a"), spec([None, 4], tf.complex64, "b")],
               {"a": np.array([[1 + 2j, -0.5 + 0.25j, 3 - 1j, -2 - 2j], [0.5j, 1.5, -1 + 0.1j, 2 + 3j]], np.complex64),
                "b": np.array([[2 - 1j, 1 + 1j, -0.5 + 2j, 0.25 - 0.75j], [1 + 0j, -3 + 0.5j, 1j, 0.5 + 0.5j]], np.complex64)})


@case
def complex128_arithmetic(model_dir):
    def fn(a, b):
        return {"mul": a * b, "div": a / b, "abs": tf.abs(a), "fft_of_product": tf.signal.fft(a * b),
                "mean": tf.reduce_mean(a, axis=-1), "exp": tf.exp(a), "real_sum": tf.math.real(tf.reduce_sum(a * tf.math.conj(a)))}
    return one(model_dir, fn, [spec([None, 6], tf.complex128, "a"), spec([None, 6], tf.complex128, "b")],
               {"a": cplx([2, 6], np.complex128), "b": cplx([2, 6], np.complex128)})


@case
def spectral_filter(model_dir):
    # A typical serving use: low-pass a batch of signals in the frequency domain.
    def fn(x):
        spectrum = tf.signal.rfft(x)
        bins = tf.shape(spectrum)[-1]
        mask = tf.cast(tf.range(bins) < 4, tf.complex64)
        filtered = tf.signal.irfft(spectrum * mask, fft_length=[tf.shape(x)[-1]])
        power = tf.math.real(spectrum * tf.math.conj(spectrum))
        return {"filtered": filtered, "power": power, "energy": tf.reduce_sum(power, axis=-1)}
    return one(model_dir, fn, [spec([None, 20], tf.float32, "x")], {"x": real([3, 20])})


@case
def complex_array_ops(model_dir):
    # Shape and indexing ops on complex tensors (interleaved storage: two floats per element).
    def fn(a, idx):
        return {
            "concat": tf.concat([a, a[:, :1]], axis=1), "stack": tf.stack([a, -a]), "transpose": tf.transpose(a),
            "slice": a[:, 1:3], "strided": a[::-1, ::2], "gather": tf.gather(a, idx, axis=1), "reshape": tf.reshape(a, [-1]),
            "tile": tf.tile(a, [2, 1]), "pad": tf.pad(a, [[0, 1], [1, 0]]), "expand": tf.expand_dims(a, 0),
            "where": tf.where(tf.math.real(a) > 0, a, tf.zeros_like(a)), "ones_like": tf.ones_like(a),
            "fill": tf.fill([2], tf.constant(1 + 1j, tf.complex64)), "unstack0": tf.unstack(a)[0],
            "reverse": tf.reverse(a, [1]), "identity": tf.identity(a), "matmul": tf.matmul(a, a, transpose_b=True),
            "adjoint": tf.linalg.adjoint(a), "split1": tf.split(a, 2, axis=1)[1], "gather_nd": tf.gather_nd(a, [[1, 2], [0, 0]]),
            "broadcast_to": tf.broadcast_to(a[:1], [3, 4]), "squeeze": tf.squeeze(a[:1]),
            "batch_adjoint": tf.matmul(tf.stack([a, a * 1j]), tf.stack([a, -a]), adjoint_b=True),
            "batch_adjoint_a": tf.matmul(tf.stack([a, a * 1j]), tf.stack([a, -a]), adjoint_a=True),
            "matmul_adjoint_2d": tf.matmul(a, a, adjoint_a=True),
        }
    return one(model_dir, fn, [spec([2, 4], tf.complex64, "a"), spec([None], tf.int32, "idx")],
               {"a": np.array([[1 + 2j, -0.5 + 0.25j, 3 - 1j, -2 - 2j], [0.5j, 1.5, -1 + 0.1j, 2 + 3j]], np.complex64),
                "idx": np.array([3, 0, 2], np.int32)})


@case
@spectral
def inverse_stft_and_mfcc(model_dir):
    # The audio front end of speech models: STFT → mel → log → MFCC (DCT-II via RFFT), and inverse_stft.
    def fn(signal):
        stft = tf.signal.stft(signal, frame_length=32, frame_step=16, fft_length=32)
        magnitude = tf.abs(stft)
        mel = tf.signal.linear_to_mel_weight_matrix(num_mel_bins=8, num_spectrogram_bins=17, sample_rate=8000,
                                                    lower_edge_hertz=100.0, upper_edge_hertz=3800.0)
        log_mel = tf.math.log(tf.tensordot(magnitude, mel, 1) + 1e-2)
        window = tf.signal.inverse_stft_window_fn(16)
        return {
            "mfcc": tf.signal.mfccs_from_log_mel_spectrograms(log_mel)[..., :5],
            "log_mel": log_mel, "dct2": tf.signal.dct(log_mel, type=2), "dct3": tf.signal.dct(log_mel, type=3, norm="ortho"),
            "idct": tf.signal.idct(log_mel, type=2, norm="ortho"),
            "reconstructed": tf.signal.inverse_stft(stft, frame_length=32, frame_step=16, fft_length=32, window_fn=window),
            "hamming": tf.signal.hamming_window(9), "frames": tf.signal.frame(signal, 8, 6, pad_end=True),
            "overlap_add": tf.signal.overlap_and_add(tf.signal.frame(signal, 8, 4), 4),
        }
    t = np.arange(128, dtype=np.float32)
    sig = np.stack([np.sin(0.2 * t) * np.cos(0.05 * t), real([128])])
    return one(model_dir, fn, [spec([None, 128], tf.float32, "signal")], {"signal": sig.astype(np.float32)})


@case
def complex_more_math(model_dir):
    def fn(a, b):
        return {
            "pow": tf.pow(a, b), "rsqrt": tf.math.rsqrt(a), "log1p": tf.math.log1p(a), "expm1": tf.math.expm1(a),
            "sinh": tf.sinh(a), "cosh": tf.cosh(a), "sign": tf.sign(tf.concat([a, tf.zeros([1, 4], tf.complex64)], 0)),
            "fftshift": tf.signal.fftshift(a), "ifftshift": tf.signal.ifftshift(a, axes=1),
            "div_no_nan": tf.math.divide_no_nan(a, tf.concat([b[:, :2], tf.zeros([2, 2], tf.complex64)], 1)),
            "cumsum": tf.cumsum(a, axis=1), "reduce_norm": tf.abs(tf.reduce_sum(a * tf.math.conj(a), axis=1)),
        }
    return one(model_dir, fn, [spec([2, 4], tf.complex64, "a"), spec([2, 4], tf.complex64, "b")],
               {"a": np.array([[1 + 2j, -0.5 + 0.25j, 3 - 1j, -2 - 2j], [0.5j, 1.5, -1 + 0.1j, 2 + 3j]], np.complex64),
                "b": np.array([[2 - 1j, 1 + 1j, -0.5 + 2j, 0.25 - 0.75j], [1 + 0j, -3 + 0.5j, 1j, 0.5 + 0.5j]], np.complex64)})


@case
@spectral
def dct_types_and_mdct(model_dir):
    def fn(x):
        mdct = tf.signal.mdct(x, frame_length=16)
        return {
            "dct1": tf.signal.dct(x[:, :9], type=1), "dct4": tf.signal.dct(x[:, :12], type=4, norm="ortho"),
            "idct4": tf.signal.idct(x[:, :12], type=4), "dct2_n": tf.signal.dct(x, type=2, n=10),
            "mdct": mdct, "inverse_mdct": tf.signal.inverse_mdct(mdct),
            "cumprod": tf.math.cumprod(tf.complex(x[:, :4], x[:, 4:8]), axis=1),
        }
    return one(model_dir, fn, [spec([None, 64], tf.float32, "x")], {"x": real([2, 64])})


@case
def audio_spectrogram_mfcc(model_dir):
    # The speech_commands front end: tf.raw_ops.AudioSpectrogram → Mfcc (TF's own FFT in double).
    def fn(audio):
        spectrogram = tf.raw_ops.AudioSpectrogram(input=audio, window_size=30, stride=20, magnitude_squared=True)
        magnitude = tf.raw_ops.AudioSpectrogram(input=audio, window_size=16, stride=7, magnitude_squared=False)
        mfcc = tf.raw_ops.Mfcc(spectrogram=spectrogram, sample_rate=16000, dct_coefficient_count=10, filterbank_channel_count=12,
                               lower_frequency_limit=20.0, upper_frequency_limit=7000.0)
        return {"spectrogram": spectrogram, "magnitude": magnitude, "mfcc": mfcc,
                "mfcc_default": tf.raw_ops.Mfcc(spectrogram=tf.raw_ops.AudioSpectrogram(input=audio, window_size=64, stride=32,
                                                                                     magnitude_squared=True), sample_rate=8000)}
    t = np.arange(200, dtype=np.float32)
    audio = np.stack([0.5 * np.sin(0.25 * t) + 0.1 * np.cos(2.1 * t), real([200], scale=0.5)], axis=1)
    return one(model_dir, fn, [spec([None, 2], tf.float32, "audio")], [{"audio": audio.astype(np.float32)}, {"audio": audio[:20].astype(np.float32)}])


def _wav(samples, rate=16000, junk=False, fmt18=False, trailing=False):
    """16-bit PCM WAV bytes, optionally with a JUNK chunk before "fmt ", an 18-byte format chunk and a LIST chunk after the data."""
    import struct
    samples = np.asarray(samples)
    channels = samples.shape[1]
    data = np.clip(np.round(samples * 32768), -32768, 32767).astype("<i2").tobytes()
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * 2 * channels, 2 * channels, 16) + (b"\0\0" if fmt18 else b"")
    body = b"WAVE"
    if junk:
        body += b"JUNK" + struct.pack("<I", 6) + b"\0" * 6
    body += b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    if trailing:
        body += b"LIST" + struct.pack("<I", 4) + b"INFO"
    return b"RIFF" + struct.pack("<I", len(body)) + body


@case
def decode_wav_speech_frontend(model_dir):
    # A speech_commands-style serving signature: WAV bytes → DecodeWav → AudioSpectrogram → Mfcc.
    def fn(wav):
        audio, rate = tf.audio.decode_wav(wav, desired_channels=1, desired_samples=300)
        raw, _ = tf.audio.decode_wav(wav)
        stereo, _ = tf.audio.decode_wav(wav, desired_channels=3, desired_samples=10)
        spectrogram = tf.raw_ops.AudioSpectrogram(input=audio, window_size=64, stride=32, magnitude_squared=True)
        mfcc = tf.raw_ops.Mfcc(spectrogram=spectrogram, sample_rate=rate, dct_coefficient_count=8, filterbank_channel_count=16)
        return {"audio": audio, "rate": rate, "raw": raw, "stereo": stereo, "mfcc": mfcc}
    t = np.arange(256)
    mono = (0.4 * np.sin(0.2 * t))[:, None]
    two = np.stack([0.3 * np.sin(0.05 * t), 0.2 * np.cos(0.3 * t)], axis=1)
    feeds = [{"wav": np.array(_wav(mono))}, {"wav": np.array(_wav(two, rate=8000, junk=True, fmt18=True, trailing=True))},
             {"wav": np.array(_wav(np.full([1000, 1], 0.999)[:400], rate=22050))}]
    return one(model_dir, fn, [spec([], tf.string, "wav")], feeds)


@case
def encode_wav_roundtrip(model_dir):
    def fn(audio, rate):
        wav = tf.audio.encode_wav(audio, rate)
        decoded, r = tf.audio.decode_wav(wav)
        return {"wav": wav, "decoded": decoded, "rate": r}
    halves = np.array([[0.5 / 32768, -0.5 / 32768], [1.5 / 32768, -2.5 / 32768], [1.0, -1.0], [2.0, -3.0], [0.25, 1e-6]], np.float32)
    return one(model_dir, fn, [spec([None, 2], tf.float32, "audio"), spec([], tf.int32, "rate")],
               [{"audio": halves, "rate": np.int32(16000)}, {"audio": np.zeros([0, 2], np.float32), "rate": np.int32(44100)}])


@case
def keras_mel_spectrogram_export(model_dir):
    # Keras 3's MelSpectrogram layer (STFT, mel filterbank, dB scaling) in an exported model.
    import keras
    inputs = keras.Input(shape=(400,), name="audio")
    mel = keras.layers.MelSpectrogram(fft_length=128, sequence_stride=64, sequence_length=100, sampling_rate=8000, num_mel_bins=16,
                                      min_freq=20.0, max_freq=3900.0, power_to_db=True)(inputs)
    raw = keras.layers.MelSpectrogram(fft_length=64, sequence_stride=50, sampling_rate=16000, num_mel_bins=8, power_to_db=False,
                                      mag_exp=1.0)(inputs)
    model = keras.Model(inputs, {"mel": mel, "raw": raw})
    model.export(model_dir, verbose=False)
    t = np.arange(400, dtype=np.float32)
    audio = np.stack([0.5 * np.sin(0.3 * t) + 0.2 * np.sin(1.7 * t), real([400], scale=0.3)])
    return {"serve": [{"*": audio.astype(np.float32)}]}
