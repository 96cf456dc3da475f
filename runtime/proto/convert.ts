/**
 * Decoded protobuf messages (messages.ts) ⇄ the plain graph types of
 * runtime/graph/types.ts, both ways. `*FromProto` accepts what protobufjs
 * decodes; `*ToProto` returns plain objects that `protoType(...).encode()`
 * writes, leaving out proto3 defaults the way TensorFlow does.
 *
 * Dtypes become DType names (an unsupported DataType is UNIMPLEMENTED, naming
 * where it was found); shapes use -1 for unknown dims; AttrValue's oneof is
 * resolved into `kind`; int64 attrs become JS numbers (exact up to 2^53).
 * A TensorInfo whose dtype has no DType (DT_INVALID on the init-op signature
 * and on composite tensors) keeps its DT_* name in `unsupportedDtype`; the
 * composite_tensor encoding itself (ragged tensors...) is not carried over.
 */
import { dtypeFromEnum, dtypeTfName } from '../dtypes.js';
import { StatusError } from '../errors.js';
import type {
  ArgDef,
  AssetFileDef,
  AttrList,
  AttrValue,
  CollectionDef,
  FunctionDef,
  GraphDef,
  MetaGraph,
  MetaInfoDef,
  NameAttrList,
  NodeDef,
  OpAttrDef,
  OpDef,
  SaverDef,
  SignatureDef,
  TensorInfo,
} from '../graph/types.js';
import { bigIntToInt64, int64ToNumber } from './long.js';
import type {
  ArgDefMsg,
  AssetFileDefMsg,
  AttrDefMsg,
  AttrValueMsg,
  CollectionDefMsg,
  FunctionDefMsg,
  GraphDefMsg,
  MetaGraphDefMsg,
  MetaInfoDefMsg,
  NameAttrListMsg,
  NodeDefMsg,
  OpDefMsg,
  SaverDefMsg,
  SignatureDefMsg,
  TensorInfoMsg,
} from './messages.js';
import { protoEnum } from './schema.js';
import { dataTypeName, dtypeFromProto, dtypeToProto, shapeFromProto, shapeToProto, tensorFromProto, tensorToProto } from './tensor_proto.js';

export {
  dataTypeName,
  dtypeFromProto,
  dtypeToProto,
  shapeFromProto,
  shapeToProto,
  tensorFromProto,
  tensorToProto,
  type TensorToProtoOptions,
} from './tensor_proto.js';

/** True when a (oneof or optional) field was present in the decoded message. */
function has<T extends object>(msg: T, key: keyof T): boolean {
  const v = msg[key];
  return v !== undefined && v !== null && Object.prototype.hasOwnProperty.call(msg, key);
}

function mapValues<A, B>(rec: Record<string, A> | undefined, f: (v: A, k: string) => B): Record<string, B> {
  const out: Record<string, B> = {};
  if (!rec) return out;
  for (const k of Object.keys(rec)) out[k] = f(rec[k], k);
  return out;
}

/** Omits empty strings / false / 0 so the encoded bytes match TF's (proto3 defaults are not written). */
function compact<T extends object>(obj: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (v === undefined || v === null || v === '' || v === false || v === 0) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    out[k] = v;
  }
  return out as T;
}

// ---------- AttrValue ----------

export function attrFromProto(p: AttrValueMsg, where = 'attr'): AttrValue {
  try {
    return attrFromProtoStrict(p, where);
  } catch (e) {
    if (e instanceof StatusError) return { kind: 'invalid', reason: e.message, raw: p };
    throw e;
  }
}

