// Linear-algebra ops built from differentiable primitives (so VJP, JVP and higher derivatives
// come for free): diag, matrixTrace (torch.trace), and norms with torch.linalg's semantics —
// norm, vectorNorm, matrixNorm.

import { Tensor } from '../tensor.js';
import { wasm, argsI32 } from '../runtime.js';
import { ShapeError, DTypeError, ValueError, formatShape } from '../errors.js';
import { idOf, call, requireInit, isFloat, disposeAll, normAxis, axisArgList } from './common.js';
import { abs, square, sqrt, pow, where, eq, ne, cast } from './elementwise.js';
import { sum, amax, amin, type Axes } from './reduce.js';
import { reshape, permute, select } from './shape.js';
import { svdvals } from './linalg.js';
import { options, opt, checkArity, type OptionsOf } from '../options.js';
import { checkInteger, checkNumel, show, showList } from '../sizes.js';

// ————————————————————————————————————————————————————————— diag, trace

function checkOffset(op: string, offset: unknown): number {
  if (typeof offset !== 'number' || !Number.isInteger(offset)) {
    throw new ValueError(`${op}: offset must be an integer, got ${show(offset)}`);
  }
  return checkInteger(op, 'offset', offset);
}

/** The length of diagonal `k` of an m×n matrix (0 when it lies outside). */
const diagonalLength = (m: number, n: number, k: number): number =>
  Math.max(0, k >= 0 ? Math.min(m, n - k) : Math.min(m + k, n));

/** Diagonal k of the m×n matrix x (a strided slice of its flat data; its VJP embeds g back). */
function diagonalOf(x: Tensor, k: number): Tensor {
  const [m, n] = x.dims;
  const flat = call('diag', wasm.reshapeTo(x.id, 1, argsI32([m * n])));
  try {
    const len = diagonalLength(m, n, k);
    const start = len === 0 ? 0 : k >= 0 ? k : -k * n;
    // A step only matters for two or more elements, when n + 1 <= m·n fits int32.
    return call('diag', wasm.slice(flat.id, argsI32([start, len <= 1 ? 1 : n + 1, len]), -1));
  } finally {
    flat.dispose();
  }
}

/** The N×N matrix, N = len + |k|, with v on diagonal k and zeros elsewhere. */
function diagonalMatrix(v: Tensor, k: number): Tensor {
  const N = v.dims[0] + Math.abs(k);
  // N·N elements, and the start and step below, must fit before wasm sees them as i32s.
  checkNumel('diag', [N, N], v.dtype);
  const start = k >= 0 ? k : -k * N;
  const flat = call('diag', wasm.pad(v.id, argsI32([N * N]), argsI32([start, N + 1], 16), 0));
  try {
    return call('diag', wasm.reshapeTo(flat.id, 2, argsI32([N, N])));
  } finally {
    flat.dispose();
  }
}

/**
 * torch.diag: a 1-D x becomes the square matrix with x on diagonal `offset` (> 0 above the main
 * one, < 0 below); a 2-D x gives its diagonal `offset` as a 1-D tensor.
 */
export function diag(x: Tensor, offset = 0): Tensor {
  if (arguments.length > 2) checkArity('diag', arguments, 2, 'x, offset?');
  requireInit('diag');
  idOf(x, 'diag (x)');
  const k = checkOffset('diag', offset);
  if (x.rank === 1) return diagonalMatrix(x, k);
  if (x.rank === 2) return diagonalOf(x, k);
  throw new ShapeError(`diag: x must be 1-D (to build a matrix) or 2-D (to take a diagonal), got shape ${formatShape(x.dims)}`);
}

/** torch.trace: the sum of the main diagonal of a 2-D matrix (rank 0). Named so beside autodiff's trace. */
export function matrixTrace(x: Tensor): Tensor {
  requireInit('matrixTrace');
  idOf(x, 'matrixTrace (x)');
  if (x.rank !== 2) throw new ShapeError(`matrixTrace: x must be a 2-D matrix, got shape ${formatShape(x.dims)}`);
  const d = diagonalOf(x, 0);
  try {
    return sum(d);
  } finally {
    d.dispose();
  }
}

// ————————————————————————————————————————————————————————— norms

/** A norm's order: a number (including ±Infinity and 0) or 'fro' / 'nuc' for matrix norms. */
export type NormOrder = number | 'fro' | 'nuc';

