// Solves and decompositions with torch.linalg's semantics (kernels and rules in
// assembly/ops/linalg.ts, the Jacobi cores of svd and eigh in assembly/ops/decomp.ts): solve, inv,
// det, slogdet, logdet, cholesky, qr, solveTriangular, svd, svdvals, eigh, eigvalsh, pinv, lstsq.
//
// Every op works on batches of matrices (the last two dims) in float32 or float64; where it takes
// two operands their batch dims broadcast. An exactly singular matrix to solve or inv, and a
// matrix that is not positive-definite to cholesky, raise LinAlgError naming the batch element,
// as PyTorch does; det, slogdet and solveTriangular return what the arithmetic gives (0, -inf,
// inf/NaN) instead.

import { Tensor, zeros, type DTypeName } from '../tensor.js';
import { wasm } from '../runtime.js';
import { ShapeError, DTypeError, ValueError, LinAlgError, formatShape } from '../errors.js';
import { idOf, call, requireInit, isFloat, disposeAll } from './common.js';
import { reshape, transpose, slice, narrow } from './shape.js';
import { where, eq, mul, sub, gt, square, cast } from './elementwise.js';
import { sum } from './reduce.js';
import { matmul } from './matmul.js';
import { eye } from '../creation.js';
import { checkNumel, show } from '../sizes.js';
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

// ————————————————————————————————————————————————————————— svd, svdvals

const SVD = options('svd', {
  /** true (default, as in PyTorch): U [m, m] and Vh [n, n]; false: U [m, k], Vh [k, n], k = min(m, n) */
  fullMatrices: opt.boolean,
});
/** Options of svd: fullMatrices (default true: U [m, m], Vh [n, n]; false: U [m, k], Vh [k, n], k = min(m, n)). */
export type SvdOptions = OptionsOf<typeof SVD>;

const nonFinite = (op: string, A: Tensor) => (at: string): string =>
  `${op}:${at} the algorithm failed to converge because the input matrix contained non-finite values ` +
  `(A has shape ${formatShape(A.dims)})`;

/**
 * torch.linalg.svd: [U, S, Vh] with A = U·diag(S)·Vh for A [..., m, n] (float32 or float64), S
 * [..., k] descending (k = min(m, n)), U [..., m, m] and Vh [..., n, n] (fullMatrices, the
 * default) or U [..., m, k] and Vh [..., k, n]. Computed in f64 by one-sided Jacobi with a fixed
 * sweep order and stopping rule: the same bits on every engine.
 *
 * Singular vectors are unique only up to sign (and, where singular values repeat, up to a
 * rotation within their subspace), so, as PyTorch's documentation says, different libraries give
 * different ones. wasmgrad's convention: the entry of largest magnitude of each column of U is
 * positive (the first such entry on ties) and the matching row of Vh is flipped with it; the
 * extra columns of a full U or rows of a full Vh (a basis of the complement, from the standard
 * basis vectors least covered by the others) follow the same rule on their own.
 *
 * Gradients follow PyTorch's svd_backward. Those of S are always defined; those of U and Vh only
 * where the singular values are distinct (and, for m ≠ n, nonzero): where two are equal, the
 * gradient of A is NaN for that matrix whenever U or Vh receives a nonzero gradient (PyTorch gives
 * inf or NaN there too). With fullMatrices and m ≠ n, the gradient reaching the extra columns of U
 * (rows of Vh) is ignored and their tangent is zero, as in PyTorch: they are any basis of the
 * complement. Real singular vectors have no continuous gauge freedom (only the sign, which the
 * convention fixes locally), so no gauge check is needed: every loss of U and Vh is differentiable
 * where the singular values are distinct.
 */
