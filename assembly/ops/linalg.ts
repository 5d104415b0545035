// Linear algebra: LU solve, determinants, Cholesky, triangular solve and Householder QR over
// batches of matrices — kernels, recording ops, and their VJP and JVP rules.
//
// Matrices are the last two dims, row-major; batch dims broadcast (NumPy rules) where an op takes
// two operands. Every loop runs in a fixed order, so results are the same bits on every engine;
// the inner loops work on contiguous rows with f32x4 / f64x2. The rules are written with
// recording ops only (solves, matmul, where, permute, …), so derivatives of any order work.
//
// Failures the host must report (a singular matrix for solve, a matrix that is not positive-
// definite for cholesky) do not stop the kernels: the result is computed anyway (with inf/NaN),
// and INFO keeps the first failing batch element and the 1-based index of the failing pivot or
// minor, as LAPACK's `info` does. The host reads it after the call and raises LinAlgError.

import { Op, DType } from "../core/vocabulary";
import {
  newTensor, releaseTensor, dtypeOf, rankOf, dimOf, dataOf, numelOf, shapePtr, MAX_RANK, itemSize,
  needsGrad, fail, E_NO_RULE, E_OOM,
} from "../core/tensor";
import { alloc, free } from "../core/alloc";
import {
  shouldRecord1, shouldRecord2, recordOp, recordInput, recordAttr, recInput, recAttr, recOut, accumulate,
} from "../engine/tape";
import { anySetGuarded, captureOp1 } from "../engine/accelerate";
import { sumTo, sum } from "./reduce";
import { tangentOf, setTangent, flushJvp } from "../engine/forward";
import { add, sub, mul, div, neg, where, scalar, mulScalar, binaryScalar, compareScalarOp } from "./elementwise";
import { matmul } from "./matmul";
import { permute, reshapeTo, slice, concat, indexSelect, pad } from "./shape";
import {
  dot64, balancingExponent, scaleBy, scaleAll, jacobiOrthogonalize, jacobiEigen, sortOrder, completeBasis,
  leadsNegative, negate,
} from "./decomp";

@inline function getI(p: usize, k: i32): i32 { return load<i32>(p + (<usize>k << 2)); }
@inline function setI(p: usize, k: i32, v: i32): void { store<i32>(p + (<usize>k << 2), v); }

// ————————————————————————————————————————————————————————— failure report

const INFO = memory.data(8); // [batch element, 1-based index], batch -1 when all went well

function clearInfo(): void { setI(INFO, 0, -1); setI(INFO, 1, 0); }
function noteFailure(batch: i32, index: i32): void {
  if (getI(INFO, 0) < 0) { setI(INFO, 0, batch); setI(INFO, 1, index); }
}
/** The first batch element the last kernel failed on, or -1. */
export function linalgFailedBatch(): i32 { return getI(INFO, 0); }
/** The 1-based pivot (solve) or leading-minor order (cholesky) it failed at. */
export function linalgFailedIndex(): i32 { return getI(INFO, 1); }

// ————————————————————————————————————————————————————————— row primitives (SIMD)

/** dst[i] += alpha·src[i] for i < n. */
@inline function axpy<T>(dst: usize, src: usize, alpha: T, n: i32): void {
  const size = sizeof<T>();
  const lanes = <i32>(16 / size);
  const va = v128.splat<T>(alpha);
  let i = 0;
  for (; i + lanes <= n; i += lanes) {
    const o = dst + <usize>i * size;
    v128.store(o, v128.add<T>(v128.load(o), v128.mul<T>(va, v128.load(src + <usize>i * size))));
  }
  for (; i < n; i++) {
    const o = dst + <usize>i * size;
    store<T>(o, load<T>(o) + alpha * load<T>(src + <usize>i * size));
  }
}

/** dst[i] /= d for i < n. */
@inline function divRow<T>(dst: usize, d: T, n: i32): void {
  const size = sizeof<T>();
  const lanes = <i32>(16 / size);
  const vd = v128.splat<T>(d);
  let i = 0;
  for (; i + lanes <= n; i += lanes) {
    const o = dst + <usize>i * size;
    v128.store(o, v128.div<T>(v128.load(o), vd));
  }
  for (; i < n; i++) { const o = dst + <usize>i * size; store<T>(o, load<T>(o) / d); }
}

/** Σ a[i]·b[i] for i < n: lane-wise partial sums, then the lanes in order, then the tail. */
@inline function dot<T>(a: usize, b: usize, n: i32): T {
  const size = sizeof<T>();
  const lanes = <i32>(16 / size);
  let acc = v128.splat<T>(<T>0);
  let i = 0;
  for (; i + lanes <= n; i += lanes) {
    acc = v128.add<T>(acc, v128.mul<T>(v128.load(a + <usize>i * size), v128.load(b + <usize>i * size)));
  }
  let s: T = <T>0;
  if (n >= lanes) {
    v128.store(LANES, acc);
    for (let k = 0; k < lanes; k++) s += load<T>(LANES + <usize>k * size);
  }
  for (; i < n; i++) s += load<T>(a + <usize>i * size) * load<T>(b + <usize>i * size);
  return s;
}
const LANES = memory.data(16, 16);

function swapRows<T>(p: usize, cols: i32, i: i32, j: i32): void {
  const size = sizeof<T>();
  const a = p + <usize>i * <usize>cols * size, b = p + <usize>j * <usize>cols * size;
  for (let c = 0; c < cols; c++) {
    const o = <usize>c * size;
    const t = load<T>(a + o);
    store<T>(a + o, load<T>(b + o));
    store<T>(b + o, t);
  }
}

// ————————————————————————————————————————————————————————— triangular solves on one matrix

/**
 * Solves T·X = X in place: X is n×k (row-major at x), T is the n×n triangle read as element
 * (i, j) at t + (i·rs + j·cs)·size — so (rs, cs) = (1, n) reads Tᵀ without a copy. `lower` says
 * which triangle of the matrix as read is used; `unit` takes its diagonal as 1.
 */
function trsmLeft<T>(t: usize, rs: i32, cs: i32, lower: bool, unit: bool, x: usize, n: i32, k: i32): void {
  const size = sizeof<T>();
  const row = <usize>k * size;
  if (lower) {
    for (let i = 0; i < n; i++) {
      const xi = x + <usize>i * row;
      for (let j = 0; j < i; j++) axpy<T>(xi, x + <usize>j * row, -load<T>(t + <usize>(i * rs + j * cs) * size), k);
      if (!unit) divRow<T>(xi, load<T>(t + <usize>(i * (rs + cs)) * size), k);
    }
  } else {
    for (let i = n - 1; i >= 0; i--) {
      const xi = x + <usize>i * row;
      for (let j = i + 1; j < n; j++) axpy<T>(xi, x + <usize>j * row, -load<T>(t + <usize>(i * rs + j * cs) * size), k);
      if (!unit) divRow<T>(xi, load<T>(t + <usize>(i * (rs + cs)) * size), k);
    }
  }
}

/**
 * Solves X·T = X in place: X is m×n, T n×n read as in trsmLeft. Each row x of X solves x·T = b
 * on its own: for an upper T, x_j = b_j / t_jj and then b_l −= x_j·t_jl for l > j (and the
 * mirror image for a lower T) — rows of T, contiguous unless T is read transposed.
 */
function trsmRight<T>(t: usize, rs: i32, cs: i32, lower: bool, unit: bool, x: usize, m: i32, n: i32): void {
  const size = sizeof<T>();
  for (let r = 0; r < m; r++) {
    const xr = x + <usize>r * <usize>n * size;
    for (let q = 0; q < n; q++) {
      const j = lower ? n - 1 - q : q;
      let v = load<T>(xr + <usize>j * size);
      if (!unit) { v /= load<T>(t + <usize>(j * (rs + cs)) * size); store<T>(xr + <usize>j * size, v); }
      const from = lower ? 0 : j + 1, count = lower ? j : n - j - 1;
      if (cs == 1) axpy<T>(xr + <usize>from * size, t + <usize>(j * rs + from) * size, -v, count);
      else {
        for (let l = from; l < from + count; l++) {
          const o = xr + <usize>l * size;
          store<T>(o, load<T>(o) - v * load<T>(t + <usize>(j * rs + l * cs) * size));
        }
      }
    }
  }
}

// ————————————————————————————————————————————————————————— LU with partial pivoting

/**
 * In-place LU of the n×n matrix at p (PA = LU, L unit lower below the diagonal, U on and above):
 * at step k the pivot is the first row with the largest |a_ik| (LAPACK's idamax), piv[k] the row
 * swapped with k. Returns LAPACK's info: 0, or the 1-based index of the first exactly-zero pivot.
 */
function luFactor<T>(p: usize, piv: usize, n: i32): i32 {
  const size = sizeof<T>();
  const row = <usize>n * size;
  let info = 0;
  for (let k = 0; k < n; k++) {
    let best = k;
    let bestAbs = abs<T>(load<T>(p + <usize>k * row + <usize>k * size));
    for (let i = k + 1; i < n; i++) {
      const v = abs<T>(load<T>(p + <usize>i * row + <usize>k * size));
      if (v > bestAbs) { best = i; bestAbs = v; }
    }
    setI(piv, k, best);
    if (best != k) swapRows<T>(p, n, k, best);
    const pivot = load<T>(p + <usize>k * row + <usize>k * size);
    if (pivot == <T>0) { if (info == 0) info = k + 1; continue; } // the column below is zero too
    for (let i = k + 1; i < n; i++) {
      const at = p + <usize>i * row + <usize>k * size;
      const l = load<T>(at) / pivot;
      store<T>(at, l);
      axpy<T>(at + size, p + <usize>k * row + <usize>(k + 1) * size, -l, n - k - 1);
    }
  }
  return info;
}

