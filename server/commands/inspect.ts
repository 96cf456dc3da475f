/**
 * `modelhost inspect DIR [--tag_set serve]`, after saved_model_cli's `show
 * --all`: tag sets, each signature's inputs and outputs (dtype, shape,
 * tensor name) and method, the variables in the checkpoint (count, bytes),
 * the op inventory with ops the runtime lacks flagged, and a load check.
 */
import { DEFAULT_SIGNATURE } from '../inference/predict.js';
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { BundleReader } from '../../runtime/checkpoint/bundle_reader.js';
import { dtypeTfName } from '../../runtime/dtypes.js';
import { toStatusError } from '../../runtime/errors.js';
import type { MetaGraph, TensorInfo, TensorShape } from '../../runtime/graph/types.js';
import '../../runtime/kernels/index.js';
import { kernelFor } from '../../runtime/kernels/registry.js';
import { tsEngine } from '../../runtime/loader.js';
import { readSavedModel, selectMetaGraph } from '../../runtime/savedmodel/reader.js';

function shapeText(s: TensorShape): string {
  if (s.unknownRank) return 'unknown_rank';
  if (s.dims.length === 1) return `(${s.dims[0]})`;
  return `(${s.dims.join(', ')})`;
}

function tensorInfoText(kind: string, key: string, t: TensorInfo): string[] {
  return [`    ${kind}['${key}'] tensor_info:`, `        dtype: ${dtypeTfName(t.dtype)}`, `        shape: ${shapeText(t.shape)}`, `        name: ${t.name}`];
}

export function signaturesText(meta: MetaGraph): string[] {
  const tags = meta.metaInfoDef.tags.join(', ');
  const lines = [`MetaGraphDef with tag-set: '${tags}' contains the following SignatureDefs:`, ''];
  for (const [name, sig] of Object.entries(meta.signatureDef).sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`signature_def['${name}']:`);
    lines.push('  The given SavedModel SignatureDef contains the following input(s):');
    for (const [k, t] of Object.entries(sig.inputs)) lines.push(...tensorInfoText('inputs', k, t));
    lines.push('  The given SavedModel SignatureDef contains the following output(s):');
    for (const [k, t] of Object.entries(sig.outputs)) lines.push(...tensorInfoText('outputs', k, t));
    lines.push(`  Method name is: ${sig.methodName}`, '');
  }
  return lines;
}

/** Op name → number of nodes using it, over the graph and its function library. */
export function opInventory(meta: MetaGraph): Map<string, number> {
  const counts = new Map<string, number>();
  const add = (op: string) => counts.set(op, (counts.get(op) ?? 0) + 1);
  for (const n of meta.graphDef.node) add(n.op);
  for (const f of meta.graphDef.library.function) for (const n of f.nodeDef) add(n.op);
  return new Map([...counts].sort(([a], [b]) => a.localeCompare(b)));
}

async function variablesText(dir: string): Promise<string> {
  const prefix = path.join(dir, 'variables', 'variables');
  if (!fs.existsSync(`${prefix}.index`)) return 'Variables: none (no variables/variables.index)';
  const reader = await BundleReader.open(prefix);
  let count = 0;
  let bytes = 0;
  for (const key of reader.keys()) {
    if (key === '_CHECKPOINTABLE_OBJECT_GRAPH') continue;
    count++;
    bytes += reader.entry(key).size;
  }
  return `Variables: ${count} tensors, ${bytes} bytes`;
}

export async function inspect(dir: string, tags: string[]): Promise<string> {
  const file = await readSavedModel(dir);
  const tagSets = file.tagSets.map((t) => `[${t.join(', ')}]`);
  const meta = selectMetaGraph(file, tags);
  const lines = [`SavedModel: ${path.resolve(dir)}`, `Tag sets: ${tagSets.join(' ')}`, ''];
  lines.push(...signaturesText(meta));
  lines.push(await variablesText(dir), '');
  const library = new Set(meta.graphDef.library.function.map((f) => f.signature.name));
  const inventory = opInventory(meta);
  const ops = [...inventory].filter(([op]) => !library.has(op));
  lines.push(`Ops (${ops.length} distinct, ${library.size} library functions):`);
  for (const [op, n] of ops) {
    const flag = kernelFor(op) ? '' : '   <- not supported by the runtime';
    lines.push(`  ${op} x${n}${flag}`);
  }
  lines.push('');
  lines.push((await check(dir, tags)).text);
  return lines.join('\n');
}

/**
 * Whether the runtime can load the model and run each signature: per
 * signature, OK or the ops it lacks (with node names). `ok` is false when the
 * model does not load or its default serving signature cannot run.
 */
export async function check(dir: string, tags: string[]): Promise<{ ok: boolean; text: string }> {
  let model;
  try {
    model = await tsEngine.load(dir, { tags });
  } catch (e) {
    return { ok: false, text: `Load check: FAILED\n${toStatusError(e).message}` };
  }
  try {
    const sigs = Object.values(model.signatures);
    const lines = sigs.map((s) => (s.unavailable ? `  ${s.name}: CANNOT RUN\n${s.unavailable.replace(/^/gm, '    ')}` : `  ${s.name}: OK`));
    const serving = model.signatures[DEFAULT_SIGNATURE] ?? sigs[0];
    const ok = serving !== undefined && !serving.unavailable;
    const summary = sigs.some((s) => s.unavailable)
      ? `Load check: OK, but ${sigs.filter((s) => s.unavailable).length} of ${sigs.length} signatures cannot run (requests to them answer 400 naming the ops)`
      : 'Load check: OK (every signature, the restore op and the init op compile; unsupported ops above, if any, are unreachable from them)';
    return { ok, text: [summary, 'Signatures:', ...lines].join('\n') };
  } finally {
    model.dispose();
  }
}

export function addCheckCommand(program: Command): void {
  program
    .command('check')
    .description('check that the runtime can load a SavedModel and run each of its signatures, listing the ops it lacks per signature')
    .argument('<dir>', 'SavedModel directory (holding saved_model.pb)')
    .option('--tag_set <tags>', 'comma-separated tag set of the MetaGraph', 'serve')
    .action(async (dir: string, opts: { tag_set: string }) => {
      const result = await check(dir, opts.tag_set.split(',').filter(Boolean));
      process.stdout.write(`${result.text}\n`);
      // Exit 1 when the model would not serve its default signature.
      if (!result.ok) process.exitCode = 1;
    });
}

export function addInspectCommand(program: Command): void {
  program
    .command('inspect')
    .description("show a SavedModel's tag sets, signatures, variables and ops (like saved_model_cli show --all)")
    .argument('<dir>', 'SavedModel directory (holding saved_model.pb)')
    .option('--tag_set <tags>', 'comma-separated tag set of the MetaGraph', 'serve')
    .action(async (dir: string, opts: { tag_set: string }) => {
      process.stdout.write(`${await inspect(dir, opts.tag_set.split(',').filter(Boolean))}\n`);
    });
}