export function svd(A: Tensor, opts?: SvdOptions): [Tensor, Tensor, Tensor] {
  if (arguments.length > 2) checkArity('svd', arguments, 2, 'A, options?');
  requireInit('svd');
  const options = SVD.parse(opts);
  matrixArg('svd', A, 'A');
  const full = options.fullMatrices ?? true;
  const [m, n] = A.dims.slice(-2);
  const k = Math.min(m, n), uc = full ? m : k, vr = full ? n : k;
  const batch = A.dims.slice(0, -2);
  checkNumel('svd', [...batch, m, uc], A.dtype, 'U');
  checkNumel('svd', [...batch, vr, n], A.dtype, 'Vh');
  checkNumel('svd', [...batch, m * uc + k + vr * n], A.dtype, 'the packed U, S and Vh');
  const packed = call('svd', wasm.svd(A.id, full ? 1 : 0, 1));
  raiseIfFailed(packed, A.rank > 2, nonFinite('svd', A));
  const parts: Tensor[] = [];
  try {
    const u = slice(packed, -1, 0, m * uc);
    parts.push(u);
    const sv = slice(packed, -1, m * uc, m * uc + k);
    parts.push(sv);
    const vh = slice(packed, -1, m * uc + k, m * uc + k + vr * n);
    parts.push(vh);
    return [reshape(u, [...batch, m, uc]), reshape(sv, [...batch, k]), reshape(vh, [...batch, vr, n])];
  } finally {
    disposeAll([packed, ...parts]);
  }
}

/**
 * torch.linalg.svdvals: the singular values [..., min(m, n)] of A [..., m, n], descending: the
 * same bits as svd(A)[1]. Its gradient U·diag(g)·Vh is defined everywhere, repeated singular
 * values included (a subgradient where the vectors are not unique).
 */
export function svdvals(A: Tensor): Tensor {
  requireInit('svdvals');
  matrixArg('svdvals', A, 'A');
  const s = call('svdvals', wasm.svd(A.id, 0, 0));
  raiseIfFailed(s, A.rank > 2, nonFinite('svdvals', A));
  return s;
}

// ————————————————————————————————————————————————————————— eigh, eigvalsh

const eighSpecs = {
  /** 'L' (default): read the lower triangle; 'U': the upper one. The other is never read. */
  UPLO: opt.any<'L' | 'U'>(),
};
const EIGH = options('eigh', eighSpecs);
const EIGVALSH = options('eigvalsh', eighSpecs);
/** Options of eigh / eigvalsh: UPLO, 'L' (default: the lower triangle is read) or 'U'. */
export type EighOptions = OptionsOf<typeof eighSpecs>;

/** The matrix whose lower triangle the kernel reads: A, or Aᵀ for UPLO 'U' (pushed to temps). */
function triangleInput(op: string, A: Tensor, uplo: unknown, temps: Tensor[]): Tensor {
  if (uplo !== undefined && uplo !== 'L' && uplo !== 'U') {
    throw new ValueError(`${op}: UPLO must be 'L' or 'U', got ${typeof uplo === 'string' ? JSON.stringify(uplo) : show(uplo)}`);
  }
  if (uplo !== 'U') return A;
  const t = transpose(A, -2, -1);
  temps.push(t);
  return t;
}

/**
 * torch.linalg.eigh: [L, V] with A = V·diag(L)·Vᵀ for the symmetric matrices of A [..., n, n]
 * (float32 or float64), read from the lower triangle (UPLO 'L', the default) or the upper one
 * ('U'); the other triangle is never read. L [..., n] ascending, V [..., n, n] with the
 * eigenvectors as columns. Computed in f64 by cyclic Jacobi with a fixed sweep order and
 * stopping rule: the same bits on every engine.
 *
 * Eigenvectors are unique only up to sign (and, where eigenvalues repeat, up to a rotation within
 * their eigenspace), so, as PyTorch's documentation says, libraries differ. wasmgrad's
 * convention: the entry of largest magnitude of each eigenvector is positive (the first such
 * entry on ties).
 *
 * Gradients: those of L are always defined; those of V only where the eigenvalues are distinct:
 * where two are equal, the gradient of A is NaN for that matrix whenever V receives a nonzero
 * gradient (PyTorch gives inf or NaN there too). The gradient is the derivative of what is read:
 * for UPLO 'L', G_ii on the diagonal and G_ij + G_ji below it (zero above), where G is the
 * symmetric gradient PyTorch returns, V·(diag(gL) + F∘(Vᵀ·gV))·Vᵀ with F_ij = 1/(λ_j − λ_i). For an
 * A built symmetric (B + Bᵀ, X·Xᵀ), the chain rule gives PyTorch's gradients of what it is built from.
 */
