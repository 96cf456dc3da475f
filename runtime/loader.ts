/**
 * The built-in engine: loads a SavedModel the way TensorFlow's loader does
 * (tensorflow/cc/saved_model/loader.cc) and serves its signatures.
 *
 *  1. read saved_model.pb, pick the MetaGraph for the tag set;
 *  2. compile, once, the restore op, the init op and every signature into
 *     plans; every op any of them needs but the runtime lacks fails the load
 *     with the list of ops and nodes (ops only other parts of the graph use,
 *     like the checkpoint-saving function, do not matter);
 *  3. run the SaverDef's restore op, feeding the checkpoint prefix to its
 *     filename tensor (TF1 RestoreV2 + Assign and TF2 restore functions alike);
 *     unlike TF, a graph that defines variables but has no
 *     variables/variables.index fails the load (NOT_FOUND, TF's
 *     checkpoint-not-found wording) instead of loading without them and
 *     failing every request (a version folder copied half-way);
 *  4. run the init op, feeding asset file paths to the asset placeholders;
 *  5. free the variables no signature reaches (only the restore op wrote them).
 * Variables live in the model's ResourceManager; signature runs that assign
 * them change the state later runs see.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from './backend.js';
import { BundleReader } from './checkpoint/bundle_reader.js';
import { dtypeShortName } from './dtypes.js';
import type { Engine, LoadedModel, LoadOptions, SignatureInfo, TensorSpec } from './engine.js';
import { failedPrecondition, invalidArgument, notFound, StatusError } from './errors.js';
import { FunctionLibrary } from './graph/functions.js';
import { graphOptimizations } from './graph/optimize/options.js';
import { releaseRetired, type Plan, type RunEnv } from './graph/plan.js';
import type { MetaGraph, NodeDef, SignatureDef, TensorInfo } from './graph/types.js';
import { Attrs } from './kernels/attrs.js';
import './kernels/index.js';
import { withTf1LoopsLifted } from './graph/tf1_while.js';
import { restoreCapturedVariables } from './savedmodel/object_graph_restore.js';
import { assetFiles, initOpName, readSavedModel, restoresVariables, savedObjectGraph, selectMetaGraph } from './savedmodel/reader.js';
import { Tensor } from './tensor.js';
import { ModelResources } from './variables.js';

export const INIT_OP_SIGNATURE_KEY = '__saved_model_init_op';

/** Runs `fn` in a tfjs scope: backend tensors it creates are freed, except those of the returned tensors. */
export function runScoped(fn: () => Tensor[]): Tensor[] {
  const engine = tf.engine();
  engine.startScope();
  let result: Tensor[] = [];
  try {
    result = fn();
    return result;
  } finally {
    const keep: tf.Tensor[] = [];
    for (const t of result) if (t.isOnBackend && !t.isDisposed) keep.push(t.toTf());
    engine.endScope(keep);
  }
}

function specOf(info: TensorInfo): TensorSpec {
  return { name: info.name, dtype: info.dtype, shape: info.shape };
}

function signatureInfo(name: string, def: SignatureDef): SignatureInfo {
  const map = (m: Record<string, TensorInfo>) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, specOf(v)]));
  return { name, methodName: def.methodName, inputs: map(def.inputs), outputs: map(def.outputs) };
}

class TsLoadedModel implements LoadedModel {
  readonly signatures: Record<string, SignatureInfo>;
  readonly signatureDefs: Record<string, SignatureDef>;
  private readonly plans = new Map<string, Plan>();
  private readonly env: RunEnv;
  private disposed = false;
  mutatesState = false;

  constructor(
    readonly dir: string,
    readonly tags: readonly string[],
    private readonly meta: MetaGraph,
    private readonly library: FunctionLibrary,
    private readonly resources: ModelResources,
  ) {
    this.env = { resources, functions: library };
    this.signatureDefs = meta.signatureDef;
    this.signatures = Object.fromEntries(
      Object.entries(meta.signatureDef)
        .filter(([k]) => k !== INIT_OP_SIGNATURE_KEY)
        .map(([k, v]) => [k, signatureInfo(k, v)]),
    );
  }

