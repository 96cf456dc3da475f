// kill -9 of the built server (`node bin/modelhost.js serve`) during uploads,
// pins, unpins and purges, then a restart: the registry and the version
// folders agree, no staging folder is left, and the version that served
// before the kill (or the one the change made serve, when it committed) still
// serves. A short, seeded run of scripts/crash_test.ts; `npm run crash-test`
// runs 100 kills.
import { describe, expect, it } from 'vitest';
import { runCrashTest } from '../../scripts/crash_test.js';

describe('kill -9', () => {
  it('leaves the registry and the folders in agreement after every restart, with the previous version serving', async () => {
    const lines: string[] = [];
    const summary = await runCrashTest({ iterations: 6, seed: 20261206, log: (l) => lines.push(l) });
    expect(summary.violations, lines.join('\n')).toEqual([]);
    expect(Object.values(summary.changes).reduce((n, c) => n + c.sent, 0)).toBe(6);
  }, 240_000);
});
