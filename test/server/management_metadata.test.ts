// Version metadata and the signature diff over the management API (/api/v1),
// on a real server with a real SQLite file: set at upload (multipart fields),
// changed with PATCH (admin token, history event), returned in the version
// JSON; hostile bodies refused with 400 naming what is wrong and writing
// nothing; GET .../versions/{a}/diff/{b} between half_plus_two and
// half_plus_three.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../serving/log.js';
import { startServer, type RunningServer } from '../../server/serve.js';
import { FIXTURES } from './helpers.js';

const TOKEN = 'metadata-admin-token';
const PLUS_TWO = path.join(FIXTURES, 'saved_model_half_plus_two_cpu/00000123');
const PLUS_THREE = path.join(FIXTURES, 'saved_model_half_plus_three/00000123');
const quiet: Logger = { info() {}, warn() {}, error() {} };

let tmp: string;
let modelsDir: string;
let server: RunningServer;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-metadata-api-'));
  modelsDir = path.join(tmp, 'models');
  fs.mkdirSync(modelsDir);
  server = await startServer({
    models: { kind: 'models_dir', dir: modelsDir, pollSeconds: 0.2 },
    restApiPort: 0,
    restApiHost: '127.0.0.1',
    fileSystemPollWaitSeconds: 0.2,
    registry: {
      path: path.join(tmp, 'data/registry.db'),
      modelsDir,
      adminToken: TOKEN,
      metadataLimits: { maxTags: 3, maxMetrics: 3, maxDescriptionChars: 200 },
    },
    log: quiet,
  });
});
afterAll(async () => {
  await server?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const api = () => request(server.url);
const auth = { Authorization: `Bearer ${TOKEN}` };

function upload(model: string, dir: string, fields: [string, string][]): request.Test {
  const req = api().post(`/api/v1/models/${model}/versions`).set(auth);
  for (const [k, v] of fields) req.field(k, v);
  const walk = (rel: string) => {
    for (const name of fs.readdirSync(path.join(dir, rel)).sort()) {
      const child = rel ? `${rel}/${name}` : name;
      if (fs.statSync(path.join(dir, child)).isDirectory()) walk(child);
      else req.attach('files', fs.readFileSync(path.join(dir, child)), { filepath: child, contentType: 'application/octet-stream' });
    }
  };
  walk('');
  return req;
}

const patch = (v: number | string, body: string, headers: Record<string, string> = auth) =>
  api().patch(`/api/v1/models/hp/versions/${v}`).set({ 'Content-Type': 'application/json', ...headers }).send(body);

async function state() {
  return {
    versions: (await api().get('/api/v1/models/hp/versions')).body,
    events: (await api().get('/api/v1/models/hp/events?limit=1000')).body.events.length,
    folders: fs.existsSync(path.join(modelsDir, 'hp')) ? fs.readdirSync(path.join(modelsDir, 'hp')).filter((f) => !f.startsWith('.')).sort() : [],
  };
}

describe('version metadata over the management API', () => {
  it('is set at upload, returned in the version JSON, and changed with PATCH (token needed, history recorded)', async () => {
    const res = await upload('hp', PLUS_TWO, [
      ['description', 'y = 0.5x + 2, exported by TF Serving'],
      ['tag', 'stage=dev'],
      ['tag', 'team=serving'],
      ['metric', 'mae=0.0125'],
      ['metric', 'val/acc=0.91'],
      ['source', 'ana@laptop: git@github.com:org/hp.git 3f2a1c9, run 17'],
    ]);
    expect(res.status, res.text).toBe(201);
    const metadata = {
      description: 'y = 0.5x + 2, exported by TF Serving',
      tags: { stage: 'dev', team: 'serving' },
      metrics: { mae: 0.0125, 'val/acc': 0.91 },
      source: 'ana@laptop: git@github.com:org/hp.git 3f2a1c9, run 17',
    };
    expect(res.body.metadata).toEqual(metadata);
    expect((await api().get('/api/v1/models/hp/versions/1')).body.metadata).toEqual(metadata);
    expect((await api().get('/api/v1/models/hp')).body.versions[0].metadata).toEqual(metadata);

    // A change needs the token, like every other change.
    expect((await patch(1, '{"tags": {"stage": "prod"}}', {})).status).toBe(401);
    const changed = await patch(1, '{"tags": {"stage": "prod", "team": null}, "metrics": {"mae": 0.011}, "description": null}');
    expect(changed.status, changed.text).toBe(200);
    expect(changed.body.metadata).toEqual({ description: null, tags: { stage: 'prod' }, metrics: { mae: 0.011, 'val/acc': 0.91 }, source: metadata.source });
    expect(changed.body.version).toBe(1);
    const [event] = (await api().get('/api/v1/models/hp/events?limit=1')).body.events;
    expect(event).toMatchObject({ kind: 'metadata_changed', version: 1, detail: 'description cleared; tags set: stage=prod; tags removed: team; metrics set: mae=0.011' });
    expect((await api().get('/api/v1/models/hp/versions/1')).body.metadata.tags).toEqual({ stage: 'prod' });
  });

  it('refuses hostile PATCH bodies with 400 naming what is wrong, changing nothing', async () => {
    const before = await state();
    const cases: [string, RegExp][] = [
      ['not json', /could not be parsed/],
      ['[]', /JSON object/],
      ['{"tags": {"a": "1", "a": "2"}}', /names "a" twice/],
      ['{"owner": "ana"}', /Unknown metadata field "owner"/],
      ['{"tags": {"a b": "x"}}', /Tag key "a b" is not valid/],
      ['{"tags": {"x": 1}}', /Tag x must be text/],
      ['{"tags": {"a": "1", "b": "2", "c": "3"}}', /at most 3 tags \(--metadata_max_tags\); this change leaves 4/],
      ['{"metrics": {"acc": 1e999}}', /Metric acc must be a finite number, got Infinity/],
      ['{"metrics": {"acc": "high"}}', /Metric acc must be a finite number/],
      ['{"description": "nul \\u0000 inside"}', /control character/],
      [`{"description": "${'d'.repeat(201)}"}`, /201 characters, more than 200 \(--metadata_max_description_chars\)/],
      [`{"source": "${'s'.repeat(1001)}"}`, /--metadata_max_value_chars/],
      [`{"tags": {"${'k'.repeat(129)}": "v"}}`, /--metadata_max_key_chars/],
    ];
    for (const [body, message] of cases) {
      const res = await patch(1, body);
      expect(res.status, body).toBe(400);
      expect(res.body.code).toBe('INVALID_ARGUMENT');
      expect(res.body.error, body).toMatch(message);
    }
    expect((await patch(1, JSON.stringify({ description: 'x'.repeat(300_000) }))).status).toBe(413);
    expect((await patch(9, '{"tags": {"a": "1"}}')).status).toBe(404);
    expect((await patch('two', '{}')).status).toBe(400);
    expect((await api().patch('/api/v1/models/nope/versions/1').set(auth).send({ tags: {} })).status).toBe(404);
    expect(await state()).toEqual(before);
  });

  it('refuses an upload with bad metadata fields, leaving neither a version nor a folder', async () => {
    const before = await state();
    const cases: [[string, string][], RegExp][] = [
      [[['metric', 'acc=NaN']], /Metric acc must be a finite number/],
      [[['metric', 'acc']], /"metric" field must be key=value/],
      [[['tag', 'a=1'], ['tag', 'a=2']], /Tag a is given twice/],
      [[['tag', 'a=1'], ['tag', 'b=2'], ['tag', 'c=3'], ['tag', 'd=4']], /at most 3 tags \(--metadata_max_tags\)/],
      [[['description', 'one'], ['description', 'two']], /Give "description" once/],
      [[['source', 'bell\u0007']], /The source holds a control character/],
    ];
    for (const [fields, message] of cases) {
      const res = await upload('hp', PLUS_THREE, fields);
      expect(res.status, JSON.stringify(fields)).toBe(400);
      expect(res.body.error).toMatch(message);
    }
    // Far more tag fields than the limit: multer's own field count stops them, still a 400.
    const many = await upload('hp', PLUS_THREE, Array.from({ length: 40 }, (_, i) => ['tag', `k${i}=v`] as [string, string]));
    expect(many.status).toBe(400);
    expect(await state()).toEqual(before);
  });
});

describe('signature diff over the management API', () => {
  it('compares two versions both ways, naming what breaks callers of the first', async () => {
    expect((await upload('hp', PLUS_THREE, [])).status).toBe(201);
    const res = await api().get('/api/v1/models/hp/versions/1/diff/2');
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({
      model: 'hp',
      from: 1,
      to: 2,
      identical: false,
      removed: ['classify_x_to_y', 'regress_x2_to_y3', 'regress_x_to_y', 'regress_x_to_y2'],
      added: ['tensorflow/serving/regress'],
      changed: ['serving_default'],
    });
    expect(res.body.signatures.serving_default).toEqual({
      status: 'changed',
      method: null,
      unavailable: null,
      inputs: { added: {}, removed: {}, changed: { x: { before: { dtype: 'DT_FLOAT', shape: [-1, 1] }, after: { dtype: 'DT_FLOAT', shape: [] }, dtype_changed: false, shape_changed: true } } },
      outputs: { added: {}, removed: {}, changed: { y: { before: { dtype: 'DT_FLOAT', shape: [-1, 1] }, after: { dtype: 'DT_FLOAT', shape: [] }, dtype_changed: false, shape_changed: true } } },
    });
    expect(res.body.breaking_changes.map((b: { kind: string }) => b.kind)).toEqual([
      'signature_removed',
      'signature_removed',
      'signature_removed',
      'signature_removed',
      'input_shape_changed',
      'output_shape_changed',
    ]);
    expect(res.body.breaking_changes[4]).toEqual({
      kind: 'input_shape_changed',
      signature: 'serving_default',
      tensor: 'x',
      renamed_to: null,
      before: { dtype: 'DT_FLOAT', shape: [-1, 1] },
      after: { dtype: 'DT_FLOAT', shape: [] },
      message: 'signature serving_default: input "x" shape changed from [-1, 1] to []',
    });
    // The other way round: callers of half_plus_three lose only the scalar regress signature... and the shapes.
    const back = (await api().get('/api/v1/models/hp/versions/2/diff/1')).body;
    expect(back.added).toEqual(['classify_x_to_y', 'regress_x2_to_y3', 'regress_x_to_y', 'regress_x_to_y2']);
    expect(back.breaking_changes.map((b: { message: string }) => b.message)).toEqual([
      'signature serving_default: input "x" shape changed from [] to [-1, 1]',
      'signature serving_default: output "y" shape changed from [] to [-1, 1]',
      'signature tensorflow/serving/regress removed',
    ]);
    const same = (await api().get('/api/v1/models/hp/versions/2/diff/2')).body;
    expect(same).toMatchObject({ identical: true, breaking_changes: [], added: [], removed: [], changed: [] });
    // Reads need no token.
    expect((await api().get('/api/v1/models/hp/versions/1/diff/9')).status).toBe(404);
    expect((await api().get('/api/v1/models/hp/versions/9/diff/1')).body.error).toMatch(/has no version 9/);
    expect((await api().get('/api/v1/models/nope/versions/1/diff/2')).status).toBe(404);
    expect((await api().get('/api/v1/models/hp/versions/1/diff/x')).status).toBe(400);
  });
});
