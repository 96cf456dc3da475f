"""Vision ops detection and augmentation models export: non-max suppression,
crop-and-resize, resizes, colour-space adjustments, patches, 3-D convolution and pooling."""
import numpy as np
import tensorflow as tf

from common import save_module, spec
from registry import case


def one(model_dir, fn, specs, feeds):
    m = tf.Module()
    save_module(model_dir, m, serving_default=tf.function(fn, input_signature=specs))
    return {"serving_default": feeds if isinstance(feeds, list) else [feeds]}


def img(shape, seed=0):
    return np.random.RandomState(seed).uniform(0, 1, shape).astype(np.float32)


BOXES = np.array([
    [0, 0, 1, 1], [0, 0.1, 1, 1.1], [0, -0.1, 1, 0.9], [0, 10, 1, 11],
    [1, 10.1, 0, 11.1],  # y1 > y2: flipped corners
    [0, 100, 1, 101], [0.5, 0.5, 0.5, 0.5],  # zero-area box
], np.float32)
SCORES = np.array([0.9, 0.75, 0.6, 0.95, 0.5, 0.3, 0.9], np.float32)


@case
def nms_v2_v3(model_dir):
    def fn(boxes, scores):
        return {
            "v2": tf.raw_ops.NonMaxSuppressionV2(boxes=boxes, scores=scores, max_output_size=10, iou_threshold=0.5),
            "v3": tf.raw_ops.NonMaxSuppressionV3(boxes=boxes, scores=scores, max_output_size=3, iou_threshold=0.5, score_threshold=0.4),
            "v3_all": tf.raw_ops.NonMaxSuppressionV3(boxes=boxes, scores=scores, max_output_size=10, iou_threshold=1.0,
                                                     score_threshold=float("-inf")),
            "v3_none": tf.raw_ops.NonMaxSuppressionV3(boxes=boxes, scores=scores, max_output_size=10, iou_threshold=0.5,
                                                      score_threshold=2.0),
            "v3_zero_iou": tf.raw_ops.NonMaxSuppressionV3(boxes=boxes, scores=scores, max_output_size=10, iou_threshold=0.0,
                                                          score_threshold=0.0),
        }
    return one(model_dir, fn, [spec([None, 4], tf.float32, "boxes"), spec([None], tf.float32, "scores")], [
        {"boxes": BOXES, "scores": SCORES},
        {"boxes": np.zeros((0, 4), np.float32), "scores": np.zeros((0,), np.float32)},
        # ties: equal scores keep the lower index first
        {"boxes": np.array([[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 3, 3], [2, 2, 3, 3.2]], np.float32),
         "scores": np.array([0.5, 0.5, 0.5, 0.5], np.float32)},
    ])


@case
def nms_v4_padded(model_dir):
    def fn(boxes, scores):
        sel, valid = tf.raw_ops.NonMaxSuppressionV4(boxes=boxes, scores=scores, max_output_size=6, iou_threshold=0.5,
                                                    score_threshold=0.55, pad_to_max_output_size=True)
        sel2, valid2 = tf.raw_ops.NonMaxSuppressionV4(boxes=boxes, scores=scores, max_output_size=6, iou_threshold=0.5,
                                                      score_threshold=0.55, pad_to_max_output_size=False)
        return {"sel": sel, "valid": valid, "sel2": sel2, "valid2": valid2}
    return one(model_dir, fn, [spec([None, 4], tf.float32, "boxes"), spec([None], tf.float32, "scores")], [
        {"boxes": BOXES, "scores": SCORES},
        {"boxes": np.zeros((0, 4), np.float32), "scores": np.zeros((0,), np.float32)},
    ])


@case
def nms_v5_soft(model_dir):
    def fn(boxes, scores):
        out = {}
        for name, sigma, pad in (("hard", 0.0, False), ("soft", 0.5, False), ("soft_pad", 0.3, True)):
            sel, sc, valid = tf.raw_ops.NonMaxSuppressionV5(boxes=boxes, scores=scores, max_output_size=6, iou_threshold=0.6,
                                                            score_threshold=0.1, soft_nms_sigma=sigma,
                                                            pad_to_max_output_size=pad)
            out[name + "_sel"], out[name + "_scores"], out[name + "_valid"] = sel, sc, valid
        return out
    return one(model_dir, fn, [spec([None, 4], tf.float32, "boxes"), spec([None], tf.float32, "scores")], [
        {"boxes": BOXES, "scores": SCORES},
        {"boxes": np.array([[0, 0, 1, 1], [0, 0.05, 1, 1.05], [0, 0.2, 1, 1.2], [0, 0.5, 1, 1.5]], np.float32),
         "scores": np.array([0.9, 0.8, 0.7, 0.6], np.float32)},
    ])


@case
def nms_wrappers(model_dir):
    def fn(boxes, scores):
        sel = tf.image.non_max_suppression(boxes, scores, 4, iou_threshold=0.4, score_threshold=0.2)
        padded, n = tf.image.non_max_suppression_padded(boxes, scores, 5, iou_threshold=0.4, pad_to_max_output_size=True)
        return {"sel": sel, "boxes": tf.gather(boxes, sel), "padded": padded, "n": n}
    return one(model_dir, fn, [spec([None, 4], tf.float32, "boxes"), spec([None], tf.float32, "scores")],
               {"boxes": BOXES, "scores": SCORES})


