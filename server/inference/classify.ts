/**
 * Classify on a loaded model (TF Serving's classifier.cc): the signature's
 * checks (a classify signature with one string input "inputs" and outputs
 * "classes" and/or "scores"), the run on serialized tf.Examples, and the
 * codec's result checks.
 */
import { classificationsFromTensors, type ClassResult } from '../../runtime/codec/index.js';
import type { RunOptions, Servable } from '../../runtime/engine.js';
import { failedPrecondition, invalidArgument } from '../../runtime/errors.js';
import type { Tensor } from '../../runtime/tensor.js';
import { checkExampleInput, exampleFeeds, signatureWithMethod } from './examples.js';
import { CLASSIFY_METHOD } from './predict.js';

export async function runClassify(model: Servable, signatureName: string, serializedExamples: readonly Uint8Array[], options?: RunOptions): Promise<ClassResult[][]> {
  const signature = signatureWithMethod(model, signatureName, CLASSIFY_METHOD, 'classification');
  checkExampleInput(signature, 'classification');
  const outputCount = Object.keys(signature.outputs).length;
  if (outputCount !== 1 && outputCount !== 2) {
    throw invalidArgument(`Expected one or two output Tensors, found ${outputCount}`);
  }
  const wanted = ['classes', 'scores'].filter((k) => k in signature.outputs);
  if (wanted.length === 0) {
    throw failedPrecondition(
      `Expected classification signature outputs to contain at least one of "classes" or "scores". Signature was: ${JSON.stringify(signature)}`,
    );
  }
  const feeds = exampleFeeds(serializedExamples);
  let out: Record<string, Tensor>;
  try {
    out = await model.run(signature.name, feeds, wanted, options);
  } finally {
    feeds.inputs.dispose();
  }
  try {
    return classificationsFromTensors(out.classes, out.scores, serializedExamples.length);
  } finally {
    for (const t of Object.values(out)) t.dispose();
  }
}
