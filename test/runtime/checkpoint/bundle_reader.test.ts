import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BundleReader } from '../../../runtime/checkpoint/bundle_reader.js';
import { TableBuilder } from '../../../runtime/checkpoint/table_builder.js';
import { StatusError } from '../../../runtime/errors.js';
import { protoType } from '../../../runtime/proto/schema.js';

const FIXTURES = path.resolve(import.meta.dirname, '../../../../shared/fixtures/tf-serving');
const variables = (dir: string) => path.join(FIXTURES, dir, 'variables', 'variables');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-bundle-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Copies a fixture checkpoint into a temp folder so it can be damaged. */
function copyOf(dir: string, name: string): string {
  const prefix = path.join(tmp, name, 'variables');
  fs.mkdirSync(path.dirname(prefix), { recursive: true });
  for (const suffix of ['.index', '.data-00000-of-00001']) fs.copyFileSync(variables(dir) + suffix, prefix + suffix);
  fs.chmodSync(prefix + '.index', 0o644);
  fs.chmodSync(prefix + '.data-00000-of-00001', 0o644);
  return prefix;
}

async function failure(f: () => unknown): Promise<StatusError> {
  try {
    await f();
  } catch (e) {
    expect(e).toBeInstanceOf(StatusError);
    return e as StatusError;
  }
  throw new Error('expected an error');
}

const scalar = (r: BundleReader, key: string) => r.read(key).numbers()[0];

describe('BundleReader on TensorFlow checkpoints', () => {
  it('half_plus_two: a = 0.5, b = 2, c = 3 (TF 1.14, snappy-compressed index)', async () => {
    const r = await BundleReader.open(variables('saved_model_half_plus_two_cpu/00000123'));
    expect(r.keys()).toEqual(['a', 'a2', 'b', 'c', 'c2']);
    expect(r.numShards).toBe(1);
    expect([scalar(r, 'a'), scalar(r, 'b'), scalar(r, 'c')]).toEqual([0.5, 2, 3]);
    expect(r.entry('b')).toMatchObject({ dtype: 'float32', shape: [], shardId: 0, offset: 8, size: 4, sliced: false });
    expect(r.read('a').dtype).toBe('float32');
    expect(r.has('a')).toBe(true);
    expect(r.has('zz')).toBe(false);
  });

  it('half_plus_three: b = 3 (TF 1.0, uncompressed index)', async () => {
    const r = await BundleReader.open(variables('saved_model_half_plus_three/00000123'));
    expect([scalar(r, 'a'), scalar(r, 'b'), scalar(r, 'c')]).toEqual([0.5, 3, 3]);
  });

  it('counter starts at 0', async () => {
    const r = await BundleReader.open(variables('saved_model_counter/00000123'));
    expect(r.keys()).toEqual(['counter']);
    expect(scalar(r, 'counter')).toBe(0);
  });

  it('tf2: object-based keys and the string object graph', async () => {
    const r = await BundleReader.open(variables('saved_model_half_plus_two_tf2_cpu/00000123'));
    expect(r.keys()).toEqual(['_CHECKPOINTABLE_OBJECT_GRAPH', 'a/.ATTRIBUTES/VARIABLE_VALUE', 'b/.ATTRIBUTES/VARIABLE_VALUE', 'c/.ATTRIBUTES/VARIABLE_VALUE']);
    expect(scalar(r, 'a/.ATTRIBUTES/VARIABLE_VALUE')).toBe(0.5);
    expect(scalar(r, 'b/.ATTRIBUTES/VARIABLE_VALUE')).toBe(2);
    const graph = r.read('_CHECKPOINTABLE_OBJECT_GRAPH');
    expect(graph.dtype).toBe('string');
    expect(graph.shape).toEqual([]);
    const decoded = protoType('tensorflow.TrackableObjectGraph').decode((graph.values() as Uint8Array[])[0]) as unknown as {
      nodes: { attributes: { checkpointKey: string }[] }[];
    };
    const keys = decoded.nodes.flatMap((n) => n.attributes.map((a) => a.checkpointKey));
    expect(keys).toContain('a/.ATTRIBUTES/VARIABLE_VALUE');
  });

  it('mkl: shaped conv kernels', async () => {
    const r = await BundleReader.open(variables('saved_model_half_plus_two_mkl/00000123'));
    expect(r.entry('conv2d/kernel').shape).toEqual([1, 1, 1, 1]);
    expect(r.read('conv2d/kernel').shape).toEqual([1, 1, 1, 1]);
    expect(r.read('conv2d/bias').numbers()).toEqual([0]);
  });

  it('an unknown key is NOT_FOUND', async () => {
    const r = await BundleReader.open(variables('saved_model_counter/00000123'));
    const e = await failure(() => r.read('nope'));
    expect(e.code).toBe('NOT_FOUND');
    expect(e.message).toBe('Key nope not found in checkpoint');
  });
});

