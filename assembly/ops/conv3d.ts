// 3-D convolution: the trilinear form of assembly/ops/conv.ts with a depth dim, and its three
// bilinear partial maps — kernels, recording ops, VJP and JVP rules.
//
//   T(x, w, y) = Σ y[n, o, do, ho, wo] · w[o, c, kd, kh, kw]
//                  · x[n, g·Cg + c, do·sD − pD + kd·dD, ho·sH − pH + kh·dH, wo·sW − pW + kw·dW]
//
// (g = o / Og the group, x zero outside its extent). The three ops are its partial maps:
//   conv3d(x, w)          = ∂T/∂y   the convolution (cross-correlation, as PyTorch)
//   convTranspose3d(y, w) = ∂T/∂x   ConvTranspose3d, and conv3d's input gradient
//   convWeight3d(x, y)    = ∂T/∂w   conv3d's weight gradient
// so every rule of every order is made of the three. The geometry fixes both spatial extents,
// so asymmetric 'same' padding and output padding need no attribute of their own.
//
// Kernels: vol2col into [m, G, K, P] columns (K = Cg·kD·kH·kW, P = yD·yH·yW), then every op is
// one batched matmul: conv3d W_g·col, convTranspose3d col2vol(W_gᵀ·y), convWeight3d
// Σ_n y[n]_g·col[n]_gᵀ (summed over the images in order). Batches go in chunks so the columns
// stay under COL_BUDGET elements. The temporaries need no gradient, so matmul records nothing.

import { Op, DType } from "../core/vocabulary";
import { CONV3D_GEO_WORDS } from "../core/abi";
import {
  newTensor, releaseTensor, dtypeOf, dataOf, numelOf, needsGrad, shapePtr, rankOf, MAX_RANK, fail,
  E_NO_RULE,
} from "../core/tensor";
import { shouldRecord2, recordOp, recordInput, recordAttr, recInput, recAttr, recOut, accumulate } from "../engine/tape";
import { tangentOf, setTangent, flushJvp } from "../engine/forward";
import { matmul } from "./matmul";
import { add } from "./elementwise";

const COL_BUDGET = 1 << 22;

const GEO = CONV3D_GEO_WORDS;
const RULE_GEO = memory.data(CONV3D_GEO_WORDS * 4);
const OUT_SHAPE = memory.data(MAX_RANK * 4);
const TMP_SHAPE = memory.data(4 * 4);

// The geometry of the call in progress (loadGeo).
let N = 0; let C = 0; let O = 0; let G = 0;
let xD = 0; let xH = 0; let xW = 0; let yD = 0; let yH = 0; let yW = 0;
let kD = 0; let kH = 0; let kW = 0; let sD = 1; let sH = 1; let sW = 1;
let pD = 0; let pH = 0; let pW = 0; let dD = 1; let dH = 1; let dW = 1;
let Cg = 0; let Og = 0; let K = 0; let P = 0; let X = 0;

@inline function word(p: usize, k: i32): i32 { return load<i32>(p + (<usize>k << 2)); }

/** geo: [N, C, O, G, xD, xH, xW, yD, yH, yW, kD, kH, kW, sD, sH, sW, pD, pH, pW, dD, dH, dW]. */
function loadGeo(geo: usize): void {
  N = word(geo, 0); C = word(geo, 1); O = word(geo, 2); G = word(geo, 3);
  xD = word(geo, 4); xH = word(geo, 5); xW = word(geo, 6); yD = word(geo, 7); yH = word(geo, 8); yW = word(geo, 9);
  kD = word(geo, 10); kH = word(geo, 11); kW = word(geo, 12); sD = word(geo, 13); sH = word(geo, 14); sW = word(geo, 15);
  pD = word(geo, 16); pH = word(geo, 17); pW = word(geo, 18); dD = word(geo, 19); dH = word(geo, 20); dW = word(geo, 21);
  Cg = C / G; Og = O / G; K = Cg * kD * kH * kW; P = yD * yH * yW; X = xD * xH * xW;
}

