/**
 * `modelhost pin M N`, `modelhost unpin M`, `modelhost rollback M`: choose
 * which version answers requests that name none (POST/DELETE
 * /api/v1/models/{m}/pin, POST /api/v1/models/{m}/rollback).
 */
import type { Command } from 'commander';
import type { ModelJson } from './api_client.js';
import { clientCommand, clientFor, printJson, versionArg, type ClientFlags } from './output.js';

/** One line saying what serves now. */
export function servingLine(m: ModelJson): string {
  const active = m.active_version === null ? 'no version' : `version ${m.active_version}`;
  const why = m.pinned_version !== null ? `pinned to ${m.pinned_version}` : 'following the newest version';
  const previous = m.previous_version !== null ? `; previous: ${m.previous_version}` : '';
  return `${m.name}: ${active} serves (${why}${previous})\n`;
}

function print(m: ModelJson, flags: ClientFlags): void {
  if (flags.json) printJson(m);
  else process.stdout.write(servingLine(m));
}

export function addPinCommands(program: Command): void {
  clientCommand(program, 'pin', 'Serve one version for requests that name no version, until unpinned.')
    .argument('<model>', 'model name')
    .argument('<version>', 'version to pin', versionArg)
    .action(async (model: string, version: number, flags: ClientFlags) => {
      print(await clientFor(flags).call<ModelJson>('POST', `/models/${encodeURIComponent(model)}/pin`, { version }), flags);
    });

  clientCommand(program, 'unpin', 'Follow the newest available version again.')
    .argument('<model>', 'model name')
    .action(async (model: string, flags: ClientFlags) => {
      print(await clientFor(flags).call<ModelJson>('DELETE', `/models/${encodeURIComponent(model)}/pin`), flags);
    });

  clientCommand(program, 'rollback', 'Switch back to the version that served before the current one, and pin it.')
    .argument('<model>', 'model name')
    .action(async (model: string, flags: ClientFlags) => {
      print(await clientFor(flags).call<ModelJson>('POST', `/models/${encodeURIComponent(model)}/rollback`), flags);
    });
}
