// The CTC loss (Graves et al. 2006) as a primitive: the forward-backward algorithm in log space,
// following PyTorch's CPU implementation (aten/src/ATen/native/LossCTC.cpp) step for step.
//
// ctcLoss gives the per-sample negative log-likelihood [N] of log-probabilities [T, N, C] for
// padded int32 targets [N, S] and int32 lengths [N]. Its gradient is PyTorch's formula
//   ∂nll/∂lp[t, n, c] = exp(lp) − exp(log Σ_{s: l'(s) = c} α_t(s)·β_t(s) + nll − lp)
// which (like PyTorch's) takes lp to be log-softmax output: it is the gradient that flows into
// the logits through logSoftmax. It is computed by a second op, ctcLossGrad, which has no
// derivative itself — PyTorch has no double backward for CTC either.
//
// crossEntropy of [N, C] logits is fused (below, with its gradient op crossEntropyBackward).
// The other losses, and crossEntropy with class weights or [N, C, d1, ...] inputs, are
// composites on the host (src/ops/loss.ts).

import { Op, DType } from "../core/vocabulary";
import {
  newTensor, newLike, releaseTensor, dtypeOf, dataOf, dimOf, numelOf, needsGrad, fail, E_NO_RULE, E_OOM, MAX_RANK, shapePtr, rankOf,
} from "../core/tensor";
import { alloc, free } from "../core/alloc";
import {
  shouldRecord1, shouldRecord2, recordTarget, recordOp, recordInput, recordAttr, recInput, recAttr, recOut, accumulate,
} from "../engine/tape";
import { tangentOf, setTangent } from "../engine/forward";
import { captureOp1 } from "../engine/accelerate";
import { sum, sumRun } from "./reduce";
import { mul, div, add, sub, mulScalar, addScalar, scalar, cast, compareScalarOp } from "./elementwise";
import { reshapeTo } from "./shape";
import { softmax, softmaxBackward, rowMaxF32, rowExpSumF32, laneSum, CHUNK } from "./activation";
import { expT, expNonPositiveF32x4, expNonPositiveF32 } from "../core/math";

const NEG_INF = -Infinity;
const SHAPE3 = memory.data(MAX_RANK * 4);

/** log(exp(a) + exp(b) + exp(c)) as PyTorch writes it (an all -inf triple gives -inf). */
@inline function logSumExp3(a: f64, b: f64, c: f64): f64 {
  let m = max(a, max(b, c));
  if (m == NEG_INF) m = 0;
  return Math.log(Math.exp(a - m) + Math.exp(b - m) + Math.exp(c - m)) + m;
}

/** The extended label l'(s): blank at even s, target (s − 1) / 2 at odd s. */
@inline function label(pt: usize, s: i32, blank: i32): i32 {
  return (s & 1) == 0 ? blank : load<i32>(pt + (<usize>(s >> 1) << 2));
}

/** Reads lp[t, b, c] as f64. */
@inline function logProb<T>(lp: usize, t: i32, b: i32, c: i32, N: i32, C: i32): f64 {
  return <f64>load<T>(lp + ((<usize>t * <usize>N + <usize>b) * <usize>C + <usize>c) * sizeof<T>());
}

/** Fills α (rows of width L = 2S + 1) for sample b; returns nll. */
function alphaPass<T>(lp: usize, pt: usize, b: i32, N: i32, C: i32, len: i32, S: i32, blank: i32, alpha: usize): f64 {
  const L = 2 * S + 1;
  if (len == 0) return S == 0 ? 0 : Infinity; // no frames: only the empty target is reachable
  for (let s = 0; s < L; s++) store<f64>(alpha + (<usize>s << 3), NEG_INF);
  store<f64>(alpha, logProb<T>(lp, 0, b, blank, N, C));
  if (S > 0) store<f64>(alpha, logProb<T>(lp, 0, b, label(pt, 1, blank), N, C), 8);
  for (let t = 1; t < len; t++) {
    const prev = alpha + <usize>(t - 1) * <usize>L * 8, cur = prev + <usize>L * 8;
    for (let s = 0; s < L; s++) {
      const l = label(pt, s, blank);
      const a1 = load<f64>(prev + (<usize>s << 3));
      const a2 = s > 0 ? load<f64>(prev + (<usize>(s - 1) << 3)) : NEG_INF;
      const a3 = s > 1 && label(pt, s - 2, blank) != l ? load<f64>(prev + (<usize>(s - 2) << 3)) : NEG_INF;
      store<f64>(cur + (<usize>s << 3), logSumExp3(a1, a2, a3) + logProb<T>(lp, t, b, l, N, C));
    }
  }
  const last = alpha + <usize>(len - 1) * <usize>L * 8;
  if (S == 0) return -load<f64>(last);
  return -logSumExp3(load<f64>(last + (<usize>(2 * S) << 3)), load<f64>(last + (<usize>(2 * S - 1) << 3)), NEG_INF);
}

