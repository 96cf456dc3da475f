// Request bodies are read as TF Serving reads them: rapidjson 1.1.0 with
// NaN/Infinity allowed. Expected error texts and offsets were produced by
// rapidjson 1.1.0 itself (the version TF Serving pins).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mayDifferFromRapidjson, parseJsonExact, parseJsonFast } from '../../../runtime/codec/json_parse.js';
import { JsonNumber, jsonValueToString, type JsonValue } from '../../../runtime/codec/json_value.js';
import { StatusError } from '../../../runtime/errors.js';

function parseError(body: string | Uint8Array): string {
  try {
    parseJsonExact(body);
  } catch (e) {
    expect(e).toBeInstanceOf(StatusError);
    expect((e as StatusError).code).toBe('INVALID_ARGUMENT');
    return (e as StatusError).message;
  }
  throw new Error(`expected ${JSON.stringify(body)} to be refused`);
}

describe('parseJsonExact errors', () => {
  const cases: [string, string][] = [
    ['', 'JSON Parse error: The document is empty'],
    [' ', 'JSON Parse error: The document is empty. at offset: 1'],
    ['  \n\t ', 'JSON Parse error: The document is empty. at offset: 5'],
    ['instances = [1, 2]', 'JSON Parse error: Invalid value. at offset: 0'],
    ['x', 'JSON Parse error: Invalid value. at offset: 0'],
    ['{', 'JSON Parse error: Missing a name for object member. at offset: 1'],
    ['[', 'JSON Parse error: Invalid value. at offset: 1'],
    ['[1,', 'JSON Parse error: Invalid value. at offset: 3'],
    ['[1,]', 'JSON Parse error: Invalid value. at offset: 3'],
    ['{"a"}', 'JSON Parse error: Missing a colon after a name of object member. at offset: 4'],
    ['{"a":}', 'JSON Parse error: Invalid value. at offset: 5'],
    ['{"a":1,}', 'JSON Parse error: Missing a name for object member. at offset: 7'],
    ['{a:1}', 'JSON Parse error: Missing a name for object member. at offset: 1'],
    ['{"instances": [1, 2', "JSON Parse error: Missing a comma or ']' after an array element. at offset: 19"],
    ['[1 2]', "JSON Parse error: Missing a comma or ']' after an array element. at offset: 3"],
    ['{"a": 1 "b": 2}', "JSON Parse error: Missing a comma or '}' after an object member. at offset: 8"],
    ['"abc', 'JSON Parse error: Missing a closing quotation mark in string. at offset: 4'],
    ['"a\\x"', 'JSON Parse error: Invalid escape character in string. at offset: 2'],
    ['"\\u12G4"', 'JSON Parse error: Incorrect hex digit after \\u escape in string. at offset: 1'],
    ['"\\uD800"', 'JSON Parse error: The surrogate pair in string is invalid. at offset: 1'],
    ['"\\uD800\\u0041"', 'JSON Parse error: The surrogate pair in string is invalid. at offset: 1'],
    ['"a\u0001b"', 'JSON Parse error: Invalid escape character in string. at offset: 2'],
    ['nul', 'JSON Parse error: Invalid value. at offset: 3'],
    ['fals', 'JSON Parse error: Invalid value. at offset: 4'],
    ['-', 'JSON Parse error: Invalid value. at offset: 1'],
    ['01', 'JSON Parse error: The document root must not be followed by other values. at offset: 1'],
    ['1.', 'JSON Parse error: Miss fraction part in number. at offset: 2'],
    ['1.e5', 'JSON Parse error: Miss fraction part in number. at offset: 2'],
    ['1e+', 'JSON Parse error: Miss exponent in number. at offset: 3'],
    ['Nax', 'JSON Parse error: Invalid value. at offset: 2'],
    ['Infinit', 'JSON Parse error: Invalid value. at offset: 7'],
    ['1e309', 'JSON Parse error: Number too big to be stored in double. at offset: 0'],
    ['[0, 1e400]', 'JSON Parse error: Number too big to be stored in double. at offset: 4'],
    ['1' + '0'.repeat(309), 'JSON Parse error: Number too big to be stored in double. at offset: 0'],
    ['{} {}', 'JSON Parse error: The document root must not be followed by other values. at offset: 3'],
    ['{"instances": [1, 2]}x', 'JSON Parse error: The document root must not be followed by other values. at offset: 21'],
    // Offsets count bytes: é is two.
    ['["é", x]', 'JSON Parse error: Invalid value. at offset: 7'],
  ];
  for (const [body, message] of cases) {
    it(`refuses ${JSON.stringify(body).slice(0, 40)}`, () => {
      expect(parseError(body)).toBe(message);
    });
  }

  it('counts offsets in bytes of the body as received', () => {
    expect(parseError(Buffer.from('{"é": x}'))).toBe('JSON Parse error: Invalid value. at offset: 7');
  });
});

