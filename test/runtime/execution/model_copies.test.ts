/**
 * Default model copies (--inference_model_copies 0): every worker unless the
 * copies would take more than a quarter of the machine's memory.
 */
import path from 'node:path';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultModelCopies, folderBytes } from '../../../runtime/execution/model_copies.js';

const MB = 1024 ** 2;
const GB = 1024 ** 3;
const F_MNIST = path.resolve(import.meta.dirname, '../../../models/f_mnist/2');

describe('default model copies', () => {
  it('puts a small model in every worker and a large one in as many as fit in a quarter of memory, a copy taking 5x its files', () => {
    expect(defaultModelCopies(400_000, 8, 16 * GB)).toBe(8);
    // 200 MiB of files: ~1000 MiB per loaded copy, 4 in 4 GiB.
    expect(defaultModelCopies(200 * MB, 8, 16 * GB)).toBe(4);
    expect(defaultModelCopies(600 * MB, 8, 16 * GB)).toBe(1);
    expect(defaultModelCopies(3 * GB, 8, 16 * GB)).toBe(1);
    // Larger than the share itself: still one copy (the load then succeeds or fails on its own).
    expect(defaultModelCopies(20 * GB, 8, 16 * GB)).toBe(1);
    // Size unknown (folder unreadable): every worker, as before.
    expect(defaultModelCopies(0, 3, 16 * GB)).toBe(3);
  });

  it("measures a SavedModel's size as the bytes of its files", async () => {
    const files = ['saved_model.pb', 'variables/variables.index', 'variables/variables.data-00000-of-00001'];
    const expected = files.reduce((n, f) => n + fs.statSync(path.join(F_MNIST, f)).size, 0);
    expect(await folderBytes(F_MNIST)).toBe(expected);
    expect(await folderBytes(path.join(F_MNIST, 'no-such-folder'))).toBe(0);
  });
});