@case
def combined_nms(model_dir):
    def fn(boxes, scores):
        out = {}
        for name, per_class, clip, pad in (("a", 3, True, False), ("b", 2, False, True)):
            r = tf.image.combined_non_max_suppression(boxes, scores, max_output_size_per_class=per_class,
                                                      max_total_size=5, iou_threshold=0.5, score_threshold=0.2,
                                                      pad_per_class=pad, clip_boxes=clip)
            out[name + "_boxes"], out[name + "_scores"] = r.nmsed_boxes, r.nmsed_scores
            out[name + "_classes"], out[name + "_valid"] = r.nmsed_classes, r.valid_detections
        return out
    rs = np.random.RandomState(3)
    # q = 1: boxes shared by every class; q = num_classes handled in combined_nms_per_class
    boxes = np.concatenate([BOXES[None], (BOXES[None] * 0.5 + 0.2)], 0)[:, :, None, :]
    scores = rs.uniform(0, 1, (2, 7, 3)).astype(np.float32)
    return one(model_dir, fn, [spec([None, None, 1, 4], tf.float32, "boxes"), spec([None, None, 3], tf.float32, "scores")],
               {"boxes": boxes, "scores": scores})


@case
def combined_nms_per_class(model_dir):
    def fn(boxes, scores):
        r = tf.image.combined_non_max_suppression(boxes, scores, 4, 6, iou_threshold=0.3, score_threshold=0.1)
        return {"boxes": r.nmsed_boxes, "scores": r.nmsed_scores, "classes": r.nmsed_classes, "valid": r.valid_detections}
    rs = np.random.RandomState(4)
    boxes = rs.uniform(-0.2, 1.2, (1, 6, 2, 4)).astype(np.float32)
    scores = rs.uniform(0, 1, (1, 6, 2)).astype(np.float32)
    return one(model_dir, fn, [spec([None, None, 2, 4], tf.float32, "boxes"), spec([None, None, 2], tf.float32, "scores")],
               {"boxes": boxes, "scores": scores})


@case
def crop_and_resize(model_dir):
    def fn(image, boxes, box_ind):
        return {
            "bilinear": tf.image.crop_and_resize(image, boxes, box_ind, [4, 5]),
            "nearest": tf.image.crop_and_resize(image, boxes, box_ind, [3, 3], method="nearest", extrapolation_value=-1.0),
            "one": tf.image.crop_and_resize(image, boxes, box_ind, [1, 1], extrapolation_value=7.0),
        }
    boxes = np.array([[0, 0, 1, 1], [0.1, 0.2, 0.7, 0.9], [0.8, 0.9, 0.1, 0.2], [-0.5, -0.2, 1.5, 1.3], [0.3, 0.3, 0.3, 0.3]],
                     np.float32)
    return one(model_dir, fn, [spec([None, None, None, 3], tf.float32, "image"), spec([None, 4], tf.float32, "boxes"),
                               spec([None], tf.int32, "box_ind")], [
        {"image": img([2, 7, 9, 3]), "boxes": boxes, "box_ind": np.array([0, 1, 0, 1, 1], np.int32)},
        {"image": img([1, 7, 9, 3]), "boxes": np.zeros((0, 4), np.float32), "box_ind": np.zeros((0,), np.int32)},
    ])


@case
def crop_and_resize_uint8(model_dir):
    def fn(image, boxes):
        return {"y": tf.image.crop_and_resize(image, boxes, tf.zeros([tf.shape(boxes)[0]], tf.int32), [3, 4])}
    rs = np.random.RandomState(5)
    return one(model_dir, fn, [spec([1, None, None, 1], tf.uint8, "image"), spec([None, 4], tf.float32, "boxes")],
               {"image": rs.randint(0, 256, (1, 5, 6, 1)).astype(np.uint8),
                "boxes": np.array([[0, 0, 1, 1], [0.2, 0.1, 0.9, 0.5]], np.float32)})


def resize_all(method, image, size):
    out = {}
    for name, align, half in (("legacy", False, False), ("align", True, False), ("half", False, True)):
        op = {"bicubic": tf.raw_ops.ResizeBicubic, "area": tf.raw_ops.ResizeArea, "bilinear": tf.raw_ops.ResizeBilinear,
              "nearest": tf.raw_ops.ResizeNearestNeighbor}[method]
        if method == "area" and half:
            continue
        if method == "area":
            out[name] = op(images=image, size=size, align_corners=align)
        else:
            out[name] = op(images=image, size=size, align_corners=align, half_pixel_centers=half)
    return out


@case
def resize_bicubic(model_dir):
    def fn(image):
        up = resize_all("bicubic", image, [11, 13])
        down = resize_all("bicubic", image, [3, 4])
        out = {"up_" + k: v for k, v in up.items()}
        out.update({"down_" + k: v for k, v in down.items()})
        out["tf_image"] = tf.image.resize(image, [10, 5], method="bicubic")
        return out
    return one(model_dir, fn, [spec([None, None, None, 3], tf.float32, "image")], {"image": img([1, 7, 9, 3], 6)})


@case
def resize_area(model_dir):
    def fn(image):
        out = {}
        for size in ([3, 4], [11, 13], [7, 2], [1, 1]):
            for k, v in resize_all("area", image, size).items():
                out[f"{k}_{size[0]}x{size[1]}"] = v
        out["tf_image"] = tf.image.resize(image, [4, 6], method="area")
        return out
    return one(model_dir, fn, [spec([None, None, None, 2], tf.float32, "image")], {"image": img([2, 7, 9, 2], 7)})


