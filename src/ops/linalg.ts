// Solves and decompositions with torch.linalg's semantics (kernels and rules in
// assembly/ops/linalg.ts): solve, inv, det, slogdet, logdet, cholesky, qr, solveTriangular.
//
// Every op works on batches of matrices (the last two dims) in float32 or float64; where it takes
// two operands their batch dims broadcast. An exactly singular matrix to solve or inv, and a
// matrix that is not positive-definite to cholesky, raise LinAlgError naming the batch element,
// as PyTorch does; det, slogdet and solveTriangular return what the arithmetic gives (0, -inf,
// inf/NaN) instead.

import { Tensor } from '../tensor.js';
import { wasm } from '../runtime.js';
import { ShapeError, DTypeError, ValueError, LinAlgError, formatShape } from '../errors.js';
import { idOf, call, requireInit, isFloat, disposeAll } from './common.js';
import { reshape, transpose, slice } from './shape.js';
import { where, eq } from './elementwise.js';
import { eye } from '../creation.js';
import { checkNumel } from '../sizes.js';
import { options, opt, checkArity, type OptionsOf } from '../options.js';

const DET = 0, LOGABS = 1, SIGN = 2;

/** A float tensor of rank >= 2 (a batch of matrices). */
function matrixArg(op: string, x: Tensor, arg: string): void {
  idOf(x, `${op} (${arg})`);
  if (!isFloat(x.dtype)) {
    throw new DTypeError(`${op}: ${arg} is a ${x.dtype} tensor of shape ${formatShape(x.dims)}; ` +
      `${op} takes float32 or float64 tensors`);
  }
  if (x.rank < 2) {
    throw new ShapeError(`${op}: ${arg} of shape ${formatShape(x.dims)} is not a matrix: ` +
      'expected a tensor of shape [..., rows, cols] with at least 2 dims');
  }
}

/** A float batch of square matrices [..., n, n]. */
function squareArg(op: string, x: Tensor, arg = 'A'): number {
  matrixArg(op, x, arg);
  const [r, c] = x.dims.slice(-2);
  if (r !== c) {
    throw new ShapeError(`${op}: ${arg} of shape ${formatShape(x.dims)} is not square (${r}×${c}); ` +
      'expected a batch of square matrices [..., n, n]');
  }
  return r;
}

function sameDtype(op: string, a: Tensor, b: Tensor): void {
  if (a.dtype !== b.dtype) {
    throw new DTypeError(`${op}: A is ${a.dtype} ${formatShape(a.dims)} but B is ${b.dtype} ${formatShape(b.dims)}; ` +
      "cast one with .to('float32') or .to('float64')");
  }
}

/** Checks that the batch dims of A and B broadcast. */
function batchesFit(op: string, a: Tensor, b: Tensor, bBatch: readonly number[]): void {
  const aBatch = a.dims.slice(0, -2);
  const r = Math.max(aBatch.length, bBatch.length);
  for (let k = 0; k < r; k++) {
    const da = aBatch[k - (r - aBatch.length)] ?? 1, db = bBatch[k - (r - bBatch.length)] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(`${op}: shapes ${formatShape(a.dims)} (A) and ${formatShape(b.dims)} (B) do not fit: ` +
        `batch dims ${formatShape(aBatch)} and ${formatShape(bBatch)} cannot be broadcast (${da} vs ${db})`);
    }
  }
}

/** " (batch element i)" when the op ran over a batch, as PyTorch's messages say it. */
const batchNote = (batched: boolean, i: number): string => (batched ? ` (batch element ${i}):` : '');

/** Raises the failure the last solve or cholesky kernel reported, after freeing its result. */
function raiseIfFailed(result: Tensor, batched: boolean, message: (at: string, index: number) => string): void {
  const batch = wasm.linalgFailedBatch();
  if (batch < 0) return;
  const index = wasm.linalgFailedIndex();
  result.dispose();
  throw new LinAlgError(message(batchNote(batched, batch), index), batch, index);
}

// ————————————————————————————————————————————————————————— solve, inv

const SOLVE = options('solve', {
  /** true (default): solve A·X = B; false: solve X·A = B */
  left: opt.boolean,
});
/** Options of solve: left (default true: A·X = B; false: X·A = B). */
export type SolveOptions = OptionsOf<typeof SOLVE>;

/**
 * torch.linalg.solve: X with A·X = B (or X·A = B when `left` is false), by LU with partial
 * pivoting. A is [..., n, n]; B is [..., n, k], or a vector [n] (or [..., n] with A's batch)
 * giving a vector result. Batch dims broadcast. An exactly singular A raises LinAlgError.
 */
