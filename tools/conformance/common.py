"""Helpers the case modules share."""
import os

import tensorflow as tf


def spec(shape, dtype, name=None):
    return tf.TensorSpec(shape, dtype, name=name)


def save_module(model_dir, module, **fns):
    """Saves `module` with each keyword as a signature: name=tf.function with an input_signature."""
    tf.saved_model.save(module, model_dir, signatures=fns)


def write_asset(tmp_root, name, lines):
    """A vocabulary file to be captured as an asset (copied into assets/ on save)."""
    os.makedirs(tmp_root, exist_ok=True)
    path = os.path.join(tmp_root, name)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path
