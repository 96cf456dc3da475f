/**
 * `modelhost logs <file-or-prefix> [--full] [--limit N]`: reads request log
 * files (TFRecord files of tensorflow.serving.PredictionLog, written for
 * models with a logging_config) and prints one JSON object per record: file,
 * offset, time, model, version, signature, method, sampling rate, and the
 * inputs and outputs summarised (dtype and shape; numbers of examples and
 * results), or in full with --full.
 *
 * Every record's two CRCs are checked. A corrupted or truncated record stops
 * the reading: the records before it are printed, then the error (naming the
 * file, the offset and what is wrong) goes to stderr and the exit code is 1.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { describeRecord, logFiles, readRecords } from '../request_log/log_reader.js';

interface LogsFlags {
  full?: boolean;
  limit?: number;
}

function positive(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('expected a whole number >= 1.');
  return Number(value);
}

export function addLogsCommand(program: Command): void {
  program
    .command('logs')
    .description('Print request logs (TFRecord files of PredictionLog written for models with a logging_config) as JSON lines.')
    .argument('<file-or-prefix>', 'a log file, a folder of them, or the filename_prefix they were written with')
    .option('--full', 'print the whole request and response (tensor values included) instead of dtypes and shapes')
    .option('--limit <n>', 'stop after this many records', positive)
    .action(async (target: string, flags: LogsFlags) => {
      let printed = 0;
      for (const file of await logFiles(target)) {
        for await (const { offset, data } of readRecords(file)) {
          if (flags.limit !== undefined && printed >= flags.limit) return;
          process.stdout.write(`${JSON.stringify(describeRecord(data, { file, offset }, flags.full))}\n`);
          printed++;
        }
      }
    });
}