@case
def resize_bilinear_nearest_modes(model_dir):
    def fn(image, image_i):
        out = {}
        for size in ([3, 4], [11, 13]):
            for method in ("bilinear", "nearest"):
                for k, v in resize_all(method, image, size).items():
                    out[f"{method}_{k}_{size[0]}x{size[1]}"] = v
        out["nearest_int"] = tf.raw_ops.ResizeNearestNeighbor(images=image_i, size=[5, 4], half_pixel_centers=True)
        out["bilinear_int"] = tf.raw_ops.ResizeBilinear(images=image_i, size=[5, 4], half_pixel_centers=True)
        return out
    rs = np.random.RandomState(8)
    return one(model_dir, fn, [spec([None, None, None, 3], tf.float32, "image"), spec([None, None, None, 1], tf.int32, "image_i")],
               {"image": img([1, 7, 9, 3], 8), "image_i": rs.randint(-50, 50, (1, 3, 7, 1)).astype(np.int32)})


@case
def scale_and_translate(model_dir):
    def fn(image):
        out = {}
        for kernel in ("lanczos3", "lanczos5", "gaussian", "box", "triangle", "keyscubic", "mitchellcubic"):
            for aa in (True, False):
                out[f"{kernel}_{'aa' if aa else 'noaa'}"] = tf.raw_ops.ScaleAndTranslate(
                    images=image, size=[5, 4], scale=[5 / 7, 4 / 9], translation=[0.25, -0.5], kernel_type=kernel,
                    antialias=aa)
        out["up_lanczos3"] = tf.raw_ops.ScaleAndTranslate(images=image, size=[10, 12], scale=[10 / 7, 12 / 9],
                                                          translation=[0.0, 0.0], kernel_type="lanczos3")
        out["resize_lanczos3"] = tf.image.resize(image, [4, 5], method="lanczos3", antialias=True)
        return out
    return one(model_dir, fn, [spec([None, None, None, 2], tf.float32, "image")], {"image": img([1, 7, 9, 2], 9)})


@case
def color_space(model_dir):
    def fn(rgb):
        hsv = tf.image.rgb_to_hsv(rgb)
        return {
            "hsv": hsv, "back": tf.image.hsv_to_rgb(hsv),
            "sat": tf.image.adjust_saturation(rgb, 1.7), "sat0": tf.image.adjust_saturation(rgb, 0.0),
            "hue": tf.image.adjust_hue(rgb, 0.2), "hue_neg": tf.image.adjust_hue(rgb, -0.7),
            "contrast": tf.image.adjust_contrast(rgb, 0.4),
            "gray": tf.image.rgb_to_grayscale(rgb),
        }
    x = img([1, 3, 5, 3], 10)
    x[0, 0, 0] = [0.5, 0.5, 0.5]  # grey: saturation 0, hue 0
    x[0, 0, 1] = [0, 0, 0]
    x[0, 0, 2] = [1, 0, 0]
    x[0, 0, 3] = [0, 1, 1]
    x[0, 0, 4] = [0.2, 0.2, 0.9]
    return one(model_dir, fn, [spec([None, None, None, 3], tf.float32, "rgb")], {"rgb": x})


@case
def hsv_to_rgb_raw(model_dir):
    def fn(hsv):
        return {"rgb": tf.image.hsv_to_rgb(hsv)}
    hsv = np.array([[0, 0, 0.5], [0.1, 1, 1], [0.3, 0.5, 0.8], [0.5, 0.2, 0.4], [0.7, 1, 1], [0.95, 0.6, 0.3], [1.0, 1, 1]],
                   np.float32)
    return one(model_dir, fn, [spec([None, 3], tf.float32, "hsv")], {"hsv": hsv})


@case
def extract_image_patches(model_dir):
    def fn(image):
        return {
            "valid": tf.image.extract_patches(image, [1, 3, 2, 1], [1, 2, 3, 1], [1, 1, 1, 1], "VALID"),
            "same": tf.image.extract_patches(image, [1, 3, 3, 1], [1, 2, 2, 1], [1, 2, 1, 1], "SAME"),
            "one": tf.image.extract_patches(image, [1, 1, 1, 1], [1, 1, 1, 1], [1, 1, 1, 1], "VALID"),
        }
    return one(model_dir, fn, [spec([None, None, None, 2], tf.float32, "image")], {"image": img([2, 7, 9, 2], 11)})


@case
def dilation2d(model_dir):
    def fn(image, f):
        return {
            "valid": tf.nn.dilation2d(image, f, [1, 1, 1, 1], "VALID", "NHWC", [1, 1, 1, 1]),
            "same_strided": tf.nn.dilation2d(image, f, [1, 2, 3, 1], "SAME", "NHWC", [1, 1, 1, 1]),
            "same_dilated": tf.nn.dilation2d(image, f, [1, 1, 1, 1], "SAME", "NHWC", [1, 2, 2, 1]),
            "erosion": tf.nn.erosion2d(image, f, [1, 1, 1, 1], "SAME", "NHWC", [1, 1, 1, 1]),
        }
    return one(model_dir, fn, [spec([None, None, None, 2], tf.float32, "image"), spec([2, 3, 2], tf.float32, "f")],
               {"image": img([1, 7, 9, 2], 12), "f": img([2, 3, 2], 13) - 0.5})


@case
def max_pool_with_argmax(model_dir):
    def fn(image):
        out = {}
        for name, ksize, strides, pad, inc in (("same", 3, 2, "SAME", False), ("valid", 2, 2, "VALID", True),
                                               ("valid_s1", [2, 3], 1, "VALID", False)):
            out[name], out[name + "_arg"] = tf.nn.max_pool_with_argmax(image, ksize, strides, pad, include_batch_in_index=inc)
        return out
    x = img([2, 7, 9, 3], 14)
    x[0, 0, 0:2, 0] = 0.99  # ties inside a window: TF keeps the first
    x[0, 1, 0:2, 0] = 0.99
    return one(model_dir, fn, [spec([None, None, None, 3], tf.float32, "image")], {"image": x})


