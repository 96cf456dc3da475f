import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { it } from 'vitest';
import { tsEngine } from '../runtime/loader.js';
import { protoType } from '../runtime/proto/schema.js';
it('repro', async () => {
  const H = '/work/shared/fixtures/tf-serving/saved_model_half_plus_two_cpu/00000123';
  const type = protoType('tensorflow.SavedModel');
  const msg = type.toObject(type.decode(fs.readFileSync(path.join(H, 'saved_model.pb')))) as any;
  const nodes = msg.metaGraphs[0].graphDef.node;
  const a = nodes[503461728 % nodes.length]; console.log('op of', a.name, a.op); a.op = 'Add';
  const b = nodes[0]; const k = Object.keys(b.attr)[0]; console.log(b.name, k); b.attr[k] = { type: 0 };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'r-'));
  fs.symlinkSync(path.join(H, 'variables'), path.join(dir, 'variables'));
  fs.writeFileSync(path.join(dir, 'saved_model.pb'), type.encode(type.fromObject(msg)).finish());
  try { await tsEngine.load(dir); } catch (e) { console.log((e as Error).stack); }
});
