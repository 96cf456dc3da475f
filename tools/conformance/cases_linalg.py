"""Linear algebra: decompositions, solvers, determinants, band/diagonal ops,
batch matmul and einsum.

What is compared where TF's answer is not unique:
  - SelfAdjointEigV2: eigenvalues (ascending), |v| and the reconstruction
    v·diag(e)·vᵀ; and, in the *_vectors_signs cases, v itself: an
    eigenvector's sign is arbitrary mathematically, but TF's comes from
    Eigen's algorithm (Householder tridiagonalization + implicit QR), which
    the runtime follows step by step, so the signs are compared too;
  - Svd: singular values (descending), |u| and |v| (distinct singular values;
    for full_matrices only one extra column, so it is determined up to sign)
    and the reconstruction u·diag(s)·vᵀ; and in svd_vectors_signs u and v
    themselves (TF's signs come from Eigen's JacobiSVD for < 16 columns,
    which the runtime reproduces);
  - Qr: q and r themselves (Householder QR is deterministic: TF/Eigen make
    r's diagonal -sign(a_kk)·norm), plus q·r;
  - Cholesky of a matrix that is not positive definite: TF fills the lower
    triangle with NaN and leaves the upper unspecified, so only
    band_part(l, -1, 0) is compared.
"""
import numpy as np
import tensorflow as tf

from common import save_module, spec
from registry import case


def one(model_dir, fn, specs, feeds):
    m = tf.Module()
    save_module(model_dir, m, serving_default=tf.function(fn, input_signature=specs))
    return {"serving_default": feeds if isinstance(feeds, list) else [feeds]}


def spd(n, batch=(), seed=0, dtype=np.float32):
    rng = np.random.RandomState(seed)
    a = rng.uniform(-1, 1, size=batch + (n, n))
    return (a @ np.swapaxes(a, -1, -2) + n * np.eye(n)).round(3).astype(dtype)


def well(shape, seed=0, dtype=np.float32):
    """Well-conditioned square matrices: random plus a dominant diagonal."""
    rng = np.random.RandomState(seed)
    a = rng.uniform(-1, 1, size=shape)
    n = shape[-1]
    return (a + 3 * np.eye(n)).round(3).astype(dtype)


def rand(shape, seed=0, dtype=np.float32):
    return np.random.RandomState(seed).uniform(-2, 2, size=shape).round(3).astype(dtype)


# --- Cholesky ---------------------------------------------------------------

@case
def cholesky_batched(model_dir):
    def fn(x):
        return {"l": tf.linalg.cholesky(x)}
    return one(model_dir, fn, [spec([None, None, None], tf.float32, "x")],
               [{"x": spd(3, (2,), 1)}, {"x": spd(1, (3,), 2)}, {"x": np.zeros((2, 0, 0), np.float32)}])


@case
def cholesky_float64(model_dir):
    def fn(x):
        return {"l": tf.linalg.cholesky(x)}
    return one(model_dir, fn, [spec([None, None], tf.float64, "x")],
               [{"x": spd(4, (), 3, np.float64)}, {"x": np.array([[4, 2], [2, 5]], np.float64)}])


@case
def cholesky_not_positive_definite(model_dir):
    def fn(x):
        return {"lower": tf.linalg.band_part(tf.linalg.cholesky(x), -1, 0)}
    return one(model_dir, fn, [spec([None, 2, 2], tf.float32, "x")],
               {"x": np.array([[[4, 1], [1, 2]], [[1, 2], [2, 1]], [[-1, 0], [0, 1]]], np.float32)})


# --- Inverse, determinant, solve --------------------------------------------

@case
def matrix_inverse(model_dir):
    def fn(x):
        return {"inv": tf.linalg.inv(x), "inv_adj": tf.linalg.inv(x, adjoint=True)}
    return one(model_dir, fn, [spec([None, None, None], tf.float32, "x")],
               [{"x": well((2, 3, 3), 4)}, {"x": np.array([[[0, 1], [1, 0]]], np.float32)}, {"x": np.zeros((1, 0, 0), np.float32)}])


@case
def matrix_inverse_float64(model_dir):
    def fn(x):
        return {"inv": tf.linalg.inv(x)}
    return one(model_dir, fn, [spec([None, None], tf.float64, "x")], {"x": well((4, 4), 5, np.float64)})


@case
def determinants(model_dir):
    def fn(x):
        sign, logabs = tf.linalg.slogdet(x)
        return {"det": tf.linalg.det(x), "sign": sign, "log_abs": logabs}
    return one(model_dir, fn, [spec([None, None, None], tf.float32, "x")],
               [{"x": well((3, 3, 3), 6)},
                {"x": np.array([[[1, 2], [2, 4]], [[2, 4], [1, 2]], [[0, 1], [1, 0]], [[-2, 0], [0, 3]]], np.float32)},
                {"x": np.zeros((2, 0, 0), np.float32)}])


