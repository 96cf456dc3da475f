import { it, expect } from 'vitest';
import fs from 'node:fs';
import { formatDecimal } from '../../../runtime/codec/number_format.js';
it('matches python', () => {
  const cases = JSON.parse(fs.readFileSync('/tmp/wd_cases.json', 'utf8')) as [string, string, string, string][];
  let bad = 0;
  for (const [v, f, d, fv] of cases) {
    const x = Number(v);
    const xf = Math.fround(x);
    if (Number.isFinite(xf) && String(Number(fv)) !== String(xf)) { console.log('f32 mismatch', v, fv, xf); }
    if (Number.isFinite(xf)) { const got = formatDecimal(xf, 'float'); if (got !== f) { bad++; if (bad < 20) console.log('float', v, got, f); } }
    if (Number.isFinite(x)) { const got = formatDecimal(x, 'double'); if (got !== d) { bad++; if (bad < 20) console.log('double', v, got, d); } }
  }
  expect(bad).toBe(0);
});
