import fs from 'node:fs';
import path from 'node:path';
import { test } from 'vitest';
import { BundleReader } from '../../../runtime/checkpoint/bundle_reader.js';
import { encodeBundle } from '../../../runtime/checkpoint/bundle_writer.js';
const F = path.resolve(import.meta.dirname, '../../../../shared/fixtures/tf-serving');
const dirs = ['saved_model_half_plus_two_cpu/00000123','saved_model_half_plus_two_2_versions/00000124','saved_model_half_plus_three/00000123','saved_model_half_plus_two_tf2_cpu/00000123','saved_model_half_plus_two_mkl/00000123','saved_model_half_plus_two_cpu_with_saved_model_config/00000123','saved_model_counter/00000123'];
test('scratch', async () => {
  for (const d of dirs) {
    const prefix = path.join(F, d, 'variables/variables');
    const r = await BundleReader.open(prefix);
    const idx = fs.readFileSync(prefix + '.index');
    const dat = fs.readFileSync(prefix + '.data-00000-of-00001');
    console.log(d, 'blocktype', idx[idx.length-48-5-14], r.keys().map(k => [k, r.entry(k).dtype, r.entry(k).shape, r.entry(k).offset, r.entry(k).size, r.read(k).dtype === 'string' ? r.read(k).strings().map(s=>s.length) : Array.from(r.read(k).values() as Float32Array).slice(0,4)]));
    const keys = r.keys().sort((a,b)=>r.entry(a).offset-r.entry(b).offset);
    const enc = encodeBundle(keys.map(k => [k, r.read(k)] as const));
    console.log('  data identical', Buffer.compare(Buffer.from(enc.data), dat) === 0, 'index identical', Buffer.compare(Buffer.from(enc.index), idx) === 0, enc.index.length, idx.length);
  }
});
