/**
 * What changes between the signatures of two versions of a model, and which
 * of those changes break a client written against the first one. Pure: it
 * compares the SignatureRows the registry records (dtype names and shapes,
 * -1 an unknown dimension, null an unknown rank) and knows nothing else.
 *
 *   const diff = diffSignatures(v2.signatures, v3.signatures);   // what changed, both ways
 *   const breaks = breakingChanges(stable.signatures, candidate.signatures);
 *   if (breaks.length > 0) throw failedPrecondition(describeBreakingChanges(breaks));
 *
 * A change breaks callers of the stable version when a request that works
 * against it fails, or its answer is no longer read the same way, against
 * the candidate:
 *  - a signature removed, or its method changed (predict → classify...);
 *  - an input removed or renamed, or added (TF Serving's Predict refuses a
 *    request that does not feed every input: "input size does not match
 *    signature ... Missing but required");
 *  - an input whose dtype changed, or whose shape accepts less than before
 *    (a rank fixed or changed, a dimension fixed or changed);
 *  - an output removed or renamed, or its dtype changed, or its shape
 *    changed incompatibly (rank, or a known dimension changed: 10 classes → 11).
 * Not breaking: signatures or outputs added, shapes relaxed (a fixed
 * dimension becoming -1 on an input), a signature that was unavailable
 * before and can run now.
 */
import type { SignatureRow, TensorDescription } from './store.js';

/** A tensor in both versions whose dtype or shape differ. */
export interface TensorChange {
  name: string;
  before: TensorDescription;
  after: TensorDescription;
  dtypeChanged: boolean;
  shapeChanged: boolean;
}

/** The inputs or the outputs of one signature, compared. */
export interface TensorsDiff {
  added: Record<string, TensorDescription>;
  removed: Record<string, TensorDescription>;
  changed: TensorChange[];
}

/** One signature, compared; `status` "added"/"removed" leaves the tensor lists empty. */
export interface SignatureDiff {
  name: string;
  status: 'added' | 'removed' | 'changed' | 'unchanged';
  /** Set when the method name differs. */
  method?: { before: string; after: string };
  /** Set when whether the signature can run here differs (the reason, or null when it can). */
  unavailable?: { before: string | null; after: string | null };
  inputs: TensorsDiff;
  outputs: TensorsDiff;
}

/** All signatures of two versions compared (from `a` to `b`), by name. */
export interface SignaturesDiff {
  /** Every signature of either version, by name. */
  signatures: SignatureDiff[];
  added: string[];
  removed: string[];
  changed: string[];
  /** Nothing differs. */
  identical: boolean;
}

export type BreakingChangeKind =
  | 'signature_removed'
  | 'method_changed'
  | 'signature_unavailable'
  | 'input_removed'
  | 'input_renamed'
  | 'input_added'
  | 'input_dtype_changed'
  | 'input_shape_changed'
  | 'output_removed'
  | 'output_renamed'
  | 'output_dtype_changed'
  | 'output_shape_changed';

/** One reason a client of the stable version would break on the candidate. */
export interface BreakingChange {
  kind: BreakingChangeKind;
  signature: string;
  /** The input or output concerned (its stable name; for a rename, the old name), when there is one. */
  tensor?: string;
  /** input_renamed / output_renamed: the name in the candidate. */
  renamedTo?: string;
  before?: TensorDescription;
  after?: TensorDescription;
  /** One sentence naming the change, e.g. `signature serving_default: input "x" removed`. */
  message: string;
}

const sameShape = (a: number[] | null, b: number[] | null) => (a === null || b === null ? a === b : a.length === b.length && a.every((d, i) => d === b[i]));

function diffTensors(before: Record<string, TensorDescription>, after: Record<string, TensorDescription>): TensorsDiff {
  const out: TensorsDiff = { added: {}, removed: {}, changed: [] };
  for (const name of Object.keys(before).sort()) {
    const b = after[name];
    if (!Object.hasOwn(after, name)) out.removed[name] = before[name];
    else {
      const a = before[name];
      const dtypeChanged = a.dtype !== b.dtype;
      const shapeChanged = !sameShape(a.shape, b.shape);
      if (dtypeChanged || shapeChanged) out.changed.push({ name, before: a, after: b, dtypeChanged, shapeChanged });
    }
  }
  for (const name of Object.keys(after).sort()) if (!Object.hasOwn(before, name)) out.added[name] = after[name];
  return out;
}

const emptyTensors = (): TensorsDiff => ({ added: {}, removed: {}, changed: [] });
const isEmpty = (t: TensorsDiff) => Object.keys(t.added).length === 0 && Object.keys(t.removed).length === 0 && t.changed.length === 0;

/** Compares the signatures of version `a` with those of version `b` (what changed going from a to b). */
export function diffSignatures(a: readonly SignatureRow[], b: readonly SignatureRow[]): SignaturesDiff {
  const before = new Map(a.map((s) => [s.name, s]));
  const after = new Map(b.map((s) => [s.name, s]));
  const names = [...new Set([...before.keys(), ...after.keys()])].sort();
  const signatures: SignatureDiff[] = names.map((name) => {
    const x = before.get(name);
    const y = after.get(name);
    if (!x) return { name, status: 'added', inputs: emptyTensors(), outputs: emptyTensors() };
    if (!y) return { name, status: 'removed', inputs: emptyTensors(), outputs: emptyTensors() };
    const d: SignatureDiff = { name, status: 'unchanged', inputs: diffTensors(x.inputs, y.inputs), outputs: diffTensors(x.outputs, y.outputs) };
    if (x.method !== y.method) d.method = { before: x.method, after: y.method };
    if (x.unavailable !== y.unavailable) d.unavailable = { before: x.unavailable, after: y.unavailable };
    if (d.method || d.unavailable || !isEmpty(d.inputs) || !isEmpty(d.outputs)) d.status = 'changed';
    return d;
  });
  const having = (status: SignatureDiff['status']) => signatures.filter((s) => s.status === status).map((s) => s.name);
  const added = having('added');
  const removed = having('removed');
  const changed = having('changed');
  return { signatures, added, removed, changed, identical: added.length + removed.length + changed.length === 0 };
}

