/** `modelhost ops`: every TensorFlow op the runtime supports, one per line. */
import type { Command } from 'commander';
import '../../runtime/kernels/index.js';
import { FRAME_OPS } from '../../runtime/graph/tf1_while.js';
import { supportedOps } from '../../runtime/kernels/registry.js';

export function addOpsCommand(program: Command): void {
  program
    .command('ops')
    .description('list every TensorFlow op the modelhost runtime supports, one per line')
    .action(() => {
      // TF1 loop frame ops (Enter, Exit, NextIteration, LoopCond...) have no kernel: loops are rewritten into While.
      const ops = [...new Set([...supportedOps(), ...FRAME_OPS])].sort();
      process.stdout.write(ops.map((op) => `${op}\n`).join(''));
    });
}
