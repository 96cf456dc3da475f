// registry/signature_diff.ts: what changed between two versions' signatures,
// and which changes break callers of the stable one.
import { describe, expect, it } from 'vitest';
import { breakingChanges, describeBreakingChanges, diffSignatures } from '../../registry/signature_diff.js';
import type { SignatureRow, TensorDescription } from '../../registry/store.js';

const t = (dtype: string, shape: number[] | null): TensorDescription => ({ dtype, shape });

function sig(name: string, inputs: Record<string, TensorDescription>, outputs: Record<string, TensorDescription>, extra: Partial<SignatureRow> = {}): SignatureRow {
  return { name, method: 'tensorflow/serving/predict', inputs, outputs, unavailable: null, ...extra };
}

// f_mnist's signature as the registry records it.
const mnist = sig('serving_default', { images: t('DT_FLOAT', [-1, 28, 28]) }, { probabilities: t('DT_FLOAT', [-1, 10]) });

describe('diffSignatures', () => {
  it('finds nothing between equal signature lists, whatever their order', () => {
    const other = sig('classify', { x: t('DT_STRING', [-1]) }, { scores: t('DT_FLOAT', [-1, 3]) }, { method: 'tensorflow/serving/classify' });
    const d = diffSignatures([mnist, other], [other, mnist]);
    expect(d).toMatchObject({ identical: true, added: [], removed: [], changed: [] });
    expect(d.signatures.map((s) => [s.name, s.status])).toEqual([
      ['classify', 'unchanged'],
      ['serving_default', 'unchanged'],
    ]);
  });

  it('names signatures added and removed, and inputs/outputs added, removed and changed', () => {
    const next = sig(
      'serving_default',
      { images: t('DT_HALF', [-1, 28, 28]), mask: t('DT_BOOL', [-1]) },
      { logits: t('DT_FLOAT', [-1, 10]) },
    );
    const extra = sig('embed', { images: t('DT_FLOAT', [-1, 28, 28]) }, { embedding: t('DT_FLOAT', [-1, 64]) });
    const old = sig('legacy', { x: t('DT_FLOAT', null) }, { y: t('DT_FLOAT', null) });
    const d = diffSignatures([mnist, old], [next, extra]);
    expect(d.identical).toBe(false);
    expect(d.added).toEqual(['embed']);
    expect(d.removed).toEqual(['legacy']);
    expect(d.changed).toEqual(['serving_default']);
    const s = d.signatures.find((x) => x.name === 'serving_default')!;
    expect(s.inputs).toEqual({
      added: { mask: t('DT_BOOL', [-1]) },
      removed: {},
      changed: [{ name: 'images', before: t('DT_FLOAT', [-1, 28, 28]), after: t('DT_HALF', [-1, 28, 28]), dtypeChanged: true, shapeChanged: false }],
    });
    expect(s.outputs).toEqual({ added: { logits: t('DT_FLOAT', [-1, 10]) }, removed: { probabilities: t('DT_FLOAT', [-1, 10]) }, changed: [] });
  });

  it('tells an unknown rank from a known shape, and notes method and availability changes', () => {
    const d = diffSignatures(
      [sig('s', { x: t('DT_FLOAT', null) }, { y: t('DT_FLOAT', [2]) })],
      [sig('s', { x: t('DT_FLOAT', []) }, { y: t('DT_FLOAT', [2]) }, { method: 'tensorflow/serving/regress', unavailable: 'ops missing: Foo' })],
    );
    const s = d.signatures[0];
    expect(s.status).toBe('changed');
    expect(s.inputs.changed).toEqual([{ name: 'x', before: t('DT_FLOAT', null), after: t('DT_FLOAT', []), dtypeChanged: false, shapeChanged: true }]);
    expect(s.method).toEqual({ before: 'tensorflow/serving/predict', after: 'tensorflow/serving/regress' });
    expect(s.unavailable).toEqual({ before: null, after: 'ops missing: Foo' });
  });
});