@case
def determinants_float64(model_dir):
    def fn(x):
        sign, logabs = tf.linalg.slogdet(x)
        return {"det": tf.linalg.det(x), "sign": sign, "log_abs": logabs}
    return one(model_dir, fn, [spec([None, None, None], tf.float64, "x")],
               [{"x": well((2, 4, 4), 7, np.float64)}, {"x": -well((1, 5, 5), 8, np.float64)}])


@case
def matrix_solve(model_dir):
    def fn(a, b):
        return {"x": tf.linalg.solve(a, b), "x_adj": tf.linalg.solve(a, b, adjoint=True)}
    return one(model_dir, fn, [spec([None, None, None], tf.float32, "a"), spec([None, None, None], tf.float32, "b")],
               [{"a": well((2, 3, 3), 9), "b": rand((2, 3, 2), 10)}, {"a": well((1, 2, 2), 11), "b": rand((1, 2, 0), 12)}])


@case
def matrix_solve_float64(model_dir):
    def fn(a, b):
        return {"x": tf.linalg.solve(a, b)}
    return one(model_dir, fn, [spec([None, None], tf.float64, "a"), spec([None, None], tf.float64, "b")],
               {"a": well((4, 4), 13, np.float64), "b": rand((4, 3), 14, np.float64)})


@case
def triangular_solve(model_dir):
    def fn(a, b):
        return {
            "lower": tf.linalg.triangular_solve(a, b, lower=True),
            "upper": tf.linalg.triangular_solve(a, b, lower=False),
            "lower_adj": tf.linalg.triangular_solve(a, b, lower=True, adjoint=True),
            "upper_adj": tf.linalg.triangular_solve(a, b, lower=False, adjoint=True),
        }
    return one(model_dir, fn, [spec([None, None, None], tf.float32, "a"), spec([None, None, None], tf.float32, "b")],
               [{"a": well((2, 3, 3), 15), "b": rand((2, 3, 2), 16)},
                {"a": well((1, 3, 3), 17), "b": rand((4, 3, 1), 18)}])  # batch broadcast


@case
def triangular_solve_broadcast_float64(model_dir):
    def fn(a, b):
        return {"x": tf.raw_ops.MatrixTriangularSolve(matrix=a, rhs=b, lower=False, adjoint=False)}
    return one(model_dir, fn, [spec([None, None, None, None], tf.float64, "a"), spec([None, None, None], tf.float64, "b")],
               {"a": well((2, 1, 3, 3), 19, np.float64), "b": rand((3, 3, 2), 20, np.float64)})


# --- QR, eigen, SVD ---------------------------------------------------------

@case
def qr(model_dir):
    def fn(x):
        q, r = tf.linalg.qr(x)
        qf, rf = tf.linalg.qr(x, full_matrices=True)
        return {"q": q, "r": r, "q_full": qf, "r_full": rf, "qr": q @ r}
    return one(model_dir, fn, [spec([None, None, None], tf.float32, "x")],
               [{"x": rand((2, 4, 3), 21)}, {"x": rand((1, 2, 4), 22)}, {"x": rand((2, 3, 3), 23)}])


@case
def qr_float64(model_dir):
    def fn(x):
        q, r = tf.linalg.qr(x)
        qf, rf = tf.linalg.qr(x, full_matrices=True)
        return {"q": q, "r": r, "q_full": qf, "r_full": rf}
    return one(model_dir, fn, [spec([None, None], tf.float64, "x")],
               [{"x": rand((5, 3), 24, np.float64)}, {"x": np.array([[1, 2], [3, 4], [5, 6]], np.float64)},
                {"x": np.array([[0, 1], [0, 1], [0, 1]], np.float64)}])


def eig_outputs(x):
    e, v = tf.linalg.eigh(x)
    recon = v @ tf.linalg.diag(e) @ tf.linalg.matrix_transpose(v)
    return {"e": e, "abs_v": tf.abs(v), "recon": recon, "e_only": tf.linalg.eigvalsh(x)}


@case
def self_adjoint_eig(model_dir):
    return one(model_dir, eig_outputs, [spec([None, None, None], tf.float32, "x")],
               [{"x": spd(3, (2,), 25)}, {"x": np.array([[[2, 1, 0], [1, 3, 1], [0, 1, 4]]], np.float32)},
                {"x": np.array([[[1, 0], [0, -2]]], np.float32)}])


