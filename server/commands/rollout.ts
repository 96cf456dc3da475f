/**
 * `modelhost rollout M [N]`: canary and shadow rollouts over
 * /api/v1/models/{m}/rollout (docs/registry.md#rollouts).
 *
 *   modelhost rollout f_mnist 3 --percent 10       start (or change the percentage of) a canary
 *   modelhost rollout f_mnist 3 --shadow           copies of the requests to version 3
 *   modelhost rollout f_mnist 3 --steps 10,50,100 --step_seconds 300 --max_error_rate 0.01
 *   modelhost rollout f_mnist --promote | --abort
 *   modelhost rollout f_mnist                      show it
 */
import { InvalidArgumentError, type Command } from 'commander';
import { clientCommand, clientFor, printJson, versionArg, type ClientFlags } from './output.js';

interface SideJson {
  version: number;
  requests: number;
  errors: number;
  error_rate: number | null;
  p50_ms: number | null;
  p99_ms: number | null;
}

export interface RolloutJson {
  model: string;
  stable: number;
  candidate: number;
  percent: number;
  mode: 'canary' | 'shadow';
  /** 'none': the model never had a rollout (the other fields are null then). */
  state: 'running' | 'promoted' | 'aborted' | 'none';
  reason: string | null;
  limits: { max_error_rate: number | null; max_p99_latency_ratio: number | null; min_requests: number } | null;
  window_seconds: number;
  steps: number[] | null;
  step_seconds: number | null;
  stats: {
    stable: SideJson | null;
    candidate: SideJson | null;
    shadow?: { requests: number; agreement: number | null; max_abs_diff: number | null; p50_ms: number | null; p99_ms: number | null; dropped: number; failed: number };
  };
}

interface RolloutFlags extends ClientFlags {
  percent?: number;
  shadow?: boolean;
  promote?: boolean;
  abort?: boolean;
  steps?: number[];
  step_seconds?: number;
  window_seconds?: number;
  max_error_rate?: number;
  max_p99_latency_ratio?: number;
  min_requests?: number;
  force?: boolean;
}

function number(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`expected a number, got "${value}".`);
  return n;
}

function percentList(value: string): number[] {
  return value.split(',').map((p) => number(p.trim()));
}

const side = (s: SideJson | null) =>
  s === null || s.requests === 0 ? 'no requests' : `${s.requests} requests, ${s.errors} errors, p50 ${s.p50_ms} ms, p99 ${s.p99_ms} ms`;

/** A few lines saying where the rollout stands. */
export function rolloutText(r: RolloutJson): string {
  if (r.state === 'none') return `${r.model}: no rollout yet (start one: modelhost rollout ${r.model} VERSION --percent 10)\n`;
  const lines = [
    r.mode === 'shadow'
      ? `${r.model}: shadow rollout of version ${r.candidate} (copies of ${r.percent}% of version ${r.stable}'s requests), ${r.state}`
      : `${r.model}: rollout of version ${r.candidate} at ${r.percent}% (version ${r.stable} answers the rest), ${r.state}`,
  ];
  if (r.reason) lines.push(`  reason: ${r.reason}`);
  if (r.limits) {
    const l = r.limits;
    const parts = [l.max_error_rate !== null ? `error rate ≤ ${l.max_error_rate}` : '', l.max_p99_latency_ratio !== null ? `p99 ≤ ${l.max_p99_latency_ratio}× stable` : ''].filter(Boolean);
    lines.push(`  limits: ${parts.join(', ')} over ${r.window_seconds} s, from ${l.min_requests} requests`);
  }
  if (r.steps) lines.push(`  steps: ${r.steps.join('% → ')}% every ${r.step_seconds} s`);
  if (r.stats.candidate || r.stats.stable) {
    lines.push(`  candidate: ${side(r.stats.candidate)}`);
    lines.push(`  stable:    ${side(r.stats.stable)}`);
  }
  const s = r.stats.shadow;
  if (s) {
    lines.push(
      `  shadow: ${s.requests} compared, agreement ${s.agreement ?? '-'}, max |diff| ${s.max_abs_diff ?? '-'}, p50 ${s.p50_ms ?? '-'} ms, p99 ${s.p99_ms ?? '-'} ms, ${s.dropped} dropped, ${s.failed} failed`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export function addRolloutCommand(program: Command): void {
  clientCommand(program, 'rollout', 'Send a share of the requests (or copies of them, --shadow) to a candidate version; promote or abort it.')
    .argument('<model>', 'model name')
    .argument('[version]', 'candidate version (start, or change the running rollout)', versionArg)
    .option('--percent <p>', 'share of requests naming no version the candidate answers (0-100)', number)
    .option('--shadow', 'shadow mode: the candidate gets copies, clients get the stable answers')
    .option('--steps <list>', 'automatic percentages, e.g. 10,50,100 (each held --step_seconds within limits)', percentList)
    .option('--step_seconds <s>', 'how long each step is held', number)
    .option('--window_seconds <s>', 'guard-rail window (default 60)', number)
    .option('--max_error_rate <r>', 'abort when the candidate error rate exceeds this fraction', number)
    .option('--max_p99_latency_ratio <x>', "abort when the candidate's p99 exceeds this multiple of the stable one's", number)
    .option('--min_requests <n>', 'candidate requests in the window before limits are judged (default 50)', number)
    .option('--force', 'roll out a candidate whose signatures would break callers of the stable version')
    .option('--promote', 'make the candidate serve every request naming no version')
    .option('--abort', 'end the rollout: the stable version answers every request again')
    .action(async (model: string, version: number | undefined, flags: RolloutFlags) => {
      const client = clientFor(flags);
      const at = `/models/${encodeURIComponent(model)}/rollout`;
      if (flags.promote && flags.abort) throw new InvalidArgumentError('--promote and --abort exclude each other.');
      let r: RolloutJson;
      if (flags.promote || flags.abort) {
        if (version !== undefined) throw new InvalidArgumentError('--promote and --abort act on the running rollout: leave the version out.');
        r = flags.promote ? await client.call<RolloutJson>('POST', `${at}/promote`) : await client.call<RolloutJson>('DELETE', at);
      } else if (version === undefined) {
        r = await client.call<RolloutJson>('GET', at);
      } else {
        const limits =
          flags.max_error_rate !== undefined || flags.max_p99_latency_ratio !== undefined || flags.min_requests !== undefined
            ? { max_error_rate: flags.max_error_rate, max_p99_latency_ratio: flags.max_p99_latency_ratio, min_requests: flags.min_requests }
            : undefined;
        r = await client.call<RolloutJson>('POST', at, {
          version,
          percent: flags.percent,
          mode: flags.shadow ? 'shadow' : undefined,
          limits,
          window_seconds: flags.window_seconds,
          steps: flags.steps,
          step_seconds: flags.step_seconds,
          force: flags.force ? true : undefined,
        });
      }
      if (flags.json) printJson(r);
      else process.stdout.write(rolloutText(r));
    });
}
