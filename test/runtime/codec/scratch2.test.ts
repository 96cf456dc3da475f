import { it, expect } from 'vitest';
import fs from 'node:fs';
import { formatPredictResponse } from '../../../runtime/codec/predict_response.js';
import { Tensor } from '../../../runtime/tensor.js';
it('matches rapidjson writer', () => {
  const specs = JSON.parse(fs.readFileSync('/tmp/rj/writer_specs.json', 'utf8')) as Record<string, [number[], (number | string)[]]>[];
  const rows = fs.readFileSync('/tmp/rj/row_out.txt', 'utf8').trim().split('\n').map((l) => JSON.parse(l) as string);
  const cols = fs.readFileSync('/tmp/rj/col_out.txt', 'utf8').trim().split('\n').map((l) => JSON.parse(l) as string);
  let bad = 0;
  specs.forEach((sp, i) => {
    const outputs: Record<string, Tensor> = {};
    for (const [n, [shape, flat]] of Object.entries(sp)) outputs[n] = Tensor.from(typeof flat[0] === 'string' || n.startsWith('b') || n === 'c' || n === 's' ? 'string' : 'int32', shape, flat);
    const r = formatPredictResponse(outputs, 'row');
    const c = formatPredictResponse(outputs, 'columnar');
    if (r !== rows[i]) { bad++; console.log('row', i, JSON.stringify(r), '\n', JSON.stringify(rows[i])); }
    if (c !== cols[i]) { bad++; console.log('col', i, JSON.stringify(c), '\n', JSON.stringify(cols[i])); }
  });
  expect(bad).toBe(0);
});