@case
def conv3d_pool3d(model_dir):
    def fn(vol, f):
        return {
            "conv_same": tf.nn.conv3d(vol, f, [1, 1, 1, 1, 1], "SAME"),
            "conv_valid_strided": tf.nn.conv3d(vol, f, [1, 2, 1, 2, 1], "VALID"),
            "conv_dilated": tf.nn.conv3d(vol, f, [1, 1, 1, 1, 1], "VALID", dilations=[1, 1, 2, 2, 1]),
            "max_same": tf.nn.max_pool3d(vol, [1, 2, 2, 3, 1], [1, 2, 2, 2, 1], "SAME"),
            "max_valid": tf.nn.max_pool3d(vol, [1, 2, 3, 2, 1], [1, 1, 2, 1, 1], "VALID"),
            "avg_same": tf.nn.avg_pool3d(vol, [1, 2, 2, 3, 1], [1, 2, 2, 2, 1], "SAME"),
            "avg_valid": tf.nn.avg_pool3d(vol, [1, 3, 2, 2, 1], [1, 1, 1, 2, 1], "VALID"),
        }
    return one(model_dir, fn, [spec([None, None, None, None, 2], tf.float32, "vol"), spec([2, 3, 2, 2, 3], tf.float32, "f")],
               {"vol": img([1, 5, 6, 7, 2], 15), "f": img([2, 3, 2, 2, 3], 16) - 0.5})


@case
def image_projective_transform(model_dir):
    def fn(image, transforms):
        out = {}
        for interp in ("NEAREST", "BILINEAR"):
            for fill in ("CONSTANT", "REFLECT", "WRAP", "NEAREST"):
                out[f"{interp}_{fill}"] = tf.raw_ops.ImageProjectiveTransformV3(
                    images=image, transforms=transforms, output_shape=[6, 8], interpolation=interp, fill_mode=fill,
                    fill_value=0.25)
        out["v2"] = tf.raw_ops.ImageProjectiveTransformV2(images=image, transforms=transforms, output_shape=[7, 9],
                                                          interpolation="BILINEAR", fill_mode="REFLECT")
        return out
    t = np.array([[0.9, -0.3, 1.5, 0.25, 1.1, -2.0, 0.01, -0.02], [1.2, 0.0, -3.0, 0.0, 0.8, 2.5, 0.0, 0.0]], np.float32)
    return one(model_dir, fn, [spec([None, None, None, 2], tf.float32, "image"), spec([None, 8], tf.float32, "transforms")],
               {"image": img([2, 7, 9, 2], 17), "transforms": t})


@case
def encode_png_jpeg_shapes(model_dir):
    def fn(image):
        png = tf.io.encode_png(image)
        return {"png_roundtrip": tf.io.decode_png(png), "png_len_positive": tf.strings.length(png) > 0}
    rs = np.random.RandomState(18)
    return one(model_dir, fn, [spec([None, None, 3], tf.uint8, "image")], {"image": rs.randint(0, 256, (5, 7, 3)).astype(np.uint8)})


@case
def conv3d_float64(model_dir):
    def fn(vol, f):
        return {"same": tf.nn.conv3d(vol, f, [1, 1, 2, 1, 1], "SAME"), "valid": tf.nn.conv3d(vol, f, [1, 2, 1, 1, 1], "VALID")}
    return one(model_dir, fn, [spec([None, None, None, None, 2], tf.float64, "vol"), spec([2, 2, 3, 2, 2], tf.float64, "f")],
               {"vol": img([1, 3, 5, 4, 2], 19).astype(np.float64), "f": (img([2, 2, 3, 2, 2], 20) - 0.5).astype(np.float64)})


@case
def nms_with_overlaps(model_dir):
    def fn(overlaps, scores):
        return {
            "a": tf.image.non_max_suppression_overlaps(overlaps, scores, 5, overlap_threshold=0.5, score_threshold=0.1),
            "b": tf.image.non_max_suppression_overlaps(overlaps, scores, 2, overlap_threshold=0.9),
        }
    o = np.random.RandomState(21).uniform(0, 1, (6, 6)).astype(np.float32)
    o = (o + o.T) / 2
    return one(model_dir, fn, [spec([None, None], tf.float32, "overlaps"), spec([None], tf.float32, "scores")],
               {"overlaps": o, "scores": np.array([0.3, 0.9, 0.05, 0.6, 0.6, 0.8], np.float32)})


@case
def keras_image_layers_export(model_dir):
    """Keras 3 preprocessing and augmentation layers exported with model.export(): resize kinds, crops,
    and keras.ops.image.affine_transform."""
    import keras

    class Affine(keras.layers.Layer):
        def call(self, x):
            t = keras.ops.convert_to_tensor([[1.0, 0.1, -0.5, -0.05, 0.95, 0.3, 0.0, 0.0]])
            return keras.ops.image.affine_transform(x, t, interpolation="bilinear", fill_mode="reflect")

    inp = keras.Input((7, 9, 3), name="image")
    x = inp
    outs = [
        keras.layers.Resizing(5, 6, interpolation="bicubic")(x),
        keras.layers.Resizing(4, 11, interpolation="lanczos3")(x),
        keras.layers.Resizing(3, 4, interpolation="area")(x),
        keras.layers.Resizing(6, 5, interpolation="nearest", crop_to_aspect_ratio=True)(x),
        keras.layers.CenterCrop(4, 4)(x),
        Affine()(x),
    ]
    model = keras.Model(inp, outs)
    model.export(model_dir, verbose=False)
    return {"serve": [{"image": img([2, 7, 9, 3], 22)}]}


