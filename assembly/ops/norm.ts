// Normalisation: one fused primitive, `normalize`, that standardises x viewed as [a, b, c] over
// dims 0 and 2 — (x − mean) / sqrt(biased var + eps) for each of the b groups. Batch norm (a = N,
// b = C, c = spatial), layer norm (a = 1, b = rows, c = normalised size), group and instance norm
// (a = 1, b = N·groups, c = the rest) are all this op plus a per-channel affine on the host.
// `runningStatsUpdate` moves batch/instance norm's running mean and variance in place (state,
// never recorded).
//
// The Jacobian of normalisation is symmetric, J = rstd·(I − 1/M − x̂x̂ᵀ/M) per group of M
// elements, so the VJP and the JVP are one linear map, written with recording ops (rstd is
// recomputed from x with them) so that second derivatives work.

import { Op, DType } from "../core/vocabulary";
import { newLike, dtypeOf, dataOf, numelOf, needsGrad, fail, E_NO_RULE, E_OOM } from "../core/tensor";
import { alloc, free } from "../core/alloc";
import { shouldRecord1, recordOp, recordInput, recordAttr, recInput, recAttr, recOut, accumulate } from "../engine/tape";
import { captureBegin, captureInput, captureAttr } from "../engine/accelerate";
import { tangentOf, setTangent } from "../engine/forward";
import { sum } from "./reduce";
import { unary, mul, sub, mulScalar, addScalar } from "./elementwise";
import { reshapeTo, reshapeLike } from "./shape";

const OUTER_AND_INNER = 0b101; // dims 0 and 2 of the [a, b, c] view
const VIEW3 = memory.data(12);

/** Σ of n contiguous elements, accumulated in float64 two lanes at a time. */
function runSum<T>(p: usize, n: i32): f64 {
  let acc = f64x2.splat(0);
  let i = 0;
  if (sizeof<T>() == 4) {
    for (; i + 2 <= n; i += 2) acc = f64x2.add(acc, f64x2.promote_low_f32x4(v128.load64_zero(p + (<usize>i << 2))));
  } else {
    for (; i + 2 <= n; i += 2) acc = f64x2.add(acc, v128.load(p + (<usize>i << 3)));
  }
  let s = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
  for (; i < n; i++) s += <f64>load<T>(p + <usize>i * sizeof<T>());
  return s;
}

/** Σ (x − mean)² over n contiguous elements, in float64. */
function runSquaredDeviation<T>(p: usize, n: i32, mean: f64): f64 {
  const m = f64x2.splat(mean);
  let acc = f64x2.splat(0);
  let i = 0;
  if (sizeof<T>() == 4) {
    for (; i + 2 <= n; i += 2) {
      const d = f64x2.sub(f64x2.promote_low_f32x4(v128.load64_zero(p + (<usize>i << 2))), m);
      acc = f64x2.add(acc, f64x2.mul(d, d));
    }
  } else {
    for (; i + 2 <= n; i += 2) {
      const d = f64x2.sub(v128.load(p + (<usize>i << 3)), m);
      acc = f64x2.add(acc, f64x2.mul(d, d));
    }
  }
  let s = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
  for (; i < n; i++) { const d = <f64>load<T>(p + <usize>i * sizeof<T>()) - mean; s += d * d; }
  return s;
}

/** out = (x − mean)·rstd over n contiguous elements, computed in float64. */
function runStandardise<T>(p: usize, q: usize, n: i32, mean: f64, rstd: f64): void {
  const m = f64x2.splat(mean), r = f64x2.splat(rstd);
  let i = 0;
  if (sizeof<T>() == 4) {
    for (; i + 2 <= n; i += 2) {
      const y = f64x2.mul(f64x2.sub(f64x2.promote_low_f32x4(v128.load64_zero(p + (<usize>i << 2))), m), r);
      v128.store64_lane(q + (<usize>i << 2), f32x4.demote_f64x2_zero(y), 0);
    }
  } else {
    for (; i + 2 <= n; i += 2) v128.store(q + (<usize>i << 3), f64x2.mul(f64x2.sub(v128.load(p + (<usize>i << 3)), m), r));
  }
  for (; i < n; i++) {
    store<T>(q + <usize>i * sizeof<T>(), <T>((<f64>load<T>(p + <usize>i * sizeof<T>()) - mean) * rstd));
  }
}

