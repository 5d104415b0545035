// Convolution: one trilinear form and its three bilinear partial maps — kernels, recording ops,
// VJP and JVP rules.
//
//   T(x, w, y) = Σ y[n, o, ho, wo] · w[o, c, kh, kw] · x[n, g·Cg + c, ho·sH − pT + kh·dH, wo·sW − pL + kw·dW]
//
// (g = o / Og the group, x zero outside its extent). Its partial maps are the three ops:
//   conv(x, w)          = ∂T/∂y   y-shaped: the convolution (cross-correlation, as PyTorch)
//   convTranspose(y, w) = ∂T/∂x   x-shaped: ConvTranspose, and conv's input gradient
//   convWeight(x, y)    = ∂T/∂w   w-shaped: conv's weight gradient
// so the adjoint of each is made of the other two with the same geometry, and all rules and all
// derivative orders close over these three ops. A geometry fixes both spatial extents (x and y),
// so asymmetric padding ('same' with even kernels) and ConvTranspose's output padding need no
// extra attribute. 1-D convolution is the case xH = yH = kH = 1.
//
// Kernels: im2col into [n, G, K, P] columns (K = Cg·kH·kW, P = yH·yW), then conv and
// convTranspose are one batched matmul against the weight viewed as [1, G, Og, K], and
// convWeight is SIMD dot products along P. The batch is processed in chunks so the columns stay
// under COL_BUDGET elements. The temporaries never need gradients, so matmul records nothing.

import { Op, DType } from "../core/vocabulary";
import { CONV_GEO_WORDS } from "../core/abi";
import {
  newTensor, releaseTensor, dtypeOf, dataOf, numelOf, needsGrad, shapePtr, rankOf, MAX_RANK, fail,
  E_NO_RULE,
} from "../core/tensor";
import { shouldRecord2, recordOp, recordInput, recordAttr, recInput, recAttr, recOut, accumulate } from "../engine/tape";
import { tangentOf, setTangent, flushJvp } from "../engine/forward";
import { matmul } from "./matmul";
import { add } from "./elementwise";

/** Geometry words, as the host writes them and as records store them. */
export const GEO_LEN = CONV_GEO_WORDS;
const COL_BUDGET = 1 << 22;

const RULE_GEO = memory.data(GEO_LEN * 4);
const OUT_SHAPE = memory.data(MAX_RANK * 4);
const TMP_SHAPE = memory.data(4 * 4);

// The geometry of the call in progress (loadGeo).
let N = 0; let C = 0; let O = 0; let G = 0;
let xH = 0; let xW = 0; let yH = 0; let yW = 0; let kH = 0; let kW = 0;
let sH = 1; let sW = 1; let pT = 0; let pL = 0; let dH = 1; let dW = 1;
let Cg = 0; let Og = 0; let K = 0; let P = 0; let X = 0;

@inline function word(p: usize, k: i32): i32 { return load<i32>(p + (<usize>k << 2)); }

function loadGeo(geo: usize): void {
  N = word(geo, 0); C = word(geo, 1); O = word(geo, 2); G = word(geo, 3);
  xH = word(geo, 4); xW = word(geo, 5); yH = word(geo, 6); yW = word(geo, 7);
  kH = word(geo, 8); kW = word(geo, 9); sH = word(geo, 10); sW = word(geo, 11);
  pT = word(geo, 12); pL = word(geo, 13); dH = word(geo, 14); dW = word(geo, 15);
  Cg = C / G; Og = O / G; K = Cg * kH * kW; P = yH * yW; X = xH * xW;
}

function recordGeo(): void {
  recordAttr(<f64>N); recordAttr(<f64>C); recordAttr(<f64>O); recordAttr(<f64>G);
  recordAttr(<f64>xH); recordAttr(<f64>xW); recordAttr(<f64>yH); recordAttr(<f64>yW);
  recordAttr(<f64>kH); recordAttr(<f64>kW); recordAttr(<f64>sH); recordAttr(<f64>sW);
  recordAttr(<f64>pT); recordAttr(<f64>pL); recordAttr(<f64>dH); recordAttr(<f64>dW);
}

function copyShape(rank: i32, shape: usize): void {
  for (let k = 0; k < rank; k++) store<i32>(OUT_SHAPE + (<usize>k << 2), word(shape, k));
}