@case
def self_adjoint_eig_float64(model_dir):
    return one(model_dir, eig_outputs, [spec([None, None], tf.float64, "x")],
               [{"x": spd(4, (), 26, np.float64)}, {"x": np.array([[2, 1, 0], [1, 3, 1], [0, 1, 4]], np.float64)}])


@case
def self_adjoint_eig_lower_triangle(model_dir):
    def fn(x):  # only the lower triangle is read
        e, v = tf.linalg.eigh(x)
        return {"e": e}
    return one(model_dir, fn, [spec([None, None], tf.float32, "x")],
               {"x": np.array([[2, 100, -7], [1, 3, 9], [0, 1, 4]], np.float32)})


def svd_outputs(x):
    s, u, v = tf.linalg.svd(x)
    recon = u @ tf.linalg.diag(s) @ tf.linalg.matrix_transpose(v)
    s_only = tf.linalg.svd(x, compute_uv=False)
    return {"s": s, "abs_u": tf.abs(u), "abs_v": tf.abs(v), "recon": recon, "s_only": s_only}


@case
def svd(model_dir):
    return one(model_dir, svd_outputs, [spec([None, None, None], tf.float32, "x")],
               [{"x": rand((2, 4, 3), 27)}, {"x": rand((1, 2, 4), 28)}, {"x": rand((1, 3, 3), 29)}])


@case
def svd_float64(model_dir):
    return one(model_dir, svd_outputs, [spec([None, None], tf.float64, "x")],
               [{"x": rand((5, 3), 30, np.float64)}, {"x": rand((3, 5), 31, np.float64)}])


@case
def svd_full_matrices(model_dir):
    def fn(x):
        s, u, v = tf.linalg.svd(x, full_matrices=True)
        return {"s": s, "abs_u": tf.abs(u), "abs_v": tf.abs(v)}
    return one(model_dir, fn, [spec([None, None, None], tf.float32, "x")],
               [{"x": rand((2, 3, 2), 32)}, {"x": rand((1, 2, 3), 33)}])


# --- Band part, diagonals ---------------------------------------------------

@case
def band_part(model_dir):
    def fn(x, lo, hi):
        return {"band": tf.linalg.band_part(x, lo, hi), "lower": tf.linalg.band_part(x, -1, 0),
                "upper": tf.linalg.band_part(x, 0, -1), "diag": tf.linalg.band_part(x, 0, 0)}
    return one(model_dir, fn, [spec([None, None, None], tf.float32, "x"), spec([], tf.int64, "lo"), spec([], tf.int64, "hi")],
               [{"x": rand((2, 3, 4), 34), "lo": np.int64(1), "hi": np.int64(2)},
                {"x": rand((1, 4, 3), 35), "lo": np.int64(-1), "hi": np.int64(0)},
                {"x": rand((1, 3, 3), 36), "lo": np.int64(3), "hi": np.int64(3)}])


@case
def band_part_int_float64(model_dir):
    def fn(a, b):
        return {"i": tf.linalg.band_part(a, 1, 0), "d": tf.linalg.band_part(b, 0, 1)}
    return one(model_dir, fn, [spec([None, None], tf.int32, "a"), spec([None, None, None], tf.float64, "b")],
               {"a": np.arange(12, dtype=np.int32).reshape(3, 4), "b": rand((2, 3, 3), 37, np.float64)})


@case
def matrix_diag_v3(model_dir):
    def fn(d, m):
        return {
            "diag": tf.linalg.diag(d[..., 0, :]),
            "diag_k": tf.linalg.diag(d, k=(-1, 0), num_rows=4, num_cols=3, padding_value=9),
            "diag_left": tf.linalg.diag(d, k=(0, 1), align="LEFT_RIGHT"),
            "part": tf.linalg.diag_part(m),
            "part_k": tf.linalg.diag_part(m, k=(-1, 1), padding_value=-1),
            "part_left": tf.linalg.diag_part(m, k=(-1, 1), align="LEFT_LEFT"),
            "set": tf.linalg.set_diag(m, m[..., 0, :3] * 10),
            "set_k": tf.linalg.set_diag(m, m[..., 1, :3] * 10, k=1),
        }
    return one(model_dir, fn, [spec([None, 2, 3], tf.float32, "d"), spec([None, 3, 4], tf.float32, "m")],
               {"d": rand((2, 2, 3), 38), "m": rand((2, 3, 4), 39)})


# --- Batch matmul -----------------------------------------------------------

