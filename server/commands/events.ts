/**
 * `modelhost events M [--limit N] [--before ID]`: a model's history, newest
 * first (GET /api/v1/models/{m}/events).
 */
import { InvalidArgumentError, type Command } from 'commander';
import type { EventJson } from './api_client.js';
import { clientCommand, clientFor, formatTime, printJson, printTable, type ClientFlags } from './output.js';

interface EventsFlags extends ClientFlags {
  limit: number;
  before?: number;
}

function positive(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('expected a whole number >= 1.');
  return Number(value);
}

export function addEventsCommand(program: Command): void {
  clientCommand(program, 'events', "Show a model's history: uploads, loads, failures, pins, rollbacks, labels, retirements.")
    .argument('<model>', 'model name')
    .option('--limit <n>', 'how many events (at most 1000)', positive, 50)
    .option('--before <id>', 'only events older than this event id (paging)', positive)
    .action(async (model: string, flags: EventsFlags) => {
      const query = new URLSearchParams({ limit: String(flags.limit) });
      if (flags.before !== undefined) query.set('before', String(flags.before));
      const page = await clientFor(flags).call<{ events: EventJson[]; next_before: number | null }>(
        'GET',
        `/models/${encodeURIComponent(model)}/events?${query}`,
      );
      if (flags.json) return printJson(page);
      printTable(
        ['ID', 'TIME', 'VERSION', 'EVENT', 'ACTOR', 'DETAIL'],
        page.events.map((e) => [e.id, formatTime(e.time), e.version ?? '-', e.kind, e.actor, e.detail]),
      );
      if (page.next_before !== null) process.stdout.write(`More: modelhost events ${model} --before ${page.next_before}\n`);
    });
}
