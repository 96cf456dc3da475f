/**
 * The TF Serving request and response protos (as plain objects for
 * protobufjs) of a REST call, as TF Serving's REST handler builds them before
 * it runs the same code as gRPC: the JSON body becomes a PredictRequest /
 * ClassificationRequest / RegressionRequest, the answer a PredictResponse /
 * ClassificationResponse / RegressionResponse. Request logging writes these,
 * so a REST call and the same gRPC call log the same record.
 */
import type { ClassResult } from '../../runtime/codec/index.js';
import { bigIntToInt64 } from '../../runtime/proto/long.js';
import type { TensorProtoMsg } from '../../runtime/proto/messages.js';
import { protoType } from '../../runtime/proto/schema.js';
import { tensorToProto } from '../../runtime/proto/tensor_proto.js';
import type { Tensor } from '../../runtime/tensor.js';

/** A ModelSpec message: name, version or version_label, signature_name (unset: not written). */
export function modelSpecMsg(name: string, choice: { version?: number; label?: string }, signatureName?: string): object {
  return {
    name,
    ...(choice.version !== undefined ? { version: { value: bigIntToInt64(choice.version) } } : {}),
    ...(choice.version === undefined && choice.label !== undefined ? { versionLabel: choice.label } : {}),
    ...(signatureName !== undefined ? { signatureName } : {}),
  };
}

/** Tensors as TensorProtos with typed value fields (TF Serving's default, AsProtoField). */
export function tensorProtos(tensors: Readonly<Record<string, Tensor>>): Record<string, TensorProtoMsg> {
  const out: Record<string, TensorProtoMsg> = {};
  for (const [alias, t] of Object.entries(tensors)) out[alias] = tensorToProto(t);
  return out;
}

/**
 * The Input of a ClassificationRequest / RegressionRequest from the REST
 * body's examples: `examples` are serialized tf.Examples, each starting with
 * the serialized context when there is one (as the REST codec merges them).
 */
export function examplesInput(examples: readonly Uint8Array[], context?: Uint8Array): object {
  const exampleType = protoType('tensorflow.Example');
  const skip = context?.length ?? 0;
  const decoded = examples.map((e) => exampleType.toObject(exampleType.decode(e.subarray(skip))));
  if (context === undefined) return { exampleList: { examples: decoded } };
  return { exampleListWithContext: { examples: decoded, context: exampleType.toObject(exampleType.decode(context)) } };
}

/** A ClassificationResult message. */
export function classificationResultMsg(result: readonly (readonly ClassResult[])[]): object {
  return { classifications: result.map((classes) => ({ classes })) };
}

/** A RegressionResult message. */
export function regressionResultMsg(values: readonly number[]): object {
  return { regressions: values.map((value) => ({ value })) };
}