export function eigh(A: Tensor, opts?: EighOptions): [Tensor, Tensor] {
  if (arguments.length > 2) checkArity('eigh', arguments, 2, 'A, options?');
  requireInit('eigh');
  const options = EIGH.parse(opts);
  const n = squareArg('eigh', A);
  const batch = A.dims.slice(0, -2);
  checkNumel('eigh', [...batch, n + n * n], A.dtype, 'the packed eigenvalues and eigenvectors');
  const temps: Tensor[] = [];
  try {
    const input = triangleInput('eigh', A, options.UPLO, temps);
    const packed = call('eigh', wasm.eigh(input.id, 1));
    raiseIfFailed(packed, A.rank > 2, nonFinite('eigh', A));
    temps.push(packed);
    const l = slice(packed, -1, 0, n);
    temps.push(l);
    const v = slice(packed, -1, n, n + n * n);
    temps.push(v);
    return [reshape(l, [...batch, n]), reshape(v, [...batch, n, n])];
  } finally {
    disposeAll(temps);
  }
}

/**
 * torch.linalg.eigvalsh: the eigenvalues [..., n] (ascending) of the symmetric matrices read from
 * one triangle of A [..., n, n] (UPLO 'L', the default, or 'U'): the same bits as eigh(A)[0]. Its
 * gradient V·diag(g)·Vᵀ (folded onto the triangle read) is defined everywhere.
 */
export function eigvalsh(A: Tensor, opts?: EighOptions): Tensor {
  if (arguments.length > 2) checkArity('eigvalsh', arguments, 2, 'A, options?');
  requireInit('eigvalsh');
  const options = EIGVALSH.parse(opts);
  squareArg('eigvalsh', A);
  const temps: Tensor[] = [];
  try {
    const input = triangleInput('eigvalsh', A, options.UPLO, temps);
    const l = call('eigvalsh', wasm.eigh(input.id, 0));
    raiseIfFailed(l, A.rank > 2, nonFinite('eigvalsh', A));
    return l;
  } finally {
    disposeAll(temps);
  }
}

// ————————————————————————————————————————————————————————— pinv, lstsq

/** The machine epsilon of a float dtype (PyTorch's torch.finfo(dtype).eps). */
const epsOf = (dtype: string): number => (dtype === 'float32' ? 2 ** -23 : 2 ** -52);

function tolerance(op: string, name: string, v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || Number.isNaN(v)) {
    throw new ValueError(`${op}: ${name} must be a number (or null), got ${typeof v === 'string' ? JSON.stringify(v) : show(v)}`);
  }
  return v;
}

const PINV = options('pinv', {
  /** absolute tolerance: singular values at or below it count as zero (default 0) */
  atol: opt.any<number | null>(),
  /** relative tolerance, times the largest singular value (default eps·max(m, n), or 0 when atol > 0 is given) */
  rtol: opt.any<number | null>(),
  /** A is symmetric: its lower triangle is read and its eigendecomposition used */
  hermitian: opt.boolean,
});
/** Options of pinv: atol, rtol (PyTorch's defaults) and hermitian (default false). */
export type PinvOptions = OptionsOf<typeof PINV>;

/**
 * torch.linalg.pinv: the Moore–Penrose pseudoinverse [..., n, m] of A [..., m, n], V·diag(1/σ)·Uᵀ
 * over the singular values σ > max(atol, rtol·σ_max) of each matrix (the others count as zero).
 * PyTorch's defaults: atol 0; rtol eps·max(m, n) (eps of A's dtype) when atol is not given or not
 * positive, else 0. With hermitian, A must be square and symmetric: its lower triangle is read and
 * its eigenvalues λ with |λ| > max(atol, rtol·max|λ|) are inverted. Computed in f64.
 *
 * The gradient is PyTorch's (pinv_backward): the derivative of A⁺ where the rank is locally
 * constant, −Pᵀ·g·Pᵀ + (I − AP)·gᵀ·P·Pᵀ + Pᵀ·P·gᵀ·(I − PA) with P = A⁺, so it is finite even where
 * singular values repeat (unlike a pseudoinverse built from svd). With hermitian it is folded onto
 * the lower triangle, as eigh's is.
 */
export function pinv(A: Tensor, opts?: PinvOptions): Tensor {
  if (arguments.length > 2) checkArity('pinv', arguments, 2, 'A, options?');
  requireInit('pinv');
  const options = PINV.parse(opts);
  const hermitian = options.hermitian ?? false;
  if (hermitian) squareArg('pinv', A); else matrixArg('pinv', A, 'A');
  const atol = tolerance('pinv', 'atol', options.atol);
  const rtol = tolerance('pinv', 'rtol', options.rtol);
  const [m, n] = A.dims.slice(-2);
  const r = rtol ?? ((atol ?? 0) > 0 ? 0 : epsOf(A.dtype) * Math.max(m, n));
  const p = call('pinv', wasm.pinv(A.id, atol ?? 0, r, hermitian ? 1 : 0));
  raiseIfFailed(p, A.rank > 2, nonFinite('pinv', A));
  return p;
}

