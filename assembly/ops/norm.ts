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
//
// Layer norm has fused ops of its own, over the rows of x's trailing `normDims` dims (inner
// elements each): `layerNorm` (y = x̂·w + b, weight and bias optional), its input gradient
// `layerNormBackward` (J·(w·g)) and its weight gradient `layerNormWeightGrad` (Σ over rows of
// g·x̂). Each row is done while it sits in cache: the mean and rstd are recomputed per row by the
// backward ops rather than saved, in two float64 passes over eight lanes (rowMoments: float32
// rows are widened exactly, so float32 and float64 share the order), and x̂ = (x − mean)·rstd is
// rounded to x's dtype before the affine, so layerNorm(x, w, b) has the bits of
// layerNorm(x)·w + b. The gradients are float64 per element, rounded once; the weight gradient's
// column sums add the rows in order in float64. Their rules are recording ops and the fused ops
// themselves, so Hessians and grad-of-grad work (see the derivation at `secondOrder`).

import { Op, DType } from "../core/vocabulary";
import { newLike, newTensor, releaseTensor, dtypeOf, dataOf, numelOf, rankOf, dimOf, shapePtr, needsGrad, fail, E_NO_RULE, E_OOM } from "../core/tensor";
import { alloc, free } from "../core/alloc";
import { shouldRecord1, shouldRecord2, recordTarget, recordOp, recordInput, recordAttr, recInput, recAttr, recOut, accumulate } from "../engine/tape";
import { captureBegin, captureInput, captureAttr } from "../engine/accelerate";
import { tangentOf, setTangent, sameShape } from "../engine/forward";
import { sum, sumTo } from "./reduce";
import { unary, mul, sub, add, neg, mulScalar, addScalar } from "./elementwise";
import { reshapeTo, reshapeLike, expandLike } from "./shape";

const OUTER_AND_INNER = 0b101; // dims 0 and 2 of the [a, b, c] view
const VIEW3 = memory.data(12);

/** Two elements at p as f64x2 (float32 widened exactly). */
@inline function load2<T>(p: usize): v128 {
  if (sizeof<T>() == 4) return f64x2.promote_low_f32x4(v128.load64_zero(p));
  return v128.load(p);
}

/** Two f64 lanes stored at p as T (float32 rounded to nearest). */
@inline function store2<T>(p: usize, v: v128): void {
  if (sizeof<T>() == 4) v128.store64_lane(p, f32x4.demote_f64x2_zero(v), 0);
  else v128.store(p, v);
}

@inline function sumLanes(v: v128): f64 { return f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1); }
@inline function elementAt<T>(p: usize, i: i32): f64 { return <f64>load<T>(p + <usize>i * sizeof<T>()); }

/** Σ of n contiguous elements, accumulated in float64 two lanes at a time. */
function runSum<T>(p: usize, n: i32): f64 {
  let acc = f64x2.splat(0);
  let i = 0;
  for (; i + 2 <= n; i += 2) acc = f64x2.add(acc, load2<T>(p + <usize>i * sizeof<T>()));
  let s = sumLanes(acc);
  for (; i < n; i++) s += elementAt<T>(p, i);
  return s;
}

/** Σ (x − mean)² over n contiguous elements, in float64. */
function runSquaredDeviation<T>(p: usize, n: i32, mean: f64): f64 {
  const m = f64x2.splat(mean);
  let acc = f64x2.splat(0);
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const d = f64x2.sub(load2<T>(p + <usize>i * sizeof<T>()), m);
    acc = f64x2.add(acc, f64x2.mul(d, d));
  }
  let s = sumLanes(acc);
  for (; i < n; i++) { const d = elementAt<T>(p, i) - mean; s += d * d; }
  return s;
}

