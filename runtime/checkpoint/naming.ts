/**
 * File names of a TensorBundle checkpoint with prefix P (tensor_bundle/naming):
 * the index table `P.index` and data shards `P.data-00000-of-00001`.
 */

export function metaFilename(prefix: string): string {
  return `${prefix}.index`;
}

export function dataFilename(prefix: string, shardId: number, numShards: number): string {
  const pad = (n: number) => String(n).padStart(5, '0');
  return `${prefix}.data-${pad(shardId)}-of-${pad(numShards)}`;
}
