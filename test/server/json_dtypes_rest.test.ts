/**
 * Issue 15: REST inputs whose JSON type differs from the signature dtype,
 * over HTTP in both request formats, as TF Serving's json_tensor.cc
 * (AddValueToTensor) treats them: float/double take any JSON number
 * (integers included); int8/16/32 and uint8 take integer tokens in int32
 * range and keep their low bits (Tensor::FromProto's cast); int64, uint32,
 * uint64 take integer tokens in range; bool only true/false; string only
 * strings or {"b64": ...}. Anything else is INVALID_ARGUMENT "JSON Value: <v>
 * Type: <JSON type> is not of expected type: <dtype>"; a dtype JSON cannot
 * fill (half) is UNIMPLEMENTED. In the row format the error is wrapped in
 * "Failed to process element: <i> of 'instances' list. Error: <CODE>: ...".
 * The model echoes its input, so the answer shows the tensor that was built.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../serving/log.js';
import { startServer, type RunningServer } from '../../server/serve.js';
import { writeDtypesModel } from '../helpers/dtypes_model.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'json-dtypes-test-'));
let server: RunningServer;

beforeAll(async () => {
  await writeDtypesModel(path.join(tmp, 'echo', '1'));
  server = await startServer({
    models: { kind: 'single', name: 'echo', basePath: path.join(tmp, 'echo') },
    restApiPort: 0,
    restApiHost: '127.0.0.1',
    execution: { threads: 0 },
    log: silentLogger,
  });
}, 30_000);

afterAll(async () => {
  await server?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** POSTs `body` as written (so tokens such as 1.0 reach the server unchanged). */
async function predict(body: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${server.url}/v1/models/echo:predict`, { method: 'POST', body });
  return { status: res.status, text: await res.text() };
}

const row = (dtype: string, values: string) => predict(`{"signature_name": "${dtype}", "instances": ${values}}`);
const columnar = (dtype: string, values: string) => predict(`{"signature_name": "${dtype}", "inputs": ${values}}`);

describe('JSON values converted to the signature dtype (accepted, as TF Serving)', () => {
  it.each([
    ['float32', '[1, -2, 0, 2.5]', [1, -2, 0, 2.5]],
    ['float32', '[16777217, 1e40, -1e-50]', [16777216, Infinity, -0]],
    ['float64', '[3, 0.1, -7]', [3, 0.1, -7]],
    ['int32', '[2147483647, -2147483648, -0]', [2147483647, -2147483648, 0]],
    // Narrow integer types keep the low bits of an int32-range integer (static_cast in Tensor::FromProto).
    ['int8', '[300, -129, 127]', [44, 127, 127]],
    ['int16', '[40000, -1]', [-25536, -1]],
    ['uint8', '[-1, 256, 255]', [255, 0, 255]],
    ['uint32', '[0, 4294967295]', [0, 4294967295]],
    ['bool', '[true, false]', [true, false]],
    ['string', '["abc", {"b64": "aGk="}]', ['abc', 'hi']],
  ])('%s takes %s', async (dtype, values, expected) => {
    const r = await row(dtype, values);
    expect(r.status, r.text).toBe(200);
    const c = await columnar(dtype, values);
    expect(c.status, c.text).toBe(200);
    const parse = (text: string) => JSON.parse(text.replace(/-?Infinity/g, (m) => `"${m}"`), (_k, v) => (v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v));
    expect(parse(r.text).predictions).toEqual(expected);
    expect(parse(c.text).outputs).toEqual(expected);
  });

  it('keeps int64 and uint64 integers exact beyond 2^53', async () => {
    const r = await row('int64', '[9007199254740993, -9223372036854775808]');
    expect(r.status, r.text).toBe(200);
    expect(r.text.replace(/\s/g, '')).toContain('[9007199254740993,-9223372036854775808]');
    const c = await columnar('uint64', '[18446744073709551615]');
    expect(c.status, c.text).toBe(200);
    expect(c.text.replace(/\s/g, '')).toContain('[18446744073709551615]');
  });
});

describe('JSON values TF Serving refuses for the signature dtype', () => {
  // [dtype, values, index of the first bad element, TF Serving's text for it]
  const cases: [string, string, number, string][] = [
    ['float32', '[1, "1.5"]', 1, 'JSON Value: "1.5" Type: String is not of expected type: float'],
    ['float32', '[true]', 0, 'JSON Value: true Type: True is not of expected type: float'],
    ['float32', '[0, null]', 1, 'JSON Value: null Type: Null is not of expected type: float'],
    ['float64', '[false]', 0, 'JSON Value: false Type: False is not of expected type: double'],
    ['int32', '[1.0]', 0, 'JSON Value: 1.0 Type: Number is not of expected type: int32'],
    ['int32', '[2, 2.5]', 1, 'JSON Value: 2.5 Type: Number is not of expected type: int32'],
    ['int32', '["3"]', 0, 'JSON Value: "3" Type: String is not of expected type: int32'],
    ['int32', '[2147483648]', 0, 'JSON Value: 2147483648 Type: Number is not of expected type: int32'],
    ['int8', '[true]', 0, 'JSON Value: true Type: True is not of expected type: int8'],
    ['uint8', '[4294967295]', 0, 'JSON Value: 4294967295 Type: Number is not of expected type: uint8'],
    ['int64', '[9223372036854775808]', 0, 'JSON Value: 9223372036854775808 Type: Number is not of expected type: int64'],
    ['int64', '[0.5]', 0, 'JSON Value: 0.5 Type: Number is not of expected type: int64'],
    ['uint32', '[-1]', 0, 'JSON Value: -1 Type: Number is not of expected type: uint32'],
    ['uint64', '[1, -1]', 1, 'JSON Value: -1 Type: Number is not of expected type: uint64'],
    ['bool', '[1]', 0, 'JSON Value: 1 Type: Number is not of expected type: bool'],
    ['bool', '["true"]', 0, 'JSON Value: "true" Type: String is not of expected type: bool'],
    ['string', '[5]', 0, 'JSON Value: 5 Type: Number is not of expected type: string'],
    ['string', '["a", false]', 1, 'JSON Value: false Type: False is not of expected type: string'],
  ];

  it.each(cases)('%s refuses %s', async (dtype, values, index, message) => {
    const c = await columnar(dtype, values);
    expect(c.status).toBe(400);
    expect(JSON.parse(c.text)).toEqual({ error: message });
    const r = await row(dtype, values);
    expect(r.status).toBe(400);
    expect(JSON.parse(r.text)).toEqual({ error: `Failed to process element: ${index} of 'instances' list. Error: INVALID_ARGUMENT: ${message}` });
  });

  it('refuses a half input as UNIMPLEMENTED: TF Serving reads no JSON into half tensors', async () => {
    const c = await columnar('float16', '[1.5]');
    expect(c.status).toBe(501);
    expect(JSON.parse(c.text)).toEqual({ error: 'Conversion of JSON Value: 1.5 to type: half' });
    // The row format wraps every element error as INVALID_ARGUMENT.
    const r = await row('float16', '[1.5]');
    expect(r.status).toBe(400);
    expect(JSON.parse(r.text)).toEqual({ error: "Failed to process element: 0 of 'instances' list. Error: UNIMPLEMENTED: Conversion of JSON Value: 1.5 to type: half" });
  });

  it('keeps serving after the refusals', async () => {
    const r = await row('float32', '[1.5]');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toEqual({ predictions: [1.5] });
  });
});
