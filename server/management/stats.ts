/**
 * `GET /api/v1/models/{m}/stats?window=N`'s query: the window in whole
 * seconds, 1 to MAX_WINDOW_SECONDS (the hour the sampler keeps), default all
 * of it. The answer is RequestStats.query's JSON (server/request_stats.ts).
 */
import { invalidArgument } from '../../runtime/errors.js';
import { MAX_WINDOW_SECONDS, RESOLUTION_SECONDS } from '../request_stats.js';

export function statsWindow(value: unknown): number {
  if (value === undefined || value === '') return MAX_WINDOW_SECONDS;
  if (typeof value !== 'string' || !/^\d{1,7}$/.test(value) || Number(value) < 1 || Number(value) > MAX_WINDOW_SECONDS) {
    throw invalidArgument(
      `Query parameter window must be a whole number of seconds from 1 to ${MAX_WINDOW_SECONDS} (the last hour, in ${RESOLUTION_SECONDS} s buckets), got ${JSON.stringify(value)}.`,
    );
  }
  return Number(value);
}
