// Fuzz: the readers of the files a model version and the server's config are
// made of — saved_model.pb (through the whole load), the checkpoint's
// variables.index (TensorBundle table, header, entries, then every tensor
// read), and the protobuf text format (model config, batching parameters,
// monitoring config, saved_model.pbtxt) — over mutated real files and random
// bytes. Each input ends in a result or a StatusError with a code saying the
// file is bad; never another exception, a crash or a hang.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { StatusCode } from '../../runtime/errors.js';
import { StatusError } from '../../runtime/errors.js';
import { BundleReader } from '../../runtime/checkpoint/bundle_reader.js';
import { tsEngine } from '../../runtime/loader.js';
import { protoType } from '../../runtime/proto/schema.js';
import { parseTextProto } from '../../runtime/proto/textformat.js';
import { expectStatusOrResult, expectStatusOrResultAsync, mutatedBytes, mutatedText } from './fuzz_helpers.js';

const FIXTURES = path.resolve(import.meta.dirname, '../../../shared/fixtures/tf-serving');
const HALF_PLUS_TWO = path.join(FIXTURES, 'saved_model_half_plus_two_cpu/00000123');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-fuzz-readers-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Codes a corrupt or unexpected file may fail with (TF: DATA_LOSS for corrupt data). */
const FILE_ERRORS: StatusCode[] = ['DATA_LOSS', 'INVALID_ARGUMENT', 'NOT_FOUND', 'FAILED_PRECONDITION', 'OUT_OF_RANGE', 'UNIMPLEMENTED'];
const show = (b: Uint8Array) => () => Buffer.from(b).toString('hex');

