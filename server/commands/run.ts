/**
 * `modelhost run DIR --request JSON [--signature_def NAME] [--tag_set serve]`:
 * runs one TF Serving predict body through the runtime and prints exactly the
 * body the REST API returns ({"predictions": ...} or {"outputs": ...}) on
 * stdout. Errors go to stderr with a non-zero exit status.
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import { formatPredictResponse, parsePredictRequest } from '../../runtime/codec/index.js';
import { invalidArgument } from '../../runtime/errors.js';
import { DEFAULT_MAX_TENSOR_ELEMENTS, setRuntimeLimits } from '../../runtime/limits.js';
import { tsEngine } from '../../runtime/loader.js';
import { DEFAULT_SIGNATURE } from '../inference/predict.js';

export async function runPredict(dir: string, body: string, options: { signature?: string; tags?: string[] } = {}): Promise<string> {
  const model = await tsEngine.load(dir, { tags: options.tags });
  try {
    let signature = options.signature ?? DEFAULT_SIGNATURE;
    const request = parsePredictRequest(body, (name) => {
      if (options.signature === undefined && name) signature = name;
      const sig = model.signatures[signature];
      if (!sig) throw invalidArgument(`Serving signature name: "${signature}" not found in signature def`);
      return sig.inputs;
    });
    const outputs = model.run(signature, request.inputs);
    return formatPredictResponse(outputs, request.format);
  } finally {
    model.dispose();
  }
}

export function addRunCommand(program: Command): void {
  program
    .command('run')
    .description('run a TF Serving predict request body through a SavedModel and print the response body')
    .argument('<dir>', 'SavedModel directory (holding saved_model.pb)')
    .requiredOption('--request <json>', 'predict body, e.g. \'{"instances": [[1.0], [2.0]]}\'; @FILE reads it from a file')
    .option('--signature_def <name>', 'signature to run (default: the request\'s signature_name, else serving_default)')
    .option('--tag_set <tags>', 'comma-separated tag set of the MetaGraph', 'serve')
    .option('--max_tensor_elements <n>', 'most elements one tensor may have (as for serve)', String(DEFAULT_MAX_TENSOR_ELEMENTS))
    .action(async (dir: string, opts: { request: string; signature_def?: string; tag_set: string; max_tensor_elements: string }) => {
      setRuntimeLimits({ maxTensorElements: Number(opts.max_tensor_elements) }); // INVALID_ARGUMENT unless a whole number >= 1
      const body = opts.request.startsWith('@') ? fs.readFileSync(opts.request.slice(1), 'utf8') : opts.request;
      const out = await runPredict(dir, body, { signature: opts.signature_def, tags: opts.tag_set.split(',').filter(Boolean) });
      process.stdout.write(`${out}\n`);
    });
}
