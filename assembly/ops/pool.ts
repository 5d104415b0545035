// Pooling: max pooling as a gather at argmax indices, average pooling (fixed and adaptive
// windows) — kernels, recording ops, VJP and JVP rules.
//
// A tensor is seen as `planes` contiguous planes (N·C of them); a plane is H·W (or L) values.
// Max pooling finds, per window, the flat in-plane index of its maximum (PyTorch's scan: the
// first maximal element in row-major window order, a NaN wins), then its values are
// poolGather(x, indices). The pairs of ops are each other's adjoints:
//   poolGather(x, idx)   ↔ poolScatter(ȳ, idx)    (max pooling's gradient, maxUnpool)
//   avgPool(x)           ↔ avgPoolAdjoint(ȳ)
// so rules of every order close over these four linear ops.

import { Op, DType } from "../core/vocabulary";
import {
  newTensor, releaseTensor, dtypeOf, dataOf, numelOf, needsGrad, shapePtr, rankOf, dimOf, MAX_RANK, fail,
  E_NO_RULE,
} from "../core/tensor";
import { shouldRecord1, recordOp, recordInput, recordAttr, recInput, recAttr, recOut, accumulate } from "../engine/tape";
import { captureBegin, captureInput, captureAttr } from "../engine/accelerate";
import { tangentOf, setTangent, flushJvp } from "../engine/forward";
import { MAX_POOL_GEO_WORDS } from "../core/abi";
import { parallelTasks, matmulWorkers } from "./matmul";

const OUT_SHAPE = memory.data(MAX_RANK * 4);
const POOL_LEN = 14;
const RULE_GEO = memory.data(POOL_LEN * 4);

@inline function word(p: usize, k: i32): i32 { return load<i32>(p + (<usize>k << 2)); }

function copyShape(rank: i32, shape: usize): void {
  for (let k = 0; k < rank; k++) store<i32>(OUT_SHAPE + (<usize>k << 2), word(shape, k));
}

// ————————————————————————————————————————————————————————— max pooling: indices

/**
 * The flat in-plane index of each window's maximum, as an int32 tensor of `rank` dims at
 * `shape` (not recorded: indices have no derivative). geo: [planes, H, W, oH, oW, kH, kW, sH,
 * sW, pH, pW, dH, dW]; kH or kW 0 asks for adaptive windows along that dim.
 */
export const MAX_POOL_GEO = MAX_POOL_GEO_WORDS;
export function maxPoolIndices(x: i32, rank: i32, shape: usize, geo: usize): i32 {
  if (x == 0) return 0;
  copyShape(rank, shape);
  const out = newTensor(DType.int32, rank, OUT_SHAPE);
  if (out == 0) return 0;
  if (captureBegin(Op.maxPoolIndices, out)) {
    captureInput(x);
    for (let k = 0; k < MAX_POOL_GEO; k++) captureAttr(<f64>load<i32>(geo + (<usize>k << 2)));
  }
  const planes = word(geo, 0);
  setJob(dtypeOf(x) == DType.float32 ? KIND_INDICES : KIND_INDICES + 1, dataOf(x), 0, dataOf(out), planes);
  store<u32>(POOL_JOB, <u32>geo, J_GEO);
  runPlanes(planes, numelOf(x));
  return out;
}

// ————————————————————————————————————————————————————————— threads
//
// With init({ threads }), max pooling's indices and its scatter are split over the planes
// (parallelTasks): planes are independent, so the bits are one thread's. The job's words live in
// POOL_JOB, which every instance reads.

const POOL_JOB = memory.data(12 * 4, 16);
const J_KIND = 0, J_SRC = 4, J_IDX = 8, J_OUT = 12, J_PLANES = 16, J_PER = 20, J_GEO = 24, J_OUT_PLANE = 28,
  J_IDX_PLANE = 32, J_ADD = 36, J_PAIR_H = 40, J_PAIR_W = 44;
const KIND_INDICES = 0, KIND_SCATTER = 2; // + 1 for f64
// Below this many input values a job stays on the calling thread: waking the workers costs more.
const THREAD_MIN_VALUES = 1 << 16;

