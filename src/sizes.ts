// Size and shape arithmetic, checked on the host before any allocation or call into wasm.
//
// The wasm kernels index with i32 and the module's memory is 32-bit, so every tensor must have:
//   - each dim an integer in [0, 2^31 − 1]              (a record stores its dims as i32s)
//   - at most 2^31 − 1 elements, and row-major strides that fit i32 (T_NUMEL is an i32, kernels
//     compute offsets as i32 products of dims)
//   - at most 0xfff00000 bytes of data                  (assembly/core/alloc.ts refuses more)
//   - rank at most 8                                     (assembly/core/tensor.ts MAX_RANK)
// A request outside these limits is refused here: a ValueError when an argument is not a valid
// size (negative, non-integer, NaN, not a number, or one dim beyond int32), an OutOfMemoryError
// when the sizes are valid but the result could not be held (too many elements or bytes). An
// impossible request never reaches wasm, where an i32 that wrapped would become a negative
// shape, a wrong byte count or a write outside the allocation.
//
// Messages name the op, the argument and the value or shape; they are built with `show`, which
// never throws (Symbols, BigInts, cyclic arrays and objects included).

import { ValueError, ShapeError, OutOfMemoryError } from './errors.js';
import { describeValue } from './options.js';
import { wasm } from './runtime.js';
import type { DTypeName } from './tensor.js';

export const INT32_MAX = 2147483647;
export const INT32_MIN = -2147483648;
/** The largest dim (an i32 in the tensor record). */
export const MAX_DIM = INT32_MAX;
/** The most elements a tensor can have (T_NUMEL is an i32; kernels index with i32). */
export const MAX_ELEMENTS = INT32_MAX;
/** The most bytes one allocation can have (assembly/core/alloc.ts refuses more than 0xfff00000). */
export const MAX_TENSOR_BYTES = 0xfff00000;
/** The whole wasm32 address space. */
export const WASM_MEMORY_BYTES = 2 ** 32;
/** The most dims a tensor can have (assembly/core/tensor.ts). */
export const MAX_RANK = 8;

/** Bytes per element of a dtype. */
export function itemSize(dtype: DTypeName): number {
  return dtype === 'float64' ? 8 : dtype === 'bool' ? 1 : 4;
}

// ————————————————————————————————————————————————————————— messages that never throw

/** A value as a message shows it: numbers as they are (-0, NaN, Infinity too), anything else described. */
export function show(v: unknown): string {
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  try {
    return describeValue(v);
  } catch {
    return 'a value that cannot be described';
  }
}

const isList = (v: unknown): v is ArrayLike<unknown> =>
  Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView));

/** A list as a message shows it ([2, -1], [2, a symbol], [an array]); at most 16 entries; never throws. */
export function showList(v: unknown): string {
  if (!isList(v)) return show(v);
  const n = Math.min(v.length, 16);
  const items: string[] = [];
  for (let i = 0; i < n; i++) {
    const e = v[i];
    items.push(typeof e === 'number' ? show(e) : typeof e === 'bigint' ? `${String(e)}n` : show(e));
  }
  return `[${items.join(', ')}${v.length > n ? `, … (${v.length} entries)` : ''}]`;
}

/** A shape that is known to hold numbers, as [2, 3]. */
export const showShape = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

// ————————————————————————————————————————————————————————— single sizes and integers

