/**
 * The S3 client, configured from the environment as TensorFlow (and so TF
 * Serving) configures its S3 file system, plus the AWS SDK's own variables:
 *
 *   S3_ENDPOINT        host:port (or a URL) of an S3-compatible server; default AWS
 *   S3_USE_HTTPS       0: http to S3_ENDPOINT (default 1: https)
 *   S3_VERIFY_SSL      0: accept any TLS certificate (default 1)
 *   AWS_REGION         region (else S3_REGION, AWS_DEFAULT_REGION; default us-east-1)
 *   AWS_ENDPOINT_URL   (or AWS_ENDPOINT_URL_S3) the endpoint as a URL; wins over S3_ENDPOINT
 *   S3_CONNECT_TIMEOUT_MSEC, S3_REQUEST_TIMEOUT_MSEC   timeouts (default 5000, 60000)
 *   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (AWS_SESSION_TOKEN, profiles, IAM roles):
 *                      the SDK's default credential chain
 *
 * With an endpoint set, requests use path-style addressing
 * (`http://host:port/bucket/key`), as MinIO, s3rver and most S3-compatible
 * servers need. `storeError` turns an SDK failure into a StatusError saying
 * what could not be done and why (unreachable, access denied, missing).
 */
import https from 'node:https';
import { S3Client } from '@aws-sdk/client-s3';
import { StatusError } from '../../runtime/errors.js';

export interface S3Settings {
  /** URL of an S3-compatible endpoint (scheme included); undefined: AWS. */
  endpoint?: string;
  region: string;
  verifySsl: boolean;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  /** Explicit credentials (tests); undefined: the SDK's default chain (env, profile, IAM role). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Attempts per request (default 3: the SDK's retry of throttling and network errors). */
  maxAttempts?: number;
}

function flagOn(value: string | undefined, fallback: boolean): boolean {
  // TF reads only the first character: '0' is off, anything else on.
  return value === undefined || value === '' ? fallback : value[0] !== '0';
}

function millis(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new StatusError('INVALID_ARGUMENT', `${name}=${value} is not a positive whole number of milliseconds.`);
  return n;
}

/** Reads the S3 settings from `env` (see the module comment). */
export function s3SettingsFromEnv(env: NodeJS.ProcessEnv = process.env): S3Settings {
  const useHttps = flagOn(env.S3_USE_HTTPS, true);
  let endpoint = env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined;
  if (!endpoint && env.S3_ENDPOINT) {
    endpoint = /^[a-z][a-z0-9+.-]*:\/\//i.test(env.S3_ENDPOINT) ? env.S3_ENDPOINT : `${useHttps ? 'https' : 'http'}://${env.S3_ENDPOINT}`;
  }
  if (endpoint !== undefined) {
    try {
      new URL(endpoint);
    } catch {
      throw new StatusError('INVALID_ARGUMENT', `The S3 endpoint ${endpoint} (S3_ENDPOINT / AWS_ENDPOINT_URL) is not a valid URL or host:port.`);
    }
  }
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  return {
    endpoint,
    region: env.AWS_REGION || env.S3_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
    verifySsl: flagOn(env.S3_VERIFY_SSL, true),
    connectTimeoutMs: millis(env.S3_CONNECT_TIMEOUT_MSEC, 5000, 'S3_CONNECT_TIMEOUT_MSEC'),
    requestTimeoutMs: millis(env.S3_REQUEST_TIMEOUT_MSEC, 60000, 'S3_REQUEST_TIMEOUT_MSEC'),
    credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN || undefined } : undefined,
  };
}

/** Where requests go, for messages. */
export function describeEndpoint(settings: S3Settings): string {
  return settings.endpoint ?? `AWS S3 (${settings.region})`;
}

export function createS3Client(settings: S3Settings): S3Client {
  // The SDK warns once per process that Node 20 support ends in 2027; the server's log is no place for it.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return new S3Client({
    region: settings.region,
    endpoint: settings.endpoint,
    forcePathStyle: settings.endpoint !== undefined,
    credentials: settings.credentials,
    maxAttempts: settings.maxAttempts ?? 3,
    // Checksums only where S3 requires them: S3-compatible servers (s3rver, older MinIO, Ceph) store
    // the SDK's default aws-chunked CRC framing as part of the object.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: {
      connectionTimeout: settings.connectTimeoutMs,
      requestTimeout: settings.requestTimeoutMs,
      httpsAgent: settings.verifySsl ? undefined : new https.Agent({ rejectUnauthorized: false, keepAlive: true }),
    },
  });
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'TimeoutError', 'RequestTimeout']);
const DENIED = new Set(['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'InvalidToken', 'AllAccessDisabled', 'CredentialsProviderError']);
const TLS = /CERT|SSL|TLS|SELF_SIGNED/;

/**
 * A StatusError for a failed S3 call: `doing` says what was being done
 * ("list s3://b/m"). Unreachable → UNAVAILABLE, denied → PERMISSION_DENIED,
 * missing bucket or key → NOT_FOUND, anything else UNKNOWN; each names the
 * endpoint and the server's error code.
 */
export function storeError(e: unknown, doing: string, settings: S3Settings): StatusError {
  if (e instanceof StatusError) return e;
  const err = e as { name?: string; code?: string; Code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const code = err.Code ?? err.code ?? err.name ?? 'Error';
  const status = err.$metadata?.httpStatusCode;
  const message = err.message ?? String(e);
  const where = describeEndpoint(settings);
  if (UNREACHABLE.has(code) || UNREACHABLE.has(err.name ?? '') || (status === undefined && /ECONNREFUSED|ENOTFOUND|timed? ?out|socket hang up/i.test(message))) {
    return new StatusError('UNAVAILABLE', `Could not ${doing}: the object store at ${where} is unreachable (${code}: ${message}). Check S3_ENDPOINT / AWS_ENDPOINT_URL and that the server is up.`);
  }
  if (TLS.test(code) || TLS.test(message)) {
    return new StatusError('UNAVAILABLE', `Could not ${doing}: TLS to the object store at ${where} failed (${code}: ${message}). Set S3_VERIFY_SSL=0 to accept its certificate, or S3_USE_HTTPS=0 for plain http.`);
  }
  if (DENIED.has(code) || status === 403) {
    return new StatusError('PERMISSION_DENIED', `Could not ${doing}: access denied by the object store at ${where} (${code}: ${message}). Check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY and the bucket's policy.`);
  }
  if (code === 'NoSuchBucket') return new StatusError('NOT_FOUND', `Could not ${doing}: the bucket does not exist at ${where} (${code}).`);
  if (code === 'NoSuchKey' || code === 'NotFound' || status === 404) return new StatusError('NOT_FOUND', `Could not ${doing}: the object is missing (${code}).`);
  return new StatusError('UNKNOWN', `Could not ${doing}: the object store at ${where} answered ${code}${status ? ` (HTTP ${status})` : ''}: ${message}`);
}
