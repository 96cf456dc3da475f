// AssemblyScript (compiled to WebAssembly with SIMD128 by `npm run build:simd`),
// not TypeScript: tsconfig.json excludes this folder.
//
// Single-threaded float32 matrix products and convolutions that work in the
// memory of tfjs-backend-wasm itself (imported as env.memory): every pointer is
// a byte offset into that heap, operands are tfjs tensors' storage, and
// `scratch` is a block the caller allocated there with SCRATCH_BYTES bytes.
// The module has no data segments, globals or allocator of its own, so it
// never writes outside the output and the scratch block.
//
// Blocking as in Goto's GEMM: B is packed a KC × NC block at a time into
// panels of NR columns, A an MC × KC block at a time into panels of MR rows,
// and a 4 × 8 register tile (eight f32x4 accumulators) runs over each pair
// of panels. The epilogue (bias per column, clamp to [lo, hi]) runs on the
// last K block, before the tile is stored.

const MR: i32 = 4;
const NR: i32 = 8;
const KC: i32 = 256;
const MC: i32 = 64;
const NC: i32 = 2048;

/** Bytes of scratch the caller provides: packed B, packed A and one edge tile. */
export const SCRATCH_BYTES: i32 = (KC * NC + MC * KC + MR * NR) * 4 + 64;

/** Packs B[k0 .. k0+kc, j0 .. j0+nc] (element (p, j) at b + 4 (p brs + j bcs)) into NR-column panels, zero-padded. */
function packB(b: usize, brs: i32, bcs: i32, k0: i32, kc: i32, j0: i32, nc: i32, pb: usize): void {
  for (let jj = 0; jj < nc; jj += NR) {
    const w = min(NR, nc - jj);
    let out = pb + <usize>(jj * kc) * 4;
    let row = b + (<usize>k0 * brs + <usize>(j0 + jj) * bcs) * 4;
    const rowStep = <usize>brs * 4;
    if (w == NR && bcs == 1) {
      for (let p = 0; p < kc; p++) {
        v128.store(out, v128.load(row));
        v128.store(out, v128.load(row, 16), 16);
        out += NR * 4;
        row += rowStep;
      }
    } else {
      for (let p = 0; p < kc; p++) {
        for (let j = 0; j < NR; j++) {
          store<f32>(out + <usize>j * 4, j < w ? load<f32>(row + <usize>(j * bcs) * 4) : 0);
        }
        out += NR * 4;
        row += rowStep;
      }
    }
  }
}

/**
 * Stores q consecutive columns of four rows (r0..r3 point at each row's
 * first column, 0 for a row of zeros; columns contiguous) as q MR-element
 * groups at dst, four columns at a time through a 4 × 4 transpose.
 */
@inline
function interleave4(r0: usize, r1: usize, r2: usize, r3: usize, q: i32, dst: usize): usize {
  const zero = f32x4.splat(0);
  let c = 0;
  for (; c + 4 <= q; c += 4) {
    const off = <usize>c * 4;
    const v0 = r0 != 0 ? v128.load(r0 + off) : zero;
    const v1 = r1 != 0 ? v128.load(r1 + off) : zero;
    const v2 = r2 != 0 ? v128.load(r2 + off) : zero;
    const v3 = r3 != 0 ? v128.load(r3 + off) : zero;
    const t0 = i32x4.shuffle(v0, v1, 0, 4, 1, 5);
    const t1 = i32x4.shuffle(v0, v1, 2, 6, 3, 7);
    const t2 = i32x4.shuffle(v2, v3, 0, 4, 1, 5);
    const t3 = i32x4.shuffle(v2, v3, 2, 6, 3, 7);
    v128.store(dst, i32x4.shuffle(t0, t2, 0, 1, 4, 5));
    v128.store(dst, i32x4.shuffle(t0, t2, 2, 3, 6, 7), 16);
    v128.store(dst, i32x4.shuffle(t1, t3, 0, 1, 4, 5), 32);
    v128.store(dst, i32x4.shuffle(t1, t3, 2, 3, 6, 7), 48);
    dst += 64;
  }
  for (; c < q; c++) {
    const off = <usize>c * 4;
    store<f32>(dst, r0 != 0 ? load<f32>(r0 + off) : 0);
    store<f32>(dst, r1 != 0 ? load<f32>(r1 + off) : 0, 4);
    store<f32>(dst, r2 != 0 ? load<f32>(r2 + off) : 0, 8);
    store<f32>(dst, r3 != 0 ? load<f32>(r3 + off) : 0, 12);
    dst += 16;
  }
  return dst;
}

