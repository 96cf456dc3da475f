/**
 * The corpus suite, shared by corpus.test.ts (graph optimisations as
 * configured: all by default) and corpus_unoptimized.test.ts (none): every
 * model loads and answers exactly as TensorFlow did, with or without the passes.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { LoadedModel, LoadOptions } from '../../runtime/engine.js';
import { tsEngine } from '../../runtime/loader.js';
import { compareTensor, listCorpus, toTensor, type CorpusCase } from './corpus.js';
import { KNOWN_GAPS } from './known_gaps.js';

async function replay(c: CorpusCase, options: LoadOptions, loaded: LoadedModel[]): Promise<string[]> {
  const model = await tsEngine.load(c.modelDir, options);
  loaded.push(model);
  const problems: string[] = [];
  c.runs.forEach((run, i) => {
    const feeds = Object.fromEntries(Object.entries(run.inputs).map(([k, t]) => [k, toTensor(t)]));
    const out = model.run(run.signature, feeds);
    for (const [key, want] of Object.entries(run.outputs)) {
      if (!out[key]) problems.push(`run ${i} (${run.signature}): no output ${key}`);
      else problems.push(...compareTensor(`run ${i} (${run.signature}) ${key}`, out[key], want, c.tolerance === 'spectral'));
    }
  });
  return problems;
}

export function describeCorpus(title: string, options: LoadOptions = {}): void {
  const cases = listCorpus();
  const loaded: LoadedModel[] = [];
  afterAll(() => loaded.forEach((m) => m.dispose()));
  describe(title, () => {
    it('the corpus is present', () => {
      expect(cases.length).toBeGreaterThan(0);
    });
    for (const c of cases) {
      const gap = KNOWN_GAPS[c.id];
      (gap ? it.fails : it)(`${c.id}${gap ? ` (known gap: ${gap})` : ''}`, async () => {
        expect(await replay(c, options, loaded)).toEqual([]);
      });
    }
    it('every known gap names a case of the corpus', () => {
      const ids = new Set(cases.map((c) => c.id));
      expect(Object.keys(KNOWN_GAPS).filter((id) => !ids.has(id))).toEqual([]);
    });
  });
}