// Buffers for one call: α and β (Tmax·(2·Smax + 1) f64s each), Σαβ per (t, c) (T·C f64s).
let bufAlpha: usize = 0, bufBeta: usize = 0, bufCollect: usize = 0;

function allocBuffers(T: i32, S: i32, C: i32, withGrad: bool): bool {
  const rows = <u32>max(T, 1) * <u32>(2 * S + 1) * 8;
  bufAlpha = alloc(rows);
  if (withGrad) {
    bufBeta = alloc(rows);
    bufCollect = alloc(<u32>max(T, 1) * <u32>max(C, 1) * 8);
  }
  if (bufAlpha != 0 && (!withGrad || (bufBeta != 0 && bufCollect != 0))) return true;
  freeBuffers();
  return false;
}

function freeBuffers(): void {
  free(bufAlpha); free(bufBeta); free(bufCollect);
  bufAlpha = 0; bufBeta = 0; bufCollect = 0;
}

function ctcForward<T>(lp: i32, targets: i32, inputLengths: i32, targetLengths: i32, blank: i32, zeroInfinity: bool, out: i32): void {
  const N = dimOf(lp, 1), C = dimOf(lp, 2), Smax = dimOf(targets, 1);
  for (let b = 0; b < N; b++) {
    const len = load<i32>(dataOf(inputLengths) + (<usize>b << 2));
    const S = load<i32>(dataOf(targetLengths) + (<usize>b << 2));
    const pt = dataOf(targets) + <usize>b * <usize>Smax * 4;
    let nll = alphaPass<T>(dataOf(lp), pt, b, N, C, len, S, blank, bufAlpha);
    if (zeroInfinity && nll == Infinity) nll = 0;
    store<T>(dataOf(out) + <usize>b * sizeof<T>(), <T>nll);
  }
}

/** PyTorch's ctc_loss_backward for one sample into grad[:, b, :] (with grad_out = 1). */
function ctcBackward<T>(lp: i32, targets: i32, inputLengths: i32, targetLengths: i32, blank: i32, zeroInfinity: bool, grad: i32): void {
  const T_ = dimOf(lp, 0), N = dimOf(lp, 1), C = dimOf(lp, 2), Smax = dimOf(targets, 1);
  const plp = dataOf(lp), pg = dataOf(grad);
  const alpha = bufAlpha, beta = bufBeta, collect = bufCollect;
  for (let b = 0; b < N; b++) {
    const len = load<i32>(dataOf(inputLengths) + (<usize>b << 2));
    const S = load<i32>(dataOf(targetLengths) + (<usize>b << 2));
    const L = 2 * S + 1;
    const pt = dataOf(targets) + <usize>b * <usize>Smax * 4;
    const nll = alphaPass<T>(plp, pt, b, N, C, len, S, blank, alpha);
    const zero = zeroInfinity && nll == Infinity;
    if (!zero && len > 0) {
      for (let i = 0, n = len * C; i < n; i++) store<f64>(collect + (<usize>i << 3), NEG_INF);
      for (let t = len - 1; t >= 0; t--) {
        const cur = beta + <usize>t * <usize>L * 8;
        for (let s = L - 1; s >= 0; s--) {
          const l = label(pt, s, blank);
          let lb: f64;
          if (t == len - 1) {
            lb = s >= L - 2 ? logProb<T>(plp, t, b, l, N, C) : NEG_INF;
          } else {
            const next = cur + <usize>L * 8;
            const b1 = load<f64>(next + (<usize>s << 3));
            const b2 = s < L - 1 ? load<f64>(next + (<usize>(s + 1) << 3)) : NEG_INF;
            const b3 = s < L - 2 && label(pt, s + 2, blank) != l ? load<f64>(next + (<usize>(s + 2) << 3)) : NEG_INF;
            lb = logSumExp3(b1, b2, b3) + logProb<T>(plp, t, b, l, N, C);
          }
          store<f64>(cur + (<usize>s << 3), lb);
          // collect[t, l] "log+=" α_t(s) + β_t(s)
          const ab = load<f64>(alpha + (<usize>t * <usize>L + <usize>s) * 8) + lb;
          const pc = collect + (<usize>t * <usize>C + <usize>l) * 8;
          const prev = load<f64>(pc);
          if (prev == NEG_INF) store<f64>(pc, ab);
          else { const m = max(prev, ab); store<f64>(pc, Math.log(Math.exp(prev - m) + Math.exp(ab - m)) + m); }
        }
      }
    }
    for (let t = 0; t < T_; t++) {
      for (let c = 0; c < C; c++) {
        let v: f64 = 0;
        if (!zero && t < len) {
          const l = logProb<T>(plp, t, b, c, N, C);
          v = Math.exp(l) - Math.exp(load<f64>(collect + (<usize>t * <usize>C + <usize>c) * 8) + nll - l);
        }
        store<T>(pg + ((<usize>t * <usize>N + <usize>b) * <usize>C + <usize>c) * sizeof<T>(), <T>v);
      }
    }
  }
}

