// Shared validation for the op-family files: operands, dtypes, broadcasting, axes.

import { Tensor, dtypeCode, scalarTensor, wrap, type DTypeName, type Shape } from '../tensor.js';
import { wasm, checked, requireInit, argsI32 } from '../runtime.js';
import { ShapeError, DTypeError, AxisError, ValueError, formatShape } from '../errors.js';
import { Op, DType } from '../../assembly/core/vocabulary.js';
import { show, showList } from '../sizes.js';

export type TensorLike = Tensor | number | boolean;

export const isFloat = (d: DTypeName): boolean => d === 'float32' || d === 'float64';

/** The id of a live tensor argument; `what` reads like "add (b)". */
export function idOf(x: Tensor, what: string): number {
  if (!(x instanceof Tensor)) {
    let got: string;
    try {
      got = x === null ? 'null' : typeof x === 'object' ? (x as object).constructor?.name ?? 'object' : typeof x;
    } catch {
      got = 'an object';
    }
    throw new ValueError(`${what}: expected a Tensor, got ${got}`);
  }
  return x.use(what);
}

/**
 * Throws the DisposedError of `op (arg)` unless t is alive: use()'s check, with the message built
 * only when it fails (an op's hot path).
 */
export function alive(t: Tensor, op: string, arg: string): void {
  if (!t.isAlive) t.use(`${op} (${arg})`);
}

/** Whether two shapes are equal. */
export function sameDims(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}

/** A Tensor argument that may also be given as a JS number (made a rank-0 tensor of `dtype`). */
export function asTensor(x: TensorLike, dtype: DTypeName, what: string): Tensor {
  if (typeof x === 'number' || typeof x === 'boolean') return scalarTensor(+x, dtype);
  idOf(x, what);
  return x;
}

/** The NumPy broadcast of two shapes, or a ShapeError naming the op and both shapes. */
export function broadcastShapes(op: string, a: Shape, b: Shape, names = ['a', 'b']): number[] {
  const r = Math.max(a.length, b.length);
  const out = new Array<number>(r);
  for (let k = 0; k < r; k++) {
    const da = k - (r - a.length) >= 0 ? a[k - (r - a.length)] : 1;
    const db = k - (r - b.length) >= 0 ? b[k - (r - b.length)] : 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(`${op}: shapes ${formatShape(a)} (${names[0]}) and ${formatShape(b)} (${names[1]}) ` +
        `cannot be broadcast: dim ${k - r} is ${da} vs ${db}`);
    }
    out[k] = da === 1 ? db : da;
  }
  return out;
}

/**
 * Normalises an axis in [-rank, rank) to [0, rank); a rank-0 tensor takes 0 or -1, as in PyTorch.
 * Not a number (a string, an object, a Symbol, a BigInt): ValueError; a number that is not an
 * integer or is out of range: AxisError. Both name the op and the argument.
 */
export function normAxis(op: string, axis: number, rank: number, arg = 'axis'): number {
  const r = Math.max(rank, 1);
  if (typeof axis !== 'number') {
    throw new ValueError(`${op}: ${arg} must be an integer in [${-r}, ${r - 1}], got ${show(axis)}`);
  }
  if (!Number.isInteger(axis) || axis < -r || axis >= r) {
    throw new AxisError(`${op}: ${arg} ${axis} is out of range for a tensor of rank ${rank} (expected [${-r}, ${r - 1}])`);
  }
  return axis < 0 ? axis + r : axis;
}

/**
 * An axes argument as a list: one axis (a number) or an array of them; anything else (an object,
 * a string, a Symbol, a BigInt, a typed array of another kind) is a ValueError naming the op and
 * the argument. The entries are checked by normAxis.
 */
export function axisArgList(op: string, axes: unknown, arg = 'axes'): unknown[] {
  if (typeof axes === 'number') return [axes];
  if (Array.isArray(axes)) return axes;
  if (axes instanceof Int32Array || axes instanceof Int16Array || axes instanceof Int8Array) return Array.from(axes);
  throw new ValueError(`${op}: ${arg} must be an integer, an array of integers${arg === 'axes' ? ' or null (all axes)' : ''}, got ${show(axes)}`);
}

/** A set of axes (number, array, or undefined for all) as a bitmask over `rank` dims. */
export function axesMask(op: string, axes: number | readonly number[] | undefined | null, rank: number): number {
  if (axes === undefined || axes === null) return rank === 0 ? 0 : (2 ** rank - 1);
  const list = axisArgList(op, axes);
  let mask = 0;
  for (const a of list) {
    if (rank === 0 && (a === 0 || a === -1)) continue;
    const k = normAxis(op, a as number, rank);
    if (mask & (1 << k)) throw new AxisError(`${op}: axis ${a as number} appears more than once in ${showList(list)}`);
    mask |= 1 << k;
  }
  return mask;
}

/**
 * Brings two float operands to one dtype for an arithmetic op. float32 with float64 is an
 * error (wasmgrad never widens silently); an int or bool operand takes the float one's dtype.
 * Returns the operands and temporaries to dispose after the op.
 */
export function floatPair(op: string, a: Tensor, b: Tensor): [Tensor, Tensor, Tensor[]] {
  const da = a.dtype, db = b.dtype;
  if (da === db && isFloat(da)) return [a, b, []];
  if (isFloat(da) && isFloat(db)) {
    throw new DTypeError(`${op}: cannot mix float32 and float64 (a is ${da} ${formatShape(a.dims)}, b is ${db} ${formatShape(b.dims)}); ` +
      "cast one with .to('float32') or .to('float64')");
  }
  if (isFloat(da)) { const c = castTo(b, da); return [a, c, [c]]; }
  if (isFloat(db)) { const c = castTo(a, db); return [c, b, [c]]; }
  const ca = castTo(a, 'float32'), cb = castTo(b, 'float32');
  return [ca, cb, [ca, cb]];
}

/** A float operand for a unary op: int and bool tensors become float32 (as PyTorch does). */
export function floatOperand(op: string, x: Tensor, arg = 'x'): [Tensor, Tensor[]] {
  idOf(x, `${op} (${arg})`);
  if (isFloat(x.dtype)) return [x, []];
  const c = castTo(x, 'float32');
  return [c, [c]];
}

export function castTo(x: Tensor, dtype: DTypeName): Tensor {
  return wrap(checked(wasm.cast(x.use('cast (x)'), dtypeCode(dtype, 'cast')), 'cast'));
}

export function disposeAll(ts: Tensor[]): void { for (const t of ts) t.dispose(); }

/** Runs a wasm op call and wraps its result. */
export function call(op: string, id: number): Tensor { return wrap(checked(id, op)); }

/** x with another shape of the same size, recorded (no validation: the caller has checked `dims`). */
export function reshapeRaw(op: string, x: Tensor, dims: readonly number[]): Tensor {
  return call(op, wasm.reshapeTo(x.id, dims.length, argsI32(dims)));
}

export { Op, DType, requireInit };