@case
def batch_matmul_adjoint_broadcast(model_dir):
    def fn(a, b, c):
        return {
            "ab": tf.raw_ops.BatchMatMulV2(x=a, y=b),
            "adj_x": tf.raw_ops.BatchMatMulV2(x=tf.linalg.matrix_transpose(a), y=b, adj_x=True),
            "adj_y": tf.raw_ops.BatchMatMulV2(x=a, y=tf.linalg.matrix_transpose(b), adj_y=True),
            "adj_xy": tf.raw_ops.BatchMatMulV2(x=tf.linalg.matrix_transpose(a), y=tf.linalg.matrix_transpose(b), adj_x=True, adj_y=True),
            "bcast": tf.raw_ops.BatchMatMulV2(x=c, y=b),
            "v3": tf.raw_ops.BatchMatMulV3(x=a, y=b, Tout=tf.float32, adj_y=False),
        }
    return one(model_dir, fn, [spec([None, 1, 2, 3], tf.float32, "a"), spec([None, 3, 4], tf.float32, "b"), spec([2, 3], tf.float32, "c")],
               {"a": rand((2, 1, 2, 3), 40), "b": rand((3, 3, 4), 41), "c": rand((2, 3), 42)})


@case
def batch_matmul_float64_int(model_dir):
    def fn(a, b, i, j):
        return {
            "d": tf.raw_ops.BatchMatMulV2(x=a, y=b, adj_x=True),
            "i": tf.raw_ops.BatchMatMulV2(x=i, y=j, adj_y=True),
        }
    return one(model_dir, fn, [spec([None, 3, 2], tf.float64, "a"), spec([1, 3, 2], tf.float64, "b"),
                               spec([2, 2, 3], tf.int32, "i"), spec([2, 3], tf.int32, "j")],
               {"a": rand((2, 3, 2), 43, np.float64), "b": rand((1, 3, 2), 44, np.float64),
                "i": np.arange(12, dtype=np.int32).reshape(2, 2, 3) - 5, "j": np.arange(6, dtype=np.int32).reshape(2, 3)})


# --- Einsum -----------------------------------------------------------------

EINSUM_TWO = [
    ("matmul", "ij,jk->ik", (2, 3), (3, 4)),
    ("batch_matmul", "bij,bjk->bik", (2, 2, 3), (2, 3, 4)),
    ("outer", "i,j->ij", (3,), (4,)),
    ("dot", "i,i->", (4,), (4,)),
    ("hadamard", "ij,ij->ij", (2, 3), (2, 3)),
    ("ellipsis", "...ij,...jk->...ik", (2, 2, 3), (2, 3, 2)),
    ("ellipsis_bcast", "...ij,jk->...ik", (2, 2, 2, 3), (3, 2)),
    ("bcast_batch", "...ij,...jk->...ik", (2, 1, 2, 3), (3, 3, 4)),
    ("attention", "bqhd,bkhd->bhqk", (1, 2, 2, 3), (1, 3, 2, 3)),
    ("attention_out", "bhqk,bkhd->bqhd", (1, 2, 2, 3), (1, 3, 2, 4)),
    ("dense", "abc,cd->abd", (2, 3, 4), (4, 2)),
    ("sum_both", "ij,kl->", (2, 3), (2, 2)),
    ("contract_two", "ijk,jkl->il", (2, 3, 4), (3, 4, 2)),
    ("implicit", "ij,jk", (2, 3), (3, 2)),
    ("trace_product", "ii,jk->jk", (3, 3), (2, 2)),
    ("diag_mul", "ii,ij->ij", (3, 3), (3, 2)),
    ("transpose_out", "ij,jk->ki", (2, 3), (3, 4)),
]

EINSUM_ONE = [
    ("transpose", "ij->ji", (2, 3)),
    ("trace", "ii->", (3, 3)),
    ("diagonal", "ii->i", (3, 3)),
    ("batch_diagonal", "bii->bi", (2, 3, 3)),
    ("batch_trace", "...ii->...", (2, 2, 3, 3)),
    ("sum_all", "ij->", (2, 3)),
    ("sum_rows", "ij->j", (2, 3)),
    ("permute", "abc->cab", (2, 3, 4)),
    ("ellipsis_transpose", "...ij->...ji", (2, 2, 3)),
    ("implicit_sorted", "ba", (2, 3)),
    ("repeated_three", "iij->j", (2, 2, 3)),
    ("identity", "ij->ij", (2, 3)),
]


@case
def einsum_two_operands(model_dir):
    def fn(*xs):
        return {name: tf.einsum(eq, xs[2 * k], xs[2 * k + 1]) for k, (name, eq, _, _) in enumerate(EINSUM_TWO)}
    specs, feeds = [], {}
    for k, (name, _, sa, sb) in enumerate(EINSUM_TWO):
        specs += [spec(list(sa), tf.float32, f"a{k}"), spec(list(sb), tf.float32, f"b{k}")]
        feeds[f"a{k}"] = rand(sa, 100 + k)
        feeds[f"b{k}"] = rand(sb, 200 + k)
    m = tf.Module()
    save_module(model_dir, m, serving_default=tf.function(fn, input_signature=specs))
    return {"serving_default": [feeds]}