function setJob(kind: i32, src: usize, idx: usize, out: usize, planes: i32): void {
  store<i32>(POOL_JOB, kind, J_KIND); store<u32>(POOL_JOB, <u32>src, J_SRC); store<u32>(POOL_JOB, <u32>idx, J_IDX);
  store<u32>(POOL_JOB, <u32>out, J_OUT); store<i32>(POOL_JOB, planes, J_PLANES);
}

/** Planes [i·per, (i + 1)·per) of the job in POOL_JOB. */
function poolTask(i: i32, thread: i32): void {
  const per = load<i32>(POOL_JOB, J_PER);
  const p0 = i * per, p1 = min(load<i32>(POOL_JOB, J_PLANES), p0 + per);
  const kind = load<i32>(POOL_JOB, J_KIND);
  const src = <usize>load<u32>(POOL_JOB, J_SRC), idx = <usize>load<u32>(POOL_JOB, J_IDX), out = <usize>load<u32>(POOL_JOB, J_OUT);
  if (kind == KIND_INDICES) maxPoolIndicesKernel<f32>(src, out, <usize>load<u32>(POOL_JOB, J_GEO), p0, p1);
  else if (kind == KIND_INDICES + 1) maxPoolIndicesKernel<f64>(src, out, <usize>load<u32>(POOL_JOB, J_GEO), p0, p1);
  else {
    const outPlane = load<i32>(POOL_JOB, J_OUT_PLANE), idxPlane = load<i32>(POOL_JOB, J_IDX_PLANE), add = load<i32>(POOL_JOB, J_ADD) != 0;
    const pairH = load<i32>(POOL_JOB, J_PAIR_H), pairW = load<i32>(POOL_JOB, J_PAIR_W);
    if (kind == KIND_SCATTER) scatterKernel<f32>(src, idx, out, outPlane, idxPlane, add, pairH, pairW, p0, p1);
    else scatterKernel<f64>(src, idx, out, outPlane, idxPlane, add, pairH, pairW, p0, p1);
  }
}

/** Runs the job over `planes` planes: on the threads in a few tasks each, when `values` make it worth it. */
function runPlanes(planes: i32, values: i32): void {
  const threads = matmulWorkers() + 1;
  const tasks = threads > 1 && values >= THREAD_MIN_VALUES ? min(planes, 4 * threads) : 1;
  const per = max(1, (planes + tasks - 1) / max(tasks, 1));
  store<i32>(POOL_JOB, per, J_PER);
  const count = (planes + per - 1) / per;
  if (parallelTasks(count, poolTask)) return;
  for (let i = 0; i < count; i++) poolTask(i, threads - 1);
}

// Adaptive windows (adaptive pooling, max and average): output o of `out` over `n` inputs covers
// PyTorch's [floor(o·n/out), ceil((o+1)·n/out)), in i64 since o·n can pass i32.
@inline export function adaptiveStart(o: i32, n: i32, out: i32): i32 { return <i32>(<i64>o * <i64>n / <i64>out); }
@inline export function adaptiveEnd(o: i32, n: i32, out: i32): i32 { return <i32>(((<i64>o + 1) * <i64>n + <i64>out - 1) / <i64>out); }

/**
 * The indices of planes [p0, p1) of x at px into po (geo as maxPoolIndices). A kernel extent of 0
 * asks for adaptive windows along that dim (adaptive max pooling; stride 1, padding 0, dilation 1).
 */
