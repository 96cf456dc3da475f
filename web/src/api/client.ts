// Typed client of the server's public HTTP APIs: the management API under
// /api/v1 (docs/openapi.yaml) and TensorFlow Serving's REST API under /v1.
// Changes carry the admin token when the server needs one (./auth.ts).
import { access, authHeaders, fetchAccess, promptForToken, storedToken, storeToken } from './auth.js';
import type { ErrorBody, EventsPage, MetadataPatch, Model, ModelStats, Replica, Rollout, RolloutRequest, SignatureDiff, Version } from './types.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const enc = encodeURIComponent;

async function errorOf(res: Response): Promise<ApiError> {
  const text = await res.text();
  try {
    const body = JSON.parse(text) as ErrorBody;
    if (typeof body.error === 'string') return new ApiError(res.status, body.error, body.code);
  } catch {
    // not JSON: use the text
  }
  return new ApiError(res.status, text.trim() || `HTTP ${res.status} ${res.statusText}`);
}

async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path, { headers: { Accept: 'application/json' } });
  if (!res.ok) throw await errorOf(res);
  return (await res.json()) as T;
}

/**
 * Runs a change with the admin token: asks for it first when the server needs
 * one and none is kept, and again once if the server refuses the kept one.
 */
async function withToken<T>(send: (token: string | null) => Promise<T>): Promise<T> {
  let token = storedToken();
  if (token === null) {
    const known = access.get() ?? (await fetchAccess(null));
    if (known.admin_token_required) {
      token = await promptForToken('required');
      if (token === null) throw new ApiError(401, 'Cancelled: this change needs the admin token.', 'UNAUTHENTICATED');
    }
  }
  try {
    return await send(token);
  } catch (e) {
    const refused = e instanceof ApiError && (e.status === 401 || (e.status === 403 && token !== null));
    if (!refused) throw e;
    const now = await fetchAccess(token);
    access.set(now);
    if (!now.admin_token_required || now.changes_allowed) throw e;
    storeToken(null);
    const fresh = await promptForToken('rejected');
    if (fresh === null) throw e;
    return send(fresh);
  }
}

async function change<T>(method: string, path: string, body?: unknown): Promise<T> {
  return withToken(async (token) => {
    const headers: Record<string, string> = { Accept: 'application/json', 'X-Modelhost-Actor': 'console', ...authHeaders(token) };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    if (!res.ok) throw await errorOf(res);
    return (await res.json()) as T;
  });
}

const modelPath = (name: string) => `/api/v1/models/${enc(name)}`;

export const api = {
  models: async () => (await getJson<{ models: Model[] }>('/api/v1/models')).models,
  model: (name: string) => getJson<Model>(modelPath(name)),
  replicas: async () => (await getJson<{ replicas: Replica[] }>('/api/v1/replicas')).replicas,
  events: (name: string, limit = 50, before?: number) =>
    getJson<EventsPage>(`${modelPath(name)}/events?limit=${limit}${before === undefined ? '' : `&before=${before}`}`),
  stats: (name: string, windowSeconds = 3600) => getJson<ModelStats>(`${modelPath(name)}/stats?window=${windowSeconds}`),
  pin: (name: string, version: number) => change<Model>('POST', `${modelPath(name)}/pin`, { version }),
  unpin: (name: string) => change<Model>('DELETE', `${modelPath(name)}/pin`),
  rollback: (name: string) => change<Model>('POST', `${modelPath(name)}/rollback`),
  setLabel: (name: string, label: string, version: number) => change<Model>('PUT', `${modelPath(name)}/labels/${enc(label)}`, { version }),
  deleteLabel: (name: string, label: string) => change<Model>('DELETE', `${modelPath(name)}/labels/${enc(label)}`),
  retire: (name: string, version: number, purge: boolean) =>
    change<Version>('DELETE', `${modelPath(name)}/versions/${version}${purge ? '?purge=true' : ''}`),
  restore: (name: string, version: number) => change<Version>('POST', `${modelPath(name)}/versions/${version}/restore`),
  /** The running rollout or the last one that ended; null when the model never had one. */
  rollout: async (name: string): Promise<Rollout | null> => {
    const r = await getJson<Rollout | { state: 'none' }>(`${modelPath(name)}/rollout`);
    return r.state === 'none' ? null : (r as Rollout);
  },
  startRollout: (name: string, request: RolloutRequest) => change<Rollout>('POST', `${modelPath(name)}/rollout`, request),
  promoteRollout: (name: string) => change<Rollout>('POST', `${modelPath(name)}/rollout/promote`),
  abortRollout: (name: string) => change<Rollout>('DELETE', `${modelPath(name)}/rollout`),
  version: (name: string, version: number) => getJson<Version>(`${modelPath(name)}/versions/${version}`),
  setMetadata: (name: string, version: number, patch: MetadataPatch) => change<Version>('PATCH', `${modelPath(name)}/versions/${version}`, patch),
  diff: (name: string, from: number, to: number) => getJson<SignatureDiff>(`${modelPath(name)}/versions/${from}/diff/${to}`),
};

