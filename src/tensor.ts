// Tensor handles and tensor creation. A Tensor is a small handle (id, generation) onto the
// table in wasm memory; shape, dtype and data live there. Methods for ops are attached by the
// op-family files in src/ops/.

import { DType } from '../assembly/core/vocabulary.js';
import {
  wasm, views, I32, F32, F64, U8, ARGS, STATE, argsI32, checked, requireInit, recordWord,
} from './runtime.js';
import { DisposedError, ShapeError, AxisError, ValueError, DTypeError, formatShape } from './errors.js';
import { adopt } from './scope.js';
import { options, opt, checkArity, type OptionsOf } from './options.js';
import { checkShape, checkNumel, show, showList, MAX_RANK as SIZES_MAX_RANK } from './sizes.js';
import { T_GEN, T_DTYPE, T_RANK, T_NUMEL, T_DATA, T_FLAGS, T_SHAPE, F_LIVE } from '../assembly/core/abi.js';

/** The element types: 'float32' (the default), 'float64', 'int32' and 'bool' (PyTorch: torch.dtype). */
export type DTypeName = 'float32' | 'float64' | 'int32' | 'bool';
/** A number, a boolean, or nested arrays of them: what tensor() takes and toArray() gives. */
export type NestedArray = number | boolean | NestedArray[];
/** A tensor's shape, one size per dim ([] for a scalar) (PyTorch: torch.Size). */
export type Shape = readonly number[];
/** A number or nested arrays of numbers: what toArray() gives for a float or int32 tensor. */
export type NestedNumbers = number | NestedNumbers[];
/** A boolean or nested arrays of booleans: what toArray() gives for a bool tensor. */
export type NestedBooleans = boolean | NestedBooleans[];

// `using t = tensor(…)` (explicit resource management, TypeScript 5.2+) calls t[Symbol.dispose]().
// The symbol is declared here for consumers whose lib lacks esnext.disposable (the same
// declaration as the lib's, so the two merge), and polyfilled in runtimes that lack it, with the
// registered symbol that every copy of wasmgrad (and other polyfills) share.
declare global {
  interface SymbolConstructor {
    /** The method that `using` calls when its block ends. */
    readonly dispose: unique symbol;
  }
}
if (typeof Symbol.dispose !== 'symbol') {
  Object.defineProperty(Symbol, 'dispose', { value: Symbol.for('Symbol.dispose'), configurable: true });
}

export const MAX_RANK = SIZES_MAX_RANK;

export function dtypeCode(name: DTypeName, op = 'tensor'): DType {
  const code = (DType as any)[name];
  if (typeof code !== 'number') {
    throw new DTypeError(`${op}: unknown dtype '${String(name)}'; expected 'float32', 'float64', 'int32' or 'bool'`);
  }
  return code;
}
/** The dtypes' names by code (DType's reverse mapping, as an array: read for every new handle). */
const DTYPE_NAMES: DTypeName[] = [];
for (const name of ['float32', 'float64', 'int32', 'bool'] as const) DTYPE_NAMES[DType[name]] = name;
export function dtypeName(code: number): DTypeName { return DTYPE_NAMES[code]; }

const recordAddress = recordWord;
/** What wrap() passes the constructor: the id is the module's fresh result, checked already. */
const FRESH: unique symbol = Symbol('fresh');

/** @internal set while `accelerate` captures: a value read on the host would be baked into the program. */
let valueReadHook: ((t: Tensor) => void) | undefined;
/** @internal */
export function setValueReadHook(hook: ((t: Tensor) => void) | undefined): void { valueReadHook = hook; }

/** A tensor in wasm memory. Create with tensor(), zeros(), … or as the result of an op. */
export class Tensor {
  /** @internal */ readonly id: number;
  /** @internal */ readonly gen: number;
  private _shape?: number[];
  private _dtype?: DTypeName;
  /** @internal MATLAB's data format ('SSCB', 'CB', …), one label per dim; undefined when unformatted */
  _format: string | undefined = undefined;
  /** @internal set when the user disposed a tensor that a live tape still needs */
  disposed = false;
  /** @internal registered with the garbage collector's backstop (src/scope.ts) */
  _registered = false;

