/**
 * The array (data-movement) kernel family: ops that move, select or reshape
 * elements without arithmetic, for every dtype. Importing this module
 * registers all of them; the kernels live in array_*.ts by theme:
 *   array_basic      Const, Identity*, NoOp, EnsureShape, CheckNumerics, Shape*, Size, Rank, Reshape, Squeeze, ExpandDims
 *   array_concat     ConcatV2, Concat, ConcatOffset, Pack, Unpack, Split, SplitV
 *   array_gather     GatherV2, Gather, GatherNd
 *   array_scatter    ScatterNd, TensorScatterUpdate/Add/Sub/Max/Min
 *   array_slice      StridedSlice, Slice
 *   array_fill       Fill, ZerosLike, OnesLike, Range, LinSpace, OneHot
 *   array_transform  Tile, Transpose, ConjugateTranspose, ReverseV2, Pad, PadV2, MirrorPad, BroadcastTo, BroadcastArgs
 *   array_select     Where, Select, SelectV2
 *   array_sort       TopKV2, TopK, Unique*, InvertPermutation
 *   array_matrix     MatrixBandPart, MatrixDiag*, MatrixDiagPart*, MatrixSetDiag*, Diag, DiagPart
 *   array_space      SpaceToBatchND, BatchToSpaceND, DepthToSpace, SpaceToDepth, ReverseSequence, Roll
 */
import './array_basic.js';
import './array_concat.js';
import './array_gather.js';
import './array_scatter.js';
import './array_slice.js';
import './array_fill.js';
import './array_transform.js';
import './array_select.js';
import './array_sort.js';
import './array_matrix.js';
import './array_space.js';
