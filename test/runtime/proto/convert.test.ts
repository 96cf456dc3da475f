import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DType } from '../../../runtime/dtypes.js';
import type { AttrValue } from '../../../runtime/graph/types.js';
import {
  attrFromProto,
  attrToProto,
  metaGraphFromProto,
  metaGraphToProto,
  tensorFromProto,
  tensorInfoDtypeName,
  tensorToProto,
} from '../../../runtime/proto/convert.js';
import { bfloat16BitsToFloat, floatToBfloat16Bits, floatToHalfBits, halfBitsToFloat } from '../../../runtime/proto/float16.js';
import type { AttrValueMsg, MetaGraphDefMsg, SavedModelMsg, TensorProtoMsg } from '../../../runtime/proto/messages.js';
import { protoType } from '../../../runtime/proto/schema.js';
import { Tensor } from '../../../runtime/tensor.js';

const FIXTURES = path.resolve(import.meta.dirname, '../../../../shared/fixtures/tf-serving');
const DT = { float: 1, double: 2, int32: 3, uint8: 4, int16: 5, int8: 6, string: 7, complex64: 8, int64: 9, bool: 10, bfloat16: 14, uint16: 17, complex128: 18, half: 19, resource: 20, variant: 21, uint32: 22, uint64: 23 };
const shape = (...dims: number[]) => ({ dim: dims.map((size) => ({ size })) });

/** Encodes and decodes through protobuf wire bytes, as a real file would. */
function wire(p: TensorProtoMsg): TensorProtoMsg {
  const T = protoType('tensorflow.TensorProto');
  return T.decode(T.encode(p).finish()) as TensorProtoMsg;
}

describe('tensorFromProto', () => {
  it('pads a short value list with its last value and treats an empty list as zeros', () => {
    expect(tensorFromProto(wire({ dtype: DT.float, tensorShape: shape(2, 3), floatVal: [7] })).values()).toEqual(new Float32Array(6).fill(7));
    expect(tensorFromProto(wire({ dtype: DT.int32, tensorShape: shape(4), intVal: [1, 2] })).values()).toEqual(Int32Array.from([1, 2, 2, 2]));
    expect(tensorFromProto(wire({ dtype: DT.double, tensorShape: shape(3) })).values()).toEqual(new Float64Array(3));
    const s = tensorFromProto(wire({ dtype: DT.string, tensorShape: shape(3), stringVal: [new TextEncoder().encode('a'), new TextEncoder().encode('b')] }));
    expect(s.strings()).toEqual(['a', 'b', 'b']);
  });

  it('reads tensor_content as little-endian raw bytes', () => {
    const f = new Float32Array([1.5, -2, 3.25, 0]);
    const t = tensorFromProto(wire({ dtype: DT.float, tensorShape: shape(2, 2), tensorContent: new Uint8Array(f.buffer) }));
    expect(t.shape).toEqual([2, 2]);
    expect(t.values()).toEqual(f);
    const i64 = new BigInt64Array([-(2n ** 62n), 2n ** 53n + 1n]);
    expect(tensorFromProto(wire({ dtype: DT.int64, tensorShape: shape(2), tensorContent: new Uint8Array(i64.buffer) })).values()).toEqual(i64);
  });

  it('rejects tensor_content of the wrong size', () => {
    expect(() => tensorFromProto({ dtype: DT.float, tensorShape: shape(3), tensorContent: new Uint8Array(8) })).toThrow(
      /Invalid TensorProto of type DT_FLOAT and shape \[3\].*8 bytes/,
    );
  });

  it('keeps int64 and uint64 values exact beyond 2^53', () => {
    const t = tensorFromProto(wire({ dtype: DT.int64, tensorShape: shape(2), int64Val: ['9007199254740993', '-9223372036854775808'] as never }));
    expect(t.values()).toEqual(new BigInt64Array([9007199254740993n, -9223372036854775808n]));
    const u = tensorFromProto(wire({ dtype: DT.uint64, tensorShape: shape(1), uint64Val: ['18446744073709551615'] as never }));
    expect(u.values()).toEqual(new BigUint64Array([18446744073709551615n]));
  });

  it('reads half_val bit patterns for float16 and bfloat16', () => {
    // 0x3c00 = 1.0, 0xc000 = -2.0, 0x3555 ≈ 0.333 in float16; 0x3fc0 = 1.5 in bfloat16.
    const h = tensorFromProto(wire({ dtype: DT.half, tensorShape: shape(3), halfVal: [0x3c00, 0xc000, 0x7c00] }));
    expect(h.dtype).toBe('float16');
    expect(Array.from(h.values() as Float32Array)).toEqual([1, -2, Infinity]);
    const b = tensorFromProto(wire({ dtype: DT.bfloat16, tensorShape: shape(1), halfVal: [0x3fc0] }));
    expect(b.values()).toEqual(Float32Array.from([1.5]));
  });

  it('reads complex pairs, bools and small ints', () => {
    const c = tensorFromProto(wire({ dtype: DT.complex64, tensorShape: shape(2), scomplexVal: [1, 2] }));
    expect(c.values()).toEqual(Float32Array.from([1, 2, 1, 2]));
    expect(tensorFromProto(wire({ dtype: DT.bool, tensorShape: shape(3), boolVal: [true, false] })).values()).toEqual(Uint8Array.from([1, 0, 0]));
    const u8 = tensorFromProto(wire({ dtype: DT.uint8, tensorShape: shape(2), intVal: [255, 3] }));
    expect(u8.dtype).toBe('uint8');
    expect(u8.values()).toEqual(Uint8Array.from([255, 3]));
  });

  it('reads string tensor_content (varint lengths, then bytes)', () => {
    const content = Uint8Array.from([1, 0, 2, 0x61, 0x62, 0x63]);
    expect(tensorFromProto({ dtype: DT.string, tensorShape: shape(3), tensorContent: content }).strings()).toEqual(['a', '', 'bc']);
  });

  it('rejects resource and variant constants and unsupported dtypes', () => {
    expect(() => tensorFromProto({ dtype: DT.resource, tensorShape: shape() })).toThrow(/DT_RESOURCE.*runtime objects/);
    expect(() => tensorFromProto({ dtype: 11, tensorShape: shape(1) })).toThrow(/DT_QINT8 is not supported/);
  });

  it('rejects a shape that is not fully defined', () => {
    expect(() => tensorFromProto({ dtype: DT.float, tensorShape: shape(-1) })).toThrow(/not fully defined/);
  });
});