@case
def keras_random_layers_inference(model_dir):
    """Keras 3 augmentation layers at inference: identity, but the export still draws their random
    parameters (StatelessRandomGetKeyCounter, StatelessRandomUniformV2) before discarding them."""
    import keras
    inp = keras.Input((7, 9, 3), name="image")
    x = keras.layers.RandomRotation(0.2)(inp)
    x = keras.layers.RandomTranslation(0.1, 0.1)(x)
    x = keras.layers.RandomZoom(0.1)(x)
    model = keras.Model(inp, keras.layers.Resizing(5, 6, interpolation="bicubic")(x))
    model.export(model_dir, verbose=False)
    return {"serve": [{"image": img([1, 7, 9, 3], 23)}]}


@case
def image_composites(model_dir):
    """tf.image functions built from other ops (ssim, psnr, sobel, gradients, colour matrices, crops, pads)."""
    def fn(a, b):
        dy, dx = tf.image.image_gradients(a)
        return {
            "ssim": tf.image.ssim(a, b, max_val=1.0, filter_size=3), "psnr": tf.image.psnr(a, b, max_val=1.0),
            "ssim_ms": tf.image.ssim_multiscale(tf.image.resize(a, [33, 33]), tf.image.resize(b, [33, 33]), 1.0,
                                                power_factors=(0.5, 0.5), filter_size=3),
            "sobel": tf.image.sobel_edges(a), "tv": tf.image.total_variation(a), "dy": dy, "dx": dx,
            "yuv": tf.image.rgb_to_yuv(a), "yiq": tf.image.rgb_to_yiq(a), "back": tf.image.yuv_to_rgb(tf.image.rgb_to_yuv(a)),
            "std": tf.image.per_image_standardization(a), "central": tf.image.central_crop(a, 0.5),
            "pad": tf.image.pad_to_bounding_box(a, 1, 2, 9, 12), "crop_pad": tf.image.resize_with_crop_or_pad(a, 5, 11),
            "pad_resize": tf.image.resize_with_pad(a, 6, 6), "rot": tf.image.rot90(a, 3), "flip": tf.image.flip_left_right(a),
            "gamma": tf.image.adjust_gamma(a, 0.7, 1.2), "bright": tf.image.adjust_brightness(a, 0.1),
            "conv_dtype": tf.image.convert_image_dtype(a, tf.uint8, saturate=True),
        }
    return one(model_dir, fn, [spec([None, 7, 9, 3], tf.float32, "a"), spec([None, 7, 9, 3], tf.float32, "b")],
               {"a": img([2, 7, 9, 3], 24), "b": img([2, 7, 9, 3], 25)})


@case
def conv3d_transpose(model_dir):
    def fn(x, f):
        return {
            "same": tf.nn.conv3d_transpose(x, f, [1, 6, 7, 8, 2], [1, 2, 2, 2, 1], "SAME"),
            "valid": tf.nn.conv3d_transpose(x, f, [1, 4, 6, 5, 2], [1, 1, 1, 1, 1], "VALID"),
            "odd": tf.nn.conv3d_transpose(x, f, [1, 5, 4, 7, 2], [1, 2, 1, 2, 1], "SAME"),
        }
    return one(model_dir, fn, [spec([1, 3, 4, 4, 3], tf.float32, "x"), spec([2, 3, 2, 2, 3], tf.float32, "f")], [
        {"x": img([1, 3, 4, 4, 3], 26) - 0.5, "f": img([2, 3, 2, 2, 3], 27)},
        {"x": img([1, 3, 4, 4, 3], 28), "f": img([2, 3, 2, 2, 3], 29) - 0.5},
    ])


@case
def keras_conv3d_transpose_unet(model_dir):
    """A tiny 3-D U-Net-style block as Keras exports it: Conv3D, MaxPooling3D, Conv3DTranspose, skip concat."""
    import keras
    keras.utils.set_random_seed(30)
    inp = keras.Input((4, 6, 6, 2), name="volume")
    c1 = keras.layers.Conv3D(3, 3, padding="same", activation="relu")(inp)
    p1 = keras.layers.MaxPooling3D(2)(c1)
    c2 = keras.layers.Conv3D(4, 3, padding="same", activation="relu")(p1)
    u1 = keras.layers.Conv3DTranspose(3, 2, strides=2, padding="same")(c2)
    m = keras.layers.Concatenate()([u1, c1])
    avg = keras.layers.AveragePooling3D((1, 2, 2))(m)
    out = keras.layers.Conv3D(1, 1, activation="sigmoid")(avg)
    model = keras.Model(inp, out)
    model.export(model_dir, verbose=False)
    return {"serve": [{"volume": img([2, 4, 6, 6, 2], 31)}]}


