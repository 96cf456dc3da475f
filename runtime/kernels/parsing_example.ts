/**
 * tf.Example ⇄ plain feature maps, through protobufjs and the project's
 * schema (`protoType('tensorflow.Example')`).
 *
 * decodeExample gives each feature's kind and values as TF's parser sees them:
 * 'float32' (float_list), 'int64' (int64_list, exact bigint), 'string'
 * (bytes_list), or 'none' when the Feature has no kind set (TF treats that as
 * absent). Repeated map keys keep the last entry, as protobuf and TF do.
 * encodeExample builds serialized Examples (for tests, clients and the
 * classify/regress paths that receive features as JSON).
 */
import { bigIntToInt64, int64ToBigInt, type Int64Like } from '../proto/long.js';
import { protoType } from '../proto/schema.js';

export type FeatureValues =
  | { kind: 'float32'; values: number[] }
  | { kind: 'int64'; values: bigint[] }
  | { kind: 'string'; values: Uint8Array[] }
  | { kind: 'none' };

/** One feature to encode: exactly one of the three lists. */
export type ExampleFeature =
  | { floatList: readonly number[] }
  | { int64List: readonly (number | bigint)[] }
  | { bytesList: readonly (Uint8Array | string)[] };

interface FeatureMsg {
  bytesList?: { value?: Uint8Array[] } | null;
  floatList?: { value?: number[] } | null;
  int64List?: { value?: Int64Like[] } | null;
}

interface ExampleMsg {
  features?: { feature?: Record<string, FeatureMsg> } | null;
}

/** Decodes a serialized tf.Example; undefined when the bytes are not a valid Example. */
export function decodeExample(bytes: Uint8Array): Map<string, FeatureValues> | undefined {
  let msg: ExampleMsg;
  try {
    msg = protoType('tensorflow.Example').decode(bytes) as unknown as ExampleMsg;
  } catch {
    return undefined;
  }
  const out = new Map<string, FeatureValues>();
  for (const [key, f] of Object.entries(msg.features?.feature ?? {})) {
    if (f.floatList) out.set(key, { kind: 'float32', values: Array.from(f.floatList.value ?? []) });
    else if (f.int64List) out.set(key, { kind: 'int64', values: (f.int64List.value ?? []).map((v) => int64ToBigInt(v)) });
    else if (f.bytesList) out.set(key, { kind: 'string', values: (f.bytesList.value ?? []).map((v) => new Uint8Array(v)) });
    else out.set(key, { kind: 'none' });
  }
  return out;
}

/** Serializes a tf.Example with the given features. */
export function encodeExample(features: Record<string, ExampleFeature>): Uint8Array {
  const feature: Record<string, FeatureMsg | Record<string, { value: unknown[] }>> = {};
  const utf8 = new TextEncoder();
  for (const [key, f] of Object.entries(features)) {
    if ('floatList' in f) feature[key] = { floatList: { value: [...f.floatList] } };
    else if ('int64List' in f) feature[key] = { int64List: { value: f.int64List.map((v) => bigIntToInt64(v)) } };
    else feature[key] = { bytesList: { value: f.bytesList.map((v) => (typeof v === 'string' ? utf8.encode(v) : v)) } };
  }
  const type = protoType('tensorflow.Example');
  return type.encode(type.fromObject({ features: { feature } })).finish();
}