const LSTSQ_DRIVERS = ['gels', 'gelsy', 'gelsd', 'gelss'] as const;
const LSTSQ = options('lstsq', {
  /** singular values at or below rcond·σ_max count as zero (default eps·max(m, n); 'gels' ignores it) */
  rcond: opt.any<number | null>(),
  /** which LAPACK driver's results to return: 'gelsy' (default, as PyTorch on CPU), 'gelsd', 'gelss' or 'gels' */
  driver: opt.any<'gels' | 'gelsy' | 'gelsd' | 'gelss' | null>(),
});
/** Options of lstsq: rcond, and driver ('gelsy' by default; 'gelsd', 'gelss', 'gels'). */
export type LstsqOptions = OptionsOf<typeof LSTSQ>;

/** lstsq's results, named as torch.linalg.lstsq's (a tuple in PyTorch, an object here). */
export interface LstsqResult {
  /** X [..., n, k] (or [..., n] for a vector B) minimising ‖A·X − B‖ */
  solution: Tensor;
  /** ‖A·X − B‖² per column [..., k] for 'gelsd', 'gelss' (when every A has rank n) and 'gels', when m > n; otherwise empty [0] */
  residuals: Tensor;
  /** the rank of each matrix of A [...] (int32) for 'gelsy', 'gelsd', 'gelss'; empty [0] for 'gels' */
  rank: Tensor;
  /** the singular values of A [..., min(m, n)] for 'gelsd' and 'gelss'; otherwise empty [0] */
  singularValues: Tensor;
}

/**
 * torch.linalg.lstsq(A, B, rcond=None, *, driver=None): the least-squares solution X of A·X = B
 * for A [..., m, n] and B [..., m, k] (or B [..., m], one rank below A: a vector, X [..., n]),
 * batch dims broadcast. Returns { solution, residuals, rank, singularValues } with the shapes
 * PyTorch documents for each driver; the default is 'gelsy' (PyTorch's on CPU), whose residuals
 * and singular values are empty. Every driver is computed the same way, through the SVD: X =
 * A⁺·B with the singular values at or below rcond·σ_max counted as zero (gels: none but exact
 * zeros, as it assumes full rank), the minimum-norm solution; rank is the number of singular values
 * above rcond·σ_max (gelsy decides it from a pivoted QR: the same for every matrix whose rank is
 * clear). The gradients of solution, residuals and singularValues are pinv's, matmul's and
 * svdvals'.
 */
