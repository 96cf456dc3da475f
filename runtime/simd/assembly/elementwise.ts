// AssemblyScript: a fused region of float32 elementwise ops (kernels/fused_elementwise.ts),
// interpreted a block of a row at a time.
//
// Program: n instructions of five i32 [op, dst, a, b, imm]; every value lives
// in register slot `dst` (BLOCK floats each at `regs`), each instruction
// running over a block of up to BLOCK columns of a row. Operands: `exts` is a
// table of three i32 per input [address, row stride in bytes (0: the same
// row for every row, a per-column vector), scalar flag]; `outs` one address
// per output, rows of `cols` floats. cols is a multiple of 4.

import { tanh4 } from './tanh';

const LOAD: i32 = 0;
const ADD: i32 = 1;
const SUB: i32 = 2;
const MUL: i32 = 3;
const SIGMOID: i32 = 4;
const TANH: i32 = 5;
const STORE: i32 = 6;

// exp(x) for float32 lanes: Cephes' expf (range reduction by ln 2 in two
// parts, a degree-5 polynomial, 2^n through the exponent bits), ~1 ulp; inputs
// clamped to [-87.34, 88] (2^n stays a finite, normal float32).
@inline
function exp4(v: v128): v128 {
  const x = f32x4.max(f32x4.min(v, f32x4.splat(88.0)), f32x4.splat(-87.3365447504019));
  const n = f32x4.nearest(f32x4.mul(x, f32x4.splat(1.44269504088896341)));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  const r2 = f32x4.mul(r, r);
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  const y = f32x4.add(f32x4.add(f32x4.mul(p, r2), r), f32x4.splat(1));
  const scale = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(y, scale);
}

/** 1 / (1 + exp(-x)); exp(-x) saturates to +inf-free range, so large negative x gives ~0, large positive 1. */
@inline
function sigmoid4(x: v128): v128 {
  const one = f32x4.splat(1);
  return f32x4.div(one, f32x4.add(one, exp4(f32x4.neg(x))));
}

/** Floats per register: each instruction runs over a block of a row this wide (a multiple of 4). */
export const BLOCK: i32 = 64;

export function elementwise(prog: usize, n: i32, exts: usize, outs: usize, rows: i32, cols: i32, regs: usize): void {
  for (let row = 0; row < rows; row++) {
    for (let j0 = 0; j0 < cols; j0 += BLOCK) {
      const bytes = <usize>min(BLOCK, cols - j0) << 2;
      let ip = prog;
      for (let k = 0; k < n; k++) {
        const op = load<i32>(ip);
        const dst = regs + <usize>load<i32>(ip, 4) * (<usize>BLOCK << 2);
        const a = regs + <usize>load<i32>(ip, 8) * (<usize>BLOCK << 2);
        const b = regs + <usize>load<i32>(ip, 12) * (<usize>BLOCK << 2);
        const imm = load<i32>(ip, 16);
        switch (op) {
          case LOAD: {
            // imm: input index; the b field holds the column offset.
            const e = exts + <usize>imm * 12;
            const base = <usize>load<i32>(e);
            if (load<i32>(e, 8) != 0) {
              const v = v128.load32_splat(base);
              for (let q: usize = 0; q < bytes; q += 16) v128.store(dst + q, v);
            } else {
              const src = base + <usize>row * <usize>load<i32>(e, 4) + (<usize>(j0 + load<i32>(ip, 12)) << 2);
              memory.copy(dst, src, bytes);
            }
            break;
          }
          case ADD:
            for (let q: usize = 0; q < bytes; q += 16) v128.store(dst + q, f32x4.add(v128.load(a + q), v128.load(b + q)));
            break;
          case SUB:
            for (let q: usize = 0; q < bytes; q += 16) v128.store(dst + q, f32x4.sub(v128.load(a + q), v128.load(b + q)));
            break;
          case MUL:
            for (let q: usize = 0; q < bytes; q += 16) v128.store(dst + q, f32x4.mul(v128.load(a + q), v128.load(b + q)));
            break;
          case SIGMOID:
            for (let q: usize = 0; q < bytes; q += 16) v128.store(dst + q, sigmoid4(v128.load(a + q)));
            break;
          case TANH:
            for (let q: usize = 0; q < bytes; q += 16) v128.store(dst + q, tanh4(v128.load(a + q)));
            break;
          case STORE: {
            const out = <usize>load<i32>(outs + (<usize>imm << 2));
            memory.copy(out + ((<usize>row * <usize>cols + <usize>j0) << 2), a, bytes);
            break;
          }
          default:
            unreachable();
        }
        ip += 20;
      }
    }
  }
}