const normSpecs = {
  /** the dims to take the norm over (one or a list; vectorNorm: all when omitted) */
  axes: opt.any<Axes>(),
  /** keep the reduced dims with size 1 */
  keepdims: opt.boolean,
};
const NORM = options('norm', normSpecs);
const VECTOR_NORM = options('vectorNorm', normSpecs);
const MATRIX_NORM = options('matrixNorm', normSpecs);
/** Options of norm / vectorNorm / matrixNorm: axes (one or a list) and keepdims (default false). */
export type NormOptions = OptionsOf<typeof normSpecs>;

function floatArg(op: string, x: Tensor): void {
  idOf(x, `${op} (x)`);
  if (!isFloat(x.dtype)) {
    throw new DTypeError(`${op}: x is a ${x.dtype} tensor of shape ${formatShape(x.dims)}; ${op} takes float32 or float64 tensors`);
  }
}

/** The reduced dims as normalised, distinct axes (all dims when `axes` is omitted or []). */
function axisList(op: string, x: Tensor, axes: Axes): number[] {
  if (axes === undefined || axes === null || (Array.isArray(axes) && axes.length === 0)) return x.dims.map((_, k) => k);
  const list = axisArgList(op, axes, 'axes') as number[];
  const out = list.map((a) => normAxis(op, a, x.rank));
  if (new Set(out).size !== out.length) throw new ValueError(`${op}: axes ${showList(list)} repeat a dim`);
  return out;
}

/** A root that is 0 with a zero gradient where s is 0 (PyTorch's norm backward masks norm == 0). */
function rootOf(s: Tensor, p: number, temps: Tensor[]): Tensor {
  const zero = eq(s, 0);
  temps.push(zero);
  const safe = where(zero, 1, s);
  temps.push(safe);
  const r = p === 2 ? sqrt(safe) : pow(safe, 1 / p);
  temps.push(r);
  return where(zero, 0, r);
}

/** |x|^p that is 0 with a zero gradient at x = 0 (for 0 < p < 1, where the slope there is infinite). */
function absPow(x: Tensor, p: number, temps: Tensor[]): Tensor {
  const a = abs(x);
  temps.push(a);
  if (!(p > 0 && p < 1)) return pow(a, p);
  const zero = eq(a, 0);
  temps.push(zero);
  const safe = where(zero, 1, a);
  temps.push(safe);
  const powered = pow(safe, p);
  temps.push(powered);
  return where(zero, 0, powered);
}

function requireNonEmpty(op: string, x: Tensor, axes: number[], what: string): void {
  const empty = axes.find((k) => x.dims[k] === 0);
  if (empty !== undefined) {
    throw new ShapeError(`${op}: cannot compute the ${what} norm over dim ${empty} of size 0 (x has shape ${formatShape(x.dims)}): ` +
      'it has no identity');
  }
}

function vectorNormOver(op: string, x: Tensor, ord: number, axes: number[], keepdims: boolean): Tensor {
  const temps: Tensor[] = [];
  const opts = { keepdims };
  try {
    if (ord === Infinity || ord === -Infinity) {
      requireNonEmpty(op, x, axes, ord > 0 ? 'inf' : '-inf');
      const a = abs(x);
      temps.push(a);
      return ord > 0 ? amax(a, axes, opts) : amin(a, axes, opts);
    }
    if (ord === 0) { // the count of nonzeros: no gradient
      const nz = ne(x, 0);
      temps.push(nz);
      const f = cast(nz, x.dtype);
      temps.push(f);
      return sum(f, axes, opts);
    }
    if (ord === 1) {
      const a = abs(x);
      temps.push(a);
      return sum(a, axes, opts);
    }
    const powered = ord === 2 ? square(x) : absPow(x, ord, temps);
    temps.push(powered);
    const s = sum(powered, axes, opts);
    temps.push(s);
    return ord > 0 ? rootOf(s, ord, temps) : pow(s, 1 / ord);
  } finally {
    disposeAll(temps);
  }
}

function checkOrder(op: string, ord: unknown): void {
  if (typeof ord === 'number' ? Number.isNaN(ord) : ord !== 'fro' && ord !== 'nuc') {
    throw new ValueError(`${op}: ord must be a number, 'fro' or 'nuc', got ${typeof ord === 'string' ? JSON.stringify(ord) : show(ord)}`);
  }
}

/**
 * torch.linalg.vector_norm: (Σ|x|^ord)^(1/ord) over `axes` (all dims when omitted): ord 2
 * (default), any real, inf (max |x|), -inf (min |x|), 0 (the count of nonzeros). The gradient at
 * x = 0 is 0 (PyTorch's subgradient).
 */