/** Address of A(first + i, k0), or 0 past the h valid rows. */
@inline
function rowAt(a: usize, ars: i32, acs: i32, first: i32, i: i32, h: i32, k0: i32): usize {
  return i < h ? a + (<usize>(first + i) * ars + <usize>k0 * acs) * 4 : 0;
}

/** Packs rows i0 .. i0+mc, columns k0 .. k0+kc of A (element (i, p) at a + 4 (i ars + p acs)) into MR-row panels. */
function packA(a: usize, ars: i32, acs: i32, i0: i32, mc: i32, k0: i32, kc: i32, pa: usize): void {
  for (let ii = 0; ii < mc; ii += MR) {
    const h = min(MR, mc - ii);
    let out = pa + <usize>(ii * kc) * 4;
    if (acs == 1) {
      // Rows contiguous: four at a time through the transpose.
      interleave4(rowAt(a, ars, acs, i0 + ii, 0, h, k0), rowAt(a, ars, acs, i0 + ii, 1, h, k0), rowAt(a, ars, acs, i0 + ii, 2, h, k0), rowAt(a, ars, acs, i0 + ii, 3, h, k0), kc, out);
    } else if (ars == 1 && h == MR) {
      // A transposed: the four rows of one column are adjacent.
      let src = a + (<usize>(i0 + ii) + <usize>k0 * acs) * 4;
      const step = <usize>acs * 4;
      for (let p = 0; p < kc; p++) {
        v128.store(out, v128.load(src));
        out += MR * 4;
        src += step;
      }
    } else {
      const step = <usize>acs * 4;
      for (let i = 0; i < MR; i++) {
        let dst = out + <usize>i * 4;
        let src = rowAt(a, ars, acs, i0 + ii, i, h, k0);
        for (let p = 0; p < kc; p++) {
          store<f32>(dst, src != 0 ? load<f32>(src) : 0);
          dst += MR * 4;
          if (src != 0) src += step;
        }
      }
    }
  }
}

/** Address of channel ci of row i's input pixel at tap offset (dy, dx), or 0 outside the image or past the rows. */
@inline
function tapAt(x: usize, imageBytes: usize, rows4: usize, i: i32, dy: i32, dx: i32, h: i32, w: i32, cin: i32, ci: i32): usize {
  const slot = rows4 + <usize>i * 12;
  const n = load<i32>(slot);
  if (n < 0) return 0;
  const iy = load<i32>(slot, 4) + dy;
  const ix = load<i32>(slot, 8) + dx;
  if (iy < 0 || iy >= h || ix < 0 || ix >= w) return 0;
  return x + <usize>n * imageBytes + <usize>((iy * w + ix) * cin + ci) * 4;
}

/**
 * Packs rows i0 .. i0+mc of the im2col matrix of an NHWC image (columns
 * k0 .. k0+kc, column p = (ky kW + kx) cin + ci) into MR-row panels: each row
 * is one output pixel, its columns the input window, zeros outside the image.
 * The four rows of a panel walk the same taps, so each run of channels of a
 * tap goes through interleave4.
 */