function attrFromProtoStrict(p: AttrValueMsg, where: string): AttrValue {
  if (has(p, 'list')) return { kind: 'list', list: attrListFromProto(p.list!, where) };
  if (has(p, 's')) return { kind: 's', s: new Uint8Array(p.s!) };
  if (has(p, 'i')) return { kind: 'i', i: int64ToNumber(p.i, `${where}: int attr`) };
  if (has(p, 'f')) return { kind: 'f', f: p.f! };
  if (has(p, 'b')) return { kind: 'b', b: p.b! };
  if (has(p, 'type')) return { kind: 'type', type: dtypeFromProto(p.type, where) };
  if (has(p, 'shape')) return { kind: 'shape', shape: shapeFromProto(p.shape) };
  if (has(p, 'tensor')) return { kind: 'tensor', tensor: tensorFromProto(p.tensor!).keep() };
  if (has(p, 'func')) return { kind: 'func', func: nameAttrListFromProto(p.func!, where) };
  if (has(p, 'placeholder')) return { kind: 'placeholder', placeholder: p.placeholder! };
  return { kind: 'none' };
}

function attrListFromProto(p: NonNullable<AttrValueMsg['list']>, where: string): AttrList {
  return {
    s: (p.s ?? []).map((b) => new Uint8Array(b)),
    i: (p.i ?? []).map((v) => int64ToNumber(v, `${where}: int attr`)),
    f: p.f ?? [],
    b: p.b ?? [],
    type: (p.type ?? []).map((t) => dtypeFromProto(t, where)),
    shape: (p.shape ?? []).map(shapeFromProto),
    tensor: (p.tensor ?? []).map((t) => tensorFromProto(t).keep()),
    func: (p.func ?? []).map((f) => nameAttrListFromProto(f, where)),
  };
}

function nameAttrListFromProto(p: NameAttrListMsg, where: string): NameAttrList {
  return { name: p.name ?? '', attr: attrMapFromProto(p.attr, `${where} (function ${p.name ?? ''})`) };
}

export function attrMapFromProto(p: Record<string, AttrValueMsg> | undefined, where: string, skip?: ReadonlySet<string>): Record<string, AttrValue> {
  if (!skip) return mapValues(p, (v, k) => attrFromProto(v, `${where}, attr '${k}'`));
  const out: Record<string, AttrValue> = {};
  if (!p) return out;
  for (const k of Object.keys(p)) if (!skip.has(k)) out[k] = attrFromProto(p[k], `${where}, attr '${k}'`);
  return out;
}

/** What conversion may leave out: node attrs nothing reads (e.g. for a graph only run, not written back). */
export interface ConvertOptions {
  skipNodeAttrs?: ReadonlySet<string>;
}

export function attrToProto(a: AttrValue): AttrValueMsg {
  switch (a.kind) {
    case 'invalid':
      return a.raw as AttrValueMsg;
    case 's':
      return { s: a.s };
    case 'i':
      return { i: a.i };
    case 'f':
      return { f: a.f };
    case 'b':
      return { b: a.b };
    case 'type':
      return { type: dtypeToProto(a.type) };
    case 'shape':
      return { shape: shapeToProto(a.shape) };
    case 'tensor':
      return { tensor: tensorToProto(a.tensor, { tensorContent: a.tensor.size > 1 && a.tensor.dtype !== 'string' }) };
    case 'list':
      return {
        list: compact({
          s: a.list.s,
          i: a.list.i,
          f: a.list.f,
          b: a.list.b,
          type: a.list.type.map(dtypeToProto),
          shape: a.list.shape.map(shapeToProto),
          tensor: a.list.tensor.map((t) => tensorToProto(t)),
          func: a.list.func.map(nameAttrListToProto),
        }),
      };
    case 'func':
      return { func: nameAttrListToProto(a.func) };
    case 'placeholder':
      return { placeholder: a.placeholder };
    case 'none':
      return {};
  }
}

function nameAttrListToProto(n: NameAttrList): NameAttrListMsg {
  return { name: n.name, attr: mapValues(n.attr, attrToProto) };
}

// ---------- NodeDef, OpDef, FunctionDef, GraphDef ----------