export function vectorNorm(x: Tensor, ord: number = 2, options?: NormOptions): Tensor {
  if (arguments.length > 3) checkArity('vectorNorm', arguments, 3, 'x, ord?, options?');
  requireInit('vectorNorm');
  floatArg('vectorNorm', x);
  const o = VECTOR_NORM.parse(options);
  if (typeof ord !== 'number' || Number.isNaN(ord)) {
    throw new ValueError(`vectorNorm: ord must be a number (inf included), got ${typeof ord === 'string' ? JSON.stringify(ord) : show(ord)}`);
  }
  return vectorNormOver('vectorNorm', x, ord, axisList('vectorNorm', x, o.axes), !!o.keepdims);
}

function matrixNormOver(op: string, x: Tensor, ord: NormOrder, axes: number[], keepdims: boolean): Tensor {
  if (x.rank < 2) {
    throw new ShapeError(`${op}: a matrix norm needs x with at least 2 dims, got shape ${formatShape(x.dims)}`);
  }
  if (axes.length !== 2) throw new ValueError(`${op}: a matrix norm takes 2 axes, got ${axes.length}`);
  if (ord === 'fro') return vectorNormOver(op, x, 2, axes, keepdims);
  if (ord === 'nuc' || ord === 2 || ord === -2) return spectralNorm(op, x, ord, axes, keepdims);
  if (ord !== 1 && ord !== -1 && ord !== Infinity && ord !== -Infinity) {
    throw new ValueError(`${op}: order ${ord} is not a matrix norm; use 'fro', 'nuc', 1, -1, 2, -2, inf or -inf`);
  }
  // ord ±1: extreme column sum (sum over the rows axis, then over columns); ±inf: extreme row sum.
  const [rowsAxis, colsAxis] = axes;
  const [summed, extreme] = ord === 1 || ord === -1 ? [rowsAxis, colsAxis] : [colsAxis, rowsAxis];
  requireNonEmpty(op, x, [extreme], String(ord));
  const temps: Tensor[] = [];
  try {
    const a = abs(x);
    temps.push(a);
    const s = sum(a, summed, { keepdims: true });
    temps.push(s);
    const r = ord > 0 ? amax(s, extreme, { keepdims: true }) : amin(s, extreme, { keepdims: true });
    if (keepdims) return r;
    temps.push(r);
    return reshape(r, x.dims.filter((_, k) => k !== rowsAxis && k !== colsAxis));
  } finally {
    disposeAll(temps);
  }
}

/**
 * The norms of the singular values (svdvals) of the matrices over `axes`: 2 the largest, -2 the
 * smallest, 'nuc' their sum. Gradients are svdvals' (defined everywhere: U·Vᵀ restricted to the
 * singular values taken; a subgradient where they repeat).
 */
function spectralNorm(op: string, x: Tensor, ord: 2 | -2 | 'nuc', axes: number[], keepdims: boolean): Tensor {
  const [rowsAxis, colsAxis] = axes;
  const rest = x.dims.map((_, k) => k).filter((k) => k !== rowsAxis && k !== colsAxis);
  const k = Math.min(x.dims[rowsAxis], x.dims[colsAxis]);
  if (ord !== 'nuc' && k === 0) {
    throw new ShapeError(`${op}: cannot compute the ${ord} norm of matrices with no elements (x has shape ${formatShape(x.dims)}, ` +
      `axes ${showList(axes)}): it has no identity`);
  }
  const temps: Tensor[] = [];
  try {
    const moved = permute(x, [...rest, rowsAxis, colsAxis]);
    temps.push(moved);
    const s = svdvals(moved);
    temps.push(s);
    const r = ord === 'nuc' ? sum(s, -1) : select(s, -1, ord === 2 ? 0 : k - 1);
    if (!keepdims) return r;
    temps.push(r);
    return reshape(r, x.dims.map((d, j) => (j === rowsAxis || j === colsAxis ? 1 : d)));
  } finally {
    disposeAll(temps);
  }
}

/**
 * torch.linalg.matrix_norm over two `axes` (default the last two): 'fro' (default), 'nuc' (the
 * sum of the singular values), 2 / -2 (the largest / smallest singular value), 1 / -1 (max / min
 * column sum of |x|), inf / -inf (max / min row sum). 'nuc' and ±2 go through svdvals, whose
 * gradient is defined everywhere.
 */
