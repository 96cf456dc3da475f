/** `modelhost ops`: every TensorFlow op the runtime supports, one per line. */
import type { Command } from 'commander';
import '../../runtime/kernels/index.js';
import { supportedOps } from '../../runtime/kernels/registry.js';

export function addOpsCommand(program: Command): void {
  program
    .command('ops')
    .description('list every TensorFlow op the modelhost runtime supports, one per line')
    .action(() => {
      process.stdout.write(supportedOps().map((op) => `${op}\n`).join(''));
    });
}