  /** @internal handles are made by wasmgrad, never by users */
  constructor(id: number, fresh?: typeof FRESH) {
    // An id the module has just returned (wrap) is a live tensor's: only its generation is read.
    if (fresh === FRESH) {
      views();
      const r = recordAddress(id);
      this.id = id;
      this.gen = I32[r + T_GEN / 4];
      this._dtype = DTYPE_NAMES[I32[r + T_DTYPE / 4]]; // read by the next op anyway, here without a liveness check
      return;
    }
    requireInit('Tensor');
    views();
    // The id must name a live record of the table: anything else would read (and later write)
    // memory that is not a tensor's.
    if (typeof id !== 'number' || (id | 0) !== id || id <= 0 || id >= I32[(STATE >>> 2) + 1]) {
      throw new ValueError(`Tensor: ${show(id)} is not the id of a tensor; tensors are made by tensor(), zeros(), … ` +
        'and by ops, not with new Tensor()');
    }
    const r = recordAddress(id);
    if ((I32[r + T_FLAGS / 4] & F_LIVE) === 0) {
      throw new DisposedError(`Tensor: id ${id} names no live tensor (it was disposed, or its scope ended)`);
    }
    this.id = id;
    this.gen = I32[r + T_GEN / 4];
  }

  /** True while the tensor's memory is still owned by this handle. */
  get isAlive(): boolean {
    if (this.disposed) return false;
    views();
    const r = recordAddress(this.id);
    return I32[r + T_GEN / 4] === this.gen && (I32[r + T_FLAGS / 4] & F_LIVE) !== 0;
  }

  /** @internal the id, after checking that the tensor is alive; `what` names op and argument. */
  use(what: string): number {
    if (!this.isAlive) {
      throw new DisposedError(`${what}: tensor (id ${this.id}) was disposed, or the scope that made it has ended; ` +
        'use keep() or return it from the scope to let it live on');
    }
    return this.id;
  }

  /** The size of each dim, a fresh array ([] for a scalar) (PyTorch: Tensor.shape; MATLAB: size). */
  get shape(): number[] { return this.dims.slice(); }
  /** @internal the shape without a defensive copy */
  get dims(): readonly number[] {
    if (this._shape === undefined) {
      this.use('shape');
      const r = recordAddress(this.id);
      const rank = I32[r + T_RANK / 4];
      const dims = new Array<number>(rank);
      for (let k = 0; k < rank; k++) dims[k] = I32[r + T_SHAPE / 4 + k];
      this._shape = dims;
    }
    return this._shape;
  }
  /**
   * MATLAB's data format: one label per dim ('S' spatial, 'C' channel, 'B' batch, 'T' time,
   * 'U' unspecified), in MATLAB's canonical order S…S C B T U…U, e.g. 'SSCB' for a tensor of
   * shape [h, w, c, n]; undefined for an unformatted tensor. Set by dlarray(X, fmt); see
   * docs/dlarray.md for which ops keep it.
   */
  get format(): string | undefined { return this._format; }
  /** The number of dims (PyTorch: Tensor.dim(); MATLAB: ndims). */
  get rank(): number { return this.dims.length; }
  /** The number of dims, as rank (PyTorch: Tensor.ndim). */
  get ndim(): number { return this.dims.length; }
  /** The number of elements, the product of the shape (PyTorch: Tensor.numel(); MATLAB: numel). */
  numel(): number { this.use('numel'); let n = 1; for (const d of this.dims) n *= d; return n; }
  /**
   * The shape (a fresh array) or, given a dim, its length; a negative dim counts from the end
   * and one out of range is an AxisError naming it (PyTorch: Tensor.size(dim?); MATLAB: size).
   */
  size(): number[];
  size(dim: number): number;
  size(dim?: number): number[] | number {
    if (arguments.length > 1) checkArity('size', arguments, 1, 'dim?');
    this.use('size');
    if (dim === undefined) return this.shape;
    const rank = this.dims.length;
    if (typeof dim !== 'number' || !Number.isInteger(dim)) {
      throw new ValueError(`size: dim must be an integer in [${-Math.max(rank, 1)}, ${Math.max(rank, 1) - 1}], got ${show(dim)}`);
    }
    if (rank === 0) throw new AxisError(`size: dim ${dim} is out of range: the tensor has no dimensions (rank 0)`);
    if (dim < -rank || dim >= rank) {
      throw new AxisError(`size: dim ${dim} is out of range for a tensor of rank ${rank} (expected [${-rank}, ${rank - 1}])`);
    }
    return this.dims[dim < 0 ? dim + rank : dim];
  }
  /** The element type: 'float32', 'float64', 'int32' or 'bool' (PyTorch: Tensor.dtype; MATLAB: underlyingType). */
  get dtype(): DTypeName {
    if (this._dtype === undefined) {
      this.use('dtype');
      this._dtype = dtypeName(I32[recordAddress(this.id) + T_DTYPE / 4]);
    }
    return this._dtype;
  }