/** One file of an upload: an archive, or a SavedModel file with its path relative to the dropped folder. */
export interface UploadFile {
  file: File;
  /** For folder uploads: "saved_model.pb", "1/variables/variables.index", ... */
  path?: string;
}

export interface UploadRequest {
  model: string;
  /** One archive (.tar.gz, .tgz, .tar, .zip), or the files of a SavedModel folder. */
  archive?: File;
  files?: UploadFile[];
  version?: number;
  activate: boolean;
}

/** Upload progress: bytes sent of the total; `sent === total` then waits for the server to validate and load. */
export type UploadProgress = (sent: number, total: number) => void;

function sendUpload(req: UploadRequest, token: string | null, onProgress: UploadProgress, signal?: AbortSignal): Promise<Version> {
  const form = new FormData();
  if (req.version !== undefined) form.append('version', String(req.version));
  form.append('activate', String(req.activate));
  if (req.archive) form.append('archive', req.archive, req.archive.name);
  for (const f of req.files ?? []) form.append('files', f.file, f.path ?? f.file.name);

  return new Promise<Version>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `${modelPath(req.model)}/versions`);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.setRequestHeader('X-Modelhost-Actor', 'console');
    for (const [k, v] of Object.entries(authHeaders(token))) xhr.setRequestHeader(k, v);
    xhr.upload.addEventListener('progress', (e) => onProgress(e.loaded, e.lengthComputable ? e.total : e.loaded));
    xhr.addEventListener('load', () => {
      let body: unknown;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = undefined;
      }
      if (xhr.status === 201) return resolve(body as Version);
      const error = body && typeof (body as ErrorBody).error === 'string' ? (body as ErrorBody) : undefined;
      reject(new ApiError(xhr.status, error?.error ?? (xhr.responseText.trim() || `HTTP ${xhr.status}`), error?.code));
    });
    xhr.addEventListener('error', () => reject(new ApiError(0, 'The upload failed: the connection to the server was lost.')));
    xhr.addEventListener('abort', () => reject(new ApiError(0, 'The upload was cancelled.', 'CANCELLED')));
    signal?.addEventListener('abort', () => xhr.abort());
    xhr.send(form);
  });
}

/** Uploads a new version with upload progress (XMLHttpRequest: fetch reports none). */
export function uploadVersion(req: UploadRequest, onProgress: UploadProgress, signal?: AbortSignal): Promise<Version> {
  return withToken((token) => sendUpload(req, token, onProgress, signal));
}

export interface PredictResult {
  /** The JSON the server answered. */
  body: unknown;
  /** Round trip in milliseconds, as the browser measured it. */
  ms: number;
  /** The version that answered: the request named it. */
  version: number;
}

/**
 * POST /v1/models/{m}/versions/{v}:predict (or :classify, :regress). The
 * version is named in the path, so the answer is known to come from it.
 */
export async function infer(model: string, version: number, api: 'predict' | 'classify' | 'regress', request: unknown): Promise<PredictResult> {
  const started = performance.now();
  const res = await fetch(`/v1/models/${enc(model)}/versions/${version}:${api}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: typeof request === 'string' ? request : JSON.stringify(request),
  });
  const text = await res.text();
  const ms = performance.now() - started;
  if (!res.ok) {
    let message = text;
    try {
      message = (JSON.parse(text) as ErrorBody).error ?? text;
    } catch {
      // keep the text
    }
    throw new ApiError(res.status, message);
  }
  return { body: JSON.parse(text) as unknown, ms, version };
}