/** Solves op(A)·X = X in place with A's LU: A = PᵀLU, so Aᵀ = UᵀLᵀP. */
function luSolve<T>(lu: usize, piv: usize, n: i32, trans: bool, x: usize, k: i32): void {
  if (!trans) {
    for (let i = 0; i < n; i++) { const j = getI(piv, i); if (j != i) swapRows<T>(x, k, i, j); }
    trsmLeft<T>(lu, n, 1, true, true, x, n, k);
    trsmLeft<T>(lu, n, 1, false, false, x, n, k);
  } else {
    trsmLeft<T>(lu, 1, n, true, false, x, n, k);
    trsmLeft<T>(lu, 1, n, false, true, x, n, k);
    for (let i = n - 1; i >= 0; i--) { const j = getI(piv, i); if (j != i) swapRows<T>(x, k, i, j); }
  }
}

// ————————————————————————————————————————————————————————— batches

const SHAPE_TMP = memory.data(MAX_RANK * 4);
const BATCH_DIM = memory.data(MAX_RANK * 4);
const STRIDE_A = memory.data(MAX_RANK * 4);
const STRIDE_B = memory.data(MAX_RANK * 4);

/**
 * Broadcasts the batch dims (all but the last two) of a and b into BATCH_DIM and SHAPE_TMP, with
 * each operand's matrix stride per batch dim in STRIDE_A / STRIDE_B (0 where broadcast). Returns
 * the number of batch dims.
 */
function broadcastBatch(a: i32, b: i32): i32 {
  const ba = rankOf(a) - 2, bb = rankOf(b) - 2;
  const nb = max(ba, bb);
  let sa = 1, sb = 1;
  for (let d = nb - 1; d >= 0; d--) {
    const da = d - (nb - ba), db = d - (nb - bb);
    const na = da < 0 ? 1 : dimOf(a, da), nB = db < 0 ? 1 : dimOf(b, db);
    setI(BATCH_DIM, d, na == 1 ? nB : na);
    setI(SHAPE_TMP, d, na == 1 ? nB : na);
    setI(STRIDE_A, d, na == 1 ? 0 : sa);
    setI(STRIDE_B, d, nB == 1 ? 0 : sb);
    sa *= na; sb *= nB;
  }
  return nb;
}

/** The matrix offsets (in matrices) of a and b for batch element t. */
@inline function batchOffset(t: i32, nb: i32, strides: usize): i32 {
  let rem = t, off = 0;
  for (let d = nb - 1; d >= 0; d--) {
    const n = getI(BATCH_DIM, d);
    off += (rem % n) * getI(strides, d);
    rem /= n;
  }
  return off;
}

function batchCount(nb: i32): i32 {
  let n = 1;
  for (let d = 0; d < nb; d++) n *= getI(BATCH_DIM, d);
  return n;
}

/** Batch count of a single operand (all dims but the last two). */
function matrices(a: i32): i32 {
  let n = 1;
  for (let d = 0; d < rankOf(a) - 2; d++) n *= dimOf(a, d);
  return n;
}

/** Scratch for one n×n LU and its pivots; 0 (with the OOM error set) when memory is out. */
function luScratch(n: i32, size: usize, op: i32): usize {
  const p = alloc(<u32>(<usize>n * <usize>n * size + <usize>n * 4 + 16));
  if (p == 0) fail(E_OOM, op);
  return p;
}

// ————————————————————————————————————————————————————————— solve

function solveKernel<T>(a: i32, b: i32, out: i32, nb: i32, trans: bool, work: usize): void {
  const size = sizeof<T>();
  const n = dimOf(a, rankOf(a) - 1), k = dimOf(b, rankOf(b) - 1);
  const matA = <usize>n * <usize>n * size, matX = <usize>n * <usize>k * size;
  const piv = work + matA;
  let factored = -1;
  for (let t = 0, count = batchCount(nb); t < count; t++) {
    const offA = batchOffset(t, nb, STRIDE_A), offB = batchOffset(t, nb, STRIDE_B);
    // A broadcast over B's batch is factored once.
    if (offA != factored) {
      memory.copy(work, dataOf(a) + <usize>offA * matA, matA);
      const info = luFactor<T>(work, piv, n);
      if (info != 0) noteFailure(t, info);
      factored = offA;
    }
    const x = dataOf(out) + <usize>t * matX;
    memory.copy(x, dataOf(b) + <usize>offB * matX, matX);
    luSolve<T>(work, piv, n, trans, x, k);
  }
}

/**
 * op(A)⁻¹·B (op(A) = Aᵀ when `trans`), A [..., n, n], B [..., n, k], batch dims broadcast
 * (a recording op). A singular A is reported through INFO.
 */
export function solve(a: i32, b: i32, trans: i32): i32 {
  if (a == 0 || b == 0) return 0;
  clearInfo();
  const nb = broadcastBatch(a, b);
  const n = dimOf(a, rankOf(a) - 1), k = dimOf(b, rankOf(b) - 1);
  setI(SHAPE_TMP, nb, n);
  setI(SHAPE_TMP, nb + 1, k);
  const dt = dtypeOf(a);
  const out = newTensor(dt, nb + 2, SHAPE_TMP);
  if (out == 0) return 0;
  const work = luScratch(n, itemSize(dt), Op.solve);
  if (work == 0) { releaseTensor(out); return 0; }
  if (dt == DType.float32) solveKernel<f32>(a, b, out, nb, trans != 0, work);
  else solveKernel<f64>(a, b, out, nb, trans != 0, work);
  free(work);
  if (recordOp(shouldRecord2(a, b), Op.solve, out)) { recordInput(a); recordInput(b); recordAttr(<f64>trans); }
  return out;
}

// ————————————————————————————————————————————————————————— det, log|det|, sign

const MODE_DET = 0;
const MODE_LOGABS = 1;
const MODE_SIGN = 2;

function detKernel<T>(a: i32, out: i32, mode: i32, work: usize): void {
  const size = sizeof<T>();
  const n = dimOf(a, rankOf(a) - 1);
  const matA = <usize>n * <usize>n * size;
  const piv = work + matA;
  for (let t = 0, count = matrices(a); t < count; t++) {
    memory.copy(work, dataOf(a) + <usize>t * matA, matA);
    luFactor<T>(work, piv, n);
    let swaps = 0;
    for (let i = 0; i < n; i++) if (getI(piv, i) != i) swaps++;
    let det: T = swaps & 1 ? <T>-1 : <T>1;
    let sgn = det;
    let logAbs: f64 = 0;
    for (let i = 0; i < n; i++) {
      const u = load<T>(work + <usize>(i * (n + 1)) * size);
      det *= u;
      sgn *= u > <T>0 ? <T>1 : u < <T>0 ? <T>-1 : u; // a zero (or NaN) pivot carries through
      logAbs += Math.log(<f64>abs<T>(u));
    }
    if (sgn == <T>0) sgn = <T>0; // +0, never -0
    const v: T = mode == MODE_DET ? det : mode == MODE_LOGABS ? <T>logAbs : sgn;
    store<T>(dataOf(out) + <usize>t * size, v);
  }
}

/**
 * det(A) (MODE_DET), log|det A| (MODE_LOGABS) or sign(det A) (MODE_SIGN, not recorded: its
 * derivative is zero) over the batch of A [..., n, n], from the LU's diagonal.
 */
export function determinant(a: i32, mode: i32): i32 {
  if (a == 0) return 0;
  const rank = rankOf(a);
  for (let d = 0; d < rank - 2; d++) setI(SHAPE_TMP, d, dimOf(a, d));
  const dt = dtypeOf(a);
  const out = newTensor(dt, rank - 2, SHAPE_TMP);
  if (out == 0) return 0;
  const work = luScratch(dimOf(a, rank - 1), itemSize(dt), mode == MODE_LOGABS ? Op.logabsdet : Op.det);
  if (work == 0) { releaseTensor(out); return 0; }
  if (dt == DType.float32) detKernel<f32>(a, out, mode, work);
  else detKernel<f64>(a, out, mode, work);
  free(work);
  if (mode == MODE_SIGN) captureOp1(Op.detSign, out, a);
  if (mode != MODE_SIGN && recordOp(shouldRecord1(a), mode == MODE_DET ? Op.det : Op.logabsdet, out)) recordInput(a);
  return out;
}

// ————————————————————————————————————————————————————————— cholesky

/**
 * A = L·Lᵀ from A's lower triangle (the upper one is never read), row by row: l_jj =
 * sqrt(a_jj − Σ l_jk²), l_ij = (a_ij − Σ l_ik·l_jk) / l_jj, each Σ a dot product of two rows of L.
 * Stops at the first leading minor that is not positive-definite (LAPACK potrf's info).
 */
function choleskyKernel<T>(a: i32, out: i32): void {
  const size = sizeof<T>();
  const n = dimOf(a, rankOf(a) - 1);
  const mat = <usize>n * <usize>n * size, row = <usize>n * size;
  memory.fill(dataOf(out), 0, <usize>numelOf(out) * size);
  for (let t = 0, count = matrices(a); t < count; t++) {
    const pa = dataOf(a) + <usize>t * mat, pl = dataOf(out) + <usize>t * mat;
    for (let j = 0; j < n; j++) {
      const lj = pl + <usize>j * row;
      const d = load<T>(pa + <usize>j * row + <usize>j * size) - dot<T>(lj, lj, j);
      if (!(d > <T>0)) { noteFailure(t, j + 1); break; }
      const ljj = sqrt<T>(d);
      store<T>(lj + <usize>j * size, ljj);
      for (let i = j + 1; i < n; i++) {
        const li = pl + <usize>i * row;
        store<T>(li + <usize>j * size, (load<T>(pa + <usize>i * row + <usize>j * size) - dot<T>(li, lj, j)) / ljj);
      }
    }
  }
}

