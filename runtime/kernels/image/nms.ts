/**
 * Non-max suppression: NonMaxSuppression (V1, iou attr), V2, V3 (score
 * threshold), WithOverlaps (a given similarity matrix), V4 (pad_to_max_output_size, valid_outputs), V5 (soft-NMS sigma,
 * selected_scores) and CombinedNonMaxSuppression.
 *
 * Follows tensorflow/core/kernels/image/non_max_suppression_op.cc: candidates
 * are the boxes whose score is strictly above score_threshold, taken best
 * score first and, on equal scores, lowest index first; IoU is computed in
 * float32 on normalised corners (min/max of each pair, so y1 > y2 is fine),
 * and a box of zero area overlaps nothing. A candidate is dropped when its
 * IoU with a selected box is strictly above iou_threshold; with soft NMS its
 * score is multiplied by exp(-0.5 * iou^2 / sigma) per selected box and it
 * goes back into the queue while still above score_threshold. Host loops:
 * tfjs's NMS differs in tie-breaking and thresholds.
 * CombinedNonMaxSuppression orders equal scores as TF's score-only
 * std::priority_queue and unstable std::sort do (std_order.ts), so tied
 * (e.g. quantised) scores select and rank the same boxes.
 */
import { invalidArgument } from '../../errors.js';
import { checkTensorSize } from '../../limits.js';
import { shapeString, Tensor } from '../../tensor.js';
import { registerKernel } from '../registry.js';
import { f32, floatData } from './common.js';
import { StdPriorityQueue, stdSort } from './std_order.js';

function iou(b: Float32Array, i: number, j: number): number {
  const ymini = Math.min(b[i], b[i + 2]);
  const xmini = Math.min(b[i + 1], b[i + 3]);
  const ymaxi = Math.max(b[i], b[i + 2]);
  const xmaxi = Math.max(b[i + 1], b[i + 3]);
  const yminj = Math.min(b[j], b[j + 2]);
  const xminj = Math.min(b[j + 1], b[j + 3]);
  const ymaxj = Math.max(b[j], b[j + 2]);
  const xmaxj = Math.max(b[j + 1], b[j + 3]);
  const areai = f32(f32(ymaxi - ymini) * f32(xmaxi - xmini));
  const areaj = f32(f32(ymaxj - yminj) * f32(xmaxj - xminj));
  if (areai <= 0 || areaj <= 0) return 0;
  const ih = Math.max(f32(Math.min(ymaxi, ymaxj) - Math.max(ymini, yminj)), 0);
  const iw = Math.max(f32(Math.min(xmaxi, xmaxj) - Math.max(xmini, xminj)), 0);
  const inter = f32(ih * iw);
  return f32(inter / f32(f32(areai + areaj) - inter));
}

interface Candidate {
  index: number;
  score: number;
  begin: number;
}

/** True when a comes out of TF's priority queue before b. */
const before = (a: Candidate, b: Candidate): boolean => a.score > b.score || (a.score === b.score && a.index < b.index);

/** A binary max-heap ordered by `before`. */
class Queue {
  private items: Candidate[] = [];
  get size(): number {
    return this.items.length;
  }
  push(c: Candidate): void {
    const a = this.items;
    a.push(c);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(a[i], a[p])) break;
      [a[i], a[p]] = [a[p], a[i]];
      i = p;
    }
  }
  pop(): Candidate {
    const a = this.items;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && before(a[l], a[m])) m = l;
        if (r < a.length && before(a[r], a[m])) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m], a[i]];
        i = m;
      }
    }
    return top;
  }
}

