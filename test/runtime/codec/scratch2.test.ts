import { it, expect } from 'vitest';
import fs from 'node:fs';
import { formatShortestDouble } from '../../../runtime/codec/number_format.js';
it('matches rapidjson dtoa', () => {
  const vals = JSON.parse(fs.readFileSync('/tmp/rj/dtoa_vals.json', 'utf8')) as string[];
  const expected = fs.readFileSync('/tmp/rj/dtoa_out.txt', 'utf8').trim().split('\n').map((l) => JSON.parse(l) as string);
  let bad = 0;
  vals.forEach((v, i) => {
    const got = formatShortestDouble(Number(v));
    if (got !== expected[i]) { bad++; if (bad < 10) console.log(v, got, expected[i]); }
  });
  console.log('checked', vals.length);
  expect(bad).toBe(0);
});
