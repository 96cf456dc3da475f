/**
 * A multipart/form-data body streamed from disk with its exact length known
 * up front (so the request carries a Content-Length and the server can refuse
 * an oversized upload before reading it), counting file bytes as they go out
 * for a progress bar. Filenames are escaped as browsers do (WHATWG: `"`, CR
 * and LF percent-encoded), which multer reverses.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { Readable } from 'node:stream';

export type FormPart =
  | { name: string; value: string }
  | { name: string; filename: string; file: string; size: number };

export interface MultipartBody {
  contentType: string;
  length: number;
  /** Bytes of file content in the body (what progress counts). */
  fileBytes: number;
  /** The body; `onFileBytes` is called as file content is read. */
  stream(onFileBytes?: (n: number) => void): Readable;
}

const escapeName = (s: string) => s.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A');

export function multipartBody(parts: readonly FormPart[]): MultipartBody {
  const boundary = `----modelhost${randomBytes(12).toString('hex')}`;
  const heads = parts.map((p) =>
    Buffer.from(
      'file' in p
        ? `--${boundary}\r\nContent-Disposition: form-data; name="${escapeName(p.name)}"; filename="${escapeName(p.filename)}"\r\nContent-Type: application/octet-stream\r\n\r\n`
        : `--${boundary}\r\nContent-Disposition: form-data; name="${escapeName(p.name)}"\r\n\r\n${p.value}`,
      'utf8',
    ),
  );
  const tail = Buffer.from(`--${boundary}--\r\n`);
  const crlf = Buffer.from('\r\n');
  const fileBytes = parts.reduce((n, p) => n + ('file' in p ? p.size : 0), 0);
  const length = heads.reduce((n, h) => n + h.length + crlf.length, 0) + fileBytes + tail.length;

  async function* generate(onFileBytes?: (n: number) => void): AsyncGenerator<Buffer> {
    for (let i = 0; i < parts.length; i++) {
      yield heads[i];
      const p = parts[i];
      if ('file' in p) {
        let sent = 0;
        for await (const chunk of fs.createReadStream(p.file)) {
          const b = chunk as Buffer;
          sent += b.length;
          if (sent > p.size) throw new Error(`${p.file} grew while it was being uploaded; try again.`);
          onFileBytes?.(b.length);
          yield b;
        }
        if (sent !== p.size) throw new Error(`${p.file} changed while it was being uploaded; try again.`);
      }
      yield crlf;
    }
    yield tail;
  }

  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    length,
    fileBytes,
    stream: (onFileBytes) => Readable.from(generate(onFileBytes), { objectMode: false }),
  };
}
