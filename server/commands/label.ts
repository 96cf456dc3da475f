/**
 * `modelhost label M LABEL N` points a label at a version (requests to
 * /v1/models/M/labels/LABEL go there); `modelhost label M LABEL --delete`
 * removes it (PUT/DELETE /api/v1/models/{m}/labels/{label}).
 */
import { InvalidArgumentError, type Command } from 'commander';
import type { ModelJson } from './api_client.js';
import { labelsText } from './models.js';
import { clientCommand, clientFor, printJson, versionArg, type ClientFlags } from './output.js';

interface LabelFlags extends ClientFlags {
  delete?: boolean;
}

export function addLabelCommand(program: Command): void {
  clientCommand(program, 'label', 'Point a label at a version, or remove it with --delete.')
    .argument('<model>', 'model name')
    .argument('<label>', 'label name ([A-Za-z0-9_.-])')
    .argument('[version]', 'version the label points at', versionArg)
    .option('--delete', 'remove the label')
    .action(async (model: string, label: string, version: number | undefined, flags: LabelFlags) => {
      if ((version === undefined) === !flags.delete) {
        throw new InvalidArgumentError('give either a version or --delete.');
      }
      const path = `/models/${encodeURIComponent(model)}/labels/${encodeURIComponent(label)}`;
      const client = clientFor(flags);
      const m = flags.delete ? await client.call<ModelJson>('DELETE', path) : await client.call<ModelJson>('PUT', path, { version });
      if (flags.json) return printJson(m);
      process.stdout.write(`${m.name} labels: ${labelsText(m.labels) || 'none'}\n`);
    });
}
