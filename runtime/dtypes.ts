/**
 * TensorFlow data types: our names, the DataType enum numbers of
 * tensorflow/core/framework/types.proto, and the storage each dtype uses.
 */
export type DType =
  | 'float16'
  | 'bfloat16'
  | 'float32'
  | 'float64'
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'uint64'
  | 'bool'
  | 'string'
  | 'complex64'
  | 'complex128'
  | 'resource'
  | 'variant';

const ENUM_TO_DTYPE: Record<number, DType> = {
  1: 'float32',
  2: 'float64',
  3: 'int32',
  4: 'uint8',
  5: 'int16',
  6: 'int8',
  7: 'string',
  8: 'complex64',
  9: 'int64',
  10: 'bool',
  14: 'bfloat16',
  17: 'uint16',
  18: 'complex128',
  19: 'float16',
  20: 'resource',
  21: 'variant',
  22: 'uint32',
  23: 'uint64',
};

const DTYPE_TO_ENUM: Record<DType, number> = Object.fromEntries(
  Object.entries(ENUM_TO_DTYPE).map(([k, v]) => [v, Number(k)]),
) as Record<DType, number>;

/** TF's DT_* names, as TF Serving prints them in metadata ("DT_FLOAT"). */
const DTYPE_TO_TF_NAME: Record<DType, string> = {
  float16: 'DT_HALF',
  bfloat16: 'DT_BFLOAT16',
  float32: 'DT_FLOAT',
  float64: 'DT_DOUBLE',
  int8: 'DT_INT8',
  int16: 'DT_INT16',
  int32: 'DT_INT32',
  int64: 'DT_INT64',
  uint8: 'DT_UINT8',
  uint16: 'DT_UINT16',
  uint32: 'DT_UINT32',
  uint64: 'DT_UINT64',
  bool: 'DT_BOOL',
  string: 'DT_STRING',
  complex64: 'DT_COMPLEX64',
  complex128: 'DT_COMPLEX128',
  resource: 'DT_RESOURCE',
  variant: 'DT_VARIANT',
};

/** TF's short type names, as used in error texts ("float", "int64", "string"). */
const DTYPE_TO_SHORT_NAME: Record<DType, string> = {
  float16: 'half',
  bfloat16: 'bfloat16',
  float32: 'float',
  float64: 'double',
  int8: 'int8',
  int16: 'int16',
  int32: 'int32',
  int64: 'int64',
  uint8: 'uint8',
  uint16: 'uint16',
  uint32: 'uint32',
  uint64: 'uint64',
  bool: 'bool',
  string: 'string',
  complex64: 'complex64',
  complex128: 'complex128',
  resource: 'resource',
  variant: 'variant',
};

/** Maps a DataType enum value (reference types, +100, map to their base type). */
export function dtypeFromEnum(value: number): DType | undefined {
  return ENUM_TO_DTYPE[value >= 100 ? value - 100 : value];
}

export function dtypeToEnum(dtype: DType): number {
  return DTYPE_TO_ENUM[dtype];
}

export function dtypeTfName(dtype: DType): string {
  return DTYPE_TO_TF_NAME[dtype];
}

export function dtypeShortName(dtype: DType): string {
  return DTYPE_TO_SHORT_NAME[dtype];
}

export function dtypeFromTfName(name: string): DType | undefined {
  for (const [k, v] of Object.entries(DTYPE_TO_TF_NAME)) if (v === name) return k as DType;
  return undefined;
}

/** The DType for TF's short name ("float", "half", "int64"). */
export function dtypeFromShortName(name: string): DType | undefined {
  for (const [k, v] of Object.entries(DTYPE_TO_SHORT_NAME)) if (v === name) return k as DType;
  return undefined;
}

export const isFloating = (d: DType) => d === 'float16' || d === 'bfloat16' || d === 'float32' || d === 'float64';
export const isInteger = (d: DType) =>
  d === 'int8' || d === 'int16' || d === 'int32' || d === 'int64' || d === 'uint8' || d === 'uint16' || d === 'uint32' || d === 'uint64';
export const isNumeric = (d: DType) => isFloating(d) || isInteger(d);

/** Inclusive value range of integer dtypes, for range checks on conversion. */
export const INT_RANGE: Partial<Record<DType, [number, number]>> = {
  int8: [-128, 127],
  int16: [-32768, 32767],
  int32: [-2147483648, 2147483647],
  uint8: [0, 255],
  uint16: [0, 65535],
  uint32: [0, 4294967295],
};
