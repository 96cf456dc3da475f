/**
 * The CLI's client for the management API (`/api/v1`): JSON calls with the
 * admin token from MODELHOST_ADMIN_TOKEN (when set), and streaming uploads.
 * Every failure becomes an Error whose message is what the user should read:
 * the server's own error text with its HTTP status, or how to reach the server.
 */
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import { ADMIN_TOKEN_ENV } from '../management/auth.js';
import type { MultipartBody } from './multipart.js';

export const SERVER_ENV = 'MODELHOST_SERVER';
export const DEFAULT_SERVER = 'http://localhost:8501';

/** The API's JSON shapes, as server/management/json.ts prints them. */
export interface VersionJson {
  version: number;
  state: string;
  error: string | null;
  source: string;
  created_at: string;
  loaded_at: string | null;
  size_bytes: number | null;
  sha256: string | null;
  retired: boolean;
  loaded: boolean;
  labels: string[];
  path: string;
  signatures: Record<string, { method: string; inputs: Record<string, unknown>; outputs: Record<string, unknown> }>;
  metadata: MetadataJson;
}

export interface MetadataJson {
  description: string | null;
  tags: Record<string, string>;
  metrics: Record<string, number>;
  source: string | null;
}

interface TensorJson {
  dtype: string;
  shape: number[] | null;
}

interface TensorsDiffJson {
  added: Record<string, TensorJson>;
  removed: Record<string, TensorJson>;
  changed: Record<string, { before: TensorJson; after: TensorJson; dtype_changed: boolean; shape_changed: boolean }>;
}

export interface SignatureDiffJson {
  model: string;
  from: number;
  to: number;
  identical: boolean;
  added: string[];
  removed: string[];
  changed: string[];
  signatures: Record<
    string,
    {
      status: 'added' | 'removed' | 'changed' | 'unchanged';
      method: { before: string; after: string } | null;
      unavailable: { before: string | null; after: string | null } | null;
      inputs: TensorsDiffJson;
      outputs: TensorsDiffJson;
    }
  >;
  breaking_changes: { kind: string; signature: string; tensor: string | null; renamed_to: string | null; message: string }[];
}

export interface ModelJson {
  name: string;
  base_path: string;
  version_policy: string | null;
  active_version: number | null;
  previous_version: number | null;
  pinned_version: number | null;
  labels: Record<string, number>;
  versions: VersionJson[];
}

export interface EventJson {
  id: number;
  time: string;
  model: string;
  version: number | null;
  kind: string;
  actor: string;
  detail: string;
}

export class ApiClient {
  readonly base: URL;
  private readonly token: string | undefined;

  constructor(server: string, token = process.env[ADMIN_TOKEN_ENV]) {
    try {
      this.base = new URL(server.includes('://') ? server : `http://${server}`);
    } catch {
      throw new Error(`--server ${server} is not a URL (expected e.g. ${DEFAULT_SERVER}).`);
    }
    this.token = token || undefined;
  }

  private url(path: string): URL {
    return new URL(`/api/v1${path}`, this.base);
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    let user = 'cli';
    try {
      user = `cli:${os.userInfo().username}`;
    } catch {
      // no user name on this system
    }
    return { 'X-Modelhost-Actor': user, ...(this.token ? { Authorization: `Bearer ${this.token}` } : {}), ...extra };
  }

  private unreachable(e: unknown): Error {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (e as Error).message;
    return new Error(`Cannot reach the modelhost server at ${this.base.origin} (${why}). Start it with "modelhost serve", or pass --server URL (or set ${SERVER_ENV}).`);
  }

  /** One JSON call; resolves with the parsed body of a 2xx answer. */
  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(this.url(path), {
        method,
        headers: this.headers(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw this.unreachable(e);
    }
    return this.parse<T>(res.status, await res.text());
  }

  private parse<T>(status: number, text: string): T {
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (status >= 200 && status < 300) return parsed as T;
    const message = (parsed as { error?: string } | undefined)?.error ?? (text.trim() || 'no details');
    throw new Error(`${message} (HTTP ${status})`);
  }

  /** POSTs a multipart body to `path`, streaming it; `onProgress` gets file bytes sent so far. */
  upload<T>(path: string, body: MultipartBody, onProgress?: (sent: number) => void): Promise<T> {
    const url = this.url(path);
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise<T>((resolve, reject) => {
      let sent = 0;
      let answered = false;
      const req = transport.request(
        url,
        {
          method: 'POST',
          headers: this.headers({ 'Content-Type': body.contentType, 'Content-Length': String(body.length) }),
        },
        (res) => {
          answered = true;
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => {
            try {
              resolve(this.parse<T>(res.statusCode ?? 0, text));
            } catch (e) {
              reject(e);
            }
          });
          res.on('error', reject);
        },
      );
      // The server may answer (401, 413) before the whole body is sent; that answer is what matters.
      req.on('error', (e) => {
        if (!answered) reject(this.unreachable(e));
      });
      const stream = body.stream((n) => {
        sent += n;
        onProgress?.(sent);
      });
      stream.on('error', (e) => {
        req.destroy();
        reject(e);
      });
      stream.pipe(req);
    });
  }
}
