// A real S3-compatible server for the tests: s3rver on a free loopback port,
// storing into a temp folder; the tests talk to it only through
// @aws-sdk/client-s3.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';
import { CreateBucketCommand, DeleteObjectsCommand, ListObjectsV2Command, PutObjectCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { S3Settings } from '../../../serving/object_store/s3_config.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** s3rver's built-in credentials. */
export const S3_KEY = 'S3RVER';

export class TestS3 {
  readonly client: S3Client;
  private constructor(
    private server: S3rver | undefined,
    readonly port: number,
    readonly dir: string,
  ) {
    const { maxAttempts: _attempts, ...settings } = this.settings;
    this.client = new S3Client({ ...settings, forcePathStyle: true });
  }

  /** Starts a server (on `port`, default a free one) storing into `dir` (default a new temp folder). */
  static async start(port = 0, dir = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-s3rver-'))): Promise<TestS3> {
    const server = new S3rver({ port, address: '127.0.0.1', silent: true, directory: dir });
    const info = await server.run();
    return new TestS3(server, info.port, dir);
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** What the object store under test is configured with (as S3_ENDPOINT=127.0.0.1:port S3_USE_HTTPS=0 would give). */
  get settings(): S3Settings {
    return {
      endpoint: this.endpoint,
      region: 'us-east-1',
      verifySsl: true,
      connectTimeoutMs: 2000,
      requestTimeoutMs: 10000,
      credentials: { accessKeyId: S3_KEY, secretAccessKey: S3_KEY },
    };
  }

  async createBucket(bucket: string): Promise<void> {
    await this.client.send(new CreateBucketCommand({ Bucket: bucket }));
  }

  async put(bucket: string, key: string, body: Buffer | string): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: typeof body === 'string' ? Buffer.from(body) : body }));
  }

  async get(bucket: string, key: string): Promise<Buffer> {
    const got = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return Buffer.from(await got.Body!.transformToByteArray());
  }

  /** Uploads every file under `dir` to `prefix/` (as `aws s3 cp --recursive` would); `transform` may change a file's bytes. */
  async putDir(bucket: string, prefix: string, dir: string, transform?: (rel: string, data: Buffer) => Buffer): Promise<void> {
    const walk = async (rel: string): Promise<void> => {
      for (const name of fs.readdirSync(path.join(dir, rel)).sort()) {
        const child = rel ? `${rel}/${name}` : name;
        if (fs.statSync(path.join(dir, child)).isDirectory()) await walk(child);
        else {
          const data = fs.readFileSync(path.join(dir, child));
          await this.put(bucket, `${prefix}/${child}`, transform ? transform(child, data) : data);
        }
      }
    };
    await walk('');
  }

  async keys(bucket: string, prefix = ''): Promise<string[]> {
    const out: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
      out.push(...(page.Contents ?? []).map((o) => o.Key!));
      token = page.NextContinuationToken;
    } while (token);
    return out.sort();
  }

  async deletePrefix(bucket: string, prefix: string): Promise<void> {
    const keys = await this.keys(bucket, prefix);
    if (keys.length > 0) await this.client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })) } }));
  }

  /** Stops the server (its files stay, so `restart` serves the same buckets on the same port). */
  async stop(): Promise<void> {
    await this.server?.close();
    this.server = undefined;
  }

  async restart(): Promise<void> {
    const server = new S3rver({ port: this.port, address: '127.0.0.1', silent: true, directory: this.dir });
    await server.run();
    this.server = server;
  }

  async close(): Promise<void> {
    await this.stop();
    this.client.destroy();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