/** out = (x − mean)·rstd over n contiguous elements, computed in float64. */
function runStandardise<T>(p: usize, q: usize, n: i32, mean: f64, rstd: f64): void {
  const m = f64x2.splat(mean), r = f64x2.splat(rstd);
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const o = <usize>i * sizeof<T>();
    store2<T>(q + o, f64x2.mul(f64x2.sub(load2<T>(p + o), m), r));
  }
  for (; i < n; i++) store<T>(q + <usize>i * sizeof<T>(), <T>((elementAt<T>(p, i) - mean) * rstd));
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

// ————————————————————————————————————————————————————————— layer norm

const HAS_WEIGHT = 1, HAS_BIAS = 2; // the `affine` attribute: which of weight and bias follow x
// Stand-ins for a missing weight (1) or bias (−0, which leaves every value, −0 included, as it
// is), read through an address mask of 0 so that one loop serves every case.
const ONES_F32 = memory.data<f32>([1, 1, 1, 1]);
const ONES_F64 = memory.data<f64>([1, 1]);
const NEG_ZEROS_F32 = memory.data<u32>([0x80000000, 0x80000000, 0x80000000, 0x80000000]);
const NEG_ZEROS_F64 = memory.data<u64>([0x8000000000000000, 0x8000000000000000]);

/** The element count of x's trailing `normDims` dims: one layer-norm row. */
function rowSize(x: i32, normDims: i32): i32 {
  let n = 1;
  for (let k = rankOf(x) - normDims; k < rankOf(x); k++) n *= dimOf(x, k);
  return n;
}

@inline function rowCount(x: i32, inner: i32): i32 { return inner == 0 ? 0 : numelOf(x) / inner; }

/** A per-row operand's data, or a stand-in block read with an address mask of 0. */
@inline function rowOperand(id: i32, standIn: usize): usize { return id != 0 ? dataOf(id) : standIn; }
@inline function rowMask(id: i32): usize { return id != 0 ? <usize>-1 : 0; }

/** y = <T>x̂·w + b over a float32 row, four at a time (x̂ rounded to float32 first). */
function runAffineF32(p: usize, pw: usize, wMask: usize, pb: usize, bMask: usize, q: usize, n: i32, mean: f64, rstd: f64): void {
  const m = f64x2.splat(mean), r = f64x2.splat(rstd);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(p + o);
    const lo = f32x4.demote_f64x2_zero(f64x2.mul(f64x2.sub(f64x2.promote_low_f32x4(v), m), r));
    const hi = f32x4.demote_f64x2_zero(f64x2.mul(f64x2.sub(f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3)), m), r));
    const xh = v128.shuffle<f32>(lo, hi, 0, 1, 4, 5);
    v128.store(q + o, f32x4.add(f32x4.mul(xh, v128.load(pw + (o & wMask))), v128.load(pb + (o & bMask))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const xh = <f32>((<f64>load<f32>(p + o) - mean) * rstd);
    store<f32>(q + o, xh * load<f32>(pw + (o & wMask)) + load<f32>(pb + (o & bMask)));
  }
}

/** y = x̂·w + b over a float64 row. */
function runAffineF64(p: usize, pw: usize, wMask: usize, pb: usize, bMask: usize, q: usize, n: i32, mean: f64, rstd: f64): void {
  const m = f64x2.splat(mean), r = f64x2.splat(rstd);
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const o = <usize>i << 3;
    const xh = f64x2.mul(f64x2.sub(v128.load(p + o), m), r);
    v128.store(q + o, f64x2.add(f64x2.mul(xh, v128.load(pw + (o & wMask))), v128.load(pb + (o & bMask))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 3;
    store<f64>(q + o, (load<f64>(p + o) - mean) * rstd * load<f64>(pw + (o & wMask)) + load<f64>(pb + (o & bMask)));
  }
}

// A row's statistics in float64 over eight lanes (four f64x2 accumulators, so the passes are not
// bound by the latency of one add chain): element i goes to lane i mod 8 up to the last multiple
// of 8, the lanes are added pairwise ((0+1)+(2+3) per half, then the halves), then the rest in
// order. Set by rowMoments.
let rowMean: f64 = 0;
let rowRstd: f64 = 0;

@inline function sumWide(a0: v128, a1: v128, a2: v128, a3: v128): f64 { return sumLanes(f64x2.add(f64x2.add(a0, a1), f64x2.add(a2, a3))); }

function rowSum<T>(p: usize, n: i32): f64 {
  const step = <usize>2 * sizeof<T>();
  let a0 = f64x2.splat(0), a1 = a0, a2 = a0, a3 = a0;
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const q = p + <usize>i * sizeof<T>();
    a0 = f64x2.add(a0, load2<T>(q)); a1 = f64x2.add(a1, load2<T>(q + step));
    a2 = f64x2.add(a2, load2<T>(q + 2 * step)); a3 = f64x2.add(a3, load2<T>(q + 3 * step));
  }
  let s = sumWide(a0, a1, a2, a3);
  for (; i < n; i++) s += elementAt<T>(p, i);
  return s;
}

