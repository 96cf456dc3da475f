/**
 * The S3 calls the object store makes, each turning an SDK failure into a
 * StatusError that says what was being done (s3_config.ts's storeError):
 * list the objects under a prefix (at most a given number; no delimiter
 * listings, which some S3-compatible servers get wrong for nested keys), read a small object, stream an object into a file
 * with its size bounded, write, copy and delete objects.
 */
import fs from 'node:fs';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createHash } from 'node:crypto';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { dataLoss, resourceExhausted } from '../../runtime/errors.js';
import { createS3Client, storeError, type S3Settings } from './s3_config.js';

export interface ListedObject {
  key: string;
  size: number;
  etag: string;
}

/** Most objects one poll lists under a base path (a base path holds a model's versions, not a bucket of data). */
export const MAX_LISTED_OBJECTS = 200_000;

export class Bucket {
  private client: S3Client | undefined;

  constructor(readonly settings: S3Settings) {}

  private s3(): S3Client {
    this.client ??= createS3Client(this.settings);
    return this.client;
  }

  private fail(e: unknown, doing: string) {
    return storeError(e, doing, this.settings);
  }

  /** The objects under `prefix`, in key order; stops once more than `max` were seen (the result then holds max + 1). */
  async listObjects(bucket: string, prefix: string, max: number): Promise<ListedObject[]> {
    const out: ListedObject[] = [];
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.s3().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token, MaxKeys: Math.min(1000, max + 1 - out.length) }));
      } catch (e) {
        throw this.fail(e, `list s3://${bucket}/${prefix}`);
      }
      for (const o of page.Contents ?? []) {
        if (o.Key !== undefined) out.push({ key: o.Key, size: o.Size ?? 0, etag: o.ETag ?? '' });
      }
      token = page.IsTruncated && out.length <= max ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  /** The bytes of a small object; RESOURCE_EXHAUSTED past `maxBytes`. */
  async read(bucket: string, key: string, maxBytes: number): Promise<Buffer> {
    const doing = `read s3://${bucket}/${key}`;
    try {
      const got = await this.s3().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if ((got.ContentLength ?? 0) > maxBytes) {
        (got.Body as Readable | undefined)?.destroy();
        throw resourceExhausted(`s3://${bucket}/${key} is larger than ${maxBytes} bytes.`);
      }
      const chunks: Buffer[] = [];
      let n = 0;
      for await (const chunk of got.Body as Readable) {
        n += (chunk as Buffer).length;
        if (n > maxBytes) {
          (got.Body as Readable).destroy();
          throw resourceExhausted(`s3://${bucket}/${key} is larger than ${maxBytes} bytes.`);
        }
        chunks.push(chunk as Buffer);
      }
      return Buffer.concat(chunks);
    } catch (e) {
      throw this.fail(e, doing);
    }
  }

  /**
   * Streams the object into `file` (created; must not exist), hashing it.
   * DATA_LOSS when it is not exactly `size` bytes (more are never written).
   * Resolves with the sha256 (hex) of what was written.
   */
  async download(bucket: string, key: string, file: string, size: number): Promise<string> {
    const doing = `download s3://${bucket}/${key}`;
    const hash = createHash('sha256');
    let n = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb: TransformCallback) {
        n += chunk.length;
        if (n > size) return cb(dataLoss(`s3://${bucket}/${key} holds more than the ${size} bytes it was listed with; it changed or is corrupt.`));
        hash.update(chunk);
        cb(null, chunk);
      },
    });
    try {
      const got = await this.s3().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const out = fs.createWriteStream(file, { flags: 'wx' });
      await pipeline(got.Body as Readable, counter, out);
    } catch (e) {
      throw this.fail(e, doing);
    }
    if (n !== size) throw dataLoss(`s3://${bucket}/${key} holds ${n} bytes, expected ${size}; it changed or is corrupt.`);
    return hash.digest('hex');
  }

  async putFile(bucket: string, key: string, file: string): Promise<void> {
    try {
      const size = (await fs.promises.stat(file)).size;
      await this.s3().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: fs.createReadStream(file), ContentLength: size }));
    } catch (e) {
      throw this.fail(e, `write s3://${bucket}/${key}`);
    }
  }

  async putBytes(bucket: string, key: string, body: Buffer, contentType?: string): Promise<void> {
    try {
      await this.s3().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
    } catch (e) {
      throw this.fail(e, `write s3://${bucket}/${key}`);
    }
  }

  async copy(bucket: string, fromKey: string, toKey: string): Promise<void> {
    try {
      await this.s3().send(new CopyObjectCommand({ Bucket: bucket, Key: toKey, CopySource: `${bucket}/${encodeURIComponent(fromKey).replace(/%2F/g, '/')}` }));
    } catch (e) {
      throw this.fail(e, `copy s3://${bucket}/${fromKey} to ${toKey}`);
    }
  }

  /**
   * Deletes `keys`, one request each, 4 at a time, in the order given
   * (DeleteObjects needs a Content-MD5 that the SDK no longer sends and
   * several S3-compatible servers insist on).
   */
  async deleteKeys(bucket: string, keys: readonly string[]): Promise<void> {
    let next = 0;
    let failure: unknown;
    const run = async () => {
      while (next < keys.length && failure === undefined) {
        const key = keys[next++];
        try {
          await this.s3().send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
        } catch (e) {
          failure ??= this.fail(e, `delete s3://${bucket}/${key}`);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(4, keys.length) }, run));
    if (failure !== undefined) throw failure;
  }

  destroy(): void {
    this.client?.destroy();
    this.client = undefined;
  }
}