export function nodeDefFromProto(p: NodeDefMsg, where = '', options: ConvertOptions = {}): NodeDef {
  const name = p.name ?? '';
  return {
    name,
    op: p.op ?? '',
    input: p.input ?? [],
    device: p.device ?? '',
    attr: attrMapFromProto(p.attr, `${where}node '${name}'`, options.skipNodeAttrs),
  };
}

export function nodeDefToProto(n: NodeDef): NodeDefMsg {
  return compact({ name: n.name, op: n.op, input: n.input, device: n.device, attr: mapValues(n.attr, attrToProto) });
}

function argDefFromProto(p: ArgDefMsg, where: string): ArgDef {
  const arg: ArgDef = {
    name: p.name ?? '',
    typeAttr: p.typeAttr ?? '',
    numberAttr: p.numberAttr ?? '',
    typeListAttr: p.typeListAttr ?? '',
    isRef: p.isRef ?? false,
  };
  if (p.description) arg.description = p.description;
  // An arg of a dtype the runtime lacks keeps `type` unset; only a kernel using it would care.
  if (p.type && dtypeFromEnum(p.type) !== undefined) arg.type = dtypeFromProto(p.type, `${where}, arg '${arg.name}'`);
  return arg;
}

function argDefToProto(a: ArgDef): ArgDefMsg {
  return compact({
    name: a.name,
    description: a.description,
    type: a.type === undefined ? undefined : dtypeToProto(a.type),
    typeAttr: a.typeAttr,
    numberAttr: a.numberAttr,
    typeListAttr: a.typeListAttr,
    isRef: a.isRef,
  });
}

function attrDefFromProto(p: AttrDefMsg, where: string): OpAttrDef {
  const def: OpAttrDef = { name: p.name ?? '', type: p.type ?? '' };
  if (p.defaultValue) def.defaultValue = attrFromProto(p.defaultValue, `${where}, attr '${def.name}' default`);
  return def;
}

function attrDefToProto(a: OpAttrDef): AttrDefMsg {
  return compact({ name: a.name, type: a.type, defaultValue: a.defaultValue ? attrToProto(a.defaultValue) : undefined });
}

export function opDefFromProto(p: OpDefMsg): OpDef {
  const name = p.name ?? '';
  const where = `op '${name}'`;
  return {
    name,
    inputArg: (p.inputArg ?? []).map((a) => argDefFromProto(a, where)),
    outputArg: (p.outputArg ?? []).map((a) => argDefFromProto(a, where)),
    controlOutput: p.controlOutput ?? [],
    attr: (p.attr ?? []).map((a) => attrDefFromProto(a, where)),
    isStateful: p.isStateful ?? false,
  };
}

export function opDefToProto(o: OpDef): OpDefMsg {
  return compact({
    name: o.name,
    inputArg: o.inputArg.map(argDefToProto),
    outputArg: o.outputArg.map(argDefToProto),
    controlOutput: o.controlOutput,
    attr: o.attr.map(attrDefToProto),
    isStateful: o.isStateful,
  });
}

export function functionDefFromProto(p: FunctionDefMsg, options: ConvertOptions = {}): FunctionDef {
  const signature = opDefFromProto(p.signature ?? {});
  const where = `function '${signature.name}': `;
  return {
    signature,
    attr: attrMapFromProto(p.attr, `function '${signature.name}'`),
    nodeDef: (p.nodeDef ?? []).map((n) => nodeDefFromProto(n, where, options)),
    ret: { ...(p.ret ?? {}) },
    controlRet: { ...(p.controlRet ?? {}) },
  };
}

export function functionDefToProto(f: FunctionDef): FunctionDefMsg {
  return compact({
    signature: opDefToProto(f.signature),
    attr: mapValues(f.attr, attrToProto),
    nodeDef: f.nodeDef.map(nodeDefToProto),
    ret: f.ret,
    controlRet: f.controlRet,
  });
}