function recordCtc(op: i32, out: i32, lp: i32, targets: i32, inputLengths: i32, targetLengths: i32, blank: i32, zeroInfinity: bool): void {
  if (recordOp(shouldRecord1(lp), op, out)) {
    recordInput(lp); recordInput(targets); recordInput(inputLengths); recordInput(targetLengths);
    recordAttr(<f64>blank); recordAttr(zeroInfinity ? 1 : 0);
  }
}

/**
 * Per-sample CTC negative log-likelihood [N] (with `zeroInfinity`, an impossible alignment gives
 * 0). The host has validated shapes, lengths (≤ T, ≤ S) and labels (in [0, C)).
 */
export function ctcLoss(lp: i32, targets: i32, inputLengths: i32, targetLengths: i32, blank: i32, zeroInfinity: bool): i32 {
  if (lp == 0 || targets == 0 || inputLengths == 0 || targetLengths == 0) return 0;
  store<i32>(SHAPE3, dimOf(lp, 1));
  const dt = dtypeOf(lp);
  const out = newTensor(dt, 1, SHAPE3);
  if (out == 0) return 0;
  if (!allocBuffers(dimOf(lp, 0), dimOf(targets, 1), dimOf(lp, 2), false)) { releaseTensor(out); fail(E_OOM, Op.ctcLoss); return 0; }
  if (dt == DType.float32) ctcForward<f32>(lp, targets, inputLengths, targetLengths, blank, zeroInfinity, out);
  else ctcForward<f64>(lp, targets, inputLengths, targetLengths, blank, zeroInfinity, out);
  freeBuffers();
  recordCtc(Op.ctcLoss, out, lp, targets, inputLengths, targetLengths, blank, zeroInfinity);
  return out;
}

/** ∂nll_n/∂lp as a [T, N, C] tensor (PyTorch's formula); recorded so that differentiating it fails cleanly. */
export function ctcLossGrad(lp: i32, targets: i32, inputLengths: i32, targetLengths: i32, blank: i32, zeroInfinity: bool): i32 {
  if (lp == 0) return 0;
  const dt = dtypeOf(lp);
  const grad = newTensor(dt, 3, shapePtr(lp));
  if (grad == 0) return 0;
  if (!allocBuffers(dimOf(lp, 0), dimOf(targets, 1), dimOf(lp, 2), true)) { releaseTensor(grad); fail(E_OOM, Op.ctcLossGrad); return 0; }
  if (dt == DType.float32) ctcBackward<f32>(lp, targets, inputLengths, targetLengths, blank, zeroInfinity, grad);
  else ctcBackward<f64>(lp, targets, inputLengths, targetLengths, blank, zeroInfinity, grad);
  freeBuffers();
  recordCtc(Op.ctcLossGrad, grad, lp, targets, inputLengths, targetLengths, blank, zeroInfinity);
  return grad;
}

/** The gradient of the record's loss w.r.t. its log-probabilities (a recording op). */
function gradOf(r: u32): i32 {
  return ctcLossGrad(recInput(r, 0), recInput(r, 1), recInput(r, 2), recInput(r, 3), <i32>recAttr(r, 0), recAttr(r, 1) != 0);
}

function vjpCtc(r: u32, g: i32): void {
  const lp = recInput(r, 0);
  if (!needsGrad(lp)) return;
  store<i32>(SHAPE3, 1); store<i32>(SHAPE3, rankOf(g) == 1 ? dimOf(g, 0) : 1, 4); store<i32>(SHAPE3, 1, 8);
  accumulate(lp, mul(gradOf(r), reshapeTo(g, 3, SHAPE3)));
}

function jvpCtc(r: u32): void {
  // nll_n moves by Σ_{t,c} ∂nll_n/∂lp[t, n, c] · lṗ[t, n, c]
  setTangent(recOut(r), sum(mul(gradOf(r), tangentOf(recInput(r, 0))), 0b101, false));
}

// ————————————————————————————————————————————————————————— crossEntropy, fused
//
// crossEntropy(x, t) of logits [N, C] (or [C]) with class-index targets (int32 [N], or []) or
// class probabilities (x's shape and dtype), PyTorch's reductions, ignoreIndex and label
// smoothing ε, without class weights (the host keeps its composite for those and for
// [N, C, d1, ...]). Per row i it is Σ_c q_ic·(lse_i − x_ic) with
//   indices       q_ic = keep_i·((1 − ε)·[c = y_i] + ε/C)      ('mean' divides by K = Σ keep)
//   probabilities q_ic = (1 − ε)·t_ic + ε/C                   ('mean' divides by N)
// and its gradient, the op crossEntropyBackward, is G_i·(Q_i·softmax(x)_i − q_i) with
// Q_i = Σ_c q_ic and G_i the adjoint's row (its one element for 'mean' and 'sum', divided by
// K or N). Each row's max and log Σ exp come from the op logSumExpRows (logSoftmax's float32
// row helpers: the same log-probabilities bit for bit), which forward and backward share; the
// row's loss is then read from x directly (no pass at all for class indices without smoothing)
// and the backward is one pass with one exp per element; no [N, C] is written but the gradient.
// The backward writes logSoftmaxBackward's g − exp(logp)·Σ g with g = −G·q without forming g,
// so with ε = 0 the gradients have the composite's bits, and so do class indices' values (sum's
// order for the row losses, the same divisions); probabilities' values sum each row first. The rules are products of softmax, softmaxBackward and
// crossEntropyBackward itself, so second derivatives work.