describe('BundleReader on damaged checkpoints', () => {
  it('a flipped data byte fails the checksum, naming the tensor and file', async () => {
    const prefix = copyOf('saved_model_half_plus_two_cpu/00000123', 'flip');
    const data = fs.readFileSync(`${prefix}.data-00000-of-00001`);
    data[9] ^= 0x01; // inside b (offset 8)
    fs.writeFileSync(`${prefix}.data-00000-of-00001`, data);
    const r = await BundleReader.open(prefix);
    expect(scalar(r, 'a')).toBe(0.5);
    const e = await failure(() => r.read('b'));
    expect(e.code).toBe('DATA_LOSS');
    expect(e.message).toContain('Checksum does not match');
    expect(e.message).toContain('tensor b');
    expect(e.message).toContain(`${prefix}.data-00000-of-00001`);
  });

  it('a truncated data file is DATA_LOSS naming the file and tensor', async () => {
    const prefix = copyOf('saved_model_half_plus_two_cpu/00000123', 'short-data');
    fs.truncateSync(`${prefix}.data-00000-of-00001`, 10);
    const r = await BundleReader.open(prefix);
    expect(scalar(r, 'a')).toBe(0.5);
    const e = await failure(() => r.read('c'));
    expect(e.code).toBe('DATA_LOSS');
    expect(e.message).toMatch(/data-00000-of-00001 is truncated: tensor c needs bytes \[12, 16\) but the file has 10/);
  });

  it('a truncated or corrupted index is DATA_LOSS naming the index file', async () => {
    const prefix = copyOf('saved_model_half_plus_two_tf2_cpu/00000123', 'short-index');
    const index = fs.readFileSync(`${prefix}.index`);
    fs.writeFileSync(`${prefix}.index`, index.subarray(0, index.length - 10));
    let e = await failure(() => BundleReader.open(prefix));
    expect(e.code).toBe('DATA_LOSS');
    expect(e.message).toContain(`${prefix}.index`);
    const flipped = Buffer.from(index);
    flipped[30] ^= 0xff;
    fs.writeFileSync(`${prefix}.index`, flipped);
    e = await failure(() => BundleReader.open(prefix));
    expect(e.code).toBe('DATA_LOSS');
    expect(e.message).toMatch(/block checksum mismatch/);
  });

  it('a corrupted string tensor fails its length checksum', async () => {
    const prefix = copyOf('saved_model_half_plus_two_tf2_cpu/00000123', 'string');
    const r0 = await BundleReader.open(prefix);
    const { offset } = r0.entry('_CHECKPOINTABLE_OBJECT_GRAPH');
    const data = fs.readFileSync(`${prefix}.data-00000-of-00001`);
    data[offset] ^= 0x02; // the first varint length
    fs.writeFileSync(`${prefix}.data-00000-of-00001`, data);
    const r = await BundleReader.open(prefix);
    const e = await failure(() => r.read('_CHECKPOINTABLE_OBJECT_GRAPH'));
    expect(e.code).toBe('DATA_LOSS');
    expect(e.message).toMatch(/length checksum does not match|corrupt/);
    expect(e.message).toContain('_CHECKPOINTABLE_OBJECT_GRAPH');
  });

  it('a missing data file or index is NOT_FOUND', async () => {
    const prefix = copyOf('saved_model_counter/00000123', 'missing');
    fs.rmSync(`${prefix}.data-00000-of-00001`);
    let e = await failure(() => BundleReader.open(prefix));
    expect(e.code).toBe('NOT_FOUND');
    expect(e.message).toContain('data-00000-of-00001');
    e = await failure(() => BundleReader.open(path.join(tmp, 'nothing', 'variables')));
    expect(e.code).toBe('NOT_FOUND');
  });

  it('refuses partitioned variables and wrong entry sizes', async () => {
    const prefix = path.join(tmp, 'sliced', 'variables');
    fs.mkdirSync(path.dirname(prefix), { recursive: true });
    const Entry = protoType('tensorflow.BundleEntryProto');
    const t = new TableBuilder();
    t.add(new Uint8Array(0), protoType('tensorflow.BundleHeaderProto').encode({ numShards: 1, version: { producer: 1 } }).finish());
    t.add(new TextEncoder().encode('bad_size'), Entry.encode({ dtype: 1, shape: { dim: [{ size: 2 }] }, size: 4 }).finish());
    t.add(
      new TextEncoder().encode('w'),
      Entry.encode({ dtype: 1, shape: { dim: [{ size: 4 }] }, slices: [{ extent: [{ start: 0, length: 2 }] }] }).finish(),
    );
    fs.writeFileSync(`${prefix}.index`, t.finish());
    fs.writeFileSync(`${prefix}.data-00000-of-00001`, new Uint8Array(16));
    const r = await BundleReader.open(prefix);
    expect(r.entry('w').sliced).toBe(true);
    const e = await failure(() => r.read('w'));
    expect(e.code).toBe('UNIMPLEMENTED');
    expect(e.message).toMatch(/partitioned/);
    const s = await failure(() => r.read('bad_size'));
    expect(s.code).toBe('DATA_LOSS');
    expect(s.message).toBe('Invalid size in bundle entry: key bad_size; stored size 4; expected size 8');
  });
});