export function lstsq(A: Tensor, B: Tensor, opts?: LstsqOptions): LstsqResult {
  if (arguments.length > 3) checkArity('lstsq', arguments, 3, 'A, B, options?');
  requireInit('lstsq');
  const options = LSTSQ.parse(opts);
  matrixArg('lstsq', A, 'A');
  idOf(B, 'lstsq (B)');
  if (!isFloat(B.dtype)) {
    throw new DTypeError(`lstsq: B is a ${B.dtype} tensor of shape ${formatShape(B.dims)}; lstsq takes float32 or float64 tensors`);
  }
  sameDtype('lstsq', A, B);
  const driver = options.driver ?? 'gelsy';
  if (!(LSTSQ_DRIVERS as readonly unknown[]).includes(driver)) {
    throw new ValueError(`lstsq: driver must be one of 'gels', 'gelsy', 'gelsd', 'gelss' (PyTorch's CPU drivers), ` +
      `got ${typeof driver === 'string' ? JSON.stringify(driver) : show(driver)}`);
  }
  const rcond = tolerance('lstsq', 'rcond', options.rcond);
  const [m, n] = A.dims.slice(-2);
  const fit = `lstsq: shapes ${formatShape(A.dims)} (A) and ${formatShape(B.dims)} (B) do not fit`;
  if (B.rank !== A.rank && B.rank !== A.rank - 1) {
    throw new ShapeError(`${fit}: B must have A's rank (a batch of matrices [..., m, k]) or one less (vectors [..., m])`);
  }
  const vector = B.rank === A.rank - 1;
  const rows = vector ? B.dims[B.rank - 1] : B.dims[B.rank - 2];
  if (rows !== m) throw new ShapeError(`${fit}: A has ${m} rows, B has ${rows}${vector ? ' elements' : ' rows'}`);
  batchesFit('lstsq', A, B, vector ? B.dims.slice(0, -1) : B.dims.slice(0, -2));
  const tol = driver === 'gels' ? 0 : rcond ?? epsOf(A.dtype) * Math.max(m, n);
  const temps: Tensor[] = [];
  const made: Tensor[] = [];
  const empty = (dtype: DTypeName): Tensor => { const e = zeros([0], { dtype }); made.push(e); return e; };
  try {
    const rhs = vector ? reshape(B, [...B.dims, 1]) : B;
    if (vector) temps.push(rhs);
    const p = pinv(A, { atol: 0, rtol: tol });
    temps.push(p);
    const x = matmul(p, rhs);
    (vector ? temps : made).push(x);
    let rank: Tensor | undefined, sv: Tensor | undefined, full = true;
    if (driver !== 'gels') {
      const s = svdvals(A);
      const cut = mul(narrow(s, -1, 0, Math.min(1, s.dims[s.rank - 1])), tol);
      temps.push(cut);
      const kept = gt(s, cut);
      temps.push(kept);
      const count = sum(cast(kept, A.dtype), -1);
      temps.push(count);
      rank = cast(count, 'int32');
      made.push(rank);
      full = (rank.data() as Int32Array).every((r) => r === n);
      if (driver === 'gelsd' || driver === 'gelss') { sv = s; made.push(s); } else temps.push(s);
    }
    let residuals: Tensor;
    if (m > n && driver !== 'gelsy' && full) {
      const d = sub(matmul(A, x), rhs);
      temps.push(d);
      const d2 = square(d);
      temps.push(d2);
      residuals = sum(d2, -2);
      made.push(residuals);
    } else {
      residuals = empty(A.dtype);
    }
    const solution = vector ? reshape(x, x.dims.slice(0, -1)) : x;
    if (vector) made.push(solution);
    return { solution, residuals, rank: rank ?? empty('int32'), singularValues: sv ?? empty(A.dtype) };
  } catch (e) {
    disposeAll(made);
    throw e;
  } finally {
    disposeAll(temps);
  }
}

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
    /** [U, S, Vh] with A = U·diag(S)·Vh, S descending, each column of U with its largest-magnitude entry positive (PyTorch: torch.linalg.svd; MATLAB: svd). */
    svd(options?: SvdOptions): [Tensor, Tensor, Tensor];
    /** The singular values [..., min(m, n)], descending (PyTorch: torch.linalg.svdvals). */
    svdvals(): Tensor;
    /** [eigenvalues ascending, eigenvectors as columns] of the symmetric matrix read from one triangle (PyTorch: torch.linalg.eigh; MATLAB: eig). */
    eigh(options?: EighOptions): [Tensor, Tensor];
    /** The eigenvalues, ascending, of the symmetric matrix read from one triangle (PyTorch: torch.linalg.eigvalsh). */
    eigvalsh(options?: EighOptions): Tensor;
    /** The Moore–Penrose pseudoinverse [..., n, m] (PyTorch: torch.linalg.pinv; MATLAB: pinv). */
    pinv(options?: PinvOptions): Tensor;
    /** The least-squares solution of A·X = B with A this tensor, as { solution, residuals, rank, singularValues } (PyTorch: torch.linalg.lstsq; MATLAB: lsqminnorm). */
    lstsq(B: Tensor, options?: LstsqOptions): LstsqResult;
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
P.svd = function (options) {
  if (arguments.length > 1) checkArity('svd', arguments, 1, 'options?');
  return svd(this, options);
};
P.svdvals = function () { return svdvals(this); };
P.eigh = function (options) {
  if (arguments.length > 1) checkArity('eigh', arguments, 1, 'options?');
  return eigh(this, options);
};
P.eigvalsh = function (options) {
  if (arguments.length > 1) checkArity('eigvalsh', arguments, 1, 'options?');
  return eigvalsh(this, options);
};
P.pinv = function (options) {
  if (arguments.length > 1) checkArity('pinv', arguments, 1, 'options?');
  return pinv(this, options);
};
P.lstsq = function (B, options) {
  if (arguments.length > 2) checkArity('lstsq', arguments, 2, 'B, options?');
  return lstsq(this, B, options);
};