const REDUCE_NONE = 0, REDUCE_SUM = 1, REDUCE_MEAN = 2;

// A row's max and log Σ exp(x − max), as rowStats reads them from logSumExpRows's output.
let statMax: f64 = 0, statLogSum: f64 = 0;

@inline function rowStats<T>(ps: usize, i: i32): void {
  statMax = <f64>load<T>(ps + (<usize>i << 1) * sizeof<T>());
  statLogSum = <f64>load<T>(ps + ((<usize>i << 1) + 1) * sizeof<T>());
}

function logSumExpRowsKernel<T>(px: usize, ps: usize, N: i32, C: i32): void {
  for (let i = 0; i < N; i++) {
    const row = px + <usize>i * <usize>C * sizeof<T>(), out = ps + (<usize>i << 1) * sizeof<T>();
    if (sizeof<T>() == 4) {
      const m = rowMaxF32(row, C);
      store<f32>(out, m);
      store<f32>(out, <f32>Math.log(rowExpSumF32(row, 0, C, m)), 4);
      continue;
    }
    let m: f64 = -Infinity;
    for (let c = 0; c < C; c++) m = max(m, load<f64>(row + (<usize>c << 3)));
    let sum: f64 = 0;
    for (let c = 0; c < C; c++) sum += expT<f64>(load<f64>(row + (<usize>c << 3)) - m);
    store<f64>(out, m);
    store<f64>(out, Math.log(sum), 8);
  }
}

/**
 * Each row's max and log Σ exp(x − max) of logits [N, C] (or [C]), as [N, 2] (float32 as
 * logSoftmax's rows compute them, float64 as its scalar loop). crossEntropy and its gradient
 * read them instead of each summing exp again; they differentiate through x themselves, so
 * this op has no derivative of its own (it is never on a tape; accelerate replays it).
 */
export function logSumExpRows(x: i32): i32 {
  if (x == 0) return 0;
  const N = rowsOf(x);
  store<i32>(SHAPE3, N); store<i32>(SHAPE3, 2, 4);
  const out = newTensor(dtypeOf(x), 2, SHAPE3);
  if (out == 0) return 0;
  if (dtypeOf(x) == DType.float32) logSumExpRowsKernel<f32>(dataOf(x), dataOf(out), N, classesOf(x));
  else logSumExpRowsKernel<f64>(dataOf(x), dataOf(out), N, classesOf(x));
  captureOp1(Op.logSumExpRows, out, x);
  return out;
}

/** log-softmax of one element of the row rowStats saw, rounded as logSoftmax rounds it. */
@inline function logpOf<T>(x: T): T {
  if (sizeof<T>() == 4) return <T>((<f32>x - <f32>statMax) - <f32>statLogSum);
  return x - <T>(statMax + statLogSum);
}

/** Σ_c logp_c·(t_c·sc + sh) over a float32 row (pt = 0: Σ logp_c), in CHUNK-element lane sums. */
function rowLogpDotF32(px: usize, pt: usize, n: i32, sc: f32, sh: f32): f64 {
  const vm = f32x4.splat(<f32>statMax), vl = f32x4.splat(<f32>statLogSum);
  const vs = f32x4.splat(sc), vh = f32x4.splat(sh);
  let total: f64 = 0;
  let i = 0;
  while (i + 4 <= n) {
    const end = min(n & ~3, i + CHUNK);
    let acc = f32x4.splat(0);
    if (pt != 0) {
      for (; i < end; i += 4) {
        const lp = f32x4.sub(f32x4.sub(v128.load(px + (<usize>i << 2)), vm), vl);
        const t = f32x4.add(f32x4.mul(v128.load(pt + (<usize>i << 2)), vs), vh);
        acc = f32x4.add(acc, f32x4.mul(lp, t));
      }
    } else {
      for (; i < end; i += 4) acc = f32x4.add(acc, f32x4.sub(f32x4.sub(v128.load(px + (<usize>i << 2)), vm), vl));
    }
    total += laneSum(acc);
  }
  for (; i < n; i++) {
    const lp = logpOf<f32>(load<f32>(px + (<usize>i << 2)));
    total += <f64>(pt != 0 ? lp * (load<f32>(pt + (<usize>i << 2)) * sc + sh) : lp);
  }
  return total;
}