@case
def draw_bounding_boxes(model_dir):
    def fn(image, boxes, gray):
        return {
            "default": tf.image.draw_bounding_boxes(image, boxes, tf.zeros([0, 4])),
            "colors": tf.image.draw_bounding_boxes(image, boxes, tf.constant([[0.1, 0.2, 0.3, 1.0], [0.9, 0.8, 0.7, 1.0]])),
            "v1": tf.raw_ops.DrawBoundingBoxes(images=image, boxes=boxes),
            "gray": tf.raw_ops.DrawBoundingBoxes(images=gray, boxes=boxes),
        }
    boxes = np.array([[[0.1, 0.2, 0.8, 0.9], [-0.2, -0.1, 0.5, 0.5], [0.5, 0.5, 1.3, 1.2], [0.9, 0.9, 0.1, 0.1],
                       [1.5, 1.5, 2.0, 2.0], [0.3, 0.3, 0.3, 0.3]]], np.float32)
    return one(model_dir, fn, [spec([1, 7, 9, 3], tf.float32, "image"), spec([1, None, 4], tf.float32, "boxes"),
                               spec([1, 7, 9, 1], tf.float32, "gray")],
               {"image": img([1, 7, 9, 3], 32), "boxes": boxes, "gray": img([1, 7, 9, 1], 33)})


@case
def encode_jpeg_bytes(model_dir):
    """EncodeJpeg's exact bytes (libjpeg-turbo, baseline, TF's defaults) for odd sizes, grey, 4:4:4, qualities."""
    def fn(rgb, gray, small):
        return {
            "default": tf.io.encode_jpeg(rgb), "q50": tf.io.encode_jpeg(rgb, quality=50), "q100": tf.io.encode_jpeg(rgb, quality=100),
            "q1": tf.io.encode_jpeg(rgb, quality=1), "no_sub": tf.io.encode_jpeg(rgb, chroma_downsampling=False),
            "cm": tf.io.encode_jpeg(rgb, density_unit="cm", x_density=72, y_density=96),
            "gray": tf.io.encode_jpeg(gray), "small": tf.io.encode_jpeg(small),
            "variable": tf.raw_ops.EncodeJpegVariableQuality(images=rgb, quality=80),
        }
    rs = np.random.RandomState(34)
    yy, xx = np.mgrid[0:23, 0:37]
    smooth = np.stack([yy * 9, xx * 6, (yy + xx) * 4], -1).astype(np.uint8)
    noisy = rs.randint(0, 256, (23, 37, 3)).astype(np.uint8)
    rgb = np.where(xx[..., None] < 18, smooth, noisy).astype(np.uint8)
    return one(model_dir, fn, [spec([None, None, 3], tf.uint8, "rgb"), spec([None, None, 1], tf.uint8, "gray"),
                               spec([None, None, 3], tf.uint8, "small")], [
        {"rgb": rgb, "gray": rgb[:, :, :1], "small": rs.randint(0, 256, (1, 1, 3)).astype(np.uint8)},
        {"rgb": rgb[:16, :16], "gray": rgb[:9, :7, 1:2], "small": rgb[:2, :3]},
        {"rgb": rs.randint(0, 256, (41, 50, 3)).astype(np.uint8), "gray": np.full((3, 40, 1), 255, np.uint8),
         "small": np.concatenate([np.full((17, 5, 3), 255, np.uint8), np.zeros((17, 4, 3), np.uint8)], 1)},
        {"rgb": np.tile(np.array([255, 0, 0], np.uint8), (18, 33, 1)), "gray": rs.randint(0, 256, (33, 18, 1)).astype(np.uint8),
         "small": rgb[5:8, 30:37]},
    ])


@case
def resize_antialias_and_half(model_dir):
    """tf.image.resize's antialias paths (ScaleAndTranslate) and half-precision NMS/crops."""
    def fn(image, boxes16, scores16):
        out = {}
        for m in ("bilinear", "bicubic", "area", "gaussian", "mitchellcubic", "lanczos5", "nearest"):
            out["aa_" + m] = tf.image.resize(image, [3, 5], method=m, antialias=True)
        out["aspect"] = tf.image.resize(image, [5, 5], preserve_aspect_ratio=True, antialias=True)
        out["up_aa_bicubic"] = tf.image.resize(image, [13, 10], method="bicubic", antialias=True)
        sel, sc, n = tf.raw_ops.NonMaxSuppressionV5(boxes=boxes16, scores=scores16, max_output_size=4, iou_threshold=tf.constant(0.5, tf.float16),
                                                    score_threshold=tf.constant(0.1, tf.float16), soft_nms_sigma=tf.constant(0.5, tf.float16))
        out["nms16_sel"], out["nms16_scores"], out["nms16_n"] = sel, sc, n
        out["crop16"] = tf.image.crop_and_resize(tf.cast(image, tf.float16), tf.cast(boxes16[:2], tf.float32), [0, 0], [3, 3])
        return out
    return one(model_dir, fn, [spec([1, 7, 9, 2], tf.float32, "image"), spec([None, 4], tf.float16, "boxes16"),
                               spec([None], tf.float16, "scores16")],
               {"image": img([1, 7, 9, 2], 35), "boxes16": BOXES.astype(np.float16) / 2, "scores16": SCORES.astype(np.float16)})


@case
def nms_padded_batched(model_dir):
    """tf.image.non_max_suppression_padded on batches: TF's pure-graph algorithm (while loop, sorting, tiling)."""
    def fn(boxes, scores):
        sel, n = tf.image.non_max_suppression_padded(boxes, scores, 4, iou_threshold=0.5, score_threshold=0.2,
                                                     pad_to_max_output_size=True, sorted_input=False, canonicalized_coordinates=False)
        return {"sel": sel, "n": n}
    rs = np.random.RandomState(36)
    boxes = np.stack([BOXES, BOXES[::-1] * 0.9], 0)
    scores = rs.uniform(0, 1, (2, 7)).astype(np.float32)
    return one(model_dir, fn, [spec([None, 7, 4], tf.float32, "boxes"), spec([None, 7], tf.float32, "scores")], {"boxes": boxes, "scores": scores})


