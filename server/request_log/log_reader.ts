/**
 * Reading request logs back (`modelhost logs`): which files a path names, a
 * streaming TFRecord reader that checks both CRCs of every record, and a
 * PredictionLog as JSON (a summary, or the whole request and response).
 *
 * A path is a file, a folder (its *.tfrecord files), or a filename_prefix as
 * the server writes them: `<prefix>.<time>.<pid>.<n>.tfrecord`, in name order
 * (which is time order for one server).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { dtypeFromEnum, dtypeTfName } from '../../runtime/dtypes.js';
import { dataLoss, notFound } from '../../runtime/errors.js';
import type { TensorProtoMsg } from '../../runtime/proto/messages.js';
import { protoType } from '../../runtime/proto/schema.js';
import { tensorFromProto } from '../../runtime/proto/tensor_proto.js';
import { crc32c, maskCrc } from '../../runtime/checkpoint/crc32c.js';
import { int64ToNumber, type Int64Like } from '../../runtime/proto/long.js';

/** The log files `target` names, in reading order; NOT_FOUND when there are none. */
export async function logFiles(target: string): Promise<string[]> {
  const st = await fs.stat(target).catch(() => undefined);
  if (st?.isFile()) return [target];
  if (st?.isDirectory()) {
    const names = (await fs.readdir(target)).filter((n) => n.endsWith('.tfrecord')).sort();
    if (names.length === 0) throw notFound(`${target} holds no .tfrecord files.`);
    return names.map((n) => path.join(target, n));
  }
  const dir = path.dirname(target);
  const stem = `${path.basename(target)}.`;
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const matching = names.filter((n) => n.startsWith(stem) && n.endsWith('.tfrecord')).sort();
  if (matching.length === 0) throw notFound(`No request log file at ${target}, and none named ${path.join(dir, stem)}*.tfrecord.`);
  return matching.map((n) => path.join(dir, n));
}

export interface RawRecord {
  offset: number;
  data: Uint8Array;
}

const maskedCrc = (b: Uint8Array) => maskCrc(crc32c(b));

/**
 * The records of one TFRecord file, read piece by piece. A checksum that does
 * not match or a file that ends inside a record is DATA_LOSS naming the file,
 * the record's offset and what was wrong (after the good records before it).
 */