@case
def einsum_one_operand(model_dir):
    def fn(*xs):
        return {name: tf.einsum(eq, xs[k]) for k, (name, eq, _) in enumerate(EINSUM_ONE)}
    specs, feeds = [], {}
    for k, (name, _, shape) in enumerate(EINSUM_ONE):
        specs.append(spec(list(shape), tf.float32, f"x{k}"))
        feeds[f"x{k}"] = rand(shape, 300 + k)
    m = tf.Module()
    save_module(model_dir, m, serving_default=tf.function(fn, input_signature=specs))
    return {"serving_default": [feeds]}


@case
def einsum_float64_int(model_dir):
    def fn(a, b, i, j):
        return {"d": tf.einsum("bij,bjk->bik", a, b), "trace": tf.einsum("bii->b", a[:, :, :2]),
                "i": tf.einsum("ij,kj->ik", i, j), "idiag": tf.einsum("ii->i", i[:, :2])}
    return one(model_dir, fn, [spec([2, 2, 3], tf.float64, "a"), spec([2, 3, 2], tf.float64, "b"),
                               spec([2, 3], tf.int32, "i"), spec([4, 3], tf.int32, "j")],
               {"a": rand((2, 2, 3), 45, np.float64), "b": rand((2, 3, 2), 46, np.float64),
                "i": np.arange(6, dtype=np.int32).reshape(2, 3), "j": np.arange(12, dtype=np.int32).reshape(4, 3) - 6})


@case
def einsum_three_operands(model_dir):
    def fn(a, b, c):  # tf.einsum splits this into two-operand Einsum ops
        return {"y": tf.einsum("ij,jk,kl->il", a, b, c)}
    return one(model_dir, fn, [spec([2, 3], tf.float32, "a"), spec([3, 4], tf.float32, "b"), spec([4, 2], tf.float32, "c")],
               {"a": rand((2, 3), 47), "b": rand((3, 4), 48), "c": rand((4, 2), 49)})


# --- Larger and batched float64 decompositions --------------------------------

@case
def decompositions_batched_float64(model_dir):
    def fn(x, s):
        e, v = tf.linalg.eigh(s)
        sv, u, w = tf.linalg.svd(x)
        q, r = tf.linalg.qr(x)
        return {"e": e, "abs_v": tf.abs(v), "s": sv, "abs_u": tf.abs(u), "abs_w": tf.abs(w), "q": q, "r": r,
                "inv": tf.linalg.inv(s), "chol": tf.linalg.cholesky(s), "det": tf.linalg.det(s)}
    return one(model_dir, fn, [spec([None, None, 4, 3], tf.float64, "x"), spec([None, None, 3, 3], tf.float64, "s")],
               {"x": rand((2, 2, 4, 3), 50, np.float64), "s": spd(3, (2, 2), 51, np.float64)})


@case
def decompositions_8x8_float32(model_dir):
    def fn(x, s):
        e, v = tf.linalg.eigh(s)
        sv, u, w = tf.linalg.svd(x)
        return {"e": e, "abs_v": tf.abs(v), "s": sv, "recon": u @ tf.linalg.diag(sv) @ tf.linalg.matrix_transpose(w),
                "inv": tf.linalg.inv(x + 6 * tf.eye(8)), "chol": tf.linalg.cholesky(s), "logdet": tf.linalg.logdet(s)}
    return one(model_dir, fn, [spec([8, 8], tf.float32, "x"), spec([8, 8], tf.float32, "s")],
               {"x": rand((8, 8), 52), "s": spd(8, (), 53)})


# --- tf.linalg functions built from these ops ---------------------------------

@case
def linalg_composites(model_dir):
    def fn(a, s, b):
        chol = tf.linalg.cholesky(s)
        return {
            "pinv": tf.linalg.pinv(a),
            "logdet": tf.linalg.logdet(s),
            "cholesky_solve": tf.linalg.cholesky_solve(chol, b),
            "trace": tf.linalg.trace(s),
            "rank": tf.linalg.matrix_rank(a),
            "expm": tf.linalg.expm(s / 10),
            "adjoint": tf.linalg.adjoint(a),
            "matvec": tf.linalg.matvec(s, b[..., 0]),
            "normalize": tf.linalg.normalize(a)[0],
            "global_norm": tf.linalg.global_norm([a, s]),
            "cross": tf.linalg.cross(b[..., 0], b[..., 1]),
        }
    return one(model_dir, fn, [spec([None, 4, 3], tf.float32, "a"), spec([None, 3, 3], tf.float32, "s"), spec([None, 3, 2], tf.float32, "b")],
               {"a": rand((2, 4, 3), 54), "s": spd(3, (2,), 55), "b": rand((2, 3, 2), 56)})


