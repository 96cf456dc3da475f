/**
 * Plain TypeScript forms of the TensorFlow protos the runtime works with
 * (tensorflow/core/framework/*.proto, tensorflow/core/protobuf/meta_graph.proto).
 * The SavedModel reader decodes protobuf into these; the writer encodes them
 * back. Field names follow protobufjs's camelCase of the proto field names.
 * Enums are resolved: dtypes are DType names, shapes use -1 for unknown dims.
 */
import type { DType } from '../dtypes.js';
import type { Tensor } from '../tensor.js';

export interface TensorShape {
  /** True when even the rank is unknown (TensorShapeProto.unknown_rank). */
  unknownRank: boolean;
  /** Dimension sizes; -1 for an unknown dimension. Empty with unknownRank=false is a scalar. */
  dims: number[];
}

export interface NameAttrList {
  name: string;
  attr: Record<string, AttrValue>;
}

export interface AttrList {
  s: Uint8Array[];
  i: number[];
  f: number[];
  b: boolean[];
  type: DType[];
  shape: TensorShape[];
  tensor: Tensor[];
  func: NameAttrList[];
}

/** AttrValue's oneof, resolved; `kind` names the member that was set. */
export type AttrValue =
  | { kind: 's'; s: Uint8Array }
  | { kind: 'i'; i: number }
  | { kind: 'f'; f: number }
  | { kind: 'b'; b: boolean }
  | { kind: 'type'; type: DType }
  | { kind: 'shape'; shape: TensorShape }
  | { kind: 'tensor'; tensor: Tensor }
  | { kind: 'list'; list: AttrList }
  | { kind: 'func'; func: NameAttrList }
  | { kind: 'placeholder'; placeholder: string }
  | { kind: 'none' }
  /**
   * A value the runtime cannot represent (e.g. a quantized dtype). It fails
   * only when a kernel reads it, so nodes no signature reaches still load, as
   * in TensorFlow. `raw` keeps the decoded message for a lossless rewrite.
   */
  | { kind: 'invalid'; reason: string; raw: unknown };

export interface NodeDef {
  name: string;
  op: string;
  /** "node", "node:1" (graphs) or "node:out_arg:0" (function bodies); "^node" is a control input. */
  input: string[];
  device: string;
  attr: Record<string, AttrValue>;
}

export interface ArgDef {
  name: string;
  description?: string;
  /** Fixed type, when the arg is not typed by an attr. */
  type?: DType;
  typeAttr: string;
  numberAttr: string;
  typeListAttr: string;
  isRef: boolean;
}

export interface OpAttrDef {
  name: string;
  type: string;
  defaultValue?: AttrValue;
}

export interface OpDef {
  name: string;
  inputArg: ArgDef[];
  outputArg: ArgDef[];
  controlOutput: string[];
  attr: OpAttrDef[];
  isStateful: boolean;
}

export interface FunctionDef {
  signature: OpDef;
  attr: Record<string, AttrValue>;
  nodeDef: NodeDef[];
  /** Output arg name → "node:out_arg:index" (or a function input arg name). */
  ret: Record<string, string>;
  controlRet: Record<string, string>;
}

export interface GraphDef {
  node: NodeDef[];
  library: { function: FunctionDef[] };
  versions?: { producer: number; minConsumer: number };
}

export interface TensorInfo {
  /** Tensor name in the graph ("x:0"); empty for composite/sparse encodings. */
  name: string;
  dtype: DType;
  shape: TensorShape;
  /** Set when the tensor is a SparseTensor in COO encoding. */
  cooSparse?: { valuesTensorName: string; indicesTensorName: string; denseShapeTensorName: string };
  /**
   * TF's DT_* name when the proto's dtype has no DType (DT_INVALID, as on the
   * `__saved_model_init_op` signature's NoOp output and on composite tensors;
   * quantized types). `dtype` is then 'variant' and means nothing.
   */
  unsupportedDtype?: string;
}

export interface SignatureDef {
  inputs: Record<string, TensorInfo>;
  outputs: Record<string, TensorInfo>;
  methodName: string;
}

export interface SaverDef {
  filenameTensorName: string;
  saveTensorName: string;
  restoreOpName: string;
  maxToKeep: number;
  sharded: boolean;
  keepCheckpointEveryNHours: number;
  /** 0 = LEGACY (V1), 1 = V1, 2 = V2. */
  version: number;
}

export interface AssetFileDef {
  tensorInfo: TensorInfo;
  filename: string;
}

/** CollectionDef, keeping only the list kinds TF writes. */
export interface CollectionDef {
  nodeList?: string[];
  bytesList?: Uint8Array[];
  int64List?: number[];
  floatList?: number[];
  anyList?: { typeUrl: string; value: Uint8Array }[];
}

export interface MetaInfoDef {
  metaGraphVersion: string;
  tags: string[];
  tensorflowVersion: string;
  tensorflowGitVersion: string;
  strippedOpList: OpDef[];
  strippedDefaultAttrs: boolean;
}

export interface MetaGraph {
  metaInfoDef: MetaInfoDef;
  graphDef: GraphDef;
  saverDef?: SaverDef;
  collectionDef: Record<string, CollectionDef>;
  signatureDef: Record<string, SignatureDef>;
  assetFileDef: AssetFileDef[];
}
