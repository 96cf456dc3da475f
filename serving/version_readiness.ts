/**
 * Is a version folder completely written? A folder being copied must not be
 * loaded half-way, so before the Source offers a version to the manager:
 *  - `saved_model.pb` (or `.pbtxt`) must exist and parse;
 *  - when a MetaGraph restores variables (a SaverDef restore op and variable
 *    ops in its graph), `variables/variables.index` must exist; when the index
 *    exists it must parse, and every data shard it names must exist and be at
 *    least as long as the tensors it places there;
 *  - every asset file the MetaGraphs list must exist.
 * Returns undefined when complete, else why not (logged, and checked again
 * when the folder changes), and whether the folder is `partial`: its
 * saved_model.pb parses but files it needs are missing or short, so a load
 * could succeed without them and serve a broken model (a copy in progress).
 * A folder that is not partial has no usable saved_model.pb: no load of it can
 * succeed.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { BundleReader } from '../runtime/checkpoint/bundle_reader.js';
import { dataFilename } from '../runtime/checkpoint/naming.js';
import { readSavedModel, restoresVariables, ASSETS_DIRECTORY, VARIABLES_DIRECTORY, VARIABLES_FILENAME } from '../runtime/savedmodel/reader.js';

async function fileSize(file: string): Promise<number | undefined> {
  try {
    return (await fs.stat(file)).size;
  } catch {
    return undefined;
  }
}

export interface NotReady {
  reason: string;
  partial: boolean;
}

export async function checkVersionReady(dir: string): Promise<NotReady | undefined> {
  let metaGraphs;
  try {
    metaGraphs = (await readSavedModel(dir)).proto.metaGraphs ?? [];
  } catch (e) {
    return { reason: (e as Error).message, partial: false };
  }
  const reason = await missingFiles(dir, metaGraphs);
  return reason === undefined ? undefined : { reason, partial: true };
}

async function missingFiles(dir: string, metaGraphs: NonNullable<Awaited<ReturnType<typeof readSavedModel>>['proto']['metaGraphs']>): Promise<string | undefined> {

  for (const meta of metaGraphs) {
    for (const asset of meta.assetFileDef ?? []) {
      const file = path.join(dir, ASSETS_DIRECTORY, asset.filename ?? '');
      if ((await fileSize(file)) === undefined) return `asset ${path.relative(dir, file)} is missing`;
    }
  }

  const prefix = path.join(dir, VARIABLES_DIRECTORY, VARIABLES_FILENAME);
  const needsVariables = metaGraphs.some((m) => restoresVariables(m));
  if ((await fileSize(`${prefix}.index`)) === undefined) {
    return needsVariables ? `${VARIABLES_DIRECTORY}/${VARIABLES_FILENAME}.index is missing` : undefined;
  }
  let reader: BundleReader;
  try {
    reader = await BundleReader.open(prefix);
  } catch (e) {
    return (e as Error).message;
  }
  const needed = new Array<number>(reader.numShards).fill(0);
  try {
    for (const key of reader.keys()) {
      const entry = reader.entry(key);
      if (entry.shardId >= 0 && entry.shardId < needed.length) {
        needed[entry.shardId] = Math.max(needed[entry.shardId], entry.offset + entry.size);
      }
    }
  } catch (e) {
    return (e as Error).message;
  }
  for (let shard = 0; shard < needed.length; shard++) {
    const file = dataFilename(prefix, shard, reader.numShards);
    const size = (await fileSize(file)) ?? 0;
    if (size < needed[shard]) return `${path.relative(dir, file)} holds ${size} of its ${needed[shard]} bytes`;
  }
  return undefined;
}
