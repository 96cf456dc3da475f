/**
 * A CPU profile of `modelhost serve` under load: the server runs under
 * `node --cpu-prof` (main thread and each worker thread write a profile when
 * the process exits), one load case is driven at it, the server is stopped,
 * and each thread's profile is summarised (profile.ts) over the measured
 * window only (start-up and shutdown left out).
 */
import fs from 'node:fs';
import path from 'node:path';
import { startModelhost } from '../servers.js';
import { summarise, type CpuProfile, type ProfileSummary } from './profile.js';
import { runWindow, type WindowResult } from './window_load.js';

export interface ThreadProfile {
  /** "main thread" or "worker thread N". */
  thread: string;
  summary: ProfileSummary;
}

export async function profileServer(o: {
  workDir: string;
  modelsDir: string;
  model: string;
  bodies: string[];
  connections: number;
  seconds: number;
  serveArgs: string[];
}): Promise<{ load: WindowResult; threads: ThreadProfile[] }> {
  const dir = fs.mkdtempSync(path.join(o.workDir, 'server-prof-'));
  const server = await startModelhost({
    workDir: o.workDir,
    modelsDir: o.modelsDir,
    args: ['--file_system_poll_wait_seconds=0', ...o.serveArgs],
    models: [o.model],
    label: `prof-${o.model}`,
    nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=500'],
  });
  let load: WindowResult;
  let measuredFrom = 0;
  let measuredTo = 0;
  try {
    const warmupSeconds = 1;
    const started = performance.now();
    load = await runWindow({ url: `${server.url}/v1/models/${o.model}:predict`, bodies: o.bodies, connections: o.connections, warmupSeconds, seconds: o.seconds, timeoutSeconds: 120 });
    measuredFrom = started + warmupSeconds * 1000;
    measuredTo = performance.now();
  } finally {
    await server.stop();
  }
  // Only the samples of the measured window: it ended (now - measuredTo) before the server exited.
  const stopped = performance.now();
  const window = { fromEndUs: (stopped - measuredFrom) * 1000, toEndUs: (stopped - measuredTo) * 1000 };
  // CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile; thread 0 is the main thread.
  const threads = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => {
      const tid = Number(f.split('.').at(-3));
      const summary = summarise(JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as CpuProfile, 12, window);
      return { tid, thread: tid === 0 ? 'main thread' : `worker thread ${tid}`, summary };
    })
    .sort((a, b) => a.tid - b.tid)
    .map(({ thread, summary }) => ({ thread, summary }));
  return { load, threads };
}
