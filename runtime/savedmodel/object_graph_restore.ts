/**
 * Restores variables through the TF2 object graph, as Python's
 * tf.saved_model.load does, for the ones the graph's own restore op leaves
 * out. Keras 3 models saved with tf.saved_model.save are the case: the restore
 * function writes copies of the variables, while the signature functions
 * capture the originals. Each signature call's captured inputs are bound, in
 * order, to object-graph nodes (SavedConcreteFunction.bound_inputs); the
 * checkpoint's own object graph (_CHECKPOINTABLE_OBJECT_GRAPH) names each
 * node's checkpoint key. A captured VarHandleOp still without a value after
 * the restore op gets the value stored under that key.
 */
import type { NodeDef } from '../graph/types.js';
import { Attrs } from '../kernels/attrs.js';
import type { CheckpointReader, ResourceManager } from '../kernels/registry.js';
import { protoType } from '../proto/schema.js';

const OBJECT_GRAPH_KEY = '_CHECKPOINTABLE_OBJECT_GRAPH';
const CALL_OPS = new Set(['StatefulPartitionedCall', 'PartitionedCall']);

interface SavedObjectGraphMsg {
  nodes?: { variable?: object | null }[];
  concreteFunctions?: Record<string, { boundInputs?: number[] }>;
}
interface TrackableObjectGraphMsg {
  nodes?: { attributes?: { name?: string; checkpointKey?: string }[] }[];
}

/** The checkpoint key of each object-graph variable node. */
function variableKeys(checkpoint: CheckpointReader): Map<number, string> {
  const keys = new Map<number, string>();
  if (!checkpoint.has(OBJECT_GRAPH_KEY)) return keys;
  const bytes = (checkpoint.read(OBJECT_GRAPH_KEY).values() as Uint8Array[])[0];
  const graph = protoType('tensorflow.TrackableObjectGraph').decode(bytes) as TrackableObjectGraphMsg;
  (graph.nodes ?? []).forEach((node, id) => {
    const attr = (node.attributes ?? []).find((a) => a.name === 'VARIABLE_VALUE');
    if (attr?.checkpointKey) keys.set(id, attr.checkpointKey);
  });
  return keys;
}

const opName = (input: string) => input.replace(/^\^/, '').replace(/:\d+$/, '');

/**
 * Assigns, from the checkpoint, every variable a signature call captures that
 * is still uninitialised. Returns how many were restored this way.
 */
export function restoreCapturedVariables(
  objectGraph: object | undefined,
  nodes: readonly NodeDef[],
  checkpoint: CheckpointReader,
  resources: ResourceManager,
): number {
  const og = objectGraph as SavedObjectGraphMsg | undefined;
  const functions = og?.concreteFunctions ?? {};
  if (Object.keys(functions).length === 0) return 0;
  let keys: Map<number, string> | undefined;
  const byName = new Map(nodes.map((n) => [n.name, n]));
  let restored = 0;
  for (const call of nodes) {
    if (!CALL_OPS.has(call.op)) continue;
    const f = call.attr.f;
    const fn = f?.kind === 'func' ? f.func.name : undefined;
    const bound = fn ? functions[fn]?.boundInputs ?? [] : [];
    if (bound.length === 0) continue;
    const inputs = call.input.filter((i) => !i.startsWith('^'));
    const captures = inputs.slice(inputs.length - bound.length);
    captures.forEach((input, i) => {
      const handle = byName.get(opName(input));
      if (!handle || handle.op !== 'VarHandleOp') return;
      // The key VarHandleOp's kernel uses (kernels/state.ts).
      const attrs = new Attrs(handle.attr, handle.name, handle.op);
      const container = attrs.string('container', '');
      const shared = attrs.string('shared_name', '') || handle.name;
      const varKey = container ? `${container}/${shared}` : shared;
      const existing = resources.lookup(varKey);
      if (existing?.value) return;
      keys ??= variableKeys(checkpoint);
      const ckptKey = keys.get(bound[i]);
      if (!ckptKey || !checkpoint.has(ckptKey)) return;
      const value = checkpoint.read(ckptKey);
      (existing ?? resources.variable(varKey, attrs.type('dtype'), value.shape)).assign(value);
      restored++;
    });
  }
  return restored;
}
