// Matrix products (kernel and rule in assembly/ops/matmul.ts): matmul with torch.matmul's semantics,
// mm, bmm, dot, mv, outer, and matmulT (transposed operands read in place, no copy).
//
// Every product is the one batched primitive op(A)·op(B) on operands of rank >= 2; 1-D operands
// are reshaped to a row or column first and the added dim is removed afterwards, as PyTorch does.

import { Tensor, type Shape } from '../tensor.js';
import { wasm, argsI32 } from '../runtime.js';
import { ShapeError, DTypeError, formatShape } from '../errors.js';
import { idOf, call, requireInit, isFloat, reshapeRaw } from './common.js';
import { options, opt, checkArity, type OptionsOf } from '../options.js';

function checkOperands(op: string, a: Tensor, b: Tensor): void {
  idOf(a, `${op} (a)`);
  idOf(b, `${op} (b)`);
  for (const [x, name] of [[a, 'a'], [b, 'b']] as const) {
    if (!isFloat(x.dtype)) {
      throw new DTypeError(`${op}: ${name} is a ${x.dtype} tensor of shape ${formatShape(x.dims)}; ` +
        'matrix products take float32 or float64 tensors');
    }
  }
  if (a.dtype !== b.dtype) {
    throw new DTypeError(`${op}: cannot mix float32 and float64 (a is ${a.dtype} ${formatShape(a.dims)}, ` +
      `b is ${b.dtype} ${formatShape(b.dims)}); cast one with .to('float32') or .to('float64')`);
  }
}

function shapes(op: string, a: Tensor, b: Tensor): string {
  return `${op}: shapes ${formatShape(a.dims)} (a) and ${formatShape(b.dims)} (b)`;
}

function requireRank(op: string, a: Tensor, b: Tensor, ra: number, rb: number, what: string): void {
  if (a.rank !== ra || b.rank !== rb) {
    throw new ShapeError(`${shapes(op, a, b)} do not fit: ${op} takes ${what}, got ranks ${a.rank} and ${b.rank}`);
  }
}