export function matrixNorm(x: Tensor, ord: NormOrder = 'fro', options?: NormOptions): Tensor {
  if (arguments.length > 3) checkArity('matrixNorm', arguments, 3, 'x, ord?, options?');
  requireInit('matrixNorm');
  floatArg('matrixNorm', x);
  checkOrder('matrixNorm', ord);
  const o = MATRIX_NORM.parse(options);
  if (x.rank < 2) throw new ShapeError(`matrixNorm: x must have at least 2 dims, got shape ${formatShape(x.dims)}`);
  return matrixNormOver('matrixNorm', x, ord, axisList('matrixNorm', x, o.axes ?? [-2, -1]), !!o.keepdims);
}

/**
 * torch.linalg.norm(x, ord, dim, keepdim): with one axis a vector norm, with two a matrix norm.
 * With no axes: ord omitted is the 2-norm of all elements (Frobenius for a matrix); an ord given
 * needs a 1-D x (vector norm) or a 2-D x (matrix norm).
 */
export function norm(x: Tensor, ord?: NormOrder | null, options?: NormOptions): Tensor {
  if (arguments.length > 3) checkArity('norm', arguments, 3, 'x, ord?, options?');
  requireInit('norm');
  floatArg('norm', x);
  const o = NORM.parse(options);
  const keepdims = !!o.keepdims;
  if (ord !== undefined && ord !== null) checkOrder('norm', ord);
  if (o.axes === undefined || o.axes === null) {
    if (ord === undefined || ord === null) return vectorNormOver('norm', x, 2, x.dims.map((_, k) => k), keepdims);
    if (x.rank === 1) return vectorNormOrder('norm', x, ord, [0], keepdims);
    if (x.rank === 2) return matrixNormOver('norm', x, ord, [0, 1], keepdims);
    throw new ShapeError(`norm: with ord given and no axes, x must be 1-D or 2-D, got shape ${formatShape(x.dims)}`);
  }
  const axes = axisList('norm', x, o.axes);
  if (axes.length === 1) return vectorNormOrder('norm', x, ord ?? 2, axes, keepdims);
  if (axes.length === 2) return matrixNormOver('norm', x, ord ?? 'fro', axes, keepdims);
  throw new ValueError(`norm: axes must name 1 dim (vector norm) or 2 dims (matrix norm), got ${axes.length}`);
}

function vectorNormOrder(op: string, x: Tensor, ord: NormOrder, axes: number[], keepdims: boolean): Tensor {
  if (typeof ord !== 'number') throw new ValueError(`${op}: ord ${JSON.stringify(ord)} is a matrix norm, but one axis was given`);
  return vectorNormOver(op, x, ord, axes, keepdims);
}

declare module '../tensor.js' {
  interface Tensor {
    /** 1-D: the square matrix with this vector on diagonal `offset` (default 0); 2-D: that diagonal as a 1-D tensor (PyTorch: torch.diag; MATLAB: diag). */
    diag(offset?: number): Tensor;
    /** The sum of the main diagonal of a 2-D matrix, rank 0 (PyTorch: Tensor.trace; MATLAB: trace). */
    trace(): Tensor;
    /** A vector norm over one axis or a matrix norm over two; without axes the 2-norm of all elements (PyTorch: torch.linalg.norm; MATLAB: norm). */
    norm(ord?: NormOrder | null, options?: NormOptions): Tensor;
    /** (Σ|x|^ord)^(1/ord) over `axes` (all when omitted); ord 2 (default), any real, ±inf, 0 (PyTorch: torch.linalg.vector_norm; MATLAB: vecnorm). */
    vectorNorm(ord?: number, options?: NormOptions): Tensor;
    /** A matrix norm over two axes (default the last two): 'fro' (default), 'nuc', ±2, ±1, ±inf (PyTorch: torch.linalg.matrix_norm). */
    matrixNorm(ord?: NormOrder, options?: NormOptions): Tensor;
  }
}

const P = Tensor.prototype;
P.diag = function (offset) {
  if (arguments.length > 1) checkArity('diag', arguments, 1, 'offset?');
  return diag(this, offset);
};
P.trace = function () { return matrixTrace(this); };
P.norm = function (ord, options) {
  if (arguments.length > 2) checkArity('norm', arguments, 2, 'ord?, options?');
  return norm(this, ord, options);
};
P.vectorNorm = function (ord, options) {
  if (arguments.length > 2) checkArity('vectorNorm', arguments, 2, 'ord?, options?');
  return vectorNorm(this, ord, options);
};
P.matrixNorm = function (ord, options) {
  if (arguments.length > 2) checkArity('matrixNorm', arguments, 2, 'ord?, options?');
  return matrixNorm(this, ord, options);
};