/** The same over a float64 row. */
function rowLogpDotF64(px: usize, pt: usize, n: i32, sc: f64, sh: f64): f64 {
  let total: f64 = 0;
  for (let i = 0; i < n; i++) {
    const lp = logpOf<f64>(load<f64>(px + (<usize>i << 3)));
    total += pt != 0 ? lp * (load<f64>(pt + (<usize>i << 3)) * sc + sh) : lp;
  }
  return total;
}

@inline function rowLogpDot<T>(px: usize, pt: usize, n: i32, sc: f64, sh: f64): f64 {
  if (sizeof<T>() == 4) return rowLogpDotF32(px, pt, n, <f32>sc, <f32>sh);
  return rowLogpDotF64(px, pt, n, sc, sh);
}

@inline function isIndexTarget(t: i32): bool { return dtypeOf(t) == DType.int32; }

/** The rows N (1 for [C]) and classes C of logits x. */
@inline function rowsOf(x: i32): i32 { return rankOf(x) == 1 ? 1 : dimOf(x, 0); }
@inline function classesOf(x: i32): i32 { return dimOf(x, rankOf(x) - 1); }

/** How many class-index targets are not ignoreIndex ('mean''s divisor). */
function keptCount(pt: usize, N: i32, ignoreIndex: i32): i32 {
  let k = 0;
  for (let i = 0; i < N; i++) if (load<i32>(pt + (<usize>i << 2)) != ignoreIndex) k++;
  return k;
}

/**
 * Row losses into `nll` (and −Σ_c logp_c into `smooth` for class indices with ε > 0); returns the
 * loss in `out` for the reduction.
 */
function crossEntropyKernel<T>(x: i32, t: i32, stats: i32, out: i32, reduction: i32, ignoreIndex: i32, eps: f64, nll: usize, smooth: usize): void {
  const size = sizeof<T>();
  const N = rowsOf(x), C = classesOf(x);
  const px = dataOf(x), pt = dataOf(t), po = dataOf(out), ps = dataOf(stats);
  const rowBytes = <usize>C * size;
  const byIndex = isIndexTarget(t);
  for (let i = 0; i < N; i++) {
    const row = px + <usize>i * rowBytes;
    if (byIndex) {
      const y = load<i32>(pt + (<usize>i << 2));
      if (y == ignoreIndex) { store<T>(nll + <usize>i * size, 0); store<T>(smooth + <usize>i * size, 0); continue; }
      rowStats<T>(ps, i);
      // the host and accelerate's guards keep y in range; a stray one gives NaN, not a wild read
      const v = <u32>y < <u32>C ? -logpOf<T>(load<T>(row + <usize>y * size)) : <T>NaN;
      store<T>(nll + <usize>i * size, v);
      if (eps > 0) store<T>(smooth + <usize>i * size, -<T>rowLogpDot<T>(row, 0, C, 1, 0));
    } else {
      rowStats<T>(ps, i);
      const sc = eps > 0 ? 1 - eps : 1, sh = eps > 0 ? eps / C : 0;
      store<T>(nll + <usize>i * size, -<T>rowLogpDot<T>(row, pt + <usize>i * rowBytes, C, sc, sh));
    }
  }
  const mixed = byIndex && eps > 0; // (1 − ε)·nll + ε/C·smooth, as PyTorch's label smoothing adds them
  const a = <T>(1 - eps), b = <T>(eps / C);
  if (reduction == REDUCE_NONE) {
    for (let i = 0; i < N; i++) {
      const q = <usize>i * size;
      store<T>(po + q, mixed ? load<T>(nll + q) * a + load<T>(smooth + q) * b : load<T>(nll + q));
    }
    return;
  }
  // 'mean' divides by the kept count K for class indices (smooth too, as PyTorch 1.13), by N for probabilities
  const divisor = reduction == REDUCE_SUM ? <T>1 : <T>(byIndex ? keptCount(pt, N, ignoreIndex) : N);
  const total = <T>(0 + sumRun<T>(nll, N));
  if (!mixed) { store<T>(po, reduction == REDUCE_SUM ? total : total / divisor); return; }
  const smoothTotal = <T>(0 + sumRun<T>(smooth, N));
  store<T>(po, (total / divisor) * a + (smoothTotal / divisor) * b);
}

/**
 * The cross-entropy of logits x ([N, C] or [C]) and targets t (int32 indices or probabilities):
 * reduction 0 'none' ([N], or [] for [C]), 1 'sum', 2 'mean'; ignoreIndex for indices; label
 * smoothing eps in [0, 1]. The host has validated shapes, dtypes and index ranges.
 */