export function nonMaxSuppression(
  similarity: (i: number, j: number) => number,
  scores: Float32Array,
  maxOutput: number,
  iouThreshold: number,
  scoreThreshold: number,
  sigma: number,
): { selected: number[]; scores: number[] } {
  const queue = new Queue();
  for (let i = 0; i < scores.length; i++) if (scores[i] > scoreThreshold) queue.push({ index: i, score: scores[i], begin: 0 });
  const soft = sigma > 0;
  const scale = soft ? f32(-0.5 / sigma) : 0;
  const selected: number[] = [];
  const selectedScores: number[] = [];
  while (selected.length < maxOutput && queue.size > 0) {
    const c = queue.pop();
    const original = c.score;
    let hard = false;
    for (let j = selected.length - 1; j >= c.begin; j--) {
      const sim = similarity(c.index, selected[j]);
      const weight = soft || sim <= iouThreshold ? f32(Math.exp(f32(f32(scale * sim) * sim))) : 0;
      c.score = f32(c.score * weight);
      if (!soft && sim > iouThreshold) {
        hard = true;
        break;
      }
      if (c.score <= scoreThreshold) break;
    }
    c.begin = selected.length;
    if (hard) continue;
    if (c.score === original) {
      selected.push(c.index);
      selectedScores.push(c.score);
    } else if (c.score > scoreThreshold) {
      queue.push(c);
    }
  }
  return { selected, scores: selectedScores };
}

function checkScalar(t: Tensor, name: string, withRank = false): number {
  if (t.rank !== 0) {
    throw invalidArgument(`${name} must be 0-D, got shape ${shapeString(t.shape)}${withRank ? ` (Shape must be rank 0 but is rank ${t.rank})` : ''}`);
  }
  return t.numbers()[0];
}

function checkBoxes(boxes: Tensor, scores: Tensor): number {
  if (boxes.rank !== 2) {
    throw invalidArgument(`boxes must be 2-D${shapeString(boxes.shape)} (Shape must be rank 2 but is rank ${boxes.rank})`);
  }
  const n = boxes.shape[0];
  if (boxes.shape[1] !== 4) throw invalidArgument(`boxes must have 4 columns (Dimension must be 4 but is ${boxes.shape[1]})`);
  if (scores.rank !== 1) {
    throw invalidArgument(`scores must be 1-D${shapeString(scores.shape)} (Shape must be rank 1 but is rank ${scores.rank})`);
  }
  if (scores.shape[0] !== n) {
    throw invalidArgument(`scores has incompatible shape (Dimensions must be equal, but are ${n} and ${scores.shape[0]})`);
  }
  return n;
}

type Version = 1 | 2 | 3 | 4 | 5;

function nmsKernel(version: Version, ctx: Parameters<Parameters<typeof registerKernel>[0]['kernel']>[0]): Tensor[] {
  const [boxes, scores, maxT] = ctx.inputs;
  const maxOutput = checkScalar(maxT, 'max_output_size', version >= 3);
  let iouThreshold: number;
  if (version === 1) iouThreshold = ctx.attrs.float('iou_threshold', 0.5);
  else iouThreshold = checkScalar(ctx.inputs[3], 'iou_threshold', version >= 3);
  if (!(iouThreshold >= 0 && iouThreshold <= 1)) throw invalidArgument('iou_threshold must be in [0, 1]');
  const scoreThreshold = version >= 3 ? checkScalar(ctx.inputs[4], 'score_threshold') : -3.4028234663852886e38;
  const sigma = version === 5 ? checkScalar(ctx.inputs[5], 'soft_nms_sigma') : 0;
  if (version === 5 && !(sigma >= 0)) throw invalidArgument('soft_nms_sigma_val must be non-negative');
  checkBoxes(boxes, scores);
  if (maxOutput < 0) throw invalidArgument('output size must be non-negative');
  const pad = version >= 4 ? ctx.attrs.bool('pad_to_max_output_size', false) : false;
  const b = floatData(boxes);
  const result = nonMaxSuppression((i, j) => iou(b, i * 4, j * 4), floatData(scores), maxOutput, iouThreshold, scoreThreshold, sigma);
  const valid = result.selected.length;
  if (pad) {
    checkTensorSize([maxOutput], 'int32');
    while (result.selected.length < maxOutput) {
      result.selected.push(0);
      result.scores.push(0);
    }
  }
  const n = result.selected.length;
  const out = [Tensor.from('int32', [n], result.selected)];
  if (version === 5) out.push(Tensor.from(scores.dtype, [n], result.scores));
  if (version >= 4) out.push(Tensor.scalar('int32', valid));
  return out;
}