function maxPoolIndicesKernel<T>(px0: usize, po0: usize, geo: usize, p0: i32, p1: i32): void {
  const size = sizeof<T>();
  const H = word(geo, 1), W = word(geo, 2), oH = word(geo, 3), oW = word(geo, 4);
  const kH = word(geo, 5), kW = word(geo, 6), sH = word(geo, 7), sW = word(geo, 8);
  const pH = word(geo, 9), pW = word(geo, 10), dH = word(geo, 11), dW = word(geo, 12);
  // Windows two columns wide at stride 2 (the usual 2×2 pooling) take four windows per step.
  const pairs = sizeof<T>() == 4 && kW == 2 && sW == 2 && dW == 1 && pW == 0 ? min(oW, W >> 1) : 0;
  let po = po0 + <usize>p0 * <usize>oH * <usize>oW * 4;
  for (let p = p0; p < p1; p++) {
    const px = px0 + <usize>p * <usize>H * <usize>W * size;
    for (let oh = 0; oh < oH; oh++) {
      let h0 = oh * sH - pH;
      let h1 = min(h0 + (kH - 1) * dH + 1, H);
      while (h0 < 0) h0 += dH;
      if (kH == 0) { h0 = adaptiveStart(oh, H, oH); h1 = adaptiveEnd(oh, H, oH); }
      let ow = 0;
      if (h0 < h1) {
        for (; ow + 4 <= pairs; ow += 4) { pairIndices(px, W, h0, h1, dH, ow, po); po += 16; }
        // the last few pair windows: the four ending there (recomputing some, with the same result)
        if (ow < pairs && pairs >= 4) { pairIndices(px, W, h0, h1, dH, pairs - 4, po - (<usize>(ow - (pairs - 4)) << 2)); po += <usize>(pairs - ow) << 2; ow = pairs; }
      }
      for (; ow < oW; ow++) {
        let w0 = ow * sW - pW;
        let w1 = min(w0 + (kW - 1) * dW + 1, W);
        while (w0 < 0) w0 += dW;
        if (kW == 0) { w0 = adaptiveStart(ow, W, oW); w1 = adaptiveEnd(ow, W, oW); }
        // A window whose dilated taps all fall in the padding has no element: index -1, value -inf.
        if (h0 >= h1 || w0 >= w1) { store<i32>(po, -1); po += 4; continue; }
        // PyTorch's scan: start at the first in-range element with -inf, take larger or NaN.
        let best = h0 * W + w0;
        let bestVal: T = <T>-Infinity;
        for (let h = h0; h < h1; h += dH) {
          for (let w = w0; w < w1; w += dW) {
            const v = load<T>(px + <usize>(h * W + w) * size);
            if (v > bestVal || v != v) { bestVal = v; best = h * W + w; }
          }
        }
        store<i32>(po, best);
        po += 4;
      }
    }
  }
}

/**
 * The indices of four windows [2·ow + 2j, 2·ow + 2j + 2) × rows h0, h0 + dH, … < h1 of one f32
 * plane (all in range), stored at po: the scalar scan above with the four windows in lanes, the
 * even and odd columns of each row visited in that order.
 */
@inline function pairIndices(px: usize, W: i32, h0: i32, h1: i32, dH: i32, ow: i32, po: usize): void {
  const lane2 = i32x4(0, 2, 4, 6), one = i32x4.splat(1);
  let best = f32x4.splat(-Infinity);
  let at = i32x4.add(i32x4.splat(h0 * W + 2 * ow), lane2);
  for (let h = h0; h < h1; h += dH) {
    const first = h * W + 2 * ow;
    const row = px + (<usize>first << 2);
    const a = v128.load(row), b = v128.load(row, 16);
    const even = v128.shuffle<f32>(a, b, 0, 2, 4, 6), odd = v128.shuffle<f32>(a, b, 1, 3, 5, 7);
    const iEven = i32x4.add(i32x4.splat(first), lane2);
    let take = v128.or(f32x4.gt(even, best), f32x4.ne(even, even));
    best = v128.bitselect(even, best, take);
    at = v128.bitselect(iEven, at, take);
    take = v128.or(f32x4.gt(odd, best), f32x4.ne(odd, odd));
    best = v128.bitselect(odd, best, take);
    at = v128.bitselect(i32x4.add(iEven, one), at, take);
  }
  v128.store(po, at);
}

// ————————————————————————————————————————————————————————— gather / scatter at plane indices

/** out[p, j] = x[p, idx[p, j]] (-inf where idx is -1): idx's shape, x's dtype. A recording op (max pooling's values). */
export function poolGather(x: i32, idx: i32, planes: i32, xPlane: i32, idxPlane: i32): i32 {
  if (x == 0 || idx == 0) return 0;
  flushJvp();
  const out = newTensor(dtypeOf(x), rankOf(idx), shapePtr(idx));
  if (out == 0) return 0;
  const pi = dataOf(idx);
  if (dtypeOf(x) == DType.float32) gatherKernel<f32>(dataOf(x), pi, dataOf(out), planes, xPlane, idxPlane);
  else gatherKernel<f64>(dataOf(x), pi, dataOf(out), planes, xPlane, idxPlane);
  if (recordOp(shouldRecord1(x), Op.poolGather, out)) {
    recordInput(x); recordInput(idx);
    recordAttr(<f64>planes); recordAttr(<f64>xPlane); recordAttr(<f64>idxPlane);
  }
  return out;
}

