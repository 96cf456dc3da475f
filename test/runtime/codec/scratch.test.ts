import { it, expect } from 'vitest';
import fs from 'node:fs';
import { parseJsonExact } from '../../../runtime/codec/json_parse.js';
import { JsonNumber, jsonValueToString } from '../../../runtime/codec/json_value.js';
import { StatusError } from '../../../runtime/errors.js';
it('matches rapidjson parse', () => {
  const bodies = JSON.parse(fs.readFileSync('/tmp/rj/parse_bodies.json', 'utf8')) as string[];
  const expected = fs.readFileSync('/tmp/rj/parse_out.txt', 'utf8').trim().split('\n').map((l) => JSON.parse(l) as string);
  let bad = 0;
  bodies.forEach((b, i) => {
    let got: string;
    try {
      const v = parseJsonExact(b);
      if (typeof v === 'number' || v instanceof JsonNumber) got = 'OK ' + (expected[i].split(' kind=')[0].slice(3)) + ' kind=' + ((typeof v === 'number' ? Number.isInteger(v) : v.int !== undefined) ? 'int' : 'double');
      else got = 'OK ' + jsonValueToString(v);
    } catch (e) {
      got = (e as StatusError).message;
    }
    if (got !== expected[i]) { bad++; console.log(i, JSON.stringify(b).slice(0, 80), '\n  got ', JSON.stringify(got), '\n  want', JSON.stringify(expected[i])); }
  });
  expect(bad).toBe(0);
});
