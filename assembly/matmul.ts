// Matrix products: batched matmul with broadcast batch dims and transposed operands — the
// kernel, the recording op and its VJP rule.
//
// C[..., m, n] = op(A)[..., m, k] · op(B)[..., k, n], op(X) = Xᵀ (of the last two dims) when its
// flag is set. Transposes are never materialised as tensors: the kernel reads a transposed A
// with strides and packs a transposed B's rows into a scratch buffer. Each C[i, j] accumulates
// over k in increasing order, so results are the same on every engine.

import { Op, DType } from "./vocabulary";
import {
  newTensor, dtypeOf, rankOf, dimOf, dataOf, MAX_RANK, needsGrad, releaseTensor, fail, E_NO_RULE,
  E_OOM,
} from "./tensor";
import { alloc, free } from "./alloc";
import { shouldRecord2, recordOp, recordInput, recordAttr, recInput, recAttr, recOut, accumulate } from "./tape";
import { sumTo } from "./reduce";
import { tangentOf, setTangent } from "./forward";
import { add } from "./elementwise";

const SHAPE_TMP = memory.data(MAX_RANK * 4);
// Per output batch dim: its size and the matrix strides of A and B (0 where broadcast).
const BATCH_DIM = memory.data(MAX_RANK * 4);
const BATCH_STRIDE_A = memory.data(MAX_RANK * 4);
const BATCH_STRIDE_B = memory.data(MAX_RANK * 4);
const BATCH_INDEX = memory.data(MAX_RANK * 4);

@inline function getI(p: usize, k: i32): i32 { return load<i32>(p + (<usize>k << 2)); }
@inline function setI(p: usize, k: i32, v: i32): void { store<i32>(p + (<usize>k << 2), v); }

/**
 * One matrix product into `pc` (m×n, row-major): an i-k-j loop that broadcasts op(A)[i, kk]
 * against row kk of op(B), f32x4 / f64x2 over j with a scalar tail.
 */
function matmulBlock<T>(pa: usize, pb: usize, pc: usize, m: i32, k: i32, n: i32, transA: bool): void {
  const size = sizeof<T>();
  const lanes = <i32>(16 / size);
  for (let i = 0; i < m; i++) {
    const crow = pc + <usize>i * <usize>n * size;
    memory.fill(crow, 0, <usize>n * size);
    for (let kk = 0; kk < k; kk++) {
      const a = load<T>(pa + (transA ? <usize>kk * <usize>m + <usize>i : <usize>i * <usize>k + <usize>kk) * size);
      const va = v128.splat<T>(a);
      const brow = pb + <usize>kk * <usize>n * size;
      let j = 0;
      for (; j + lanes <= n; j += lanes) {
        const o = crow + <usize>j * size;
        v128.store(o, v128.add<T>(v128.load(o), v128.mul<T>(va, v128.load(brow + <usize>j * size))));
      }
      for (; j < n; j++) {
        const o = crow + <usize>j * size;
        store<T>(o, load<T>(o) + a * load<T>(brow + <usize>j * size));
      }
    }
  }
}

/** Copies Bᵀ (B stored n×k) into `dst` as k×n row-major, so every row of op(B) is contiguous. */
function packTransposed<T>(pb: usize, dst: usize, k: i32, n: i32): void {
  const size = sizeof<T>();
  for (let j = 0; j < n; j++) {
    const src = pb + <usize>j * <usize>k * size;
    for (let kk = 0; kk < k; kk++) {
      store<T>(dst + (<usize>kk * <usize>n + <usize>j) * size, load<T>(src + <usize>kk * size));
    }
  }
}

function matmulKernel<T>(a: i32, b: i32, out: i32, nb: i32, m: i32, k: i32, n: i32,
                         transA: bool, transB: bool, pack: usize): void {
  const size = sizeof<T>();
  const matA = <usize>m * <usize>k * size, matB = <usize>k * <usize>n * size, matC = <usize>m * <usize>n * size;
  let batches: i64 = 1;
  for (let d = 0; d < nb; d++) { batches *= <i64>getI(BATCH_DIM, d); setI(BATCH_INDEX, d, 0); }
  let offA: usize = 0, offB: usize = 0;
  let packedB: usize = <usize>-1;
  let pc = dataOf(out);
  for (let t: i64 = 0; t < batches; t++) {
    let pb = dataOf(b) + offB * matB;
    if (transB) {
      if (packedB != offB) { packTransposed<T>(pb, pack, k, n); packedB = offB; }
      pb = pack;
    }
    matmulBlock<T>(dataOf(a) + offA * matA, pb, pc, m, k, n, transA);
    pc += matC;
    // Odometer over the batch dims, moving both operands' offsets.
    for (let d = nb - 1; d >= 0; d--) {
      const i = getI(BATCH_INDEX, d) + 1;
      const sa = <usize>getI(BATCH_STRIDE_A, d), sb = <usize>getI(BATCH_STRIDE_B, d);
      if (i < getI(BATCH_DIM, d)) { setI(BATCH_INDEX, d, i); offA += sa; offB += sb; break; }
      setI(BATCH_INDEX, d, 0);
      offA -= sa * <usize>(i - 1); offB -= sb * <usize>(i - 1);
    }
  }
}

