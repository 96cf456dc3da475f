/**
 * TypeScript shapes of decoded protobuf messages (protobufjs, camelCase field
 * names, enums as numbers, 64-bit ints as Int64Like, bytes as Uint8Array).
 * Every field is optional: proto3 omits defaults, and a message built by hand
 * for encoding only needs the fields it sets. Only the messages the runtime
 * reads or writes field by field are described here.
 */
import type { Int64Like } from './long.js';

export interface TensorShapeProtoMsg {
  dim?: { size?: Int64Like; name?: string }[];
  unknownRank?: boolean;
}

export interface ResourceHandleProtoMsg {
  device?: string;
  container?: string;
  name?: string;
  hashCode?: Int64Like;
  maybeTypeName?: string;
}

export interface TensorProtoMsg {
  dtype?: number;
  tensorShape?: TensorShapeProtoMsg | null;
  versionNumber?: number;
  tensorContent?: Uint8Array;
  halfVal?: number[];
  floatVal?: number[];
  doubleVal?: number[];
  intVal?: number[];
  stringVal?: Uint8Array[];
  scomplexVal?: number[];
  int64Val?: Int64Like[];
  boolVal?: boolean[];
  dcomplexVal?: number[];
  resourceHandleVal?: ResourceHandleProtoMsg[];
  variantVal?: unknown[];
  uint32Val?: number[];
  uint64Val?: Int64Like[];
}

export interface NameAttrListMsg {
  name?: string;
  attr?: Record<string, AttrValueMsg>;
}

export interface AttrListMsg {
  s?: Uint8Array[];
  i?: Int64Like[];
  f?: number[];
  b?: boolean[];
  type?: number[];
  shape?: TensorShapeProtoMsg[];
  tensor?: TensorProtoMsg[];
  func?: NameAttrListMsg[];
}

export interface AttrValueMsg {
  s?: Uint8Array;
  i?: Int64Like;
  f?: number;
  b?: boolean;
  type?: number;
  shape?: TensorShapeProtoMsg;
  tensor?: TensorProtoMsg;
  list?: AttrListMsg;
  func?: NameAttrListMsg;
  placeholder?: string;
}

export interface NodeDefMsg {
  name?: string;
  op?: string;
  input?: string[];
  device?: string;
  attr?: Record<string, AttrValueMsg>;
}

export interface ArgDefMsg {
  name?: string;
  description?: string;
  type?: number;
  typeAttr?: string;
  numberAttr?: string;
  typeListAttr?: string;
  isRef?: boolean;
}

export interface AttrDefMsg {
  name?: string;
  type?: string;
  defaultValue?: AttrValueMsg | null;
  description?: string;
  hasMinimum?: boolean;
  minimum?: Int64Like;
  allowedValues?: AttrValueMsg | null;
}

export interface OpDefMsg {
  name?: string;
  inputArg?: ArgDefMsg[];
  outputArg?: ArgDefMsg[];
  controlOutput?: string[];
  attr?: AttrDefMsg[];
  summary?: string;
  description?: string;
  isCommutative?: boolean;
  isAggregate?: boolean;
  isStateful?: boolean;
  allowsUninitializedInput?: boolean;
}

export interface FunctionDefMsg {
  signature?: OpDefMsg | null;
  attr?: Record<string, AttrValueMsg>;
  nodeDef?: NodeDefMsg[];
  ret?: Record<string, string>;
  controlRet?: Record<string, string>;
}

export interface GraphDefMsg {
  node?: NodeDefMsg[];
  versions?: { producer?: number; minConsumer?: number; badConsumers?: number[] } | null;
  library?: { function?: FunctionDefMsg[] } | null;
}

export interface TensorInfoMsg {
  name?: string;
  cooSparse?: { valuesTensorName?: string; indicesTensorName?: string; denseShapeTensorName?: string } | null;
  compositeTensor?: { typeSpec?: { typeSpecClass?: number; typeSpecClassName?: string } | null; components?: TensorInfoMsg[] } | null;
  dtype?: number;
  tensorShape?: TensorShapeProtoMsg | null;
}

export interface SignatureDefMsg {
  inputs?: Record<string, TensorInfoMsg>;
  outputs?: Record<string, TensorInfoMsg>;
  methodName?: string;
  defaults?: Record<string, TensorProtoMsg>;
}

export interface SaverDefMsg {
  filenameTensorName?: string;
  saveTensorName?: string;
  restoreOpName?: string;
  maxToKeep?: number;
  sharded?: boolean;
  keepCheckpointEveryNHours?: number;
  version?: number;
}

export interface AnyMsg {
  typeUrl?: string;
  value?: Uint8Array;
}

export interface CollectionDefMsg {
  nodeList?: { value?: string[] } | null;
  bytesList?: { value?: Uint8Array[] } | null;
  int64List?: { value?: Int64Like[] } | null;
  floatList?: { value?: number[] } | null;
  anyList?: { value?: AnyMsg[] } | null;
}

export interface AssetFileDefMsg {
  tensorInfo?: TensorInfoMsg | null;
  filename?: string;
}

export interface MetaInfoDefMsg {
  metaGraphVersion?: string;
  strippedOpList?: { op?: OpDefMsg[] } | null;
  anyInfo?: AnyMsg | null;
  tags?: string[];
  tensorflowVersion?: string;
  tensorflowGitVersion?: string;
  strippedDefaultAttrs?: boolean;
  functionAliases?: Record<string, string>;
}

export interface MetaGraphDefMsg {
  metaInfoDef?: MetaInfoDefMsg | null;
  graphDef?: GraphDefMsg | null;
  saverDef?: SaverDefMsg | null;
  collectionDef?: Record<string, CollectionDefMsg>;
  signatureDef?: Record<string, SignatureDefMsg>;
  assetFileDef?: AssetFileDefMsg[];
  /** tensorflow.SavedObjectGraph (TF2 exports); kept as decoded. */
  objectGraphDef?: object | null;
}

export interface SavedModelMsg {
  savedModelSchemaVersion?: Int64Like;
  metaGraphs?: MetaGraphDefMsg[];
}

export interface BundleHeaderProtoMsg {
  numShards?: number;
  endianness?: number;
  version?: { producer?: number; minConsumer?: number; badConsumers?: number[] } | null;
}

export interface TensorSliceProtoMsg {
  extent?: { start?: Int64Like; length?: Int64Like }[];
}

export interface BundleEntryProtoMsg {
  dtype?: number;
  shape?: TensorShapeProtoMsg | null;
  shardId?: number;
  offset?: Int64Like;
  size?: Int64Like;
  crc32c?: number;
  slices?: TensorSliceProtoMsg[];
}

export interface FeatureMsg {
  bytesList?: { value?: Uint8Array[] } | null;
  floatList?: { value?: number[] } | null;
  int64List?: { value?: Int64Like[] } | null;
}

export interface FeaturesMsg {
  feature?: Record<string, FeatureMsg>;
}

export interface ExampleMsg {
  features?: FeaturesMsg | null;
}

export interface SequenceExampleMsg {
  context?: FeaturesMsg | null;
  featureLists?: { featureList?: Record<string, { feature?: FeatureMsg[] }> } | null;
}
