/**
 * `modelhost models` and `modelhost versions M`: what a running server's
 * registry holds (GET /api/v1/models, GET /api/v1/models/{m}).
 */
import type { Command } from 'commander';
import type { ModelJson } from './api_client.js';
import { clientCommand, clientFor, formatBytes, formatTime, printJson, printTable, type ClientFlags } from './output.js';

const orDash = (v: number | null) => (v === null ? '-' : String(v));

export function labelsText(labels: Record<string, number>): string {
  return Object.entries(labels)
    .map(([l, v]) => `${l}=${v}`)
    .join(' ');
}

export function addModelsCommands(program: Command): void {
  clientCommand(program, 'models', 'List the models a running server serves, with their active, pinned and labelled versions.').action(
    async (flags: ClientFlags) => {
      const { models } = await clientFor(flags).call<{ models: ModelJson[] }>('GET', '/models');
      if (flags.json) return printJson({ models });
      printTable(
        ['MODEL', 'ACTIVE', 'PINNED', 'PREVIOUS', 'VERSIONS', 'LABELS'],
        models.map((m) => [
          m.name,
          orDash(m.active_version),
          orDash(m.pinned_version),
          orDash(m.previous_version),
          m.versions.filter((v) => !v.retired).length,
          labelsText(m.labels),
        ]),
      );
    },
  );

  clientCommand(program, 'versions', "List a model's versions: state, source, size, sha256, labels.")
    .argument('<model>', 'model name')
    .action(async (model: string, flags: ClientFlags) => {
      const m = await clientFor(flags).call<ModelJson>('GET', `/models/${encodeURIComponent(model)}`);
      if (flags.json) return printJson({ versions: m.versions });
      printTable(
        ['VERSION', 'STATE', 'SERVING', 'SOURCE', 'SIZE', 'CREATED', 'LABELS', 'SHA256', 'ERROR'],
        m.versions.map((v) => {
          const marks = [v.version === m.active_version ? 'active' : '', v.version === m.pinned_version ? 'pinned' : '', v.retired ? 'retired' : '']
            .filter(Boolean)
            .join(',');
          return [
            v.version,
            v.state,
            marks || (v.loaded ? 'loaded' : '-'),
            v.source,
            formatBytes(v.size_bytes),
            formatTime(v.created_at),
            v.labels.join(' '),
            v.sha256 ? v.sha256.slice(0, 12) : '-',
            v.error ?? '',
          ];
        }),
      );
    });
}
