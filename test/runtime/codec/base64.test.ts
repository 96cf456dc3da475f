// {"b64": ...} values are standard base64 read as absl::Base64Unescape does.
import { describe, expect, it } from 'vitest';
import { base64Decode, base64Encode } from '../../../runtime/codec/base64.js';

const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : Buffer.from(b).toString('latin1'));

describe('base64Decode (absl::Base64Unescape)', () => {
  it('decodes padded and unpadded standard base64', () => {
    expect(text(base64Decode('aGVsbG8='))).toBe('hello');
    expect(text(base64Decode('aGVsbG8'))).toBe('hello');
    expect(text(base64Decode('c2VydmluZw=='))).toBe('serving');
    expect(text(base64Decode('c2VydmluZw'))).toBe('serving');
    expect(text(base64Decode(''))).toBe('');
    expect(Array.from(base64Decode('+/8=')!)).toEqual([0xfb, 0xff]);
  });

  it('skips whitespace and accepts "." as padding', () => {
    expect(text(base64Decode(' aGVs\nbG8 = '))).toBe('hello');
    expect(text(base64Decode('dGY.'))).toBe('tf');
  });

  it('ignores leftover bits of the last character', () => {
    expect(text(base64Decode('QR=='))).toBe('A');
  });

  it('refuses what absl refuses', () => {
    expect(base64Decode('a')).toBeUndefined(); // a lone last character
    expect(base64Decode('aGVsbG8==')).toBeUndefined(); // too much padding
    expect(base64Decode('c2VydmluZw=')).toBeUndefined(); // too little padding
    expect(base64Decode('aGVs=bG8')).toBeUndefined(); // data after padding
    expect(base64Decode('aGVsbG8-')).toBeUndefined(); // web-safe alphabet
    expect(base64Decode('aGVs!G8=')).toBeUndefined();
    expect(base64Decode('====')).toBeUndefined();
  });
});

describe('base64Encode (absl::Base64Escape)', () => {
  it('writes standard base64 padded to a multiple of 4', () => {
    expect(base64Encode(Buffer.from('tf'))).toBe('dGY=');
    expect(base64Encode(new Uint8Array([0xfb, 0xff]))).toBe('+/8=');
    expect(base64Encode(new Uint8Array(0))).toBe('');
  });
});
