import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { StatusError } from '../../../runtime/errors.js';
import { int64ToBigInt, type Int64Like } from '../../../runtime/proto/long.js';
import { protoType } from '../../../runtime/proto/schema.js';
import { parseTextProto } from '../../../runtime/proto/textformat.js';

const FIXTURES = path.resolve(import.meta.dirname, '../../../../shared/fixtures/tf-serving');
const read = (f: string) => fs.readFileSync(path.join(FIXTURES, f), 'utf8');

interface ModelServerConfig {
  config: string;
  modelConfigList: {
    config: {
      name: string;
      basePath: string;
      modelPlatform: string;
      modelVersionPolicy?: { policyChoice: string; specific?: { versions: Int64Like[] }; latest?: { numVersions: number } };
      versionLabels: Record<string, Int64Like>;
    }[];
  };
}

function parseError(text: string, type = 'tensorflow.serving.ModelServerConfig'): StatusError {
  try {
    parseTextProto(text, protoType(type), 'cfg.txt');
  } catch (e) {
    expect(e).toBeInstanceOf(StatusError);
    expect((e as StatusError).code).toBe('INVALID_ARGUMENT');
    return e as StatusError;
  }
  throw new Error('expected a parse error');
}

describe('protobuf text format', () => {
  it('parses good_model_config.txt', () => {
    const cfg = parseTextProto(read('good_model_config.txt'), protoType('tensorflow.serving.ModelServerConfig')) as unknown as ModelServerConfig;
    expect(cfg.config).toBe('modelConfigList');
    expect(cfg.modelConfigList.config.map((c) => [c.name, c.basePath, c.modelPlatform])).toEqual([
      ['half_plus_two', '${TEST_HALF_PLUS_TWO_DIR}', 'tensorflow'],
      ['half_plus_three', '${TEST_HALF_PLUS_THREE_DIR}', 'tensorflow'],
    ]);
  });

  it('rejects bad_model_config.txt with line and column', () => {
    const e = parseError(read('bad_model_config.txt'));
    expect(e.message).toBe('cfg.txt:1:1: Message type "tensorflow.serving.ModelServerConfig" has no field named "improperly".');
  });

  it('parses batching_config.txt (wrapper messages)', () => {
    const b = parseTextProto(read('batching_config.txt'), protoType('tensorflow.serving.BatchingParameters')) as unknown as Record<
      string,
      { value: Int64Like }
    >;
    expect(int64ToBigInt(b.maxBatchSize.value)).toBe(128n);
    expect(int64ToBigInt(b.batchTimeoutMicros.value)).toBe(0n);
    expect(int64ToBigInt(b.maxEnqueuedBatches.value)).toBe(1000000n);
    expect(int64ToBigInt(b.numBatchThreads.value)).toBe(8n);
    expect(b.threadPoolName).toBeNull();
  });

  it('parses monitoring_config.txt', () => {
    const m = parseTextProto(read('monitoring_config.txt'), protoType('tensorflow.serving.MonitoringConfig')) as unknown as {
      prometheusConfig: { enable: boolean; path: string };
    };
    expect(m.prometheusConfig).toMatchObject({ enable: true, path: '/monitoring/prometheus/metrics' });
  });

  it('handles version policies, labels, lists, comments, < > messages and escapes', () => {
    const text = `
      # a comment
      model_config_list {
        config {
          name: 'm\\x41\\101\\n\\u00e9' "-tail"   # adjacent strings concatenate
          base_path: "/models/m"
          model_version_policy { specific { versions: [1, 0x10, 017] versions: 42 } }
          version_labels { key: "stable" value: 1 }
          version_labels: { key: "canary", value: 42 };
        }
        config < name: "n" model_version_policy: < latest { num_versions: 2 } > model_type: TENSORFLOW >
      }`;
    const cfg = parseTextProto(text, protoType('tensorflow.serving.ModelServerConfig')) as unknown as ModelServerConfig & {
      modelConfigList: { config: { modelType: number }[] };
    };
    const [m, n] = cfg.modelConfigList.config;
    expect(m.name).toBe('mAA\né-tail');
    expect(m.modelVersionPolicy!.policyChoice).toBe('specific');
    expect(m.modelVersionPolicy!.specific!.versions.map((v) => int64ToBigInt(v))).toEqual([1n, 16n, 15n, 42n]);
    expect(Object.fromEntries(Object.entries(m.versionLabels).map(([k, v]) => [k, int64ToBigInt(v)]))).toEqual({ stable: 1n, canary: 42n });
    expect(n.modelVersionPolicy!.latest!.numVersions).toBe(2);
    expect(cfg.modelConfigList.config[1].modelType).toBe(1);
  });

  it('parses floats, bools, negative numbers, enums and Any expansions', () => {
    const t = parseTextProto(
      `dtype: DT_HALF tensor_shape { dim { size: -1 } unknown_rank: false } float_val: [1.5, -2e3, inf, -inf, 3f] bool_val: [true, f, 1] int64_val: -9223372036854775808`,
      protoType('tensorflow.TensorProto'),
    ) as unknown as { dtype: number; floatVal: number[]; boolVal: boolean[]; int64Val: Int64Like[]; tensorShape: { dim: { size: Int64Like }[] } };
    expect(t.dtype).toBe(19);
    expect(t.floatVal).toEqual([1.5, -2000, Infinity, -Infinity, 3]);
    expect(t.boolVal).toEqual([true, false, true]);
    expect(int64ToBigInt(t.int64Val[0])).toBe(-(2n ** 63n));
    expect(int64ToBigInt(t.tensorShape.dim[0].size)).toBe(-1n);

    const c = parseTextProto(
      `any_list { value { [type.googleapis.com/tensorflow.AssetFileDef] { filename: "vocab.txt" tensor_info { name: "Const:0" } } } }`,
      protoType('tensorflow.CollectionDef'),
    ) as unknown as { anyList: { value: { typeUrl: string; value: Uint8Array }[] } };
    const any = c.anyList.value[0];
    expect(any.typeUrl).toBe('type.googleapis.com/tensorflow.AssetFileDef');
    expect(protoType('tensorflow.AssetFileDef').decode(any.value)).toMatchObject({ filename: 'vocab.txt', tensorInfo: { name: 'Const:0' } });
  });

  it('names the position of each kind of error', () => {
    expect(parseError('model_config_list {\n  config { name "x" }\n}').message).toBe('cfg.txt:2:17: Expected ":", found "x".');
    expect(parseError('model_config_list {\n  config { name: "x" name: "y" }\n}').message).toMatch(/^cfg\.txt:2:22: Non-repeated field "name" is specified multiple times\.$/);
    expect(parseError('model_config_list { config { model_type: FOO } }').message).toMatch(/^cfg\.txt:1:42: Unknown enumeration value of "FOO" for field "model_type"\.$/);
    expect(parseError('model_config_list { config { name: "x } }').message).toMatch(/^cfg\.txt:1:36: Unterminated string/);
    expect(parseError('model_config_list {').message).toMatch(/^cfg\.txt:1:20: Expected "}", found end of input\./);
    expect(parseError('model_config_list { } custom_model_config { }').message).toMatch(/another member of oneof "config"/);
    expect(parseError('enable: maybe', 'tensorflow.serving.PrometheusConfig').message).toMatch(/^cfg\.txt:1:9: Invalid value for boolean field "enable"/);
    expect(parseError('model_config_list { config { model_version_policy { specific { versions: 99999999999999999999 } } } }').message).toMatch(/out of range/);
  });
});
