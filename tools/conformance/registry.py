"""The list of conformance cases; family modules register theirs with @case."""
import inspect
import os

CASES = []


def case(fn):
    """Registers `fn(model_dir) -> {signature: [feeds, ...]}` under its module's family."""
    module = os.path.basename(inspect.getfile(fn))[len("cases_"):-len(".py")]
    CASES.append((module, fn.__name__, fn))
    return fn