export function graphDefFromProto(p: GraphDefMsg, options: ConvertOptions = {}): GraphDef {
  const g: GraphDef = {
    node: (p.node ?? []).map((n) => nodeDefFromProto(n, '', options)),
    library: { function: (p.library?.function ?? []).map((f) => functionDefFromProto(f, options)) },
  };
  if (p.versions) g.versions = { producer: p.versions.producer ?? 0, minConsumer: p.versions.minConsumer ?? 0 };
  return g;
}

export function graphDefToProto(g: GraphDef): GraphDefMsg {
  const out: GraphDefMsg = { node: g.node.map(nodeDefToProto) };
  if (g.library.function.length > 0) out.library = { function: g.library.function.map(functionDefToProto) };
  if (g.versions) out.versions = compact({ producer: g.versions.producer, minConsumer: g.versions.minConsumer });
  return out;
}

// ---------- MetaGraphDef parts ----------

export function tensorInfoFromProto(p: TensorInfoMsg): TensorInfo {
  const dtypeEnum = p.dtype ?? 0;
  const dtype = dtypeFromEnum(dtypeEnum);
  const info: TensorInfo = {
    name: p.name ?? '',
    dtype: dtype ?? 'variant',
    shape: p.tensorShape ? shapeFromProto(p.tensorShape) : { unknownRank: false, dims: [] },
  };
  if (dtype === undefined) info.unsupportedDtype = dataTypeName(dtypeEnum);
  if (has(p, 'cooSparse')) {
    const c = p.cooSparse!;
    info.cooSparse = {
      valuesTensorName: c.valuesTensorName ?? '',
      indicesTensorName: c.indicesTensorName ?? '',
      denseShapeTensorName: c.denseShapeTensorName ?? '',
    };
  }
  return info;
}

/** The DT_* name of a TensorInfo's dtype as the proto had it (e.g. "DT_FLOAT", "DT_INVALID"). */
export function tensorInfoDtypeName(t: TensorInfo): string {
  return t.unsupportedDtype ?? dtypeTfName(t.dtype);
}

export function tensorInfoToProto(t: TensorInfo): TensorInfoMsg {
  const out: TensorInfoMsg = {};
  if (t.cooSparse) out.cooSparse = compact({ ...t.cooSparse });
  else out.name = t.name;
  const dtypeEnum = t.unsupportedDtype ? protoEnum('tensorflow.DataType').values[t.unsupportedDtype] ?? 0 : dtypeToProto(t.dtype);
  if (dtypeEnum !== 0) out.dtype = dtypeEnum;
  out.tensorShape = shapeToProto(t.shape);
  return out;
}

export function signatureDefFromProto(p: SignatureDefMsg): SignatureDef {
  return {
    inputs: mapValues(p.inputs, tensorInfoFromProto),
    outputs: mapValues(p.outputs, tensorInfoFromProto),
    methodName: p.methodName ?? '',
  };
}

export function signatureDefToProto(s: SignatureDef): SignatureDefMsg {
  return compact({
    inputs: mapValues(s.inputs, tensorInfoToProto),
    outputs: mapValues(s.outputs, tensorInfoToProto),
    methodName: s.methodName,
  });
}

export function saverDefFromProto(p: SaverDefMsg): SaverDef {
  return {
    filenameTensorName: p.filenameTensorName ?? '',
    saveTensorName: p.saveTensorName ?? '',
    restoreOpName: p.restoreOpName ?? '',
    maxToKeep: p.maxToKeep ?? 0,
    sharded: p.sharded ?? false,
    keepCheckpointEveryNHours: p.keepCheckpointEveryNHours ?? 0,
    version: p.version ?? 0,
  };
}

export function saverDefToProto(s: SaverDef): SaverDefMsg {
  return compact({ ...s });
}