@inline function runAddress<T>(base: usize, i: i32, j: i32, b: i32, c: i32): usize {
  return base + (<usize>i * <usize>b + <usize>j) * <usize>c * sizeof<T>();
}

/** The biased mean and variance of group j (two passes, float64 accumulators). */
@inline function groupMean<T>(px: usize, j: i32, a: i32, b: i32, c: i32): f64 {
  let s: f64 = 0;
  for (let i = 0; i < a; i++) s += runSum<T>(runAddress<T>(px, i, j, b, c), c);
  return s / (<f64>a * <f64>c);
}
@inline function groupVariance<T>(px: usize, j: i32, a: i32, b: i32, c: i32, mean: f64): f64 {
  let s: f64 = 0;
  for (let i = 0; i < a; i++) s += runSquaredDeviation<T>(runAddress<T>(px, i, j, b, c), c, mean);
  return s / (<f64>a * <f64>c);
}

function normalizeKernel<T>(px: usize, po: usize, a: i32, b: i32, c: i32, eps: f64): void {
  for (let j = 0; j < b; j++) {
    const mean = groupMean<T>(px, j, a, b, c);
    const rstd = 1.0 / Math.sqrt(groupVariance<T>(px, j, a, b, c, mean) + eps);
    for (let i = 0; i < a; i++) {
      runStandardise<T>(runAddress<T>(px, i, j, b, c), runAddress<T>(po, i, j, b, c), c, mean, rstd);
    }
  }
}

/**
 * x (any shape with a·b·c elements, float) standardised over dims 0 and 2 of its [a, b, c]
 * view, with the biased variance and `eps` as PyTorch's norms. The output has x's shape.
 */
export function normalize(x: i32, a: i32, b: i32, c: i32, eps: f64): i32 {
  if (x == 0) return 0;
  const dt = dtypeOf(x);
  const out = newLike(x, dt);
  if (out == 0) return 0;
  if (dt == DType.float32) normalizeKernel<f32>(dataOf(x), dataOf(out), a, b, c, eps);
  else normalizeKernel<f64>(dataOf(x), dataOf(out), a, b, c, eps);
  if (recordOp(shouldRecord1(x), Op.normalize, out)) {
    recordInput(x); recordAttr(<f64>a); recordAttr(<f64>b); recordAttr(<f64>c); recordAttr(eps);
  }
  return out;
}

function runningUpdateKernel<T>(px: usize, a: i32, b: i32, c: i32, pm: usize, pv: usize, channels: i32, momentum: f64, acc: usize): void {
  const count = <f64>a * <f64>c;
  // acc[k] and acc[channels + k]: the batch mean and unbiased variance of channel k, averaged
  // over the b / channels groups that share it (instance norm); one group each for batch norm.
  memory.fill(acc, 0, <usize>channels << 4);
  for (let j = 0; j < b; j++) {
    const mean = groupMean<T>(px, j, a, b, c);
    const k = j % channels;
    const pa = acc + (<usize>k << 3);
    store<f64>(pa, load<f64>(pa) + mean);
    const pb = pa + (<usize>channels << 3);
    store<f64>(pb, load<f64>(pb) + groupVariance<T>(px, j, a, b, c, mean) * count / (count - 1));
  }
  const reps = <f64>(b / channels);
  for (let k = 0; k < channels; k++) {
    const o = <usize>k * sizeof<T>();
    if (pm != 0) {
      const m = load<f64>(acc + (<usize>k << 3)) / reps;
      store<T>(pm + o, <T>((1 - momentum) * <f64>load<T>(pm + o) + momentum * m));
    }
    if (pv != 0) {
      const v = load<f64>(acc + (<usize>(channels + k) << 3)) / reps;
      store<T>(pv + o, <T>((1 - momentum) * <f64>load<T>(pv + o) + momentum * v));
    }
  }
}

