/**
 * Corpus cases the runtime does not pass yet, with why. The corpus test
 * expects each of these to fail; remove the entry when its case passes.
 */
export const KNOWN_GAPS: Record<string, string> = {};
