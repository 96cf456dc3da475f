import { readSavedModel, selectMetaGraph } from '../dist/runtime/savedmodel/reader.js';
const file = await readSavedModel(process.argv[2]);
const meta = selectMetaGraph ? selectMetaGraph(file, ['serve']) : file.metaGraphs[0];
for (const f of meta.graphDef.library.function) {
  if (!f.signature.name.includes(process.argv[3] ?? 'body')) continue;
  console.log('==', f.signature.name, f.signature.inputArg.map(a => a.name + ':' + a.type).join(' '));
  for (const n of f.nodeDef) console.log(' ', n.op.padEnd(22), n.name, '<-', n.input.join(', '));
  console.log('  ret', JSON.stringify(f.ret));
}
