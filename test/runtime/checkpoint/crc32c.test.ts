import { crc32c as awsCrc32c } from '@aws-crypto/crc32c';
import { describe, expect, it } from 'vitest';
import { crc32c, crc32cExtend, maskCrc, unmaskCrc } from '../../../runtime/checkpoint/crc32c.js';

describe('crc32c', () => {
  it('gives the standard check value and agrees with @aws-crypto/crc32c', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
    let seed = 1;
    for (const n of [1, 7, 8, 9, 63, 64, 1000, 4099]) {
      const data = new Uint8Array(n).map(() => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);
      expect(crc32c(data), `length ${n}`).toBe(awsCrc32c(data) >>> 0);
      // Extending piecewise equals one pass.
      const cut = Math.floor(n / 3);
      expect(crc32cExtend(crc32c(data.subarray(0, cut)), data.subarray(cut))).toBe(crc32c(data));
    }
  });

  it('masks and unmasks like TensorFlow', () => {
    // crc32c::Mask(0) = 0xa282ead8; masking changes the value and is reversible.
    expect(maskCrc(0)).toBe(0xa282ead8);
    for (const v of [0, 1, 0xe3069283, 0xffffffff, 0x80000000]) {
      expect(unmaskCrc(maskCrc(v))).toBe(v);
      expect(maskCrc(v)).not.toBe(v);
    }
  });
});