function tensor4(dt: i32, a: i32, b: i32, c: i32, d: i32): i32 {
  store<i32>(TMP_SHAPE, a); store<i32>(TMP_SHAPE, b, 4); store<i32>(TMP_SHAPE, c, 8); store<i32>(TMP_SHAPE, d, 12);
  return newTensor(dt, 4, TMP_SHAPE);
}

/** A fresh tensor of `dims` holding a copy of `bytes` from `src` (a non-recording view). */
function copyAs(dt: i32, src: usize, a: i32, b: i32, c: i32, d: i32): i32 {
  const t = tensor4(dt, a, b, c, d);
  if (t != 0) memory.copy(dataOf(t), src, <usize>numelOf(t) * (dt == DType.float32 ? 4 : 8));
  return t;
}

/** Images per chunk, so the columns of a chunk stay under COL_BUDGET elements. */
function chunk(): i32 {
  const per = C * kH * kW * P;
  return per == 0 ? max(N, 1) : max(1, min(N, COL_BUDGET / per));
}

// ————————————————————————————————————————————————————————— im2col / col2im

// For kernel column kw, the output columns wo whose input column wo·sW − pL + kw·dW lies inside
// [0, xW): [colLo, colHi).
let colLo = 0; let colHi = 0;
function validColumns(off: i32): void {
  colLo = off >= 0 ? 0 : (-off + sW - 1) / sW;
  colHi = xW - 1 - off < 0 ? 0 : min(yW, (xW - 1 - off) / sW + 1);
  if (colHi < colLo) colHi = colLo;
}

/** Columns [m, C·kH·kW, P] of m images at px (zero where the window leaves the input). */
function im2col<T>(px: usize, m: i32, pcol: usize): void {
  const size = sizeof<T>();
  let row = pcol;
  for (let img = 0; img < m * C; img++) {
    const plane = px + <usize>img * <usize>X * size;
    for (let kh = 0; kh < kH; kh++) {
      for (let kw = 0; kw < kW; kw++) {
        const off = kw * dW - pL;
        validColumns(off);
        for (let ho = 0; ho < yH; ho++) {
          const dst = row + <usize>ho * <usize>yW * size;
          const h = ho * sH - pT + kh * dH;
          if (h < 0 || h >= xH) { memory.fill(dst, 0, <usize>yW * size); continue; }
          memory.fill(dst, 0, <usize>colLo * size);
          memory.fill(dst + <usize>colHi * size, 0, <usize>(yW - colHi) * size);
          const src = plane + <usize>h * <usize>xW * size;
          if (sW == 1) {
            memory.copy(dst + <usize>colLo * size, src + <usize>(colLo + off) * size, <usize>(colHi - colLo) * size);
          } else {
            for (let wo = colLo; wo < colHi; wo++) store<T>(dst + <usize>wo * size, load<T>(src + <usize>(wo * sW + off) * size));
          }
        }
        row += <usize>P * size;
      }
    }
  }
}

/** Adds columns [m, C·kH·kW, P] back into m images at px (the adjoint of im2col). */
function col2im<T>(pcol: usize, m: i32, px: usize): void {
  const size = sizeof<T>();
  const lanes = <i32>(16 / size);
  let row = pcol;
  for (let img = 0; img < m * C; img++) {
    const plane = px + <usize>img * <usize>X * size;
    for (let kh = 0; kh < kH; kh++) {
      for (let kw = 0; kw < kW; kw++) {
        const off = kw * dW - pL;
        validColumns(off);
        for (let ho = 0; ho < yH; ho++) {
          const h = ho * sH - pT + kh * dH;
          if (h < 0 || h >= xH) continue;
          const src = row + <usize>ho * <usize>yW * size;
          const dst = plane + <usize>h * <usize>xW * size;
          if (sW == 1) {
            const s = src + <usize>colLo * size, d = dst + <usize>(colLo + off) * size;
            const n = colHi - colLo;
            let i = 0;
            for (; i + lanes <= n; i += lanes) {
              const o = d + <usize>i * size;
              v128.store(o, v128.add<T>(v128.load(o), v128.load(s + <usize>i * size)));
            }
            for (; i < n; i++) {
              const o = d + <usize>i * size;
              store<T>(o, load<T>(o) + load<T>(s + <usize>i * size));
            }
          } else {
            for (let wo = colLo; wo < colHi; wo++) {
              const o = dst + <usize>(wo * sW + off) * size;
              store<T>(o, load<T>(o) + load<T>(src + <usize>wo * size));
            }
          }
        }
        row += <usize>P * size;
      }
    }
  }
}

// ————————————————————————————————————————————————————————— kernels

