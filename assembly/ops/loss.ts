// The CTC loss (Graves et al. 2006) as a primitive: the forward-backward algorithm in log space,
// following PyTorch's CPU implementation (aten/src/ATen/native/LossCTC.cpp) step for step.
//
// ctcLoss gives the per-sample negative log-likelihood [N] of log-probabilities [T, N, C] for
// padded int32 targets [N, S] and int32 lengths [N]. Its gradient is PyTorch's formula
//   ∂nll/∂lp[t, n, c] = exp(lp) − exp(log Σ_{s: l'(s) = c} α_t(s)·β_t(s) + nll − lp)
// which (like PyTorch's) takes lp to be log-softmax output: it is the gradient that flows into
// the logits through logSoftmax. It is computed by a second op, ctcLossGrad, which has no
// derivative itself — PyTorch has no double backward for CTC either. The other losses are
// composites on the host (src/ops/loss.ts).

import { Op, DType } from "../core/vocabulary";
import {
  newTensor, releaseTensor, dtypeOf, dataOf, dimOf, needsGrad, fail, E_NO_RULE, E_OOM, MAX_RANK, shapePtr, rankOf,
} from "../core/tensor";
import { alloc, free } from "../core/alloc";
import { shouldRecord1, recordOp, recordInput, recordAttr, recInput, recAttr, recOut, accumulate } from "../engine/tape";
import { tangentOf, setTangent } from "../engine/forward";
import { sum } from "./reduce";
import { mul } from "./elementwise";
import { reshapeTo } from "./shape";

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

export function vjpLoss(op: i32, r: u32, g: i32): void {
  if (op != Op.ctcLoss) { fail(E_NO_RULE, op); return; }
  const lp = recInput(r, 0);
  if (!needsGrad(lp)) return;
  store<i32>(SHAPE3, 1); store<i32>(SHAPE3, rankOf(g) == 1 ? dimOf(g, 0) : 1, 4); store<i32>(SHAPE3, 1, 8);
  accumulate(lp, mul(gradOf(r), reshapeTo(g, 3, SHAPE3)));
}

export function jvpLoss(op: i32, r: u32): void {
  if (op != Op.ctcLoss) { fail(E_NO_RULE, op); return; }
  // nll_n moves by Σ_{t,c} ∂nll_n/∂lp[t, n, c] · lṗ[t, n, c]
  setTangent(recOut(r), sum(mul(gradOf(r), tangentOf(recInput(r, 0))), 0b101, false));
}