# --- LU and least squares -----------------------------------------------------

@case
def lu(model_dir):
    def fn(x, b):
        lu_, p = tf.linalg.lu(x)
        return {"lu": lu_, "p": p, "p64": tf.linalg.lu(x, output_idx_type=tf.int64)[1],
                "solve": tf.linalg.lu_solve(lu_, p, b), "reconstruct": tf.linalg.lu_reconstruct(lu_, p)}
    return one(model_dir, fn, [spec([None, 3, 3], tf.float32, "x"), spec([None, 3, 1], tf.float32, "b")],
               {"x": np.concatenate([well((1, 3, 3), 57), np.array([[[1, 2, 3], [4, 5, 6], [7, 8, 10]]], np.float32)]),
                "b": rand((2, 3, 1), 58)})


@case
def lu_float64(model_dir):
    def fn(x):
        lu_, p = tf.linalg.lu(x)
        return {"lu": lu_, "p": p}
    return one(model_dir, fn, [spec([None, None], tf.float64, "x")],
               [{"x": rand((5, 5), 59, np.float64)}, {"x": np.array([[0, 1, 0], [0, 0, 1], [1, 0, 0]], np.float64)}])


@case
def lstsq_float64(model_dir):
    def fn(a, b, w, c):
        return {"fast": tf.linalg.lstsq(a, b), "l2": tf.linalg.lstsq(a, b, l2_regularizer=0.5),
                "slow": tf.linalg.lstsq(a, b, fast=False), "wide_fast": tf.linalg.lstsq(w, c),
                "wide_l2": tf.linalg.lstsq(w, c, l2_regularizer=0.25), "wide_slow": tf.linalg.lstsq(w, c, fast=False)}
    return one(model_dir, fn, [spec([None, 5, 3], tf.float64, "a"), spec([None, 5, 2], tf.float64, "b"),
                               spec([None, 2, 4], tf.float64, "w"), spec([None, 2, 1], tf.float64, "c")],
               {"a": rand((2, 5, 3), 60, np.float64), "b": rand((2, 5, 2), 61, np.float64),
                "w": rand((2, 2, 4), 62, np.float64), "c": rand((2, 2, 1), 63, np.float64)})


@case
def lstsq_float32(model_dir):
    def fn(a, b):
        return {"fast": tf.linalg.lstsq(a, b), "slow": tf.linalg.lstsq(a, b, fast=False)}
    a = np.array([[2, 0, 1], [0, 3, 0], [1, 0, 2], [0, 1, 0]], np.float32)
    return one(model_dir, fn, [spec([4, 3], tf.float32, "a"), spec([4, 2], tf.float32, "b")],
               {"a": a, "b": rand((4, 2), 64)})


# --- Eigenvectors themselves (the runtime follows Eigen's algorithm, so signs match) ---

def sym(n, seed, dtype):
    a = np.random.RandomState(seed).uniform(-2, 2, size=(n, n))
    return ((a + a.T) / 2).round(3).astype(dtype)


@case
def self_adjoint_eig_vectors_signs(model_dir):
    def fn(x2, x3, x4, x6, x8):
        return {f"v{k}": tf.linalg.eigh(x)[1] for k, x in zip((2, 3, 4, 6, 8), (x2, x3, x4, x6, x8))}
    sizes = (2, 3, 4, 6, 8)
    return one(model_dir, fn, [spec([None, n, n], tf.float64, f"x{n}") for n in sizes],
               [{f"x{n}": np.stack([sym(n, 100 * n + s, np.float64) for s in range(4)]) for n in sizes},
                {f"x{n}": np.stack([spd(n, (), 7 * n + s, np.float64) for s in range(3)]) for n in sizes}])


@case
def self_adjoint_eig_vectors_signs_float32(model_dir):
    def fn(x2, x3, x5, x8):
        return {"v2": tf.linalg.eigh(x2)[1], "v3": tf.linalg.eigh(x3)[1], "v5": tf.linalg.eigh(x5)[1], "v8": tf.linalg.eigh(x8)[1]}
    return one(model_dir, fn, [spec([None, n, n], tf.float32, f"x{n}") for n in (2, 3, 5, 8)],
               {f"x{n}": np.stack([sym(n, 900 + 10 * n + s, np.float32) for s in range(6)]) for n in (2, 3, 5, 8)})