/** Why `v` is not an integer in [min, max], or undefined when it is. */
export function integerProblem(v: unknown, min: number, max: number): string | undefined {
  const safe = min <= -Number.MAX_SAFE_INTEGER && max >= Number.MAX_SAFE_INTEGER;
  const expected = safe ? 'a safe integer (at most 2^53 - 1 in size)' : min === 0 ? 'a non-negative integer' :
    max === MAX_DIM || max >= Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer from ${min} to ${max}`;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) return `must be ${expected}, got ${show(v)}`;
  if (v > max) {
    return max === MAX_DIM
      ? `is ${show(v)}, more than ${MAX_DIM}, the largest size (sizes are 32-bit integers in wasm)`
      : `must be ${safe || expected.includes(' to ') ? expected : `${expected} <= ${max}`}, got ${show(v)}`;
  }
  return undefined;
}

/**
 * A size argument (a count, a dim, a number of classes, …): an integer in [min, max], by default
 * [0, 2^31 − 1]. Anything else is a ValueError naming the op, the argument and the value.
 */
export function checkSize(op: string, arg: string, v: unknown, min = 0, max = MAX_DIM): number {
  const problem = integerProblem(v, min, max);
  if (problem !== undefined) throw new ValueError(`${op}: ${arg} ${problem}`);
  return v as number;
}

/**
 * An integer argument that may be negative (an offset, a shift, a start index): a safe integer
 * in [min, max] (by default ±(2^53 − 1)). Anything else is a ValueError.
 */
export function checkInteger(op: string, arg: string, v: unknown, min = -Number.MAX_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
  const problem = integerProblem(v, min, max);
  if (problem !== undefined) throw new ValueError(`${op}: ${arg} ${problem}`);
  return v as number;
}

// ————————————————————————————————————————————————————————— products

/**
 * The product of sizes: exact while it is at most 2^53 − 1, Infinity beyond (compare it with a
 * limit; never use a saturated value as a count). 0 when any size is 0, 1 for no sizes. Every
 * entry must be a non-negative safe integer, else a ValueError naming `op` and `arg`.
 */
export function product(sizes: ArrayLike<unknown>, op = 'product', arg = 'sizes'): number {
  let zero = false;
  for (let i = 0; i < sizes.length; i++) {
    const v = sizes[i];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
      throw new ValueError(`${op}: ${arg} ${showList(sizes)} has an invalid entry ${show(v)} at position ${i}; ` +
        'sizes are non-negative safe integers');
    }
    if (v === 0) zero = true;
  }
  if (zero) return 0;
  let p = 1;
  for (let i = 0; i < sizes.length; i++) {
    p *= sizes[i] as number;
    if (p > Number.MAX_SAFE_INTEGER) return Infinity;
  }
  return p;
}

/** The row-major strides of a shape (in elements); exact while they are safe integers. */
export function stridesOf(shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length);
  let s = 1;
  for (let k = shape.length - 1; k >= 0; k--) {
    out[k] = s;
    s = s * Math.max(shape[k], 1);
  }
  return out;
}

// ————————————————————————————————————————————————————————— shapes given by the user

export interface ShapeParse {
  /** accept -1 entries: 'one' (a size to infer, as reshape's) or 'many' (sizes to keep, as expand's) */
  minusOne?: 'one' | 'many';
  /** accept a single number as a 1-D shape (rand(5)) */
  allowNumber?: boolean;
}

/**
 * A shape argument as a fresh array of sizes: an array (or typed array) of at most 8 integers in
 * [0, 2^31 − 1] (and -1 entries as `how.minusOne` allows). Not an array: ValueError; more than 8 dims:
 * ShapeError; a bad entry: ValueError naming its position and value. Element counts are not
 * checked here (see checkNumel).
 */
export function checkShape(op: string, shape: unknown, arg = 'shape', how: ShapeParse = {}): number[] {
  if (how.allowNumber && typeof shape === 'number') shape = [shape];
  if (!isList(shape)) {
    throw new ValueError(`${op}: ${arg} must be an array of sizes${how.allowNumber ? ' or a number' : ''}, got ${show(shape)}`);
  }
  if (shape.length > MAX_RANK) {
    throw new ShapeError(`${op}: ${arg} ${showList(shape)} has rank ${shape.length}; at most ${MAX_RANK} dims are supported`);
  }
  const out = new Array<number>(shape.length);
  let inferAt = -1;
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (how.minusOne !== undefined && d === -1) {
      if (inferAt !== -1 && how.minusOne === 'one') throw new ShapeError(`${op}: only one size may be -1, got ${showList(shape)}`);
      inferAt = i;
      out[i] = -1;
      continue;
    }
    const problem = integerProblem(d, 0, MAX_DIM);
    if (problem !== undefined) {
      throw new ValueError(`${op}: ${arg} ${showList(shape)} has an invalid size ${show(d)} at position ${i}: ` +
        `sizes are integers >= 0 and <= ${MAX_DIM}${how.minusOne === 'one' ? ' (or one -1)' : how.minusOne === 'many' ? ' (or -1)' : ''}`);
    }
    out[i] = d as number;
  }
  return out;
}

// ————————————————————————————————————————————————————————— shapes that must fit a tensor

/** The OutOfMemoryError of a tensor that cannot be held: requested and available bytes. */
export function tooLarge(op: string, what: string, shape: readonly number[], dtype: DTypeName, numel: number): OutOfMemoryError {
  const bytes = numel * itemSize(dtype);
  const available = availableBytes();
  const approx = (v: number, unit: string): string => (v <= Number.MAX_SAFE_INTEGER ? `${v} ${unit}` :
    Number.isFinite(v) ? `about ${v.toPrecision(4)} ${unit}` : `more than ${Number.MAX_VALUE} ${unit}`);
  const count = approx(numel, 'elements');
  const size = approx(bytes, 'bytes');
  return new OutOfMemoryError(`${op}: out of memory: ${what} of shape ${showShape(shape)} (${dtype}) needs ${size} (${count}); ` +
    `a tensor can have at most ${MAX_TENSOR_BYTES} bytes and ${MAX_ELEMENTS} elements in wasm memory ` +
    `(${WASM_MEMORY_BYTES} bytes), and ${available} bytes are available`, bytes, available);
}

function availableBytes(): number {
  try {
    return wasm === undefined ? 0 : wasm.availableBytes();
  } catch {
    return 0;
  }
}

/**
 * Checks a shape the host computed for a new tensor (an op's output or temporary) before any
 * call into wasm, and returns its element count. Entries that are not integers >= 0 (a
 * negative or fractional size from bad arguments) are a ValueError; a valid shape that a tensor
 * cannot have — more than 2^31 − 1 elements, a dim or a stride beyond int32, more bytes than
 * alloc hands out, more than 8 dims — is an OutOfMemoryError (or ShapeError for the rank).
 * `what` reads like "the result" or "the index".
 */
export function checkNumel(op: string, shape: readonly number[], dtype: DTypeName, what = 'the result'): number {
  if (shape.length > MAX_RANK) {
    throw new ShapeError(`${op}: ${what} would have shape ${showList(shape)} of rank ${shape.length}; at most ${MAX_RANK} dims are supported`);
  }
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (typeof d !== 'number' || Number.isNaN(d) || d < 0 || (Number.isFinite(d) && !Number.isInteger(d))) {
      throw new ValueError(`${op}: ${what} would have shape ${showList(shape)}, with an invalid size ${show(d)} at position ${i}`);
    }
  }
  let numel = 1, strides = 1, zero = false;
  for (const d of shape) {
    if (d === 0) { zero = true; continue; }
    strides *= d; // the product of the non-zero dims bounds every stride
  }
  numel = zero ? 0 : strides;
  if (numel > MAX_ELEMENTS) throw tooLarge(op, what, shape, dtype, numel);
  if (numel * itemSize(dtype) > MAX_TENSOR_BYTES) throw tooLarge(op, what, shape, dtype, numel);
  if (strides > MAX_ELEMENTS || shape.some((d) => d > MAX_DIM)) {
    // An empty tensor whose other dims still make an i32 stride or dim overflow.
    throw new ValueError(`${op}: ${what} would have shape ${showList(shape)}: it has no elements, but its dims or ` +
      `strides exceed ${MAX_DIM}, which wasm's 32-bit indexing cannot address`);
  }
  return numel;
}