@inline function squareFrom(v: v128, m: v128): v128 { const d = f64x2.sub(v, m); return f64x2.mul(d, d); }

function rowSquaredDeviation<T>(p: usize, n: i32, mean: f64): f64 {
  const step = <usize>2 * sizeof<T>(), m = f64x2.splat(mean);
  let a0 = f64x2.splat(0), a1 = a0, a2 = a0, a3 = a0;
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const q = p + <usize>i * sizeof<T>();
    a0 = f64x2.add(a0, squareFrom(load2<T>(q), m)); a1 = f64x2.add(a1, squareFrom(load2<T>(q + step), m));
    a2 = f64x2.add(a2, squareFrom(load2<T>(q + 2 * step), m)); a3 = f64x2.add(a3, squareFrom(load2<T>(q + 3 * step), m));
  }
  let s = sumWide(a0, a1, a2, a3);
  for (; i < n; i++) { const d = elementAt<T>(p, i) - mean; s += d * d; }
  return s;
}

function rowMoments<T>(p: usize, n: i32, eps: f64): void {
  rowMean = rowSum<T>(p, n) / <f64>n;
  rowRstd = 1.0 / Math.sqrt(rowSquaredDeviation<T>(p, n, rowMean) / <f64>n + eps);
}

function layerNormKernel<T>(x: i32, weight: i32, bias: i32, out: i32, rows: i32, inner: i32, eps: f64): void {
  const f32 = sizeof<T>() == 4;
  const pw = rowOperand(weight, f32 ? ONES_F32 : ONES_F64), wMask = rowMask(weight);
  const pb = rowOperand(bias, f32 ? NEG_ZEROS_F32 : NEG_ZEROS_F64), bMask = rowMask(bias);
  const rowBytes = <usize>inner * sizeof<T>();
  for (let j = 0; j < rows; j++) {
    const p = dataOf(x) + <usize>j * rowBytes, q = dataOf(out) + <usize>j * rowBytes;
    rowMoments<T>(p, inner, eps);
    if (f32) runAffineF32(p, pw, wMask, pb, bMask, q, inner, rowMean, rowRstd);
    else runAffineF64(p, pw, wMask, pb, bMask, q, inner, rowMean, rowRstd);
  }
}

/**
 * Layer norm of x over its trailing `normDims` dims: each row standardised (biased variance, eps
 * as PyTorch), then times weight and plus bias, which have those dims' shape; either may be 0
 * (absent). The output has x's shape.
 */
