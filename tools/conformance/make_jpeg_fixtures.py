"""Generates JPEG fixtures and TensorFlow's decodes of them.

Writes test/runtime/kernels/jpeg_fixtures/{*.jpg, manifest.json, expected.bin}.
Each manifest case names a file, the op (DecodeJpeg / DecodeAndCropJpeg), its
attrs, and either TF's output (shape + offset/length into expected.bin) or
TF's error message. Run with the TF venv:

    /work/tfvenv/bin/python tools/conformance/make_jpeg_fixtures.py

JPEGs come from tf.io.encode_jpeg (baseline, progressive, 4:2:0, 4:4:4,
grayscale, optimized Huffman) and Pillow (4:2:2, CMYK with an Adobe marker,
restart markers, progressive grayscale) when Pillow is installed.
"""
import hashlib
import io
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np
import tensorflow as tf

try:
    from PIL import Image
except ImportError:  # Pillow is optional: its fixtures are skipped
    Image = None

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "test", "runtime", "kernels", "jpeg_fixtures")


def picture(h, w, c, seed):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    planes = []
    for k in range(c):
        p = 128 + 90 * np.sin(x / (2.5 + k) + y / (3.7 - k * 0.5)) * np.cos(y / 5.0 + k)
        p += 40 * ((x + 2 * y + k) % 7 > 3)
        p += rng.normal(0, 18, size=(h, w))
        planes.append(p)
    return np.clip(np.stack(planes, -1), 0, 255).astype(np.uint8)


def tf_jpeg(img, **kw):
    return tf.io.encode_jpeg(img, **kw).numpy()


def pil_jpeg(img, mode, **kw):
    buf = io.BytesIO()
    arr = img[..., 0] if mode == "L" else img
    Image.fromarray(arr, mode if mode != "CMYK" else None).convert(mode).save(buf, "JPEG", **kw)
    return buf.getvalue()


def strip_app0(data):
    """Drops the JFIF APP0 segment (libjpeg then guesses the colour space)."""
    assert data[2:4] == b"\xff\xe0"
    n = (data[4] << 8) | data[5]
    return data[:2] + data[4 + n:]


def with_adobe(data, transform):
    seg = b"Adobe" + bytes([0, 100, 0, 0, 0, 0, transform])
    return data[:2] + b"\xff\xee" + bytes([0, len(seg) + 2]) + seg + data[2:]


def with_component_ids(data, ids):
    out = bytearray(data)
    for marker in (b"\xff\xc0", b"\xff\xda"):
        at = out.find(marker)
        n = out[at + 4 + (5 if marker == b"\xff\xc0" else 0)]
        first = at + (10 if marker == b"\xff\xc0" else 5)
        step = 3 if marker == b"\xff\xc0" else 2
        for k in range(n):
            out[first + k * step] = ids[k]
    return bytes(out)


def files():
    out = {}
    out["rgb420_q75_33x17"] = tf_jpeg(picture(17, 33, 3, 1), quality=75)
    out["rgb444_q90_17x33"] = tf_jpeg(picture(33, 17, 3, 2), quality=90, chroma_downsampling=False)
    out["rgb420_prog_q85_35x21"] = tf_jpeg(picture(21, 35, 3, 3), quality=85, progressive=True)
    out["rgb444_prog_q60_19x9"] = tf_jpeg(picture(9, 19, 3, 4), quality=60, progressive=True, chroma_downsampling=False)
    out["gray_q80_23x15"] = tf_jpeg(picture(15, 23, 1, 5), quality=80)
    out["rgb420_q100_16x16"] = tf_jpeg(picture(16, 16, 3, 6), quality=100)
    out["rgb420_opt_q50_64x48"] = tf_jpeg(picture(48, 64, 3, 7), quality=50, optimize_size=True)
    out["rgb420_q90_1x1"] = tf_jpeg(picture(1, 1, 3, 8), quality=90)
    out["rgb420_q95_3x2"] = tf_jpeg(picture(2, 3, 3, 9), quality=95)
    # Colour-space guesses without JFIF: Adobe transform 0 (RGB planes), 1 (YCbCr),
    # component ids 'R','G','B' (RGB), plain ids 1,2,3 (YCbCr).
    plain = strip_app0(tf_jpeg(picture(13, 19, 3, 16), quality=85, chroma_downsampling=False))
    out["adobe0_rgb_19x13"] = with_adobe(plain, 0)
    out["adobe1_ycc_19x13"] = with_adobe(plain, 1)
    out["ids_rgb_19x13"] = with_component_ids(plain, b"RGB")
    out["nojfif_ycc420_27x11"] = strip_app0(tf_jpeg(picture(11, 27, 3, 17), quality=75))
    if Image is not None:
        out["pil_rgb422_q80_33x17"] = pil_jpeg(picture(17, 33, 3, 10), "RGB", quality=80, subsampling=1)
        out["pil_cmyk_q85_21x13"] = pil_jpeg(np.concatenate([picture(13, 21, 3, 11), picture(13, 21, 1, 12)], -1), "CMYK", quality=85)
        out["pil_gray_prog_q70_26x19"] = pil_jpeg(picture(19, 26, 1, 13), "L", quality=70, progressive=True)
        try:
            out["pil_rgb420_rst_q80_40x24"] = pil_jpeg(picture(24, 40, 3, 14), "RGB", quality=80, restart_marker_blocks=1)
        except TypeError:
            pass
        out["pil_rgb420_prog_q92_41x27"] = pil_jpeg(picture(27, 41, 3, 15), "RGB", quality=92, progressive=True, subsampling=2)
    return out