  /** A typed-array copy of the data (row-major): Float32Array, Float64Array, Int32Array or Uint8Array. */
  data(): Float32Array | Float64Array | Int32Array | Uint8Array {
    const id = this.use('data');
    if (valueReadHook !== undefined) valueReadHook(this);
    views();
    const r = recordAddress(id);
    const n = I32[r + T_NUMEL / 4];
    const p = I32[r + T_DATA / 4] >>> 0; // addresses are unsigned: the whole 4 GiB
    switch (this.dtype) {
      case 'float32': return F32.slice(p >>> 2, (p >>> 2) + n);
      case 'float64': return F64.slice(p >>> 3, (p >>> 3) + n);
      case 'int32': return I32.slice(p >>> 2, (p >>> 2) + n);
      default: return U8.slice(p, p + n);
    }
  }

  /**
   * The values as nested JS arrays (a number for rank 0): numbers, or booleans for a bool tensor.
   * The nesting depth is the rank, so narrow with a cast: `t.toArray() as number[][]`.
   */
  toArray(): NestedNumbers | NestedBooleans {
    const flat = this.data();
    const isBool = this.dtype === 'bool';
    const dims = this.dims;
    const build = (k: number, offset: number): NestedNumbers | NestedBooleans => {
      if (k === dims.length) return isBool ? flat[offset] !== 0 : flat[offset];
      let stride = 1;
      for (let j = k + 1; j < dims.length; j++) stride *= dims[j];
      const out: (NestedNumbers | NestedBooleans)[] = new Array(dims[k]);
      for (let i = 0; i < dims[k]; i++) out[i] = build(k + 1, offset + i * stride);
      return out as NestedNumbers[] | NestedBooleans[];
    };
    return build(0, 0);
  }

  /**
   * The single value of a one-element tensor, as a number: a bool tensor gives 1 or 0 (use
   * itemBool() for a boolean).
   */
  item(): number {
    // The per-evaluation read of scalar loops: a live one-element tensor is read in place, with
    // no copy and no call; anything else (disposed, not one element, a capture watching reads)
    // takes the checked path.
    views();
    const r = recordAddress(this.id);
    if (!this.disposed && I32[r + T_GEN / 4] === this.gen && (I32[r + T_FLAGS / 4] & F_LIVE) !== 0 &&
        I32[r + T_NUMEL / 4] === 1 && valueReadHook === undefined) {
      const p = I32[r + T_DATA / 4] >>> 0;
      switch (I32[r + T_DTYPE / 4]) {
        case DType.float32: return F32[p >>> 2];
        case DType.float64: return F64[p >>> 3];
        case DType.int32: return I32[p >>> 2];
        default: return U8[p] !== 0 ? 1 : 0;
      }
    }
    if (this.numel() !== 1) {
      throw new ShapeError(`item: tensor of shape ${formatShape(this.dims)} has ${this.numel()} elements; item() needs exactly one`);
    }
    const v = this.data()[0];
    return this.dtype === 'bool' ? (v !== 0 ? 1 : 0) : v;
  }