# --- Tridiagonal ----------------------------------------------------------------

@case
def tridiagonal(model_dir):
    def fn(d, b):
        sup, main, sub = d[..., 0:1, :], d[..., 1:2, :], d[..., 2:3, :]
        return {
            "solve": tf.linalg.tridiagonal_solve(d, b),
            "thomas": tf.linalg.tridiagonal_solve(d, b, partial_pivoting=False),
            "perturb": tf.linalg.tridiagonal_solve(d, b, perturb_singular=True),
            "matmul": tf.raw_ops.TridiagonalMatMul(superdiag=sup, maindiag=main, subdiag=sub, rhs=b),
        }
    d = np.array([[[1, 2, 3, 0], [4, 5, 6, 7], [0, 8, 9, 10]],      # Thomas hits a zero pivot -> NaN
                  [[1, -2, 0.5, 0], [5, 6, -7, 8], [0, 1, 2, 3]],
                  [[1, 1, 1, 0], [1, 1, 1, 1], [0, 1, 1, 1]]], np.float64)  # singular
    return one(model_dir, fn, [spec([None, 3, 4], tf.float64, "d"), spec([None, 4, 2], tf.float64, "b")],
               {"d": d, "b": rand((3, 4, 2), 65, np.float64)})


@case
def tridiagonal_float32(model_dir):
    def fn(d, b):
        return {"solve": tf.linalg.tridiagonal_solve(d, b), "thomas": tf.linalg.tridiagonal_solve(d, b, partial_pivoting=False)}
    d = np.array([[[1, -2, 0.5, 1, 0], [5, 6, -7, 8, 4], [0, 1, 2, 3, 1]]], np.float32)
    return one(model_dir, fn, [spec([None, 3, 5], tf.float32, "d"), spec([None, 5, 1], tf.float32, "b")],
               {"d": d, "b": rand((1, 5, 1), 66)})


@case
def svd_vectors_signs(model_dir):
    """U and V themselves: TF's signs come from Eigen's JacobiSVD (used below 16 columns), which the runtime follows."""
    def fn(a, b, c, d):
        out = {}
        for name, x in (("tall", a), ("wide", b), ("square", c)):
            s, u, v = tf.linalg.svd(x)
            out[f"{name}_s"], out[f"{name}_u"], out[f"{name}_v"] = s, u, v
            _, uf, vf = tf.linalg.svd(x, full_matrices=True)
            out[f"{name}_u_full"], out[f"{name}_v_full"] = uf, vf
        s, u, v = tf.linalg.svd(d)
        out["f32_s"], out["f32_u"], out["f32_v"] = s, u, v
        return out
    return one(model_dir, fn, [spec([None, 5, 3], tf.float64, "a"), spec([None, 2, 4], tf.float64, "b"),
                               spec([None, 4, 4], tf.float64, "c"), spec([None, 4, 3], tf.float32, "d")],
               {"a": rand((4, 5, 3), 70, np.float64), "b": rand((4, 2, 4), 71, np.float64),
                "c": rand((4, 4, 4), 72, np.float64), "d": rand((4, 4, 3), 73)})


@case
def empty_and_tiny_shapes(model_dir):
    def fn(z, sq, b, one_):
        q, r = tf.linalg.qr(z)
        qf, rf = tf.linalg.qr(z, full_matrices=True)
        s, u, v = tf.linalg.svd(z)
        sf, uf, vf = tf.linalg.svd(z, full_matrices=True)
        lu_, p = tf.linalg.lu(sq)
        e, ev = tf.linalg.eigh(sq)
        e1, v1 = tf.linalg.eigh(one_)
        return {"q": q, "r": r, "qf": qf, "rf": rf, "s": s, "u": u, "v": v, "sf": sf, "uf": uf, "vf": vf,
                "lu": lu_, "p": p, "e": e, "ev": ev, "inv": tf.linalg.inv(sq), "det": tf.linalg.det(sq),
                "chol": tf.linalg.cholesky(sq), "solve": tf.linalg.solve(sq, b), "tri": tf.linalg.triangular_solve(sq, b),
                "ls": tf.linalg.lstsq(z, tf.ones([tf.shape(z)[0], 2])), "e1": e1, "v1": v1,
                "chol1": tf.linalg.band_part(tf.linalg.cholesky(one_), -1, 0),
                "einsum": tf.einsum("ij,jk->ik", z, tf.zeros([0, 2])), "trace": tf.einsum("ii->", sq[0])}
    return one(model_dir, fn, [spec([None, None], tf.float32, "z"), spec([None, None, None], tf.float32, "sq"),
                               spec([None, None, 2], tf.float32, "b"), spec([None, 1, 1], tf.float32, "one_")],
               {"z": np.zeros((3, 0), np.float32), "sq": np.zeros((2, 0, 0), np.float32), "b": np.zeros((2, 0, 2), np.float32),
                "one_": np.array([[[-3]], [[4]]], np.float32)})