function packConvA(
  x: usize, h: i32, w: i32, cin: i32,
  kw: i32, sh: i32, sw: i32, dh: i32, dw: i32, padTop: i32, padLeft: i32, oh: i32, ow: i32,
  i0: i32, mc: i32, k0: i32, kc: i32, pa: usize, rows4: usize,
): void {
  const perImage = oh * ow;
  // rows4: four (image base, iy0, ix0) triples as i32, in the scratch block.
  for (let ii = 0; ii < mc; ii += MR) {
    const count = min(MR, mc - ii);
    for (let i = 0; i < MR; i++) {
      const slot = rows4 + <usize>i * 12;
      if (i >= count) {
        store<i32>(slot, -1);
        continue;
      }
      const r = i0 + ii + i;
      const n = r / perImage;
      const rem = r - n * perImage;
      const oy = rem / ow;
      const ox = rem - oy * ow;
      store<i32>(slot, n);
      store<i32>(slot, oy * sh - padTop, 4);
      store<i32>(slot, ox * sw - padLeft, 8);
    }
    let dst = pa + <usize>(ii * kc) * 4;
    let p = k0;
    const end = k0 + kc;
    while (p < end) {
      const tap = p / cin;
      const ci = p - tap * cin;
      const ky = tap / kw;
      const kx = tap - ky * kw;
      const run = min(cin - ci, end - p);
      const imageBytes = <usize>(h * w * cin) * 4;
      dst = interleave4(
        tapAt(x, imageBytes, rows4, 0, ky * dh, kx * dw, h, w, cin, ci),
        tapAt(x, imageBytes, rows4, 1, ky * dh, kx * dw, h, w, cin, ci),
        tapAt(x, imageBytes, rows4, 2, ky * dh, kx * dw, h, w, cin, ci),
        tapAt(x, imageBytes, rows4, 3, ky * dh, kx * dw, h, w, cin, ci),
        run, dst);
      p += run;
    }
  }
}

/** a × b + c per lane: fused (one rounding) in the FMA build, else a multiply then an add. */
@inline
function madd(a: v128, b: v128, c: v128): v128 {
  if (FMA) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

/**
 * One MR × NR tile over a K block: acc = pa · pb, then its h valid rows
 * stored by storeRow (row stride ldc elements).
 */
@inline
function tile(
  pa: usize, pb: usize, kc: i32, c: usize, ldc: i32, h: i32, w: i32,
  accumulate: bool, last: bool, bias: usize, lo: f32, hi: f32, t: usize,
): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = madd(a, b0, c00);
    c01 = madd(a, b1, c01);
    a = v128.load32_splat(pa, 4);
    c10 = madd(a, b0, c10);
    c11 = madd(a, b1, c11);
    a = v128.load32_splat(pa, 8);
    c20 = madd(a, b0, c20);
    c21 = madd(a, b1, c21);
    a = v128.load32_splat(pa, 12);
    c30 = madd(a, b0, c30);
    c31 = madd(a, b1, c31);
    pa += MR * 4;
    pb += NR * 4;
  }
  // The epilogue row by row (storeRow: accumulate, bias and clamp, edge columns).
  const step = <usize>ldc * 4;
  storeRow(c, c00, c01, w, accumulate, last, bias, lo, hi, t);
  if (h > 1) storeRow(c + step, c10, c11, w, accumulate, last, bias, lo, hi, t);
  if (h > 2) storeRow(c + 2 * step, c20, c21, w, accumulate, last, bias, lo, hi, t);
  if (h > 3) storeRow(c + 3 * step, c30, c31, w, accumulate, last, bias, lo, hi, t);
}

/**
 * Stores one row of one panel (v0, v1: its NR columns) to c: w valid
 * columns, adding c's values when `accumulate`, bias and clamp when `last`.
 */
@inline
function storeRow(c: usize, v0: v128, v1: v128, w: i32, accumulate: bool, last: bool, bias: usize, lo: f32, hi: f32, t: usize): void {
  if (w == NR) {
    if (accumulate) {
      v0 = f32x4.add(v0, v128.load(c));
      v1 = f32x4.add(v1, v128.load(c, 16));
    }
    if (last) {
      if (bias != 0) {
        v0 = f32x4.add(v0, v128.load(bias));
        v1 = f32x4.add(v1, v128.load(bias, 16));
      }
      if (lo > -Infinity) {
        v0 = f32x4.pmax(v0, f32x4.splat(lo));
        v1 = f32x4.pmax(v1, f32x4.splat(lo));
      }
      if (hi < Infinity) {
        v0 = f32x4.pmin(v0, f32x4.splat(hi));
        v1 = f32x4.pmin(v1, f32x4.splat(hi));
      }
    }
    v128.store(c, v0);
    v128.store(c, v1, 16);
    return;
  }
  v128.store(t, v0);
  v128.store(t, v1, 16);
  for (let j = 0; j < w; j++) {
    const dst = c + <usize>j * 4;
    let v = load<f32>(t + <usize>j * 4);
    if (accumulate) v += load<f32>(dst);
    if (last) {
      if (bias != 0) v += load<f32>(bias + <usize>j * 4);
      if (v < lo) v = lo;
      if (v > hi) v = hi;
    }
    store<f32>(dst, v);
  }
}