export async function* readRecords(file: string): AsyncGenerator<RawRecord> {
  const handle = await fs.open(file, 'r');
  try {
    const size = (await handle.stat()).size;
    const header = Buffer.alloc(12);
    const footer = Buffer.alloc(4);
    let offset = 0;
    let index = 0;
    while (offset < size) {
      const where = `record ${index} at offset ${offset} of ${file}`;
      if (offset + 12 > size) throw dataLoss(`Truncated ${where}: the file ends inside its ${12}-byte header (a file still being written, or cut short).`);
      await handle.read(header, 0, 12, offset);
      if (header.readUInt32LE(8) !== maskedCrc(header.subarray(0, 8))) {
        throw dataLoss(`Corrupted ${where}: the checksum of its length does not match (not a TFRecord file, or damaged).`);
      }
      const length = Number(header.readBigUInt64LE(0));
      if (offset + 12 + length + 4 > size) {
        throw dataLoss(`Truncated ${where}: a ${length}-byte record, but the file ends ${size - offset - 12} bytes into it (a file still being written, or cut short).`);
      }
      const data = Buffer.alloc(length);
      await handle.read(data, 0, length, offset + 12);
      await handle.read(footer, 0, 4, offset + 12 + length);
      if (footer.readUInt32LE(0) !== maskedCrc(data)) throw dataLoss(`Corrupted ${where}: the checksum of its ${length} data bytes does not match.`);
      yield { offset, data };
      offset += 12 + length + 4;
      index++;
    }
  } finally {
    await handle.close();
  }
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const LOG_KINDS = ['predictLog', 'classifyLog', 'regressLog', 'multiInferenceLog', 'predictStreamedLog', 'sessionRunLog'] as const;
const METHOD_OF: Record<(typeof LOG_KINDS)[number], string> = {
  predictLog: 'predict',
  classifyLog: 'classify',
  regressLog: 'regress',
  multiInferenceLog: 'multi_inference',
  predictStreamedLog: 'predict_streamed',
  sessionRunLog: 'session_run',
};

interface ModelSpecMsg {
  name?: string;
  version?: { value?: Int64Like } | null;
  signatureName?: string;
}
interface LogMsg {
  logMetadata?: { modelSpec?: ModelSpecMsg | null; samplingConfig?: { samplingRate?: number } | null; timestampSecs?: Int64Like; savedModelTags?: string[] } | null;
  [kind: string]: unknown;
}
interface TensorMapMsg {
  inputs?: Record<string, TensorProtoMsg>;
  outputs?: Record<string, TensorProtoMsg>;
}
interface InputMsg {
  exampleList?: { examples?: unknown[] } | null;
  exampleListWithContext?: { examples?: unknown[]; context?: unknown } | null;
}

function tensorSummary(p: TensorProtoMsg): Json {
  const dtype = dtypeFromEnum(Number(p.dtype ?? 0));
  const shape = (p.tensorShape?.dim ?? []).map((d) => int64ToNumber(d.size ?? 0));
  return { dtype: dtype ? dtypeTfName(dtype) : `enum ${String(p.dtype)}`, shape };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function tensorValues(p: TensorProtoMsg): Json {
  const t = tensorFromProto(p);
  try {
    const values = t.values() as ArrayLike<unknown>;
    return Array.from(values, (v): Json => {
      if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
      if (v instanceof Uint8Array) {
        try {
          return utf8.decode(v);
        } catch {
          return { b64: Buffer.from(v).toString('base64') };
        }
      }
      if (t.dtype === 'bool') return Boolean(v);
      return v as Json;
    });
  } finally {
    t.dispose();
  }
}

function tensorsJson(map: Record<string, TensorProtoMsg> | undefined, full: boolean): Json {
  const out: Record<string, Json> = {};
  for (const [alias, p] of Object.entries(map ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    out[alias] = full ? { ...(tensorSummary(p) as Record<string, Json>), values: tensorValues(p) } : tensorSummary(p);
  }
  return out;
}

function inputSummary(input: InputMsg | null | undefined): Json {
  if (input?.exampleListWithContext) return { examples: input.exampleListWithContext.examples?.length ?? 0, context: true };
  return { examples: input?.exampleList?.examples?.length ?? 0 };
}

function messageJson(type: string, m: unknown): Json {
  const t = protoType(type);
  return t.toObject(m as import('protobufjs').Message, { longs: String, enums: String, bytes: String }) as Json;
}

/**
 * One PredictionLog as JSON: where it was read, when, which model, version
 * and signature answered, the method, and the inputs and outputs summarised
 * (dtype and shape of each tensor; numbers of examples and results), or with
 * `full` the whole request and response (tensors with their values).
 */
export function describeRecord(data: Uint8Array, where: { file: string; offset: number }, full = false): Record<string, Json> {
  const type = protoType('tensorflow.serving.PredictionLog');
  let log: LogMsg;
  try {
    log = type.decode(data) as unknown as LogMsg;
  } catch (e) {
    throw dataLoss(`The record at offset ${where.offset} of ${where.file} is not a tensorflow.serving.PredictionLog: ${(e as Error).message}`);
  }
  const meta = log.logMetadata ?? {};
  const spec = meta.modelSpec ?? {};
  const kind = LOG_KINDS.find((k) => log[k]);
  const out: Record<string, Json> = {
    file: where.file,
    offset: where.offset,
    time: meta.timestampSecs ? new Date(int64ToNumber(meta.timestampSecs) * 1000).toISOString() : null,
    model: spec.name ?? '',
    version: spec.version ? int64ToNumber(spec.version.value ?? 0) : null,
    signature: spec.signatureName ?? '',
    method: kind ? METHOD_OF[kind] : 'unknown',
    sampling_rate: meta.samplingConfig?.samplingRate ?? 0,
  };
  const body = kind ? (log[kind] as { request?: unknown; response?: unknown }) : {};
  if (kind === 'predictLog') {
    const request = (body.request ?? {}) as TensorMapMsg & { outputFilter?: string[] };
    const response = (body.response ?? {}) as TensorMapMsg;
    out.inputs = tensorsJson(request.inputs, full);
    out.outputs = tensorsJson(response.outputs, full);
    if (request.outputFilter?.length) out.output_filter = request.outputFilter;
  } else if (kind === 'classifyLog' || kind === 'regressLog') {
    const request = (body.request ?? {}) as { input?: InputMsg | null };
    const result = ((body.response ?? {}) as { result?: { classifications?: unknown[]; regressions?: unknown[] } | null }).result;
    out.inputs = inputSummary(request.input);
    out.outputs = kind === 'classifyLog' ? { classifications: result?.classifications?.length ?? 0 } : { regressions: result?.regressions?.length ?? 0 };
    if (full) {
      const prefix = kind === 'classifyLog' ? 'Classification' : 'Regression';
      out.request = messageJson(`tensorflow.serving.${prefix}Request`, body.request ?? {});
      out.response = messageJson(`tensorflow.serving.${prefix}Response`, body.response ?? {});
    }
  } else if (kind === 'multiInferenceLog') {
    const request = (body.request ?? {}) as { input?: InputMsg | null; tasks?: { modelSpec?: ModelSpecMsg | null; methodName?: string }[] };
    out.inputs = inputSummary(request.input);
    out.tasks = (request.tasks ?? []).map((t) => ({ signature: t.modelSpec?.signatureName ?? '', method_name: t.methodName ?? '' }));
    if (full) {
      out.request = messageJson('tensorflow.serving.MultiInferenceRequest', body.request ?? {});
      out.response = messageJson('tensorflow.serving.MultiInferenceResponse', body.response ?? {});
    }
  }
  return out;
}
