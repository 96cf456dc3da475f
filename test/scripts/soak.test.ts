// A short `npm run soak` (scripts/soak.ts): 20 changes (uploads, pins,
// unpins, rollbacks, retires) under 8 keep-alive clients against a real
// `modelhost serve` with default flags, half of them on specific versions so
// more versions are in demand than --max_loaded_versions keeps (on the code
// before issue 13 this run livelocked: requests got no answer within 30 s). No request may fail, no answer may
// come from a version that was not allowed at that moment, and after every
// change the server's active version must be the one the change implies.
import { describe, expect, it } from 'vitest';
import { runSoak } from '../../scripts/soak.js';

describe('soak (short)', () => {
  it('20 changes under 8 clients: no failure, no wrong answer', async () => {
    const r = await runSoak({ changes: 20, clients: 8, specificEvery: 2, seed: 7 });
    expect(r.problems).toEqual([]);
    expect([r.failures, r.wrongAnswers, r.changeFailures]).toEqual([0, 0, 0]);
    expect(Object.values(r.changes).reduce((a, b) => a + b, 0)).toBe(20);
    expect(r.requests).toBeGreaterThan(500);
  }, 120_000);
});
