// 3-D pooling — kernels, recording ops, VJP and JVP rules. A tensor is seen as `planes`
// contiguous volumes (N·C of them) of D·H·W values.
//
// Max pooling finds, per window, the flat in-volume index of its maximum (PyTorch's scan: the
// first maximal element in depth, row, column order, a NaN wins); its values and gradients are
// then pool.ts's poolGather / poolScatter at those indices, which work on any plane size.
// Average pooling (fixed and adaptive windows) is a pair of linear ops, each the other's adjoint:
//   avgPool3d(x)  ↔  avgPool3dAdjoint(ȳ)

import { Op, DType } from "../core/vocabulary";
import { MAX_POOL3D_GEO_WORDS, AVG_POOL3D_GEO_WORDS } from "../core/abi";
import {
  newTensor, dtypeOf, dataOf, numelOf, needsGrad, shapePtr, rankOf, MAX_RANK, fail,
  E_NO_RULE,
} from "../core/tensor";
import { shouldRecord1, recordOp, recordInput, recordAttr, recInput, recOut, recAttr, accumulate } from "../engine/tape";
import { captureBegin, captureInput, captureAttr } from "../engine/accelerate";
import { tangentOf, setTangent, flushJvp } from "../engine/forward";
import { adaptiveStart, adaptiveEnd } from "./pool";

const OUT_SHAPE = memory.data(MAX_RANK * 4);
const RULE_GEO = memory.data(AVG_POOL3D_GEO_WORDS * 4);

@inline function word(p: usize, k: i32): i32 { return load<i32>(p + (<usize>k << 2)); }

function copyShape(rank: i32, shape: usize): void {
  for (let k = 0; k < rank; k++) store<i32>(OUT_SHAPE + (<usize>k << 2), word(shape, k));
}

// ————————————————————————————————————————————————————————— max pooling: indices

/**
 * The flat in-volume index of each window's maximum, an int32 tensor of `rank` dims at `shape`
 * (not recorded: indices have no derivative). geo: [planes, D, H, W, oD, oH, oW, kD, kH, kW,
 * sD, sH, sW, pD, pH, pW, dD, dH, dW].
 */
export function maxPool3dIndices(x: i32, rank: i32, shape: usize, geo: usize): i32 {
  if (x == 0) return 0;
  copyShape(rank, shape);
  const out = newTensor(DType.int32, rank, OUT_SHAPE);
  if (out == 0) return 0;
  if (captureBegin(Op.maxPool3dIndices, out)) {
    captureInput(x);
    for (let k = 0; k < MAX_POOL3D_GEO_WORDS; k++) captureAttr(<f64>word(geo, k));
  }
  if (dtypeOf(x) == DType.float32) maxIndicesKernel<f32>(x, out, geo);
  else maxIndicesKernel<f64>(x, out, geo);
  return out;
}

function maxIndicesKernel<T>(x: i32, out: i32, geo: usize): void {
  const size = sizeof<T>();
  const planes = word(geo, 0), D = word(geo, 1), H = word(geo, 2), W = word(geo, 3);
  const oD = word(geo, 4), oH = word(geo, 5), oW = word(geo, 6);
  const kD = word(geo, 7), kH = word(geo, 8), kW = word(geo, 9);
  const sD = word(geo, 10), sH = word(geo, 11), sW = word(geo, 12);
  const pD = word(geo, 13), pH = word(geo, 14), pW = word(geo, 15);
  const dD = word(geo, 16), dH = word(geo, 17), dW = word(geo, 18);
  const HW = H * W;
  let po = dataOf(out);
  for (let p = 0; p < planes; p++) {
    const px = dataOf(x) + <usize>p * <usize>D * <usize>HW * size;
    for (let od = 0; od < oD; od++) {
      let d0 = od * sD - pD;
      let d1 = min(d0 + (kD - 1) * dD + 1, D);
      while (d0 < 0) d0 += dD;
      if (kD == 0) { d0 = adaptiveStart(od, D, oD); d1 = adaptiveEnd(od, D, oD); }
      for (let oh = 0; oh < oH; oh++) {
        let h0 = oh * sH - pH;
        let h1 = min(h0 + (kH - 1) * dH + 1, H);
        while (h0 < 0) h0 += dH;
        if (kH == 0) { h0 = adaptiveStart(oh, H, oH); h1 = adaptiveEnd(oh, H, oH); }
        for (let ow = 0; ow < oW; ow++) {
          let w0 = ow * sW - pW;
          let w1 = min(w0 + (kW - 1) * dW + 1, W);
          while (w0 < 0) w0 += dW;
          if (kW == 0) { w0 = adaptiveStart(ow, W, oW); w1 = adaptiveEnd(ow, W, oW); }
          // A window whose taps all fall in the padding has no element: index -1 (value -inf).
          if (d0 >= d1 || h0 >= h1 || w0 >= w1) { store<i32>(po, -1); po += 4; continue; }
          // PyTorch's scan: from the first in-range element with -inf, take larger or NaN.
          let best = d0 * HW + h0 * W + w0;
          let bestVal: T = <T>-Infinity;
          for (let d = d0; d < d1; d += dD) {
            for (let h = h0; h < h1; h += dH) {
              for (let w = w0; w < w1; w += dW) {
                const k = d * HW + h * W + w;
                const v = load<T>(px + <usize>k * size);
                if (v > bestVal || v != v) { bestVal = v; best = k; }
              }
            }
          }
          store<i32>(po, best);
          po += 4;
        }
      }
    }
  }
}

