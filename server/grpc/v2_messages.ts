/**
 * The Open Inference Protocol's gRPC messages (proto/kserve/grpc_predict_v2.proto,
 * decoded by protobufjs with camelCase fields) to and from the v2 REST
 * handler's forms (server/v2/), so both transports run the same infer code.
 * Inputs come as raw_input_contents (one bytes per input, in input order) or
 * typed contents; outputs go back as raw_output_contents, which every
 * KServe/Triton client reads.
 */
import { invalidArgument } from '../../runtime/errors.js';
import { int64ToNumber, type Int64Like } from '../../runtime/proto/long.js';
import type { Tensor } from '../../runtime/tensor.js';
import { DEFAULT_SIGNATURE } from '../inference/predict.js';
import type { ParsedInfer } from '../v2/handler.js';
import { binaryData, v2Datatype, type V2Input } from '../v2/tensors.js';

interface InferParameterMsg {
  boolParam?: boolean;
  int64Param?: Int64Like;
  stringParam?: string;
}
interface InferTensorContentsMsg {
  boolContents?: boolean[];
  intContents?: number[];
  int64Contents?: Int64Like[];
  uintContents?: number[];
  uint64Contents?: Int64Like[];
  fp32Contents?: number[];
  fp64Contents?: number[];
  bytesContents?: Uint8Array[];
}
export interface ModelInferRequestMsg {
  modelName?: string;
  modelVersion?: string;
  id?: string;
  parameters?: Record<string, InferParameterMsg>;
  inputs?: { name?: string; datatype?: string; shape?: Int64Like[]; contents?: InferTensorContentsMsg | null }[];
  outputs?: { name?: string }[];
  rawInputContents?: Uint8Array[];
}

/** The typed contents of one input as the JSON form's data. */
function contentsData(name: string, datatype: string, c: InferTensorContentsMsg | null | undefined): unknown[] {
  const n = (v: Int64Like) => int64ToNumber(v, `input '${name}'`);
  switch (datatype) {
    case 'BOOL':
      return c?.boolContents ?? [];
    case 'INT8':
    case 'INT16':
    case 'INT32':
      return c?.intContents ?? [];
    case 'INT64':
      return (c?.int64Contents ?? []).map(n);
    case 'UINT8':
    case 'UINT16':
    case 'UINT32':
      return c?.uintContents ?? [];
    case 'UINT64':
      return (c?.uint64Contents ?? []).map(n);
    case 'FP32':
      return c?.fp32Contents ?? [];
    case 'FP64':
      return c?.fp64Contents ?? [];
    case 'BYTES':
      return (c?.bytesContents ?? []).map((b) => ({ b64: Buffer.from(b).toString('base64') }));
    default:
      throw invalidArgument(`Input '${name}' of datatype ${datatype} must be sent in raw_input_contents (the protocol has no typed contents for it)`);
  }
}

/** A ModelInferRequest in the form the v2 infer code takes. */
export function parsedInferFrom(req: ModelInferRequestMsg): ParsedInfer {
  const raw = req.rawInputContents ?? [];
  const declared = req.inputs ?? [];
  if (raw.length > 0 && raw.length !== declared.length) {
    throw invalidArgument(`raw_input_contents holds ${raw.length} tensors for ${declared.length} inputs: give one per input, in order`);
  }
  const inputs: V2Input[] = declared.map((t, i) => {
    const name = t.name ?? '';
    const datatype = t.datatype ?? '';
    const shape = (t.shape ?? []).map((d) => int64ToNumber(d, `shape of input '${name}'`));
    if (raw.length > 0) {
      if (t.contents) throw invalidArgument(`Input '${name}' has both contents and raw_input_contents`);
      return { name, shape, datatype, binary: raw[i] };
    }
    return { name, shape, datatype, data: contentsData(name, datatype, t.contents) };
  });
  const signature = req.parameters?.signature_name?.stringParam;
  return {
    id: req.id || undefined,
    signatureName: signature || DEFAULT_SIGNATURE,
    binaryOutput: true,
    inputs,
    outputs: req.outputs && req.outputs.length > 0 ? req.outputs.map((o) => ({ name: o.name ?? '', binary: true })) : undefined,
  };
}

/** A ModelInferResponse with every output in raw_output_contents. */
export function modelInferResponse(model: string, version: number, request: ParsedInfer, outputs: Record<string, Tensor>) {
  const names = request.outputs ? request.outputs.map((o) => o.name) : Object.keys(outputs).sort();
  const described = names.map((name) => {
    const t = outputs[name];
    const datatype = v2Datatype(t.dtype);
    if (!datatype) throw invalidArgument(`Output '${name}' is of a type the Open Inference Protocol cannot carry`);
    return { name, datatype, shape: [...t.shape] };
  });
  return {
    modelName: model,
    modelVersion: String(version),
    id: request.id ?? '',
    outputs: described,
    rawOutputContents: names.map((n) => binaryData(outputs[n])),
  };
}
