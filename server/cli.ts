/**
 * The `modelhost` command line: a small dispatcher. Each subcommand lives in
 * server/commands/<name>.ts and exports a function that adds itself to the
 * program; add a new one to COMMANDS.
 */
import { Command } from 'commander';
import { addInspectCommand } from './commands/inspect.js';
import { addOpsCommand } from './commands/ops.js';
import { addRunCommand } from './commands/run.js';
import { addServeCommand } from './commands/serve.js';

const COMMANDS: ((program: Command) => void)[] = [addServeCommand, addInspectCommand, addOpsCommand, addRunCommand];

export async function main(argv: readonly string[]): Promise<void> {
  const program = new Command('modelhost')
    .description('Model registry and TensorFlow-Serving-compatible server for TensorFlow SavedModels.')
    .showHelpAfterError();
  for (const add of COMMANDS) add(program);
  await program.parseAsync([...argv]);
}