// (A four-window f32 SIMD gather for 2×2 windows, checking each index, measured slower than this loop.)
function gatherKernel<T>(px: usize, pi: usize, po: usize, planes: i32, xPlane: i32, idxPlane: i32): void {
  const size = sizeof<T>();
  for (let p = 0; p < planes; p++) {
    const base = px + <usize>p * <usize>xPlane * size;
    for (let j = 0; j < idxPlane; j++) {
      const k = load<i32>(pi);
      store<T>(po, k < 0 ? <T>-Infinity : load<T>(base + <usize>k * size));
      po += size; pi += 4;
    }
  }
}

/**
 * Zeros of `rank` dims at `shape` with src[p, j] written to out[p, idx[p, j]]: summed where
 * `accumulate` (max pooling's adjoint), else assigned, a later entry winning (maxUnpool);
 * index -1 (an empty window) writes nothing.
 * A recording op.
 */
export function poolScatter(src: i32, idx: i32, rank: i32, shape: usize, planes: i32, outPlane: i32,
                            idxPlane: i32, accumulate: i32): i32 {
  if (src == 0 || idx == 0) return 0;
  flushJvp();
  copyShape(rank, shape);
  const dt = dtypeOf(src);
  const out = newTensor(dt, rank, OUT_SHAPE);
  if (out == 0) return 0;
  const pairW = dt == DType.float32 ? pairWidth(rank, OUT_SHAPE, idx, outPlane, idxPlane) : 0;
  setJob(dt == DType.float32 ? KIND_SCATTER : KIND_SCATTER + 1, dataOf(src), dataOf(idx), dataOf(out), planes);
  store<i32>(POOL_JOB, outPlane, J_OUT_PLANE); store<i32>(POOL_JOB, idxPlane, J_IDX_PLANE); store<i32>(POOL_JOB, accumulate, J_ADD);
  store<i32>(POOL_JOB, pairW == 0 ? 0 : outPlane / pairW, J_PAIR_H); store<i32>(POOL_JOB, pairW, J_PAIR_W);
  runPlanes(planes, numelOf(out));
  if (recordOp(shouldRecord1(src), Op.poolScatter, out)) {
    recordInput(src); recordInput(idx);
    recordAttr(<f64>planes); recordAttr(<f64>outPlane); recordAttr(<f64>idxPlane); recordAttr(<f64>accumulate);
  }
  return out;
}

/**
 * Planes [p0, p1) of poolScatter: zeros, then src's values at their indices (pairH × pairW planes
 * in 2×2 windows where pairW > 0, see pairWidth).
 */
function scatterKernel<T>(ps: usize, pi: usize, po: usize, outPlane: i32, idxPlane: i32, add: bool, pairH: i32, pairW: i32,
                          p0: i32, p1: i32): void {
  const size = sizeof<T>();
  ps += <usize>p0 * <usize>idxPlane * size; pi += <usize>p0 * <usize>idxPlane * 4;
  for (let p = p0; p < p1; p++) {
    const base = po + <usize>p * <usize>outPlane * size;
    if (size == 4 && pairW > 0 && scatterPairPlane(ps, pi, base, pairH, pairW, add)) {
      ps += <usize>idxPlane * size; pi += <usize>idxPlane << 2;
      continue;
    }
    memory.fill(base, 0, <usize>outPlane * size);
    for (let j = 0; j < idxPlane; j++) {
      const k = load<i32>(pi);
      if (k >= 0) {
        const o = base + <usize>k * size;
        const v = load<T>(ps);
        store<T>(o, add ? load<T>(o) + v : v);
      }
      ps += size; pi += 4;
    }
  }
}

// ————————————————————————————————————————————————————————— 2×2 windows (f32 SIMD)
//
// maxPool2d(x, 2)'s window (oh, ow) covers rows 2·oh, 2·oh + 1 and columns 2·ow, 2·ow + 1 of an
// H × W plane, and its index is one of those four. The scatter (max pooling's gradient) takes four
// such windows at a time, writing whole rows, zeros included, where every index of a plane lies in
// its own window (checked as it goes; a plane where one does not, maxUnpool's arbitrary indices
// say, goes the general way). The windows are disjoint, so the values are the general loop's.

