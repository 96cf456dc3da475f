/**
 * Classify / regress results and errors → response bodies, as TF Serving
 * writes them (its classifier/regressor result checks, then
 * MakeJsonFromClassificationResult / MakeJsonFromRegressionResult /
 * MakeJsonFromStatus):
 *
 *   classify: {\n    "results": [[["", 12.0]]\n    ]\n}   label/score pairs per example
 *   regress:  {\n    "results": [42.0]\n}
 *   error:    {\n    "error": "message"\n}
 *
 * Classify takes the signature's "classes" (string, [batch, n]) and/or
 * "scores" (float, [batch, n]) outputs; a missing one leaves labels "" or
 * scores 0. Regress takes "outputs" (float, [batch] or [batch, 1]). Shape and
 * type problems are INVALID_ARGUMENT with TF Serving's texts.
 */
import { dtypeTfName } from '../dtypes.js';
import { invalidArgument } from '../errors.js';
import { decodeString, type Tensor } from '../tensor.js';
import { PrettyJsonWriter } from './json_writer.js';
import { formatDecimal } from './number_format.js';

export interface ClassResult {
  label: string;
  score: number;
}

function shapeDebugString(t: Tensor): string {
  return `[${t.shape.join(',')}]`;
}

/** PostProcessClassificationResult: per example, its (label, score) pairs. */
export function classificationsFromTensors(
  classes: Tensor | undefined,
  scores: Tensor | undefined,
  numExamples?: number,
): ClassResult[][] {
  const batch = numExamples ?? (classes ?? scores)?.shape[0] ?? 0;
  if (classes) {
    if (classes.rank !== 2) {
      throw invalidArgument(`Expected Tensor shape: [batch_size num_classes] but got ${shapeDebugString(classes)}`);
    }
    if (classes.dtype !== 'string') {
      throw invalidArgument(`Expected classes Tensor of DT_STRING. Got: ${dtypeTfName(classes.dtype)}`);
    }
    if (classes.shape[0] !== batch) {
      throw invalidArgument(`Expected classes output batch size of ${batch}. Got: ${classes.shape[0]}`);
    }
  }
  if (scores) {
    if (scores.rank !== 2) {
      throw invalidArgument(`Expected Tensor shape: [batch_size num_classes] but got ${shapeDebugString(scores)}`);
    }
    if (scores.dtype !== 'float32') {
      throw invalidArgument(`Expected scores Tensor of DT_FLOAT. Got: ${dtypeTfName(scores.dtype)}`);
    }
    if (scores.shape[0] !== batch) {
      throw invalidArgument(`Expected scores output batch size of ${batch}. Got: ${scores.shape[0]}`);
    }
  }
  let numClasses = 0;
  if (classes && scores) {
    if (classes.shape[1] !== scores.shape[1]) {
      throw invalidArgument(
        `Tensors class and score should match in dim_size(1). Got ${classes.shape[1]} vs. ${scores.shape[1]}`,
      );
    }
    numClasses = classes.shape[1];
  } else if (classes) {
    numClasses = classes.shape[1];
  } else if (scores) {
    numClasses = scores.shape[1];
  }
  const labels = classes ? (classes.values() as Uint8Array[]) : undefined;
  const values = scores ? (scores.values() as Float32Array) : undefined;
  const out: ClassResult[][] = [];
  for (let i = 0; i < batch; i++) {
    const row: ClassResult[] = [];
    for (let c = 0; c < numClasses; c++) {
      const k = i * numClasses + c;
      row.push({ label: labels ? decodeString(labels[k]) : '', score: values ? values[k] : 0 });
    }
    out.push(row);
  }
  return out;
}

/** MakeJsonFromClassificationResult. Scores are float32 values. */
export function formatClassificationResult(result: readonly (readonly ClassResult[])[]): string {
  if (result.length === 0) throw invalidArgument('Cannot convert empty ClassificationResults to JSON');
  const w = new PrettyJsonWriter();
  w.startObject();
  w.key('results');
  w.startArray();
  for (const classes of result) {
    w.setSingleLineArrays(true);
    w.startArray();
    for (const c of classes) {
      w.startArray();
      w.string(c.label);
      w.raw(formatDecimal(Math.fround(c.score), 'float'));
      w.endArray();
    }
    w.endArray();
    w.setSingleLineArrays(false);
  }
  w.endArray();
  w.endObject();
  return w.toString();
}

/** The classify response body from the signature's "classes" and/or "scores" outputs. */
export function formatClassifyResponse(
  classes: Tensor | undefined,
  scores: Tensor | undefined,
  numExamples?: number,
): string {
  return formatClassificationResult(classificationsFromTensors(classes, scores, numExamples));
}

/** PostProcessRegressionResult: one float per example. */
export function regressionsFromTensor(output: Tensor, numExamples?: number): number[] {
  const batch = numExamples ?? output.shape[0] ?? 0;
  if (!(output.rank === 1 || (output.rank === 2 && output.shape[1] === 1))) {
    throw invalidArgument(
      `Expected output Tensor shape to be either [batch_size] or [batch_size, 1] but got ${shapeDebugString(output)}`,
    );
  }
  if (batch !== output.shape[0]) {
    throw invalidArgument(`Input batch size did not match output batch size: ${batch} vs. ${output.shape[0]}`);
  }
  if (output.dtype !== 'float32') {
    throw invalidArgument(`Expected output Tensor of DT_FLOAT.  Got: ${dtypeTfName(output.dtype)}`);
  }
  if (output.size !== batch) {
    throw invalidArgument(`Expected output batch size to be ${batch}.  Got: ${output.size}`);
  }
  return Array.from(output.values() as Float32Array);
}

/** MakeJsonFromRegressionResult. Values are float32. */
export function formatRegressionResult(values: readonly number[]): string {
  if (values.length === 0) throw invalidArgument('Cannot convert empty RegressionResults to JSON');
  const w = new PrettyJsonWriter();
  w.startObject();
  w.key('results');
  w.setSingleLineArrays(true);
  w.startArray();
  for (const v of values) w.raw(formatDecimal(Math.fround(v), 'float'));
  w.endArray();
  w.endObject();
  return w.toString();
}

/** The regress response body from the signature's "outputs" output. */
export function formatRegressResponse(output: Tensor, numExamples?: number): string {
  return formatRegressionResult(regressionsFromTensor(output, numExamples));
}

/** MakeJsonFromStatus: the body of an error response. */
export function formatErrorResponse(message: string): string {
  const w = new PrettyJsonWriter();
  w.startObject();
  w.key('error');
  w.string(message);
  w.endObject();
  return w.toString();
}
