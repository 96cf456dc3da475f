/**
 * A lookup table resource (TF's HashTable, MutableHashTable and
 * MutableHashTableOfTensors): keys are scalars of one dtype, values scalars
 * (or vectors of `valueShape`) of another. Tables live in the model's
 * ResourceManager, so they are created and initialised once per loaded
 * version and keep their contents across runs, as in one TF session.
 *
 * Keys are held as JS map keys: strings as their bytes read as latin1 (so any
 * byte sequence is a distinct key), int64 as bigint, other integers as numbers.
 */
import { dtypeShortName, type DType } from '../../dtypes.js';
import { failedPrecondition, invalidArgument, unimplemented } from '../../errors.js';
import { allocHost, shapeString, Tensor } from '../../tensor.js';

export type TableKind = 'HashTable' | 'MutableHashTable' | 'MutableHashTableOfTensors';
type Key = string | number | bigint;
/** One value: an element of a host array (scalar tables) or a row of them. */
type Value = unknown;

const KEY_DTYPES: readonly DType[] = ['string', 'int64', 'int32'];

function keysOf(t: Tensor): Key[] {
  const v = t.values() as ArrayLike<unknown>;
  const out = new Array<Key>(t.size);
  if (t.dtype === 'string') for (let i = 0; i < t.size; i++) out[i] = Buffer.from(v[i] as Uint8Array).toString('latin1');
  else for (let i = 0; i < t.size; i++) out[i] = v[i] as number | bigint;
  return out;
}

function keyTensor(dtype: DType, keys: Key[]): Tensor {
  const data = allocHost(dtype, keys.length) as unknown[] & ArrayLike<unknown>;
  for (let i = 0; i < keys.length; i++) (data as unknown[])[i] = dtype === 'string' ? new Uint8Array(Buffer.from(keys[i] as string, 'latin1')) : keys[i];
  return Tensor.fromHost(dtype, [keys.length], data as never);
}

const dt = (d: DType) => dtypeShortName(d);

export class LookupTable {
  private readonly entries = new Map<Key, Value>();
  private initialized = false;
  /** Elements per value: 1 for scalar tables, the vector length for OfTensors. */
  private readonly width: number;

  constructor(
    readonly kind: TableKind,
    readonly keyDtype: DType,
    readonly valueDtype: DType,
    readonly valueShape: readonly number[] = [],
  ) {
    if (!KEY_DTYPES.includes(keyDtype)) throw unimplemented(`${kind} with ${dt(keyDtype)} keys is not supported (string, int32 and int64 keys are)`);
    if (kind === 'MutableHashTableOfTensors' && valueShape.length !== 1) {
      throw invalidArgument(`Default value must be a vector, got shape ${shapeString(valueShape)}`);
    }
    this.width = valueShape.length === 0 ? 1 : valueShape[0];
  }

  get isInitializable(): boolean {
    return this.kind === 'HashTable';
  }

  size(): number {
    return this.entries.size;
  }

  private checkTypes(keys: Tensor, values: Tensor | undefined): void {
    if (keys.dtype !== this.keyDtype) throw invalidArgument(`Key must be type ${dt(this.keyDtype)} but got ${dt(keys.dtype)}`);
    if (values && values.dtype !== this.valueDtype) throw invalidArgument(`Value must be type ${dt(this.valueDtype)} but got ${dt(values.dtype)}`);
  }

  private checkPairs(keys: Tensor, values: Tensor): void {
    this.checkTypes(keys, values);
    const expected = [...keys.shape, ...this.valueShape];
    if (expected.length !== values.shape.length || expected.some((d, i) => d !== values.shape[i])) {
      throw invalidArgument(`Expected shape ${shapeString(expected)} for value, got ${shapeString(values.shape)}`);
    }
  }

  private valuesOf(values: Tensor): Value[] {
    const v = values.values() as ArrayLike<unknown>;
    const n = values.size / this.width;
    const out = new Array<Value>(n);
    if (this.width === 1) for (let i = 0; i < n; i++) out[i] = v[i];
    else for (let i = 0; i < n; i++) out[i] = Array.prototype.slice.call(v, i * this.width, (i + 1) * this.width);
    return out;
  }