  /** Compiles (and caches) the plan computing `outputKeys` of a signature. */
  plan(signature: string, outputKeys: readonly string[]): Plan {
    const key = `${signature}\u0000${outputKeys.join('\u0000')}`;
    let plan = this.plans.get(key);
    if (plan) return plan;
    const def = this.runnableDef(signature);
    const inputKeys = Object.keys(def.inputs);
    const unavailable = this.signatures[signature]?.unavailable;
    if (unavailable) throw failedPrecondition(unavailable);
    plan = this.library.compileChecked({
      mode: 'graph',
      nodes: this.meta.graphDef.node,
      feeds: inputKeys.map((k) => def.inputs[k].name),
      fetches: outputKeys.map((k) => {
        const info = def.outputs[k];
        if (!info) throw invalidArgument(`output tensor alias not found in signature: ${k}`);
        return info.name;
      }),
      targets: [],
      label: `signature '${signature}'`,
    }, `Signature '${signature}'`);
    this.plans.set(key, plan);
    return plan;
  }

  run(signature: string, feeds: Record<string, Tensor>, outputKeys?: readonly string[]): Record<string, Tensor> {
    if (this.disposed) throw invalidArgument(`model ${this.dir} has been unloaded`);
    const def = this.signatures[signature] && this.signatureDefs[signature];
    if (!def) throw notFound(`Serving signature name: "${signature}" not found in signature def`);
    const inputKeys = Object.keys(def.inputs);
    checkFeeds(inputKeys, feeds);
    const keys = outputKeys ?? Object.keys(def.outputs);
    const plan = this.plan(signature, keys);
    const inputs = inputKeys.map((k, i) => {
      const t = feeds[k];
      const want = def.inputs[k].dtype;
      if (t.dtype !== want) {
        throw invalidArgument(`Expects arg[${i}] to be ${dtypeShortName(want)} but ${dtypeShortName(t.dtype)} is provided`);
      }
      return t;
    });
    const outs = runScoped(() => {
      const raw = plan.run(inputs, this.env);
      // Persistent values (variables, constants) and fed tensors go out as clones the caller may dispose.
      return raw.map((t) => (t.isPersistent || inputs.includes(t) ? t.clone() : t));
    });
    this.resources.releaseReplaced();
    releaseRetired();
    return Object.fromEntries(keys.map((k, i) => [k, outs[i]]));
  }

  private runnableDef(signature: string): SignatureDef {
    if (!this.signatures[signature]) throw notFound(`Serving signature name: "${signature}" not found in signature def`);
    return this.signatureDefs[signature];
  }

  /** Every node the compiled signatures can run: their steps and, transitively, the bodies of the functions they call. */
  private reachableNodes(): NodeDef[] {
    const functions = new Map(this.meta.graphDef.library.function.map((f) => [f.signature.name, f]));
    const seen = new Set<string>();
    const out: NodeDef[] = [];
    const visit = (nodes: readonly NodeDef[]) => {
      for (const node of nodes) {
        out.push(node);
        for (const name of calledFunctions(node)) {
          if (seen.has(name)) continue;
          seen.add(name);
          const f = functions.get(name);
          if (f) visit(f.nodeDef);
        }
      }
    };
    for (const plan of this.plans.values()) visit(plan.steps.map((s) => s.node));
    return out;
  }

  /** Whether a compiled signature reaches an op that writes state (directly or through called functions). */
  signaturesMutateState(): boolean {
    return this.reachableNodes().some((node) => STATE_WRITING_OP.test(node.op));
  }

  /**
   * Frees the variables no signature can reach, once restore and init ops
   * have run: TF2 SavedModels of Keras models restore a second set of
   * variables that only their restore function uses (the signatures capture
   * the others), and nothing after the load can ever read them.
   */
  releaseUnreachableVariables(): number {
    const keys = new Set<string>();
    for (const node of this.reachableNodes()) {
      if (VARIABLE_OPS.has(node.op)) keys.add(variableKeyOf(node));
    }
    return this.resources.retainVariables(keys);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.library.dispose();
    for (const p of this.plans.values()) p.dispose();
    this.resources.dispose();
  }
}

/** Ops that change variables or tables: Assign*, Scatter*, ResourceScatter*, LookupTableInsert/Remove/Import. */
const STATE_WRITING_OP = /^(Assign|ResourceScatter|Scatter|ResourceStridedSliceAssign|LookupTable(Insert|Remove|Import)|InitializeTable)/;

/** Ops that name a variable of the model's ResourceManager (kernels/state.ts). */
const VARIABLE_OPS = new Set(['VarHandleOp', 'VariableV2', 'Variable']);

/** The ResourceManager key of a variable node, as its kernel derives it (kernels/state.ts). */
function variableKeyOf(node: NodeDef): string {
  const attrs = new Attrs(node.attr, node.name, node.op);
  const container = attrs.string('container', '');
  const shared = attrs.string('shared_name', '') || node.name;
  return container ? `${container}/${shared}` : shared;
}