export function crossEntropy(x: i32, t: i32, stats: i32, reduction: i32, ignoreIndex: i32, eps: f64): i32 {
  if (x == 0 || t == 0 || stats == 0) return 0;
  const dt = dtypeOf(x), N = rowsOf(x);
  store<i32>(SHAPE3, N);
  const out = newTensor(dt, reduction == REDUCE_NONE && rankOf(x) == 2 ? 1 : 0, SHAPE3);
  if (out == 0) return 0;
  const scratch = alloc(<u32>max(N, 1) << 4);
  if (scratch == 0) { releaseTensor(out); fail(E_OOM, Op.crossEntropy); return 0; }
  const smooth = scratch + (<usize>max(N, 1) << 3);
  if (dt == DType.float32) crossEntropyKernel<f32>(x, t, stats, out, reduction, ignoreIndex, eps, scratch, smooth);
  else crossEntropyKernel<f64>(x, t, stats, out, reduction, ignoreIndex, eps, scratch, smooth);
  free(scratch);
  if (recordOp(shouldRecord2(x, t), Op.crossEntropy, out)) {
    recordInput(x); recordInput(t); recordInput(stats); recordAttr(<f64>reduction); recordAttr(<f64>ignoreIndex); recordAttr(eps);
  }
  return out;
}

/** out = gz − exp((x − m) − ls)·c over a float32 row: logSoftmaxBackward's row with g = gz everywhere. */
function rowBackUniformF32(px: usize, po: usize, n: i32, gz: f32, c: f32): void {
  const vm = f32x4.splat(<f32>statMax), vl = f32x4.splat(<f32>statLogSum), vc = f32x4.splat(c), vg = f32x4.splat(gz);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const e = expNonPositiveF32x4(f32x4.sub(f32x4.sub(v128.load(px + (<usize>i << 2)), vm), vl));
    v128.store(po + (<usize>i << 2), f32x4.sub(vg, f32x4.mul(e, vc)));
  }
  for (; i < n; i++) store<f32>(po + (<usize>i << 2), gz - expNonPositiveF32(logpOf<f32>(load<f32>(px + (<usize>i << 2)))) * c);
}

/** The probability rows' gz_c = (t_c·sc + sh)·na over a float32 row: Σ gz in CHUNK lane sums, as logSoftmaxBackward's. */
function rowTargetSumF32(pt: usize, n: i32, sc: f32, sh: f32, na: f32): f64 {
  const vs = f32x4.splat(sc), vh = f32x4.splat(sh), va = f32x4.splat(na);
  let total: f64 = 0;
  let i = 0;
  while (i + 4 <= n) {
    const end = min(n & ~3, i + CHUNK);
    let acc = f32x4.splat(0);
    for (; i < end; i += 4) acc = f32x4.add(acc, f32x4.mul(va, f32x4.add(f32x4.mul(v128.load(pt + (<usize>i << 2)), vs), vh)));
    total += laneSum(acc);
  }
  for (; i < n; i++) total += <f64>(na * (load<f32>(pt + (<usize>i << 2)) * sc + sh));
  return total;
}

/** out = gz − exp(logp)·c with gz_c = na·(t_c·sc + sh) over a float32 row. */
function rowBackTargetF32(px: usize, pt: usize, po: usize, n: i32, sc: f32, sh: f32, na: f32, c: f32): void {
  const vm = f32x4.splat(<f32>statMax), vl = f32x4.splat(<f32>statLogSum), vc = f32x4.splat(c);
  const vs = f32x4.splat(sc), vh = f32x4.splat(sh), va = f32x4.splat(na);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const e = expNonPositiveF32x4(f32x4.sub(f32x4.sub(v128.load(px + (<usize>i << 2)), vm), vl));
    const gz = f32x4.mul(va, f32x4.add(f32x4.mul(v128.load(pt + (<usize>i << 2)), vs), vh));
    v128.store(po + (<usize>i << 2), f32x4.sub(gz, f32x4.mul(e, vc)));
  }
  for (; i < n; i++) {
    const gz = na * (load<f32>(pt + (<usize>i << 2)) * sc + sh);
    store<f32>(po + (<usize>i << 2), gz - expNonPositiveF32(logpOf<f32>(load<f32>(px + (<usize>i << 2)))) * c);
  }
}

