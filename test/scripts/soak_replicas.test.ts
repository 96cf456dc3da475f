// A short `npm run soak -- --replicas=3` (scripts/soak.ts,
// scripts/soak_replicas.ts): three `modelhost serve` replicas with default
// flags sharing a real PostgreSQL registry and an S3 bucket (s3rver), 8
// keep-alive clients rotating over their ports, 8 changes (uploads, pins,
// unpins, rollbacks, retires) each through the next replica. No request may
// fail; an answer naming no version must come from the version before or
// after the change in progress, and from 2 s after a change was acknowledged
// only from the new one, on every replica; every replica's registry must
// report the new active version by then.
import { expect, it } from 'vitest';
import { runSoak } from '../../scripts/soak.js';
import { describePostgres } from '../registry/postgres_helper.js';

describePostgres('soak with three replicas (short)', () => {
  it('8 changes through three replicas under 8 clients: no failure, no wrong answer, every replica agrees within 2 s', async () => {
    const r = await runSoak({ replicas: 3, changes: 8, clients: 8, specificEvery: 4, seed: 3 });
    expect(r.problems).toEqual([]);
    expect([r.failures, r.wrongAnswers, r.changeFailures]).toEqual([0, 0, 0]);
    expect(Object.values(r.changes).reduce((a, b) => a + b, 0)).toBe(8);
    expect(Object.keys(r.changes).length).toBeGreaterThanOrEqual(3);
    expect(r.requests).toBeGreaterThan(500);
    expect(r.slowestAgreementMs).toBeLessThan(2000);
  }, 240_000);
});
