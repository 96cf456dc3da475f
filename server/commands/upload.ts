/**
 * `modelhost upload M DIR|ARCHIVE [--version N] [--no-activate] [--force]
 * [--description TEXT] [--tag k=v ...] [--metric k=v ...] [--source TEXT]`: sends a
 * SavedModel folder (as "files" parts with relative paths) or an archive
 * (.tar.gz, .tgz, .zip: one "archive" part) to POST /api/v1/models/{m}/versions,
 * streaming from disk with a progress bar on a terminal.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { listFiles } from '../../serving/version_files.js';
import type { VersionJson } from './api_client.js';
import { collect } from './metadata.js';
import { multipartBody, type FormPart } from './multipart.js';
import { clientCommand, clientFor, formatBytes, printJson, versionArg, type ClientFlags } from './output.js';

interface UploadFlags extends ClientFlags {
  version?: number;
  activate: boolean;
  force?: boolean;
  description?: string;
  source?: string;
  tag?: string[];
  metric?: string[];
}

/** The form parts for a folder or an archive file. */
export async function uploadParts(
  source: string,
  flags: { version?: number; activate: boolean; force?: boolean; description?: string; source?: string; tag?: string[]; metric?: string[] },
): Promise<FormPart[]> {
  let st: fs.Stats;
  try {
    st = await fs.promises.stat(source);
  } catch {
    throw new Error(`${source} does not exist: give a SavedModel folder or a .tar.gz, .tgz or .zip archive.`);
  }
  const parts: FormPart[] = [];
  if (flags.version !== undefined) parts.push({ name: 'version', value: String(flags.version) });
  parts.push({ name: 'activate', value: String(flags.activate) });
  if (flags.force) parts.push({ name: 'force', value: 'true' });
  // Metadata goes before the files, so the server has it when the files are checked.
  if (flags.description !== undefined) parts.push({ name: 'description', value: flags.description });
  if (flags.source !== undefined) parts.push({ name: 'source', value: flags.source });
  for (const t of flags.tag ?? []) parts.push({ name: 'tag', value: t });
  for (const m of flags.metric ?? []) parts.push({ name: 'metric', value: m });
  if (st.isDirectory()) {
    const files = await listFiles(source);
    if (files.length === 0) throw new Error(`${source} is empty.`);
    for (const f of files) parts.push({ name: 'files', filename: f.rel, file: path.join(source, ...f.rel.split('/')), size: f.size });
  } else {
    parts.push({ name: 'archive', filename: path.basename(source), file: source, size: st.size });
  }
  return parts;
}

export function addUploadCommand(program: Command): void {
  clientCommand(program, 'upload', 'Upload a SavedModel folder or archive as a new version of a model (created if new).')
    .argument('<model>', 'model name ([A-Za-z0-9_.-], up to 128 characters)')
    .argument('<source>', 'SavedModel folder, or a .tar.gz/.tgz/.zip holding one (at its root or in one top-level folder)')
    .option('--version <n>', 'version number to create (default: the next one)', versionArg)
    .option('--no-activate', 'keep the version serving now (it gets pinned) instead of switching to the new one')
    .option('--force', 'accept a model whose default serving signature cannot run on this server (its other signatures serve)')
    .option('--description <text>', 'what this version is')
    .option('--tag <key=value>', 'a tag (repeat for more)', collect, [])
    .option('--metric <name=number>', 'a metric, e.g. accuracy=0.91 (repeat for more)', collect, [])
    .option('--source <text>', 'where it comes from: who, from where, commit or training run id')
    .action(async (model: string, source: string, flags: UploadFlags) => {
      const body = multipartBody(await uploadParts(source, flags));
      const showBar = process.stderr.isTTY && !flags.json;
      const bar = new cliProgress.SingleBar(
        { format: `Uploading ${model} |{bar}| {percentage}% {sent} / {size}`, stream: process.stderr, hideCursor: true },
        cliProgress.Presets.shades_classic,
      );
      if (showBar) bar.start(body.fileBytes, 0, { sent: formatBytes(0), size: formatBytes(body.fileBytes) });
      let version: VersionJson;
      try {
        version = await clientFor(flags).upload<VersionJson>(`/models/${encodeURIComponent(model)}/versions`, body, (sent) => {
          if (showBar) bar.update(sent, { sent: formatBytes(sent) });
        });
      } finally {
        if (showBar) bar.stop();
      }
      if (flags.json) return printJson(version);
      const sha = version.sha256 ? `, sha256 ${version.sha256.slice(0, 12)}` : '';
      process.stdout.write(`Uploaded ${model} version ${version.version}: ${version.state}${version.loaded ? ', loaded' : ''} (${formatBytes(version.size_bytes)}${sha})\n`);
      if (version.error) process.stdout.write(`Load error: ${version.error}\n`);
    });
}