// ————————————————————————————————————————————————————————— average pooling

// geo: [planes, D, H, W, oD, oH, oW, kD, kH, kW, sD, sH, sW, pD, pH, pW, countIncludePad,
// divisorOverride (0: none), adaptive]. Adaptive windows are PyTorch's
// [floor(i·In/Out), ceil((i+1)·In/Out)).
let gPlanes = 0; let gD = 0; let gH = 0; let gW = 0; let gOD = 0; let gOH = 0; let gOW = 0;
let gKD = 0; let gKH = 0; let gKW = 0; let gSD = 1; let gSH = 1; let gSW = 1; let gPD = 0; let gPH = 0; let gPW = 0;
let gInclude = 1; let gDivisor = 0; let gAdaptive = 0;

function loadAvgGeo(geo: usize): void {
  gPlanes = word(geo, 0); gD = word(geo, 1); gH = word(geo, 2); gW = word(geo, 3);
  gOD = word(geo, 4); gOH = word(geo, 5); gOW = word(geo, 6);
  gKD = word(geo, 7); gKH = word(geo, 8); gKW = word(geo, 9);
  gSD = word(geo, 10); gSH = word(geo, 11); gSW = word(geo, 12);
  gPD = word(geo, 13); gPH = word(geo, 14); gPW = word(geo, 15);
  gInclude = word(geo, 16); gDivisor = word(geo, 17); gAdaptive = word(geo, 18);
}

function recordAvgGeo(): void {
  recordAttr(<f64>gPlanes); recordAttr(<f64>gD); recordAttr(<f64>gH); recordAttr(<f64>gW);
  recordAttr(<f64>gOD); recordAttr(<f64>gOH); recordAttr(<f64>gOW);
  recordAttr(<f64>gKD); recordAttr(<f64>gKH); recordAttr(<f64>gKW);
  recordAttr(<f64>gSD); recordAttr(<f64>gSH); recordAttr(<f64>gSW);
  recordAttr(<f64>gPD); recordAttr(<f64>gPH); recordAttr(<f64>gPW);
  recordAttr(<f64>gInclude); recordAttr(<f64>gDivisor); recordAttr(<f64>gAdaptive);
}

// The window of the output element in progress: [wd0, wd1) × [wh0, wh1) × [ww0, ww1), and its
// divisor (fixed windows; adaptive ones divide by each extent in turn, as PyTorch).
let wd0 = 0; let wd1 = 0; let wh0 = 0; let wh1 = 0; let ww0 = 0; let ww1 = 0; let wDiv = 1;

/** PyTorch's avg_pool3d window (avg_pool3d_out_frame) or adaptive_avg_pool3d window. */
function window(od: i32, oh: i32, ow: i32): void {
  if (gAdaptive != 0) {
    wd0 = adaptiveStart(od, gD, gOD); wd1 = adaptiveEnd(od, gD, gOD);
    wh0 = adaptiveStart(oh, gH, gOH); wh1 = adaptiveEnd(oh, gH, gOH);
    ww0 = adaptiveStart(ow, gW, gOW); ww1 = adaptiveEnd(ow, gW, gOW);
    return;
  }
  wd0 = od * gSD - gPD; wh0 = oh * gSH - gPH; ww0 = ow * gSW - gPW;
  wd1 = min(wd0 + gKD, gD + gPD); wh1 = min(wh0 + gKH, gH + gPH); ww1 = min(ww0 + gKW, gW + gPW);
  const padded = (wd1 - wd0) * (wh1 - wh0) * (ww1 - ww0);
  wd0 = max(wd0, 0); wh0 = max(wh0, 0); ww0 = max(ww0, 0);
  wd1 = min(wd1, gD); wh1 = min(wh1, gH); ww1 = min(ww1, gW);
  wDiv = gDivisor != 0 ? gDivisor : gInclude != 0 ? padded : (wd1 - wd0) * (wh1 - wh0) * (ww1 - ww0);
}

