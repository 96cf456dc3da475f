/**
 * Typed access to a node's attributes, with op-definition defaults.
 * A missing attribute without a default is an INVALID_ARGUMENT error naming
 * the node, caught at load time because kernels read attrs when compiled.
 */
import type { DType } from '../dtypes.js';
import { invalidArgument, unimplemented } from '../errors.js';
import type { AttrValue, NameAttrList, TensorShape } from '../graph/types.js';
import { decodeString, type Tensor } from '../tensor.js';

export class Attrs {
  constructor(
    readonly values: Readonly<Record<string, AttrValue>>,
    private readonly nodeName: string,
    private readonly op: string,
  ) {}

  has(name: string): boolean {
    const v = this.values[name];
    return v !== undefined && v.kind !== 'none';
  }

  private get<K extends AttrValue['kind']>(name: string, kind: K): Extract<AttrValue, { kind: K }> | undefined {
    const v = this.values[name];
    if (v === undefined || v.kind === 'none') return undefined;
    if (v.kind === 'invalid') throw unimplemented(`Node '${this.nodeName}' (${this.op}): attr '${name}': ${v.reason}`);
    if (v.kind === 'list' && kind !== 'list') {
      // An empty list is how TF encodes some unset attrs; treat as absent.
      return undefined;
    }
    if (v.kind !== kind) {
      throw invalidArgument(`Node '${this.nodeName}' (${this.op}): attr '${name}' has kind ${v.kind}, expected ${kind}`);
    }
    return v as Extract<AttrValue, { kind: K }>;
  }

  private missing(name: string): never {
    throw invalidArgument(`Node '${this.nodeName}' (${this.op}) is missing required attr '${name}'`);
  }

  bytes(name: string, def?: Uint8Array): Uint8Array {
    return this.get(name, 's')?.s ?? def ?? this.missing(name);
  }
  string(name: string, def?: string): string {
    const v = this.get(name, 's');
    return v ? decodeString(v.s) : (def ?? this.missing(name));
  }
  int(name: string, def?: number): number {
    return this.get(name, 'i')?.i ?? def ?? this.missing(name);
  }
  float(name: string, def?: number): number {
    return this.get(name, 'f')?.f ?? def ?? this.missing(name);
  }
  bool(name: string, def?: boolean): boolean {
    return this.get(name, 'b')?.b ?? def ?? this.missing(name);
  }
  type(name: string, def?: DType): DType {
    return this.get(name, 'type')?.type ?? def ?? this.missing(name);
  }
  shape(name: string, def?: TensorShape): TensorShape {
    return this.get(name, 'shape')?.shape ?? def ?? this.missing(name);
  }
  tensor(name: string): Tensor {
    return this.get(name, 'tensor')?.tensor ?? this.missing(name);
  }
  func(name: string): NameAttrList {
    return this.get(name, 'func')?.func ?? this.missing(name);
  }

  private list(name: string) {
    const v = this.values[name];
    if (v === undefined || v.kind === 'none') return undefined;
    if (v.kind === 'invalid') throw unimplemented(`Node '${this.nodeName}' (${this.op}): attr '${name}': ${v.reason}`);
    if (v.kind !== 'list') throw invalidArgument(`Node '${this.nodeName}' (${this.op}): attr '${name}' is not a list`);
    return v.list;
  }
  ints(name: string, def?: number[]): number[] {
    return this.list(name)?.i ?? def ?? this.missing(name);
  }
  floats(name: string, def?: number[]): number[] {
    return this.list(name)?.f ?? def ?? this.missing(name);
  }
  types(name: string, def?: DType[]): DType[] {
    return this.list(name)?.type ?? def ?? this.missing(name);
  }
  shapes(name: string, def?: TensorShape[]): TensorShape[] {
    return this.list(name)?.shape ?? def ?? this.missing(name);
  }
  strings(name: string, def?: string[]): string[] {
    return this.list(name)?.s.map(decodeString) ?? def ?? this.missing(name);
  }
  funcs(name: string, def?: NameAttrList[]): NameAttrList[] {
    return this.list(name)?.func ?? def ?? this.missing(name);
  }
}
