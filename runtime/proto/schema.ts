/**
 * The protobuf schema of TensorFlow and TensorFlow Serving, as protobufjs
 * types. Every `.proto` under runtime/proto/ (our own transcription of the
 * public TF / TF Serving protos: same packages, field names and numbers) is
 * loaded once, lazily, on the first lookup.
 *
 *   protoType('tensorflow.SavedModel').decode(bytes)
 *   protoType('tensorflow.Example').encode(msg).finish()
 *
 * The .proto files are found from the project root (the directory whose
 * package.json is named "modelhost"), so this works both from sources and
 * when compiled into dist/, where no .proto files are copied.
 * Decoded int64 fields are `Long` objects (or numbers); see convert.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import protobuf from 'protobufjs';
import { internal } from '../errors.js';
import { packageRoot } from '../package_root.js';

let root: protobuf.Root | undefined;

/*
 * protobufjs 8 decodes short strings (proto3 fields are UTF-8 checked) by
 * appending 8 characters at a time: every node name, input and attr key of a
 * graph becomes a chain of V8 cons strings (~30 bytes per 8 characters, kept
 * for the model's life, flattened again on every Map lookup). These readers
 * give the same strings, and the same errors on malformed UTF-8, as one flat
 * string each: ASCII via Node's Latin-1 slice, the rest via TextDecoder.
 */
const SHORT_STRING = 64;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const looseUtf8 = new TextDecoder('utf-8', { ignoreBOM: true });

/** Node's native Latin-1 slice (a flat string; for ASCII bytes, the same string as UTF-8). */
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice?: (this: Uint8Array, start: number, end: number) => string }).latin1Slice;

function flatUtf8Reader(decoder: { decode(bytes: Uint8Array): string }): (buffer: Uint8Array, start: number, end: number) => string {
  return (buffer, start, end) => {
    if (end - start < 1) return '';
    if (end - start < SHORT_STRING) {
      let ascii = true;
      for (let i = start; i < end; i++) {
        if (buffer[i] & 0x80) {
          ascii = false;
          break;
        }
      }
      if (ascii) return latin1Slice ? latin1Slice.call(buffer, start, end) : String.fromCharCode.apply(null, buffer.subarray(start, end) as unknown as number[]);
    }
    return decoder.decode(buffer.subarray(start, end));
  };
}

const utf8 = protobuf.util.utf8 as { read: unknown; readStrict?: unknown };
utf8.read = flatUtf8Reader(looseUtf8);
utf8.readStrict = flatUtf8Reader(strictUtf8);

/** The folder holding the project's .proto files (runtime/proto under the project root). */
export function protoDir(): string {
  return path.join(packageRoot(), 'runtime', 'proto');
}

function listProtos(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listProtos(full));
    else if (entry.name.endsWith('.proto')) out.push(full);
  }
  return out.sort();
}

/** The protobufjs Root with every message and enum of the schema, loaded once. */
export function protoRoot(): protobuf.Root {
  if (root) return root;
  const dir = protoDir();
  const r = new protobuf.Root();
  // Imports are written relative to runtime/proto ("tensor.proto", "serving/model.proto").
  r.resolvePath = (_origin: string, target: string) => (path.isAbsolute(target) ? target : path.join(dir, target));
  r.loadSync(listProtos(dir), { keepCase: false });
  r.resolveAll();
  root = r;
  return r;
}

/** A message type by its full name, e.g. 'tensorflow.MetaGraphDef' or 'tensorflow.serving.PredictionLog'. */
export function protoType(fullName: string): protobuf.Type {
  const found = protoRoot().lookup(fullName);
  if (!(found instanceof protobuf.Type)) throw internal(`unknown protobuf message type ${fullName}`);
  return found;
}

/** An enum by its full name, e.g. 'tensorflow.DataType'. */
export function protoEnum(fullName: string): protobuf.Enum {
  const found = protoRoot().lookup(fullName);
  if (!(found instanceof protobuf.Enum)) throw internal(`unknown protobuf enum ${fullName}`);
  return found;
}
