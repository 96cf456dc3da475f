/**
 * Names the registry accepts for models it creates (uploads) and for labels:
 * 1 to 128 of [A-Za-z0-9_.-], and not "." or ".." (a model name becomes a
 * folder under --models_dir, a label a URL path segment).
 */
import { invalidArgument } from '../runtime/errors.js';

const NAME = /^[A-Za-z0-9_.-]{1,128}$/;

export function isValidName(name: string): boolean {
  return NAME.test(name) && name !== '.' && name !== '..';
}

export function checkModelName(name: string): void {
  if (!isValidName(name)) {
    throw invalidArgument(`Invalid model name ${JSON.stringify(name)}: use 1 to 128 letters, digits, '_', '.' or '-' (not "." or "..").`);
  }
}

export function checkLabelName(label: string): void {
  if (!isValidName(label)) {
    throw invalidArgument(`Invalid label ${JSON.stringify(label)}: use 1 to 128 letters, digits, '_', '.' or '-' (not "." or "..").`);
  }
}

/** A version number given by a user: a non-negative integer (as a number or a string of digits). */
export function parseVersionNumber(value: unknown, what = 'version'): number {
  const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value.trim()) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw invalidArgument(`${what} must be a non-negative integer, got ${JSON.stringify(value) ?? 'nothing'}.`);
  }
  return n;
}