export function layerNorm(x: i32, weight: i32, bias: i32, normDims: i32, eps: f64): i32 {
  if (x == 0) return 0;
  const dt = dtypeOf(x);
  const out = newLike(x, dt);
  if (out == 0) return 0;
  const inner = rowSize(x, normDims), rows = rowCount(x, inner);
  if (dt == DType.float32) layerNormKernel<f32>(x, weight, bias, out, rows, inner, eps);
  else layerNormKernel<f64>(x, weight, bias, out, rows, inner, eps);
  const wanted = needsGrad(x) || (weight != 0 && needsGrad(weight)) || (bias != 0 && needsGrad(bias));
  if (recordOp(recordTarget(wanted), Op.layerNorm, out)) {
    recordInput(x);
    if (weight != 0) recordInput(weight);
    if (bias != 0) recordInput(bias);
    recordAttr(<f64>normDims); recordAttr(eps); recordAttr(<f64>((weight != 0 ? HAS_WEIGHT : 0) | (bias != 0 ? HAS_BIAS : 0)));
  }
  return out;
}

/**
 * One row of layer norm's input gradient, in float64: with u = g·w,
 * dx = rstd·(u − mean(u) − x̂·mean(u·x̂)). Two passes; u and x̂ are recomputed in the second.
 */
function runLayerNormBackward<T>(pg: usize, px: usize, pw: usize, wMask: usize, q: usize, n: i32, mean: f64, rstd: f64): void {
  const m = f64x2.splat(mean), r = f64x2.splat(rstd);
  let su = f64x2.splat(0), sux = su;
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const o = <usize>i * sizeof<T>();
    const u = f64x2.mul(load2<T>(pg + o), load2<T>(pw + (o & wMask)));
    su = f64x2.add(su, u);
    sux = f64x2.add(sux, f64x2.mul(u, f64x2.mul(f64x2.sub(load2<T>(px + o), m), r)));
  }
  let sumU = sumLanes(su), sumUX = sumLanes(sux);
  for (let k = i; k < n; k++) {
    const o = <usize>k * sizeof<T>();
    const u = <f64>load<T>(pg + o) * <f64>load<T>(pw + (o & wMask));
    sumU += u;
    sumUX += u * ((<f64>load<T>(px + o) - mean) * rstd);
  }
  const meanU = sumU / <f64>n, meanUX = sumUX / <f64>n;
  const a = f64x2.splat(meanU), b = f64x2.splat(meanUX);
  i = 0;
  for (; i + 2 <= n; i += 2) {
    const o = <usize>i * sizeof<T>();
    const u = f64x2.mul(load2<T>(pg + o), load2<T>(pw + (o & wMask)));
    const xh = f64x2.mul(f64x2.sub(load2<T>(px + o), m), r);
    store2<T>(q + o, f64x2.mul(r, f64x2.sub(f64x2.sub(u, a), f64x2.mul(xh, b))));
  }
  for (; i < n; i++) {
    const o = <usize>i * sizeof<T>();
    const u = <f64>load<T>(pg + o) * <f64>load<T>(pw + (o & wMask));
    const xh = (<f64>load<T>(px + o) - mean) * rstd;
    store<T>(q + o, <T>(rstd * ((u - meanU) - xh * meanUX)));
  }
}

function layerNormBackwardKernel<T>(g: i32, x: i32, weight: i32, out: i32, rows: i32, inner: i32, eps: f64): void {
  const pw = rowOperand(weight, sizeof<T>() == 4 ? ONES_F32 : ONES_F64), wMask = rowMask(weight);
  const rowBytes = <usize>inner * sizeof<T>();
  for (let j = 0; j < rows; j++) {
    const at = <usize>j * rowBytes;
    rowMoments<T>(dataOf(x) + at, inner, eps);
    runLayerNormBackward<T>(dataOf(g) + at, dataOf(x) + at, pw, wMask, dataOf(out) + at, inner, rowMean, rowRstd);
  }
}

/**
 * Layer norm's input gradient J·(w·g) for the adjoint g (x's shape), x and the weight (0: none);
 * J is the symmetric Jacobian of x̂ in x. The output has x's shape.
 */