export function collectionDefFromProto(p: CollectionDefMsg): CollectionDef {
  if (has(p, 'nodeList')) return { nodeList: p.nodeList!.value ?? [] };
  if (has(p, 'bytesList')) return { bytesList: p.bytesList!.value ?? [] };
  if (has(p, 'int64List')) return { int64List: (p.int64List!.value ?? []).map((v) => int64ToNumber(v, 'int64_list value')) };
  if (has(p, 'floatList')) return { floatList: p.floatList!.value ?? [] };
  if (has(p, 'anyList')) {
    return { anyList: (p.anyList!.value ?? []).map((a) => ({ typeUrl: a.typeUrl ?? '', value: a.value ?? new Uint8Array(0) })) };
  }
  return {};
}

export function collectionDefToProto(c: CollectionDef): CollectionDefMsg {
  if (c.nodeList) return { nodeList: { value: c.nodeList } };
  if (c.bytesList) return { bytesList: { value: c.bytesList } };
  if (c.int64List) return { int64List: { value: c.int64List.map((v) => bigIntToInt64(v)) } };
  if (c.floatList) return { floatList: { value: c.floatList } };
  if (c.anyList) return { anyList: { value: c.anyList.map((a) => ({ typeUrl: a.typeUrl, value: a.value })) } };
  return {};
}

export function assetFileDefFromProto(p: AssetFileDefMsg): AssetFileDef {
  return { tensorInfo: tensorInfoFromProto(p.tensorInfo ?? {}), filename: p.filename ?? '' };
}

export function assetFileDefToProto(a: AssetFileDef): AssetFileDefMsg {
  return { tensorInfo: tensorInfoToProto(a.tensorInfo), filename: a.filename };
}

export function metaInfoDefFromProto(p: MetaInfoDefMsg): MetaInfoDef {
  return {
    metaGraphVersion: p.metaGraphVersion ?? '',
    tags: p.tags ?? [],
    tensorflowVersion: p.tensorflowVersion ?? '',
    tensorflowGitVersion: p.tensorflowGitVersion ?? '',
    strippedOpList: (p.strippedOpList?.op ?? []).map(opDefFromProto),
    strippedDefaultAttrs: p.strippedDefaultAttrs ?? false,
  };
}

export function metaInfoDefToProto(m: MetaInfoDef): MetaInfoDefMsg {
  return compact({
    metaGraphVersion: m.metaGraphVersion,
    strippedOpList: m.strippedOpList.length > 0 ? { op: m.strippedOpList.map(opDefToProto) } : undefined,
    tags: m.tags,
    tensorflowVersion: m.tensorflowVersion,
    tensorflowGitVersion: m.tensorflowGitVersion,
    strippedDefaultAttrs: m.strippedDefaultAttrs,
  });
}

export function metaGraphFromProto(p: MetaGraphDefMsg, options: ConvertOptions = {}): MetaGraph {
  const meta: MetaGraph = {
    metaInfoDef: metaInfoDefFromProto(p.metaInfoDef ?? {}),
    graphDef: graphDefFromProto(p.graphDef ?? {}, options),
    collectionDef: mapValues(p.collectionDef, collectionDefFromProto),
    signatureDef: mapValues(p.signatureDef, (s) => signatureDefFromProto(s)),
    assetFileDef: (p.assetFileDef ?? []).map(assetFileDefFromProto),
  };
  if (p.saverDef) meta.saverDef = saverDefFromProto(p.saverDef);
  return meta;
}

export function metaGraphToProto(m: MetaGraph): MetaGraphDefMsg {
  const out: MetaGraphDefMsg = {
    metaInfoDef: metaInfoDefToProto(m.metaInfoDef),
    graphDef: graphDefToProto(m.graphDef),
    collectionDef: mapValues(m.collectionDef, collectionDefToProto),
    signatureDef: mapValues(m.signatureDef, signatureDefToProto),
    assetFileDef: m.assetFileDef.map(assetFileDefToProto),
  };
  if (m.saverDef) out.saverDef = saverDefToProto(m.saverDef);
  return out;
}
