// The test-only Helm renderer (helm_subset.ts) against Go text/template and
// Helm behaviour a chart author relies on: whitespace trimming, Go's number
// printing and comparison rules, nil fields, include/nindent/toYaml, and a
// loud failure for anything outside the subset.
import { describe, expect, it } from 'vitest';
import { mergeValues, renderString } from './helm_subset.js';

const r = (source: string, dot: unknown = {}, defines: Record<string, string> = {}) => renderString(source, dot, defines);

describe('helm_subset', () => {
  it('trims whitespace around {{- and -}} as text/template does', () => {
    expect(r('a  \n  {{- "b" -}}  \n  c')).toBe('abc');
    expect(r('a {{ "b" }} c')).toBe('a b c');
    expect(r('x\n{{- /* a comment */}}\ny')).toBe('x\ny');
  });

  it('prints float64 values as Go does (values from YAML are float64) and ints from literals or int', () => {
    expect(r('{{ .a }} {{ .b }} {{ .c }} {{ .d }}', { a: 8501, b: 1000000, c: 0.5, d: 4294967296 })).toBe('8501 1e+06 0.5 4.294967296e+09');
    expect(r('{{ int .b }} {{ 7 }}', { b: 1000000 })).toBe('1000000 7');
  });

  it('refuses to compare a float64 value with an int literal, as Helm does', () => {
    expect(() => r('{{ if gt .n 1 }}x{{ end }}', { n: 2 })).toThrow(/incompatible types for comparison \(float64 and int\)/);
    expect(r('{{ if gt (int .n) 1 }}x{{ end }}', { n: 2 })).toBe('x');
    expect(r('{{ if eq .s "a" }}yes{{ else }}no{{ end }}', { s: 'a' })).toBe('yes');
  });

  it('follows Go truth in if / with / else if, and ranges over lists and sorted maps', () => {
    const src = '{{ if .a }}A{{ else if .b }}B{{ else }}C{{ end }}';
    expect(r(src, { a: [], b: 0 })).toBe('C');
    expect(r(src, { a: {}, b: 'x' })).toBe('B');
    expect(r('{{ with .m }}{{ .k }}{{ else }}none{{ end }}', { m: { k: 'v' } })).toBe('v');
    expect(r('{{ with .m }}{{ .k }}{{ else }}none{{ end }}', { m: null })).toBe('none');
    expect(r('{{ range .l }}[{{ . }}]{{ end }}', { l: ['a', 'b'] })).toBe('[a][b]');
    expect(r('{{ range $k, $v := .m }}{{ $k }}={{ $v }};{{ end }}', { m: { z: 1, a: 2 } })).toBe('a=2;z=1;');
  });

  it('prints a missing key as "" and fails on a field of a missing map (nil pointer)', () => {
    expect(r('[{{ .missing }}]', {})).toBe('[]');
    expect(() => r('{{ .a.b }}', {})).toThrow(/nil pointer evaluating interface \{\}\.b/);
  });

  it('include, nindent, toYaml (sorted keys, no trailing newline), quote, default, required, printf', () => {
    const defines = { h: '{{ define "labels" }}app: {{ .name }}\ntier: web{{ end }}' };
    expect(r('labels:{{ include "labels" . | nindent 2 }}', { name: 'm' }, defines)).toBe('labels:\n  app: m\n  tier: web');
    expect(r('{{ toYaml .r }}', { r: { requests: { memory: '1Gi', cpu: '500m' } } })).toBe('requests:\n  cpu: 500m\n  memory: 1Gi');
    // As sigs.k8s.io/yaml writes: YAML 1.1 booleans quoted (the "Norway problem"), lists not indented under their key.
    expect(r('{{ toYaml . }}', { x: 'y', on: 'off', l: ['a', 'no'] })).toBe('l:\n- a\n- "no"\n"on": "off"\nx: "y"');
    expect(r('{{ .v | quote }} {{ .n | default "d" }} {{ "" | default "d" }}', { v: 'a"b', n: 'x' })).toBe('"a\\"b" x d');
    expect(() => r('{{ required "set image.tag" .tag }}', { tag: '' })).toThrow('set image.tag');
    expect(r('{{ printf "%s-%s" .a "b" | trunc 5 | trimSuffix "-" }}', { a: 'abcd' })).toBe('abcd');
    expect(r('{{ $x := "v" }}{{ $x }}{{ $.k }}', { k: 'K' })).toBe('vK');
  });

  it('fails naming anything outside the subset', () => {
    expect(() => r('{{ tpl .x . }}', {})).toThrow(/function "tpl" is not in the subset/);
    expect(() => r('{{ template "x" . }}', {})).toThrow(/"template" is not in the subset/);
    expect(() => r('{{ include "nope" . }}', {})).toThrow(/no template "nope"/);
    expect(() => r('{{ if .a }}x', { a: true })).toThrow(/if without end/);
  });

  it('merges values as Helm coalesces them (maps key by key, lists replaced, null deletes)', () => {
    expect(mergeValues({ a: { b: 1, c: 2 }, l: [1, 2], d: 'x' }, { a: { c: 3 }, l: [9], d: null })).toEqual({ a: { b: 1, c: 3 }, l: [9] });
  });
});
