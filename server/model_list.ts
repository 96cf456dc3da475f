/**
 * Where `modelhost serve` gets its model list, and how it notices changes:
 *  - one model from `--model_name` + `--model_base_path` (fixed);
 *  - a `--model_config_file` (re-read every `--model_config_file_poll_wait_seconds`
 *    when that is > 0; a file that stops parsing keeps the last good list);
 *  - otherwise every sub-folder of `--models_dir` (default ./models), each a
 *    model named after its folder (re-listed every file-system poll, so a new
 *    model folder, or the folder itself, is picked up like a new version).
 *    These models have no TF Serving config, so every version stays
 *    addressable at /versions/N (policy `all`); the newest serves by default.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { modelConfig, type ModelConfig } from '../serving/model_config.js';
import { invalidArgument } from '../runtime/errors.js';
import { readModelServerConfig, resolveBasePath } from './config_file.js';

export type ModelListSource =
  | { kind: 'single'; name: string; basePath: string }
  | { kind: 'config_file'; file: string; pollSeconds: number }
  | { kind: 'models_dir'; dir: string; pollSeconds: number };

/** Every non-hidden sub-folder of `dir` as a model of that name (none while `dir` does not exist). */
export async function modelsDirConfigs(dir: string): Promise<ModelConfig[]> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw invalidArgument(
      `Cannot read models directory ${dir}: ${(e as Error).message}. ` +
        'Create it with one sub-folder per model, or pass --model_base_path or --model_config_file.',
    );
  }
  return entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort()
    .map((name) => modelConfig(name, path.resolve(dir, name), { versionPolicy: { kind: 'all' } }));
}

export async function readModelList(source: ModelListSource): Promise<ModelConfig[]> {
  switch (source.kind) {
    case 'single':
      return [modelConfig(source.name, resolveBasePath(source.basePath, '--model_base_path'))];
    case 'config_file':
      return readModelServerConfig(source.file);
    case 'models_dir':
      return modelsDirConfigs(source.dir);
  }
}

/** Seconds between re-reads of the model list; 0: never. */
export function modelListPollSeconds(source: ModelListSource): number {
  return source.kind === 'single' ? 0 : source.pollSeconds;
}