describe('tensorToProto round trip', () => {
  const cases: [DType, number[], unknown[]][] = [
    ['float32', [2], [1.5, -3]],
    ['float64', [3], [1e-300, 2, -0.5]],
    ['int8', [2], [-128, 127]],
    ['int16', [2], [-32768, 32767]],
    ['int32', [2], [-2147483648, 2147483647]],
    ['int64', [2], [-(2n ** 63n), 2n ** 63n - 1n]],
    ['uint8', [2], [0, 255]],
    ['uint16', [1], [65535]],
    ['uint32', [1], [4294967295]],
    ['uint64', [1], [2n ** 64n - 1n]],
    ['bool', [3], [true, false, true]],
    ['float16', [3], [0.5, -65504, 6.103515625e-5]],
    ['bfloat16', [2], [1.5, -256]],
    ['string', [2], ['x', 'héllo']],
    ['complex64', [1], [0]],
    ['complex128', [1], [0]],
    ['float32', [0, 3], []],
  ];
  for (const content of [false, true]) {
    it(`preserves every dtype (${content ? 'tensor_content' : 'typed fields'})`, () => {
      for (const [dtype, dims, values] of cases) {
        const t = Tensor.from(dtype, dims, values as never);
        const back = tensorFromProto(wire(tensorToProto(t, { tensorContent: content })));
        expect(back.dtype, dtype).toBe(dtype);
        expect(back.shape, dtype).toEqual(dims);
        expect(back.values(), dtype).toEqual(t.values());
      }
    });
  }
});