registerKernel({ op: 'NonMaxSuppression', kernel: (ctx) => nmsKernel(1, ctx) });
registerKernel({ op: 'NonMaxSuppressionV2', kernel: (ctx) => nmsKernel(2, ctx) });
registerKernel({ op: 'NonMaxSuppressionV3', kernel: (ctx) => nmsKernel(3, ctx) });
registerKernel({
  op: 'NonMaxSuppressionV4',
  kernel: (ctx) => nmsKernel(4, ctx),
  outputs: [{ name: 'selected_indices' }, { name: 'valid_outputs' }],
});
registerKernel({
  op: 'NonMaxSuppressionV5',
  kernel: (ctx) => nmsKernel(5, ctx),
  outputs: [{ name: 'selected_indices' }, { name: 'selected_scores' }, { name: 'valid_outputs' }],
});

/** NonMaxSuppressionWithOverlaps: the similarity of boxes i and j is overlaps[i][j]. */
registerKernel({
  op: 'NonMaxSuppressionWithOverlaps',
  kernel: (ctx) => {
    const [overlaps, scores, maxT, overlapT, scoreT] = ctx.inputs;
    const maxOutput = checkScalar(maxT, 'max_output_size');
    const threshold = checkScalar(overlapT, 'overlap_threshold');
    const scoreThreshold = checkScalar(scoreT, 'score_threshold');
    if (overlaps.rank !== 2) throw invalidArgument(`overlaps must be 2-D${shapeString(overlaps.shape)}`);
    const n = overlaps.shape[0];
    if (overlaps.shape[1] !== n) throw invalidArgument(`overlaps must be square${shapeString(overlaps.shape)}`);
    if (scores.rank !== 1) {
      throw invalidArgument(`scores must be 1-D${shapeString(scores.shape)} (Shape must be rank 1 but is rank ${scores.rank})`);
    }
    if (scores.shape[0] !== n) {
      throw invalidArgument(`scores has incompatible shape (Dimensions must be equal, but are ${n} and ${scores.shape[0]})`);
    }
    if (maxOutput < 0) throw invalidArgument('output size must be non-negative');
    const o = floatData(overlaps);
    const result = nonMaxSuppression((i, j) => o[i * n + j], floatData(scores), maxOutput, threshold, scoreThreshold, 0);
    return [Tensor.from('int32', [result.selected.length], result.selected)];
  },
});

