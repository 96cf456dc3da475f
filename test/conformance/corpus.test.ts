/**
 * Every model of the conformance corpus (SavedModels exported by TensorFlow
 * 2.21, tools/conformance/) loads and answers exactly as TensorFlow did, with
 * the load-time graph optimisations on (the default).
 * Cases the runtime cannot pass yet are listed in known_gaps.ts with the
 * reason; they are expected to fail, so fixing one makes this suite say so.
 */
import { describeCorpus } from './replay.js';

describeCorpus('conformance corpus: TensorFlow 2.21 exports answer as TensorFlow does');