/**
 * W when planes of `plane` values are H × W (the last two of `rank` dims at `shape`) with indices
 * (H >> 1) × (W >> 1) at least four windows wide (idx's last two dims), else 0.
 */
function pairWidth(rank: i32, shape: usize, idx: i32, plane: i32, idxPlane: i32): i32 {
  const idxRank = rankOf(idx);
  if (rank < 2 || idxRank < 2) return 0;
  const H = word(shape, rank - 2), W = word(shape, rank - 1);
  const oH = dimOf(idx, idxRank - 2), oW = dimOf(idx, idxRank - 1);
  return H * W == plane && oH * oW == idxPlane && oH == H >> 1 && oW == W >> 1 && oW >= 4 ? W : 0;
}

/** The in-plane index of the top-left position of windows (oh, ow … ow + 3). */
@inline function firstOf(oh: i32, ow: i32, W: i32): v128 {
  return i32x4.add(i32x4.splat(2 * oh * W + 2 * ow), i32x4(0, 2, 4, 6));
}

/**
 * Scatter of one plane of H/2 × W/2 f32 values at ps into the H × W plane at po (every value
 * written, zeros included); false if an index is outside its window. `add` as poolScatter's
 * accumulate: the values are added to zeros, so a −0 lands as +0.
 */
function scatterPairPlane(ps: usize, pi: usize, po: usize, H: i32, W: i32, add: bool): bool {
  const oH = H >> 1, oW = W >> 1, rowBytes = <usize>W << 2;
  const one = i32x4.splat(1), rowStep = i32x4.splat(W), zero = f32x4.splat(0);
  for (let oh = 0; oh < oH; oh++) {
    const r0 = po + <usize>(2 * oh) * rowBytes, r1 = r0 + rowBytes;
    for (let next = 0; next < oW; next += 4) {
      const ow = min(next, oW - 4), j = <usize>(oh * oW + ow) << 2;
      const at = v128.load(pi + j), first = firstOf(oh, ow, W), below = i32x4.add(first, rowStep);
      const m00 = i32x4.eq(at, first), m01 = i32x4.eq(at, i32x4.add(first, one));
      const m10 = i32x4.eq(at, below), m11 = i32x4.eq(at, i32x4.add(below, one));
      if (!i32x4.all_true(v128.or(v128.or(m00, m01), v128.or(m10, m11)))) return false;
      const g = v128.load(ps + j);
      let v00 = v128.and(g, m00), v01 = v128.and(g, m01), v10 = v128.and(g, m10), v11 = v128.and(g, m11);
      if (add) { v00 = f32x4.add(v00, zero); v01 = f32x4.add(v01, zero); v10 = f32x4.add(v10, zero); v11 = f32x4.add(v11, zero); }
      const c = <usize>(2 * ow) << 2;
      v128.store(r0 + c, v128.shuffle<f32>(v00, v01, 0, 4, 1, 5)); v128.store(r0 + c, v128.shuffle<f32>(v00, v01, 2, 6, 3, 7), 16);
      v128.store(r1 + c, v128.shuffle<f32>(v10, v11, 0, 4, 1, 5)); v128.store(r1 + c, v128.shuffle<f32>(v10, v11, 2, 6, 3, 7), 16);
    }
    if (W & 1) { store<f32>(r1 - 4, 0); store<f32>(r1 + rowBytes - 4, 0); }
  }
  if (H & 1) memory.fill(po + <usize>(H - 1) * rowBytes, 0, rowBytes);
  return true;
}

// ————————————————————————————————————————————————————————— average pooling

// geo: [planes, H, W, oH, oW, kH, kW, sH, sW, pH, pW, countIncludePad, divisorOverride (0: none),
// adaptive]. Adaptive windows are PyTorch's [floor(i·In/Out), ceil((i+1)·In/Out)).
let gPlanes = 0; let gH = 0; let gW = 0; let gOH = 0; let gOW = 0; let gKH = 0; let gKW = 0;
let gSH = 1; let gSW = 1; let gPH = 0; let gPW = 0; let gInclude = 1; let gDivisor = 0; let gAdaptive = 0;