describe('float16 and bfloat16 bit patterns', () => {
  it('round-trips every finite half value and rounds to nearest even', () => {
    const mismatches: number[] = [];
    for (let h = 0; h < 0x10000; h++) {
      const f = halfBitsToFloat(h);
      if (!Number.isNaN(f) && floatToHalfBits(f) !== h) mismatches.push(h);
    }
    expect(mismatches).toEqual([]);
    expect(floatToHalfBits(1 + 2 ** -11)).toBe(0x3c00); // tie → even
    expect(floatToHalfBits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(floatToHalfBits(1e6)).toBe(0x7c00);
    expect(floatToBfloat16Bits(1 + 2 ** -8)).toBe(0x3f80);
    expect(bfloat16BitsToFloat(floatToBfloat16Bits(3.140625))).toBe(3.140625);
  });
});

describe('AttrValue', () => {
  it('resolves the oneof into kind and back', () => {
    const A = protoType('tensorflow.AttrValue');
    const rt = (a: AttrValueMsg): AttrValue => attrFromProto(A.decode(A.encode(a).finish()) as AttrValueMsg);
    expect(rt({ i: 0 })).toEqual({ kind: 'i', i: 0 });
    expect(rt({ b: false })).toEqual({ kind: 'b', b: false });
    expect(rt({ type: DT.int64 })).toEqual({ kind: 'type', type: 'int64' });
    expect(rt({ shape: { dim: [{ size: -1 }, { size: 3 }] } })).toEqual({ kind: 'shape', shape: { unknownRank: false, dims: [-1, 3] } });
    expect(rt({ shape: { unknownRank: true } })).toEqual({ kind: 'shape', shape: { unknownRank: true, dims: [] } });
    expect(rt({ placeholder: 'T' })).toEqual({ kind: 'placeholder', placeholder: 'T' });
    expect(rt({})).toEqual({ kind: 'none' });
    const list = rt({ list: { i: [1, -2], type: [DT.float, DT.string] } });
    expect(list.kind === 'list' && list.list.i).toEqual([1, -2]);
    expect(list.kind === 'list' && list.list.type).toEqual(['float32', 'string']);
    const empty = rt({ list: {} });
    expect(empty.kind).toBe('list');
    const fn = rt({ func: { name: 'f', attr: { T: { type: DT.float } } } });
    expect(fn).toEqual({ kind: 'func', func: { name: 'f', attr: { T: { kind: 'type', type: 'float32' } } } });
    for (const a of [list, fn, rt({ s: new Uint8Array([1, 2]) }), rt({ f: 0.25 })]) expect(rt(attrToProto(a))).toEqual(a);
  });
});

describe('MetaGraphDef conversion', () => {
  for (const dir of ['saved_model_half_plus_two_cpu/00000123', 'saved_model_half_plus_two_tf2_cpu/00000123']) {
    it(`plain → proto → plain is lossless for ${dir}`, () => {
      const bytes = fs.readFileSync(path.join(FIXTURES, dir, 'saved_model.pb'));
      const sm = protoType('tensorflow.SavedModel').decode(bytes) as SavedModelMsg;
      const meta = metaGraphFromProto(sm.metaGraphs![0]);
      const MG = protoType('tensorflow.MetaGraphDef');
      const again = metaGraphFromProto(MG.decode(MG.encode(metaGraphToProto(meta)).finish()) as MetaGraphDefMsg);
      expect(again).toEqual(meta);
    });
  }

  it('keeps DT_INVALID of the init-op signature visible', () => {
    const bytes = fs.readFileSync(path.join(FIXTURES, 'saved_model_half_plus_two_tf2_cpu/00000123/saved_model.pb'));
    const meta = metaGraphFromProto((protoType('tensorflow.SavedModel').decode(bytes) as SavedModelMsg).metaGraphs![0]);
    const out = meta.signatureDef['__saved_model_init_op'].outputs['__saved_model_init_op'];
    expect(out.name).toBe('NoOp');
    expect(tensorInfoDtypeName(out)).toBe('DT_INVALID');
    expect(tensorInfoDtypeName(meta.signatureDef['serving_default'].inputs['x'])).toBe('DT_FLOAT');
  });

  it('reads Const values as tensors', () => {
    const bytes = fs.readFileSync(path.join(FIXTURES, 'saved_model_half_plus_two_cpu/00000123/saved_model.pb'));
    const meta = metaGraphFromProto((protoType('tensorflow.SavedModel').decode(bytes) as SavedModelMsg).metaGraphs![0]);
    const a = meta.graphDef.node.find((n) => n.name === 'a/initial_value')!;
    const value = a.attr['value'];
    expect(value.kind === 'tensor' && value.tensor.numbers()).toEqual([0.5]);
  });
});
