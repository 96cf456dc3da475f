/**
 * Would a candidate version break callers of the stable one? Compares the
 * signatures the registry stored for both (registry/store.ts SignatureRow)
 * and lists every change a caller written against the stable version would
 * trip over: a signature gone, an input removed, added (a rename is both:
 * callers do not send it) or of another dtype, an output removed or of
 * another dtype. Shape changes and added outputs are not breaking here.
 *
 * `breakingSignatureChanges` is what the rollout check calls; the signature
 * diff of version metadata (GET .../versions/{a}/diff/{b}) may replace it
 * once it lands, as long as it returns the same list of sentences.
 */
import type { SignatureRow, TensorDescription } from '../store.js';

export function breakingSignatureChanges(stable: readonly SignatureRow[], candidate: readonly SignatureRow[]): string[] {
  const out: string[] = [];
  const byName = new Map(candidate.map((s) => [s.name, s]));
  for (const s of stable) {
    if (s.unavailable) continue; // callers cannot be using it
    const c = byName.get(s.name);
    if (!c) {
      out.push(`signature ${s.name} removed`);
      continue;
    }
    if (c.unavailable) out.push(`signature ${s.name} cannot run in the candidate (${c.unavailable})`);
    compareTensors(out, s.name, 'input', s.inputs, c.inputs, true);
    compareTensors(out, s.name, 'output', s.outputs, c.outputs, false);
  }
  return out;
}

function compareTensors(
  out: string[],
  signature: string,
  what: 'input' | 'output',
  before: Record<string, TensorDescription>,
  after: Record<string, TensorDescription>,
  addedBreaks: boolean,
): void {
  for (const [name, t] of Object.entries(before)) {
    const now = after[name];
    if (!now) out.push(`${what} ${name} of signature ${signature} removed`);
    else if (now.dtype !== t.dtype) out.push(`${what} ${name} of signature ${signature} changed dtype from ${t.dtype} to ${now.dtype}`);
  }
  if (!addedBreaks) return;
  for (const name of Object.keys(after)) if (!(name in before)) out.push(`${what} ${name} of signature ${signature} added (callers do not send it)`);
}