// From the statics, not the geo pointer: a rule's geo buffer may be reloaded by the time the
// kernels are done.
function recordGeo(): void {
  recordAttr(<f64>N); recordAttr(<f64>C); recordAttr(<f64>O); recordAttr(<f64>G);
  recordAttr(<f64>xD); recordAttr(<f64>xH); recordAttr(<f64>xW); recordAttr(<f64>yD); recordAttr(<f64>yH); recordAttr(<f64>yW);
  recordAttr(<f64>kD); recordAttr(<f64>kH); recordAttr(<f64>kW); recordAttr(<f64>sD); recordAttr(<f64>sH); recordAttr(<f64>sW);
  recordAttr(<f64>pD); recordAttr(<f64>pH); recordAttr(<f64>pW); recordAttr(<f64>dD); recordAttr(<f64>dH); recordAttr(<f64>dW);
}

function tensor4(dt: i32, a: i32, b: i32, c: i32, d: i32): i32 {
  store<i32>(TMP_SHAPE, a); store<i32>(TMP_SHAPE, b, 4); store<i32>(TMP_SHAPE, c, 8); store<i32>(TMP_SHAPE, d, 12);
  return newTensor(dt, 4, TMP_SHAPE);
}

/** A fresh [a, b, c, d] tensor holding a copy of its elements from `src` (not recorded). */
function copyAs(dt: i32, src: usize, a: i32, b: i32, c: i32, d: i32): i32 {
  const t = tensor4(dt, a, b, c, d);
  if (t != 0) memory.copy(dataOf(t), src, <usize>numelOf(t) * (dt == DType.float32 ? 4 : 8));
  return t;
}

/** Images per chunk, so that the columns of a chunk stay under COL_BUDGET elements. */
function chunk(): i32 {
  const per = C * kD * kH * kW * P;
  return per == 0 ? max(N, 1) : max(1, min(N, COL_BUDGET / per));
}

// ————————————————————————————————————————————————————————— vol2col / col2vol

// For kernel column kw: the output columns wo whose input column wo·sW − pW + kw·dW is inside
// [0, xW) are [colLo, colHi).
let colLo = 0; let colHi = 0;
function validColumns(off: i32): void {
  colLo = off >= 0 ? 0 : (-off + sW - 1) / sW;
  colHi = xW - 1 - off < 0 ? 0 : min(yW, (xW - 1 - off) / sW + 1);
  if (colHi < colLo) colHi = colLo;
}

/** Columns [m, C·kD·kH·kW, P] of m images at px (zero where a window leaves the input). */
function vol2col<T>(px: usize, m: i32, pcol: usize): void {
  const size = sizeof<T>();
  const plane = <usize>xH * <usize>xW;
  let dst = pcol;
  for (let img = 0; img < m * C; img++) {
    const vol = px + <usize>img * <usize>X * size;
    for (let kd = 0; kd < kD; kd++) {
      for (let kh = 0; kh < kH; kh++) {
        for (let kw = 0; kw < kW; kw++) {
          const off = kw * dW - pW;
          validColumns(off);
          for (let od = 0; od < yD; od++) {
            const d = od * sD - pD + kd * dD;
            for (let oh = 0; oh < yH; oh++) {
              const h = oh * sH - pH + kh * dH;
              if (d < 0 || d >= xD || h < 0 || h >= xH) { memory.fill(dst, 0, <usize>yW * size); dst += <usize>yW * size; continue; }
              memory.fill(dst, 0, <usize>colLo * size);
              memory.fill(dst + <usize>colHi * size, 0, <usize>(yW - colHi) * size);
              const src = vol + (<usize>d * plane + <usize>h * <usize>xW) * size;
              for (let wo = colLo; wo < colHi; wo++) store<T>(dst + <usize>wo * size, load<T>(src + <usize>(wo * sW + off) * size));
              dst += <usize>yW * size;
            }
          }
        }
      }
    }
  }
}

/** Adds columns [m, C·kD·kH·kW, P] back into m images at px: the adjoint of vol2col. */
function col2vol<T>(pcol: usize, m: i32, px: usize): void {
  const size = sizeof<T>();
  const plane = <usize>xH * <usize>xW;
  let src = pcol;
  for (let img = 0; img < m * C; img++) {
    const vol = px + <usize>img * <usize>X * size;
    for (let kd = 0; kd < kD; kd++) {
      for (let kh = 0; kh < kH; kh++) {
        for (let kw = 0; kw < kW; kw++) {
          const off = kw * dW - pW;
          validColumns(off);
          for (let od = 0; od < yD; od++) {
            const d = od * sD - pD + kd * dD;
            for (let oh = 0; oh < yH; oh++) {
              const h = oh * sH - pH + kh * dH;
              if (d >= 0 && d < xD && h >= 0 && h < xH) {
                const row = vol + (<usize>d * plane + <usize>h * <usize>xW) * size;
                for (let wo = colLo; wo < colHi; wo++) {
                  const o = row + <usize>(wo * sW + off) * size;
                  store<T>(o, load<T>(o) + load<T>(src + <usize>wo * size));
                }
              }
              src += <usize>yW * size;
            }
          }
        }
      }
    }
  }
}

