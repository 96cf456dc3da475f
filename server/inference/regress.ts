/**
 * Regress on a loaded model (TF Serving's regressor.cc): the signature's
 * checks (a regress signature with one string input "inputs" and one output
 * "outputs"), the run on serialized tf.Examples, and the codec's result
 * checks (float, [batch] or [batch, 1]).
 */
import { regressionsFromTensor } from '../../runtime/codec/index.js';
import type { RunOptions, Servable } from '../../runtime/engine.js';
import { failedPrecondition, invalidArgument } from '../../runtime/errors.js';
import type { Tensor } from '../../runtime/tensor.js';
import { checkExampleInput, exampleFeeds, signatureWithMethod } from './examples.js';
import { REGRESS_METHOD } from './predict.js';

export async function runRegress(model: Servable, signatureName: string, serializedExamples: readonly Uint8Array[], options?: RunOptions): Promise<number[]> {
  const signature = signatureWithMethod(model, signatureName, REGRESS_METHOD, 'regression');
  checkExampleInput(signature, 'regression');
  if (Object.keys(signature.outputs).length !== 1) throw invalidArgument('Expected one output Tensor.');
  if (!('outputs' in signature.outputs)) {
    throw failedPrecondition(`No regression outputs found in SignatureDef: ${JSON.stringify(signature)}`);
  }
  const feeds = exampleFeeds(serializedExamples);
  let outputs: Tensor;
  try {
    outputs = (await model.run(signature.name, feeds, ['outputs'], options)).outputs;
  } finally {
    feeds.inputs.dispose();
  }
  try {
    return regressionsFromTensor(outputs, serializedExamples.length);
  } finally {
    outputs.dispose();
  }
}