/** Writes the broadcast batch dims of x (rank rx) and its matrix strides per output batch dim. */
function batchStrides(x: i32, nb: i32, strides: usize): void {
  const bx = rankOf(x) - 2;
  let s = 1;
  for (let d = nb - 1; d >= 0; d--) {
    const dx = d - (nb - bx);
    const size = dx < 0 ? 1 : dimOf(x, dx);
    setI(strides, d, size == 1 ? 0 : s);
    s *= size;
  }
}

/**
 * op(a) · op(b) over the last two dims, batch dims broadcast (a recording op). Both operands
 * have rank >= 2, one float dtype and fitting sizes (checked by the host).
 */
export function matmul(a: i32, b: i32, transA: i32, transB: i32): i32 {
  if (a == 0 || b == 0) return 0;
  const ra = rankOf(a), rb = rankOf(b);
  const m = transA ? dimOf(a, ra - 1) : dimOf(a, ra - 2);
  const k = transA ? dimOf(a, ra - 2) : dimOf(a, ra - 1);
  const n = transB ? dimOf(b, rb - 2) : dimOf(b, rb - 1);
  const nb = max(ra, rb) - 2;
  for (let d = 0; d < nb; d++) {
    const da = d - (nb - (ra - 2)), db = d - (nb - (rb - 2));
    const sa = da < 0 ? 1 : dimOf(a, da), sb = db < 0 ? 1 : dimOf(b, db);
    const size = sa == 1 ? sb : sa;
    setI(BATCH_DIM, d, size);
    setI(SHAPE_TMP, d, size);
  }
  setI(SHAPE_TMP, nb, m);
  setI(SHAPE_TMP, nb + 1, n);
  const dt = dtypeOf(a);
  const out = newTensor(dt, nb + 2, SHAPE_TMP);
  if (out == 0) return 0;
  batchStrides(a, nb, BATCH_STRIDE_A);
  batchStrides(b, nb, BATCH_STRIDE_B);
  const size: usize = dt == DType.float32 ? 4 : 8;
  let pack: usize = 0;
  if (transB && k > 0 && n > 0) {
    pack = alloc(<u32>(<usize>k * <usize>n * size));
    if (pack == 0) { releaseTensor(out); fail(E_OOM, Op.matmul); return 0; }
  }
  if (dt == DType.float32) matmulKernel<f32>(a, b, out, nb, m, k, n, transA != 0, transB != 0, pack);
  else matmulKernel<f64>(a, b, out, nb, m, k, n, transA != 0, transB != 0, pack);
  if (pack != 0) free(pack);
  if (shouldRecord2(a, b) && recordOp(Op.matmul, out)) {
    recordInput(a); recordInput(b); recordAttr(<f64>transA); recordAttr(<f64>transB);
  }
  return out;
}

// ————————————————————————————————————————————————————————— VJP rule

/**
 * For C = op(A)·op(B) with adjoint G: d op(A) = G·op(B)ᵀ and d op(B) = op(A)ᵀ·G, each written as
 * one matmul with transpose flags (so no transpose is ever copied), then summed over the batch
 * dims the operand was broadcast along.
 */
export function vjpMatmul(op: i32, r: u32, g: i32): void {
  if (op != Op.matmul) { fail(E_NO_RULE, op); return; }
  const a = recInput(r, 0), b = recInput(r, 1);
  const tA = recAttr(r, 0) != 0, tB = recAttr(r, 1) != 0;
  if (needsGrad(a)) {
    // A·B: G·Bᵀ   A·Bᵀ: G·B   Aᵀ·B: B·Gᵀ   Aᵀ·Bᵀ: Bᵀ·Gᵀ
    const da = !tA ? matmul(g, b, 0, tB ? 0 : 1) : matmul(b, g, tB ? 1 : 0, 1);
    accumulate(a, sumTo(da, a));
  }
  if (needsGrad(b)) {
    // A·B: Aᵀ·G   A·Bᵀ: Gᵀ·A   Aᵀ·B: A·G   Aᵀ·Bᵀ: Gᵀ·Aᵀ
    const db = !tB ? matmul(a, g, tA ? 0 : 1, 0) : matmul(g, a, 1, tA ? 1 : 0);
    accumulate(b, sumTo(db, b));
  }
}

/** Bilinear: d(op(A)·op(B)) = op(dA)·op(B) + op(A)·op(dB), with the same flags. */
export function jvpMatmul(op: i32, r: u32): void {
  if (op != Op.matmul) { fail(E_NO_RULE, op); return; }
  const a = recInput(r, 0), b = recInput(r, 1);
  const tA = <i32>recAttr(r, 0), tB = <i32>recAttr(r, 1);
  const ta = tangentOf(a), tb = tangentOf(b);
  const left = ta != 0 ? matmul(ta, b, tA, tB) : 0;
  const right = tb != 0 ? matmul(a, tb, tA, tB) : 0;
  setTangent(recOut(r), left == 0 ? right : right == 0 ? left : add(left, right));
}