// ————————————————————————————————————————————————————————— kernels

/** y[n]_g = W_g · columns(x[n])_g. */
function convKernel<T>(x: i32, w: i32, out: i32): bool {
  const size = sizeof<T>();
  const dt = dtypeOf(x);
  const wt = copyAs(dt, dataOf(w), 1, G, Og, K);
  if (wt == 0) return false;
  const nc = chunk();
  for (let n0 = 0; n0 < N; n0 += nc) {
    const m = min(nc, N - n0);
    const col = tensor4(dt, m, G, K, P);
    if (col == 0) { releaseTensor(wt); return false; }
    vol2col<T>(dataOf(x) + <usize>n0 * <usize>C * <usize>X * size, m, dataOf(col));
    const prod = matmul(wt, col, 0, 0);
    releaseTensor(col);
    if (prod == 0) { releaseTensor(wt); return false; }
    memory.copy(dataOf(out) + <usize>n0 * <usize>O * <usize>P * size, dataOf(prod), <usize>m * <usize>O * <usize>P * size);
    releaseTensor(prod);
  }
  releaseTensor(wt);
  return true;
}

/** x[n] = col2vol(W_gᵀ · y[n]_g). */
function convTransposeKernel<T>(y: i32, w: i32, out: i32): bool {
  const size = sizeof<T>();
  const dt = dtypeOf(y);
  memory.fill(dataOf(out), 0, <usize>numelOf(out) * size);
  const wt = copyAs(dt, dataOf(w), 1, G, Og, K);
  if (wt == 0) return false;
  const nc = chunk();
  for (let n0 = 0; n0 < N; n0 += nc) {
    const m = min(nc, N - n0);
    const yc = copyAs(dt, dataOf(y) + <usize>n0 * <usize>O * <usize>P * size, m, G, Og, P);
    if (yc == 0) { releaseTensor(wt); return false; }
    const cols = matmul(wt, yc, 1, 0);
    releaseTensor(yc);
    if (cols == 0) { releaseTensor(wt); return false; }
    col2vol<T>(dataOf(cols), m, dataOf(out) + <usize>n0 * <usize>C * <usize>X * size);
    releaseTensor(cols);
  }
  releaseTensor(wt);
  return true;
}

/** w_g = Σ_n y[n]_g · columns(x[n])_gᵀ, the images summed in order. */
function convWeightKernel<T>(x: i32, y: i32, out: i32): bool {
  const size = sizeof<T>();
  const dt = dtypeOf(x);
  const po = dataOf(out);
  const n = <usize>O * <usize>K;
  memory.fill(po, 0, n * size);
  const nc = chunk();
  for (let n0 = 0; n0 < N; n0 += nc) {
    const m = min(nc, N - n0);
    const col = tensor4(dt, m, G, K, P);
    if (col == 0) return false;
    vol2col<T>(dataOf(x) + <usize>n0 * <usize>C * <usize>X * size, m, dataOf(col));
    const yc = copyAs(dt, dataOf(y) + <usize>n0 * <usize>O * <usize>P * size, m, G, Og, P);
    if (yc == 0) { releaseTensor(col); return false; }
    const prod = matmul(yc, col, 0, 1); // [m, G, Og, K]
    releaseTensor(yc); releaseTensor(col);
    if (prod == 0) return false;
    const pp = dataOf(prod);
    for (let i = 0; i < m; i++) {
      const src = pp + <usize>i * n * size;
      for (let j: usize = 0; j < n; j++) {
        const o = po + j * size;
        store<T>(o, load<T>(o) + load<T>(src + j * size));
      }
    }
    releaseTensor(prod);
  }
  return true;
}

/**
 * The three ops (a recording op each): `op` is Op.conv3d (a = x, b = w → y),
 * Op.convTranspose3d (a = y, b = w → x) or Op.convWeight3d (a = x, b = y → w). The output has
 * `rank` dims at `shape`; `geo` holds CONV3D_GEO_WORDS i32s (see loadGeo). The host has validated all.
 */
