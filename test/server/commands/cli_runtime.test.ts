import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { writeAllocModel } from '../../helpers/alloc_model.js';
import { copyWithRenamedOps } from '../../helpers/patched_model.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const FIXTURES = path.resolve(ROOT, '../shared/fixtures/tf-serving');
const exec = promisify(execFile);

/** Runs the built `modelhost` binary (npm test builds dist/ first). */
async function modelhost(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [path.join(ROOT, 'bin/modelhost.js'), ...args], { cwd: ROOT });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('modelhost run', () => {
  it('prints exactly the REST body for a row-format request, and nothing else', async () => {
    const r = await modelhost('run', path.join(FIXTURES, 'saved_model_half_plus_two_cpu/00000123'), '--request', '{"instances": [[1.0], [2.0], [5.0]]}');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ predictions: [[2.5], [3.0], [4.5]] });
  });

  it('answers the columnar format with "outputs"', async () => {
    const r = await modelhost('run', path.join(FIXTURES, 'matrix_half_plus_two/1'), '--request', '{"inputs": [[1, 2], [3, 4]]}');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ outputs: [[2.5, 3.0], [3.5, 4.0]] });
  });

  it('runs the signature named in the request', async () => {
    const r = await modelhost(
      'run',
      path.join(FIXTURES, 'saved_model_counter/00000123'),
      '--request',
      '{"signature_name": "incr_counter_by", "inputs": {"delta": 5.0}}',
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ outputs: 5.0 });
  });

  it('--max_tensor_elements bounds the tensors the model may make', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-run-limit-'));
    const dir = path.join(tmp, 'model');
    try {
      await writeAllocModel(dir);
      const r = await modelhost('run', dir, '--max_tensor_elements=100', '--request', '{"inputs": {"dims": [20, 20]}}');
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('OOM when allocating tensor with shape[20,20] and type float');
      const big = await modelhost('run', dir, '--request', '{"inputs": {"dims": [100000, 100000]}}');
      expect(big.code).not.toBe(0);
      expect(big.stderr).toContain('OOM when allocating tensor with shape[100000,100000] and type float');
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('fails with the error on stderr and a non-zero status for a bad request', async () => {
    const r = await modelhost('run', path.join(FIXTURES, 'matrix_half_plus_two/1'), '--request', '{"instances": [["a"]]}');
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/not of expected type: float/);
  });

  it('refuses a SessionBundle as not a SavedModel', async () => {
    const r = await modelhost('run', path.join(FIXTURES, 'bad_half_plus_two/00000123'), '--request', '{"instances": [1.0]}');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Could not find SavedModel .pb or .pbtxt/);
  });
});

describe('modelhost ops and inspect', () => {
  it('lists supported ops one per line', async () => {
    const r = await modelhost('ops');
    const ops = r.stdout.trim().split('\n');
    expect(ops).toContain('MatMul');
    expect(ops).toContain('StatefulPartitionedCall');
    expect(ops).toContain('TensorListGetItem');
    expect(ops).toContain('SaveV2');
    expect(ops).not.toContain('FancySaveV2');
    expect(ops).toContain('Enter'); // TF1 loop frame ops: rewritten into While
    // Every op tfjs-converter converts (issue 14), but TF Decision Forests' SimpleML* ops.
    const tfjs = fs.readFileSync(path.join(import.meta.dirname, 'tfjs_converter_ops.txt'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
    expect(tfjs.length).toBe(245);
    expect(tfjs.filter((op) => !ops.includes(op))).toEqual([]);
    expect(ops).toContain('StatelessRandomUniformV2');
    expect([...ops].sort()).toEqual(ops);
  });

  it('shows signatures, variables and the op inventory with unsupported ops flagged', async () => {
    const dir = copyWithRenamedOps(path.join(FIXTURES, 'saved_model_half_plus_two_cpu/00000123'), { SaveV2: 'FancySaveV2' });
    const r = await modelhost('inspect', dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("signature_def['serving_default']:");
    expect(r.stdout).toMatch(/inputs\['x'\] tensor_info:\s+dtype: DT_FLOAT\s+shape: \(-1, 1\)\s+name: x:0/);
    expect(r.stdout).toContain('Method name is: tensorflow/serving/predict');
    // a, a2, b, c, c2: five float32 scalars.
    expect(r.stdout).toMatch(/Variables: 5 tensors, 20 bytes/);
    expect(r.stdout).toMatch(/FancySaveV2 x1 {3}<- not supported by the runtime/);
    expect(r.stdout).not.toMatch(/ SaveV2 x1 {3}<- not supported/);
    expect(r.stdout).toContain('Load check: OK');
  });

  it('reports no unsupported op for the shipped f_mnist models', async () => {
    for (const v of ['1', '2']) {
      const r = await modelhost('inspect', path.join(ROOT, 'models/f_mnist', v));
      expect(r.code).toBe(0);
      expect(r.stdout).not.toContain('not supported');
      expect(r.stdout).toContain('Load check: OK');
    }
  });
});