/** Function names a node calls: its func attrs (call ops, While/If bodies) and, for a function-call node, its own op. */
function calledFunctions(node: NodeDef): string[] {
  const names = [node.op];
  for (const attr of Object.values(node.attr)) {
    if (attr.kind === 'func') names.push(attr.func.name);
    else if (attr.kind === 'list') for (const f of attr.list.func) names.push(f.name);
  }
  return names;
}

/** TF Serving's check that a request feeds exactly the signature's inputs. */
function checkFeeds(expected: string[], feeds: Record<string, Tensor>): void {
  const sent = Object.keys(feeds);
  const missing = expected.filter((k) => !(k in feeds));
  const extra = sent.filter((k) => !expected.includes(k));
  if (missing.length === 0 && extra.length === 0) return;
  throw invalidArgument(
    `input size does not match signature: ${sent.length}!=${expected.length} len({${sent.sort().join(',')}}) != len({${[...expected].sort().join(',')}}). Sent extra: {${extra.sort().join(',')}}. Missing but required: {${missing.sort().join(',')}}.`,
  );
}

async function load(dir: string, options: LoadOptions = {}): Promise<LoadedModel> {
  await initBackend();
  const tags = options.tags ?? ['serve'];
  const file = await readSavedModel(dir);
  // TF1 while loops become functional While ops (graph/tf1_while.ts).
  const meta = withTf1LoopsLifted(selectMetaGraph(file, tags, 'run'));
  const resources = new ModelResources(dir);
  const library = new FunctionLibrary(meta.graphDef.library.function, meta.metaInfoDef.strippedOpList, resources, options.graphOptimizations ?? graphOptimizations());
  const env: RunEnv = { resources, functions: library };
  const nodes = meta.graphDef.node;
  const assets = [...assetFiles(meta, dir)];

  // Compile everything first, so one load error lists every unsupported op.
  const prefix = path.join(dir, 'variables', 'variables');
  const saver = meta.saverDef;
  const indexExists = fs.existsSync(`${prefix}.index`);
  if (!indexExists && restoresVariables(meta)) {
    throw notFound(
      `Unsuccessful TensorSliceReader constructor: Failed to find any matching files for ${prefix} (the SavedModel's graph has variables, but variables/variables.index is missing: are its variables still being copied?)`,
    );
  }
  const hasVariables = saver !== undefined && saver.restoreOpName !== '' && indexExists;
  const restore = hasVariables
    ? library.compileChecked({
        mode: 'graph',
        nodes,
        feeds: [saver.filenameTensorName],
        fetches: [],
        targets: [saver.restoreOpName],
        label: 'restore op',
      }, `SavedModel ${dir} (its restore op)`)
    : undefined;
  const initName = initOpName(meta);
  const init = initName
    ? library.compileChecked({ mode: 'graph', nodes, feeds: assets.map(([t]) => t), fetches: [], targets: [initName], label: 'init op' }, `SavedModel ${dir} (its init op)`)
    : undefined;
  const model = new TsLoadedModel(dir, tags, meta, library, resources);
  // A signature that reaches ops the runtime lacks is marked unavailable; the
  // model loads as long as one signature can run (TF Serving serves the
  // signature asked for; training or save signatures need not run here).
  const runnable = Object.entries(model.signatureDefs).filter(([k]) => k in model.signatures);
  for (const [name, def] of runnable) {
    try {
      model.plan(name, Object.keys(def.outputs));
    } catch (e) {
      if (!(e instanceof StatusError) || e.code !== 'UNIMPLEMENTED') throw e;
      model.signatures[name].unavailable = e.message;
    }
  }
  if (runnable.length > 0 && runnable.every(([name]) => model.signatures[name].unavailable)) {
    library.assertSupported(`SavedModel ${dir}`);
  }
  model.mutatesState = model.signaturesMutateState();

  try {
    if (restore) {
      const checkpoint = await BundleReader.open(prefix);
      resources.addCheckpoint(prefix, checkpoint);
      runScoped(() => restore.run([Tensor.scalar('string', prefix)], env));
      restoreCapturedVariables(savedObjectGraph(file, tags), nodes, checkpoint, resources);
    }
    if (init) {
      runScoped(() => init.run(assets.map(([, file]) => Tensor.scalar('string', file)), env));
    }
    resources.releaseReplaced();
    model.releaseUnreachableVariables();
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}

export const tsEngine: Engine = { name: 'modelhost', load };
