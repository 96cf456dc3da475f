/**
 * Predict on a loaded model, with TF Serving's checks and texts
 * (servables/tensorflow/predict_util.cc): the signature must exist and be a
 * predict, classify or regress signature; every input alias must be in the
 * signature; `outputFilter` picks outputs (default: all).
 */
import type { RunOptions, Servable } from '../../runtime/engine.js';
import { failedPrecondition, internal, invalidArgument } from '../../runtime/errors.js';
import type { Tensor } from '../../runtime/tensor.js';

export const DEFAULT_SIGNATURE = 'serving_default';
export const PREDICT_METHOD = 'tensorflow/serving/predict';
export const CLASSIFY_METHOD = 'tensorflow/serving/classify';
export const REGRESS_METHOD = 'tensorflow/serving/regress';

const sortedKeys = (m: object) => Object.keys(m).sort().join(',');

export async function runPredict(
  model: Servable,
  signatureName: string,
  inputs: Record<string, Tensor>,
  outputFilter: readonly string[] = [],
  options?: RunOptions,
): Promise<Record<string, Tensor>> {
  const name = signatureName || DEFAULT_SIGNATURE;
  const signature = model.signatures[name];
  if (!signature) throw failedPrecondition(`Serving signature key "${name}" not found.`);
  if (![PREDICT_METHOD, CLASSIFY_METHOD, REGRESS_METHOD].includes(signature.methodName)) {
    throw internal(
      `Expected prediction signature method_name to be one of {${PREDICT_METHOD}, ${CLASSIFY_METHOD}, ${REGRESS_METHOD}}. Was: ${signature.methodName}`,
    );
  }
  for (const alias of Object.keys(inputs)) {
    if (!(alias in signature.inputs) && Object.keys(inputs).length === Object.keys(signature.inputs).length) {
      throw invalidArgument(
        `input tensor alias not found in signature: ${alias}. Inputs expected to be in the set {${sortedKeys(signature.inputs)}}.`,
      );
    }
  }
  const seen = new Set<string>();
  for (const alias of outputFilter) {
    if (!(alias in signature.outputs)) {
      throw invalidArgument(
        `output tensor alias not found in signature: ${alias} Outputs expected to be in the set {${sortedKeys(signature.outputs)}}.`,
      );
    }
    if (seen.has(alias)) throw invalidArgument(`duplicate output tensor alias: ${alias}`);
    seen.add(alias);
  }
  return model.run(name, inputs, outputFilter.length > 0 ? outputFilter : undefined, options);
}