@case
def larger_matrices(model_dir):
    """20x16 SVD (TF switches to divide and conquer from 16 columns: signs of U/V are
    not compared there, only values, |U|, |V| and the reconstruction) and 20x20 eigh
    (Eigen's algorithm at every size: eigenvectors compared directly)."""
    def fn(a, s):
        sv, u, v = tf.linalg.svd(a)
        e, ev = tf.linalg.eigh(s)
        q, r = tf.linalg.qr(a)
        return {"s": sv, "abs_u": tf.abs(u), "abs_v": tf.abs(v), "recon": u @ tf.linalg.diag(sv) @ tf.linalg.matrix_transpose(v),
                "e": e, "v": ev, "q": q, "r": r, "inv": tf.linalg.inv(s + 25 * tf.eye(20, dtype=tf.float64)),
                "det": tf.linalg.det(s / 4)}
    return one(model_dir, fn, [spec([20, 16], tf.float64, "a"), spec([20, 20], tf.float64, "s")],
               {"a": rand((20, 16), 80, np.float64), "s": sym(20, 81, np.float64)})


@case
def degenerate_spectra(model_dir):
    """Repeated eigenvalues / zero singular values: vectors are not unique at all, TF's
    come from Eigen's algorithm, which the runtime follows; compared directly."""
    def fn(s3, a3, z):
        e, v = tf.linalg.eigh(s3)
        sv, u, w = tf.linalg.svd(a3)
        zs, zu, zv = tf.linalg.svd(z, full_matrices=True)
        return {"e": e, "v": v, "s": sv, "u": u, "w": w, "zs": zs, "zu": zu, "zv": zv}
    s3 = np.array([[[2, 1, 1], [1, 2, 1], [1, 1, 2]], np.eye(3), [[1, 1, 0], [1, 1, 0], [0, 0, 0]]], np.float64)
    a3 = np.array([[[1, 1, 0], [1, 1, 0], [0, 0, 0]], [[1, 2, 3], [2, 4, 6], [1, 1, 1]], np.zeros((3, 3))], np.float64)
    return one(model_dir, fn, [spec([None, 3, 3], tf.float64, "s3"), spec([None, 3, 3], tf.float64, "a3"), spec([None, 3, 2], tf.float64, "z")],
               {"s3": s3, "a3": a3, "z": np.array([[[0, 0], [0, 0], [0, 0]], [[1, 2], [2, 4], [3, 6]]], np.float64)})


@case
def banded_triangular_solve(model_dir):
    def fn(bl, bu, b):
        return {"lower": tf.linalg.banded_triangular_solve(bl, b, lower=True),
                "lower_adj": tf.linalg.banded_triangular_solve(bl, b, lower=True, adjoint=True),
                "upper": tf.linalg.banded_triangular_solve(bu, b, lower=False),
                "upper_adj": tf.linalg.banded_triangular_solve(bu, b, lower=False, adjoint=True)}
    bl = rand((2, 3, 5), 90, np.float64)
    bl[:, 0, :] = 3 + np.abs(bl[:, 0, :])
    bu = rand((2, 3, 5), 91, np.float64)
    bu[:, 2, :] = -3 - np.abs(bu[:, 2, :])
    return one(model_dir, fn, [spec([None, 3, 5], tf.float64, "bl"), spec([None, 3, 5], tf.float64, "bu"), spec([None, 5, 2], tf.float64, "b")],
               {"bl": bl, "bu": bu, "b": rand((2, 5, 2), 92, np.float64)})


@case
def lstsq_rank_deficient(model_dir):
    """fast=False gives the minimum-norm solution, unique even for rank-deficient matrices."""
    def fn(a, b):
        return {"x": tf.linalg.lstsq(a, b, fast=False)}
    return one(model_dir, fn, [spec([None, None], tf.float64, "a"), spec([None, None], tf.float64, "b")],
               [{"a": np.array([[1, 2], [2, 4], [3, 6]], np.float64), "b": np.array([[1], [2], [4]], np.float64)},
                {"a": np.array([[1, 2, 3], [2, 4, 6]], np.float64), "b": np.array([[1, 0], [3, 1]], np.float64)},
                {"a": np.array([[1, 0, 1], [0, 1, 1], [1, 1, 2], [2, 1, 3]], np.float64), "b": np.arange(8, dtype=np.float64).reshape(4, 2)}])