function crossEntropyBackwardKernel<T>(g: i32, x: i32, t: i32, stats: i32, out: i32, reduction: i32, ignoreIndex: i32, eps: f64): void {
  const size = sizeof<T>();
  const N = rowsOf(x), C = classesOf(x);
  const pg = dataOf(g), px = dataOf(x), pt = dataOf(t), po = dataOf(out), ps = dataOf(stats);
  const rowBytes = <usize>C * size;
  const gStep: usize = numelOf(g) == 1 ? 0 : size;
  const byIndex = isIndexTarget(t);
  const divisor = reduction != REDUCE_MEAN ? <T>1 : <T>(byIndex ? keptCount(pt, N, ignoreIndex) : N);
  const sc = eps > 0 ? 1 - eps : 1, sh = eps > 0 ? eps / C : 0;
  for (let i = 0; i < N; i++) {
    const row = px + <usize>i * rowBytes, orow = po + <usize>i * rowBytes;
    const G = load<T>(pg + <usize>i * gStep);
    const a = reduction == REDUCE_MEAN ? G / divisor : G; // what 'mean''s division hands each row
    if (byIndex) {
      const y = load<i32>(pt + (<usize>i << 2));
      if (y == ignoreIndex) { memory.fill(orow, 0, rowBytes); continue; }
      rowStats<T>(ps, i);
      // g = −a·q: −a·ε/C everywhere and −a·(1 − ε) more at y; Σ g = −a
      const base = eps > 0 ? -(a * <T>sh) : <T>0, atY = eps > 0 ? base - a * <T>sc : -a, c = -a;
      if (sizeof<T>() == 4) rowBackUniformF32(row, orow, C, <f32>base, <f32>c);
      else {
        for (let k = 0; k < C; k++) {
          const q = <usize>k * size;
          store<T>(orow + q, base - expT<T>(logpOf<T>(load<T>(row + q))) * c);
        }
      }
      if (<u32>y < <u32>C) {
        const q = <usize>y * size;
        const e = sizeof<T>() == 4 ? <T>expNonPositiveF32(<f32>logpOf<T>(load<T>(row + q))) : expT<T>(logpOf<T>(load<T>(row + q)));
        store<T>(orow + q, atY - e * c);
      }
    } else {
      rowStats<T>(ps, i);
      const trow = pt + <usize>i * rowBytes;
      const na = -a;
      if (sizeof<T>() == 4) {
        const c = <f32>rowTargetSumF32(trow, C, <f32>sc, <f32>sh, <f32>na);
        rowBackTargetF32(row, trow, orow, C, <f32>sc, <f32>sh, <f32>na, c);
      } else {
        let s: f64 = 0;
        for (let k = 0; k < C; k++) s += <f64>(na * (load<T>(trow + <usize>k * size) * <T>sc + <T>sh));
        const c = <T>s;
        for (let k = 0; k < C; k++) {
          const q = <usize>k * size;
          const gz = na * (load<T>(trow + q) * <T>sc + <T>sh);
          store<T>(orow + q, gz - expT<T>(logpOf<T>(load<T>(row + q))) * c);
        }
      }
    }
  }
}

/**
 * crossEntropy's gradient w.r.t. the logits, G_i·(Q_i·softmax(x)_i − q_i), for an adjoint g of
 * the loss's shape (or one element, broadcast).
 */
export function crossEntropyBackward(g: i32, x: i32, t: i32, stats: i32, reduction: i32, ignoreIndex: i32, eps: f64): i32 {
  if (g == 0 || x == 0 || t == 0 || stats == 0) return 0;
  const dt = dtypeOf(x);
  const out = newLike(x, dt);
  if (out == 0) return 0;
  if (dt == DType.float32) crossEntropyBackwardKernel<f32>(g, x, t, stats, out, reduction, ignoreIndex, eps);
  else crossEntropyBackwardKernel<f64>(g, x, t, stats, out, reduction, ignoreIndex, eps);
  if (recordOp(recordTarget(needsGrad(g) || needsGrad(x) || needsGrad(t)), Op.crossEntropyBackward, out)) {
    recordInput(g); recordInput(x); recordInput(t); recordInput(stats); recordAttr(<f64>reduction); recordAttr(<f64>ignoreIndex); recordAttr(eps);
  }
  return out;
}

// ————————————————————————————————————————————————————————— crossEntropy's rules

/** An [N] (or one-element) per-row tensor as a column [N, 1] against [N, C]; as is for [C] logits. */
function column(v: i32, x: i32): i32 {
  if (rankOf(x) == 1 || numelOf(v) == 1) return v;
  store<i32>(SHAPE3, dimOf(x, 0)); store<i32>(SHAPE3, 1, 4);
  return reshapeTo(v, 2, SHAPE3);
}

/**
 * G_i·Q_i in recording ops, as a column: the weight of softmax(x)_i in crossEntropyBackward's row
 * (Q_i = keep_i, divided by K for 'mean', for indices; Σ_c q_ic, over N for 'mean', for probabilities).
 */
function rowMass(g: i32, x: i32, t: i32, reduction: i32, ignoreIndex: i32, eps: f64): i32 {
  const dt = dtypeOf(x), N = rowsOf(x);
  if (isIndexTarget(t)) {
    const keep = cast(compareScalarOp(Op.ne, t, <f64>ignoreIndex), dt);
    let gq = mul(g, keep);
    if (reduction == REDUCE_MEAN) gq = div(gq, sum(keep, (1 << rankOf(keep)) - 1, false));
    return column(gq, x);
  }
  const classAxis = rankOf(x) - 1;
  const tTotal = addScalar(mulScalar(sum(t, 1 << classAxis, false), eps > 0 ? 1 - eps : 1), eps > 0 ? eps : 0);
  let gq = mul(g, tTotal);
  if (reduction == REDUCE_MEAN) gq = mulScalar(gq, 1.0 / <f64>N);
  return column(gq, x);
}

