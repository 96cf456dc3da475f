/**
 * Shared by the fuzz suites (issue 13, "Soak and fuzz"): generators of
 * malformed inputs and the one acceptance rule. Every generated input must
 * end in a result or a StatusError of an allowed code: never another
 * exception type (a TypeError, a RangeError from a stack overflow or an
 * allocation), a crash or a hang (each suite runs under vitest's timeout).
 */
import fc from 'fast-check';
import { StatusError, type StatusCode } from '../../runtime/errors.js';

/** Runs `f`; returns the StatusError it threw (or undefined); rethrows anything else with the input named. */
export function expectStatusOrResult<T>(f: () => T, allowed: readonly StatusCode[], input: () => string): T | StatusError {
  try {
    return f();
  } catch (e) {
    if (e instanceof StatusError && allowed.includes(e.code)) return e;
    const what = e instanceof StatusError ? `StatusError ${e.code}` : e instanceof Error ? `${e.constructor.name}` : typeof e;
    throw new Error(`${what} (${e instanceof Error ? e.message.slice(0, 300) : String(e)}) for input ${input().slice(0, 400)}`);
  }
}

export async function expectStatusOrResultAsync<T>(f: () => Promise<T>, allowed: readonly StatusCode[], input: () => string): Promise<T | StatusError> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof StatusError && allowed.includes(e.code)) return e;
    const what = e instanceof StatusError ? `StatusError ${e.code}` : e instanceof Error ? `${e.constructor.name}` : typeof e;
    throw new Error(`${what} (${e instanceof Error ? e.message.slice(0, 300) : String(e)}) for input ${input().slice(0, 400)}`);
  }
}

/** Mutations of a byte string: flip bytes, insert, delete, duplicate or truncate ranges (1 to 8 of them). */
export function mutatedBytes(seed: Uint8Array): fc.Arbitrary<Uint8Array> {
  const edit = fc.oneof(
    fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }),
    fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 256 }) }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('max' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 4 }) }),
  );
  return fc.array(edit, { minLength: 1, maxLength: 8 }).map((edits) => {
    let b = Buffer.from(seed);
    for (const e of edits) {
      const at = b.length === 0 ? 0 : e.at % b.length;
      switch (e.kind) {
        case 'set':
          if (b.length > 0) b[at] = e.value;
          break;
        case 'insert':
          b = Buffer.concat([b.subarray(0, at), e.bytes, b.subarray(at)]);
          break;
        case 'delete':
          b = Buffer.concat([b.subarray(0, at), b.subarray(at + e.length)]);
          break;
        case 'duplicate':
          b = Buffer.concat([b.subarray(0, at + e.length), b.subarray(at)]);
          break;
        case 'truncate':
          b = b.subarray(0, at);
          break;
        case 'max':
          b.fill(0xff, at, Math.min(b.length, at + e.length));
          break;
      }
    }
    return new Uint8Array(b);
  });
}

/** Mutations of a text: the byte mutations above, read back as UTF-8. */
export function mutatedText(seed: string): fc.Arbitrary<string> {
  return mutatedBytes(Buffer.from(seed, 'utf8')).map((b) => Buffer.from(b).toString('utf8'));
}
