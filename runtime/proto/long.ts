/**
 * 64-bit protobuf integers as protobufjs hands them out (Long objects, or
 * plain numbers for small values) ⇄ exact bigint / safe JS numbers.
 */
import { invalidArgument } from '../errors.js';

/** What protobufjs may give (decode) or accept (encode) for an int64/uint64 field. */
export type Int64Like = number | string | bigint | { low: number; high: number; unsigned?: boolean };

/** Exact value; `unsigned` reads the 64 bits as uint64. */
export function int64ToBigInt(v: Int64Like | null | undefined, unsigned = false): bigint {
  if (v === null || v === undefined) return 0n;
  if (typeof v === 'bigint') return unsigned ? BigInt.asUintN(64, v) : BigInt.asIntN(64, v);
  if (typeof v === 'number') return unsigned ? BigInt.asUintN(64, BigInt(Math.trunc(v))) : BigInt(Math.trunc(v));
  if (typeof v === 'string') return unsigned ? BigInt.asUintN(64, BigInt(v)) : BigInt.asIntN(64, BigInt(v));
  const bits = (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
  return unsigned ? bits : BigInt.asIntN(64, bits);
}

/** As a JS number; values beyond ±2^53 are an INVALID_ARGUMENT naming `what`. */
export function int64ToNumber(v: Int64Like | null | undefined, what = 'int64 value', unsigned = false): number {
  if (typeof v === 'number') return v;
  const b = int64ToBigInt(v, unsigned);
  if (b > BigInt(Number.MAX_SAFE_INTEGER) || b < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw invalidArgument(`${what} ${b} does not fit in a JS number exactly`);
  }
  return Number(b);
}

/** A protobufjs-writable form of a 64-bit integer (two's complement low/high words). */
export function bigIntToInt64(v: bigint | number, unsigned = false): { low: number; high: number; unsigned: boolean } {
  const b = BigInt.asUintN(64, typeof v === 'bigint' ? v : BigInt(Math.trunc(v)));
  return { low: Number(b & 0xffffffffn) | 0, high: Number(b >> 32n) | 0, unsigned };
}
