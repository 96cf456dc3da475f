// Parsing a predict body at the default --max_request_bytes (64 MiB) needs at
// most ~4x its size in memory: long number lists go straight into typed
// arrays, never JS arrays of numbers (issue 13, finding 3: a 100 MB body took
// 4.65 GB through the server). Measured in a child process running the built
// codec (dist/), whose peak resident memory is read from /proc/self/status.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const CODEC = path.join(ROOT, 'dist/runtime/codec/index.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-codec-mem-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const MiB = 1024 * 1024;
const BODY_BYTES = 64 * MiB;

/** Writes a row-format body of `rows` lists of 784 numbers (as `number(i)` prints them) up to `bytes`. */
function writeBody(file: string, bytes: number, number: (i: number) => string): number {
  const fd = fs.openSync(file, 'w');
  const row = `[${Array.from({ length: 784 }, (_, i) => number(i)).join(',')}]`;
  let size = fs.writeSync(fd, '{"instances": [');
  let rows = 0;
  while (size + row.length + 3 < bytes) {
    size += fs.writeSync(fd, rows === 0 ? row : `,${row}`);
    rows++;
  }
  size += fs.writeSync(fd, ']}');
  fs.closeSync(fd);
  return rows;
}

/** Parses the body file in a child; returns its rows and peak memory above what it held before reading the body. */
function parseInChild(file: string, dtype: string): { shape: number[]; bodyBytes: number; peakAboveBaseline: number } {
  const script = `
    import fs from 'node:fs';
    const { readPredictRequest } = await import(${JSON.stringify(CODEC)});
    const kib = (field) => Number(new RegExp(field + ':\\\\s+(\\\\d+) kB').exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
    const baseline = kib('VmRSS');
    const body = fs.readFileSync(${JSON.stringify(file)});
    const { inputs } = readPredictRequest(body).decodeInputs({ x: { dtype: ${JSON.stringify(dtype)} } });
    console.log(JSON.stringify({ shape: inputs.x.shape, bodyBytes: body.length, peakAboveBaseline: kib('VmHWM') - baseline }));
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out) as { shape: number[]; bodyBytes: number; peakAboveBaseline: number };
}

describe('predict body memory', () => {
  it('a 64 MiB body of image rows (6-digit floats) parses within 4x its size', () => {
    if (!fs.existsSync(CODEC)) throw new Error('run `npm run build` first: the child runs dist/');
    const file = path.join(tmp, 'floats.json');
    const rows = writeBody(file, BODY_BYTES, (i) => ((i * 7919) % 1000003 / 1000003).toFixed(6));
    const r = parseInChild(file, 'float32');
    expect(r.shape).toEqual([rows, 784]);
    expect(r.peakAboveBaseline).toBeLessThan(4 * r.bodyBytes);
  }, 60_000);

  it('a 64 MiB body of one flat list of integers for an int32 input parses within 4x its size', () => {
    const file = path.join(tmp, 'ints.json');
    const fd = fs.openSync(file, 'w');
    let size = fs.writeSync(fd, '{"inputs": [');
    const chunk = Array.from({ length: 10_000 }, (_, i) => String((i * 7919) % 100000)).join(',');
    let n = 0;
    while (size + chunk.length + 3 < BODY_BYTES) {
      size += fs.writeSync(fd, n === 0 ? chunk : `,${chunk}`);
      n++;
    }
    fs.writeSync(fd, ']}');
    fs.closeSync(fd);
    const r = parseInChild(file, 'int32');
    expect(r.shape).toEqual([n * 10_000]);
    expect(r.peakAboveBaseline).toBeLessThan(4 * r.bodyBytes);
  }, 60_000);
});
