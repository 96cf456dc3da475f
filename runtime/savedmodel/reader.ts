/**
 * Reads a SavedModel export directory the way TensorFlow's loader does
 * (tensorflow/cc/saved_model/reader.cc, loader.cc):
 *  - readSavedModel(dir): parses `saved_model.pb` (or `saved_model.pbtxt`);
 *    a directory without either is NOT_FOUND with TF's wording, plus a hint
 *    when it holds a legacy SessionBundle (`export.meta`);
 *  - selectMetaGraph(file, tags, use): the MetaGraphDef whose tag SET equals
 *    `tags` (order and duplicates do not matter), converted to plain types
 *    (use 'run': without the attrs running it never reads);
 *  - initOpName(meta): the op to run once after restoring variables
 *    (signature `__saved_model_init_op`, else collection
 *    `saved_model_main_op`, else `legacy_init_op`);
 *  - assetFiles(meta, dir): asset tensor name → absolute path under
 *    `<dir>/assets`, to feed to the restore and init ops;
 *  - variablesPrefix(dir): the checkpoint prefix `<dir>/variables/variables`
 *    when `variables.index` exists (a model may have no variables).
 */
import fs from 'node:fs';
import path from 'node:path';
import { dataLoss, failedPrecondition, notFound, StatusError } from '../errors.js';
import type { MetaGraph } from '../graph/types.js';
import { metaGraphFromProto } from '../proto/convert.js';
import { int64ToNumber } from '../proto/long.js';
import type { MetaGraphDefMsg, SavedModelMsg } from '../proto/messages.js';
import { protoType } from '../proto/schema.js';
import { parseTextProto } from '../proto/textformat.js';

export const SAVED_MODEL_FILENAME_PB = 'saved_model.pb';
export const SAVED_MODEL_FILENAME_PBTXT = 'saved_model.pbtxt';
export const INIT_OP_SIGNATURE_KEY = '__saved_model_init_op';
export const MAIN_OP_COLLECTION_KEY = 'saved_model_main_op';
export const LEGACY_INIT_OP_COLLECTION_KEY = 'legacy_init_op';
export const ASSETS_COLLECTION_KEY = 'saved_model_assets';
export const ASSETS_DIRECTORY = 'assets';
export const VARIABLES_DIRECTORY = 'variables';
export const VARIABLES_FILENAME = 'variables';

export interface SavedModelFile {
  /** The export directory, absolute. */
  dir: string;
  /** The file that was parsed (saved_model.pb or saved_model.pbtxt). */
  path: string;
  schemaVersion: number;
  /** Tags of each MetaGraphDef, in file order. */
  tagSets: string[][];
  /** The decoded protobuf, for fields the plain types leave out (object_graph_def...). */
  proto: SavedModelMsg;
}

const converted = new WeakMap<MetaGraphDefMsg, MetaGraph>();
const convertedToRun = new WeakMap<MetaGraphDefMsg, MetaGraph>();

/**
 * Node attrs a graph that is only run never reads (TF's executor ignores them
 * too): `_output_shapes`, the shapes an export records on every node (a
 * third of a Keras export's attrs, and its largest).
 */
const NOT_READ_TO_RUN: ReadonlySet<string> = new Set(['_output_shapes']);

async function exists(p: string): Promise<boolean> {
  try {
    await fs.promises.access(p);
    return true;
  } catch {
    return false;
  }
}

export async function readSavedModel(dir: string): Promise<SavedModelFile> {
  const exportDir = path.resolve(dir);
  const pbPath = path.join(exportDir, SAVED_MODEL_FILENAME_PB);
  const pbtxtPath = path.join(exportDir, SAVED_MODEL_FILENAME_PBTXT);
  let proto: SavedModelMsg;
  let file: string;
  if (await exists(pbPath)) {
    file = pbPath;
    const bytes = await fs.promises.readFile(pbPath);
    try {
      proto = protoType('tensorflow.SavedModel').decode(bytes) as SavedModelMsg;
    } catch (e) {
      throw dataLoss(`Can't parse ${pbPath} as binary proto: ${(e as Error).message}`);
    }
  } else if (await exists(pbtxtPath)) {
    file = pbtxtPath;
    const text = await fs.promises.readFile(pbtxtPath, 'utf8');
    try {
      proto = parseTextProto(text, protoType('tensorflow.SavedModel'), pbtxtPath) as SavedModelMsg;
    } catch (e) {
      const msg = e instanceof StatusError ? e.message : String(e);
      throw dataLoss(`Can't parse ${pbtxtPath} as text proto: ${msg}`);
    }
  } else {
    let message =
      `Could not find SavedModel .pb or .pbtxt at supplied export directory path: ${dir}. ` +
      'Check that the directory exists and that you have the right permissions for accessing it.';
    if (await exists(path.join(exportDir, 'export.meta'))) {
      message +=
        ' The directory holds export.meta: it looks like a legacy SessionBundle, which is not supported;' +
        ' re-export the model as a SavedModel.';
    }
    throw notFound(message);
  }
  const metaGraphs = proto.metaGraphs ?? [];
  return {
    dir: exportDir,
    path: file,
    schemaVersion: int64ToNumber(proto.savedModelSchemaVersion ?? 0, 'saved_model_schema_version'),
    tagSets: metaGraphs.map((m) => [...(m.metaInfoDef?.tags ?? [])]),
    proto,
  };
}

function sameTagSet(a: readonly string[], b: readonly string[]): boolean {
  const sa = new Set(a);
  const sb = new Set(b);
  if (sa.size !== sb.size) return false;
  for (const t of sa) if (!sb.has(t)) return false;
  return true;
}

