import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FRAME_OPS } from '../../../runtime/graph/tf1_while.js';
import { opFamilies, opsMarkdown } from '../../../scripts/ops_doc.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');

describe('docs/OPS.md', () => {
  it('lists exactly the ops the kernel registry holds, by family (regenerate with npm run docs:ops)', async () => {
    const expected = opsMarkdown(await opFamilies(), [...FRAME_OPS].sort());
    expect(fs.readFileSync(path.join(ROOT, 'docs/OPS.md'), 'utf8')).toBe(expected);
  });
});
