// Model server and monitoring config files in protobuf text format, read from
// TF Serving's own test files in ../shared/fixtures.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseModelServerConfig, readModelServerConfig, readMonitoringConfig } from '../../server/config_file.js';

const FIXTURES = path.resolve(import.meta.dirname, '../../../shared/fixtures/tf-serving');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-config-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('model server config file', () => {
  it('reads good_model_config.txt with its paths substituted', async () => {
    const text = fs
      .readFileSync(path.join(FIXTURES, 'good_model_config.txt'), 'utf8')
      .replace('${TEST_HALF_PLUS_TWO_DIR}', path.join(FIXTURES, 'saved_model_half_plus_two_cpu'))
      .replace('${TEST_HALF_PLUS_THREE_DIR}', path.join(FIXTURES, 'saved_model_half_plus_three'));
    const file = path.join(tmp, 'good.conf');
    fs.writeFileSync(file, text);
    const models = await readModelServerConfig(file);
    expect(models.map((m) => [m.name, m.basePath, m.platform])).toEqual([
      ['half_plus_two', path.join(FIXTURES, 'saved_model_half_plus_two_cpu'), 'tensorflow'],
      ['half_plus_three', path.join(FIXTURES, 'saved_model_half_plus_three'), 'tensorflow'],
    ]);
    expect(models[0].versionPolicy).toEqual({ kind: 'latest', numVersions: 1 });
  });

  it('rejects bad_model_config.txt with a parse error naming the file', async () => {
    const file = path.join(FIXTURES, 'bad_model_config.txt');
    await expect(readModelServerConfig(file)).rejects.toThrow(
      new RegExp(`Invalid protobuf file: '${file}'.*Error parsing text-format tensorflow.serving.ModelServerConfig`),
    );
  });

  it('reads version policies and labels; relative base paths are relative to the file', () => {
    const models = parseModelServerConfig(
      `model_config_list {
        config { name: "a" base_path: "models/a" model_platform: "tensorflow"
                 model_version_policy { specific { versions: 1 versions: 3 } }
                 version_labels { key: "stable" value: 1 } version_labels { key: "canary" value: 3 } }
        config { name: "b" base_path: "/abs/b" model_platform: "tensorflow" model_version_policy { all {} } }
        config { name: "c" base_path: "/abs/c" model_platform: "tensorflow" model_version_policy { latest { num_versions: 2 } } }
      }`,
      '/etc/modelhost/models.conf',
    );
    expect(models[0]).toEqual({
      name: 'a',
      basePath: '/etc/modelhost/models/a',
      platform: 'tensorflow',
      versionPolicy: { kind: 'specific', versions: [1, 3] },
      versionPolicyExplicit: true,
      versionLabels: { stable: 1, canary: 3 },
    });
    expect(models[1].versionPolicy).toEqual({ kind: 'all' });
    expect(models[2].versionPolicy).toEqual({ kind: 'latest', numVersions: 2 });
  });

  it('rejects a model listed twice and an unknown platform', () => {
    expect(() =>
      parseModelServerConfig('model_config_list { config { name: "a" base_path: "/x" } config { name: "a" base_path: "/y" } }', 'f'),
    ).toThrow('Illegal to list model a multiple times in config list');
    expect(() => parseModelServerConfig('model_config_list { config { name: "a" base_path: "/x" model_platform: "onnx" } }', 'f')).toThrow(
      'Model a requests unsupported platform onnx',
    );
  });
});

describe('monitoring config file', () => {
  it('reads the Prometheus path of monitoring_config.txt', async () => {
    expect(await readMonitoringConfig(path.join(FIXTURES, 'monitoring_config.txt'))).toBe('/monitoring/prometheus/metrics');
  });

  it('enables nothing when prometheus_config is off, and the default path when none is given', async () => {
    const off = path.join(tmp, 'off.txt');
    fs.writeFileSync(off, 'prometheus_config { enable: false path: "/m" }');
    expect(await readMonitoringConfig(off)).toBeUndefined();
    const noPath = path.join(tmp, 'nopath.txt');
    fs.writeFileSync(noPath, 'prometheus_config { enable: true }');
    expect(await readMonitoringConfig(noPath)).toBe('/monitoring/prometheus/metrics');
  });
});
