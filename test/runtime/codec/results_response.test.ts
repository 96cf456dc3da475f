// Classify / regress results and errors → response bodies as TF Serving
// writes them (ClassifyRegressnResultTest and MakeJsonFromStatus cases of
// json_tensor_test.cc, the classifier/regressor output checks, and the
// fixtures README bodies), byte for byte.
import { describe, expect, it } from 'vitest';
import {
  formatClassificationResult,
  formatClassifyResponse,
  formatErrorResponse,
  formatRegressionResult,
  formatRegressResponse,
} from '../../../runtime/codec/index.js';
import { StatusError } from '../../../runtime/errors.js';
import { Tensor } from '../../../runtime/tensor.js';

function errorOf(f: () => unknown): StatusError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(StatusError);
    return e as StatusError;
  }
  throw new Error('expected an error');
}

describe('classify responses', () => {
  it('answers the README classify example (scores only: empty labels)', () => {
    const body = formatClassifyResponse(undefined, Tensor.from('float32', [1, 1], [12]), 1);
    expect(body).toBe('{\n    "results": [[["", 12.0]]\n    ]\n}');
    expect(JSON.parse(body)).toEqual({ results: [[['', 12]]] });
  });

  it('pairs labels and scores per example (JsonFromClassificationResult)', () => {
    const classes = Tensor.from('string', [2, 3], ['car', 'bike', 'bus', 'car', 'bike', 'bus']);
    const scores = Tensor.from('float32', [2, 3], [0.2, 0.7, 0.1, 0.7, 0.1, 0.2]);
    expect(formatClassifyResponse(classes, scores, 2)).toBe(
      '{\n    "results": [[["car", 0.2], ["bike", 0.7], ["bus", 0.1]], [["car", 0.7], ["bike", 0.1], ["bus", 0.2]]\n    ]\n}',
    );
  });

  it('gives score 0 when the signature has only classes', () => {
    const classes = Tensor.from('string', [1, 2], ['a', 'b']);
    expect(formatClassifyResponse(classes, undefined)).toBe('{\n    "results": [[["a", 0.0], ["b", 0.0]]\n    ]\n}');
  });

  it('writes results built elsewhere', () => {
    expect(formatClassificationResult([[{ label: 'x', score: 0.5 }], []])).toBe(
      '{\n    "results": [[["x", 0.5]], []\n    ]\n}',
    );
  });

  it('checks the output tensors as TF Serving does', () => {
    const scores = Tensor.from('float32', [2, 2], [1, 2, 3, 4]);
    expect(errorOf(() => formatClassifyResponse(Tensor.from('float32', [2, 2], [1, 2, 3, 4]), scores, 2)).message).toBe(
      'Expected classes Tensor of DT_STRING. Got: DT_FLOAT',
    );
    expect(errorOf(() => formatClassifyResponse(undefined, Tensor.from('float32', [1, 2], [1, 2]), 2)).message).toBe(
      'Expected scores output batch size of 2. Got: 1',
    );
    expect(errorOf(() => formatClassifyResponse(undefined, Tensor.from('float32', [2], [1, 2]), 2)).message).toBe(
      'Expected Tensor shape: [batch_size num_classes] but got [2]',
    );
    expect(errorOf(() => formatClassifyResponse(undefined, Tensor.from('float64', [2, 1], [1, 2]), 2)).message).toBe(
      'Expected scores Tensor of DT_FLOAT. Got: DT_DOUBLE',
    );
    expect(
      errorOf(() => formatClassifyResponse(Tensor.from('string', [2, 1], ['a', 'b']), scores, 2)).message,
    ).toBe('Tensors class and score should match in dim_size(1). Got 1 vs. 2');
  });

  it('refuses an empty result (JsonFromResultErrors)', () => {
    expect(errorOf(() => formatClassificationResult([])).message).toBe('Cannot convert empty ClassificationResults to JSON');
  });
});

describe('regress responses', () => {
  it('answers the README regress example', () => {
    const body = formatRegressResponse(Tensor.from('float32', [1, 1], [42]), 1);
    expect(body).toBe('{\n    "results": [42.0]\n}');
    expect(JSON.parse(body)).toEqual({ results: [42] });
  });

  it('prints float values as TF Serving does (JsonFromRegressionResult, ...WithNonFinite)', () => {
    expect(formatRegressResponse(Tensor.from('float32', [3], [0.2, 0.9, 1.0]))).toBe('{\n    "results": [0.2, 0.9, 1.0]\n}');
    expect(formatRegressionResult([0.2, Infinity, 1, -Infinity, NaN])).toBe(
      '{\n    "results": [0.2, Infinity, 1.0, -Infinity, NaN]\n}',
    );
  });

  it('checks the output tensor as TF Serving does', () => {
    expect(errorOf(() => formatRegressResponse(Tensor.from('float32', [1, 1, 1], [1]), 1)).message).toBe(
      'Expected output Tensor shape to be either [batch_size] or [batch_size, 1] but got [1,1,1]',
    );
    expect(errorOf(() => formatRegressResponse(Tensor.from('float32', [3], [1, 2, 3]), 2)).message).toBe(
      'Input batch size did not match output batch size: 2 vs. 3',
    );
    expect(errorOf(() => formatRegressResponse(Tensor.from('int32', [1], [1]), 1)).message).toBe(
      'Expected output Tensor of DT_FLOAT.  Got: DT_INT32',
    );
  });

  it('refuses an empty result (JsonFromResultErrors)', () => {
    expect(errorOf(() => formatRegressionResult([])).message).toBe('Cannot convert empty RegressionResults to JSON');
  });
});

describe('error responses (MakeJsonFromStatus)', () => {
  it('writes the message as a JSON string', () => {
    const body = formatErrorResponse('Bad key: "key"');
    expect(body).toBe('{\n    "error": "Bad key: \\"key\\""\n}');
    expect(JSON.parse(body)).toEqual({ error: 'Bad key: "key"' });
    expect(JSON.parse(formatErrorResponse("Bad key: 'key'"))).toEqual({ error: "Bad key: 'key'" });
  });

  it('escapes the line breaks of multi-line messages', () => {
    expect(formatErrorResponse('JSON Value: {\n    "a": 1\n} Is not object')).toBe(
      '{\n    "error": "JSON Value: {\\n    \\"a\\": 1\\n} Is not object"\n}',
    );
  });
});
