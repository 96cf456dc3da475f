/**
 * Shared by classify and regress: finding the signature a request names and
 * feeding it serialized tf.Example protos as TF Serving does
 * (servables/tensorflow/util.cc, classifier.cc, regressor.cc).
 */
import type { ModelDescription, SignatureInfo } from '../../runtime/engine.js';
import { failedPrecondition, invalidArgument } from '../../runtime/errors.js';
import { Tensor } from '../../runtime/tensor.js';
import { DEFAULT_SIGNATURE } from './predict.js';

/**
 * --enable_signature_method_name_check, process-wide like TF Serving's
 * SetSignatureMethodNameCheckFeature (default false: a TF2 signature whose
 * method_name is predict may serve :classify / :regress when its inputs and
 * outputs fit). startServer sets it.
 */
let methodNameCheck = false;

export function setSignatureMethodNameCheck(enabled: boolean): void {
  methodNameCheck = enabled;
}

/** The signature `signatureName` (default serving_default), which must have `methodName` when the check is on. */
export function signatureWithMethod(model: ModelDescription, signatureName: string, methodName: string, what: string): SignatureInfo {
  const name = signatureName || DEFAULT_SIGNATURE;
  const signature = model.signatures[name];
  if (!signature) throw invalidArgument(`No signature was found with the name: ${name}`);
  if (methodNameCheck && signature.methodName !== methodName) {
    throw invalidArgument(`Expected ${what} signature method_name to be ${methodName}. Was: ${signature.methodName}`);
  }
  return signature;
}

/** Checks the signature has the single input "inputs" that takes serialized tf.Examples. */
export function checkExampleInput(signature: SignatureInfo, what: string): void {
  if (Object.keys(signature.inputs).length !== 1) throw invalidArgument('Expected one input Tensor.');
  if (!('inputs' in signature.inputs)) {
    throw failedPrecondition(`No ${what} inputs found in SignatureDef: ${JSON.stringify(signature)}`);
  }
}

/** The feed of "inputs": one serialized tf.Example per element. */
export function exampleFeeds(serialized: readonly Uint8Array[]): Record<string, Tensor> {
  if (serialized.length === 0) throw invalidArgument('Input is empty.');
  return { inputs: Tensor.from('string', [serialized.length], serialized) };
}