/** The MetaGraphDef tagged exactly with `tags` (as a set); NOT_FOUND listing the available tag sets otherwise. */
export function selectMetaGraph(file: SavedModelFile, tags: readonly string[], use: 'any' | 'run' = 'any'): MetaGraph {
  const metaGraphs = file.proto.metaGraphs ?? [];
  for (let i = 0; i < metaGraphs.length; i++) {
    if (!sameTagSet(file.tagSets[i], tags)) continue;
    const msg = metaGraphs[i];
    const cache = use === 'run' ? convertedToRun : converted;
    let meta = cache.get(msg);
    if (!meta) {
      meta = metaGraphFromProto(msg, use === 'run' ? { skipNodeAttrs: NOT_READ_TO_RUN } : {});
      cache.set(msg, meta);
    }
    return meta;
  }
  const available = file.tagSets.map((t) => `[${t.join(', ')}]`).join(', ');
  throw notFound(
    `Could not find meta graph def matching supplied tags: { ${[...new Set(tags)].join(' ')} }. ` +
      `Available tag sets in ${file.path}: ${available || 'none'}. ` +
      'To inspect available tag-sets in the SavedModel, please use the SavedModel CLI: `saved_model_cli`',
  );
}

/** The decoded SavedObjectGraph of the MetaGraphDef tagged with `tags` (TF2 exports), if any. */
export function savedObjectGraph(file: SavedModelFile, tags: readonly string[]): object | undefined {
  const metaGraphs = file.proto.metaGraphs ?? [];
  const i = file.tagSets.findIndex((t) => sameTagSet(t, tags));
  return (i >= 0 ? metaGraphs[i].objectGraphDef : undefined) ?? undefined;
}

/** Strips a ":N" output index: a tensor name's op. */
function opOf(tensorName: string): string {
  const name = tensorName.startsWith('^') ? tensorName.slice(1) : tensorName;
  const m = /^(.*):\d+$/.exec(name);
  return m ? m[1] : name;
}

/** The init op to run after restoring variables, or undefined when the model has none. */
export function initOpName(meta: MetaGraph, exportDir = ''): string | undefined {
  const sig = meta.signatureDef[INIT_OP_SIGNATURE_KEY];
  if (sig) {
    const out = sig.outputs[INIT_OP_SIGNATURE_KEY];
    if (!out) throw failedPrecondition(`Could not find output ${INIT_OP_SIGNATURE_KEY}`);
    return opOf(out.name);
  }
  const key = meta.collectionDef[MAIN_OP_COLLECTION_KEY] ? MAIN_OP_COLLECTION_KEY : LEGACY_INIT_OP_COLLECTION_KEY;
  const collection = meta.collectionDef[key];
  if (!collection) return undefined;
  const nodes = collection.nodeList ?? [];
  if (nodes.length !== 1) {
    throw failedPrecondition(`Expected exactly one main op in : ${exportDir || 'the SavedModel'}; collection '${key}' lists ${nodes.length}`);
  }
  return opOf(nodes[0]);
}

/**
 * Asset tensor name → absolute path of the asset file, from asset_file_def
 * (SavedModel v2) or else the `saved_model_assets` collection (v1).
 */
export function assetFiles(meta: MetaGraph, dir: string): Map<string, string> {
  const assetsDir = path.join(path.resolve(dir), ASSETS_DIRECTORY);
  const out = new Map<string, string>();
  if (meta.assetFileDef.length > 0) {
    for (const a of meta.assetFileDef) out.set(a.tensorInfo.name, path.join(assetsDir, a.filename));
    return out;
  }
  const collection = meta.collectionDef[ASSETS_COLLECTION_KEY];
  if (!collection) return out;
  const assetType = protoType('tensorflow.AssetFileDef');
  for (const any of collection.anyList ?? []) {
    if (!any.typeUrl.endsWith('/tensorflow.AssetFileDef')) {
      throw failedPrecondition(`The type of the message ${any.typeUrl} in collection ${ASSETS_COLLECTION_KEY} is not tensorflow.AssetFileDef`);
    }
    let asset: { tensorInfo?: { name?: string } | null; filename?: string };
    try {
      asset = assetType.decode(any.value) as typeof asset;
    } catch (e) {
      throw dataLoss(`Could not parse an AssetFileDef in collection ${ASSETS_COLLECTION_KEY}: ${(e as Error).message}`);
    }
    out.set(asset.tensorInfo?.name ?? '', path.join(assetsDir, asset.filename ?? ''));
  }
  return out;
}

/** `<dir>/variables/variables` when the model has a variables checkpoint, else undefined. */
export function variablesPrefix(dir: string): string | undefined {
  const prefix = path.join(path.resolve(dir), VARIABLES_DIRECTORY, VARIABLES_FILENAME);
  return fs.existsSync(`${prefix}.index`) ? prefix : undefined;
}

/** Ops that define a variable in a graph (TF1 reference variables, TF2 resource variables). */
const VARIABLE_OPS = new Set(['Variable', 'VariableV2', 'VarHandleOp']);

/**
 * Whether a MetaGraph restores variables from a checkpoint: it has a SaverDef
 * restore op and its graph defines variables. Such a model cannot serve
 * without `variables/variables.index` and the data shards it names (TF itself
 * would skip the restore and fail every request with "Could not find variable").
 */
export function restoresVariables(meta: { saverDef?: { restoreOpName?: string } | null; graphDef?: { node?: readonly { op?: string }[] | null } | null }): boolean {
  if ((meta.saverDef?.restoreOpName ?? '') === '') return false;
  return (meta.graphDef?.node ?? []).some((n) => VARIABLE_OPS.has(n.op ?? ''));
}
