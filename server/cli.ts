/**
 * The `modelhost` command line: a small dispatcher. Each subcommand lives in
 * server/commands/<name>.ts and exports a function that adds itself to the
 * program; add a new one to COMMANDS.
 */
import { Command } from 'commander';
import { addEventsCommand } from './commands/events.js';
import { addCheckCommand, addInspectCommand } from './commands/inspect.js';
import { addLabelCommand } from './commands/label.js';
import { addLogsCommand } from './commands/logs.js';
import { addMetadataCommands } from './commands/metadata.js';
import { addModelsCommands } from './commands/models.js';
import { addOpsCommand } from './commands/ops.js';
import { addPinCommands } from './commands/pin.js';
import { addRetireCommands } from './commands/retire.js';
import { addRolloutCommand } from './commands/rollout.js';
import { addRunCommand } from './commands/run.js';
import { addServeCommand } from './commands/serve.js';
import { addUploadCommand } from './commands/upload.js';

const COMMANDS: ((program: Command) => void)[] = [
  addServeCommand,
  addInspectCommand,
  addCheckCommand,
  addOpsCommand,
  addRunCommand,
  addLogsCommand,
  // Registry commands: clients of a running server's /api/v1.
  addModelsCommands,
  addUploadCommand,
  addPinCommands,
  addLabelCommand,
  addRetireCommands,
  addEventsCommand,
  addRolloutCommand,
  addMetadataCommands,
];

export async function main(argv: readonly string[]): Promise<void> {
  const program = new Command('modelhost')
    .description('Model registry and TensorFlow-Serving-compatible server for TensorFlow SavedModels.')
    .showHelpAfterError();
  for (const add of COMMANDS) add(program);
  await program.parseAsync([...argv]);
}
