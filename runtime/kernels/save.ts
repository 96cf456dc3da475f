/**
 * Checkpoint saving, as the SaverDef's save path runs it: SaveV2 writes a
 * TensorBundle (index + one data shard) at a prefix; MergeV2Checkpoints moves
 * the shard written by the sharded saver to the final prefix. Not needed to
 * serve, but it makes a SavedModel's save function runnable and keeps
 * `modelhost inspect` honest about what the runtime supports.
 */
import fs from 'node:fs';
import path from 'node:path';
import { invalidArgument, unimplemented } from '../errors.js';
import { encodeBundle } from '../checkpoint/bundle_writer.js';
import { dataFilename, metaFilename } from '../checkpoint/naming.js';
import type { Tensor } from '../tensor.js';
import { registerKernel } from './registry.js';

registerKernel({
  op: 'SaveV2',
  stateful: true,
  kernel: (ctx) => {
    const [prefixT, namesT, slicesT, ...tensors] = ctx.inputs;
    const prefix = prefixT.strings()[0];
    const names = namesT.strings();
    const slices = slicesT.strings();
    if (names.length !== tensors.length || slices.length !== tensors.length) {
      throw invalidArgument(
        `Expected ${tensors.length} tensor names and shape_and_slices, got ${names.length} and ${slices.length}`,
      );
    }
    const entries: [string, Tensor][] = [];
    names.forEach((name, i) => {
      if (slices[i] !== '') throw unimplemented(`Saving a slice ('${slices[i]}') of ${name} is not supported`);
      entries.push([name, tensors[i]]);
    });
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const { index, data } = encodeBundle(entries);
    fs.mkdirSync(path.dirname(path.resolve(prefix)), { recursive: true });
    fs.writeFileSync(dataFilename(prefix, 0, 1), data);
    fs.writeFileSync(metaFilename(prefix), index);
    return [];
  },
});

registerKernel({
  op: 'MergeV2Checkpoints',
  stateful: true,
  kernel: (ctx) => {
    const [sourcesT, destT] = ctx.inputs;
    const sources = sourcesT.strings();
    const dest = destT.strings()[0];
    if (sources.length !== 1) {
      throw unimplemented(`Merging ${sources.length} checkpoint shards is not supported; the runtime writes one shard`);
    }
    const [src] = sources;
    fs.mkdirSync(path.dirname(path.resolve(dest)), { recursive: true });
    fs.renameSync(dataFilename(src, 0, 1), dataFilename(dest, 0, 1));
    fs.renameSync(metaFilename(src), metaFilename(dest));
    if (ctx.attrs.bool('delete_old_dirs', true)) {
      try {
        fs.rmdirSync(path.dirname(path.resolve(src)));
      } catch {
        // Not empty or already gone: TF also ignores this.
      }
    }
    return [];
  },
});