  /** The single value of a one-element tensor as a boolean: whether it is nonzero (Python's bool(t)). */
  itemBool(): boolean { return this.item() !== 0; }

  /** 'Tensor([…], shape=[…], dtype=…)' with the values, or 'Tensor(disposed)'. */
  toString(): string {
    if (!this.isAlive) return 'Tensor(disposed)';
    const body = JSON.stringify(this.toArray(), (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
    const format = this._format === undefined ? '' : `, format='${this._format}'`;
    return `Tensor(${body}, shape=${formatShape(this.dims)}${format}, dtype=${this.dtype})`;
  }

  /** Frees the tensor now (deferred while a live tape still needs it). */
  dispose(): void {
    if (!this.isAlive) return;
    wasm.disposeTensor(this.id);
    this.disposed = true;
  }
  /** dispose(), for `using t = tensor(…)`: the tensor is freed when the block ends. */
  [Symbol.dispose](): void { this.dispose(); }
}

/** @internal called once, when the first formatted tensor is made (the MATLAB layer installs its format-keeping methods). */
let firstFormatHook: (() => void) | undefined;
/** @internal */
export function onFirstFormat(hook: () => void): void { firstFormatHook = hook; }

/**
 * @internal labels a tensor the MATLAB layer has made (a new handle, never a user's): `format`
 * must be a valid canonical format with one label per dim (src/matlab/format.ts checks that).
 */
export function setFormat(t: Tensor, format: string | undefined): Tensor {
  if (format !== undefined && firstFormatHook !== undefined) {
    const hook = firstFormatHook;
    firstFormatHook = undefined;
    hook();
  }
  t._format = format;
  return t;
}

/** @internal wraps a new id from the module into a handle (owned by the current scope). */
export function wrap(id: number): Tensor {
  const t = new Tensor(id, FRESH);
  adopt(t);
  return t;
}

/** @internal a new uninitialised tensor; the shape is checked (sizes, element count, bytes) before wasm sees it. */
export function empty(shape: Shape, dtype: DTypeName, op: string): Tensor {
  requireInit(op);
  const dims = checkShape(op, shape);
  dtypeCode(dtype, op);
  checkNumel(op, dims, dtype, 'a tensor');
  return wrap(checked(wasm.newTensor(dtypeCode(dtype, op), dims.length, argsI32(dims)), op));
}

/** Checks a shape argument: an array of at most 8 integer sizes in [0, 2^31 − 1] (see sizes.ts). */
export function validateShape(shape: Shape, op: string): void {
  checkShape(op, shape);
}

/** @internal the data pointer and element count of a live tensor. */
export function dataPointer(t: Tensor): number {
  views();
  return I32[recordAddress(t.id) + T_DATA / 4] >>> 0;
}

/** @internal copies flat values into a tensor's data. */
export function writeData(t: Tensor, values: ArrayLike<number | boolean>): void {
  const p = dataPointer(t);
  const n = values.length;
  switch (t.dtype) {
    case 'float32': {
      if (values instanceof Float32Array) F32.set(values, p >>> 2);
      else for (let i = 0; i < n; i++) F32[(p >>> 2) + i] = +values[i];
      break;
    }
    case 'float64': {
      if (values instanceof Float64Array) F64.set(values, p >>> 3);
      else for (let i = 0; i < n; i++) F64[(p >>> 3) + i] = +values[i];
      break;
    }
    case 'int32': for (let i = 0; i < n; i++) I32[(p >>> 2) + i] = +values[i] | 0; break;
    default: for (let i = 0; i < n; i++) U8[p + i] = values[i] ? 1 : 0;
  }
}

const TENSOR = options('tensor', {
  /** the dtype (default float32; float64 for a Float64Array, int32 for an Int32Array, bool for booleans) */
  dtype: opt.any<DTypeName>(),
  /** the shape to give flat data (as many elements as the data has) */
  shape: opt.any<Shape>(),
});
/** Options of tensor(): dtype (default float32; float64 for a Float64Array, int32 for an Int32Array, bool for booleans) and shape (for flat data). */
export type TensorOptions = OptionsOf<typeof TENSOR>;

type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array | Int8Array | Int16Array | Uint16Array | Uint32Array;

/**
 * A tensor from a number, a boolean, nested arrays or a typed array (flat, with `shape`).
 * dtype defaults to float32 (float64 for a Float64Array, int32 for an Int32Array, bool for
 * booleans). PyTorch: torch.tensor; MATLAB: dlarray.
 *
 * @param data - the values: nested arrays give the shape; flat data (an array or typed array) is 1-D unless `opts.shape` is given
 * @param opts - dtype, shape
 *
 * @example
 * ```ts
 * const x = tensor([[1, 2], [3, 4]]);                       // float32 [2, 2]
 * const y = tensor(new Float64Array(6), { shape: [2, 3] }); // float64 [2, 3]
 * const i = tensor([0, 2, 1], { dtype: 'int32' });
 * ```
 */
export function tensor(data: NestedArray | TypedArray | readonly number[], opts?: TensorOptions): Tensor {
  if (arguments.length > 2) checkArity('tensor', arguments, 2, 'data, options?');
  requireInit('tensor');
  const options = TENSOR.parse(opts);
  let flat: ArrayLike<number | boolean>;
  let shape: number[];
  let inferred: DTypeName = 'float32';
  if (ArrayBuffer.isView(data)) {
    if (data instanceof DataView || (typeof BigInt64Array !== 'undefined' && (data instanceof BigInt64Array || data instanceof BigUint64Array))) {
      throw new ValueError(`tensor: data is ${show(data)}; give numbers, booleans, nested arrays or a Float32Array, ` +
        'Float64Array, Int32Array (or another typed array of numbers); convert BigInt data with Number() first');
    }
    flat = data as TypedArray;
    shape = [flat.length];
    if (data instanceof Float64Array) inferred = 'float64';
    else if (data instanceof Int32Array) inferred = 'int32';
  } else {
    const parsed = parseNested(data as NestedArray);
    flat = parsed.flat;
    shape = parsed.shape;
    if (parsed.bool) inferred = 'bool';
  }
  if (options.shape !== undefined) {
    const given = checkShape('tensor', options.shape, 'options.shape');
    let n = 1;
    for (const d of given) n *= d;
    if (n !== flat.length) {
      throw new ShapeError(`tensor: ${flat.length} values cannot take shape ${formatShape(given)} (${n} elements)`);
    }
    shape = given;
  }
  const dtype = options.dtype ?? inferred;
  if (dtype === 'int32') checkInt32Values(flat);
  const t = empty(shape, dtype, 'tensor');
  writeData(t, flat);
  return t;
}

/** int32 data must be finite and, truncated toward zero (as PyTorch converts), in int32 range. */
function checkInt32Values(flat: ArrayLike<number | boolean>): void {
  if (flat instanceof Int32Array || flat instanceof Int16Array || flat instanceof Int8Array ||
      flat instanceof Uint16Array || flat instanceof Uint8Array || flat instanceof Uint8ClampedArray) return;
  for (let i = 0; i < flat.length; i++) {
    const v = flat[i];
    if (typeof v === 'boolean') continue;
    if (!(v >= -2147483648.99999 && v <= 2147483647.99999)) { // false for NaN
      throw new ValueError(`tensor: value ${show(v)} (element ${i}) cannot be stored as int32; int32 values are integers ` +
        'from -2147483648 to 2147483647 (use float64 for larger values)');
    }
  }
}

function parseNested(data: NestedArray): { flat: (number | boolean)[]; shape: number[]; bool: boolean } {
  const shape: number[] = [];
  const seen = new Set<unknown>();
  let probe: any = data;
  let path = 'data';
  while (Array.isArray(probe)) {
    if (seen.has(probe)) throw new ValueError(`tensor: the nested array contains itself (${path} is an enclosing array); data must be a tree of arrays`);
    seen.add(probe);
    if (shape.length === MAX_RANK) {
      throw new ShapeError(`tensor: the nested array is nested more than ${MAX_RANK} deep (${path} is still an array); at most ${MAX_RANK} dims are supported`);
    }
    shape.push(probe.length);
    probe = probe[0];
    path += '[0]';
  }
  const flat: (number | boolean)[] = [];
  let bools = 0;
  const walk = (x: any, k: number, path: string): void => {
    if (k === shape.length) {
      if (Array.isArray(x)) {
        throw new ShapeError(`tensor: ragged nested array: element ${path} is an array, but elements at depth ${k} elsewhere are numbers (inferred shape ${formatShape(shape)})`);
      }
      if (typeof x === 'boolean') bools++;
      else if (typeof x !== 'number') {
        throw new ValueError(`tensor: element ${path} is ${x === null ? 'null' : typeof x} (${typeof x === 'string' ? x : show(x)}); ` +
          'expected a number or a boolean');
      }
      flat.push(x);
      return;
    }
    if (!Array.isArray(x) || x.length !== shape[k]) {
      const got = Array.isArray(x) ? `length ${x.length}` : show(x);
      throw new ShapeError(`tensor: ragged nested array: element ${path} has ${got}, expected length ${shape[k]} (inferred shape ${formatShape(shape)})`);
    }
    for (let i = 0; i < x.length; i++) walk(x[i], k + 1, `${path}[${i}]`);
  };
  walk(data, 0, 'data');
  if (bools !== 0 && bools !== flat.length) throw new ValueError('tensor: nested array mixes booleans and numbers');
  return { flat, shape, bool: bools !== 0 && bools === flat.length };
}

const createSpecs = {
  /** the dtype (default float32) */
  dtype: opt.any<DTypeName>(),
};
const FULL = options('full', createSpecs);
const ZEROS = options('zeros', createSpecs);
const ONES = options('ones', createSpecs);
/** Options of zeros / ones / full: dtype (default float32). */
export type CreateOptions = OptionsOf<typeof createSpecs>;

function filled(op: string, shape: Shape, value: number, options: CreateOptions): Tensor {
  if (typeof value !== 'number' && typeof value !== 'boolean') throw new ValueError(`${op}: value must be a number, got ${typeof value}`);
  const t = empty(shape, options.dtype ?? 'float32', op);
  wasm.fillScalar(t.id, +value);
  return t;
}
/** A tensor of `shape` filled with `value` (PyTorch: torch.full; MATLAB: repmat(value, …)). */
export function full(shape: Shape, value: number, options?: CreateOptions): Tensor {
  if (arguments.length > 3) checkArity('full', arguments, 3, 'shape, value, options?');
  return filled('full', shape, value, FULL.parse(options));
}
/** A tensor of `shape` filled with 0 (PyTorch: torch.zeros; MATLAB: zeros). */
export function zeros(shape: Shape, options?: CreateOptions): Tensor {
  if (arguments.length > 2) checkArity('zeros', arguments, 2, 'shape, options?');
  return filled('zeros', shape, 0, ZEROS.parse(options));
}
/** A tensor of `shape` filled with 1 (PyTorch: torch.ones; MATLAB: ones). */
export function ones(shape: Shape, options?: CreateOptions): Tensor {
  if (arguments.length > 2) checkArity('ones', arguments, 2, 'shape, options?');
  return filled('ones', shape, 1, ONES.parse(options));
}

/** @internal a rank-0 constant. */
export function scalarTensor(value: number, dtype: DTypeName): Tensor {
  const t = empty([], dtype, 'scalar');
  wasm.fillScalar(t.id, value);
  return t;
}

/** Whether `x` is a Tensor handle. */
export function isTensor(x: unknown): x is Tensor { return x instanceof Tensor; }

export { ARGS };
