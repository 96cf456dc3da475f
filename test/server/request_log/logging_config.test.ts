// logging_config in a model_config_list: parsed with the config file, checked
// (rates, collector type), and the path rule that keeps log files inside
// --request_log_dir, with hostile prefixes.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseModelServerConfig } from '../../../server/config_file.js';
import { resolveLogPrefix } from '../../../server/request_log/logging_config.js';
import { checkLoggingConfigs } from '../../../server/request_log/request_logger.js';

const FILE = '/etc/modelhost/models.conf';
const withLogging = (logging: string) =>
  `model_config_list { config { name: "m" base_path: "/models/m" model_platform: "tensorflow" logging_config { ${logging} } } }`;

describe('logging_config in model_config_list', () => {
  it('reads the collector and the sampling config', () => {
    const [m] = parseModelServerConfig(
      withLogging('log_collector_config { type: "file" filename_prefix: "m/requests" } sampling_config { sampling_rate: 0.25 attributes: 3 }'),
      FILE,
    );
    expect(m.logging).toEqual({ collectorType: 'file', filenamePrefix: 'm/requests', samplingRate: 0.25, attributes: 3 });
  });

  it('leaves models without one unlogged, and defaults an absent sampling_config to rate 0 (TF Serving: nothing sampled)', () => {
    const models = parseModelServerConfig(
      `model_config_list {
        config { name: "a" base_path: "/m/a" model_platform: "tensorflow" }
        config { name: "b" base_path: "/m/b" model_platform: "tensorflow" logging_config { log_collector_config { filename_prefix: "b" } } }
      }`,
      FILE,
    );
    expect(models[0].logging).toBeUndefined();
    expect(models[1].logging).toEqual({ collectorType: '', filenamePrefix: 'b', samplingRate: 0, attributes: 0 });
  });

  it('applies the first per-task rule naming no dc and no task index (modelhost has neither)', () => {
    const [m] = parseModelServerConfig(
      withLogging(`log_collector_config { filename_prefix: "m" }
        sampling_config { sampling_rate: 0.5
          per_task_sampling_configs { dc: "aa" sampling_rate: 0.1 }
          per_task_sampling_configs { task_index: 0 sampling_rate: 0.2 }
          per_task_sampling_configs { sampling_rate: 0.3 }
          per_task_sampling_configs { sampling_rate: 0.4 } }`),
      FILE,
    );
    expect(m.logging?.samplingRate).toBe(0.3);
  });

  it.each([
    ['a negative rate', 'log_collector_config { filename_prefix: "m" } sampling_config { sampling_rate: -0.1 }', /sampling_rate is -0.1; a sampling rate must be in \[0, 1\]/],
    ['a rate over 1', 'log_collector_config { filename_prefix: "m" } sampling_config { sampling_rate: 1.5 }', /sampling_rate is 1.5/],
    ['a NaN rate', 'log_collector_config { filename_prefix: "m" } sampling_config { sampling_rate: nan }', /sampling_rate is NaN/],
    ['an infinite rate', 'log_collector_config { filename_prefix: "m" } sampling_config { sampling_rate: inf }', /sampling_rate is Infinity/],
    ['a bad per-task rate', 'log_collector_config { filename_prefix: "m" } sampling_config { sampling_rate: 0.5 per_task_sampling_configs { dc: "x" sampling_rate: 7 } }', /per_task_sampling_configs\[0\]\.sampling_rate is 7/],
    ['an unknown collector type', 'log_collector_config { type: "kafka" filename_prefix: "m" }', /Cannot find LogCollector::Factory for type: kafka.*use type "file"/],
    ['a custom logging config', 'custom_logging_config { type_url: "x" }', /custom_logging_config is not supported/],
    ['an empty prefix', 'log_collector_config { filename_prefix: "" } sampling_config { sampling_rate: 1 }', /filename_prefix is empty/],
    ['a prefix with ..', 'log_collector_config { filename_prefix: "m/../../etc/passwd" }', /contains "\.\."/],
    ['a Windows-style ..', 'log_collector_config { filename_prefix: "m\\\\..\\\\..\\\\x" }', /contains "\.\."/],
    ['a prefix ending in a folder', 'log_collector_config { filename_prefix: "m/" }', /ends in a folder/],
    ['a prefix "."', 'log_collector_config { filename_prefix: "." }', /ends in a folder/],
    ['a NUL in the prefix', 'log_collector_config { filename_prefix: "m\\000x" }', /NUL/],
  ])('refuses %s, naming the model and the file', (_what, logging, message) => {
    let error: Error | undefined;
    try {
      parseModelServerConfig(withLogging(logging), FILE);
    } catch (e) {
      error = e as Error;
    }
    expect(error?.message).toMatch(message);
    expect(error?.message).toContain(`'${FILE}'`);
    expect(error?.message).toMatch(/Model m:|model_config|Error parsing/);
  });

  it('refuses an unknown field with the text-format parse error', () => {
    expect(() => parseModelServerConfig(withLogging('sampling_config { rate: 1 }'), FILE)).toThrow(/Error parsing text-format tensorflow.serving.ModelServerConfig/);
  });
});

describe('the request log folder rule', () => {
  const root = '/var/log/modelhost';

  it('takes a relative prefix under the folder and an absolute one only inside it', () => {
    expect(resolveLogPrefix('m/requests', root, 'm')).toBe(path.join(root, 'm/requests'));
    expect(resolveLogPrefix('requests', root, 'm')).toBe(path.join(root, 'requests'));
    expect(resolveLogPrefix('/var/log/modelhost/m/requests', root, 'm')).toBe('/var/log/modelhost/m/requests');
    expect(resolveLogPrefix('./m//requests', root, 'm')).toBe(path.join(root, 'm/requests'));
  });

  it.each([
    ['/etc/passwd', /outside the request log folder \/var\/log\/modelhost \(--request_log_dir\)/],
    ['/var/log/modelhost-other/x', /outside the request log folder/],
    ['/var/log/modelhost', /outside the request log folder/],
    ['/var/log', /outside the request log folder/],
    ['/var/log/modelhost/../x', /contains "\.\."/],
    ['../x', /contains "\.\."/],
  ])('refuses %s', (prefix, message) => {
    expect(() => resolveLogPrefix(prefix, root, 'm')).toThrow(message);
  });

  it('checks a whole model list against the folder, as serve does at startup and on reloads', () => {
    const models = parseModelServerConfig(withLogging('log_collector_config { filename_prefix: "/tmp/elsewhere/x" } sampling_config { sampling_rate: 1 }'), FILE);
    expect(() => checkLoggingConfigs(models, root)).toThrow(/Model m: .*"\/tmp\/elsewhere\/x" is outside the request log folder/);
    expect(() => checkLoggingConfigs(models, '/tmp')).not.toThrow();
  });
});