export function describeShape(shape: number[] | null): string {
  return shape === null ? 'unknown rank' : `[${shape.join(', ')}]`;
}

export function describeTensorDescription(t: TensorDescription): string {
  return `${t.dtype} ${describeShape(t.shape)}`;
}

/** Whether every shape `stable` accepts is accepted by `candidate` (an input may relax, never narrow). */
function acceptsAll(stable: number[] | null, candidate: number[] | null): boolean {
  if (candidate === null) return true;
  if (stable === null || stable.length !== candidate.length) return false;
  return candidate.every((d, i) => d === -1 || d === stable[i]);
}

/** Whether callers reading an output of shape `stable` still read `candidate` the same way (rank kept, no known dimension changed). */
function readsAlike(stable: number[] | null, candidate: number[] | null): boolean {
  if (stable === null || candidate === null) return true;
  if (stable.length !== candidate.length) return false;
  return stable.every((d, i) => d === -1 || candidate[i] === -1 || d === candidate[i]);
}

/** A removed and an added tensor of the same dtype and shape, when they are the only ones: a rename. */
function renameOf(t: TensorsDiff): { from: string; to: string } | undefined {
  const removed = Object.keys(t.removed);
  const added = Object.keys(t.added);
  if (removed.length !== 1 || added.length !== 1) return undefined;
  const [from, to] = [removed[0], added[0]];
  const r = t.removed[from];
  const a = t.added[to];
  return r.dtype === a.dtype && sameShape(r.shape, a.shape) ? { from, to } : undefined;
}

/**
 * What would break callers of `stable`'s signatures if `candidate` answered
 * them instead; empty when nothing would. In signature order, then inputs
 * before outputs.
 */
export function breakingChanges(stable: readonly SignatureRow[], candidate: readonly SignatureRow[]): BreakingChange[] {
  const out: BreakingChange[] = [];
  const diff = diffSignatures(stable, candidate);
  for (const s of diff.signatures) {
    const sig = `signature ${s.name}`;
    if (s.status === 'removed') {
      out.push({ kind: 'signature_removed', signature: s.name, message: `${sig} removed` });
      continue;
    }
    if (s.status !== 'changed') continue;
    if (s.method) {
      out.push({ kind: 'method_changed', signature: s.name, message: `${sig}: method changed from ${s.method.before} to ${s.method.after}` });
    }
    if (s.unavailable && s.unavailable.before === null && s.unavailable.after !== null) {
      out.push({ kind: 'signature_unavailable', signature: s.name, message: `${sig} cannot run on this server in the candidate: ${s.unavailable.after}` });
    }
    for (const side of ['input', 'output'] as const) {
      const t = side === 'input' ? s.inputs : s.outputs;
      const rename = renameOf(t);
      if (rename) {
        out.push({
          kind: `${side}_renamed`,
          signature: s.name,
          tensor: rename.from,
          renamedTo: rename.to,
          before: t.removed[rename.from],
          after: t.added[rename.to],
          message: `${sig}: ${side} "${rename.from}" renamed to "${rename.to}"`,
        });
      } else {
        for (const [name, before] of Object.entries(t.removed)) {
          out.push({ kind: `${side}_removed`, signature: s.name, tensor: name, before, message: `${sig}: ${side} "${name}" removed` });
        }
        if (side === 'input') {
          for (const [name, after] of Object.entries(t.added)) {
            out.push({
              kind: 'input_added',
              signature: s.name,
              tensor: name,
              after,
              message: `${sig}: input "${name}" (${describeTensorDescription(after)}) added, which requests to the stable version do not send`,
            });
          }
        }
      }
      for (const c of t.changed) {
        const what = `${sig}: ${side} "${c.name}"`;
        if (c.dtypeChanged) {
          out.push({
            kind: `${side}_dtype_changed`,
            signature: s.name,
            tensor: c.name,
            before: c.before,
            after: c.after,
            message: `${what} dtype changed from ${c.before.dtype} to ${c.after.dtype}`,
          });
        }
        const compatible = side === 'input' ? acceptsAll(c.before.shape, c.after.shape) : readsAlike(c.before.shape, c.after.shape);
        if (c.shapeChanged && !compatible) {
          out.push({
            kind: `${side}_shape_changed`,
            signature: s.name,
            tensor: c.name,
            before: c.before,
            after: c.after,
            message: `${what} shape changed from ${describeShape(c.before.shape)} to ${describeShape(c.after.shape)}`,
          });
        }
      }
    }
  }
  return out;
}

/** The breaking changes as one sentence, for an error message (at most `max` named, then how many more). */
export function describeBreakingChanges(changes: readonly BreakingChange[], max = 5): string {
  if (changes.length === 0) return 'no breaking change';
  const named = changes.slice(0, max).map((c) => c.message);
  const more = changes.length > max ? `; and ${changes.length - max} more` : '';
  return `${named.join('; ')}${more}`;
}