export function solve(A: Tensor, B: Tensor, opts?: SolveOptions): Tensor {
  if (arguments.length > 3) checkArity('solve', arguments, 3, 'A, B, options?');
  requireInit('solve');
  const options = SOLVE.parse(opts);
  const n = squareArg('solve', A);
  idOf(B, 'solve (B)');
  if (!isFloat(B.dtype)) {
    throw new DTypeError(`solve: B is a ${B.dtype} tensor of shape ${formatShape(B.dims)}; solve takes float32 or float64 tensors`);
  }
  sameDtype('solve', A, B);
  const left = options.left ?? true;
  const fit = `solve: shapes ${formatShape(A.dims)} (A) and ${formatShape(B.dims)} (B) do not fit`;
  // PyTorch's rule: B is a (batch of) vector(s) when it is 1-D or has exactly A's dims but the last.
  const vector = B.rank === 1 || (B.rank === A.rank - 1 && formatShape(B.dims) === formatShape(A.dims.slice(0, -1)));
  if (vector && !left) {
    throw new ValueError(`${fit}: a vector B with left=false is not supported (as in PyTorch); ` +
      'X·A = b for a vector b is b / A for 1×1 A, or solve(A.mT, b)');
  }
  if (B.rank === 0) throw new ShapeError(`${fit}: B must be a vector or a batch of matrices, got a rank-0 tensor`);
  const rows = vector ? B.dims[B.rank - 1] : left ? B.dims[B.rank - 2] : B.dims[B.rank - 1];
  if (rows !== n) {
    const what = vector ? `B has ${rows} elements` : left ? `B has ${rows} rows` : `B has ${rows} columns`;
    throw new ShapeError(`${fit}: A is ${n}×${n}, ${what}`);
  }
  batchesFit('solve', A, B, vector ? B.dims.slice(0, -1) : B.dims.slice(0, -2));
  const temps: Tensor[] = [];
  try {
    let rhs = B;
    if (vector) temps.push(rhs = reshape(B, [...B.dims, 1]));
    else if (!left) temps.push(rhs = transpose(B, -2, -1));
    // X·A = B is Aᵀ·Xᵀ = Bᵀ: the kernel reads Aᵀ in place.
    const x = call('solve', wasm.solve(A.id, rhs.id, left ? 0 : 1));
    raiseIfFailed(x, x.rank > 2, (at) =>
      `solve:${at} the solver failed because the input matrix A is singular (A has shape ${formatShape(A.dims)})`);
    if (!vector && left) return x;
    temps.push(x);
    return vector ? reshape(x, x.dims.slice(0, -1)) : transpose(x, -2, -1);
  } finally {
    disposeAll(temps);
  }
}

/** torch.linalg.inv: A⁻¹ for each matrix of A [..., n, n]; an exactly singular A raises LinAlgError. */
export function inv(A: Tensor): Tensor {
  requireInit('inv');
  const n = squareArg('inv', A);
  const I = eye(n, { dtype: A.dtype });
  try {
    const x = call('inv', wasm.solve(A.id, I.id, 0));
    raiseIfFailed(x, A.rank > 2, (at, i) =>
      `inv:${at} the diagonal element ${i} is zero, the inversion could not be completed because the input matrix ` +
      `is singular (A has shape ${formatShape(A.dims)})`);
    return x;
  } finally {
    I.dispose();
  }
}

// ————————————————————————————————————————————————————————— determinants

function determinant(op: string, A: Tensor, mode: number): Tensor {
  requireInit(op);
  squareArg(op, A);
  return call(op, wasm.determinant(A.id, mode));
}

/** torch.linalg.det: det(A) over the batch [..., n, n] (from LU; 0 for a singular matrix, 1 for 0×0). */
export function det(A: Tensor): Tensor { return determinant('det', A, DET); }

/**
 * torch.linalg.slogdet: [sign, logabsdet] with det(A) = sign·exp(logabsdet); a singular matrix
 * gives [0, -inf]. Only logabsdet carries a gradient (A⁻ᵀ·g).
 */
export function slogdet(A: Tensor): [Tensor, Tensor] {
  const sign = determinant('slogdet', A, SIGN);
  try {
    return [sign, determinant('slogdet', A, LOGABS)];
  } catch (e) {
    sign.dispose();
    throw e;
  }
}

/** torch.logdet: log(det A), NaN where det A < 0 and -inf where it is 0 (PyTorch's where over slogdet). */
export function logdet(A: Tensor): Tensor {
  requireInit('logdet');
  squareArg('logdet', A);
  const [sign, logabs] = slogdet(A);
  const negative = eq(sign, -1);
  try {
    return where(negative, NaN, logabs);
  } finally {
    disposeAll([sign, logabs, negative]);
  }
}

// ————————————————————————————————————————————————————————— cholesky

