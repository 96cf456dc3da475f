import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LookupTable } from '../../../runtime/kernels/lookup/lookup_table.js';
import { readTextFileEntries } from '../../../runtime/kernels/lookup/text_file.js';
import { Tensor } from '../../../runtime/tensor.js';
import { ModelResources } from '../../../runtime/variables.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lookup-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const strings = (...s: string[]) => Tensor.from('string', [s.length], s);
const int64s = (...n: number[]) => Tensor.from('int64', [n.length], n);

describe('lookup tables', () => {
  it('a static table is initialised once; the same data again is fine, other data is refused as in TF', () => {
    const t = new LookupTable('HashTable', 'string', 'int64');
    expect(() => t.find(strings('a'), Tensor.scalar('int64', -1))).toThrow('Table not initialized.');
    t.initialize(strings('a', 'b'), int64s(1, 2));
    t.initialize(strings('b', 'a'), int64s(2, 1));
    expect(() => t.initialize(strings('a'), int64s(5))).toThrow('Table was already initialized with different data.');
    expect(Array.from(t.find(strings('b', 'zz'), Tensor.scalar('int64', -1)).values() as BigInt64Array)).toEqual([2n, -1n]);
  });

  it('refuses keys of the wrong dtype and conflicting duplicates with TF wording', () => {
    const t = new LookupTable('HashTable', 'string', 'int64');
    expect(() => t.initialize(strings('a', 'a'), int64s(1, 2))).toThrow('HashTable has different value for same key. Key a has 1 and trying to add value 2');
    t.initialize(strings('a'), int64s(1));
    expect(() => t.find(int64s(1), Tensor.scalar('int64', 0))).toThrow('Key must be type string but got int64');
    expect(() => t.insert(strings('b'), int64s(2))).toThrow(/Insert not supported/);
  });

  it('string keys are bytes: non-UTF-8 keys stay distinct', () => {
    const t = new LookupTable('MutableHashTable', 'string', 'int64');
    const k = Tensor.from('string', [2], [new Uint8Array([0xff]), new Uint8Array([0xfe])]);
    t.insert(k, int64s(1, 2));
    expect(t.size()).toBe(2);
    const [keys] = t.export();
    expect((keys.values() as Uint8Array[]).map((b) => Array.from(b))).toEqual([[0xff], [0xfe]]);
  });
});

describe('vocabulary files', () => {
  const spec = { file: 'v.txt', keyIndex: -2, valueIndex: -1, vocabSize: -1, delimiter: '\t', offset: 0, keyDtype: 'string' as const, valueDtype: 'int64' as const };

  it('reads lines as TF does (CRLF, no trailing empty line), and refuses an empty line in the middle', () => {
    expect(readTextFileEntries(Buffer.from('a\r\nb\n'), spec)).toEqual({ keys: ['a', 'b'], values: [0n, 1n] });
    expect(() => readTextFileEntries(Buffer.from('a\n\nb\n'), spec)).toThrow('Invalid content in v.txt: empty line found at position 3.');
  });

  it('vocab_size truncates, and more than the file holds is an error', () => {
    expect(readTextFileEntries(Buffer.from('a\nb\nc\n'), { ...spec, vocabSize: 2 }).keys).toEqual(['a', 'b']);
    expect(() => readTextFileEntries(Buffer.from('a\n'), { ...spec, vocabSize: 3 })).toThrow('Invalid vocab_size in v.txt: expected 3 but got 1');
  });

  it('columns are parsed into the table dtypes, bad numbers named', () => {
    const cols = { ...spec, keyIndex: 0, valueIndex: 1, keyDtype: 'int64' as const, valueDtype: 'float32' as const };
    expect(readTextFileEntries(Buffer.from('1\t0.5\n2\t-inf\n'), cols)).toEqual({ keys: [1n, 2n], values: [0.5, -Infinity] });
    expect(() => readTextFileEntries(Buffer.from('x\t1\n'), cols)).toThrow('Field x in line 0 is not a valid int64.');
    expect(() => readTextFileEntries(Buffer.from('1\n'), cols)).toThrow('Invalid number of columns in v.txt line 0 (1) : expected at least 2 got 1');
  });

  it('a model may read files inside its folder only (no .., no absolute path, no link out)', () => {
    const model = path.join(tmp, 'model');
    fs.mkdirSync(path.join(model, 'assets'), { recursive: true });
    fs.writeFileSync(path.join(model, 'assets', 'vocab.txt'), 'a\n');
    fs.writeFileSync(path.join(tmp, 'secret.txt'), 'secret\n');
    fs.symlinkSync(path.join(tmp, 'secret.txt'), path.join(model, 'assets', 'link.txt'));
    const r = new ModelResources(model);
    expect(r.readModelFile(path.join(model, 'assets', 'vocab.txt')).toString()).toBe('a\n');
    expect(() => r.readModelFile(path.join(model, '..', 'secret.txt'))).toThrow(/outside the SavedModel folder/);
    expect(() => r.readModelFile(path.join(tmp, 'secret.txt'))).toThrow(/outside the SavedModel folder/);
    expect(() => r.readModelFile(path.join(model, 'assets', 'link.txt'))).toThrow(/outside the SavedModel folder/);
    expect(() => r.readModelFile('/etc/passwd')).toThrow(/outside the SavedModel folder/);
    expect(() => r.readModelFile(path.join(model, 'assets', 'none.txt'))).toThrow(/No such file/);
  });
});