describe('breakingChanges', () => {
  it('is empty for the same signatures, for additions, and for inputs that accept more than before', () => {
    expect(breakingChanges([mnist], [mnist])).toEqual([]);
    const relaxed = sig('serving_default', { images: t('DT_FLOAT', [-1, -1, -1]) }, { probabilities: t('DT_FLOAT', [-1, 10]), extra: t('DT_INT64', [-1]) });
    const more = sig('embed', { images: t('DT_FLOAT', [-1, 28, 28]) }, { embedding: t('DT_FLOAT', [-1, 64]) });
    expect(breakingChanges([mnist], [relaxed, more])).toEqual([]);
    // Unknown rank accepts anything.
    expect(breakingChanges([mnist], [sig('serving_default', { images: t('DT_FLOAT', null) }, { probabilities: t('DT_FLOAT', [-1, 10]) })])).toEqual([]);
  });

  it('names a removed input and a renamed one (same dtype and shape under a new name)', () => {
    const two = sig('s', { a: t('DT_FLOAT', [-1]), b: t('DT_INT32', [-1]) }, { y: t('DT_FLOAT', [-1]) });
    const removed = breakingChanges([two], [sig('s', { a: t('DT_FLOAT', [-1]) }, { y: t('DT_FLOAT', [-1]) })]);
    expect(removed).toEqual([{ kind: 'input_removed', signature: 's', tensor: 'b', before: t('DT_INT32', [-1]), message: 'signature s: input "b" removed' }]);

    const renamed = breakingChanges([mnist], [sig('serving_default', { pixels: t('DT_FLOAT', [-1, 28, 28]) }, { probabilities: t('DT_FLOAT', [-1, 10]) })]);
    expect(renamed).toHaveLength(1);
    expect(renamed[0]).toMatchObject({ kind: 'input_renamed', tensor: 'images', renamedTo: 'pixels', message: 'signature serving_default: input "images" renamed to "pixels"' });
  });

  it('names an input added (TF Serving refuses requests missing an input), a dtype change and a narrowed shape', () => {
    const changes = breakingChanges(
      [mnist],
      [sig('serving_default', { images: t('DT_UINT8', [-1, 32, 32]), scale: t('DT_FLOAT', []) }, { probabilities: t('DT_FLOAT', [-1, 10]) })],
    );
    expect(changes.map((c) => [c.kind, c.tensor])).toEqual([
      ['input_added', 'scale'],
      ['input_dtype_changed', 'images'],
      ['input_shape_changed', 'images'],
    ]);
    expect(changes[1].message).toBe('signature serving_default: input "images" dtype changed from DT_FLOAT to DT_UINT8');
    expect(changes[2].message).toBe('signature serving_default: input "images" shape changed from [-1, 28, 28] to [-1, 32, 32]');
    // A batch dimension fixed: requests with another batch size would fail.
    const fixed = breakingChanges([mnist], [sig('serving_default', { images: t('DT_FLOAT', [1, 28, 28]) }, { probabilities: t('DT_FLOAT', [-1, 10]) })]);
    expect(fixed.map((c) => c.kind)).toEqual(['input_shape_changed']);
  });

  it('names outputs removed, retyped or reshaped, a method change, a removed signature and one that can no longer run', () => {
    const stable = [mnist, sig('old', { x: t('DT_FLOAT', [-1]) }, { y: t('DT_FLOAT', [-1]) })];
    const candidate = [
      sig('serving_default', { images: t('DT_FLOAT', [-1, 28, 28]) }, { probabilities: t('DT_DOUBLE', [-1, 11]) }, { method: 'tensorflow/serving/classify', unavailable: 'ops missing: Foo' }),
    ];
    const changes = breakingChanges(stable, candidate);
    expect(changes.map((c) => `${c.signature} ${c.kind}${c.tensor ? ` ${c.tensor}` : ''}`)).toEqual([
      'old signature_removed',
      'serving_default method_changed',
      'serving_default signature_unavailable',
      'serving_default output_dtype_changed probabilities',
      'serving_default output_shape_changed probabilities',
    ]);
    const gone = breakingChanges([mnist], [sig('serving_default', { images: t('DT_FLOAT', [-1, 28, 28]) }, {})]);
    expect(gone).toEqual([expect.objectContaining({ kind: 'output_removed', tensor: 'probabilities' })]);
    // An output that gains an unknown dimension still reads alike.
    expect(breakingChanges([mnist], [sig('serving_default', { images: t('DT_FLOAT', [-1, 28, 28]) }, { probabilities: t('DT_FLOAT', [-1, -1]) })])).toEqual([]);
  });

  it('describes the changes in one sentence, capped', () => {
    const stable = [sig('s', Object.fromEntries(['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((n) => [n, t('DT_FLOAT', [-1])])), {})];
    const changes = breakingChanges(stable, [sig('s', {}, {})]);
    expect(changes).toHaveLength(7);
    expect(describeBreakingChanges(changes, 2)).toBe('signature s: input "a" removed; signature s: input "b" removed; and 5 more');
    expect(describeBreakingChanges([])).toBe('no breaking change');
  });
});
