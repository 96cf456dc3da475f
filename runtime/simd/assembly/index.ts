// AssemblyScript entry of modelhost's SIMD kernels: one module, compiled twice
// (runtime/simd/asconfig.json: plain SIMD128 and relaxed-SIMD FMA products).
export * from './gemm';
export { tanh } from './tanh';
export * from './elementwise';