/** −G_i·s·(1 − ε) as a column: how the probability target's row enters q (s = 1/N for 'mean'). */
function targetScale(g: i32, x: i32, reduction: i32, eps: f64): i32 {
  const s = (reduction == REDUCE_MEAN ? 1.0 / <f64>rowsOf(x) : 1.0) * (eps > 0 ? 1 - eps : 1);
  return column(mulScalar(g, -s), x);
}

/** Sums an [N, C] (or [C]) product down to the adjoint g's shape: per row, or everything. */
function toAdjointShape(v: i32, g: i32, x: i32): i32 {
  const all = (1 << rankOf(x)) - 1;
  return numelOf(g) == 1 && rankOf(g) == 0 ? sum(v, all, false) : sum(v, rankOf(x) == 1 ? all : 1 << 1, false);
}

export function vjpLoss(op: i32, r: u32, g: i32): void {
  if (op == Op.ctcLoss) { vjpCtc(r, g); return; }
  const red = <i32>recAttr(r, 0), ignore = <i32>recAttr(r, 1), eps = recAttr(r, 2);
  if (op == Op.crossEntropy) {
    const x = recInput(r, 0), t = recInput(r, 1), st = recInput(r, 2);
    if (needsGrad(x)) accumulate(x, crossEntropyBackward(g, x, t, st, red, ignore, eps));
    // probabilities: ∂/∂t_ic = −G_i·s·(1 − ε)·logp_ic
    if (!isIndexTarget(t) && needsGrad(t)) accumulate(t, mul(softmax(Op.logSoftmax, x, rankOf(x) - 1), targetScale(g, x, red, eps)));
    return;
  }
  if (op != Op.crossEntropyBackward) { fail(E_NO_RULE, op); return; }
  // f(a, x, t) = A_i·(Q_i·p_i − q_i), p = softmax(x): ā = Σ_c u·f(1, x, t) over the loss's shape,
  // x̄ = softmaxBackward(u·A·Q, p), and for probabilities t̄_ik = A_i·s·(1 − ε)·(Σ_c u_ic·p_ic − u_ik)
  const a = recInput(r, 0), x = recInput(r, 1), t = recInput(r, 2), st = recInput(r, 3);
  const axis = rankOf(x) - 1;
  if (needsGrad(a)) accumulate(a, toAdjointShape(mul(g, crossEntropyBackward(scalar(dtypeOf(x), 1), x, t, st, red, ignore, eps)), a, x));
  const wantT = !isIndexTarget(t) && needsGrad(t);
  if (!needsGrad(x) && !wantT) return;
  const p = softmax(Op.softmax, x, axis);
  if (needsGrad(x)) accumulate(x, softmaxBackward(Op.softmaxBackward, mul(g, rowMass(a, x, t, red, ignore, eps)), p, axis));
  if (wantT) accumulate(t, mul(targetScale(a, x, red, eps), sub(g, sum(mul(g, p), 1 << axis, true))));
}

export function jvpLoss(op: i32, r: u32): void {
  if (op == Op.ctcLoss) { jvpCtc(r); return; }
  const red = <i32>recAttr(r, 0), ignore = <i32>recAttr(r, 1), eps = recAttr(r, 2);
  if (op == Op.crossEntropy) {
    const x = recInput(r, 0), t = recInput(r, 1), st = recInput(r, 2), out = recOut(r);
    const tx = tangentOf(x), tt = isIndexTarget(t) ? 0 : tangentOf(t);
    let v = 0;
    if (tx != 0) v = mul(crossEntropyBackward(scalar(dtypeOf(x), 1), x, t, st, red, ignore, eps), tx);
    if (tt != 0) {
      const vt = mul(mul(softmax(Op.logSoftmax, x, rankOf(x) - 1), targetScale(scalar(dtypeOf(x), 1), x, red, eps)), tt);
      v = v == 0 ? vt : add(v, vt);
    }
    if (v != 0) setTangent(out, toAdjointShape(v, out, x));
    return;
  }
  if (op != Op.crossEntropyBackward) { fail(E_NO_RULE, op); return; }
  const a = recInput(r, 0), x = recInput(r, 1), t = recInput(r, 2), st = recInput(r, 3);
  const axis = rankOf(x) - 1;
  const ta = tangentOf(a), tx = tangentOf(x), tt = isIndexTarget(t) ? 0 : tangentOf(t);
  let v = 0;
  if (ta != 0) v = crossEntropyBackward(ta, x, t, st, red, ignore, eps);
  if (tx != 0 || tt != 0) {
    const p = softmax(Op.softmax, x, axis);
    if (tx != 0) {
      const vx = mul(softmaxBackward(Op.softmaxBackward, tx, p, axis), rowMass(a, x, t, red, ignore, eps));
      v = v == 0 ? vx : add(v, vx);
    }
    if (tt != 0) { // A·s·(1 − ε)·(p·Σ_k ṫ_k − ṫ)
      const vt = mul(targetScale(a, x, red, eps), sub(tt, mul(p, sum(tt, 1 << axis, true))));
      v = v == 0 ? vt : add(v, vt);
    }
  }
  setTangent(recOut(r), v);
}
