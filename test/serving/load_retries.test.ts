// Retries of a failed load (TF Serving's --max_num_load_retries and
// --load_retry_interval_micros): a version whose load or warm-up fails is
// tried again while it stays wanted, then ends in END; a stop ends the wait.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../serving/log.js';
import { modelConfig } from '../../serving/model_config.js';
import { ServingCore } from '../../serving/serving_core.js';
import { unavailable } from '../../runtime/errors.js';
import { inlineEngine } from '../../runtime/execution/serving_engine.js';
import { copyVersion } from '../server/helpers.js';

let tmp: string;
let core: ServingCore | undefined;

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-retries-'));
  copyVersion('matrix_half_plus_two/1', path.join(tmp, 'm', '1'));
});
afterEach(async () => {
  await core?.stop();
  core = undefined;
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A core whose warm-up fails the first `failures` times; `attempts()` counts the loads tried. */
function coreFailing(failures: number, maxLoadRetries: number | undefined, loadRetryIntervalMs: number): { c: ServingCore; attempts: () => number } {
  let tries = 0;
  const c = new ServingCore({
    engine: inlineEngine(),
    fileSystemPollWaitSeconds: 0,
    maxLoadRetries,
    loadRetryIntervalMs,
    warmup: async () => {
      if (++tries <= failures) throw unavailable(`transient failure ${tries}`);
    },
    log: silentLogger,
  });
  core = c;
  return { c, attempts: () => tries };
}

describe('load retries', () => {
  it('by default (0 retries) a failed load ends in END at once', async () => {
    const { c, attempts } = coreFailing(1, undefined, 10);
    await c.start([modelConfig('m', path.join(tmp, 'm'))]);
    expect(attempts()).toBe(1);
    expect(c.monitor.getState('m', 1)).toMatchObject({ state: 'END', status: { code: 'UNAVAILABLE', message: 'transient failure 1' } });
  });

  it('tries again up to max_num_load_retries times, then serves', async () => {
    const { c, attempts } = coreFailing(2, 2, 10);
    const started = Date.now();
    await c.start([modelConfig('m', path.join(tmp, 'm'))]);
    expect(attempts()).toBe(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(20);
    expect(c.monitor.getState('m', 1)?.state).toBe('AVAILABLE');
  });

  it('ends in END with the last error when every retry fails', async () => {
    const { c, attempts } = coreFailing(5, 2, 0);
    await c.start([modelConfig('m', path.join(tmp, 'm'))]);
    expect(attempts()).toBe(3);
    expect(c.monitor.getState('m', 1)).toMatchObject({ state: 'END', status: { message: 'transient failure 3' } });
  });

  it('a stop ends the wait between retries at once', async () => {
    const { c, attempts } = coreFailing(5, 5, 60_000);
    void c.start([modelConfig('m', path.join(tmp, 'm'))]);
    await new Promise((r) => setTimeout(r, 300));
    expect(attempts()).toBe(1);
    const started = Date.now();
    await c.stop();
    core = undefined;
    expect(Date.now() - started).toBeLessThan(5000);
    expect(attempts()).toBe(1);
  });
});