const CHOLESKY = options('cholesky', {
  /** return U with A = Uᵀ·U (reading A's upper triangle) instead of L with A = L·Lᵀ */
  upper: opt.boolean,
});
/** Options of cholesky: upper (default false) returns U with A = Uᵀ·U. */
export type CholeskyOptions = OptionsOf<typeof CHOLESKY>;

/**
 * torch.linalg.cholesky: L lower-triangular with A = L·Lᵀ, from A's lower triangle (upper: U from
 * the upper triangle). A matrix that is not positive-definite raises LinAlgError with the order
 * of the first leading minor that is not. The gradient is PyTorch's (a symmetric matrix).
 */
export function cholesky(A: Tensor, opts?: CholeskyOptions): Tensor {
  if (arguments.length > 2) checkArity('cholesky', arguments, 2, 'A, options?');
  requireInit('cholesky');
  const options = CHOLESKY.parse(opts);
  squareArg('cholesky', A);
  const upper = options.upper ?? false;
  const temps: Tensor[] = [];
  try {
    // U from A's upper triangle is the transpose of L from Aᵀ's lower one.
    const input = upper ? transpose(A, -2, -1) : A;
    if (upper) temps.push(input);
    const l = call('cholesky', wasm.cholesky(input.id));
    raiseIfFailed(l, A.rank > 2, (at, i) =>
      `cholesky:${at} the factorization could not be completed because the input is not positive-definite ` +
      `(the leading minor of order ${i} is not positive-definite; A has shape ${formatShape(A.dims)})`);
    if (!upper) return l;
    temps.push(l);
    return transpose(l, -2, -1);
  } finally {
    disposeAll(temps);
  }
}

// ————————————————————————————————————————————————————————— qr

const QR = options('qr', {
  /** 'reduced' (default): Q [m, k], R [k, n] with k = min(m, n); 'complete': Q [m, m], R [m, n] */
  mode: opt.any<'reduced' | 'complete'>(),
});
/** Options of qr: mode 'reduced' (default; Q [m, k], R [k, n], k = min(m, n)) or 'complete' (Q [m, m], R [m, n]). */
export type QrOptions = OptionsOf<typeof QR>;

/**
 * torch.linalg.qr by Householder reflections: [Q, R] with A = Q·R, Q orthonormal columns, R
 * upper-triangular. Signs follow LAPACK's geqrf (what PyTorch returns on CPU): the reflector of
 * column j gives R[j, j] = −sign(A'[j, j])·‖A'[j:, j]‖ (A' the partly reduced matrix), and a column
 * already zero below the diagonal is left as it is, so R's diagonal may be negative. Gradients
 * follow PyTorch (reduced mode, and complete mode when m <= n; complete mode with m > n is not
 * differentiable, as in PyTorch).
 */
export function qr(A: Tensor, opts?: QrOptions): [Tensor, Tensor] {
  if (arguments.length > 2) checkArity('qr', arguments, 2, 'A, options?');
  requireInit('qr');
  const options = QR.parse(opts);
  matrixArg('qr', A, 'A');
  const mode = options.mode ?? 'reduced';
  if (mode !== 'reduced' && mode !== 'complete') {
    throw new ValueError(`qr: mode must be 'reduced' or 'complete', got ${JSON.stringify(mode)}`);
  }
  const [m, n] = A.dims.slice(-2);
  const k = mode === 'complete' ? m : Math.min(m, n);
  const batch = A.dims.slice(0, -2);
  // The kernel packs Q and R into one tensor of m·k + k·n per matrix, computed in i32: check the
  // sizes (complete mode's Q is m×m, which a tall A can make far larger than A) before it runs.
  checkNumel('qr', [...batch, m, k], A.dtype, 'Q');
  checkNumel('qr', [...batch, m * k + k * n], A.dtype, 'the packed Q and R');
  const packed = call('qr', wasm.qr(A.id, mode === 'complete' ? 1 : 0));
  const parts: Tensor[] = [];
  try {
    const qFlat = slice(packed, -1, 0, m * k);
    parts.push(qFlat);
    const rFlat = slice(packed, -1, m * k, m * k + k * n);
    parts.push(rFlat);
    return [reshape(qFlat, [...batch, m, k]), reshape(rFlat, [...batch, k, n])];
  } finally {
    disposeAll([packed, ...parts]);
  }
}

// ————————————————————————————————————————————————————————— solveTriangular

const solveTriangularSpecs = {
  /** whether A is upper-triangular (required, as in PyTorch); the other triangle is never read */
  upper: opt.any<boolean>(),
  /** true (default): solve A·X = B; false: solve X·A = B */
  left: opt.boolean,
  /** take A's diagonal as all ones (it is not read) */
  unitriangular: opt.boolean,
};
const SOLVE_TRIANGULAR = options('solveTriangular', solveTriangularSpecs);
/** Options of solveTriangular: upper (required), left (default true), unitriangular (default false). */
export type SolveTriangularOptions = OptionsOf<typeof solveTriangularSpecs> & {
  /** whether A is upper-triangular (required, as in PyTorch); the other triangle is never read */
  upper: boolean;
};

