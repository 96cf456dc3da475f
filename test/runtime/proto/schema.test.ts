import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { int64ToBigInt } from '../../../runtime/proto/long.js';
import { protoEnum, protoType } from '../../../runtime/proto/schema.js';

const FIXTURES = path.resolve(import.meta.dirname, '../../../../shared/fixtures/tf-serving');

describe('protobuf schema', () => {
  it('decodes a real saved_model.pb', () => {
    const bytes = fs.readFileSync(path.join(FIXTURES, 'saved_model_half_plus_two_cpu/00000123/saved_model.pb'));
    const sm = protoType('tensorflow.SavedModel').decode(bytes) as unknown as {
      metaGraphs: { metaInfoDef: { tags: string[] }; signatureDef: Record<string, { methodName: string }> }[];
    };
    expect(sm.metaGraphs).toHaveLength(1);
    expect(sm.metaGraphs[0].metaInfoDef.tags).toEqual(['serve']);
    expect(sm.metaGraphs[0].signatureDef['regress_x_to_y'].methodName).toBe('tensorflow/serving/regress');
  });

  it('decodes strings of every length and script unchanged, and still refuses malformed UTF-8', () => {
    const NodeDef = protoType('tensorflow.NodeDef');
    const names = ['', 'x', 'dense/kernel', 'model/block_1/conv/Conv2D:output:0', 'a'.repeat(63), 'b'.repeat(64), 'ünïcödé/层/😀', `${'c'.repeat(70)}é`];
    for (const name of names) {
      const bytes = NodeDef.encode({ name, op: 'Identity', input: [name, `^${name}`] }).finish();
      const back = NodeDef.decode(Buffer.from(bytes)) as unknown as { name: string; input: string[] };
      expect(back.name).toBe(name);
      expect(back.input).toEqual([name, `^${name}`]);
      // A plain Uint8Array (not a Buffer) takes protobufjs's other reader.
      expect((NodeDef.decode(new Uint8Array(bytes)) as unknown as { name: string }).name).toBe(name);
    }
    // field 1 (name), length 3: 'a', then a lone continuation byte and a truncated 2-byte sequence.
    for (const bad of [[0x0a, 0x03, 0x61, 0x80, 0x62], [0x0a, 0x02, 0x61, 0xc3]]) {
      expect(() => NodeDef.decode(new Uint8Array(bad))).toThrow();
    }
  });

  it('round-trips a tf.Example with exact int64 values', () => {
    const Example = protoType('tensorflow.Example');
    const big = 9007199254740993n; // 2^53 + 1: not representable as a double
    const msg = {
      features: {
        feature: {
          x: { floatList: { value: [1.5, -2] } },
          id: { int64List: { value: [big.toString(), '-5'] } },
          s: { bytesList: { value: [new TextEncoder().encode('héllo')] } },
        },
      },
    };
    const bytes = Example.encode(Example.fromObject(msg)).finish();
    const back = Example.decode(bytes) as unknown as {
      features: { feature: Record<string, { floatList?: { value: number[] }; int64List?: { value: never[] }; bytesList?: { value: Uint8Array[] } }> };
    };
    expect(back.features.feature.x.floatList!.value).toEqual([1.5, -2]);
    expect(back.features.feature.id.int64List!.value.map((v) => int64ToBigInt(v))).toEqual([big, -5n]);
    expect(new TextDecoder().decode(back.features.feature.s.bytesList!.value[0])).toBe('héllo');
  });

  it('has the TF Serving messages of the warm-up file', () => {
    const Log = protoType('tensorflow.serving.PredictionLog');
    const log = Log.fromObject({
      predictLog: {
        request: {
          modelSpec: { name: 'm', signatureName: 'serving_default', version: { value: '7' } },
          inputs: { x: { dtype: 1, tensorShape: { dim: [{ size: 1 }] }, floatVal: [3] } },
        },
      },
    });
    const back = Log.decode(Log.encode(log).finish()) as unknown as {
      logType: string;
      predictLog: { request: { modelSpec: { name: string; version: { value: never } }; inputs: Record<string, { floatVal: number[] }> } };
    };
    expect(back.logType).toBe('predictLog');
    expect(back.predictLog.request.modelSpec.name).toBe('m');
    expect(int64ToBigInt(back.predictLog.request.modelSpec.version.value)).toBe(7n);
    expect(back.predictLog.request.inputs.x.floatVal).toEqual([3]);
    for (const name of [
      'tensorflow.serving.ClassificationRequest',
      'tensorflow.serving.RegressionRequest',
      'tensorflow.serving.MultiInferenceRequest',
      'tensorflow.serving.GetModelMetadataResponse',
      'tensorflow.serving.GetModelStatusResponse',
      'tensorflow.serving.ModelServerConfig',
      'tensorflow.serving.BatchingParameters',
      'tensorflow.serving.MonitoringConfig',
      'tensorflow.SequenceExample',
      'tensorflow.BundleEntryProto',
      'tensorflow.SavedObjectGraph',
    ]) {
      expect(protoType(name).fullName).toBe(`.${name}`);
    }
    expect(protoEnum('tensorflow.DataType').values.DT_BFLOAT16).toBe(14);
  });

  it('reads assets.extra/saved_model_config.pb', () => {
    const bytes = fs.readFileSync(
      path.join(FIXTURES, 'saved_model_half_plus_two_cpu_with_saved_model_config/00000123/assets.extra/saved_model_config.pb'),
    );
    const cfg = protoType('tensorflow.serving.SavedModelConfig').decode(bytes) as unknown as { critical: boolean; sessionOverrides: Uint8Array };
    expect(cfg.critical).toBe(true);
    expect(cfg.sessionOverrides.length).toBeGreaterThan(0);
  });

  it('unknown type names are an error', () => {
    expect(() => protoType('tensorflow.NoSuchThing')).toThrow(/unknown protobuf message type/);
  });
});
