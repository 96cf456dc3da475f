/**
 * The replicas of `npm run soak -- --replicas=3`: `modelhost serve`
 * processes on loopback ports sharing one PostgreSQL registry (a database
 * made for the run on the server at --postgres_url or
 * $MODELHOST_TEST_POSTGRES_URL, dropped afterwards) and one S3-compatible
 * server (s3rver, in this process, storing into the run's temp folder), the
 * model's base path on s3://. Version 1 is put in the bucket as a plain TF
 * Serving folder before the replicas start.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import S3rver from 's3rver';
import { startServeProcess, type ServeProcess } from './serve_process.js';

export const SOAK_BUCKET = 'soak';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export interface Replicas {
  servers: ServeProcess[];
  /** The model's base path (s3://...). */
  basePath: string;
  /** Stops the replicas (SIGTERM; their exit codes), the S3 server, and drops the database. */
  close(): Promise<(number | null)[]>;
}

/** Uploads every file under `dir` to `prefix/` through the S3 API (as `aws s3 cp --recursive` would). */
async function putDir(endpoint: string, bucket: string, prefix: string, dir: string): Promise<void> {
  const { S3Client, PutObjectCommand } = await import('@aws-sdk/client-s3');
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  try {
    const walk = async (rel: string): Promise<void> => {
      for (const name of fs.readdirSync(path.join(dir, rel)).sort()) {
        const child = rel ? `${rel}/${name}` : name;
        if (fs.statSync(path.join(dir, child)).isDirectory()) await walk(child);
        else await client.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}/${child}`, Body: fs.readFileSync(path.join(dir, child)) }));
      }
    };
    await walk('');
  } finally {
    client.destroy();
  }
}

export async function startReplicas(options: {
  count: number;
  tmp: string;
  model: string;
  /** Version 1's folder. */
  firstVersion: string;
  postgresUrl: string;
  serveArgs?: readonly string[];
}): Promise<Replicas> {
  const { count, tmp, model } = options;
  const dbName = `modelhost_soak_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: options.postgresUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  await admin.end();
  const dbUrl = new URL(options.postgresUrl);
  dbUrl.pathname = `/${dbName}`;
  const s3dir = path.join(tmp, 's3');
  fs.mkdirSync(s3dir, { recursive: true });
  const s3 = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: s3dir, configureBuckets: [{ name: SOAK_BUCKET }] });
  const { port } = await s3.run();
  const endpoint = `http://127.0.0.1:${port}`;
  await putDir(endpoint, SOAK_BUCKET, `models/${model}/1`, options.firstVersion);
  const basePath = `s3://${SOAK_BUCKET}/models/${model}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    S3_ENDPOINT: `127.0.0.1:${port}`,
    S3_USE_HTTPS: '0',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  delete env.MODELHOST_ADMIN_TOKEN; // changes come from loopback, as an operator on the host makes them
  delete env.MODELHOST_CRASH_AT;
  delete env.AWS_ENDPOINT_URL;
  delete env.AWS_ENDPOINT_URL_S3;
  const servers: ServeProcess[] = [];
  const close = async () => {
    const codes = await Promise.all(servers.map((s) => s.stop(30_000)));
    await new Promise<void>((resolve) => s3.close(() => resolve()));
    const c = new pg.Client({ connectionString: options.postgresUrl });
    await c.connect();
    try {
      await c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    } finally {
      await c.end();
    }
    return codes;
  };
  try {
    for (let i = 0; i < count; i++) {
      const id = `replica-${String.fromCharCode(97 + i)}`;
      const dir = path.join(tmp, id);
      fs.mkdirSync(dir, { recursive: true });
      servers.push(
        await startServeProcess(
          [
            `--model_name=${model}`,
            `--model_base_path=${basePath}`,
            `--registry_url=${dbUrl}`,
            `--replica_id=${id}`,
            `--models_dir=${path.join(dir, 'models')}`,
            `--model_cache_dir=${path.join(dir, 'cache')}`,
            ...(options.serveArgs ?? []),
          ],
          { cwd: dir, env },
        ),
      );
    }
  } catch (e) {
    await close();
    throw e;
  }
  return { servers, basePath, close };
}
