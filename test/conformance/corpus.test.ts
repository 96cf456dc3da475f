/**
 * Every model of the conformance corpus (SavedModels exported by TensorFlow
 * 2.21, tools/conformance/) loads and answers exactly as TensorFlow did.
 * Cases the runtime cannot pass yet are listed in known_gaps.ts with the
 * reason; they are expected to fail, so fixing one makes this suite say so.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { LoadedModel } from '../../runtime/engine.js';
import { tsEngine } from '../../runtime/loader.js';
import { compareTensor, listCorpus, toTensor, type CorpusCase } from './corpus.js';
import { KNOWN_GAPS } from './known_gaps.js';

const cases = listCorpus();
const loaded: LoadedModel[] = [];
afterAll(() => loaded.forEach((m) => m.dispose()));

async function replay(c: CorpusCase): Promise<string[]> {
  const model = await tsEngine.load(c.modelDir);
  loaded.push(model);
  const problems: string[] = [];
  c.runs.forEach((run, i) => {
    const feeds = Object.fromEntries(Object.entries(run.inputs).map(([k, t]) => [k, toTensor(t)]));
    const out = model.run(run.signature, feeds);
    for (const [key, want] of Object.entries(run.outputs)) {
      if (!out[key]) problems.push(`run ${i} (${run.signature}): no output ${key}`);
      else problems.push(...compareTensor(`run ${i} (${run.signature}) ${key}`, out[key], want, c.tolerance === 'spectral').map((p) => p));
    }
  });
  return problems;
}

describe('conformance corpus: TensorFlow 2.21 exports answer as TensorFlow does', () => {
  it('the corpus is present', () => {
    expect(cases.length).toBeGreaterThan(0);
  });
  for (const c of cases) {
    const gap = KNOWN_GAPS[c.id];
    (gap ? it.fails : it)(`${c.id}${gap ? ` (known gap: ${gap})` : ''}`, async () => {
      expect(await replay(c)).toEqual([]);
    });
  }
  it('every known gap names a case of the corpus', () => {
    const ids = new Set(cases.map((c) => c.id));
    expect(Object.keys(KNOWN_GAPS).filter((id) => !ids.has(id))).toEqual([]);
  });
});
