// Serving conformance-corpus models (SavedModels exported by real TensorFlow,
// with TF's answers) over REST, for the tests that check them end to end.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { silentLogger } from '../../serving/log.js';
import { startServer, type RunningServer } from '../../server/serve.js';
import { CORPUS_DIR, type CorpusRun, type JsonTensor } from '../conformance/corpus.js';

export interface CorpusServer {
  server: RunningServer;
  post(p: string, body: object): request.Test;
  stop(): Promise<void>;
}

/** Serves each corpus case ("family/case") as version 1 of the model named by its key. */
export async function serveCorpusModels(models: Record<string, string>): Promise<CorpusServer> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-corpus-http-'));
  const entries = Object.entries(models).map(([name, id]) => {
    fs.cpSync(path.join(CORPUS_DIR, id, 'model'), path.join(tmp, name, '1'), { recursive: true });
    return `config { name: "${name}" base_path: "${path.join(tmp, name)}" model_platform: "tensorflow" }`;
  });
  const config = path.join(tmp, 'models.conf');
  fs.writeFileSync(config, `model_config_list { ${entries.join('\n')} }`);
  const server = await startServer({
    models: { kind: 'config_file', file: config, pollSeconds: 0 },
    restApiPort: 0,
    restApiHost: '127.0.0.1',
    fileSystemPollWaitSeconds: 0,
    log: silentLogger,
  });
  return {
    server,
    post: (p, body) => request(server.http.server).post(p).set('Content-Type', 'application/json').send(JSON.stringify(body)),
    stop: async () => {
      await server.stop();
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
}

export function runsOf(id: string): CorpusRun[] {
  return (JSON.parse(fs.readFileSync(path.join(CORPUS_DIR, id, 'expected.json'), 'utf8')) as { runs: CorpusRun[] }).runs;
}

/** Flat values nested by shape, as TF Serving's JSON carries a tensor. */
export function nest(values: unknown[], shape: number[]): unknown {
  if (shape.length === 0) return values[0];
  const [d, ...rest] = shape;
  const inner = rest.reduce((a, b) => a * b, 1);
  return Array.from({ length: d }, (_, i) => nest(values.slice(i * inner, (i + 1) * inner), rest));
}

export const flat = (v: unknown): unknown[] => (Array.isArray(v) ? v.flatMap(flat) : [v]);

/** A corpus input as request JSON: strings always as {"b64"} (exact bytes), numbers as they are. */
export function jsonInput(t: JsonTensor): unknown {
  if (t.dtype !== 'string') return nest(t.values, t.shape);
  const bytes = t.values.map((v) => ({
    b64: (typeof v === 'object' && v !== null && 'b64' in v ? Buffer.from(v.b64, 'base64') : Buffer.from(v as string)).toString('base64'),
  }));
  return nest(bytes, t.shape);
}
