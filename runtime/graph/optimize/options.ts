/**
 * Which load-time graph optimisations run (`--graph_optimizations`, or the
 * MODELHOST_GRAPH_OPTIMIZATIONS environment variable, or LoadOptions): a
 * comma-separated list of pass names, `all` (the default) or `none`. Each
 * pass leaves a signature's outputs equal to TensorFlow's within the
 * conformance corpus tolerances; turning one off is for diagnosis and for
 * the tests that prove that.
 *
 *  - constant_folding: stateless nodes whose inputs are all constants run
 *    once at load time (graph/compiler.ts);
 *  - identity_pruning: Identity-like nodes become slot aliases, costing nothing per run;
 *  - invariant_caching: a stateless step whose inputs are all persistent
 *    tensors (constants, variable values, other cached results) keeps its
 *    outputs for the next run while those inputs stay the same objects, i.e.
 *    constant folding through variables (graph/plan.ts);
 *  - fusion: Conv2D / DepthwiseConv2dNative / MatMul followed by BiasAdd and
 *    an activation become one _FusedConv2D / _FusedDepthwiseConv2dNative /
 *    _FusedMatMul node, run by tfjs's fused WASM kernels (optimize/fusion.ts);
 *  - batchnorm_folding: an inference BatchNorm after a convolution (FusedBatchNormV3
 *    with is_training=false, or the Mul/Add pair Keras 3 exports) joins the
 *    fused node and is folded into its filter and bias (optimize/fusion.ts);
 *  - elementwise_fusion: float32 elementwise ops around a Split along the
 *    last axis (a recurrent cell's gates) become one _ModelhostFusedElementwise
 *    node that computes each element through them in one loop
 *    (optimize/elementwise_fusion.ts, kernels/fused_elementwise.ts).
 * Set per thread; inference workers get the server's set through workerData.
 */
import { invalidArgument } from '../../errors.js';

export const GRAPH_PASSES = ['constant_folding', 'identity_pruning', 'invariant_caching', 'fusion', 'batchnorm_folding', 'elementwise_fusion'] as const;
export type GraphPass = (typeof GRAPH_PASSES)[number];
export type GraphOptimizations = ReadonlySet<GraphPass>;

export const ENV_GRAPH_OPTIMIZATIONS = 'MODELHOST_GRAPH_OPTIMIZATIONS';

/** 'all', 'none', or a comma-separated list of pass names; INVALID_ARGUMENT naming an unknown pass. */
export function parseGraphOptimizations(spec: string): GraphOptimizations {
  const s = spec.trim();
  if (s === 'all') return new Set(GRAPH_PASSES);
  if (s === 'none' || s === '') return new Set();
  const out = new Set<GraphPass>();
  for (const raw of s.split(',')) {
    const name = raw.trim();
    if (!name) continue;
    if (!(GRAPH_PASSES as readonly string[]).includes(name)) {
      throw invalidArgument(`unknown graph optimization '${name}': use 'all', 'none' or a comma-separated list of ${GRAPH_PASSES.join(', ')}`);
    }
    out.add(name as GraphPass);
  }
  return out;
}

let current: GraphOptimizations | undefined;

/** Sets this thread's default passes (serve and run flags; workers from workerData). */
export function setGraphOptimizations(passes: GraphOptimizations | readonly GraphPass[] | undefined): void {
  current = passes === undefined ? undefined : new Set(passes);
}

/** This thread's passes: as set, else from MODELHOST_GRAPH_OPTIMIZATIONS, else all. */
export function graphOptimizations(): GraphOptimizations {
  if (current) return current;
  const env = process.env[ENV_GRAPH_OPTIMIZATIONS];
  return env === undefined ? new Set(GRAPH_PASSES) : parseGraphOptimizations(env);
}