describe('saved_model.pb fuzz', () => {
  const pb = fs.readFileSync(path.join(HALF_PLUS_TWO, 'saved_model.pb'));
  const dir = path.join(tmp, 'model');
  fs.mkdirSync(dir);
  fs.symlinkSync(path.join(HALF_PLUS_TWO, 'variables'), path.join(dir, 'variables'));

  it('mutated saved_model.pb files load or fail with a file error', async () => {
    await fc.assert(
      fc.asyncProperty(mutatedBytes(pb), async (bytes) => {
        fs.writeFileSync(path.join(dir, 'saved_model.pb'), bytes);
        const model = await expectStatusOrResultAsync(() => tsEngine.load(dir), FILE_ERRORS, show(bytes));
        if (!(model instanceof StatusError)) model.dispose();
      }),
      { numRuns: 800 },
    );
  }, 60_000);

  interface NodeMsg {
    name: string;
    op: string;
    input?: string[];
    attr?: Record<string, unknown>;
  }
  interface Edit {
    node: number;
    kind: 'attr' | 'op' | 'input' | 'drop';
    attrPick: number;
    value: unknown;
    op: string;
    input: string;
  }
  const type = protoType('tensorflow.SavedModel');
  const base = type.toObject(type.decode(pb)) as { metaGraphs: { graphDef: { node: NodeMsg[] } }[] };

  /** Loads half_plus_two with `edits` applied to its graph's nodes. */
  function loadEdited(edits: Edit[]) {
    const msg = structuredClone(base);
    const nodes = msg.metaGraphs[0].graphDef.node;
    for (const e of edits) {
      const n = nodes[e.node % nodes.length];
      if (e.kind === 'attr') {
        const keys = Object.keys(n.attr ?? {});
        const key = keys.length > 0 ? keys[e.attrPick % keys.length] : 'T';
        n.attr = { ...n.attr, [key]: e.value };
      } else if (e.kind === 'op') n.op = e.op;
      else if (e.kind === 'input') n.input = [...(n.input ?? []), e.input];
      else nodes.splice(e.node % nodes.length, 1);
    }
    fs.writeFileSync(path.join(dir, 'saved_model.pb'), type.encode(type.fromObject(msg)).finish());
    return tsEngine.load(dir);
  }

  it('graphs with mutated nodes (attrs, ops, inputs) load or fail with a file error', async () => {
    const ops = [...new Set(base.metaGraphs[0].graphDef.node.map((n) => n.op))];
    const attrValue = fc.oneof(
      fc.integer({ min: -5, max: 40 }).map((t) => ({ type: t })),
      fc.array(fc.oneof(fc.integer({ min: -2, max: 8 }), fc.constant(2 ** 40)), { maxLength: 5 }).map((dims) => ({ shape: { dim: dims.map((size) => ({ size })) } })),
      fc.integer().map((i) => ({ i })),
      fc.uint8Array({ maxLength: 12 }).map((b) => ({ s: b })),
      fc
        .record({ dtype: fc.integer({ min: 0, max: 30 }), dims: fc.array(fc.integer({ min: -1, max: 1 << 20 }), { maxLength: 3 }), content: fc.uint8Array({ maxLength: 24 }) })
        .map(({ dtype, dims, content }) => ({ tensor: { dtype, tensorShape: { dim: dims.map((size) => ({ size })) }, tensorContent: content } })),
      fc.array(fc.integer({ min: -3, max: 9 }), { maxLength: 4 }).map((i) => ({ list: { i } })),
    );
    const edit: fc.Arbitrary<Edit> = fc.record({
      node: fc.nat(),
      kind: fc.constantFrom('attr' as const, 'op' as const, 'input' as const, 'drop' as const),
      attrPick: fc.nat(),
      value: attrValue,
      op: fc.constantFrom(...ops, 'NoSuchOp'),
      input: fc.constantFrom('', 'missing', 'x:9', '^y', 'a:b:c'),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(edit, { minLength: 1, maxLength: 4 }), async (edits) => {
        const model = await expectStatusOrResultAsync(() => loadEdited(edits), FILE_ERRORS, () => JSON.stringify(edits));
        if (!(model instanceof StatusError)) model.dispose();
      }),
      { numRuns: 200 },
    );
  }, 60_000);

  // Found by the property above; each was a TypeError or RangeError (HTTP 500 on upload) before.
  it.each([
    ['a node whose op needs inputs it lacks', [{ node: 'Add', input: ['Mul'] }], "NodeDef expected inputs 'x, y' do not match 1 inputs specified"],
    ['an input naming an output its producer lacks', [{ node: 'save/RestoreV2', op: 'NoOp', input: [] }], 'of source node save/RestoreV2 which has 0 outputs'],
    ['a node missing an attr its op declares', [{ node: 'save/RestoreV2/tensor_names', op: 'ParseExample' }], "NodeDef missing attr 'Nsparse' from Op<name=ParseExample>"],
    [
      'a constant declaring 7684 x 558950 elements with no content',
      [{ node: 'ParseExample/Const', attr: 'value', value: { tensor: { dtype: 1, tensorShape: { dim: [{ size: 7684 }, { size: 558950 }] } } } }],
      'OOM when allocating tensor with shape[4294971800]',
    ],
  ])('refuses %s with a StatusError naming it', async (_what, edits, message) => {
    const msg = structuredClone(base);
    const nodes = msg.metaGraphs[0].graphDef.node;
    for (const e of edits as { node: string; op?: string; attr?: string; value?: unknown; input?: string[] }[]) {
      const n = nodes.find((x) => x.name === e.node)!;
      if (e.op) n.op = e.op;
      if (e.input) n.input = e.input;
      if (e.attr) n.attr = { ...n.attr, [e.attr]: e.value };
    }
    fs.writeFileSync(path.join(dir, 'saved_model.pb'), type.encode(type.fromObject(msg)).finish());
    if (message.includes('OOM')) {
      // The constant's attr fails conversion, reported like an unsupported op: only the signatures
      // reaching it (classify and regress, through ParseExample) cannot run; predict still loads.
      const model = await tsEngine.load(dir);
      try {
        expect(model.signatures.classify_x_to_y.unavailable).toContain(message);
        expect(model.signatures.serving_default.unavailable).toBeUndefined();
      } finally {
        model.dispose();
      }
      return;
    }
    await expect(tsEngine.load(dir)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining(message) });
  });
});