/** y[n] = W_g · columns(x[n]) per group. */
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
    im2col<T>(dataOf(x) + <usize>n0 * <usize>C * <usize>X * size, m, dataOf(col));
    const prod = matmul(wt, col, 0, 0);
    releaseTensor(col);
    if (prod == 0) { releaseTensor(wt); return false; }
    memory.copy(dataOf(out) + <usize>n0 * <usize>O * <usize>P * size, dataOf(prod), <usize>m * <usize>O * <usize>P * size);
    releaseTensor(prod);
  }
  releaseTensor(wt);
  return true;
}

/** x[n] = col2im(W_gᵀ · y[n]) per group. */
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
    col2im<T>(dataOf(cols), m, dataOf(out) + <usize>n0 * <usize>C * <usize>X * size);
    releaseTensor(cols);
  }
  releaseTensor(wt);
  return true;
}

/**
 * w_g = Σ_n y[n]_g · columns(x[n])_gᵀ: every weight is a dot product over the P output
 * positions, so a direct SIMD kernel (one y row against four column rows, lanes along P)
 * beats a matmul whose long dimension would be the reduction.
 */
function convWeightKernel<T>(x: i32, y: i32, out: i32): bool {
  const size = sizeof<T>();
  const dt = dtypeOf(x);
  const po = dataOf(out);
  memory.fill(po, 0, <usize>O * <usize>K * size);
  const nc = chunk();
  const rowBytes = <usize>P * size;
  for (let n0 = 0; n0 < N; n0 += nc) {
    const m = min(nc, N - n0);
    const col = tensor4(dt, m, G, K, P);
    if (col == 0) return false;
    im2col<T>(dataOf(x) + <usize>n0 * <usize>C * <usize>X * size, m, dataOf(col));
    for (let i = 0; i < m; i++) {
      const yImage = dataOf(y) + <usize>(n0 + i) * <usize>O * rowBytes;
      const colImage = dataOf(col) + <usize>i * <usize>G * <usize>K * rowBytes;
      for (let o = 0; o < O; o++) {
        const yRow = yImage + <usize>o * rowBytes;
        const colGroup = colImage + <usize>(o / Og) * <usize>K * rowBytes;
        const dst = po + <usize>o * <usize>K * size;
        let k = 0;
        for (; k + 4 <= K; k += 4) dot4<T>(yRow, colGroup + <usize>k * rowBytes, rowBytes, dst + <usize>k * size);
        for (; k < K; k++) {
          const d = dst + <usize>k * size;
          store<T>(d, load<T>(d) + dot<T>(yRow, colGroup + <usize>k * rowBytes, P));
        }
      }
    }
    releaseTensor(col);
  }
  return true;
}

@inline function hsum<T>(v: v128): T {
  if (sizeof<T>() == 4) {
    return <T>(f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
  }
  return <T>(f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1));
}

/** Σ a[p]·b[p] over n values, lanes first, then the scalar tail. */
function dot<T>(a: usize, b: usize, n: i32): T {
  const size = sizeof<T>();
  const lanes = <i32>(16 / size);
  let acc = v128.splat<T>(<T>0);
  let p = 0;
  for (; p + lanes <= n; p += lanes) {
    const o = <usize>p * size;
    acc = v128.add<T>(acc, v128.mul<T>(v128.load(a + o), v128.load(b + o)));
  }
  let s = hsum<T>(acc);
  for (; p < n; p++) s += load<T>(a + <usize>p * size) * load<T>(b + <usize>p * size);
  return s;
}

/** dst[j] += Σ_p a[p]·b_j[p] for the four rows b_j = b + j·rowBytes (each summed as dot). */
function dot4<T>(a: usize, b: usize, rowBytes: usize, dst: usize): void {
  const size = sizeof<T>();
  const lanes = <i32>(16 / size);
  const n = <i32>(rowBytes / size);
  const b1 = b + rowBytes, b2 = b1 + rowBytes, b3 = b2 + rowBytes;
  let a0 = v128.splat<T>(<T>0), a1 = a0, a2 = a0, a3 = a0;
  let p = 0;
  for (; p + lanes <= n; p += lanes) {
    const o = <usize>p * size;
    const va = v128.load(a + o);
    a0 = v128.add<T>(a0, v128.mul<T>(va, v128.load(b + o)));
    a1 = v128.add<T>(a1, v128.mul<T>(va, v128.load(b1 + o)));
    a2 = v128.add<T>(a2, v128.mul<T>(va, v128.load(b2 + o)));
    a3 = v128.add<T>(a3, v128.mul<T>(va, v128.load(b3 + o)));
  }
  let s0 = hsum<T>(a0), s1 = hsum<T>(a1), s2 = hsum<T>(a2), s3 = hsum<T>(a3);
  for (; p < n; p++) {
    const o = <usize>p * size;
    const va = load<T>(a + o);
    s0 += va * load<T>(b + o); s1 += va * load<T>(b1 + o); s2 += va * load<T>(b2 + o); s3 += va * load<T>(b3 + o);
  }
  store<T>(dst, load<T>(dst) + s0);
  store<T>(dst, load<T>(dst, size) + s1, size);
  store<T>(dst, load<T>(dst, 2 * size) + s2, 2 * size);
  store<T>(dst, load<T>(dst, 3 * size) + s3, 3 * size);
}

