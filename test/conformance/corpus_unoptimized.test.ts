/**
 * The conformance corpus again with every load-time graph optimisation off
 * (graph/optimize/options.ts): the passes change no answer, so both this
 * suite and corpus.test.ts match TensorFlow's expected outputs.
 */
import { describeCorpus } from './replay.js';

describeCorpus('conformance corpus, graph optimisations off: answers as TensorFlow does', { graphOptimizations: new Set() });