/** The lower Cholesky factor of each matrix of A [..., n, n] (a recording op). */
export function cholesky(a: i32): i32 {
  if (a == 0) return 0;
  clearInfo();
  const dt = dtypeOf(a);
  const out = newTensor(dt, rankOf(a), shapePtr(a));
  if (out == 0) return 0;
  if (dt == DType.float32) choleskyKernel<f32>(a, out);
  else choleskyKernel<f64>(a, out);
  if (recordOp(shouldRecord1(a), Op.cholesky, out)) recordInput(a);
  return out;
}

// ————————————————————————————————————————————————————————— triangular solve

function triangularKernel<T>(a: i32, b: i32, out: i32, nb: i32, upper: bool, left: bool, unit: bool, trans: bool): void {
  const size = sizeof<T>();
  const n = dimOf(a, rankOf(a) - 1);
  const rb = rankOf(b), m = dimOf(b, rb - 2), k = dimOf(b, rb - 1);
  const matA = <usize>n * <usize>n * size, matX = <usize>m * <usize>k * size;
  // Reading A transposed turns its upper triangle into a lower one.
  const rs = trans ? 1 : n, cs = trans ? n : 1;
  const lower = upper == trans;
  for (let t = 0, count = batchCount(nb); t < count; t++) {
    const pa = dataOf(a) + <usize>batchOffset(t, nb, STRIDE_A) * matA;
    const x = dataOf(out) + <usize>t * matX;
    memory.copy(x, dataOf(b) + <usize>batchOffset(t, nb, STRIDE_B) * matX, matX);
    if (left) trsmLeft<T>(pa, rs, cs, lower, unit, x, m, k);
    else trsmRight<T>(pa, rs, cs, lower, unit, x, m, k);
  }
}

/**
 * torch.linalg.solve_triangular: X with op(A)·X = B (left) or X·op(A) = B (right), A's `upper`
 * or lower triangle (the other is never read), its diagonal taken as 1 when `unit`; op(A) = Aᵀ
 * when `trans` (used by the rules). Batch dims broadcast (a recording op).
 */
export function solveTriangular(a: i32, b: i32, upper: i32, left: i32, unit: i32, trans: i32): i32 {
  if (a == 0 || b == 0) return 0;
  const nb = broadcastBatch(a, b);
  const rb = rankOf(b);
  setI(SHAPE_TMP, nb, dimOf(b, rb - 2));
  setI(SHAPE_TMP, nb + 1, dimOf(b, rb - 1));
  const dt = dtypeOf(a);
  const out = newTensor(dt, nb + 2, SHAPE_TMP);
  if (out == 0) return 0;
  if (dt == DType.float32) triangularKernel<f32>(a, b, out, nb, upper != 0, left != 0, unit != 0, trans != 0);
  else triangularKernel<f64>(a, b, out, nb, upper != 0, left != 0, unit != 0, trans != 0);
  if (recordOp(shouldRecord2(a, b), Op.solveTriangular, out)) {
    recordInput(a); recordInput(b);
    recordAttr(<f64>upper); recordAttr(<f64>left); recordAttr(<f64>unit); recordAttr(<f64>trans);
  }
  return out;
}

// ————————————————————————————————————————————————————————— QR (Householder)

/** sqrt(Σ x_i²) over `count` elements `stride` apart, scaled by the largest |x_i| against overflow. */
function columnNorm<T>(p: usize, stride: usize, count: i32): f64 {
  const size = sizeof<T>();
  let scale: f64 = 0;
  for (let i = 0; i < count; i++) scale = max(scale, abs(<f64>load<T>(p + <usize>i * stride * size)));
  if (scale == 0 || scale != scale) return scale;
  let s: f64 = 0;
  for (let i = 0; i < count; i++) { const v = <f64>load<T>(p + <usize>i * stride * size) / scale; s += v * v; }
  return scale * Math.sqrt(s);
}

/**
 * LAPACK's geqrf + orgqr on one m×n matrix W (overwritten): K = min(m, n) Householder reflectors
 * H_j = I − τ_j v_j v_jᵀ (v_j[j] = 1) as dlarfg makes them — β = −sign(α)·‖(α, x)‖, τ = (β − α)/β,
 * and no reflection (τ = 0) when x below the diagonal is already zero — so R's diagonal has
 * LAPACK's (and PyTorch's) signs. Then Q = H_0·…·H_{K−1} applied to the first `qc` columns of I.
 * tau holds K scalars, w a row of max(n, qc).
 */
function householderQR<T>(W: usize, m: i32, n: i32, Q: usize, qc: i32, tau: usize, w: usize): void {
  const size = sizeof<T>();
  const K = min(m, n);
  const row = <usize>n * size;
  for (let j = 0; j < K; j++) {
    const diag = W + <usize>j * row + <usize>j * size;
    const alpha = <f64>load<T>(diag);
    const xnorm = columnNorm<T>(diag + row, <usize>n, m - j - 1);
    let t: f64 = 0;
    if (xnorm != 0) {
      const beta = -copysign<f64>(Math.hypot(alpha, xnorm), alpha);
      t = (beta - alpha) / beta;
      const s = <T>(1 / (alpha - beta));
      for (let i = j + 1; i < m; i++) { const o = W + <usize>i * row + <usize>j * size; store<T>(o, load<T>(o) * s); }
      store<T>(diag, <T>beta);
    }
    store<T>(tau + <usize>j * size, <T>t);
    const rest = n - j - 1;
    if (t == 0 || rest == 0) continue;
    // W[j:, j+1:] −= τ·v·(vᵀ·W[j:, j+1:]), row by row.
    memory.copy(w, diag + size, <usize>rest * size);
    for (let i = j + 1; i < m; i++) axpy<T>(w, W + <usize>i * row + <usize>(j + 1) * size, load<T>(W + <usize>i * row + <usize>j * size), rest);
    const tt = <T>t;
    axpy<T>(diag + size, w, -tt, rest);
    for (let i = j + 1; i < m; i++) axpy<T>(W + <usize>i * row + <usize>(j + 1) * size, w, -tt * load<T>(W + <usize>i * row + <usize>j * size), rest);
  }
  const qrow = <usize>qc * size;
  memory.fill(Q, 0, <usize>m * qrow);
  for (let i = 0; i < min(m, qc); i++) store<T>(Q + <usize>i * qrow + <usize>i * size, <T>1);
  for (let j = K - 1; j >= 0; j--) {
    const t = load<T>(tau + <usize>j * size);
    if (t == <T>0) continue;
    // Q[j:, :] −= τ·v·(vᵀ·Q[j:, :])
    memory.copy(w, Q + <usize>j * qrow, qrow);
    for (let i = j + 1; i < m; i++) axpy<T>(w, Q + <usize>i * qrow, load<T>(W + <usize>i * row + <usize>j * size), qc);
    axpy<T>(Q + <usize>j * qrow, w, -t, qc);
    for (let i = j + 1; i < m; i++) axpy<T>(Q + <usize>i * qrow, w, -t * load<T>(W + <usize>i * row + <usize>j * size), qc);
  }
}

function qrKernel<T>(a: i32, out: i32, m: i32, n: i32, qc: i32, work: usize): void {
  const size = sizeof<T>();
  const mat = <usize>m * <usize>n * size;
  const tau = work + mat, w = tau + <usize>min(m, n) * size;
  const packed = <usize>(m * qc + qc * n) * size;
  for (let t = 0, count = matrices(a); t < count; t++) {
    memory.copy(work, dataOf(a) + <usize>t * mat, mat);
    const q = dataOf(out) + <usize>t * packed;
    householderQR<T>(work, m, n, q, qc, tau, w);
    // R: the first qc rows of W's upper triangle (complete mode with m > n pads with zero rows).
    const r = q + <usize>(m * qc) * size;
    memory.fill(r, 0, <usize>(qc * n) * size);
    for (let i = 0; i < min(qc, m); i++) {
      memory.copy(r + <usize>(i * n + i) * size, work + <usize>(i * n + i) * size, <usize>max(n - i, 0) * size);
    }
  }
}

/**
 * Householder QR of A [..., m, n] (a recording op). Q [m, qc] and R [qc, n], qc = min(m, n) or m
 * (complete), come packed in one tensor [..., m·qc + qc·n]: Q's elements, then R's.
 */
export function qr(a: i32, complete: i32): i32 {
  if (a == 0) return 0;
  const rank = rankOf(a);
  const m = dimOf(a, rank - 2), n = dimOf(a, rank - 1);
  const qc = complete != 0 ? m : min(m, n);
  for (let d = 0; d < rank - 2; d++) setI(SHAPE_TMP, d, dimOf(a, d));
  setI(SHAPE_TMP, rank - 2, m * qc + qc * n);
  const dt = dtypeOf(a);
  const out = newTensor(dt, rank - 1, SHAPE_TMP);
  if (out == 0) return 0;
  const size = <usize>itemSize(dt);
  const work = alloc(<u32>((<usize>m * <usize>n + <usize>min(m, n) + <usize>max(n, qc)) * size + 16));
  if (work == 0) { releaseTensor(out); fail(E_OOM, Op.qr); return 0; }
  if (dt == DType.float32) qrKernel<f32>(a, out, m, n, qc, work);
  else qrKernel<f64>(a, out, m, n, qc, work);
  free(work);
  if (recordOp(shouldRecord1(a), Op.qr, out)) { recordInput(a); recordAttr(<f64>complete); }
  return out;
}

// ————————————————————————————————————————————————————————— SVD, eigh, pinv (numeric cores: decomp.ts)