describe('parseJsonExact values', () => {
  it('accepts NaN, Inf, Infinity and their negatives as numbers', () => {
    const v = parseJsonExact('[NaN, Infinity, -Infinity, Inf, -Inf, -NaN]') as number[];
    expect(v[0]).toBeNaN();
    expect(v.slice(1, 5)).toEqual([Infinity, -Infinity, Infinity, -Infinity]);
    expect(v[5]).toBeNaN();
  });

  it('keeps integer tokens exact and tells them from integral doubles', () => {
    const v = parseJsonExact('[3, 3.0, -0, -0.0, 1e2, 9007199254740993, -9223372036854775808, 18446744073709551615, 18446744073709551616]') as JsonValue[];
    expect(v[0]).toBe(3);
    expect(v[1]).toEqual(new JsonNumber(3, undefined));
    expect(Object.is(v[2], 0)).toBe(true); // "-0" is the integer 0
    expect(v[3]).toBeInstanceOf(JsonNumber);
    expect(Object.is((v[3] as JsonNumber).value, -0)).toBe(true);
    expect(v[4]).toEqual(new JsonNumber(100, undefined));
    expect((v[5] as JsonNumber).int).toBe(9007199254740993n);
    expect((v[6] as JsonNumber).int).toBe(-9223372036854775808n);
    expect((v[7] as JsonNumber).int).toBe(18446744073709551615n);
    // Beyond uint64 the token becomes a double.
    expect(v[8]).toEqual(new JsonNumber(18446744073709551616, undefined));
  });

  it('computes doubles exactly as rapidjson does, long inputs included', () => {
    const v = parseJsonExact('[0.1, 1.5, 0.99999999999999999999, 9007199254740993.0]') as JsonValue[];
    expect(v[0]).toBe(0.1);
    expect(v[1]).toBe(1.5);
    // rapidjson's fast strtod lands one ulp above 1 here (correct rounding would give 1).
    expect(v[2]).toBe(1 + 2 ** -52);
    expect(v[3]).toEqual(new JsonNumber(9007199254740992, undefined));
  });

  it('lets doubles past DBL_MAX become infinities, as rapidjson 1.1.0 does', () => {
    expect(parseJsonExact('[1.8e308, -10e308]')).toEqual([Infinity, -Infinity]);
  });

  it('follows rapidjson quirks: NUL ends the document, a BOM is skipped, NaN.5 reads as 0.5', () => {
    expect(jsonValueToString(parseJsonExact('{}\u0000garbage'))).toBe('{}');
    expect(jsonValueToString(parseJsonExact('\ufeff[1]'))).toBe('[\n    1\n]');
    expect(parseJsonExact('NaN.5')).toBe(0.5);
  });

  it('decodes escapes and keeps object key order', () => {
    const v = parseJsonExact('{"b": "\\u00e9\\n\\"/\\ud83d\\ude00", "a": 1, "1": 2}') as Map<string, JsonValue>;
    expect([...v.keys()]).toEqual(['b', 'a', '1']);
    expect(v.get('b')).toBe('é\n"/😀');
  });
});

describe('parseJsonFast', () => {
  it('reads ordinary bodies with JSON.parse', () => {
    expect(parseJsonFast('{"instances": [[1.5, 2], [3, 4.25]]}')).toEqual({ instances: [[1.5, 2], [3, 4.25]] });
  });

  it('leaves to the exact parser what JSON.parse could read differently', () => {
    expect(parseJsonFast('[0.12345678]')).toBeUndefined(); // long numbers: rapidjson's own rounding
    expect(parseJsonFast('[1e10]')).toBeUndefined(); // two-digit exponents
    expect(parseJsonFast('["\\ud800"]')).toBeUndefined(); // surrogate escapes
    expect(parseJsonFast('[NaN]')).toBeUndefined(); // not JSON to JSON.parse
    expect(parseJsonFast('')).toBeUndefined();
  });
});

describe('mayDifferFromRapidjson', () => {
  // The three patterns it stands for, as regular expressions.
  const byRegex = (s: string) => /\d{8}/.test(s) || /[eE][+-]?\d\d/.test(s) || /\\u[dD][89a-fA-F]/.test(s);

  it('agrees with the three regular expressions on random bodies of digits, signs, e/E and escapes', () => {
    const alphabet = fc.constantFrom('0', '1', '9', '.', 'e', 'E', '+', '-', '\\', 'u', 'd', 'D', '8', 'a', 'F', 'g', ',', '[', ']', '"');
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 40 }).map((a) => a.join('')), (s) => {
        expect(mayDifferFromRapidjson(s)).toBe(byRegex(s));
      }),
      { numRuns: 20000 },
    );
  });

  it('names each case', () => {
    expect(mayDifferFromRapidjson('[1234567, 1.5, 2e5]')).toBe(false);
    expect(mayDifferFromRapidjson('[12345678]')).toBe(true);
    expect(mayDifferFromRapidjson('[1e-10]')).toBe(true);
    expect(mayDifferFromRapidjson('["\\uD834\\uDD1E"]')).toBe(true);
    expect(mayDifferFromRapidjson('["\\u00e9"]')).toBe(false);
  });
});
