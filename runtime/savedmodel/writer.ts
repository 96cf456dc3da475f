/**
 * Writes a SavedModel export directory that TensorFlow's loader
 * (tensorflow/cc/saved_model/loader.cc, what TF Serving runs) and reader.ts
 * accept:
 *
 *   <dir>/saved_model.pb                         SavedModel, schema version 1
 *   <dir>/variables/variables.index              TensorBundle index
 *   <dir>/variables/variables.data-00000-of-00001
 *   <dir>/assets/<file>                          asset files, when given
 *
 * The MetaGraph is written as given (ModelBuilder.build() makes one with
 * tags, stripped_op_list, a V2 SaverDef and signatures). Output is
 * deterministic: every protobuf map is written in sorted key order and
 * checkpoint tensors in key order, so writing the same model twice, or
 * writing what reader.ts read back, gives identical bytes.
 *
 * The directory appears atomically: everything is written to a temporary
 * sibling and renamed into place, so a server watching the parent never
 * sees a half-written version. An existing directory is refused unless
 * `overwrite` is set.
 */
import fs from 'node:fs';
import path from 'node:path';
import protobuf from 'protobufjs';
import { writeBundle } from '../checkpoint/bundle_writer.js';
import { invalidArgument, StatusError } from '../errors.js';
import type { MetaGraph } from '../graph/types.js';
import { metaGraphToProto } from '../proto/convert.js';
import { protoType } from '../proto/schema.js';
import type { Tensor } from '../tensor.js';
import { ASSETS_DIRECTORY, SAVED_MODEL_FILENAME_PB, VARIABLES_DIRECTORY, VARIABLES_FILENAME } from './reader.js';

export const SAVED_MODEL_SCHEMA_VERSION = 1;

export interface SavedModelContents {
  /** One MetaGraph (usually tagged ['serve']), or several with distinct tag sets. */
  metaGraph: MetaGraph | readonly MetaGraph[];
  /** Checkpoint tensors by key (the keys the restore op reads). Omit for a model without variables. */
  variables?: ReadonlyMap<string, Tensor>;
  /** Files to write under assets/, by file name (the MetaGraph's asset_file_def names them). */
  assets?: Readonly<Record<string, Uint8Array>>;
}

export interface WriteOptions {
  /** Replace an existing directory (default false: ALREADY_EXISTS). */
  overwrite?: boolean;
}

/** Sorts the keys of every map field, recursively, so protobufjs writes them in a fixed order. */
function sortMaps(type: protobuf.Type, msg: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...msg };
  for (const field of type.fieldsArray) {
    const v = msg[field.name];
    if (v === undefined || v === null) continue;
    field.resolve();
    const sub = field.resolvedType instanceof protobuf.Type ? field.resolvedType : undefined;
    const fix = (x: unknown) => (sub && typeof x === 'object' && x !== null ? sortMaps(sub, x as Record<string, unknown>) : x);
    if (field instanceof protobuf.MapField) {
      const rec = v as Record<string, unknown>;
      out[field.name] = Object.fromEntries(Object.keys(rec).sort().map((k) => [k, fix(rec[k])]));
    } else if (field.repeated && Array.isArray(v)) out[field.name] = v.map(fix);
    else out[field.name] = fix(v);
  }
  return out;
}

/** The bytes of saved_model.pb for these MetaGraphs. */
export function encodeSavedModel(metaGraphs: readonly MetaGraph[]): Uint8Array {
  const type = protoType('tensorflow.SavedModel');
  const msg = sortMaps(type, { savedModelSchemaVersion: SAVED_MODEL_SCHEMA_VERSION, metaGraphs: metaGraphs.map(metaGraphToProto) });
  const err = type.verify(msg);
  if (err) throw invalidArgument(`SavedModel does not encode: ${err}`);
  return type.encode(msg).finish();
}

function checkTags(metaGraphs: readonly MetaGraph[]): void {
  if (metaGraphs.length === 0) throw invalidArgument('A SavedModel needs at least one MetaGraph');
  const seen = new Set<string>();
  for (const m of metaGraphs) {
    const key = [...new Set(m.metaInfoDef.tags)].sort().join(',');
    if (seen.has(key)) throw invalidArgument(`Two MetaGraphs have the same tag set [${key}]`);
    seen.add(key);
  }
}

/** Writes the SavedModel into `dir` (see the module comment). */
export async function writeSavedModel(dir: string, contents: SavedModelContents, options: WriteOptions = {}): Promise<void> {
  const metaGraphs: readonly MetaGraph[] = Array.isArray(contents.metaGraph) ? contents.metaGraph : [contents.metaGraph as MetaGraph];
  checkTags(metaGraphs);
  const target = path.resolve(dir);
  const exists = fs.existsSync(target);
  if (exists && !options.overwrite) throw new StatusError('ALREADY_EXISTS', `Export directory already exists: ${target}`);
  const pb = encodeSavedModel(metaGraphs);

  const temp = `${target}.tmp-${process.pid}-${Date.now()}`;
  try {
    await fs.promises.mkdir(path.join(temp, VARIABLES_DIRECTORY), { recursive: true });
    await fs.promises.writeFile(path.join(temp, SAVED_MODEL_FILENAME_PB), pb);
    if (contents.variables) {
      const sorted = [...contents.variables.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      await writeBundle(path.join(temp, VARIABLES_DIRECTORY, VARIABLES_FILENAME), sorted);
    }
    const assets = Object.entries(contents.assets ?? {});
    if (assets.length > 0) await fs.promises.mkdir(path.join(temp, ASSETS_DIRECTORY));
    for (const [name, bytes] of assets) {
      if (name !== path.basename(name) || name === '' || name === '.' || name === '..') throw invalidArgument(`Asset file name ${name} must be a plain file name`);
      await fs.promises.writeFile(path.join(temp, ASSETS_DIRECTORY, name), bytes);
    }
    if (exists) {
      const old = `${target}.old-${process.pid}-${Date.now()}`;
      await fs.promises.rename(target, old);
      await fs.promises.rename(temp, target);
      await fs.promises.rm(old, { recursive: true, force: true });
    } else {
      await fs.promises.mkdir(path.dirname(target), { recursive: true });
      await fs.promises.rename(temp, target);
    }
  } finally {
    await fs.promises.rm(temp, { recursive: true, force: true });
  }
}
