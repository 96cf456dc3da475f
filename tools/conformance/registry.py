"""The list of conformance cases; family modules register theirs with @case."""
import inspect
import os

CASES = []


def case(fn):
    """Registers `fn(model_dir) -> {signature: [feeds, ...]}` under its module's family."""
    module = os.path.basename(inspect.getfile(fn))[len("cases_"):-len(".py")]
    CASES.append((module, fn.__name__, fn))
    return fn


def spectral(fn):
    """Marks a case whose outputs went through a float32 FFT: TF's own float32 FFT is accurate
    relative to the largest value of a transform, not to each value, so near-zero outputs are
    compared with an absolute floor of 1e-5 x the tensor's largest |value| (corpus.ts)."""
    fn.spectral = True
    return fn