export function layerNormBackward(g: i32, x: i32, weight: i32, normDims: i32, eps: f64): i32 {
  if (g == 0 || x == 0) return 0;
  const dt = dtypeOf(x);
  const out = newLike(x, dt);
  if (out == 0) return 0;
  const inner = rowSize(x, normDims), rows = rowCount(x, inner);
  if (dt == DType.float32) layerNormBackwardKernel<f32>(g, x, weight, out, rows, inner, eps);
  else layerNormBackwardKernel<f64>(g, x, weight, out, rows, inner, eps);
  const wanted = needsGrad(g) || needsGrad(x) || (weight != 0 && needsGrad(weight));
  if (recordOp(recordTarget(wanted), Op.layerNormBackward, out)) {
    recordInput(g); recordInput(x);
    if (weight != 0) recordInput(weight);
    recordAttr(<f64>normDims); recordAttr(eps); recordAttr(weight != 0 ? HAS_WEIGHT : 0);
  }
  return out;
}

function layerNormWeightGradKernel<T>(g: i32, x: i32, out: i32, rows: i32, inner: i32, eps: f64, acc: usize): void {
  memory.fill(acc, 0, <usize>inner << 3);
  const rowBytes = <usize>inner * sizeof<T>();
  for (let j = 0; j < rows; j++) {
    const pg = dataOf(g) + <usize>j * rowBytes, px = dataOf(x) + <usize>j * rowBytes;
    rowMoments<T>(px, inner, eps);
    const m = f64x2.splat(rowMean), r = f64x2.splat(rowRstd);
    let i = 0;
    for (; i + 2 <= inner; i += 2) {
      const o = <usize>i * sizeof<T>(), pa = acc + (<usize>i << 3);
      const xh = f64x2.mul(f64x2.sub(load2<T>(px + o), m), r);
      v128.store(pa, f64x2.add(v128.load(pa), f64x2.mul(load2<T>(pg + o), xh)));
    }
    for (; i < inner; i++) {
      const pa = acc + (<usize>i << 3);
      store<f64>(pa, load<f64>(pa) + elementAt<T>(pg, i) * ((elementAt<T>(px, i) - rowMean) * rowRstd));
    }
  }
  for (let i = 0; i < inner; i++) store<T>(dataOf(out) + <usize>i * sizeof<T>(), <T>load<f64>(acc + (<usize>i << 3)));
}

/**
 * Layer norm's weight gradient Σ over the rows of g·x̂, shaped as x's trailing `normDims` dims
 * (the weight's shape): the rows are added in order, in float64, and rounded once.
 */
