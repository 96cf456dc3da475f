// Shared by the server tests: fixture paths and waiting for a condition.
import fs from 'node:fs';
import path from 'node:path';

export const FIXTURES = path.resolve(import.meta.dirname, '../../../shared/fixtures/tf-serving');

/** Resolves with fn()'s first truthy result; fails after `timeoutMs` with `what`. */
export async function waitFor<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 20_000, intervalMs = 25): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Makes a copied tree writable (the fixtures are read-only, and copies keep their modes). */
export function makeWritable(p: string): void {
  const st = fs.statSync(p);
  fs.chmodSync(p, st.isDirectory() ? 0o755 : 0o644);
  if (st.isDirectory()) for (const child of fs.readdirSync(p)) makeWritable(path.join(p, child));
}

/** Copies a fixture version folder (recursively) to `dest`, writable. */
export function copyVersion(fixtureVersionDir: string, dest: string): void {
  fs.cpSync(path.join(FIXTURES, fixtureVersionDir), dest, { recursive: true });
  makeWritable(dest);
}
