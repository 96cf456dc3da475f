/**
 * `modelhost metadata M N [--description ...] [--tag k=v ...] [--metric k=v ...]
 * [--source ...] [--remove-tag k ...] [--remove-metric k ...] [--clear-description]
 * [--clear-source]`: prints a version's metadata, or changes it (PATCH
 * /api/v1/models/{m}/versions/{n}, a merge patch: what is not named is kept).
 *
 * `modelhost diff M A B`: what changed in the signatures from version A to B,
 * and what would break clients of A if B answered them
 * (GET /api/v1/models/{m}/versions/{a}/diff/{b}).
 */
import type { Command } from 'commander';
import { metadataFromFields, type MetadataPatch } from '../../registry/version_metadata.js';
import type { MetadataJson, SignatureDiffJson, VersionJson } from './api_client.js';
import { clientCommand, clientFor, printJson, versionArg, type ClientFlags } from './output.js';

interface MetadataFlags extends ClientFlags {
  description?: string;
  clearDescription?: boolean;
  source?: string;
  clearSource?: boolean;
  tag: string[];
  metric: string[];
  removeTag: string[];
  removeMetric: string[];
}

/** Collects a repeatable option's values. */
export const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** The merge patch the flags ask for (parsed as the server parses upload fields, so the messages match). */
export function metadataPatchOf(flags: MetadataFlags): MetadataPatch {
  const patch = metadataFromFields({
    description: flags.description,
    source: flags.source,
    tag: flags.tag.length > 0 ? flags.tag : undefined,
    metric: flags.metric.length > 0 ? flags.metric : undefined,
  });
  if (flags.clearDescription) patch.description = null;
  if (flags.clearSource) patch.source = null;
  for (const key of flags.removeTag) (patch.tags ??= {})[key] = null;
  for (const key of flags.removeMetric) (patch.metrics ??= {})[key] = null;
  return patch;
}

/** The metadata as lines of text. */
export function metadataText(m: MetadataJson): string {
  const pairs = (o: Record<string, string | number>) => Object.entries(o).map(([k, v]) => `${k}=${v}`).join(' ') || '-';
  return [
    `Description: ${m.description ?? '-'}`,
    `Source:      ${m.source ?? '-'}`,
    `Tags:        ${pairs(m.tags)}`,
    `Metrics:     ${pairs(m.metrics)}`,
  ].join('\n');
}

export function addMetadataCommands(program: Command): void {
  clientCommand(program, 'metadata', "Show a version's description, tags, metrics and source, or change them.")
    .argument('<model>', 'model name')
    .argument('<version>', 'version number', versionArg)
    .option('--description <text>', 'set the description')
    .option('--clear-description', 'remove the description')
    .option('--source <text>', 'set where the version comes from (who, from where, commit or run id)')
    .option('--clear-source', 'remove the source')
    .option('--tag <key=value>', 'set a tag (repeat for more)', collect, [])
    .option('--remove-tag <key>', 'remove a tag (repeat for more)', collect, [])
    .option('--metric <name=number>', 'set a metric, e.g. accuracy=0.91 (repeat for more)', collect, [])
    .option('--remove-metric <name>', 'remove a metric (repeat for more)', collect, [])
    .action(async (model: string, version: number, flags: MetadataFlags) => {
      const path = `/models/${encodeURIComponent(model)}/versions/${version}`;
      const patch = metadataPatchOf(flags);
      const change = Object.keys(patch).length > 0;
      const v = change ? await clientFor(flags).call<VersionJson>('PATCH', path, patch) : await clientFor(flags).call<VersionJson>('GET', path);
      if (flags.json) return printJson(v.metadata);
      process.stdout.write(`${change ? 'Changed ' : ''}${model} version ${v.version}\n${metadataText(v.metadata)}\n`);
    });

  clientCommand(program, 'diff', 'Compare the signatures of two versions: what changed from A to B, and what would break clients of A.')
    .argument('<model>', 'model name')
    .argument('<a>', 'the version clients use now', versionArg)
    .argument('<b>', 'the version to compare it with', versionArg)
    .action(async (model: string, a: number, b: number, flags: ClientFlags) => {
      const d = await clientFor(flags).call<SignatureDiffJson>('GET', `/models/${encodeURIComponent(model)}/versions/${a}/diff/${b}`);
      if (flags.json) return printJson(d);
      process.stdout.write(diffText(d));
    });
}

const tensor = (t: { dtype: string; shape: number[] | null }) => `${t.dtype} ${t.shape === null ? 'unknown rank' : `[${t.shape.join(', ')}]`}`;

/** The diff as text: one line per change, then the breaking ones. */
export function diffText(d: SignatureDiffJson): string {
  if (d.identical) return `Versions ${d.from} and ${d.to} of ${d.model} have the same signatures.\n`;
  const lines = [`Signatures of ${d.model}, version ${d.from} → ${d.to}:`];
  for (const [name, s] of Object.entries(d.signatures)) {
    if (s.status === 'unchanged') continue;
    if (s.status !== 'changed') {
      lines.push(`  ${s.status === 'added' ? '+' : '-'} ${name}`);
      continue;
    }
    lines.push(`  ~ ${name}`);
    if (s.method) lines.push(`      method: ${s.method.before} → ${s.method.after}`);
    for (const side of ['inputs', 'outputs'] as const) {
      const t = s[side];
      const what = side === 'inputs' ? 'input' : 'output';
      for (const [n, x] of Object.entries(t.removed)) lines.push(`      - ${what} ${n}: ${tensor(x)}`);
      for (const [n, x] of Object.entries(t.added)) lines.push(`      + ${what} ${n}: ${tensor(x)}`);
      for (const [n, c] of Object.entries(t.changed)) lines.push(`      ~ ${what} ${n}: ${tensor(c.before)} → ${tensor(c.after)}`);
    }
  }
  if (d.breaking_changes.length === 0) lines.push(`Nothing breaks clients of version ${d.from}.`);
  else {
    lines.push(`Breaks clients of version ${d.from}:`);
    for (const c of d.breaking_changes) lines.push(`  ! ${c.message}`);
  }
  return `${lines.join('\n')}\n`;
}
