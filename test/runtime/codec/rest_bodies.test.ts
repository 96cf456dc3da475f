// The REST bodies of the fixtures README, request to response through the
// codec, with half_plus_two's math (y = 0.5 * x + 2) computed in between as
// the model would. The response bytes are what TF Serving sends.
import { describe, expect, it } from 'vitest';
import {
  formatClassifyResponse,
  formatErrorResponse,
  formatPredictResponse,
  formatRegressResponse,
  parseExamplesRequest,
  parsePredictRequest,
} from '../../../runtime/codec/index.js';
import { protoType } from '../../../runtime/proto/schema.js';
import { StatusError } from '../../../runtime/errors.js';
import { Tensor } from '../../../runtime/tensor.js';

const halfPlusTwo = (x: Tensor): Tensor =>
  Tensor.fromHost('float32', x.shape, (x.values() as Float32Array).map((v) => 0.5 * v + 2));

function predict(body: string): string {
  const req = parsePredictRequest(body, (name) => {
    if (name !== undefined && name !== 'serving_default') throw new StatusError('INVALID_ARGUMENT', `unknown ${name}`);
    return { x: { dtype: 'float32' } };
  });
  return formatPredictResponse({ y: halfPlusTwo(req.inputs.x) }, req.format);
}

/** The float feature "x" of each serialized example, as half_plus_two's ParseExample reads it. */
function featureX(examples: Uint8Array[]): Tensor {
  const type = protoType('tensorflow.Example');
  const xs = examples.map((bytes) => {
    const ex = type.toObject(type.decode(bytes)) as { features: { feature: Record<string, { floatList: { value: number[] } }> } };
    return ex.features.feature.x.floatList.value[0];
  });
  return Tensor.from('float32', [xs.length, 1], xs);
}

describe('fixtures README REST bodies', () => {
  it('predict, row format', () => {
    expect(predict('{"instances": [[1.0, 2.0], [3.0, 4.0]]}')).toBe('{\n    "predictions": [[2.5, 3.0], [3.5, 4.0]\n    ]\n}');
    expect(predict('{"instances": [1.0, 2.0, 5.0]}')).toBe('{\n    "predictions": [2.5, 3.0, 4.5\n    ]\n}');
  });

  it('predict, columnar format', () => {
    expect(predict('{"inputs": [3.0, 4.0]}')).toBe('{\n    "outputs": [\n        3.5,\n        4.0\n    ]\n}');
    expect(predict('{"signature_name": "serving_default", "inputs": [3.0, 4.0]}')).toBe(
      '{\n    "outputs": [\n        3.5,\n        4.0\n    ]\n}',
    );
  });

  it('predict keeps more than six digits when they matter (TF Serving issue 1332)', () => {
    expect(predict('{"instances": [1111111.0]}')).toBe('{\n    "predictions": [555557.5\n    ]\n}');
  });

  it('regress', () => {
    const req = parseExamplesRequest('{"signature_name": "regress_x_to_y", "examples": [{"x": 80.0}]}');
    const y = halfPlusTwo(featureX(req.examples));
    expect(JSON.parse(formatRegressResponse(y, req.examples.length))).toEqual({ results: [42] });
    expect(formatRegressResponse(y, req.examples.length)).toBe('{\n    "results": [42.0]\n}');
  });

  it('classify', () => {
    const req = parseExamplesRequest('{"signature_name": "classify_x_to_y", "examples": [{"x": 20.0}]}');
    const scores = halfPlusTwo(featureX(req.examples));
    const body = formatClassifyResponse(undefined, scores, req.examples.length);
    expect(JSON.parse(body)).toEqual({ results: [[['', 12]]] });
    expect(body).toBe('{\n    "results": [[["", 12.0]]\n    ]\n}');
  });

  it('a string where a float is expected is refused as "not of expected type: float"', () => {
    let error: StatusError | undefined;
    try {
      predict('{ "instances": ["x", "y"] }');
    } catch (e) {
      error = e as StatusError;
    }
    expect(error?.code).toBe('INVALID_ARGUMENT');
    expect(error?.message).toBe(
      'Failed to process element: 0 of \'instances\' list. Error: INVALID_ARGUMENT: JSON Value: "x" Type: String is not of expected type: float',
    );
    expect(formatErrorResponse(error!.message)).toBe(
      '{\n    "error": "Failed to process element: 0 of \'instances\' list. Error: INVALID_ARGUMENT: JSON Value: \\"x\\" Type: String is not of expected type: float"\n}',
    );
  });
});