@case
def keras_ops_image(model_dir):
    """keras.ops.image functions inside an exported Keras model (TF backend)."""
    import keras
    ki = keras.ops.image

    class Ops(keras.layers.Layer):
        def call(self, x):
            coords = keras.ops.convert_to_tensor(np.stack(np.meshgrid(np.linspace(-1, 7, 5), np.linspace(-1, 9, 6), indexing="ij")).astype(np.float32))
            outs = [
                ki.resize(x, (5, 4), interpolation="bicubic"), ki.resize(x, (4, 6), interpolation="lanczos3", antialias=True),
                ki.extract_patches(x, (2, 3), strides=(2, 2), padding="same"), ki.rgb_to_hsv(x), ki.hsv_to_rgb(x),
                ki.rgb_to_grayscale(x), ki.crop_images(x, 1, 2, target_height=4, target_width=5),
                ki.pad_images(x, 1, 2, target_height=10, target_width=12),
                ki.map_coordinates(x[0, :, :, 0], coords, order=1, fill_mode="reflect"),
            ]
            try:
                outs.append(ki.gaussian_blur(x, kernel_size=(3, 3), sigma=(1.0, 1.0)))
            except AttributeError:
                pass
            return outs

    inp = keras.Input((7, 9, 3), name="image")
    model = keras.Model(inp, Ops()(inp))
    model.export(model_dir, verbose=False)
    return {"serve": [{"image": img([1, 7, 9, 3], 37)}]}


@case
def keras_perspective_transform(model_dir):
    """keras.ops.image.perspective_transform: solves for the homography (MatrixSolve) then ImageProjectiveTransformV3."""
    import keras

    class Persp(keras.layers.Layer):
        def call(self, x):
            return keras.ops.image.perspective_transform(x, [[0, 0], [8, 0], [0, 6], [8, 6]], [[1, 0], [7, 1], [0, 5], [8, 6]],
                                                         interpolation="bilinear")

    inp = keras.Input((7, 9, 3), name="image")
    keras.Model(inp, Persp()(inp)).export(model_dir, verbose=False)
    return {"serve": [{"image": img([1, 7, 9, 3], 38)}]}


@case
def extract_volume_patches(model_dir):
    def fn(vol, vol_i):
        return {
            "valid": tf.extract_volume_patches(vol, [1, 2, 2, 3, 1], [1, 1, 2, 2, 1], "VALID"),
            "same": tf.extract_volume_patches(vol, [1, 2, 3, 2, 1], [1, 2, 2, 3, 1], "SAME"),
            "int": tf.extract_volume_patches(vol_i, [1, 1, 2, 2, 1], [1, 1, 1, 1, 1], "SAME"),
        }
    rs = np.random.RandomState(39)
    return one(model_dir, fn, [spec([None, None, None, None, 2], tf.float32, "vol"), spec([None, None, None, None, 1], tf.int32, "vol_i")],
               {"vol": img([1, 3, 5, 7, 2], 40), "vol_i": rs.randint(-9, 9, (2, 2, 3, 3, 1)).astype(np.int32)})


@case
def encode_png_bytes(model_dir):
    """EncodePng's exact bytes (libpng + zlib as TF builds them) at default and explicit compression levels."""
    def fn(rgb, rgba16, gray):
        return {"rgb": tf.io.encode_png(rgb), "rgb9": tf.io.encode_png(rgb, compression=9), "rgb0": tf.io.encode_png(rgb, compression=0),
                "rgb1": tf.io.encode_png(rgb, compression=1), "rgb3": tf.io.encode_png(rgb, compression=3),
                "rgba16": tf.io.encode_png(rgba16), "gray": tf.io.encode_png(gray), "gray_alpha": tf.io.encode_png(rgba16[:, :, :2])}
    rs = np.random.RandomState(41)
    yy, xx = np.mgrid[0:11, 0:13]
    rgb = np.stack([yy * 20, xx * 19, (yy * xx) % 256], -1).astype(np.uint8)
    return one(model_dir, fn, [spec([None, None, 3], tf.uint8, "rgb"), spec([None, None, 4], tf.uint16, "rgba16"),
                               spec([None, None, 1], tf.uint8, "gray")],
               [{"rgb": rgb, "rgba16": rs.randint(0, 65536, (3, 4, 4)).astype(np.uint16), "gray": rgb[:, :, :1]},
                # big enough for a full 32 KB window and several 8 KB IDAT chunks
                {"rgb": np.concatenate([rs.randint(0, 256, (40, 90, 3)), np.tile(rgb[:1, :1], (40, 90, 1))], 0).astype(np.uint8),
                 "rgba16": (np.arange(20 * 30 * 4).reshape(20, 30, 4) * 97 % 65536).astype(np.uint16),
                 "gray": rs.randint(0, 4, (60, 200, 1)).astype(np.uint8)}])