/** The broadcast of the batch dims (all but the last two), or a ShapeError naming both shapes. */
function batchShape(op: string, a: Tensor, b: Tensor, batchA: Shape, batchB: Shape): number[] {
  const r = Math.max(batchA.length, batchB.length);
  const out: number[] = [];
  for (let k = 0; k < r; k++) {
    const da = k - (r - batchA.length) >= 0 ? batchA[k - (r - batchA.length)] : 1;
    const db = k - (r - batchB.length) >= 0 ? batchB[k - (r - batchB.length)] : 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(`${shapes(op, a, b)} do not fit: batch dims ${formatShape(batchA)} and ` +
        `${formatShape(batchB)} cannot be broadcast (${da} vs ${db})`);
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}


/** The primitive on validated operands of rank >= 2. */
function product(op: string, a: Tensor, b: Tensor, transA: boolean, transB: boolean): Tensor {
  return call(op, wasm.matmul(a.id, b.id, transA ? 1 : 0, transB ? 1 : 0));
}

/**
 * torch.matmul: 1-D·1-D is the dot product (a scalar); a 1-D a is a row [1, k] and a 1-D b a
 * column [k, 1] whose added dim is removed from the result; otherwise a batched product over the
 * last two dims with the batch dims broadcast (NumPy rules).
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  return matmulAs('matmul', a, b);
}

function matmulAs(op: string, a: Tensor, b: Tensor): Tensor {
  requireInit(op);
  checkOperands(op, a, b);
  const ra = a.rank, rb = b.rank;
  if (ra === 0 || rb === 0) {
    throw new ShapeError(`${shapes(op, a, b)} do not fit: both arguments need at least 1 dim, ` +
      `got ranks ${ra} and ${rb}`);
  }
  const ka = a.dims[ra - 1];
  const kb = rb === 1 ? b.dims[0] : b.dims[rb - 2];
  if (ka !== kb) {
    const has = (name: string, x: Tensor, n: number, dim: string) => `${name} has ${n} ${x.rank === 1 ? 'elements' : dim}`;
    throw new ShapeError(`${shapes(op, a, b)} do not fit: ${has('a', a, ka, 'columns')}, ${has('b', b, kb, 'rows')}`);
  }
  const batch = batchShape(op, a, b, a.dims.slice(0, Math.max(ra - 2, 0)), b.dims.slice(0, Math.max(rb - 2, 0)));
  const temps: Tensor[] = [];
  const a2 = ra === 1 ? reshapeRaw(op, a, [1, ka]) : a;
  if (a2 !== a) temps.push(a2);
  const b2 = rb === 1 ? reshapeRaw(op, b, [kb, 1]) : b;
  if (b2 !== b) temps.push(b2);
  try {
    const c = product(op, a2, b2, false, false);
    if (ra > 1 && rb > 1) return c;
    temps.push(c);
    return reshapeRaw(op, c, [...batch, ...(ra > 1 ? [a.dims[ra - 2]] : []), ...(rb > 1 ? [b.dims[rb - 1]] : [])]);
  } finally {
    for (const t of temps) t.dispose();
  }
}

/** The matrix product of two 2-D tensors. */
export function mm(a: Tensor, b: Tensor): Tensor {
  requireInit('mm');
  checkOperands('mm', a, b);
  requireRank('mm', a, b, 2, 2, 'two 2-D matrices');
  return matmulAs('mm', a, b);
}

/** Batched matrix product of two 3-D tensors with the same batch size (no broadcasting). */
export function bmm(a: Tensor, b: Tensor): Tensor {
  requireInit('bmm');
  checkOperands('bmm', a, b);
  requireRank('bmm', a, b, 3, 3, 'two 3-D tensors');
  if (a.dims[0] !== b.dims[0]) {
    throw new ShapeError(`${shapes('bmm', a, b)} do not fit: a has batch size ${a.dims[0]}, b has ${b.dims[0]}`);
  }
  return matmulAs('bmm', a, b);
}

/** The dot product of two 1-D tensors of the same size (a rank-0 result). */
export function dot(a: Tensor, b: Tensor): Tensor {
  requireInit('dot');
  checkOperands('dot', a, b);
  requireRank('dot', a, b, 1, 1, 'two 1-D tensors');
  return matmulAs('dot', a, b);
}

/** Matrix (2-D) times vector (1-D). */
export function mv(a: Tensor, b: Tensor): Tensor {
  requireInit('mv');
  checkOperands('mv', a, b);
  requireRank('mv', a, b, 2, 1, 'a 2-D matrix and a 1-D vector');
  return matmulAs('mv', a, b);
}

/** The outer product of two 1-D tensors: out[i, j] = a[i]·b[j]. */
export function outer(a: Tensor, b: Tensor): Tensor {
  requireInit('outer');
  checkOperands('outer', a, b);
  requireRank('outer', a, b, 1, 1, 'two 1-D tensors');
  const col = reshapeRaw('outer', a, [a.dims[0], 1]);
  const row = reshapeRaw('outer', b, [1, b.dims[0]]);
  try {
    return product('outer', col, row, false, false);
  } finally {
    col.dispose();
    row.dispose();
  }
}

const MATMUL_T = options('matmulT', {
  /** use a with its last two dims swapped (read in place) */
  transA: opt.boolean,
  /** use b with its last two dims swapped (read in place) */
  transB: opt.boolean,
});
/** Options of matmulT: transA / transB use that operand with its last two dims swapped (read in place). */
export type TransposeOptions = OptionsOf<typeof MATMUL_T>;

/**
 * op(a)·op(b) for operands of rank >= 2 with broadcast batch dims, where op(x) is x with its last
 * two dims swapped when the flag is set. The transpose is read in place, never copied, so
 * x·wᵀ (a Linear layer) costs no more than x·w.
 */
export function matmulT(a: Tensor, b: Tensor, options?: TransposeOptions): Tensor {
  if (arguments.length > 3) checkArity('matmulT', arguments, 3, 'a, b, options?');
  requireInit('matmulT');
  const o = MATMUL_T.parse(options);
  checkOperands('matmulT', a, b);
  const transA = !!o.transA, transB = !!o.transB;
  if (a.rank < 2 || b.rank < 2) {
    throw new ShapeError(`${shapes('matmulT', a, b)} do not fit: matmulT takes tensors of rank >= 2, got ranks ${a.rank} and ${b.rank}`);
  }
  const ra = a.rank, rb = b.rank;
  const ka = a.dims[transA ? ra - 2 : ra - 1];
  const kb = b.dims[transB ? rb - 1 : rb - 2];
  if (ka !== kb) {
    throw new ShapeError(`${shapes('matmulT', a, b)} do not fit: ` +
      `${transA ? 'aᵀ' : 'a'} has ${ka} columns, ${transB ? 'bᵀ' : 'b'} has ${kb} rows`);
  }
  batchShape('matmulT', a, b, a.dims.slice(0, -2), b.dims.slice(0, -2));
  return product('matmulT', a, b, transA, transB);
}

declare module '../tensor.js' {
  interface Tensor {
    /** This tensor times `b` as torch.matmul: 1-D·1-D a dot product, otherwise a batched product over the last two dims with batch dims broadcast (MATLAB: mtimes / pagemtimes). */
    matmul(b: Tensor): Tensor;
    /** The matrix product of two 2-D tensors [n, k]·[k, m] → [n, m] (PyTorch: Tensor.mm). */
    mm(b: Tensor): Tensor;
    /** Batched matrix product [B, n, k]·[B, k, m] → [B, n, m], no broadcasting (PyTorch: Tensor.bmm). */
    bmm(b: Tensor): Tensor;
    /** The dot product of two 1-D tensors of one size, a rank-0 result (PyTorch: Tensor.dot). */
    dot(b: Tensor): Tensor;
    /** Matrix [n, k] times vector [k] → [n] (PyTorch: Tensor.mv). */
    mv(b: Tensor): Tensor;
    /** The outer product of two 1-D tensors: out[i, j] = this[i]·b[j] (PyTorch: Tensor.outer). */
    outer(b: Tensor): Tensor;
    /** op(this)·op(b) with `transA` / `transB` swapping the last two dims in place, without a copy (rank ≥ 2, batch dims broadcast). */
    matmulT(b: Tensor, options?: TransposeOptions): Tensor;
  }
}

const P = Tensor.prototype;
P.matmul = function (b) { return matmul(this, b); };
P.mm = function (b) { return mm(this, b); };
P.bmm = function (b) { return bmm(this, b); };
P.dot = function (b) { return dot(this, b); };
P.mv = function (b) { return mv(this, b); };
P.outer = function (b) { return outer(this, b); };
P.matmulT = function (b, options) {
  if (arguments.length > 2) checkArity('matmulT', arguments, 2, 'b, options?');
  return matmulT(this, b, options);
};