// The scratch of one decomposition (f64 unless said), laid out by decompScratch for the largest
// matrix of the call; M = max(m, n), k = min(m, n), X holds mx = M (full) or k rows.
let D_A: usize = 0;    // m×n: the matrix (eigh: n×n, symmetric)
let D_W: usize = 0;    // k×M: the columns of A's taller orientation (each row one column)
let D_J: usize = 0;    // k×k: the rotations (eigh: the eigenvectors, one per row)
let D_Y: usize = 0;    // k×k: J's rows in singular-value order (the shorter side's vectors)
let D_X: usize = 0;    // mx×M: the taller side's unit vectors, one per row
let D_S: usize = 0;    // k: the values, sorted
let D_RAW: usize = 0;  // k: the values in rotation order
let D_ORD: usize = 0;  // k i32: the sort order
let D_HAVE: usize = 0; // mx bytes: which rows of X are set
let D_LEV: usize = 0;  // M: completeBasis's scratch
let D_U: usize = 0;    // after svdCore: the rows of X or Y that are U's columns
let D_V: usize = 0;    // … and V's (Vh's rows)

/** Lays out the scratch of one m×n decomposition; false (with the OOM error set) when memory is out. */
function decompScratch(m: i32, n: i32, full: bool, op: i32): usize {
  const M = max(m, n), k = min(m, n), mx = full ? M : k;
  const words = <f64>m * <f64>n + <f64>k * <f64>M + 2 * <f64>k * <f64>k + <f64>mx * <f64>M + 2 * <f64>k + <f64>M;
  const bytes = words * 8 + <f64>k * 4 + <f64>mx + 64;
  if (bytes > 4294967295) { fail(E_OOM, op); return 0; }
  const base = alloc(<u32>bytes);
  if (base == 0) { fail(E_OOM, op); return 0; }
  D_A = base;
  D_W = D_A + <usize>m * <usize>n * 8;
  D_J = D_W + <usize>k * <usize>M * 8;
  D_Y = D_J + <usize>k * <usize>k * 8;
  D_X = D_Y + <usize>k * <usize>k * 8;
  D_S = D_X + <usize>mx * <usize>M * 8;
  D_RAW = D_S + <usize>k * 8;
  D_LEV = D_RAW + <usize>k * 8;
  D_ORD = D_LEV + <usize>M * 8;
  D_HAVE = D_ORD + <usize>k * 4;
  return base;
}

@inline function ldF(p: usize, i: i32): f64 { return load<f64>(p + (<usize>i << 3)); }
@inline function stF(p: usize, i: i32, v: f64): void { store<f64>(p + (<usize>i << 3), v); }

/** count elements of type T at src as f64 at dst. */
function toF64<T>(src: usize, dst: usize, count: i32): void {
  for (let i = 0; i < count; i++) stF(dst, i, <f64>load<T>(src + <usize>i * sizeof<T>()));
}

/**
 * The SVD of the m×n matrix in D_A, by one-sided Jacobi on the columns of its taller orientation
 * (A, or Aᵀ when m < n): D_S gets the k singular values, descending (equal ones in column order).
 * With `uv`, D_U and D_V point at k (or, with `full`, m and n) rows that are U's and V's columns,
 * each of unit norm: the taller side's are the rotated columns divided by their norms — or, where
 * a norm is exactly 0 and for the extra columns of `full`, completeBasis's vectors — and the
 * shorter side's the accumulated rotations. Signs: the entry of largest magnitude of each column
 * of U is positive (the first such on ties), and V's column is flipped with it; the extra columns
 * of a full U or V follow the same rule on their own. False when A has a non-finite value.
 */
function svdCore(m: i32, n: i32, uv: bool, full: bool): bool {
  const tall = m >= n;
  const M = tall ? m : n, k = tall ? n : m, mx = full ? M : k;
  const e = balancingExponent(D_A, m * n);
  if (e != e) return false;
  const ex = <i32>e;
  for (let j = 0; j < k; j++) {
    for (let i = 0; i < M; i++) stF(D_W, j * M + i, scaleBy(ldF(D_A, tall ? i * n + j : j * n + i), -ex));
  }
  if (uv) {
    memory.fill(D_J, 0, <usize>k * <usize>k * 8);
    for (let j = 0; j < k; j++) stF(D_J, j * (k + 1), 1);
  }
  jacobiOrthogonalize(D_W, k, M, uv ? D_J : 0);
  for (let j = 0; j < k; j++) { const w = D_W + <usize>j * <usize>M * 8; stF(D_RAW, j, sqrt(dot64(w, w, M))); }
  sortOrder(D_RAW, k, D_ORD, true);
  for (let r = 0; r < k; r++) stF(D_S, r, scaleBy(ldF(D_RAW, load<i32>(D_ORD + (<usize>r << 2))), ex));
  if (!uv) return true;
  let missing = mx > k;
  for (let r = 0; r < mx; r++) {
    const x = D_X + <usize>r * <usize>M * 8;
    if (r >= k) { store<u8>(D_HAVE + <usize>r, 0); continue; }
    const j = load<i32>(D_ORD + (<usize>r << 2));
    const s = ldF(D_RAW, j);
    memory.copy(D_Y + <usize>r * <usize>k * 8, D_J + <usize>j * <usize>k * 8, <usize>k * 8);
    if (s == 0) { store<u8>(D_HAVE + <usize>r, 0); missing = true; continue; }
    const w = D_W + <usize>j * <usize>M * 8;
    for (let i = 0; i < M; i++) stF(x, i, ldF(w, i) / s);
    store<u8>(D_HAVE + <usize>r, 1);
  }
  if (missing) completeBasis(D_X, mx, M, D_HAVE, D_LEV);
  D_U = tall ? D_X : D_Y;
  D_V = tall ? D_Y : D_X;
  for (let r = 0; r < k; r++) {
    const u = D_U + <usize>r * <usize>m * 8;
    if (leadsNegative(u, m)) { negate(u, m); negate(D_V + <usize>r * <usize>n * 8, n); }
  }
  for (let r = k; r < mx; r++) {
    const x = D_X + <usize>r * <usize>M * 8;
    if (leadsNegative(x, M)) negate(x, M);
  }
  return true;
}

/**
 * The eigendecomposition of the symmetric matrix read from the lower triangle of the n×n matrix
 * in D_A, by cyclic Jacobi: D_S gets the eigenvalues ascending (equal ones in diagonal order) and,
 * with `vectors`, D_U the eigenvectors as rows, each with its entry of largest magnitude positive
 * (the first such on ties). False when the lower triangle has a non-finite value.
 */
function eighCore(n: i32, vectors: bool): bool {
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) stF(D_A, j * n + i, ldF(D_A, i * n + j));
  const e = balancingExponent(D_A, n * n);
  if (e != e) return false;
  const ex = <i32>e;
  scaleAll(D_A, n * n, -ex);
  if (vectors) {
    memory.fill(D_J, 0, <usize>n * <usize>n * 8);
    for (let j = 0; j < n; j++) stF(D_J, j * (n + 1), 1);
  }
  jacobiEigen(D_A, n, vectors ? D_J : 0);
  for (let j = 0; j < n; j++) stF(D_RAW, j, ldF(D_A, j * (n + 1)));
  sortOrder(D_RAW, n, D_ORD, false);
  for (let r = 0; r < n; r++) stF(D_S, r, scaleBy(ldF(D_RAW, load<i32>(D_ORD + (<usize>r << 2))), ex));
  if (!vectors) return true;
  for (let r = 0; r < n; r++) {
    const y = D_Y + <usize>r * <usize>n * 8;
    memory.copy(y, D_J + <usize>load<i32>(D_ORD + (<usize>r << 2)) * <usize>n * 8, <usize>n * 8);
    if (leadsNegative(y, n)) negate(y, n);
  }
  D_U = D_Y;
  return true;
}

/** n values of type T at p set to NaN (a matrix whose decomposition failed). */
function fillNaN<T>(p: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<T>(p + <usize>i * sizeof<T>(), <T>NaN);
}

function svdKernel<T>(a: i32, out: i32, m: i32, n: i32, uv: bool, full: bool): void {
  const size = sizeof<T>();
  const k = min(m, n), uc = full ? m : k, vr = full ? n : k;
  const per = uv ? m * uc + k + vr * n : k;
  for (let t = 0, count = matrices(a); t < count; t++) {
    const o = dataOf(out) + <usize>t * <usize>per * size;
    toF64<T>(dataOf(a) + <usize>t * <usize>m * <usize>n * size, D_A, m * n);
    if (!svdCore(m, n, uv, full)) { noteFailure(t, 1); fillNaN<T>(o, per); continue; }
    const s = uv ? o + <usize>(m * uc) * size : o;
    for (let r = 0; r < k; r++) store<T>(s + <usize>r * size, <T>ldF(D_S, r));
    if (!uv) continue;
    for (let i = 0; i < m; i++) {
      for (let c = 0; c < uc; c++) store<T>(o + <usize>(i * uc + c) * size, <T>ldF(D_U, c * m + i));
    }
    const vh = s + <usize>k * size;
    for (let r = 0; r < vr; r++) {
      for (let j = 0; j < n; j++) store<T>(vh + <usize>(r * n + j) * size, <T>ldF(D_V, r * n + j));
    }
  }
}

/**
 * torch.linalg.svd of A [..., m, n] by one-sided Jacobi (svdCore), a recording op: with
 * `computeUV`, U [m, uc], S [k] and Vh [vr, n] packed in one tensor [..., m·uc + k + vr·n]
 * (uc = m, vr = n when `full`, else k = min(m, n)); without, S alone [..., k] (svdvals, the same
 * bits as svd's S). A matrix with a non-finite value is reported through INFO (its outputs NaN).
 */