@case
def image_projective_transform_int(model_dir):
    """Integer images through ImageProjectiveTransformV3: bilinear results truncate, fill_value cast to the type."""
    def fn(image, image_i):
        t = tf.constant([[0.8, 0.2, 0.7, -0.1, 1.1, -0.6, 0.003, -0.004]], tf.float32)
        out = {}
        for interp in ("NEAREST", "BILINEAR"):
            out["u8_" + interp] = tf.raw_ops.ImageProjectiveTransformV3(images=image, transforms=t, output_shape=[7, 9], interpolation=interp,
                                                                         fill_mode="CONSTANT", fill_value=3.7)
            out["i32_" + interp] = tf.raw_ops.ImageProjectiveTransformV3(images=image_i, transforms=t, output_shape=[5, 6], interpolation=interp,
                                                                          fill_mode="WRAP", fill_value=-2.5)
        return out
    rs = np.random.RandomState(42)
    return one(model_dir, fn, [spec([1, 7, 9, 3], tf.uint8, "image"), spec([1, 7, 9, 1], tf.int32, "image_i")],
               {"image": rs.randint(0, 256, (1, 7, 9, 3)).astype(np.uint8), "image_i": rs.randint(-100, 100, (1, 7, 9, 1)).astype(np.int32)})


@case
def resize_edge_sizes(model_dir):
    """Resizes to and from one pixel, extreme ratios, every mode."""
    def fn(image, one_px):
        out = {}
        for method in ("bilinear", "nearest", "bicubic", "area"):
            for k, v in resize_all(method, image, [1, 1]).items():
                out[f"{method}_{k}_to1"] = v
            for k, v in resize_all(method, one_px, [3, 4]).items():
                out[f"{method}_{k}_from1"] = v
            for k, v in resize_all(method, image, [2, 17]).items():
                out[f"{method}_{k}_2x17"] = v
        return out
    return one(model_dir, fn, [spec([2, 7, 9, 1], tf.float32, "image"), spec([1, 1, 1, 2], tf.float32, "one_px")],
               {"image": img([2, 7, 9, 1], 43), "one_px": np.array([[[[0.25, -3.0]]]], np.float32)})


@case
def nms_random_many(model_dir):
    """Many random boxes (some flipped, some degenerate, duplicate scores) through every NMS flavour."""
    def fn(boxes, scores):
        out = {}
        for i, (iou, st, sigma) in enumerate(((0.3, 0.0, 0.0), (0.7, 0.2, 0.0), (0.5, 0.05, 0.25), (0.0, -1.0, 0.0), (1.0, 0.5, 1.0))):
            sel, sc, n = tf.raw_ops.NonMaxSuppressionV5(boxes=boxes, scores=scores, max_output_size=12, iou_threshold=iou,
                                                        score_threshold=st, soft_nms_sigma=sigma, pad_to_max_output_size=True)
            out[f"sel{i}"], out[f"sc{i}"], out[f"n{i}"] = sel, sc, n
        r = tf.image.combined_non_max_suppression(boxes[None, :, None, :], tf.stack([scores, 1 - scores, scores * scores], -1)[None],
                                                  5, 9, iou_threshold=0.4, score_threshold=0.1)
        out.update({"c_boxes": r.nmsed_boxes, "c_scores": r.nmsed_scores, "c_classes": r.nmsed_classes, "c_n": r.valid_detections})
        # 12 per class x 4 classes: 48 slots, past std::sort's 16-element insertion-sort threshold
        r2 = tf.image.combined_non_max_suppression(boxes[None, :, None, :], tf.stack([scores, 1 - scores, scores * scores, tf.round(scores * 3) / 3], -1)[None],
                                                   12, 30, iou_threshold=0.6, score_threshold=0.05, pad_per_class=True, clip_boxes=False)
        out.update({"c2_boxes": r2.nmsed_boxes, "c2_scores": r2.nmsed_scores, "c2_classes": r2.nmsed_classes, "c2_n": r2.valid_detections})
        return out
    runs = []
    for seed in (44, 45, 46):
        rs = np.random.RandomState(seed)
        b = rs.uniform(-0.2, 1.2, (40, 4)).astype(np.float32)
        b[::7, 2] = b[::7, 0]  # zero height
        sc = np.round(rs.uniform(0, 1, 40), 1).astype(np.float32)  # many equal scores
        runs.append({"boxes": b, "scores": sc})
    return one(model_dir, fn, [spec([None, 4], tf.float32, "boxes"), spec([None], tf.float32, "scores")], runs)


@case
def crop_resize_random(model_dir):
    """Random boxes (inside, outside, flipped, tiny) and odd crop sizes; random resize targets."""
    def fn(image, boxes, ind):
        out = {}
        for i, size in enumerate(([1, 5], [6, 1], [3, 7], [9, 4])):
            out[f"bl{i}"] = tf.image.crop_and_resize(image, boxes, ind, size, extrapolation_value=-0.5)
            out[f"nn{i}"] = tf.image.crop_and_resize(image, boxes, ind, size, method="nearest")
        for i, size in enumerate(([5, 3], [10, 14], [2, 2])):
            for name, op in (("bicubic", tf.raw_ops.ResizeBicubic), ("bilinear", tf.raw_ops.ResizeBilinear)):
                out[f"{name}{i}_half"] = op(images=image, size=size, half_pixel_centers=True)
                out[f"{name}{i}_align"] = op(images=image, size=size, align_corners=True)
            out[f"area{i}"] = tf.raw_ops.ResizeArea(images=image, size=size)
        return out
    rs = np.random.RandomState(47)
    return one(model_dir, fn, [spec([3, 6, 8, 2], tf.float32, "image"), spec([None, 4], tf.float32, "boxes"), spec([None], tf.int32, "ind")],
               {"image": rs.normal(size=(3, 6, 8, 2)).astype(np.float32), "boxes": rs.uniform(-0.3, 1.3, (12, 4)).astype(np.float32),
                "ind": rs.randint(0, 3, 12).astype(np.int32)})