/**
 * torch.linalg.solve_triangular(A, B, *, upper, left=True, unitriangular=False): X with A·X = B
 * (or X·A = B) for triangular A [..., n, n], B [..., n, k] (or [..., k, n] when left is false),
 * batch dims broadcast, by substitution. A zero on A's diagonal gives inf/NaN, not an error (as
 * in PyTorch). Gradients reach only the triangle of A that is read.
 */
export function solveTriangular(A: Tensor, B: Tensor, opts: SolveTriangularOptions): Tensor {
  if (arguments.length > 3) checkArity('solveTriangular', arguments, 3, 'A, B, options');
  requireInit('solveTriangular');
  const n = squareArg('solveTriangular', A);
  matrixArg('solveTriangular', B, 'B');
  sameDtype('solveTriangular', A, B);
  const options = SOLVE_TRIANGULAR.parse(opts);
  if (typeof options.upper !== 'boolean') {
    throw new ValueError('solveTriangular: options.upper (true or false) is required, as in PyTorch: ' +
      'solveTriangular(A, B, { upper: true })');
  }
  const left = options.left ?? true, unit = options.unitriangular ?? false;
  const [br, bc] = B.dims.slice(-2);
  if ((left ? br : bc) !== n) {
    throw new ShapeError(`solveTriangular: shapes ${formatShape(A.dims)} (A) and ${formatShape(B.dims)} (B) do not fit: ` +
      `A is ${n}×${n}, B has ${left ? `${br} rows` : `${bc} columns`} (left=${left})`);
  }
  batchesFit('solveTriangular', A, B, B.dims.slice(0, -2));
  return call('solveTriangular', wasm.solveTriangular(A.id, B.id, options.upper ? 1 : 0, left ? 1 : 0, unit ? 1 : 0, 0));
}

/** Alias of solveTriangular with the same argument order (torch.linalg.solve_triangular's, A first). */
export const triangularSolve = solveTriangular;

declare module '../tensor.js' {
  interface Tensor {
    /** X with A·X = B (A this tensor [..., n, n]; `left: false`: X·A = B), by LU with partial pivoting (PyTorch: torch.linalg.solve; MATLAB: mldivide). */
    solve(B: Tensor, options?: SolveOptions): Tensor;
    /** A⁻¹ for each matrix [..., n, n]; a singular matrix raises LinAlgError (PyTorch: torch.linalg.inv; MATLAB: inv). */
    inv(): Tensor;
    /** det(A) over the batch [..., n, n], from LU (PyTorch: torch.linalg.det; MATLAB: det). */
    det(): Tensor;
    /** [sign, logabsdet] with det(A) = sign·exp(logabsdet) (PyTorch: torch.linalg.slogdet). */
    slogdet(): [Tensor, Tensor];
    /** log(det A): NaN where det A < 0, −inf where it is 0 (PyTorch: torch.logdet). */
    logdet(): Tensor;
    /** L lower-triangular with A = L·Lᵀ (`upper: true`: U with A = Uᵀ·U); not positive-definite raises LinAlgError (PyTorch: torch.linalg.cholesky; MATLAB: chol). */
    cholesky(options?: CholeskyOptions): Tensor;
    /** [Q, R] with A = Q·R by Householder reflections, mode 'reduced' (default) or 'complete' (PyTorch: torch.linalg.qr; MATLAB: qr). */
    qr(options?: QrOptions): [Tensor, Tensor];
    /** X with A·X = B (or X·A = B) for triangular A, by substitution; `upper` is required (PyTorch: torch.linalg.solve_triangular). */
    solveTriangular(B: Tensor, options: SolveTriangularOptions): Tensor;
  }
}

const P = Tensor.prototype;
P.solve = function (B, options) {
  if (arguments.length > 2) checkArity('solve', arguments, 2, 'B, options?');
  return solve(this, B, options);
};
P.inv = function () { return inv(this); };
P.det = function () { return det(this); };
P.slogdet = function () { return slogdet(this); };
P.logdet = function () { return logdet(this); };
P.cholesky = function (options) {
  if (arguments.length > 1) checkArity('cholesky', arguments, 1, 'options?');
  return cholesky(this, options);
};
P.qr = function (options) {
  if (arguments.length > 1) checkArity('qr', arguments, 1, 'options?');
  return qr(this, options);
};
P.solveTriangular = function (B, options) {
  if (arguments.length > 2) checkArity('solveTriangular', arguments, 2, 'B, options');
  return solveTriangular(this, B, options);
};
