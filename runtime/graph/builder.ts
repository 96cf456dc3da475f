/**
 * A small typed API to build a SavedModel's MetaGraph the way TensorFlow 2
 * exports a Keras model with tf.function signatures:
 *
 *   const m = new ModelBuilder();
 *   const w = m.variable('dense/kernel', kernelTensor);
 *   const serving = m.function('serving', [{ name: 'x', dtype: 'float32', shape: [-1, 4] }], (tf, x) =>
 *     tf.matmul(x, tf.readVariable(w)));
 *   m.signature('serving_default', serving);
 *   const { metaGraph, variables } = m.build();   // → writeSavedModel(dir, { metaGraph, variables })
 *
 * The graph holds TF2 resource variables (VarHandleOp, shared_name = the
 * variable name), one Placeholder per signature input ("<key>_<input>") and
 * a StatefulPartitionedCall of the signature's function, which receives the
 * variable handles it captured. A V2 saver is added for the variables
 * (checkpoint keys = variable names): "save/SaveV2" + "save/control_dependency"
 * to save, and "save/RestoreV2" + one AssignVariableOp per variable, grouped
 * by the NoOp "save/restore_all", to restore; the SaverDef names them, the
 * filename tensor being "saver_filename:0". The stripped_op_list holds the
 * OpDef of every op used, graph and functions alike.
 */
import type { DType } from '../dtypes.js';
import { internal } from '../errors.js';
import { Tensor } from '../tensor.js';
import { Tf } from './builder_control.js';
import { tensorShape } from './builder_opdefs.js';
import type { VariableRef } from './builder_ops.js';
import type { ArgSpec, FunctionHandle, ModelContext, Output } from './builder_scope.js';
import type { FunctionDef, MetaGraph, OpDef, SaverDef, SignatureDef, TensorInfo } from './types.js';

export { Tf, mergeDims, relaxDims, type MapFnOutput } from './builder_control.js';
export { builderOp, builderOpNames } from './builder_opdefs.js';
export { broadcastDims, type VariableRef } from './builder_ops.js';
export { Output, Scope, type ArgSpec, type AttrInput, type Dims, type FunctionHandle, type OpOptions } from './builder_scope.js';

export const PREDICT_METHOD_NAME = 'tensorflow/serving/predict';

export interface ModelBuilderOptions {
  /** Leave out attrs equal to their op default, as TF2 exports do (default true). */
  stripDefaultAttrs?: boolean;
  /** meta_info_def.tensorflow_version: the TF release whose op definitions the graph follows. */
  tensorflowVersion?: string;
  /** meta_info_def.tensorflow_git_version: who produced the graph. */
  tensorflowGitVersion?: string;
  /** GraphDef versions.producer (TF 2.14 writes 1569). */
  producer?: number;
  tags?: readonly string[];
}

export interface BuiltModel {
  metaGraph: MetaGraph;
  /** Checkpoint contents: variable name → initial value. */
  variables: Map<string, Tensor>;
}

export class ModelBuilder implements ModelContext {
  readonly stripDefaultAttrs: boolean;
  /** The top-level graph. */
  readonly graph: Tf;
  private readonly opDefs = new Map<string, OpDef>();
  private readonly functions: FunctionDef[] = [];
  private readonly vars = new Map<string, { ref: VariableRef; value: Tensor }>();
  private readonly signatures: Record<string, SignatureDef> = {};
  private nextUid = 0;
  private built = false;

  constructor(private readonly options: ModelBuilderOptions = {}) {
    this.stripDefaultAttrs = options.stripDefaultAttrs ?? true;
    this.graph = new Tf(this, 'graph', 'graph');
  }

  useOp(def: OpDef): void {
    this.opDefs.set(def.name, def);
  }

  uid(): number {
    return ++this.nextUid;
  }

  addFunction(def: FunctionDef): void {
    if (this.functions.some((f) => f.signature.name === def.signature.name)) throw internal(`function ${def.signature.name} defined twice`);
    this.functions.push(def);
  }

  /** A resource variable (VarHandleOp "name", shared_name "name") holding `value` in the checkpoint. */
  variable(name: string, value: Tensor): VariableRef {
    if (this.vars.has(name)) throw internal(`variable ${name} defined twice`);
    const handle = this.graph.op('VarHandleOp', [], { dtype: value.dtype, shape: value.shape, shared_name: name }, { name, shapes: [[]] })[0];
    if (handle.node !== name) throw internal(`variable name ${name} is already used by a node`);
    const ref: VariableRef = { name, handle, dtype: value.dtype, shape: value.shape };
    this.vars.set(name, { ref, value });
    return ref;
  }

  /** A tf.function: FunctionDef "__inference_<name>_<uid>" built by `body` from its inputs. */
  function(name: string, inputs: readonly ArgSpec[], body: (tf: Tf, ...args: Output[]) => Output | readonly Output[]): FunctionHandle {
    return this.graph.defineFunction(name, inputs, body);
  }