export function svd(a: i32, full: i32, computeUV: i32): i32 {
  if (a == 0) return 0;
  clearInfo();
  const rank = rankOf(a);
  const m = dimOf(a, rank - 2), n = dimOf(a, rank - 1), k = min(m, n);
  const uv = computeUV != 0, fm = full != 0 && uv;
  const uc = fm ? m : k, vr = fm ? n : k;
  for (let d = 0; d < rank - 2; d++) setI(SHAPE_TMP, d, dimOf(a, d));
  setI(SHAPE_TMP, rank - 2, uv ? m * uc + k + vr * n : k);
  const dt = dtypeOf(a);
  const out = newTensor(dt, rank - 1, SHAPE_TMP);
  if (out == 0) return 0;
  const work = decompScratch(m, n, fm, Op.svd);
  if (work == 0) { releaseTensor(out); return 0; }
  if (dt == DType.float32) svdKernel<f32>(a, out, m, n, uv, fm);
  else svdKernel<f64>(a, out, m, n, uv, fm);
  free(work);
  if (recordOp(shouldRecord1(a), Op.svd, out)) { recordInput(a); recordAttr(<f64>full); recordAttr(<f64>computeUV); }
  return out;
}

function eighKernel<T>(a: i32, out: i32, n: i32, vectors: bool): void {
  const size = sizeof<T>();
  const per = vectors ? n + n * n : n;
  for (let t = 0, count = matrices(a); t < count; t++) {
    const o = dataOf(out) + <usize>t * <usize>per * size;
    toF64<T>(dataOf(a) + <usize>t * <usize>n * <usize>n * size, D_A, n * n);
    if (!eighCore(n, vectors)) { noteFailure(t, 1); fillNaN<T>(o, per); continue; }
    for (let r = 0; r < n; r++) store<T>(o + <usize>r * size, <T>ldF(D_S, r));
    if (!vectors) continue;
    const v = o + <usize>n * size;
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < n; c++) store<T>(v + <usize>(i * n + c) * size, <T>ldF(D_U, c * n + i));
    }
  }
}

/**
 * torch.linalg.eigh of the symmetric matrices read from the lower triangle of A [..., n, n] (the
 * upper one is never read), by cyclic Jacobi (eighCore), a recording op: with `vectors`, the
 * eigenvalues [n] (ascending) and the eigenvectors as columns [n, n] packed in [..., n + n·n];
 * without, the eigenvalues alone [..., n] (eigvalsh, the same bits). A non-finite value in the
 * lower triangle is reported through INFO (its outputs NaN).
 */
export function eigh(a: i32, vectors: i32): i32 {
  if (a == 0) return 0;
  clearInfo();
  const rank = rankOf(a);
  const n = dimOf(a, rank - 1);
  for (let d = 0; d < rank - 2; d++) setI(SHAPE_TMP, d, dimOf(a, d));
  setI(SHAPE_TMP, rank - 2, vectors != 0 ? n + n * n : n);
  const dt = dtypeOf(a);
  const out = newTensor(dt, rank - 1, SHAPE_TMP);
  if (out == 0) return 0;
  const work = decompScratch(n, n, false, Op.eigh);
  if (work == 0) { releaseTensor(out); return 0; }
  if (dt == DType.float32) eighKernel<f32>(a, out, n, vectors != 0);
  else eighKernel<f64>(a, out, n, vectors != 0);
  free(work);
  if (recordOp(shouldRecord1(a), Op.eigh, out)) { recordInput(a); recordAttr(<f64>vectors); }
  return out;
}

function pinvKernel<T>(a: i32, out: i32, m: i32, n: i32, atol: f64, rtol: f64, hermitian: bool): void {
  const size = sizeof<T>();
  const k = min(m, n);
  for (let t = 0, count = matrices(a); t < count; t++) {
    const o = dataOf(out) + <usize>t * <usize>m * <usize>n * size;
    toF64<T>(dataOf(a) + <usize>t * <usize>m * <usize>n * size, D_A, m * n);
    const ok = hermitian ? eighCore(n, true) : svdCore(m, n, true, false);
    if (!ok) { noteFailure(t, 1); fillNaN<T>(o, m * n); continue; }
    // tol = max(atol, rtol·(the largest |value|)); values at or below it count as zero.
    let big: f64 = 0;
    for (let r = 0; r < k; r++) big = max(big, abs(ldF(D_S, r)));
    const tol = max(atol, rtol * big);
    // P = Σ_r v_r·(1/σ_r)·u_rᵀ over the kept values, in sorted order, each element in f64.
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < m; j++) {
        let acc: f64 = 0;
        for (let r = 0; r < k; r++) {
          const sv = ldF(D_S, r);
          if (!(abs(sv) > tol)) continue;
          const vi = hermitian ? ldF(D_U, r * n + i) : ldF(D_V, r * n + i);
          const uj = hermitian ? ldF(D_U, r * n + j) : ldF(D_U, r * m + j);
          acc += vi / sv * uj;
        }
        store<T>(o + <usize>(i * m + j) * size, <T>acc);
      }
    }
  }
}

/**
 * torch.linalg.pinv of A [..., m, n] → [..., n, m], a recording op: V·diag(1/σ)·Uᵀ over the
 * singular values σ > max(atol, rtol·σ_max) of each matrix (svdCore); with `hermitian`, the
 * symmetric matrix read from A's lower triangle through its eigendecomposition (eighCore) and the
 * eigenvalues with |λ| > max(atol, rtol·max|λ|). Non-finite input is reported through INFO.
 */
export function pinv(a: i32, atol: f64, rtol: f64, hermitian: i32): i32 {
  if (a == 0) return 0;
  clearInfo();
  const rank = rankOf(a);
  const m = dimOf(a, rank - 2), n = dimOf(a, rank - 1);
  for (let d = 0; d < rank - 2; d++) setI(SHAPE_TMP, d, dimOf(a, d));
  setI(SHAPE_TMP, rank - 2, n);
  setI(SHAPE_TMP, rank - 1, m);
  const dt = dtypeOf(a);
  const out = newTensor(dt, rank, SHAPE_TMP);
  if (out == 0) return 0;
  const work = decompScratch(m, n, false, Op.pinv);
  if (work == 0) { releaseTensor(out); return 0; }
  if (dt == DType.float32) pinvKernel<f32>(a, out, m, n, atol, rtol, hermitian != 0);
  else pinvKernel<f64>(a, out, m, n, atol, rtol, hermitian != 0);
  free(work);
  if (recordOp(shouldRecord1(a), Op.pinv, out)) {
    recordInput(a); recordAttr(atol); recordAttr(rtol); recordAttr(<f64>hermitian);
  }
  return out;
}

// ————————————————————————————————————————————————————————— helpers for the rules (recording)

/**
 * Runs the JVP of the latest record now, if one is pending. The helpers below fill static buffers
 * (SPEC, SHAPE_TMP, IDS) that the op they call reads again after recordOp; recordOp runs a pending
 * JVP first, and a linalg JVP (an svd or eigh made inside a rule, as svdvals' and eigvalsh' rules
 * make them) fills the same buffers. Settling first leaves nothing for recordOp to run.
 */
@inline function settle(): void { flushJvp(); }

const PERM = memory.data(MAX_RANK * 4);
const SPEC = memory.data(3 * MAX_RANK * 4);
const IDS = memory.data(8);
const MASK_SHAPE = memory.data(8);

/** x with its last two dims swapped. */
function mT(x: i32): i32 {
  if (x == 0) return 0;
  settle();
  const r = rankOf(x);
  for (let k = 0; k < r; k++) setI(PERM, k, k);
  setI(PERM, r - 2, r - 1);
  setI(PERM, r - 1, r - 2);
  return permute(x, PERM);
}

/** A constant bool [rows, cols] mask of the band lo <= j − i <= hi. */
function bandMask(rows: i32, cols: i32, lo: i32, hi: i32): i32 {
  setI(MASK_SHAPE, 0, rows);
  setI(MASK_SHAPE, 1, cols);
  const mask = newTensor(DType.bool, 2, MASK_SHAPE);
  if (mask == 0) return 0;
  const p = dataOf(mask);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) store<u8>(p + <usize>(i * cols + j), j - i >= lo && j - i <= hi ? 1 : 0);
  }
  return mask;
}

const BIG = 0x40000000;
/** x on the band lo <= j − i <= hi of its last two dims, zero elsewhere (tril / triu). */
function band(x: i32, lo: i32, hi: i32): i32 {
  if (x == 0) return 0;
  const r = rankOf(x);
  return where(bandMask(dimOf(x, r - 2), dimOf(x, r - 1), lo, hi), x, scalar(dtypeOf(x), 0));
}
@inline function tril(x: i32, k: i32): i32 { return band(x, -BIG, k); }
@inline function triu(x: i32, k: i32): i32 { return band(x, k, BIG); }

/** x with the diagonal of its last two dims halved. */
function halveDiagonal(x: i32): i32 {
  const r = rankOf(x);
  return where(bandMask(dimOf(x, r - 2), dimOf(x, r - 1), 0, 0), mulScalar(x, 0.5), x);
}

/** The n×n identity (a constant). */
function identity(dtype: i32, n: i32): i32 {
  setI(MASK_SHAPE, 0, n);
  setI(MASK_SHAPE, 1, n);
  const e = newTensor(dtype, 2, MASK_SHAPE);
  if (e == 0) return 0;
  const size = <usize>itemSize(dtype);
  memory.fill(dataOf(e), 0, <usize>n * <usize>n * size);
  for (let i = 0; i < n; i++) {
    const q = dataOf(e) + <usize>(i * (n + 1)) * size;
    if (dtype == DType.float32) store<f32>(q, 1); else store<f64>(q, 1);
  }
  return e;
}

/** A⁻ᵀ, by one solve against the identity. */
function invT(a: i32): i32 { return solve(a, identity(dtypeOf(a), dimOf(a, rankOf(a) - 1)), 1); }