export function layerNormWeightGrad(g: i32, x: i32, normDims: i32, eps: f64): i32 {
  if (g == 0 || x == 0) return 0;
  const dt = dtypeOf(x);
  const out = newTensor(dt, normDims, shapePtr(x) + (<u32>(rankOf(x) - normDims) << 2));
  if (out == 0) return 0;
  const inner = rowSize(x, normDims), rows = rowCount(x, inner);
  const acc = alloc(<u32>max(inner, 1) << 3);
  if (acc == 0) { releaseTensor(out); fail(E_OOM, Op.layerNormWeightGrad); return 0; }
  if (dt == DType.float32) layerNormWeightGradKernel<f32>(g, x, out, rows, inner, eps, acc);
  else layerNormWeightGradKernel<f64>(g, x, out, rows, inner, eps, acc);
  free(acc);
  if (recordOp(shouldRecord2(g, x), Op.layerNormWeightGrad, out)) {
    recordInput(g); recordInput(x); recordAttr(<f64>normDims); recordAttr(eps);
  }
  return out;
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

// Layer norm's rules. Per row of N elements, with means ⟨·⟩ over the row and J the symmetric
// Jacobian of x̂ in x, J·v = rstd·(v − ⟨v⟩ − x̂⟨v·x̂⟩) = layerNormBackward(v, x, none):
//   layerNorm           y = x̂·w + b        x̄ = J(w·g), w̄ = Σrows g·x̂, b̄ = Σrows g
//   layerNormBackward   d = J·u, u = w·g   ḡ = w·(J·v), w̄ = Σrows g·(J·v), x̄ = S(u, v)
//   layerNormWeightGrad s = Σrows g·x̂      ḡ = v·x̂, x̄ = J(g·v)
// d = ∇ₓ(u·x̂), so ∂d/∂x is a Hessian, symmetric: the same S gives the VJP (v the adjoint) and
// the JVP (v = ẋ). Differentiating ⟨v·d⟩/N = rstd(⟨vu⟩ − ⟨u⟩⟨v⟩ − ⟨ux̂⟩⟨vx̂⟩) with
// ∂rstd/∂x = −rstd²x̂/N and ∂⟨ux̂⟩/∂x = J·u/N gives S(u, v) = −rstd·(x̂⟨v·d⟩ + ⟨v·x̂⟩·d + ⟨u·x̂⟩·J·v).

const ROW_AXIS = 0b10; // dim 1 of the [rows, inner] view
const VIEW2 = memory.data(8);

@inline function normDimsOf(r: u32): i32 { return <i32>recAttr(r, 0); }
@inline function epsOf(r: u32): f64 { return recAttr(r, 1); }
@inline function affineOf(r: u32): i32 { return <i32>recAttr(r, 2); }
/** The record's weight, input k when present (after x, or after g and x), or 0. */
@inline function weightOf(r: u32, k: i32): i32 { return (affineOf(r) & HAS_WEIGHT) != 0 ? recInput(r, k) : 0; }
/** layerNorm's bias: after x and the weight when present, or 0. */
@inline function biasOf(r: u32): i32 { return (affineOf(r) & HAS_BIAS) != 0 ? recInput(r, (affineOf(r) & HAS_WEIGHT) != 0 ? 2 : 1) : 0; }

/** t viewed as [rows, inner] for layer norm's rows of x. */
function rowsView(t: i32, x: i32, normDims: i32): i32 {
  const inner = rowSize(x, normDims);
  store<i32>(VIEW2, rowCount(x, inner));
  store<i32>(VIEW2, inner, 4);
  return reshapeTo(t, 2, VIEW2);
}

/** ⟨t⟩ per row of a [rows, inner] view, kept as [rows, 1]. */
function rowMeans(t: i32): i32 { return mulScalar(sum(t, ROW_AXIS, true), 1.0 / <f64>dimOf(t, 1)); }

@inline function addParts(a: i32, b: i32): i32 { return a == 0 ? b : b == 0 ? a : add(a, b); }
@inline function times(a: i32, w: i32): i32 { return w == 0 ? a : mul(a, w); }
/** A tangent or adjoint given in another shape, broadcast to like's (the fused kernels need it). */
@inline function fullLike(t: i32, like: i32): i32 { return t == 0 || sameShape(t, like) ? t : expandLike(t, like); }

/** J·v in x's shape: the fused op with no weight. */
@inline function jacobianTimes(v: i32, x: i32, normDims: i32, eps: f64): i32 {
  return layerNormBackward(fullLike(v, x), x, 0, normDims, eps);
}

/** S(u, v) above, in recording ops, given d = J·u and e = J·v: ∂(J·u)/∂x applied to v. */
function secondOrder(x: i32, u: i32, v: i32, d: i32, e: i32, normDims: i32, eps: f64): i32 {
  const xs = rowsView(x, x, normDims);
  const centred = sub(xs, rowMeans(xs));
  const rstd = unary(Op.rsqrt, addScalar(rowMeans(unary(Op.square, centred)), eps));
  const xh = mul(centred, rstd);
  const us = rowsView(u, x, normDims), vs = rowsView(v, x, normDims);
  const ds = rowsView(d, x, normDims), es = rowsView(e, x, normDims);
  const terms = add(add(mul(xh, rowMeans(mul(vs, ds))), mul(rowMeans(mul(vs, xh)), ds)), mul(rowMeans(mul(us, xh)), es));
  return reshapeLike(neg(mul(rstd, terms)), x);
}

function vjpLayerNorm(op: i32, r: u32, g: i32): void {
  const normDims = normDimsOf(r), eps = epsOf(r);
  if (op == Op.layerNorm) {
    const x = recInput(r, 0), w = weightOf(r, 1), b = biasOf(r);
    if (needsGrad(x)) accumulate(x, layerNormBackward(g, x, w, normDims, eps));
    if (w != 0 && needsGrad(w)) accumulate(w, layerNormWeightGrad(g, x, normDims, eps));
    if (b != 0 && needsGrad(b)) accumulate(b, sumTo(g, b));
  } else if (op == Op.layerNormBackward) {
    const a = recInput(r, 0), x = recInput(r, 1), w = weightOf(r, 2);
    const e = jacobianTimes(g, x, normDims, eps);
    if (needsGrad(a)) accumulate(a, times(e, w));
    if (w != 0 && needsGrad(w)) accumulate(w, sumTo(mul(a, e), w));
    if (needsGrad(x)) accumulate(x, secondOrder(x, times(a, w), g, recOut(r), e, normDims, eps));
  } else { // layerNormWeightGrad
    const a = recInput(r, 0), x = recInput(r, 1);
    if (needsGrad(a)) accumulate(a, mul(layerNorm(x, 0, 0, normDims, eps), g));
    if (needsGrad(x)) accumulate(x, layerNormBackward(a, x, g, normDims, eps));
  }
}

function jvpLayerNorm(op: i32, r: u32): void {
  const normDims = normDimsOf(r), eps = epsOf(r), out = recOut(r);
  let t = 0;
  if (op == Op.layerNorm) {
    const x = recInput(r, 0), w = weightOf(r, 1), b = biasOf(r);
    const tx = tangentOf(x), tw = w != 0 ? tangentOf(w) : 0, tb = b != 0 ? tangentOf(b) : 0;
    if (tx != 0) t = times(jacobianTimes(tx, x, normDims, eps), w);
    if (tw != 0) t = addParts(t, mul(layerNorm(x, 0, 0, normDims, eps), tw));
    if (tb != 0) t = addParts(t, tb);
  } else if (op == Op.layerNormBackward) {
    const a = recInput(r, 0), x = recInput(r, 1), w = weightOf(r, 2);
    const ta = tangentOf(a), tx = tangentOf(x), tw = w != 0 ? tangentOf(w) : 0;
    if (ta != 0) t = layerNormBackward(fullLike(ta, x), x, w, normDims, eps);
    if (tw != 0) t = addParts(t, jacobianTimes(mul(a, tw), x, normDims, eps));
    if (tx != 0) t = addParts(t, secondOrder(x, times(a, w), tx, out, jacobianTimes(tx, x, normDims, eps), normDims, eps));
  } else { // layerNormWeightGrad
    const a = recInput(r, 0), x = recInput(r, 1), ta = tangentOf(a), tx = tangentOf(x);
    if (ta != 0) t = layerNormWeightGrad(fullLike(ta, x), x, normDims, eps);
    if (tx != 0) t = addParts(t, sumTo(mul(a, jacobianTimes(tx, x, normDims, eps)), out));
  }
  setTangent(out, fullLike(t, out));
}

@inline function isLayerNormOp(op: i32): bool {
  return op == Op.layerNorm || op == Op.layerNormBackward || op == Op.layerNormWeightGrad;
}

export function vjpNorm(op: i32, r: u32, g: i32): void {
  if (isLayerNormOp(op)) { vjpLayerNorm(op, r, g); return; }
  if (op != Op.normalize) { fail(E_NO_RULE, op); return; }
  const x = recInput(r, 0);
  if (needsGrad(x)) accumulate(x, normalizeLinear(r, g));
}

export function jvpNorm(op: i32, r: u32): void {
  if (isLayerNormOp(op)) { jvpLayerNorm(op, r); return; }
  if (op != Op.normalize) { fail(E_NO_RULE, op); return; }
  setTangent(recOut(r), normalizeLinear(r, tangentOf(recInput(r, 0))));
}