/**
 * Rows of A one at a time against the packed panels of B, two panels at
 * once (four accumulators): the path of products with fewer than MR rows
 * (batch-1 Dense layers, recurrent steps), which would waste most of a
 * 4-row tile. A's row is read in place (element p at a + p step).
 */
function rowProduct(a: usize, step: usize, panels: usize, kc: i32, c: usize, nc: i32, accumulate: bool, last: bool, bias: usize, lo: f32, hi: f32, t: usize): void {
  let jj = 0;
  for (; jj + NR < nc; jj += 2 * NR) {
    let p0 = panels + <usize>(jj * kc) * 4;
    let p1 = p0 + <usize>(NR * kc) * 4;
    let x = a;
    let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
    for (let p = 0; p < kc; p++) {
      const s = v128.load32_splat(x);
      c0 = madd(s, v128.load(p0), c0);
      c1 = madd(s, v128.load(p0, 16), c1);
      c2 = madd(s, v128.load(p1), c2);
      c3 = madd(s, v128.load(p1, 16), c3);
      x += step;
      p0 += NR * 4;
      p1 += NR * 4;
    }
    const b0 = bias != 0 ? bias + <usize>jj * 4 : 0;
    storeRow(c + <usize>jj * 4, c0, c1, NR, accumulate, last, b0, lo, hi, t);
    storeRow(c + <usize>(jj + NR) * 4, c2, c3, min(NR, nc - jj - NR), accumulate, last, b0 != 0 ? b0 + NR * 4 : 0, lo, hi, t);
  }
  if (jj < nc) {
    let p0 = panels + <usize>(jj * kc) * 4;
    let x = a;
    let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
    for (let p = 0; p < kc; p++) {
      const s = v128.load32_splat(x);
      c0 = madd(s, v128.load(p0), c0);
      c1 = madd(s, v128.load(p0, 16), c1);
      x += step;
      p0 += NR * 4;
    }
    storeRow(c + <usize>jj * 4, c0, c1, min(NR, nc - jj), accumulate, last, bias != 0 ? bias + <usize>jj * 4 : 0, lo, hi, t);
  }
}

/** C[i, j] = clamp(Σp A(i, p) B(p, j) + bias[j], lo, hi), C dense m × n. */
function product(
  conv: bool,
  a: usize, ars: i32, acs: i32,
  x: usize, h: i32, w: i32, cin: i32, kw: i32, sh: i32, sw: i32, dh: i32, dw: i32, padTop: i32, padLeft: i32, oh: i32, ow: i32,
  b: usize, brs: i32, bcs: i32,
  c: usize, m: i32, n: i32, k: i32,
  bias: usize, lo: f32, hi: f32, scratch: usize, packed: usize,
): void {
  const pb = scratch;
  const pa = scratch + <usize>(KC * NC) * 4;
  const t = pa + <usize>(MC * KC) * 4;
  const rows4 = t + <usize>(MR * NR) * 4;
  if (k == 0) {
    // Nothing to sum: the epilogue of zeros.
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let v: f32 = bias != 0 ? load<f32>(bias + <usize>j * 4) : 0;
        if (v < lo) v = lo;
        if (v > hi) v = hi;
        store<f32>(c + <usize>(i * n + j) * 4, v);
      }
    }
    return;
  }
  for (let j0 = 0; j0 < n; j0 += NC) {
    const nc = min(NC, n - j0);
    for (let k0 = 0; k0 < k; k0 += KC) {
      const kc = min(KC, k - k0);
      const last = k0 + kc == k;
      let panels = pb;
      if (packed != 0) panels = packed + (<usize>j0 * k + <usize>k0 * ((nc + NR - 1) / NR * NR)) * 4;
      else packB(b, brs, bcs, k0, kc, j0, nc, pb);
      if (!conv && m < MR) {
        for (let i = 0; i < m; i++) {
          const row = a + (<usize>i * ars + <usize>k0 * acs) * 4;
          const biasAt = bias != 0 ? bias + <usize>j0 * 4 : 0;
          rowProduct(row, <usize>acs * 4, panels, kc, c + (<usize>i * n + j0) * 4, nc, k0 > 0, last, biasAt, lo, hi, t);
        }
        continue;
      }
      for (let i0 = 0; i0 < m; i0 += MC) {
        const mc = min(MC, m - i0);
        if (conv) packConvA(x, h, w, cin, kw, sh, sw, dh, dw, padTop, padLeft, oh, ow, i0, mc, k0, kc, pa, rows4);
        else packA(a, ars, acs, i0, mc, k0, kc, pa);
        for (let ii = 0; ii < mc; ii += MR) {
          const rows = min(MR, mc - ii);
          const ap = pa + <usize>(ii * kc) * 4;
          const crow = c + (<usize>(i0 + ii) * n + j0) * 4;
          for (let jj = 0; jj < nc; jj += NR) {
            const biasAt = bias != 0 ? bias + <usize>(j0 + jj) * 4 : 0;
            tile(ap, panels + <usize>(jj * kc) * 4, kc, crow + <usize>jj * 4, n, rows, min(NR, nc - jj), k0 > 0, last, biasAt, lo, hi, t);
          }
        }
      }
    }
  }
}