function loadAvgGeo(geo: usize): void {
  gPlanes = word(geo, 0); gH = word(geo, 1); gW = word(geo, 2); gOH = word(geo, 3); gOW = word(geo, 4);
  gKH = word(geo, 5); gKW = word(geo, 6); gSH = word(geo, 7); gSW = word(geo, 8); gPH = word(geo, 9);
  gPW = word(geo, 10); gInclude = word(geo, 11); gDivisor = word(geo, 12); gAdaptive = word(geo, 13);
}

function recordAvgGeo(): void {
  recordAttr(<f64>gPlanes); recordAttr(<f64>gH); recordAttr(<f64>gW); recordAttr(<f64>gOH); recordAttr(<f64>gOW);
  recordAttr(<f64>gKH); recordAttr(<f64>gKW); recordAttr(<f64>gSH); recordAttr(<f64>gSW); recordAttr(<f64>gPH);
  recordAttr(<f64>gPW); recordAttr(<f64>gInclude); recordAttr(<f64>gDivisor); recordAttr(<f64>gAdaptive);
}

// The window of the output element in progress: rows [wh0, wh1), columns [ww0, ww1), divisor.
let wh0 = 0; let wh1 = 0; let ww0 = 0; let ww1 = 0; let wDiv = 1;

/** PyTorch's avg_pool2d window (cpu_avg_pool) or adaptive_avg_pool2d window. */
function window(oh: i32, ow: i32): void {
  if (gAdaptive != 0) {
    wh0 = adaptiveStart(oh, gH, gOH); wh1 = adaptiveEnd(oh, gH, gOH);
    ww0 = adaptiveStart(ow, gW, gOW); ww1 = adaptiveEnd(ow, gW, gOW);
    return; // adaptive windows divide by each extent in turn: mean()
  }
  wh0 = oh * gSH - gPH; ww0 = ow * gSW - gPW;
  wh1 = min(wh0 + gKH, gH + gPH); ww1 = min(ww0 + gKW, gW + gPW);
  const padded = (wh1 - wh0) * (ww1 - ww0);
  wh0 = max(wh0, 0); ww0 = max(ww0, 0);
  wh1 = min(wh1, gH); ww1 = min(ww1, gW);
  wDiv = gDivisor != 0 ? gDivisor : gInclude != 0 ? padded : (wh1 - wh0) * (ww1 - ww0);
}

/** A window's sum s as a mean: PyTorch divides adaptive sums by each extent in turn. */
@inline function mean<T>(s: T): T {
  if (gAdaptive != 0) return s / <T>(wh1 - wh0) / <T>(ww1 - ww0);
  return s / <T>wDiv;
}

function avgPoolKernel<T>(px: usize, po: usize): void {
  const size = sizeof<T>();
  for (let p = 0; p < gPlanes; p++) {
    const plane = px + <usize>p * <usize>gH * <usize>gW * size;
    for (let oh = 0; oh < gOH; oh++) {
      for (let ow = 0; ow < gOW; ow++) {
        window(oh, ow);
        let s: T = <T>0;
        for (let h = wh0; h < wh1; h++) {
          for (let w = ww0; w < ww1; w++) s += load<T>(plane + <usize>(h * gW + w) * size);
        }
        // An empty window (possible with ceil mode) gives 0, as in PyTorch.
        store<T>(po, wh0 >= wh1 || ww0 >= ww1 ? <T>0 : mean<T>(s));
        po += size;
      }
    }
  }
}

function avgPoolAdjointKernel<T>(pg: usize, px: usize, n: i32): void {
  const size = sizeof<T>();
  memory.fill(px, 0, <usize>n * size);
  for (let p = 0; p < gPlanes; p++) {
    const plane = px + <usize>p * <usize>gH * <usize>gW * size;
    for (let oh = 0; oh < gOH; oh++) {
      for (let ow = 0; ow < gOW; ow++) {
        window(oh, ow);
        const d = mean<T>(load<T>(pg));
        pg += size;
        for (let h = wh0; h < wh1; h++) {
          for (let w = ww0; w < ww1; w++) {
            const o = plane + <usize>(h * gW + w) * size;
            store<T>(o, load<T>(o) + d);
          }
        }
      }
    }
  }
}