/**
 * Updates running statistics in place from x's [a, b, c] view: running = (1 − momentum)·running
 * + momentum·stat, with the batch mean and the UNBIASED batch variance (PyTorch). Group j feeds
 * channel j mod (running length), averaged over its repeats. Either id may be 0. Not recorded.
 */
export function runningStatsUpdate(x: i32, a: i32, b: i32, c: i32, runningMean: i32, runningVar: i32, momentum: f64): void {
  if (x == 0) return;
  const channels = numelOf(runningMean != 0 ? runningMean : runningVar);
  if (channels == 0) return;
  // In place on the running tensors: a program repeats it (inputs x, then the updated tensors).
  if (captureBegin(Op.runningStats, runningMean != 0 ? runningMean : runningVar)) {
    captureInput(x);
    if (runningMean != 0) captureInput(runningMean);
    if (runningVar != 0) captureInput(runningVar);
    captureAttr(<f64>a); captureAttr(<f64>b); captureAttr(<f64>c); captureAttr(momentum);
    captureAttr(runningMean != 0 ? 1 : 0); captureAttr(runningVar != 0 ? 1 : 0);
  }
  const acc = alloc(<u32>channels << 4);
  if (acc == 0) { fail(E_OOM, Op.normalize); return; }
  const pm = runningMean != 0 ? dataOf(runningMean) : 0;
  const pv = runningVar != 0 ? dataOf(runningVar) : 0;
  if (dtypeOf(x) == DType.float32) runningUpdateKernel<f32>(dataOf(x), a, b, c, pm, pv, channels, momentum, acc);
  else runningUpdateKernel<f64>(dataOf(x), a, b, c, pm, pv, channels, momentum, acc);
  free(acc);
}

// ————————————————————————————————————————————————————————— derivative rules

/** J·v = rstd·(v − mean(v) − x̂·mean(v·x̂)) per group: the VJP (v = g) and the JVP (v = ẋ) alike. */
function normalizeLinear(r: u32, v: i32): i32 {
  const x = recInput(r, 0), out = recOut(r);
  store<i32>(VIEW3, <i32>recAttr(r, 0));
  store<i32>(VIEW3, <i32>recAttr(r, 1), 4);
  store<i32>(VIEW3, <i32>recAttr(r, 2), 8);
  const eps = recAttr(r, 3);
  const invCount = 1.0 / (recAttr(r, 0) * recAttr(r, 2));
  const xs = reshapeTo(x, 3, VIEW3), ys = reshapeTo(out, 3, VIEW3), vs = reshapeTo(v, 3, VIEW3);
  const centred = sub(xs, mulScalar(sum(xs, OUTER_AND_INNER, true), invCount));
  const variance = mulScalar(sum(unary(Op.square, centred), OUTER_AND_INNER, true), invCount);
  const rstd = unary(Op.rsqrt, addScalar(variance, eps));
  const meanV = mulScalar(sum(vs, OUTER_AND_INNER, true), invCount);
  const meanVY = mulScalar(sum(mul(vs, ys), OUTER_AND_INNER, true), invCount);
  return reshapeLike(mul(rstd, sub(sub(vs, meanV), mul(ys, meanVY))), x);
}

export function vjpNorm(op: i32, r: u32, g: i32): void {
  if (op != Op.normalize) { fail(E_NO_RULE, op); return; }
  const x = recInput(r, 0);
  if (needsGrad(x)) accumulate(x, normalizeLinear(r, g));
}

export function jvpNorm(op: i32, r: u32): void {
  if (op != Op.normalize) { fail(E_NO_RULE, op); return; }
  setTangent(recOut(r), normalizeLinear(r, tangentOf(recInput(r, 0))));
}
