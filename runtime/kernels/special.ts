/**
 * Special functions computed in double precision on the host and rounded to
 * the tensor's type: Lgamma (Lanczos, g = 7, with reflection), Digamma
 * (recurrence + asymptotic series, with reflection; NaN at non-positive
 * integers as Eigen gives), Erfinv and Ndtri (safeguarded Newton on erf /
 * erfc). TF evaluates Eigen's float versions, so results agree within a few
 * float32 ulps, not bit for bit. Registered only if no other family has them.
 */
import { erf, erfc } from './host_math.js';
import { applyUnary, type UnaryDef } from './math.js';
import { kernelFor, registerKernel } from './registry.js';

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

export function lgamma(x: number): number {
  if (x !== x) return NaN;
  if (!Number.isFinite(x)) return Infinity;
  if (x <= 0 && Math.floor(x) === x) return Infinity;
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lgamma(1 - x);
  const z = x - 1;
  let a = LANCZOS[0];
  for (let i = 1; i < 9; i++) a += LANCZOS[i] / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

export function digamma(x: number): number {
  if (x !== x || x === -Infinity) return NaN;
  if (x === Infinity) return Infinity;
  if (x <= 0) {
    if (Math.floor(x) === x) return NaN;
    return digamma(1 - x) - Math.PI / Math.tan(Math.PI * x);
  }
  let r = 0;
  while (x < 10) {
    r -= 1 / x;
    x += 1;
  }
  const x2 = 1 / (x * x);
  const series = x2 * (1 / 12 - x2 * (1 / 120 - x2 * (1 / 252 - x2 * (1 / 240 - x2 * (1 / 132)))));
  return r + Math.log(x) - 0.5 / x - series;
}

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/** z with erfc(z) = q, q in (0, 2). */
function erfcinv(q: number): number {
  if (q <= 0) return Infinity;
  if (q >= 2) return -Infinity;
  if (q > 1) return -erfcinv(2 - q);
  // erfc decreases on [0, 27]: keep a bracket and take Newton steps inside it.
  let lo = 0;
  let hi = 27;
  let z = Math.min(26, Math.sqrt(Math.max(0, -Math.log(q))));
  for (let i = 0; i < 100; i++) {
    const fz = erfc(z) - q;
    if (fz > 0) lo = z;
    else hi = z;
    const d = -TWO_OVER_SQRT_PI * Math.exp(-z * z);
    let next = d !== 0 ? z - fz / d : NaN;
    if (!(next > lo && next < hi)) next = (lo + hi) / 2;
    if (Math.abs(next - z) <= 1e-16 * Math.max(1, Math.abs(z))) return next;
    z = next;
  }
  return z;
}

export function erfinv(y: number): number {
  if (y !== y || y < -1 || y > 1) return NaN;
  if (y === 1) return Infinity;
  if (y === -1) return -Infinity;
  if (Math.abs(y) >= 0.5) return erfcinv(1 - y);
  // Small |y|: Newton on erf from the linear start.
  let x = (y * Math.sqrt(Math.PI)) / 2;
  for (let i = 0; i < 50; i++) {
    const step = (erf(x) - y) / (TWO_OVER_SQRT_PI * Math.exp(-x * x));
    x -= step;
    if (Math.abs(step) <= 1e-17 * Math.max(1e-300, Math.abs(x))) break;
  }
  return x;
}

export function ndtri(p: number): number {
  if (p !== p || p < 0 || p > 1) return NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  return -Math.SQRT2 * erfcinv(2 * p);
}

const FLOATS = ['float16', 'bfloat16', 'float32', 'float64'] as const;
for (const [op, fn] of [['Lgamma', lgamma], ['Digamma', digamma], ['Erfinv', erfinv], ['Ndtri', ndtri]] as const) {
  if (kernelFor(op)) continue;
  const def: UnaryDef = { op, types: FLOATS, float: fn };
  registerKernel({ op, kernel: (ctx) => [applyUnary(op, def, ctx.inputs[0])] });
}
