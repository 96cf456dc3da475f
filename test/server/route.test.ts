// Path routing and its error texts, ported from TF Serving's
// http_rest_api_handler_test.cc (UnsupportedApiCalls) and http_rest_api_util_test.cc.
import { describe, expect, it } from 'vitest';
import { StatusError } from '../../runtime/errors.js';
import { isRestPath, parseRestRoute, unescapePath } from '../../server/rest/route.js';

function errorOf(method: string, path: string): StatusError {
  try {
    parseRestRoute(method, path);
  } catch (e) {
    return e as StatusError;
  }
  throw new Error(`${method} ${path} parsed`);
}

describe('REST routes', () => {
  it('claims /v1/ paths only', () => {
    expect(isRestPath('/v1/models')).toBe(true);
    expect(isRestPath('/V1/models/x')).toBe(true);
    expect(isRestPath('/statuspage')).toBe(false);
    expect(isRestPath('/index')).toBe(false);
  });

  it.each([
    ['GET', '/v1/foo', 'Malformed request'],
    ['POST', '/v1/foo', 'Malformed request'],
    ['GET', '/v1/models', 'Missing model name'],
    ['GET', '/v1/models/debug/model_name', 'Malformed request'],
    ['POST', '/v1/models', 'Malformed request'],
    ['GET', '/v1/models/foo:predict', 'Malformed request'],
    ['GET', '/v1/models/foo/version/50:predict', 'Malformed request'],
    ['POST', '/v1/models/foo/version/50:regress', 'Malformed request'],
    ['POST', '/v1/models/foo/versions/HELLO:regress', 'Malformed request'],
    ['POST', '/v1/models/foo/versions/18446744073709551615:regress', 'Failed to convert version'],
    ['POST', '/v1/models/foo/metadata', 'Malformed request'],
    ['POST', '/v1/models/foo/label/some_label:regress', 'Malformed request'],
    ['POST', '/v1/models/foo/versions/50/labels/some_label:regress', 'Malformed request'],
    ['POST', '/v1/models/foo/versions/some_label:regress', 'Malformed request'],
    ['PUT', '/v1/models/foo:predict', 'Malformed request'],
  ])('%s %s fails with "%s" (INVALID_ARGUMENT)', (method, path, text) => {
    const e = errorOf(method, path);
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toContain(text);
  });

  it('prints the method and path in the malformed-request error', () => {
    expect(errorOf('GET', '/v1/foo').message).toBe('Malformed request: GET /v1/foo');
    expect(errorOf('POST', '/v1/models/foo/versions/18446744073709551615:regress').message).toBe(
      'Failed to convert version: 18446744073709551615 to numeric.',
    );
  });

  it('parses predict, classify and regress with a version or a label', () => {
    expect(parseRestRoute('POST', '/v1/models/half:predict')).toEqual({ kind: 'predict', spec: { name: 'half' } });
    expect(parseRestRoute('POST', '/v1/models/half/versions/00123:classify')).toEqual({
      kind: 'classify',
      spec: { name: 'half', version: 123 },
    });
    expect(parseRestRoute('POST', '/v1/models/half/labels/stable:regress')).toEqual({
      kind: 'regress',
      spec: { name: 'half', label: 'stable' },
    });
  });

  it('parses status and metadata paths', () => {
    expect(parseRestRoute('GET', '/v1/models/half')).toEqual({ kind: 'status', spec: { name: 'half' } });
    expect(parseRestRoute('GET', '/v1/models/half/versions/7')).toEqual({ kind: 'status', spec: { name: 'half', version: 7 } });
    expect(parseRestRoute('GET', '/v1/models/half/labels/canary/metadata')).toEqual({
      kind: 'metadata',
      spec: { name: 'half', label: 'canary' },
    });
  });

  it('matches paths case-insensitively but the method verb exactly, like TF Serving', () => {
    expect(parseRestRoute('POST', '/V1/MODELS/half:predict')).toEqual({ kind: 'predict', spec: { name: 'half' } });
    expect(errorOf('POST', '/v1/models/half:PREDICT').message).toBe('Malformed request: POST /v1/models/half:PREDICT');
  });

  it('percent-decodes model names and labels', () => {
    expect(parseRestRoute('POST', '/v1/models/my%20model/labels/caf%C3%A9:predict')).toEqual({
      kind: 'predict',
      spec: { name: 'my model', label: 'café' },
    });
    expect(unescapePath('100%')).toBe('100%');
    expect(unescapePath('%zz')).toBe('%zz');
  });
});