const MINOR_SHAPE = memory.data(MAX_RANK * 4);

/**
 * The cofactor matrix of each matrix of A (C_ij = (−1)^(i+j)·det of A without row i and column
 * j) — ∂det/∂A for every A, singular ones included, from n² minors gathered with indexSelect and
 * their recorded determinants. O(n⁵): the det rules use it only when some det is exactly 0
 * (PyTorch's gradient there is this cofactor matrix too). 0 when the minors would exceed MAX_RANK.
 */
function cofactors(a: i32): i32 {
  const r = rankOf(a), nb = r - 2, n = dimOf(a, r - 1);
  if (nb + 4 > MAX_RANK) return 0;
  // For each i, the n − 1 indices other than i.
  setI(MASK_SHAPE, 0, n * (n - 1));
  const others = newTensor(DType.int32, 1, MASK_SHAPE);
  if (others == 0) return 0;
  let w = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (j != i) setI(dataOf(others), w++, j);
  // Rows: [..., n·(n−1), n] viewed as [..., n, n−1, n]; then columns: [..., n, n−1, n, n−1].
  for (let k = 0; k < nb; k++) setI(MINOR_SHAPE, k, dimOf(a, k));
  setI(MINOR_SHAPE, nb, n); setI(MINOR_SHAPE, nb + 1, n - 1); setI(MINOR_SHAPE, nb + 2, n);
  const rows = reshapeTo(indexSelect(a, r - 2, others), nb + 3, MINOR_SHAPE);
  setI(MINOR_SHAPE, nb + 2, n); setI(MINOR_SHAPE, nb + 3, n - 1);
  const both = reshapeTo(indexSelect(rows, nb + 2, others), nb + 4, MINOR_SHAPE);
  if (both == 0) return 0;
  for (let k = 0; k < nb; k++) setI(PERM, k, k);
  setI(PERM, nb, nb); setI(PERM, nb + 1, nb + 2); setI(PERM, nb + 2, nb + 1); setI(PERM, nb + 3, nb + 3);
  const minors = determinant(permute(both, PERM), MODE_DET);
  // Checkerboard signs (a constant).
  setI(MASK_SHAPE, 0, n);
  setI(MASK_SHAPE, 1, n);
  const signs = newTensor(dtypeOf(a), 2, MASK_SHAPE);
  if (signs == 0) return 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const q = dataOf(signs) + <usize>(i * n + j) * itemSize(dtypeOf(a));
      const v = (i + j) & 1 ? -1.0 : 1.0;
      if (dtypeOf(a) == DType.float32) store<f32>(q, <f32>v); else store<f64>(q, v);
    }
  }
  return mul(minors, signs);
}

/** ∂det/∂A: det·A⁻ᵀ, or the cofactor matrix when some matrix of the batch is exactly singular. */
function detDerivative(a: i32, det: i32): i32 {
  const singular = compareScalarOp(Op.eq, det, 0);
  if (singular != 0 && anySetGuarded(singular)) {
    const c = cofactors(a);
    if (c != 0) return c;
  }
  return mul(asMatrixScale(det), invT(a));
}

/** x [...] as [..., 1, 1], to scale the matrices of a batch. */
function asMatrixScale(x: i32): i32 {
  if (x == 0) return 0;
  settle();
  const r = rankOf(x);
  for (let k = 0; k < r; k++) setI(SHAPE_TMP, k, dimOf(x, k));
  setI(SHAPE_TMP, r, 1);
  setI(SHAPE_TMP, r + 1, 1);
  return reshapeTo(x, r + 2, SHAPE_TMP);
}

/** Σ over the last two dims. */
function sumMatrix(x: i32): i32 {
  if (x == 0) return 0;
  const r = rankOf(x);
  return sum(x, (1 << (r - 1)) | (1 << (r - 2)), false);
}

/** x[..., start : start + count] along the last dim. */
function lastSlice(x: i32, start: i32, count: i32): i32 {
  if (x == 0) return 0;
  settle();
  const r = rankOf(x);
  for (let k = 0; k < r; k++) {
    setI(SPEC, 3 * k, k == r - 1 ? start : 0);
    setI(SPEC, 3 * k + 1, 1);
    setI(SPEC, 3 * k + 2, k == r - 1 ? count : dimOf(x, k));
  }
  return slice(x, SPEC, -1);
}

/** x's batch dims followed by `a` (and `b` when b >= 0). */
function reshapeBatch(x: i32, keep: i32, a: i32, b: i32): i32 {
  if (x == 0) return 0;
  settle();
  for (let k = 0; k < keep; k++) setI(SHAPE_TMP, k, dimOf(x, k));
  setI(SHAPE_TMP, keep, a);
  if (b >= 0) setI(SHAPE_TMP, keep + 1, b);
  return reshapeTo(x, b >= 0 ? keep + 2 : keep + 1, SHAPE_TMP);
}

/** Concatenates x and y along the last dim. */
function catLast(x: i32, y: i32): i32 {
  if (x == 0 || y == 0) return 0;
  settle();
  const r = rankOf(x);
  for (let k = 0; k < r; k++) setI(SHAPE_TMP, k, dimOf(x, k));
  setI(SHAPE_TMP, r - 1, dimOf(x, r - 1) + dimOf(y, r - 1));
  setI(IDS, 0, x);
  setI(IDS, 1, y);
  return concat(IDS, 2, r - 1, r, SHAPE_TMP);
}

@inline function addOr(a: i32, b: i32): i32 { return a == 0 ? b : b == 0 ? a : add(a, b); }
@inline function subOr(a: i32, b: i32): i32 { return b == 0 ? a : a == 0 ? neg(b) : sub(a, b); }

/** A's gradient restricted to the triangle solve_triangular reads. */
function maskTriangle(g: i32, upper: bool, unit: bool): i32 {
  return upper ? triu(g, unit ? 1 : 0) : tril(g, unit ? -1 : 0);
}

// ————————————————————————————————————————————————————————— QR rules (square or tall, reduced)

/**
 * The QR VJP for m >= n (Q m×n, R n×n): with M = gR·Rᵀ − Qᵀ·gQ and N = triu(M) + triu(M, 1)ᵀ,
 * gA = (gQ + Q·N)·R⁻ᵀ (PyTorch's linalg_qr_backward).
 */
function qrVjpTall(q: i32, r: i32, gq: i32, gr: i32): i32 {
  const m = sub(matmul(gr, r, 0, 1), matmul(q, gq, 1, 0));
  const nMat = add(triu(m, 0), mT(triu(m, 1)));
  return solveTriangular(r, add(gq, matmul(q, nMat, 0, 0)), 1, 0, 0, 1);
}

/**
 * The QR JVP for m >= n: C = Qᵀ·dA·R⁻¹ splits into a skew part (QᵀdQ) and an upper one (dR·R⁻¹):
 * with U = triu(C) + tril(C, −1)ᵀ, dR = U·R and dQ = dA·R⁻¹ − Q·U.
 */
function qrJvpTall(q: i32, r: i32, da: i32, dq: usize): i32 {
  const daRinv = solveTriangular(r, da, 1, 0, 0, 0);
  const c = matmul(q, daRinv, 1, 0);
  const u = add(triu(c, 0), mT(tril(c, -1)));
  store<i32>(dq, sub(daRinv, matmul(q, u, 0, 0)));
  return matmul(u, r, 0, 0);
}

const QR_DQ = memory.data(4);

// ————————————————————————————————————————————————————————— SVD, eigh, pinv rules (recording)

/** x [..., k] as [..., 1, k] (scales the columns of a matrix). */
function rowVec(x: i32): i32 {
  if (x == 0) return 0;
  settle();
  const r = rankOf(x);
  for (let d = 0; d < r - 1; d++) setI(SHAPE_TMP, d, dimOf(x, d));
  setI(SHAPE_TMP, r - 1, 1);
  setI(SHAPE_TMP, r, dimOf(x, r - 1));
  return reshapeTo(x, r + 1, SHAPE_TMP);
}

/** x [..., k] as [..., k, 1] (scales the rows of a matrix). */
function colVec(x: i32): i32 {
  if (x == 0) return 0;
  settle();
  const r = rankOf(x);
  for (let d = 0; d < r; d++) setI(SHAPE_TMP, d, dimOf(x, d));
  setI(SHAPE_TMP, r, 1);
  return reshapeTo(x, r + 1, SHAPE_TMP);
}

/** diag(x) [..., k, k] of x [..., k]. */
function diagEmbed(x: i32): i32 {
  if (x == 0) return 0;
  return mul(colVec(x), identity(dtypeOf(x), dimOf(x, rankOf(x) - 1)));
}

/** The diagonal [..., k] of the square matrices x [..., k, k]. */
function diagPart(x: i32): i32 {
  if (x == 0) return 0;
  const r = rankOf(x);
  return sum(mul(x, identity(dtypeOf(x), dimOf(x, r - 1))), 1 << (r - 1), false);
}

/** X − Xᵀ. */
@inline function skew(x: i32): i32 { return sub(x, mT(x)); }

/** The symmetric matrix A reads: its lower triangle, mirrored. */
@inline function symFromLower(x: i32): i32 { return add(tril(x, 0), mT(tril(x, -1))); }

/** The adjoint of symFromLower: G's lower triangle plus the transpose of its strict upper one. */
@inline function lowerFold(g: i32): i32 { return add(tril(g, 0), mT(triu(g, 1))); }

/** Whether any element of x is nonzero (a value-dependent branch: captured as a guard). */
function anyNonzero(x: i32): bool {
  const m = compareScalarOp(Op.ne, x, 0);
  return m != 0 && anySetGuarded(m);
}

const F_SHAPE = memory.data(8);