  /** LookupTableFind: the value of each key, or the default (one value, or one per key). */
  find(keys: Tensor, defaultValue: Tensor): Tensor {
    this.checkTypes(keys, defaultValue);
    if (this.kind === 'HashTable' && !this.initialized) throw failedPrecondition('Table not initialized.');
    const outShape = [...keys.shape, ...this.valueShape];
    const perKey = defaultValue.shape.length === outShape.length && defaultValue.shape.every((d, i) => d === outShape[i]);
    const single = defaultValue.shape.length === this.valueShape.length && defaultValue.shape.every((d, i) => d === this.valueShape[i]);
    if (!single && !perKey) {
      throw invalidArgument(
        `Expected shape ${shapeString(this.valueShape)} or ${shapeString(outShape)} for argument 'default_value' got ${shapeString(defaultValue.shape)}`,
      );
    }
    const ks = keysOf(keys);
    const def = defaultValue.values() as ArrayLike<unknown>;
    const out = allocHost(this.valueDtype, keys.size * this.width) as unknown as unknown[];
    const w = this.width;
    for (let i = 0; i < ks.length; i++) {
      const hit = this.entries.get(ks[i]);
      if (w === 1) out[i] = hit !== undefined ? hit : def[perKey ? i : 0];
      else for (let j = 0; j < w; j++) out[i * w + j] = hit !== undefined ? (hit as unknown[])[j] : def[(perKey ? i * w : 0) + j];
    }
    return Tensor.fromHost(this.valueDtype, outShape, out as never);
  }

  /** InitializeTable / LookupTableImport on a HashTable: once; again only with the same data. */
  initialize(keys: Tensor, values: Tensor): void {
    this.checkPairs(keys, values);
    this.initializeFrom(keysOf(keys), this.valuesOf(values));
  }

  /** Initialises from parallel key and value lists (text file initialisers). */
  initializeFrom(keys: Key[], values: Value[]): void {
    if (this.initialized) {
      const same = keys.length === this.entries.size && keys.every((k, i) => this.entries.has(k) && sameValue(this.entries.get(k), values[i]));
      if (!same) throw failedPrecondition('Table was already initialized with different data.');
      return;
    }
    const fresh = new Map<Key, Value>();
    for (let i = 0; i < keys.length; i++) {
      const prior = fresh.get(keys[i]);
      if (prior !== undefined && !sameValue(prior, values[i])) {
        throw failedPrecondition(
          `HashTable has different value for same key. Key ${showKey(keys[i])} has ${showValue(prior)} and trying to add value ${showValue(values[i])}`,
        );
      }
      fresh.set(keys[i], values[i]);
    }
    for (const [k, v] of fresh) this.entries.set(k, v);
    this.initialized = true;
  }

  get isInitialized(): boolean {
    return this.initialized;
  }

  insert(keys: Tensor, values: Tensor): void {
    if (this.kind === 'HashTable') throw unimplemented('Insert not supported by this table: it is initialized once (a static HashTable).');
    this.checkPairs(keys, values);
    const ks = keysOf(keys);
    const vs = this.valuesOf(values);
    for (let i = 0; i < ks.length; i++) this.entries.set(ks[i], vs[i]);
  }

  /** LookupTableImport: replaces the contents (mutable tables) or initialises (HashTable). */
  import(keys: Tensor, values: Tensor): void {
    if (this.kind === 'HashTable') return this.initialize(keys, values);
    this.checkPairs(keys, values);
    this.entries.clear();
    this.insert(keys, values);
  }

  remove(keys: Tensor): void {
    if (this.kind === 'HashTable') throw unimplemented('Remove not supported by this table: it is initialized once (a static HashTable).');
    this.checkTypes(keys, undefined);
    for (const k of keysOf(keys)) this.entries.delete(k);
  }

  /** LookupTableExport: [keys, values], in insertion order. */
  export(): [Tensor, Tensor] {
    const keys = [...this.entries.keys()];
    const n = keys.length;
    const values = allocHost(this.valueDtype, n * this.width) as unknown as unknown[];
    let i = 0;
    for (const v of this.entries.values()) {
      if (this.width === 1) values[i++] = v;
      else for (const x of v as unknown[]) values[i++] = x;
    }
    return [keyTensor(this.keyDtype, keys), Tensor.fromHost(this.valueDtype, [n, ...this.valueShape], values as never)];
  }
}

function sameValue(a: Value, b: Value): boolean {
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.from(a).equals(Buffer.from(b));
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  return a === b || (typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b));
}

const showKey = (k: Key) => (typeof k === 'string' ? Buffer.from(k, 'latin1').toString('utf8') : String(k));
const showValue = (v: Value) => (v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : String(v));