/**
 * The three ops (a recording op each): `op` is Op.conv (a = x, b = w → y),
 * Op.convTranspose (a = y, b = w → x) or Op.convWeight (a = x, b = y → w). The output has
 * `rank` dims at `shape`; `geo` holds GEO_LEN i32s (see loadGeo). The host has validated all.
 */
export function convFamily(op: i32, a: i32, b: i32, rank: i32, shape: usize, geo: usize): i32 {
  if (a == 0 || b == 0) return 0;
  // A pending JVP rule may run kernels of this file: let it finish before the statics are set.
  flushJvp();
  loadGeo(geo);
  copyShape(rank, shape);
  const dt = dtypeOf(a);
  const out = newTensor(dt, rank, OUT_SHAPE);
  if (out == 0) return 0;
  let ok: bool;
  if (op == Op.conv) ok = dt == DType.float32 ? convKernel<f32>(a, b, out) : convKernel<f64>(a, b, out);
  else if (op == Op.convTranspose) ok = dt == DType.float32 ? convTransposeKernel<f32>(a, b, out) : convTransposeKernel<f64>(a, b, out);
  else ok = dt == DType.float32 ? convWeightKernel<f32>(a, b, out) : convWeightKernel<f64>(a, b, out);
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
  return convFamily(op, a, b, rankOf(like), shapePtr(like), RULE_GEO);
}

function loadRuleGeo(r: u32): void {
  flushJvp(); // a pending conv JVP would overwrite RULE_GEO
  for (let k = 0; k < GEO_LEN; k++) store<i32>(RULE_GEO + (<usize>k << 2), <i32>recAttr(r, k));
}

/**
 * conv (x, w → y):          x̄ = convTranspose(ȳ, w)   w̄ = convWeight(x, ȳ)
 * convTranspose (y, w → x): ȳ = conv(x̄, w)            w̄ = convWeight(x̄, y)
 * convWeight (x, y → w):    x̄ = convTranspose(y, w̄)   ȳ = conv(x, w̄)
 */
export function vjpConv(op: i32, r: u32, g: i32): void {
  loadRuleGeo(r);
  const a = recInput(r, 0), b = recInput(r, 1);
  if (op == Op.conv) {
    if (needsGrad(a)) accumulate(a, apply(Op.convTranspose, g, b, a));
    if (needsGrad(b)) accumulate(b, apply(Op.convWeight, a, g, b));
  } else if (op == Op.convTranspose) {
    if (needsGrad(a)) accumulate(a, apply(Op.conv, g, b, a));
    if (needsGrad(b)) accumulate(b, apply(Op.convWeight, g, a, b));
  } else if (op == Op.convWeight) {
    if (needsGrad(a)) accumulate(a, apply(Op.convTranspose, b, g, a));
    if (needsGrad(b)) accumulate(b, apply(Op.conv, a, g, b));
  } else {
    fail(E_NO_RULE, op);
  }
}

/** Bilinear: d op(a, b) = op(da, b) + op(a, db). */
export function jvpConv(op: i32, r: u32): void {
  if (op != Op.conv && op != Op.convTranspose && op != Op.convWeight) { fail(E_NO_RULE, op); return; }
  loadRuleGeo(r);
  const a = recInput(r, 0), b = recInput(r, 1), out = recOut(r);
  const ta = tangentOf(a), tb = tangentOf(b);
  const left = ta != 0 ? apply(op, ta, b, out) : 0;
  const right = tb != 0 ? apply(op, a, tb, out) : 0;
  setTangent(out, left == 0 ? right : right == 0 ? left : add(left, right));
}
