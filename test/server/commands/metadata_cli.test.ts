// `modelhost upload --description/--tag/--metric/--source`, `modelhost
// metadata` and `modelhost diff` against a real `modelhost serve` process
// over loopback (admin token from the environment): metadata set by the CLI
// reads back through the API and the CLI, and refusals name what is wrong.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES } from '../helpers.js';
import { serveForCli } from './cli_server.js';

const TOKEN = 'metadata-cli-token';
const PLUS_TWO = path.join(FIXTURES, 'saved_model_half_plus_two_cpu/00000123');
const PLUS_THREE = path.join(FIXTURES, 'saved_model_half_plus_three/00000123');

const server = serveForCli({ prefix: 'modelhost-metacli-', token: TOKEN, flags: ['--metadata_max_tags=4'] });
const { cli } = server;

const apiVersion = async (v: number) => (await (await fetch(`${server.url}/api/v1/models/hp/versions/${v}`)).json()) as { metadata: unknown };

describe('metadata and diff CLI', () => {
  it('sets metadata at upload and changes it later; the API and the CLI read it back', async () => {
    let r = await cli([
      'upload', 'hp', PLUS_TWO,
      '--description', 'half plus two\nfrom the TF Serving tests',
      '--tag', 'stage=dev', '--tag', 'team=serving',
      '--metric', 'mae=0.0125', '--metric', 'val/acc=0.91',
      '--source', 'ana@laptop git 3f2a1c9',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const metadata = {
      description: 'half plus two\nfrom the TF Serving tests',
      tags: { stage: 'dev', team: 'serving' },
      metrics: { mae: 0.0125, 'val/acc': 0.91 },
      source: 'ana@laptop git 3f2a1c9',
    };
    expect((await apiVersion(1)).metadata).toEqual(metadata);
    r = await cli(['metadata', 'hp', '1', '--json']);
    expect(JSON.parse(r.stdout)).toEqual(metadata);
    r = await cli(['metadata', 'hp', '1']);
    expect(r.stdout).toContain('Tags:        stage=dev team=serving\nMetrics:     mae=0.0125 val/acc=0.91\n');

    r = await cli(['metadata', 'hp', '1', '--tag', 'stage=prod', '--remove-tag', 'team', '--metric', 'mae=0.011', '--remove-metric', 'val/acc', '--clear-description']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Changed hp version 1\nDescription: -\nSource:      ana@laptop git 3f2a1c9\nTags:        stage=prod\nMetrics:     mae=0.011\n$/);
    expect((await apiVersion(1)).metadata).toEqual({ description: null, tags: { stage: 'prod' }, metrics: { mae: 0.011 }, source: 'ana@laptop git 3f2a1c9' });
    const events = (await (await fetch(`${server.url}/api/v1/models/hp/events?limit=1`)).json()) as { events: { kind: string; actor: string }[] };
    expect(events.events[0]).toMatchObject({ kind: 'metadata_changed' });
    expect(events.events[0].actor).toMatch(/^token@127\.0\.0\.1 \(claims "cli:.*"\)$/);
  });

  it('refuses bad metadata with the reason and a non-zero exit, changing nothing', async () => {
    const before = await apiVersion(1);
    let r = await cli(['metadata', 'hp', '1', '--metric', 'acc=high']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Metric acc must be a finite number, got "high"/);
    r = await cli(['metadata', 'hp', '1', '--tag', 'a=1', '--tag', 'b=2', '--tag', 'c=3', '--tag', 'd=4']);
    expect(r.stderr).toMatch(/at most 4 tags \(--metadata_max_tags\); this change leaves 5\. \(HTTP 400\)/);
    r = await cli(['metadata', 'hp', '1', '--tag', 'x=1'], { MODELHOST_ADMIN_TOKEN: undefined });
    expect(r.stderr).toMatch(/\(HTTP 401\)/);
    r = await cli(['upload', 'hp', PLUS_THREE, '--metric', 'acc=NaN']);
    expect(r.stderr).toMatch(/Metric acc must be a finite number, got "NaN"\. \(HTTP 400\)/);
    r = await cli(['metadata', 'hp', '7']);
    expect(r.stderr).toMatch(/Model hp has no version 7\. \(HTTP 404\)/);
    expect(await apiVersion(1)).toEqual(before);
    expect(fs.readdirSync(path.join(server.tmp, 'models/hp')).filter((f) => !f.startsWith('.'))).toEqual(['1']);
  });

  it('diffs two versions, naming what breaks clients of the first', async () => {
    expect((await cli(['upload', 'hp', PLUS_THREE])).code).toBe(0);
    let r = await cli(['diff', 'hp', '1', '2']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(
      [
        'Signatures of hp, version 1 → 2:',
        '  - classify_x_to_y',
        '  - regress_x2_to_y3',
        '  - regress_x_to_y',
        '  - regress_x_to_y2',
        '  ~ serving_default',
        '      ~ input x: DT_FLOAT [-1, 1] → DT_FLOAT []',
        '      ~ output y: DT_FLOAT [-1, 1] → DT_FLOAT []',
        '  + tensorflow/serving/regress',
        'Breaks clients of version 1:',
        '  ! signature classify_x_to_y removed',
        '  ! signature regress_x2_to_y3 removed',
        '  ! signature regress_x_to_y removed',
        '  ! signature regress_x_to_y2 removed',
        '  ! signature serving_default: input "x" shape changed from [-1, 1] to []',
        '  ! signature serving_default: output "y" shape changed from [-1, 1] to []',
        '',
      ].join('\n'),
    );
    r = await cli(['diff', 'hp', '2', '2']);
    expect(r.stdout).toBe('Versions 2 and 2 of hp have the same signatures.\n');
    const d = JSON.parse((await cli(['diff', 'hp', '1', '2', '--json'])).stdout);
    expect(d.breaking_changes).toHaveLength(6);
    r = await cli(['diff', 'hp', '1', '5']);
    expect(r.stderr).toMatch(/no version 5\. \(HTTP 404\)/);
  });
});
