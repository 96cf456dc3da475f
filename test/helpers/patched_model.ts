/** Copies a fixture SavedModel to a temp folder, renaming ops in its graph (to fake ops the runtime lacks). */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { protoType } from '../../runtime/proto/schema.js';

type Msg = { metaGraphs: { graphDef: { node: { name: string; op: string }[] } }[] };

export function copyWithRenamedOps(dir: string, rename: Record<string, string>): string {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-patched-'));
  fs.cpSync(dir, out, { recursive: true });
  fs.chmodSync(out, 0o755);
  const file = path.join(out, 'saved_model.pb');
  fs.chmodSync(file, 0o644);
  const SavedModel = protoType('tensorflow.SavedModel');
  const msg = SavedModel.decode(fs.readFileSync(file)) as unknown as Msg;
  for (const n of msg.metaGraphs[0].graphDef.node) if (rename[n.op]) n.op = rename[n.op];
  fs.writeFileSync(file, SavedModel.encode(msg as never).finish());
  return out;
}