/** CombinedNonMaxSuppression: per-class hard NMS over a batch, then the best max_total_size across classes. */
registerKernel({
  op: 'CombinedNonMaxSuppression',
  outputs: [{ name: 'nmsed_boxes' }, { name: 'nmsed_scores' }, { name: 'nmsed_classes' }, { name: 'valid_detections' }],
  kernel: (ctx) => {
    const [boxesT, scoresT, perClassT, totalT, iouT, scoreT] = ctx.inputs;
    const maxPerClass = checkScalar(perClassT, 'max_size_per_class');
    if (maxPerClass <= 0) throw invalidArgument('max_size_per_class must be greater than 0');
    const maxTotal = checkScalar(totalT, 'max_total_size');
    if (maxTotal <= 0) throw invalidArgument('max_total_size must be > 0');
    const iouThreshold = checkScalar(iouT, 'iou_threshold');
    if (!(iouThreshold >= 0 && iouThreshold <= 1)) throw invalidArgument('iou_threshold must be in [0, 1]');
    const scoreThreshold = checkScalar(scoreT, 'score_threshold');
    const padPerClass = ctx.attrs.bool('pad_per_class', false);
    const clip = ctx.attrs.bool('clip_boxes', true);
    if (boxesT.rank !== 4) throw invalidArgument(`boxes must be 4-D${shapeString(boxesT.shape)}`);
    if (scoresT.rank !== 3) throw invalidArgument(`scores must be 3-D${shapeString(scoresT.shape)}`);
    const [batches, numBoxes, q] = boxesT.shape;
    const numClasses = scoresT.shape[2];
    if (boxesT.shape[3] !== 4) throw invalidArgument('boxes must have 4 columns');
    if (scoresT.shape[0] !== batches) throw invalidArgument('boxes and scores must have the same batch size');
    if (scoresT.shape[1] !== numBoxes) throw invalidArgument('boxes and scores must have the same number of boxes');
    if (q !== 1 && q !== numClasses) throw invalidArgument('third dimension of boxes must be either 1 or num classes');
    const boxes = floatData(boxesT);
    const scores = floatData(scoresT);
    const sizePerClass = Math.min(maxPerClass, numBoxes);
    const maxTotalSize = Math.min(2147483647, maxPerClass * numClasses);
    const perBatch = padPerClass ? Math.min(maxTotal, maxTotalSize) : maxTotal;
    checkTensorSize([batches, perBatch, 4], 'float32');
    const outBoxes = new Float32Array(batches * perBatch * 4);
    const outScores = new Float32Array(batches * perBatch);
    const outClasses = new Float32Array(batches * perBatch);
    const valid = new Int32Array(batches);
    for (let b = 0; b < batches; b++) {
      // TF keeps a slot per (class, rank) — unused slots score -inf — and std::sorts them all by score.
      interface Found {
        score: number;
        cls: number;
        box: number;
      }
      const slots: Found[] = Array.from({ length: sizePerClass * numClasses }, () => ({ score: -Infinity, cls: -1, box: -1 }));
      for (let c = 0; c < numClasses; c++) {
        // Per-class hard NMS, candidates from a score-only std::priority_queue (ties in libstdc++'s heap order).
        const queue = new StdPriorityQueue<{ i: number; s: number }>((x, y) => x.s < y.s);
        for (let i = 0; i < numBoxes; i++) {
          const s = scores[(b * numBoxes + i) * numClasses + c];
          if (s > scoreThreshold) queue.push({ i, s });
        }
        const cb = q > 1 ? c : 0;
        const boxAt = (i: number) => ((b * numBoxes + i) * q + cb) * 4;
        const selected: number[] = [];
        while (selected.length < sizePerClass && queue.size > 0) {
          const cand = queue.top();
          queue.pop();
          let keep = true;
          for (let j = selected.length - 1; j >= 0; j--) {
            if (iou(boxes, boxAt(cand.i), boxAt(selected[j])) > iouThreshold) {
              keep = false;
              break;
            }
          }
          if (keep) {
            slots[selected.length + sizePerClass * c] = { score: cand.s, cls: c, box: boxAt(cand.i) };
            selected.push(cand.i);
          }
        }
      }
      stdSort(slots, (x, y) => y.score < x.score);
      const found = slots.filter((f) => f.box >= 0);
      const n = padPerClass ? Math.min(perBatch, found.length) : Math.min(found.length, maxTotal);
      valid[b] = n;
      for (let k = 0; k < n; k++) {
        const r = found[k];
        for (let d = 0; d < 4; d++) {
          const v = boxes[r.box + d];
          outBoxes[(b * perBatch + k) * 4 + d] = clip ? Math.max(Math.min(v, 1), 0) : v;
        }
        outScores[b * perBatch + k] = r.score;
        outClasses[b * perBatch + k] = r.cls;
      }
    }
    return [
      Tensor.fromHost('float32', [batches, perBatch, 4], outBoxes),
      Tensor.fromHost('float32', [batches, perBatch], outScores),
      Tensor.fromHost('float32', [batches, perBatch], outClasses),
      Tensor.fromHost('int32', [batches], valid),
    ];
  },
});