/**
 * A count the host computed that a kernel holds in an i32 (a padded extent, a column buffer, an
 * index range): an integer in [0, 2^31 − 1], else a ValueError naming the op and what it is.
 */
export function checkExtent(op: string, what: string, v: number, detail = ''): number {
  if (!Number.isInteger(v) || v < 0 || v > INT32_MAX) {
    throw new ValueError(`${op}: ${what} is ${show(v)}${detail ? ` (${detail})` : ''}; it must be at most ${INT32_MAX}, ` +
      'the largest extent the 32-bit wasm kernels can index');
  }
  return v;
}

/**
 * Checks nested arrays of integers (index arguments given as JS arrays): every leaf an integer in
 * int32 range, nesting at most 8 deep (so a cyclic array is refused, never recursed into forever).
 */
export function checkIntegerTree(op: string, arg: string, v: unknown, depth = 0): void {
  if (Array.isArray(v)) {
    if (depth >= MAX_RANK) {
      throw new ValueError(`${op}: ${arg} is nested more than ${MAX_RANK} deep (or contains itself); at most ${MAX_RANK} dims are supported`);
    }
    for (let i = 0; i < v.length; i++) checkIntegerTree(op, arg, v[i], depth + 1);
    return;
  }
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw new ValueError(`${op}: ${arg} must be integers (an int32 tensor, an Int32Array or an array), got ${show(v)}`);
  }
  if (v < INT32_MIN || v > INT32_MAX) {
    throw new ValueError(`${op}: ${arg} holds ${v}, which is out of range: indices are int32 (from ${INT32_MIN} to ${INT32_MAX})`);
  }
}