export function conv3dFamily(op: i32, a: i32, b: i32, rank: i32, shape: usize, geo: usize): i32 {
  if (a == 0 || b == 0) return 0;
  if (op != Op.conv3d && op != Op.convTranspose3d && op != Op.convWeight3d) { fail(E_NO_RULE, op); return 0; }
  // A pending JVP rule may run kernels of this file: let it finish before the statics are set.
  flushJvp();
  loadGeo(geo);
  for (let k = 0; k < rank; k++) store<i32>(OUT_SHAPE + (<usize>k << 2), word(shape, k));
  const dt = dtypeOf(a);
  const out = newTensor(dt, rank, OUT_SHAPE);
  if (out == 0) return 0;
  let ok: bool;
  const f32 = dt == DType.float32;
  if (op == Op.conv3d) ok = f32 ? convKernel<f32>(a, b, out) : convKernel<f64>(a, b, out);
  else if (op == Op.convTranspose3d) ok = f32 ? convTransposeKernel<f32>(a, b, out) : convTransposeKernel<f64>(a, b, out);
  else ok = f32 ? convWeightKernel<f32>(a, b, out) : convWeightKernel<f64>(a, b, out);
  if (!ok) { releaseTensor(out); return 0; }
  if (recordOp(shouldRecord2(a, b), op, out)) {
    recordInput(a); recordInput(b); recordGeo();
  }
  return out;
}

// ————————————————————————————————————————————————————————— VJP and JVP rules

/** The op `op` on (a, b) with the geometry of the rule's record, shaped like `like`. */
function apply(op: i32, a: i32, b: i32, like: i32): i32 {
  if (a == 0 || b == 0) return 0;
  flushJvp(); // may create tensors, moving the table that like's shape lives in
  return conv3dFamily(op, a, b, rankOf(like), shapePtr(like), RULE_GEO);
}

function loadRuleGeo(r: u32): void {
  flushJvp(); // a pending conv3d JVP would overwrite RULE_GEO
  for (let k = 0; k < GEO; k++) store<i32>(RULE_GEO + (<usize>k << 2), <i32>recAttr(r, k));
}

/**
 * conv3d (x, w → y):          x̄ = convTranspose3d(ȳ, w)   w̄ = convWeight3d(x, ȳ)
 * convTranspose3d (y, w → x): ȳ = conv3d(x̄, w)            w̄ = convWeight3d(x̄, y)
 * convWeight3d (x, y → w):    x̄ = convTranspose3d(y, w̄)   ȳ = conv3d(x, w̄)
 */
export function vjpConv3d(op: i32, r: u32, g: i32): void {
  loadRuleGeo(r);
  const a = recInput(r, 0), b = recInput(r, 1);
  if (op == Op.conv3d) {
    if (needsGrad(a)) accumulate(a, apply(Op.convTranspose3d, g, b, a));
    if (needsGrad(b)) accumulate(b, apply(Op.convWeight3d, a, g, b));
  } else if (op == Op.convTranspose3d) {
    if (needsGrad(a)) accumulate(a, apply(Op.conv3d, g, b, a));
    if (needsGrad(b)) accumulate(b, apply(Op.convWeight3d, g, a, b));
  } else if (op == Op.convWeight3d) {
    if (needsGrad(a)) accumulate(a, apply(Op.convTranspose3d, b, g, a));
    if (needsGrad(b)) accumulate(b, apply(Op.conv3d, a, g, b));
  } else {
    fail(E_NO_RULE, op);
  }
}

/** Bilinear: d op(a, b) = op(da, b) + op(a, db). */
export function jvpConv3d(op: i32, r: u32): void {
  if (op != Op.conv3d && op != Op.convTranspose3d && op != Op.convWeight3d) { fail(E_NO_RULE, op); return; }
  loadRuleGeo(r);
  const a = recInput(r, 0), b = recInput(r, 1), out = recOut(r);
  const ta = tangentOf(a), tb = tangentOf(b);
  const left = ta != 0 ? apply(op, ta, b, out) : 0;
  const right = tb != 0 ? apply(op, a, tb, out) : 0;
  setTangent(out, left == 0 ? right : right == 0 ? left : add(left, right));
}
