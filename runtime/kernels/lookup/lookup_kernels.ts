/**
 * Lookup table kernels: HashTableV2, MutableHashTableV2,
 * MutableHashTableOfTensorsV2 and their anonymous forms make (once per node
 * and loaded model) a table resource; InitializeTableV2,
 * InitializeTableFromTextFileV2, LookupTableFind/Insert/Remove/Import/
 * Export/SizeV2 act on it (semantics of TF's core/kernels/lookup_table_op.cc
 * and lookup_util.cc).
 */
import type { NodeDef } from '../../graph/types.js';
import { invalidArgument } from '../../errors.js';
import { Tensor } from '../../tensor.js';
import { registerKernel, type KernelContext, type ResourceManager } from '../registry.js';
import { LookupTable, type TableKind } from './lookup_table.js';
import { readTextFileEntries } from './text_file.js';

/** Handles of tables private to one node (no shared_name), per model. */
const privateTables = new WeakMap<ResourceManager, Map<NodeDef, Tensor>>();

function makeTable(ctx: KernelContext, kind: TableKind): LookupTable {
  const a = ctx.attrs;
  const valueShape = kind === 'MutableHashTableOfTensors' ? a.shape('value_shape').dims : [];
  return new LookupTable(kind, a.type('key_dtype'), a.type('value_dtype'), valueShape);
}

/** The node's table: shared by name when it has one (container/shared_name), else private to the node. */
function tableHandle(ctx: KernelContext, kind: TableKind): Tensor {
  const shared = ctx.attrs.string('shared_name', '') || (ctx.attrs.bool('use_node_name_sharing', false) ? ctx.node.name : '');
  let byNode = privateTables.get(ctx.resources);
  if (!byNode) privateTables.set(ctx.resources, (byNode = new Map()));
  let handle = byNode.get(ctx.node);
  if (!handle) {
    const table = shared
      ? ctx.resources.resource(`table:${ctx.attrs.string('container', '')}/${shared}`, () => makeTable(ctx, kind))
      : makeTable(ctx, kind);
    handle = Tensor.scalar('resource', table).keep();
    byNode.set(ctx.node, handle);
  }
  return handle;
}

for (const [op, kind] of [
  ['HashTableV2', 'HashTable'],
  ['MutableHashTableV2', 'MutableHashTable'],
  ['MutableHashTableOfTensorsV2', 'MutableHashTableOfTensors'],
] as const) {
  registerKernel({ op, stateful: true, kernel: (ctx) => [tableHandle(ctx, kind)] });
}

// Anonymous tables: a new table every time the op runs (freed with the run).
for (const [op, kind] of [
  ['AnonymousHashTable', 'HashTable'],
  ['AnonymousMutableHashTable', 'MutableHashTable'],
  ['AnonymousMutableHashTableOfTensors', 'MutableHashTableOfTensors'],
] as const) {
  registerKernel({ op, stateful: true, kernel: (ctx) => [Tensor.scalar('resource', makeTable(ctx, kind))] });
}

/** The table a resource input holds. */
function tableOf(ctx: KernelContext, input = 0): LookupTable {
  const t = ctx.inputs[input];
  const table = t.dtype === 'resource' ? (t.values() as unknown[])[0] : undefined;
  if (!(table instanceof LookupTable)) throw invalidArgument(`${ctx.node.op} expects a lookup table handle as input ${input}`);
  return table;
}

registerKernel({ op: 'LookupTableFindV2', stateful: true, kernel: (ctx) => [tableOf(ctx).find(ctx.inputs[1], ctx.inputs[2])] });
registerKernel({ op: 'LookupTableSizeV2', stateful: true, kernel: (ctx) => [Tensor.scalar('int64', BigInt(tableOf(ctx).size()))] });
registerKernel({ op: 'LookupTableExportV2', stateful: true, kernel: (ctx) => tableOf(ctx).export() });
registerKernel({ op: 'LookupTableInsertV2', stateful: true, kernel: (ctx) => (tableOf(ctx).insert(ctx.inputs[1], ctx.inputs[2]), []) });
registerKernel({ op: 'LookupTableImportV2', stateful: true, kernel: (ctx) => (tableOf(ctx).import(ctx.inputs[1], ctx.inputs[2]), []) });
registerKernel({ op: 'LookupTableRemoveV2', stateful: true, kernel: (ctx) => (tableOf(ctx).remove(ctx.inputs[1]), []) });

function initializable(ctx: KernelContext): LookupTable {
  const table = tableOf(ctx);
  if (!table.isInitializable) throw invalidArgument(`Table ${ctx.node.input[0] ?? ''} is not initializable`);
  return table;
}

registerKernel({ op: 'InitializeTableV2', stateful: true, kernel: (ctx) => (initializable(ctx).initialize(ctx.inputs[1], ctx.inputs[2]), []) });

registerKernel({
  op: 'InitializeTableFromTextFileV2',
  stateful: true,
  kernel: (ctx) => {
    const table = initializable(ctx);
    const name = ctx.inputs[1];
    if (name.dtype !== 'string' || name.size !== 1 || name.rank !== 0) {
      throw invalidArgument(`filename should be a single string, but got ${name.rank === 0 ? 'a scalar' : `shape [${name.shape}]`}`);
    }
    const file = Buffer.from((name.values() as Uint8Array[])[0]).toString('utf8');
    const spec = {
      file,
      keyIndex: ctx.attrs.int('key_index'),
      valueIndex: ctx.attrs.int('value_index'),
      vocabSize: ctx.attrs.int('vocab_size', -1),
      delimiter: ctx.attrs.string('delimiter', '\t'),
      offset: ctx.attrs.int('offset', 0),
      keyDtype: table.keyDtype,
      valueDtype: table.valueDtype,
    };
    const { keys, values } = readTextFileEntries(ctx.resources.readModelFile(file), spec);
    // A table already initialised from its file is left as it is (TF logs and goes on).
    if (!table.isInitialized) table.initializeFrom(keys as never, values);
    return [];
  },
});
