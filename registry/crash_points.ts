/**
 * Crash points: the registry calls its CrashHook at each named step of an
 * upload or purge (registry/registry.ts); tests pass a hook that never
 * returns, and `MODELHOST_CRASH_AT=<point>[,<point>]` makes the process
 * SIGKILL itself there (scripts/crash_test.ts). registry/recovery.ts
 * finishes or undoes a move stopped at any of them. The durable moves
 * between them are in serving/durable.ts.
 */
export const CRASH_POINTS = [
  /** Upload: the staged files are synced; nothing is recorded yet. */
  'upload:staged',
  /** Upload: the version row and its pending move are committed; the folder is still staged. */
  'upload:recorded',
  /** Upload: the folder is renamed into place; the move is not finished in the registry. */
  'upload:moved',
  /** Upload: finished in the registry; the staging folder is not removed yet. */
  'upload:committed',
  /** Purge: the pending move is committed; the version folder is still in place. */
  'purge:recorded',
  /** Purge: the version folder is renamed to its .purged-* name; the registry still lists it. */
  'purge:moved',
  /** Purge: the version is REMOVED in the registry; the .purged-* folder is not deleted yet. */
  'purge:committed',
] as const;

export type CrashPoint = (typeof CRASH_POINTS)[number];

/** Called at each crash point; a hook that never resolves stops the operation there, as a kill would. */
export type CrashHook = (point: CrashPoint) => void | Promise<void>;

/** Environment variable naming crash points where the process kills itself (SIGKILL); for crash tests only. */
export const CRASH_AT_ENV = 'MODELHOST_CRASH_AT';

/** The hook `MODELHOST_CRASH_AT` asks for, or undefined when it is unset. Throws on an unknown point. */
export function crashHookFromEnv(env: NodeJS.ProcessEnv = process.env): CrashHook | undefined {
  const value = env[CRASH_AT_ENV];
  if (!value) return undefined;
  const points = new Set(value.split(',').map((p) => p.trim()).filter((p) => p !== ''));
  for (const p of points) {
    if (!(CRASH_POINTS as readonly string[]).includes(p)) {
      throw new Error(`${CRASH_AT_ENV}: unknown crash point ${p}; known: ${CRASH_POINTS.join(', ')}.`);
    }
  }
  return (point) => {
    if (points.has(point)) process.kill(process.pid, 'SIGKILL');
  };
}
