"""JPEG decoding inside SavedModels: DecodeJpeg / DecodeImage / DecodeAndCropJpeg
with TF's attrs, answered pixel for pixel (libjpeg-turbo's arithmetic)."""
import numpy as np
import tensorflow as tf

from common import save_module, spec
from registry import case


def picture(h, w, seed):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    planes = [128 + 90 * np.sin(x / (2.5 + k) + y / (3.7 - k * 0.5)) * np.cos(y / 5.0 + k) + rng.normal(0, 18, (h, w)) for k in range(3)]
    return np.clip(np.stack(planes, -1), 0, 255).astype(np.uint8)


def jpegs():
    return [
        tf.io.encode_jpeg(picture(23, 37, 1), quality=80).numpy(),
        tf.io.encode_jpeg(picture(19, 29, 2), quality=90, progressive=True).numpy(),
        tf.io.encode_jpeg(picture(17, 21, 3), quality=70, chroma_downsampling=False).numpy(),
    ]


@case
def decode_jpeg_attrs(model_dir):
    def fn(contents):
        return {
            "default": tf.io.decode_jpeg(contents),
            "accurate": tf.io.decode_jpeg(contents, dct_method="INTEGER_ACCURATE"),
            "fast_gray": tf.io.decode_jpeg(contents, channels=1, dct_method="INTEGER_FAST"),
            "half_plain": tf.io.decode_jpeg(contents, ratio=2, fancy_upscaling=False),
            "eighth": tf.io.decode_jpeg(contents, ratio=8),
            "image_float": tf.io.decode_image(contents, dtype=tf.float32),
            "crop": tf.image.decode_and_crop_jpeg(contents, [3, 5, 9, 11], channels=3),
        }
    m = tf.Module()
    save_module(model_dir, m, serving_default=tf.function(fn, input_signature=[spec([], tf.string, "contents")]))
    return {"serving_default": [{"contents": np.array(j, dtype=object)} for j in jpegs()]}


@case
def jpeg_preprocess_resize(model_dir):
    def fn(contents):
        img = tf.io.decode_jpeg(contents, channels=3)
        img = tf.image.convert_image_dtype(img, tf.float32)
        return {"pixels": tf.image.resize(img, [16, 16])}
    m = tf.Module()
    save_module(model_dir, m, serving_default=tf.function(fn, input_signature=[spec([], tf.string, "contents")]))
    return {"serving_default": [{"contents": np.array(j, dtype=object)} for j in jpegs()[:2]]}