/**
 * F [..., k, k] from values v [..., k]: F_ij = 1/(v_j − v_i) for i ≠ j, 0 on the diagonal, and
 * NaN where two values are equal (i ≠ j): there the derivatives of the vectors are undefined, and
 * the NaN makes that explicit instead of an inf that a zero could turn into any number.
 */
function spectralF(v: i32): i32 {
  if (v == 0) return 0;
  const dt = dtypeOf(v), k = dimOf(v, rankOf(v) - 1);
  const d = sub(rowVec(v), colVec(v));
  const same = compareScalarOp(Op.eq, d, 0);
  const one = scalar(dt, 1);
  const inv = binaryScalar(Op.div, where(same, one, d), 1, true);
  setI(F_SHAPE, 0, k);
  setI(F_SHAPE, 1, k);
  const c = newTensor(dt, 2, F_SHAPE); // 0 on the diagonal, NaN elsewhere
  if (c == 0) return 0;
  const size = <usize>itemSize(dt);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const q = dataOf(c) + <usize>(i * k + j) * size;
      if (dt == DType.float32) store<f32>(q, i == j ? 0 : NaN); else store<f64>(q, i == j ? 0 : NaN);
    }
  }
  return where(same, c, inv);
}

/** x [..., r, c] zero-padded to [..., r + extraRows, c + extraCols] (recorded: its VJP slices). */
function padZeros(x: i32, extraRows: i32, extraCols: i32): i32 {
  if (x == 0 || (extraRows == 0 && extraCols == 0)) return x;
  settle();
  const r = rankOf(x);
  for (let d = 0; d < r; d++) {
    setI(SHAPE_TMP, d, dimOf(x, d) + (d == r - 2 ? extraRows : d == r - 1 ? extraCols : 0));
    setI(SPEC, 2 * d, 0);
    setI(SPEC, 2 * d + 1, 1);
  }
  return pad(x, SHAPE_TMP, SPEC, 0);
}

// The pieces of a packed svd output (or its adjoint or tangent), narrowed to k = min(m, n)
// columns of U and rows of Vh, by svdPieces.
let P_U = 0, P_S = 0, P_VH = 0;

function svdPieces(x: i32, nb: i32, m: i32, n: i32, full: bool): void {
  const k = min(m, n), uc = full ? m : k;
  P_U = reshapeBatch(lastSlice(x, 0, m * uc), nb, m, uc);
  if (uc > k) P_U = lastSlice(P_U, 0, k);
  P_S = lastSlice(x, m * uc, k);
  P_VH = reshapeBatch(lastSlice(x, m * uc + k, k * n), nb, k, n);
}

/**
 * The SVD's VJP (PyTorch's svd_backward, real case): with E⁻¹ = F(S²),
 * core = F∘skew(UᵀgU)·S + S·F∘skew(VᵀgV) + diag(gS), gA = U·core·Vh, plus
 * (I − UUᵀ)·gU·S⁻¹·Vh when m > n and U·S⁻¹·gVh·(I − VVᵀ) when m < n. A term whose adjoint is zero
 * is left out (PyTorch leaves out undefined ones): only then do repeated singular values give a
 * finite gradient.
 */
function svdVjp(u: i32, s: i32, vh: i32, gu: i32, gs: i32, gvh: i32, m: i32, n: i32): i32 {
  const useU = anyNonzero(gu), useV = anyNonzero(gvh);
  if (!useU && !useV) return matmul(mul(u, rowVec(gs)), vh, 0, 0);
  const f = spectralF(mul(s, s));
  let core = diagEmbed(gs);
  if (useU) core = add(core, mul(mul(f, skew(matmul(u, gu, 1, 0))), rowVec(s)));
  if (useV) core = add(core, mul(colVec(s), mul(f, skew(matmul(vh, gvh, 0, 1)))));
  if (m > n && useU) {
    const gus = div(gu, rowVec(s));
    const ga = sub(add(matmul(u, core, 0, 0), gus), matmul(u, matmul(u, gus, 1, 0), 0, 0));
    return matmul(ga, vh, 0, 0);
  }
  if (m < n && useV) {
    const svh = div(gvh, colVec(s));
    const ga = sub(add(matmul(core, vh, 0, 0), svh), matmul(matmul(svh, vh, 0, 1), vh, 0, 0));
    return matmul(u, ga, 0, 0);
  }
  return matmul(matmul(u, core, 0, 0), vh, 0, 0);
}

/**
 * The SVD's JVP: dP = Uᵀ·dA·V, dS = diag(dP), dU = U·F∘(dP·S + S·dPᵀ) (+ (I − UUᵀ)·dA·V·S⁻¹ when
 * m > n), dV = V·F∘(S·dP + dPᵀ·S) (+ (I − VVᵀ)·dAᵀ·U·S⁻¹ when m < n), F = F(S²); with full
 * matrices the extra columns of U and rows of Vh get a zero tangent (PyTorch's: they are any
 * basis of the complement, and their gradient is ignored).
 */
function svdJvp(u: i32, s: i32, vh: i32, da: i32, nb: i32, m: i32, n: i32, full: bool): i32 {
  const k = min(m, n);
  const dp = matmul(matmul(u, da, 1, 0), vh, 0, 1);
  const dpt = mT(dp);
  const f = spectralF(mul(s, s));
  let du = matmul(u, mul(f, add(mul(dp, rowVec(s)), mul(colVec(s), dpt))), 0, 0);
  if (m > k) du = add(du, div(sub(matmul(da, vh, 0, 1), matmul(u, dp, 0, 0)), rowVec(s)));
  let dv = matmul(vh, mul(f, add(mul(colVec(s), dp), mul(dpt, rowVec(s)))), 1, 0);
  if (n > k) dv = add(dv, div(sub(matmul(da, u, 1, 0), matmul(vh, dp, 1, 1)), rowVec(s)));
  let dvh = mT(dv);
  if (full) { du = padZeros(du, 0, m - k); dvh = padZeros(dvh, n - k, 0); }
  const uc = full ? m : k, vr = full ? n : k;
  return catLast(catLast(reshapeBatch(du, nb, m * uc, -1), diagPart(dp)), reshapeBatch(dvh, nb, vr * n, -1));
}

/** U [..., m, k] and Vh [..., k, n] of A's reduced SVD, recorded (svdvals' rules need them): P_U, P_VH. */
function reducedSvd(a: i32, nb: i32, m: i32, n: i32): void {
  svdPieces(svd(a, 0, 1), nb, m, n, false);
}

/** The eigenvectors [..., n, n] of eigh(A), recorded (eigvalsh's rules need them). */
function eigenvectors(a: i32, nb: i32, n: i32): i32 {
  return reshapeBatch(lastSlice(eigh(a, 1), n, n * n), nb, n, n);
}

// ————————————————————————————————————————————————————————— VJP rules