/** Floats packB_all writes for a k × n B: every column padded to a multiple of NR. */
export function packedFloats(k: i32, n: i32): i32 {
  return k * ((n + NR - 1) / NR * NR);
}

/**
 * Packs all of B (k × n, strides as for matmul) at `dst` in the block order
 * the products read with `packed`: per NC column block, per KC row block,
 * the NR-column panels. For weights used again and again with few rows of A.
 */
export function packB_all(b: usize, brs: i32, bcs: i32, k: i32, n: i32, dst: usize): void {
  for (let j0 = 0; j0 < n; j0 += NC) {
    const nc = min(NC, n - j0);
    const ncpad = (nc + NR - 1) / NR * NR;
    for (let k0 = 0; k0 < k; k0 += KC) {
      packB(b, brs, bcs, k0, min(KC, k - k0), j0, nc, dst + (<usize>j0 * k + <usize>k0 * ncpad) * 4);
    }
  }
}

/**
 * C = clamp(A · B + bias, lo, hi) for one m × k by k × n product. A's element
 * (i, p) is at a + 4 (i ars + p acs), B's (p, j) at b + 4 (p brs + j bcs): a
 * transposed operand is just swapped strides. C is dense, row-major. bias:
 * 0 or n floats. lo/hi: -inf/inf for none. packed: 0, or B as packB_all
 * left it (b, brs and bcs are then not read).
 */
export function matmul(
  a: usize, ars: i32, acs: i32, b: usize, brs: i32, bcs: i32, c: usize,
  m: i32, n: i32, k: i32, bias: usize, lo: f32, hi: f32, scratch: usize, packed: usize,
): void {
  product(false, a, ars, acs, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, b, brs, bcs, c, m, n, k, bias, lo, hi, scratch, packed);
}

/**
 * NHWC convolution as an implicit GEMM: out[batch, oh, ow, cout] =
 * clamp(conv(x, filter) + bias, lo, hi), filter [kh, kw, cin, cout] (HWIO,
 * TF's layout), padding given as the top/left pads (bottom/right follow
 * from the output size). packed: 0, or the filter as packB_all left it
 * (k = kh kw cin rows, cout columns).
 */
export function conv2d(
  x: usize, batch: i32, h: i32, w: i32, cin: i32,
  filter: usize, kh: i32, kw: i32, cout: i32,
  sh: i32, sw: i32, dh: i32, dw: i32, padTop: i32, padLeft: i32, oh: i32, ow: i32,
  out: usize, bias: usize, lo: f32, hi: f32, scratch: usize, packed: usize,
): void {
  product(true, 0, 0, 0, x, h, w, cin, kw, sh, sw, dh, dw, padTop, padLeft, oh, ow,
    filter, cout, 1, out, batch * oh * ow, cout, kh * kw * cin, bias, lo, hi, scratch, packed);
}