describe('checkpoint index fuzz', () => {
  const index = fs.readFileSync(path.join(HALF_PLUS_TWO, 'variables/variables.index'));
  const dir = path.join(tmp, 'ckpt');
  fs.mkdirSync(dir);
  fs.copyFileSync(path.join(HALF_PLUS_TWO, 'variables/variables.data-00000-of-00001'), path.join(dir, 'variables.data-00000-of-00001'));
  const prefix = path.join(dir, 'variables');

  it('mutated variables.index files open and read every tensor, or fail with a file error', async () => {
    await fc.assert(
      fc.asyncProperty(mutatedBytes(index), async (bytes) => {
        fs.writeFileSync(`${prefix}.index`, bytes);
        const reader = await expectStatusOrResultAsync(() => BundleReader.open(prefix), FILE_ERRORS, show(bytes));
        if (reader instanceof StatusError) return;
        for (const key of reader.keys()) {
          const t = expectStatusOrResult(() => reader.read(key), FILE_ERRORS, show(bytes));
          if (!(t instanceof StatusError)) t.dispose();
        }
      }),
      { numRuns: 1000 },
    );
  }, 60_000);
});

describe('text format fuzz', () => {
  const seeds: [string, string][] = [
    ['tensorflow.serving.ModelServerConfig', fs.readFileSync(path.join(FIXTURES, 'good_model_config.txt'), 'utf8')],
    ['tensorflow.serving.BatchingParameters', fs.readFileSync(path.join(FIXTURES, 'batching_config.txt'), 'utf8')],
    ['tensorflow.serving.MonitoringConfig', fs.readFileSync(path.join(FIXTURES, 'monitoring_config.txt'), 'utf8')],
    [
      'tensorflow.serving.ModelServerConfig',
      'model_config_list { config { name: "m" base_path: "/x" model_version_policy { specific { versions: 1 versions: 0x7fffffffffffffff } } version_labels { key: "a" value: -9 } } }',
    ],
  ];

  it('mutated config texts parse or fail with INVALID_ARGUMENT', () => {
    fc.assert(
      fc.property(fc.constantFrom(...seeds).chain(([type, text]) => mutatedText(text).map((t) => [type, t] as const)), ([type, text]) => {
        expectStatusOrResult(() => parseTextProto(text, protoType(type), 'cfg.txt'), ['INVALID_ARGUMENT'], () => text);
      }),
      { numRuns: 3000 },
    );
  });

  it('random token soups parse or fail with INVALID_ARGUMENT', () => {
    const token = fc.oneof(
      fc.constantFrom('{', '}', '<', '>', '[', ']', ':', ',', ';', '"', "'", '#', '\n', '-', '0x', '1e999', 'inf', '-nan', 'true', '\\', '\\x', '\\777'),
      fc.constantFrom('model_config_list', 'config', 'name', 'base_path', 'model_version_policy', 'specific', 'versions', 'version_labels', 'key', 'value', 'max_batch_size', 'allowed_batch_sizes', 'prometheus_config', 'enable', 'path', '[type.googleapis.com/x]'),
      fc.string({ maxLength: 6 }),
      fc.bigInt({ min: -(1n << 80n), max: 1n << 80n }).map(String),
    );
    fc.assert(
      fc.property(fc.array(token, { maxLength: 40 }).map((t) => t.join(' ')), fc.constantFrom(...seeds.map(([type]) => type), 'tensorflow.SavedModel'), (text, type) => {
        expectStatusOrResult(() => parseTextProto(text, protoType(type), 'cfg.txt'), ['INVALID_ARGUMENT'], () => text);
      }),
      { numRuns: 3000 },
    );
  });
});
