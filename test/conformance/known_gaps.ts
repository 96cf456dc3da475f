/**
 * Corpus cases the runtime does not pass yet, with why. The corpus test
 * expects each of these to fail; remove the entry when its case passes.
 */
export const KNOWN_GAPS: Record<string, string> = {
  'vision/keras_random_layers_inference':
    'Keras 3 RandomRotation/RandomTranslation/RandomZoom draw their parameters even at inference: StatelessRandomGetKeyCounter and StatelessRandomUniformV2 (Philox) have no kernel yet',
};
