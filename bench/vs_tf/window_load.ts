/**
 * One serving load case of `--vs-tf`: autocannon keeps `connections`
 * keep-alive connections busy (no pipelining) for warm-up + measured
 * seconds in ONE run, and only responses that complete inside the measured
 * window count. (Two separate runs would abandon the warm-up's requests in
 * flight, which a server that does not cancel keeps computing into the
 * measured run: unfair to it with slow models.) Failures count over the
 * whole run: non-2xx answers, socket errors, timeouts.
 */
import autocannon from 'autocannon';
import { percentile } from './timing.js';

export interface WindowCase {
  url: string;
  bodies: readonly string[];
  connections: number;
  warmupSeconds: number;
  seconds: number;
  /** Per-request timeout (autocannon's), seconds. */
  timeoutSeconds: number;
}

export interface WindowResult {
  connections: number;
  seconds: number;
  /** 2xx responses completed in the window. */
  responses: number;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  failures: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

export function runWindow(c: WindowCase): Promise<WindowResult> {
  const latencies: number[] = [];
  let non2xx = 0;
  let start = 0;
  const windowStart = () => start + c.warmupSeconds * 1000;
  const windowEnd = () => windowStart() + c.seconds * 1000;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: c.url,
        connections: c.connections,
        pipelining: 1,
        duration: c.warmupSeconds + c.seconds,
        timeout: c.timeoutSeconds,
        requests: c.bodies.map((body) => ({ method: 'POST' as const, body, headers: { 'content-type': 'application/json' } })),
      },
      (err, res) => {
        if (err) {
          reject(err);
          return;
        }
        resolve({
          connections: c.connections,
          seconds: c.seconds,
          responses: latencies.length,
          reqPerSec: latencies.length / c.seconds,
          p50Ms: percentile(latencies, 0.5),
          p99Ms: percentile(latencies, 0.99),
          failures: non2xx + res.errors,
          non2xx,
          errors: res.errors,
          timeouts: res.timeouts,
        });
      },
    );
    start = performance.now();
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode < 200 || statusCode >= 300) {
        non2xx++;
        return;
      }
      const now = performance.now();
      if (now >= windowStart() && now < windowEnd()) latencies.push(responseTime);
    });
  });
}