/**
 * Op.avgPool (x → pooled, `rank` dims at `shape`) or Op.avgPoolAdjoint (pooled-shaped ȳ →
 * x-shaped). Recording ops; geo as above, validated by the host.
 */
export function avgPoolFamily(op: i32, x: i32, rank: i32, shape: usize, geo: usize): i32 {
  if (x == 0) return 0;
  flushJvp(); // a pending JVP may run these kernels, which set the geometry statics
  loadAvgGeo(geo);
  copyShape(rank, shape);
  const dt = dtypeOf(x);
  const out = newTensor(dt, rank, OUT_SHAPE);
  if (out == 0) return 0;
  if (op == Op.avgPool) {
    if (dt == DType.float32) avgPoolKernel<f32>(dataOf(x), dataOf(out));
    else avgPoolKernel<f64>(dataOf(x), dataOf(out));
  } else {
    if (dt == DType.float32) avgPoolAdjointKernel<f32>(dataOf(x), dataOf(out), numelOf(out));
    else avgPoolAdjointKernel<f64>(dataOf(x), dataOf(out), numelOf(out));
  }
  if (recordOp(shouldRecord1(x), op, out)) { recordInput(x); recordAvgGeo(); }
  return out;
}

// ————————————————————————————————————————————————————————— VJP and JVP rules

function avgApply(op: i32, x: i32, like: i32): i32 {
  if (x == 0) return 0;
  flushJvp(); // may create tensors, moving the table that like's shape lives in
  return avgPoolFamily(op, x, rankOf(like), shapePtr(like), RULE_GEO);
}

function loadRuleGeo(r: u32): void {
  flushJvp(); // a pending pooling JVP would overwrite RULE_GEO
  for (let k = 0; k < POOL_LEN; k++) store<i32>(RULE_GEO + (<usize>k << 2), <i32>recAttr(r, k));
}

/** Each op's adjoint is its partner op: gather ↔ scatter-add, avgPool ↔ avgPoolAdjoint. */
export function vjpPool(op: i32, r: u32, g: i32): void {
  const x = recInput(r, 0);
  if (!needsGrad(x)) return;
  switch (op) {
    case Op.poolGather: {
      const idx = recInput(r, 1);
      const planes = <i32>recAttr(r, 0), xPlane = <i32>recAttr(r, 1), idxPlane = <i32>recAttr(r, 2);
      flushJvp();
      accumulate(x, poolScatter(g, idx, rankOf(x), shapePtr(x), planes, xPlane, idxPlane, 1));
      return;
    }
    case Op.poolScatter: {
      // PyTorch's max_unpool backward: the gather, also where indices repeat.
      accumulate(x, poolGather(g, recInput(r, 1), <i32>recAttr(r, 0), <i32>recAttr(r, 1), <i32>recAttr(r, 2)));
      return;
    }
    case Op.avgPool: { loadRuleGeo(r); accumulate(x, avgApply(Op.avgPoolAdjoint, g, x)); return; }
    case Op.avgPoolAdjoint: { loadRuleGeo(r); accumulate(x, avgApply(Op.avgPool, g, x)); return; }
    default: fail(E_NO_RULE, op);
  }
}

/** All four ops are linear: the tangent goes through the same op. */
export function jvpPool(op: i32, r: u32): void {
  const out = recOut(r), tx = tangentOf(recInput(r, 0));
  if (tx == 0) return;
  switch (op) {
    case Op.poolGather: {
      setTangent(out, poolGather(tx, recInput(r, 1), <i32>recAttr(r, 0), <i32>recAttr(r, 1), <i32>recAttr(r, 2)));
      return;
    }
    case Op.poolScatter: {
      setTangent(out, poolScatter(tx, recInput(r, 1), rankOf(out), shapePtr(out), <i32>recAttr(r, 0),
        <i32>recAttr(r, 1), <i32>recAttr(r, 2), <i32>recAttr(r, 3)));
      return;
    }
    case Op.avgPool:
    case Op.avgPoolAdjoint: { loadRuleGeo(r); setTangent(out, avgApply(op, tx, out)); return; }
    default: fail(E_NO_RULE, op);
  }
}