export function vjpLinalg(op: i32, r: u32, g: i32): void {
  const a = recInput(r, 0), out = recOut(r);
  switch (op) {
    case Op.solve: {
      // X = op(A)⁻¹B: gB = op(A)⁻ᵀG; gA = −gB·Xᵀ, or −X·gBᵀ when A entered transposed.
      const b = recInput(r, 1), trans = <i32>recAttr(r, 0);
      if (!needsGrad(a) && !needsGrad(b)) return;
      const gb = solve(a, g, 1 - trans);
      if (needsGrad(b)) accumulate(b, sumTo(gb, b));
      if (needsGrad(a)) accumulate(a, sumTo(neg(trans ? matmul(out, gb, 0, 1) : matmul(gb, out, 0, 1)), a));
      return;
    }
    case Op.det: {
      // g·det·A⁻ᵀ (g·cofactors where A is singular)
      if (needsGrad(a)) accumulate(a, mul(asMatrixScale(g), detDerivative(a, out)));
      return;
    }
    case Op.logabsdet: {
      if (needsGrad(a)) accumulate(a, mul(asMatrixScale(g), invT(a)));
      return;
    }
    case Op.cholesky: {
      // PyTorch's cholesky_backward: S = Φ(Lᵀ·G) symmetrised, gA = L⁻ᵀ·S·L⁻¹.
      if (!needsGrad(a)) return;
      const p = tril(matmul(out, g, 1, 0), 0);
      const s = mulScalar(add(p, mT(tril(p, -1))), 0.5);
      accumulate(a, solveTriangular(out, solveTriangular(out, s, 0, 1, 0, 1), 0, 0, 0, 0));
      return;
    }
    case Op.solveTriangular: {
      const b = recInput(r, 1);
      const upper = recAttr(r, 0) != 0, left = recAttr(r, 1) != 0, unit = recAttr(r, 2) != 0;
      const trans = <i32>recAttr(r, 3);
      if (!needsGrad(a) && !needsGrad(b)) return;
      const gb = solveTriangular(a, g, upper ? 1 : 0, left ? 1 : 0, unit ? 1 : 0, 1 - trans);
      if (needsGrad(b)) accumulate(b, sumTo(gb, b));
      if (needsGrad(a)) {
        // Left: g op(A) = −gB·Xᵀ; right: −Xᵀ·gB; transposed back when A entered as Aᵀ.
        const ga = left ? (trans ? matmul(out, gb, 0, 1) : matmul(gb, out, 0, 1))
                        : (trans ? matmul(gb, out, 1, 0) : matmul(out, gb, 1, 0));
        accumulate(a, sumTo(maskTriangle(neg(ga), upper, unit), a));
      }
      return;
    }
    case Op.qr: {
      if (!needsGrad(a)) return;
      const rank = rankOf(a), nb = rank - 2;
      const m = dimOf(a, rank - 2), n = dimOf(a, rank - 1);
      const complete = recAttr(r, 0) != 0;
      if (complete && m > n) { fail(E_NO_RULE, op); return; } // not differentiable (PyTorch too)
      const k = min(m, n);
      const q = reshapeBatch(lastSlice(out, 0, m * k), nb, m, k);
      const rr = reshapeBatch(lastSlice(out, m * k, k * n), nb, k, n);
      const gq = reshapeBatch(lastSlice(g, 0, m * k), nb, m, k);
      const gr = reshapeBatch(lastSlice(g, m * k, k * n), nb, k, n);
      if (m >= n) { accumulate(a, qrVjpTall(q, rr, gq, gr)); return; }
      // Wide: A = [X | Y], R = [U | V] with X = Q·U, Y = Q·V.
      const u = lastSlice(rr, 0, m), gu = lastSlice(gr, 0, m), gv = lastSlice(gr, m, n - m);
      const y = lastSlice(a, m, n - m);
      const gx = qrVjpTall(q, u, add(gq, matmul(y, gv, 0, 1)), gu);
      accumulate(a, catLast(gx, matmul(q, gv, 0, 0)));
      return;
    }
    case Op.svd: {
      if (!needsGrad(a)) return;
      const rank = rankOf(a), nb = rank - 2;
      const m = dimOf(a, rank - 2), n = dimOf(a, rank - 1);
      if (recAttr(r, 1) == 0) { // svdvals: gA = U·diag(g)·Vh, defined for every A
        reducedSvd(a, nb, m, n);
        accumulate(a, matmul(mul(P_U, rowVec(g)), P_VH, 0, 0));
        return;
      }
      const full = recAttr(r, 0) != 0;
      svdPieces(out, nb, m, n, full);
      const u = P_U, s = P_S, vh = P_VH;
      svdPieces(g, nb, m, n, full);
      accumulate(a, svdVjp(u, s, vh, P_U, P_S, P_VH, m, n));
      return;
    }
    case Op.eigh: {
      // G = V·(diag(gL) + F(L)∘(Vᵀ·gV))·Vᵀ for the symmetric matrix read; A gets lowerFold(G).
      if (!needsGrad(a)) return;
      const rank = rankOf(a), nb = rank - 2, n = dimOf(a, rank - 1);
      if (recAttr(r, 0) == 0) { // eigvalsh: V·diag(g)·Vᵀ, defined for every A
        const v = eigenvectors(a, nb, n);
        accumulate(a, lowerFold(matmul(mul(v, rowVec(g)), v, 0, 1)));
        return;
      }
      const v = reshapeBatch(lastSlice(out, n, n * n), nb, n, n);
      const gv = reshapeBatch(lastSlice(g, n, n * n), nb, n, n);
      let inner = diagEmbed(lastSlice(g, 0, n));
      if (anyNonzero(gv)) inner = add(inner, mul(spectralF(lastSlice(out, 0, n)), matmul(v, gv, 1, 0)));
      accumulate(a, lowerFold(matmul(matmul(v, inner, 0, 0), v, 0, 1)));
      return;
    }
    case Op.pinv: {
      // PyTorch's pinv_backward (the derivative of A⁺ where the rank is constant), with P = A⁺:
      // gA = −Pᵀ·g·Pᵀ + (I − AP)·gᵀ·P·Pᵀ + Pᵀ·P·gᵀ·(I − PA); hermitian: A is the matrix read, folded back.
      if (!needsGrad(a)) return;
      const herm = recAttr(r, 2) != 0;
      const A = herm ? symFromLower(a) : a, p = out;
      const t1 = neg(matmul(p, matmul(g, p, 0, 1), 1, 0));
      const z = matmul(g, matmul(p, p, 0, 1), 1, 0);
      const t2 = sub(z, matmul(A, matmul(p, z, 0, 0), 0, 0));
      const y = matmul(matmul(p, p, 1, 0), g, 0, 1);
      const t3 = sub(y, matmul(matmul(y, p, 0, 0), A, 0, 0));
      const ga = add(add(t1, t2), t3);
      accumulate(a, herm ? lowerFold(ga) : ga);
      return;
    }
    default: fail(E_NO_RULE, op);
  }
}

// ————————————————————————————————————————————————————————— JVP rules

export function jvpLinalg(op: i32, r: u32): void {
  const a = recInput(r, 0), out = recOut(r);
  const ta = tangentOf(a);
  switch (op) {
    case Op.solve: {
      // d(op(A)⁻¹B) = op(A)⁻¹(dB − op(dA)·X)
      const b = recInput(r, 1), trans = <i32>recAttr(r, 0);
      const rhs = subOr(tangentOf(b), ta != 0 ? matmul(ta, out, trans, 0) : 0);
      setTangent(out, solve(a, rhs, trans));
      return;
    }
    case Op.det: {
      // d det = det·tr(A⁻¹dA) = Σ cofactors ⊙ dA
      setTangent(out, sumMatrix(mul(detDerivative(a, out), ta)));
      return;
    }
    case Op.logabsdet: {
      setTangent(out, sumMatrix(mul(invT(a), ta)));
      return;
    }
    case Op.cholesky: {
      // dL = L·Φ(L⁻¹·dA·L⁻ᵀ), Φ = the lower triangle with its diagonal halved.
      const y = solveTriangular(out, solveTriangular(out, ta, 0, 1, 0, 0), 0, 0, 0, 1);
      setTangent(out, matmul(out, halveDiagonal(tril(y, 0)), 0, 0));
      return;
    }
    case Op.solveTriangular: {
      // Left: op(A)⁻¹(dB − op(dA)·X); right: (dB − X·op(dA))·op(A)⁻¹, dA on A's triangle only.
      const b = recInput(r, 1);
      const upper = recAttr(r, 0) != 0, left = recAttr(r, 1) != 0, unit = recAttr(r, 2) != 0;
      const trans = <i32>recAttr(r, 3);
      let rhs = tangentOf(b);
      if (ta != 0) {
        const dam = maskTriangle(ta, upper, unit);
        rhs = subOr(rhs, left ? matmul(dam, out, trans, 0) : matmul(out, dam, 0, trans));
      }
      setTangent(out, solveTriangular(a, rhs, upper ? 1 : 0, left ? 1 : 0, unit ? 1 : 0, trans));
      return;
    }
    case Op.qr: {
      const rank = rankOf(a), nb = rank - 2;
      const m = dimOf(a, rank - 2), n = dimOf(a, rank - 1);
      if (recAttr(r, 0) != 0 && m > n) { fail(E_NO_RULE, op); return; }
      const k = min(m, n);
      const q = reshapeBatch(lastSlice(out, 0, m * k), nb, m, k);
      const rr = reshapeBatch(lastSlice(out, m * k, k * n), nb, k, n);
      let dr: i32;
      if (m >= n) {
        dr = qrJvpTall(q, rr, ta, QR_DQ);
      } else {
        // Wide: (dQ, dU) from X = Q·U; dV = Qᵀ(dY − dQ·V).
        const du = qrJvpTall(q, lastSlice(rr, 0, m), lastSlice(ta, 0, m), QR_DQ);
        const dq = load<i32>(QR_DQ);
        const dv = matmul(q, sub(lastSlice(ta, m, n - m), matmul(dq, lastSlice(rr, m, n - m), 0, 0)), 1, 0);
        dr = catLast(du, dv);
      }
      const dq = load<i32>(QR_DQ);
      setTangent(out, catLast(reshapeBatch(dq, nb, m * k, -1), reshapeBatch(dr, nb, k * n, -1)));
      return;
    }
    case Op.svd: {
      const rank = rankOf(a), nb = rank - 2;
      const m = dimOf(a, rank - 2), n = dimOf(a, rank - 1);
      if (recAttr(r, 1) == 0) { // svdvals: dS = diag(Uᵀ·dA·V)
        reducedSvd(a, nb, m, n);
        setTangent(out, sum(mul(P_U, matmul(ta, P_VH, 0, 1)), 1 << (rank - 2), false));
        return;
      }
      const full = recAttr(r, 0) != 0;
      svdPieces(out, nb, m, n, full);
      setTangent(out, svdJvp(P_U, P_S, P_VH, ta, nb, m, n, full));
      return;
    }
    case Op.eigh: {
      // dL = diag(Vᵀ·dA·V), dV = V·F(L)∘(Vᵀ·dA·V), dA the symmetric matrix read (its lower triangle).
      const rank = rankOf(a), nb = rank - 2, n = dimOf(a, rank - 1);
      const da = symFromLower(ta);
      if (recAttr(r, 0) == 0) {
        const v = eigenvectors(a, nb, n);
        setTangent(out, sum(mul(v, matmul(da, v, 0, 0)), 1 << (rank - 2), false));
        return;
      }
      const v = reshapeBatch(lastSlice(out, n, n * n), nb, n, n);
      const mm = matmul(matmul(v, da, 1, 0), v, 0, 0);
      const dv = matmul(v, mul(spectralF(lastSlice(out, 0, n)), mm), 0, 0);
      setTangent(out, catLast(diagPart(mm), reshapeBatch(dv, nb, n * n, -1)));
      return;
    }
    case Op.pinv: {
      // dP = −P·dA·P + P·Pᵀ·dAᵀ·(I − AP) + (I − PA)·dAᵀ·Pᵀ·P
      const herm = recAttr(r, 2) != 0;
      const A = herm ? symFromLower(a) : a, da = herm ? symFromLower(ta) : ta, p = out;
      const dap = matmul(da, p, 0, 0);
      const t1 = neg(matmul(p, dap, 0, 0));
      const w = matmul(p, dap, 0, 1);
      const t2 = sub(w, matmul(matmul(w, A, 0, 0), p, 0, 0));
      const x = matmul(da, matmul(p, p, 1, 0), 1, 0);
      const t3 = sub(x, matmul(p, matmul(A, x, 0, 0), 0, 0));
      setTangent(out, add(add(t1, t2), t3));
      return;
    }
    default: fail(E_NO_RULE, op);
  }
}
