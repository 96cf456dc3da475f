/**
 * The TF Serving JSON ⇄ tensor codec: what the REST server and `modelhost
 * run` use to read request bodies and write response bodies exactly as
 * TensorFlow Serving does (tensorflow_serving/util/json_tensor.cc).
 *
 *   predict:   readPredictRequest / parsePredictRequest → tensors;
 *              formatPredictResponse(outputs, format) → body
 *   classify:  parseExamplesRequest → serialized tf.Examples;
 *              formatClassifyResponse(classes, scores) → body
 *   regress:   parseExamplesRequest; formatRegressResponse(outputs) → body
 *   errors:    formatErrorResponse(message) → {"error": ...} body
 *
 * Every failure is a StatusError (INVALID_ARGUMENT unless noted) whose
 * message is TF Serving's text.
 */
export {
  parsePredictRequest,
  readPredictRequest,
  PredictRequestDocument,
  type CodecOptions,
  type DecodedPredictInputs,
  type InputSpec,
  type ParsedPredictRequest,
  type PredictFormat,
} from './predict_request.js';
export { formatPredictResponse } from './predict_response.js';
export { parseExamplesRequest, type ParsedExamplesRequest } from './examples_request.js';
export {
  classificationsFromTensors,
  formatClassificationResult,
  formatClassifyResponse,
  formatErrorResponse,
  formatRegressionResult,
  formatRegressResponse,
  regressionsFromTensor,
  type ClassResult,
} from './results_response.js';
export { formatDecimal } from './number_format.js';
export { DEFAULT_MAX_JSON_DEPTH } from './json_parse.js';
