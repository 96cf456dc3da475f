/**
 * DrawBoundingBoxes / DrawBoundingBoxesV2 (tf.image.draw_bounding_boxes),
 * after tensorflow/core/kernels/image/draw_bounding_box_op.cc: box corners
 * scaled by (size - 1) in float32 and truncated toward zero; inverted boxes
 * and boxes wholly outside are skipped; each edge inside the image is drawn
 * one pixel wide in the box's colour (box index modulo the colour table:
 * the given colours, or TF's ten defaults, first channel 1 for grey images).
 */
import { invalidArgument } from '../../errors.js';
import { shapeString, Tensor } from '../../tensor.js';
import type { KernelContext } from '../registry.js';
import { registerKernel } from '../registry.js';
import { f32, floatData } from './common.js';

const DEFAULT_COLORS = [
  [1, 1, 0, 1], [0, 0, 1, 1], [1, 0, 0, 1], [0, 1, 0, 1], [0.5, 0, 0.5, 1],
  [0.5, 0.5, 0, 1], [0.5, 0, 0, 1], [0, 0, 0.5, 1], [0, 1, 1, 1], [1, 0, 1, 1],
];

function draw(ctx: KernelContext): Tensor[] {
  const [images, boxesT, colorsT] = ctx.inputs;
  if (images.rank !== 4) throw invalidArgument('The rank of the images should be 4');
  if (boxesT.rank !== 3) throw invalidArgument('The rank of the boxes tensor should be 3');
  if (images.shape[0] !== boxesT.shape[0]) throw invalidArgument('The batch sizes should be the same');
  const [B, H, W, depth] = images.shape;
  if (depth !== 1 && depth !== 3 && depth !== 4) throw invalidArgument('Channel depth should be either 1 (GRY), 3 (RGB), or 4 (RGBA)');
  if (boxesT.shape[2] !== 4) throw invalidArgument(`The size of the third dimension of the box must be 4. Received: ${boxesT.shape[2]}`);
  let table: number[][] = [];
  if (colorsT) {
    if (colorsT.rank !== 2) throw invalidArgument(`colors must be a 2-D matrix${shapeString(colorsT.shape)}`);
    if (colorsT.shape[1] < depth) {
      throw invalidArgument(`colors must have equal or more channels than the image provided: ${shapeString(colorsT.shape)}`);
    }
    if (colorsT.size > 0) {
      const cv = floatData(colorsT);
      const cols = colorsT.shape[1];
      for (let i = 0; i < colorsT.shape[0]; i++) table.push(Array.from(cv.subarray(i * cols, i * cols + depth)));
    }
  }
  if (table.length === 0) table = DEFAULT_COLORS.map((c) => (depth === 1 ? [1, ...c.slice(1)] : c));
  const canvas = Float32Array.from(floatData(images));
  const boxes = floatData(boxesT);
  const n = boxesT.shape[1];
  const put = (b: number, y: number, x: number, color: number[]) => {
    for (let c = 0; c < depth; c++) canvas[((b * H + y) * W + x) * depth + c] = color[c];
  };
  for (let b = 0; b < B; b++) {
    for (let k = 0; k < n; k++) {
      const color = table[k % table.length];
      const at = (b * n + k) * 4;
      const minRow = Math.trunc(f32(boxes[at] * (H - 1)));
      const maxRow = Math.trunc(f32(boxes[at + 2] * (H - 1)));
      const minCol = Math.trunc(f32(boxes[at + 1] * (W - 1)));
      const maxCol = Math.trunc(f32(boxes[at + 3] * (W - 1)));
      if (minRow > maxRow || minCol > maxCol) continue;
      if (minRow >= H || maxRow < 0 || minCol >= W || maxCol < 0) continue;
      const r0 = Math.max(minRow, 0);
      const r1 = Math.min(maxRow, H - 1);
      const c0 = Math.max(minCol, 0);
      const c1 = Math.min(maxCol, W - 1);
      if (minRow >= 0) for (let j = c0; j <= c1; j++) put(b, minRow, j, color);
      if (maxRow < H) for (let j = c0; j <= c1; j++) put(b, maxRow, j, color);
      if (minCol >= 0) for (let i = r0; i <= r1; i++) put(b, i, minCol, color);
      if (maxCol < W) for (let i = r0; i <= r1; i++) put(b, i, maxCol, color);
    }
  }
  return [Tensor.fromHost(images.dtype === 'float16' ? 'float16' : 'float32', [...images.shape], canvas)];
}

registerKernel({ op: ['DrawBoundingBoxes', 'DrawBoundingBoxesV2'], kernel: draw });