def decode(data, op, attrs, crop=None):
    try:
        if op == "DecodeAndCropJpeg":
            r = tf.raw_ops.DecodeAndCropJpeg(contents=data, crop_window=crop, **attrs)
        else:
            r = tf.raw_ops.DecodeJpeg(contents=data, **attrs)
        return r.numpy(), None
    except tf.errors.OpError as e:
        return None, (type(e).__name__, e.message)


def main():
    os.makedirs(OUT, exist_ok=True)
    blob = bytearray()
    seen = {}
    cases = []

    def add(name, data, op, attrs, crop=None, note=None):
        arr, err = decode(data, op, attrs, crop)
        case = {"file": name, "op": op, "attrs": attrs}
        if crop is not None:
            case["crop"] = crop
        if note:
            case["note"] = note
        if err:
            case["error"] = {"type": err[0], "message": err[1]}
        else:
            raw = arr.tobytes()
            key = hashlib.sha1(raw).hexdigest()
            if key not in seen:
                seen[key] = len(blob)
                blob.extend(raw)
            case["shape"] = list(arr.shape)
            case["offset"] = seen[key]
        cases.append(case)

    jpegs = files()
    for name, data in jpegs.items():
        with open(os.path.join(OUT, name + ".jpg"), "wb") as f:
            f.write(data)
        for channels in (0, 1, 3):
            for dct in ("", "INTEGER_FAST"):
                for fancy in (True, False):
                    for ratio in (1, 2, 4, 8):
                        add(name, data, "DecodeJpeg", {"channels": channels, "dct_method": dct, "fancy_upscaling": fancy, "ratio": ratio})
        add(name, data, "DecodeJpeg", {"channels": 3, "dct_method": "INTEGER_ACCURATE"})

    # Crop windows (libjpeg-turbo crops to an iMCU column boundary, then TF realigns).
    for name in ("rgb420_opt_q50_64x48", "rgb420_q75_33x17", "pil_rgb422_q80_33x17", "rgb444_q90_17x33", "gray_q80_23x15",
                 "rgb420_prog_q85_35x21", "pil_cmyk_q85_21x13", "pil_rgb420_rst_q80_40x24"):
        if name not in jpegs:
            continue
        data = jpegs[name]
        h, w = tf.io.extract_jpeg_shape(data).numpy()[:2].tolist()
        for crop in ([0, 0, h, w], [3, 5, h - 7, w - 9], [h // 2, w // 2, 1, 1], [1, 17, 5, 7], [0, 9, 4, w - 9], [2, 0, h - 2, 3]):
            for fancy in (True, False):
                add(name, data, "DecodeAndCropJpeg", {"channels": 3, "fancy_upscaling": fancy}, crop)
        add(name, data, "DecodeAndCropJpeg", {"channels": 1}, [1, 2, 3, 4])
        add(name, data, "DecodeAndCropJpeg", {"channels": 3, "ratio": 2}, [1, 2, 3, 4])
        add(name, data, "DecodeAndCropJpeg", {"channels": 3}, [0, 0, h + 1, w], note="window too tall")
        add(name, data, "DecodeAndCropJpeg", {"channels": 3}, [0, 0, 0, 2], note="empty window")

    # Truncated files, with and without recovery.
    for name in ("rgb420_opt_q50_64x48", "rgb420_prog_q85_35x21", "gray_q80_23x15"):
        data = jpegs[name]
        for cut in (0.5, 0.8, 0.97):
            part = data[: int(len(data) * cut)]
            for recover in (False, True):
                for frac in (1.0, 0.3, 0.0):
                    add(f"{name}", part, "DecodeJpeg", {"channels": 3, "try_recover_truncated": recover, "acceptable_fraction": frac}, note=f"truncated:{len(part)}")
        no_eoi = data[:-2]
        add(name, no_eoi, "DecodeJpeg", {"channels": 3}, note=f"truncated:{len(no_eoi)}")

    with open(os.path.join(OUT, "expected.bin"), "wb") as f:
        f.write(bytes(blob))
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump({"tensorflow": tf.__version__, "cases": cases}, f, indent=0)
    print(len(cases), "cases,", len(blob), "bytes of pixels", file=sys.stderr)


if __name__ == "__main__":
    main()