/** A window's sum s as a mean: PyTorch divides adaptive sums by each extent in turn. */
@inline function mean<T>(s: T): T {
  if (gAdaptive != 0) return s / <T>(wd1 - wd0) / <T>(wh1 - wh0) / <T>(ww1 - ww0);
  return s / <T>wDiv;
}

function avgPoolKernel<T>(px: usize, po: usize): void {
  const size = sizeof<T>();
  const HW = gH * gW;
  for (let p = 0; p < gPlanes; p++) {
    const vol = px + <usize>p * <usize>gD * <usize>HW * size;
    for (let od = 0; od < gOD; od++) {
      for (let oh = 0; oh < gOH; oh++) {
        for (let ow = 0; ow < gOW; ow++) {
          window(od, oh, ow);
          let s: T = <T>0;
          for (let d = wd0; d < wd1; d++) {
            for (let h = wh0; h < wh1; h++) {
              for (let w = ww0; w < ww1; w++) s += load<T>(vol + <usize>(d * HW + h * gW + w) * size);
            }
          }
          // An empty window (possible with ceil mode) gives 0; PyTorch adds each mean to a zeroed
          // output (so −0 comes out as 0).
          store<T>(po, wd0 >= wd1 || wh0 >= wh1 || ww0 >= ww1 ? <T>0 : <T>0 + mean<T>(s));
          po += size;
        }
      }
    }
  }
}

function avgPoolAdjointKernel<T>(pg: usize, px: usize, n: i32): void {
  const size = sizeof<T>();
  const HW = gH * gW;
  memory.fill(px, 0, <usize>n * size);
  for (let p = 0; p < gPlanes; p++) {
    const vol = px + <usize>p * <usize>gD * <usize>HW * size;
    for (let od = 0; od < gOD; od++) {
      for (let oh = 0; oh < gOH; oh++) {
        for (let ow = 0; ow < gOW; ow++) {
          window(od, oh, ow);
          const g = mean<T>(load<T>(pg));
          pg += size;
          for (let d = wd0; d < wd1; d++) {
            for (let h = wh0; h < wh1; h++) {
              for (let w = ww0; w < ww1; w++) {
                const o = vol + <usize>(d * HW + h * gW + w) * size;
                store<T>(o, load<T>(o) + g);
              }
            }
          }
        }
      }
    }
  }
}

/**
 * Op.avgPool3d (x → pooled, `rank` dims at `shape`) or Op.avgPool3dAdjoint (pooled-shaped ȳ →
 * x-shaped). Recording ops; geo as above, validated by the host.
 */
export function avgPool3dFamily(op: i32, x: i32, rank: i32, shape: usize, geo: usize): i32 {
  if (x == 0) return 0;
  if (op != Op.avgPool3d && op != Op.avgPool3dAdjoint) { fail(E_NO_RULE, op); return 0; }
  flushJvp(); // a pending JVP may run these kernels, which set the geometry statics
  loadAvgGeo(geo);
  copyShape(rank, shape);
  const dt = dtypeOf(x);
  const out = newTensor(dt, rank, OUT_SHAPE);
  if (out == 0) return 0;
  if (op == Op.avgPool3d) {
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
  return avgPool3dFamily(op, x, rankOf(like), shapePtr(like), RULE_GEO);
}

function loadRuleGeo(r: u32): void {
  flushJvp(); // a pending pooling JVP would overwrite RULE_GEO
  for (let k = 0; k < AVG_POOL3D_GEO_WORDS; k++) store<i32>(RULE_GEO + (<usize>k << 2), <i32>recAttr(r, k));
}

/** Each op's adjoint is its partner: avgPool3d ↔ avgPool3dAdjoint. */
export function vjpPool3d(op: i32, r: u32, g: i32): void {
  const x = recInput(r, 0);
  if (!needsGrad(x)) return;
  switch (op) {
    case Op.avgPool3d: { loadRuleGeo(r); accumulate(x, avgApply(Op.avgPool3dAdjoint, g, x)); return; }
    case Op.avgPool3dAdjoint: { loadRuleGeo(r); accumulate(x, avgApply(Op.avgPool3d, g, x)); return; }
    default: fail(E_NO_RULE, op);
  }
}

/** Both ops are linear: the tangent goes through the same op. */
export function jvpPool3d(op: i32, r: u32): void {
  const out = recOut(r), tx = tangentOf(recInput(r, 0));
  if (tx == 0) return;
  switch (op) {
    case Op.avgPool3d:
    case Op.avgPool3dAdjoint: { loadRuleGeo(r); setTangent(out, avgApply(op, tx, out)); return; }
    default: fail(E_NO_RULE, op);
  }
}