  /**
   * Exposes `fn` as signature `key`: a Placeholder "<key>_<input>" per
   * input, a call of `fn`, outputs named `outputs` (default "output_0"...).
   */
  signature(key: string, fn: FunctionHandle, opts: { outputs?: readonly string[]; methodName?: string } = {}): SignatureDef {
    if (this.signatures[key]) throw internal(`signature ${key} defined twice`);
    const names = opts.outputs ?? fn.outputs.map((_, i) => `output_${i}`);
    if (names.length !== fn.outputs.length) throw internal(`signature ${key}: ${names.length} output names for ${fn.outputs.length} outputs`);
    const info = (o: Output): TensorInfo => ({ name: o.tensorName, dtype: o.dtype, shape: tensorShape(o.shape) });
    const placeholders = fn.inputs.map((a) => this.graph.placeholder(a.dtype, a.shape, `${key}_${a.name}`));
    const outs = this.graph.call(fn, placeholders);
    const def: SignatureDef = {
      inputs: Object.fromEntries(fn.inputs.map((a, i) => [a.name, info(placeholders[i])])),
      outputs: Object.fromEntries(names.map((n, i) => [n, info(outs[i])])),
      methodName: opts.methodName ?? PREDICT_METHOD_NAME,
    };
    this.signatures[key] = def;
    return def;
  }

  /** Adds the saver and returns the MetaGraph and the checkpoint contents. Call once. */
  build(): BuiltModel {
    if (this.built) throw internal('ModelBuilder.build() was already called');
    this.built = true;
    const saverDef = this.vars.size > 0 ? this.addSaver() : undefined;
    const variables = new Map([...this.vars].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => [k, v.value]));
    const metaGraph: MetaGraph = {
      metaInfoDef: {
        metaGraphVersion: '',
        tags: [...(this.options.tags ?? ['serve'])],
        tensorflowVersion: this.options.tensorflowVersion ?? '2.14.0',
        tensorflowGitVersion: this.options.tensorflowGitVersion ?? 'modelhost',
        strippedOpList: [...this.opDefs.values()].sort((a, b) => (a.name < b.name ? -1 : 1)),
        strippedDefaultAttrs: this.stripDefaultAttrs,
      },
      graphDef: {
        node: this.graph.nodes,
        library: { function: this.functions },
        versions: { producer: this.options.producer ?? 1569, minConsumer: 12 },
      },
      collectionDef: {},
      signatureDef: Object.fromEntries(Object.keys(this.signatures).sort().map((k) => [k, this.signatures[k]])),
      assetFileDef: [],
    };
    if (saverDef) metaGraph.saverDef = saverDef;
    return { metaGraph, variables };
  }

  /** The V2 saver over every variable, sorted by name (see the module comment). */
  private addSaver(): SaverDef {
    const g = this.graph;
    const vars = [...this.vars.values()].map((v) => v.ref).sort((a, b) => (a.name < b.name ? -1 : 1));
    const names = Tensor.from('string', [vars.length], vars.map((v) => v.name));
    const slices = Tensor.from('string', [vars.length], vars.map(() => ''));
    const dtypes: DType[] = vars.map((v) => v.dtype);
    const filename = g.placeholder('string', [], 'saver_filename');
    const control: string[] = [];
    g.nameScope('save', () => {
      const saveNames = g.constant(names, { name: 'SaveV2/tensor_names' });
      const saveSlices = g.constant(slices, { name: 'SaveV2/shape_and_slices' });
      const values = vars.map((v, i) => g.readVariable(v, i === 0 ? 'Read/ReadVariableOp' : `Read_${i}/ReadVariableOp`));
      g.op('SaveV2', [filename, saveNames, saveSlices, values], {}, { name: 'SaveV2' });
      g.op('Identity', [filename], {}, { name: 'control_dependency', control: ['save/SaveV2'], shapes: [[]] });
      const restoreNames = g.constant(names, { name: 'RestoreV2/tensor_names' });
      const restoreSlices = g.constant(slices, { name: 'RestoreV2/shape_and_slices' });
      const restored = g.op('RestoreV2', [filename, restoreNames, restoreSlices], { dtypes }, { name: 'RestoreV2' });
      vars.forEach((v, i) => {
        const value = g.identity(restored[i], 'Identity');
        const assign = g.uniqueName('AssignVariableOp');
        g.op('AssignVariableOp', [v.handle, value], {}, { fullName: assign });
        control.push(assign);
      });
      g.op('NoOp', [], {}, { name: 'restore_all', control });
    });
    return {
      filenameTensorName: 'saver_filename:0',
      saveTensorName: 'save/control_dependency:0',
      restoreOpName: 'save/restore_all',
      maxToKeep: 5,
      sharded: false,
      keepCheckpointEveryNHours: 10000,
      version: 2,
    };
  }
}
