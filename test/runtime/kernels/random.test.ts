import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../runtime/backend.js';
import { Attrs } from '../../../runtime/kernels/attrs.js';
import '../../../runtime/kernels/index.js';
import { Philox } from '../../../runtime/kernels/random.js';
import { kernelFor } from '../../../runtime/kernels/registry.js';
import { ModelResources } from '../../../runtime/variables.js';
import { FunctionLibrary } from '../../../runtime/graph/functions.js';
import { Tensor } from '../../../runtime/tensor.js';
import { attr, node } from '../graph/build.js';

beforeAll(async () => {
  await initBackend();
});

function run(op: string, inputs: Tensor[], a: Record<string, ReturnType<typeof attr.i>>) {
  const n = node('r', op, [], a);
  const resources = new ModelResources();
  return (ctx: { node: typeof n }) =>
    kernelFor(op)!.kernel({ node: ctx.node, attrs: new Attrs(n.attr, n.name, op), inputs, resources, functions: new FunctionLibrary([], [], resources) })[0];
}

describe('random kernels', () => {
  it('Philox4x32-10 matches the Random123 known-answer vectors', () => {
    const out = new Uint32Array(4);
    Philox.raw([0, 0, 0, 0], [0, 0]).next(out);
    expect(Array.from(out)).toEqual([0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]);
    Philox.raw([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff]).next(out);
    expect(Array.from(out)).toEqual([0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]);
  });

  it('seeded RandomUniform is reproducible, in [0, 1), and advances between runs', () => {
    const shape = Tensor.from('int32', [1], [1000]);
    const attrs = { dtype: attr.type('float32'), seed: attr.i(42), seed2: attr.i(7) };
    const n1 = node('r', 'RandomUniform', [], attrs);
    const n2 = node('r', 'RandomUniform', [], attrs);
    const a1 = run('RandomUniform', [shape], attrs)({ node: n1 });
    const b1 = run('RandomUniform', [shape], attrs)({ node: n2 });
    expect(Array.from(a1.values() as Float32Array)).toEqual(Array.from(b1.values() as Float32Array));
    const v = Array.from(a1.values() as Float32Array);
    expect(Math.min(...v)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...v)).toBeLessThan(1);
    const mean = v.reduce((x, y) => x + y, 0) / v.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.05);
    const a2 = run('RandomUniform', [shape], attrs)({ node: n1 });
    expect(Array.from(a2.values() as Float32Array)).not.toEqual(v);
  });

  it('RandomStandardNormal has mean ~0 and variance ~1', () => {
    const attrs = { dtype: attr.type('float32'), seed: attr.i(1), seed2: attr.i(2) };
    const t = run('RandomStandardNormal', [Tensor.from('int32', [1], [4000])], attrs)({ node: node('n', 'RandomStandardNormal', [], attrs) });
    const v = Array.from(t.values() as Float32Array);
    const mean = v.reduce((x, y) => x + y, 0) / v.length;
    const variance = v.reduce((x, y) => x + (y - mean) ** 2, 0) / v.length;
    expect(Math.abs(mean)).toBeLessThan(0.06);
    expect(Math.abs(variance - 1)).toBeLessThan(0.1);
  });

  it('RandomUniformInt gives int64 values in [minval, maxval)', () => {
    const attrs = { Tout: attr.type('int64'), seed: attr.i(3), seed2: attr.i(4) };
    const inputs = [Tensor.from('int32', [1], [500]), Tensor.scalar('int64', 5n), Tensor.scalar('int64', 9n)];
    const t = run('RandomUniformInt', inputs, attrs)({ node: node('u', 'RandomUniformInt', [], attrs) });
    expect(t.dtype).toBe('int64');
    const v = Array.from(t.values() as BigInt64Array);
    expect(v).toHaveLength(500);
    expect(new Set(v)).toEqual(new Set([5n, 6n, 7n, 8n]));
  });
});
