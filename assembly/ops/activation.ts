// Fused activations: softmax and logSoftmax over one axis, numerically stable (the slice's max
// is subtracted before exp), and their gradients as ops of their own:
//   softmax     VJP g ↦ softmaxBackward(g, y) = y·(g − Σ g·y)    JVP ẋ ↦ softmaxBackward(ẋ, y)
//               (a symmetric Jacobian: one map serves both)
//   logSoftmax  VJP g ↦ logSoftmaxBackward(g, y) = g − exp(y)·Σ g   JVP ẋ ↦ ẋ − Σ exp(y)·ẋ
// The backward ops' own rules are written with recording ops (and the backward ops themselves),
// so second derivatives work. A float32 row along a contiguous last axis runs in SIMD passes
// over the row while it sits in L1: max, exp(x − max) stored and summed, scale (PyTorch's order:
// float32 sums and a float32 reciprocal); other layouts and float64 take the scalar loops,
// which accumulate in float64. Every other activation is a composite on the host
// (src/ops/activation.ts). The loss primitives share this op range; their rules live in loss.ts.
//
// gelu (exact, x·Φ(x), or PyTorch's tanh approximation) is one elementwise pass, and its gradient
// g·gelu'(x) the op geluBackward, PyTorch's formulas both: float32 exact in SIMD lanes
// (onePlusErfF32x4, float32 as PyTorch's kernel), the rest in float64 per element, rounded once.
// geluBackward's own rules are recording ops (gelu''), so second derivatives work.

import { Op, DType } from "../core/vocabulary";
import { newLike, releaseTensor, dtypeOf, dataOf, rankOf, dimOf, numelOf, needsGrad, fail, E_NO_RULE, E_OOM } from "../core/tensor";
import { alloc, free } from "../core/alloc";
import { shouldRecord1, shouldRecord2, recordOp, recordInput, recordAttr, recInput, recAttr, recOut, accumulate } from "../engine/tape";
import { tangentOf, setTangent, sameShape } from "../engine/forward";
import { sum } from "./reduce";
import { unary, mul, sub, neg, add, mulScalar, addScalar, scalar } from "./elementwise";
import { expT, expNonPositiveF32x4, scaledExpNonPositiveF32x4, twoToMinus64F32x4, expNonPositiveF32, erf64, onePlusErfF32x4 } from "../core/math";

/**
 * One [n, inner] block: for each of the `inner` columns (stride inner), the max and the sum of
 * exp(x − max) go to scratch (2·inner f64s), then the outputs are written.
 */
function softmaxBlock<T>(px: usize, po: usize, n: i32, inner: i32, isLog: bool, scratch: usize): void {
  const size = sizeof<T>();
  const sums = scratch + (<usize>inner << 3);
  for (let j = 0; j < inner; j++) { store<f64>(scratch + (<usize>j << 3), -Infinity); store<f64>(sums + (<usize>j << 3), 0); }
  for (let i = 0; i < n; i++) {
    const row = px + <usize>i * <usize>inner * size;
    for (let j = 0; j < inner; j++) {
      const pm = scratch + (<usize>j << 3);
      store<f64>(pm, max(load<f64>(pm), <f64>load<T>(row + <usize>j * size))); // NaN propagates
    }
  }
  for (let i = 0; i < n; i++) {
    const off = <usize>i * <usize>inner * size;
    for (let j = 0; j < inner; j++) {
      const e = expT<T>(load<T>(px + off + <usize>j * size) - <T>load<f64>(scratch + (<usize>j << 3)));
      if (!isLog) store<T>(po + off + <usize>j * size, e);
      const ps = sums + (<usize>j << 3);
      store<f64>(ps, load<f64>(ps) + <f64>e);
    }
  }
  for (let i = 0; i < n; i++) {
    const off = <usize>i * <usize>inner * size;
    for (let j = 0; j < inner; j++) {
      const s = load<f64>(sums + (<usize>j << 3));
      if (isLog) {
        const shift = <T>load<f64>(scratch + (<usize>j << 3)) + <T>Math.log(s);
        store<T>(po + off + <usize>j * size, load<T>(px + off + <usize>j * size) - shift);
      } else {
        store<T>(po + off + <usize>j * size, <T>(<f64>load<T>(po + off + <usize>j * size) / s));
      }
    }
  }
}

/** A contiguous slice (inner = 1): the same three passes without scratch. */
function softmaxRow<T>(px: usize, po: usize, n: i32, isLog: bool): void {
  if (sizeof<T>() == 4) { softmaxRowF32(px, po, n, isLog); return; }
  const size = sizeof<T>();
  let m: f64 = -Infinity;
  for (let i = 0; i < n; i++) m = max(m, <f64>load<T>(px + <usize>i * size));
  const mt = <T>m;
  let s: f64 = 0;
  for (let i = 0; i < n; i++) {
    const e = expT<T>(load<T>(px + <usize>i * size) - mt);
    if (!isLog) store<T>(po + <usize>i * size, e);
    s += <f64>e;
  }
  if (isLog) {
    const shift = mt + <T>Math.log(s);
    for (let i = 0; i < n; i++) store<T>(po + <usize>i * size, load<T>(px + <usize>i * size) - shift);
  } else {
    for (let i = 0; i < n; i++) store<T>(po + <usize>i * size, <T>(<f64>load<T>(po + <usize>i * size) / s));
  }
}

// The float32 row passes. Each is its own function: V8 allocates registers per function, and a
// loop sharing one with the exp loop's live values runs at half speed. Sums run in four float32
// lanes over chunks of CHUNK elements, each chunk's lanes added into a float64 total in a fixed
// order, so long rows keep float32 rounding per chunk only. The loops take four vectors per
// iteration (one loop check per 16 elements, four independent chains), then single vectors; a
// sum still adds its vectors one after another, so the bits do not depend on the unrolling.
export const CHUNK = 1024; // a multiple of 16

/**
 * The largest element of a float32 row, NaN left out: a NaN in the row reaches every output
 * through the exp pass's sum instead (pmax is one instruction, NaN-propagating max eight).
 */
export function rowMaxF32(px: usize, n: i32): f32 {
  let m0 = f32x4.splat(-Infinity), m1 = m0, m2 = m0, m3 = m0;
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const p = px + (<usize>i << 2);
    m0 = f32x4.pmax(m0, v128.load(p));
    m1 = f32x4.pmax(m1, v128.load(p, 16));
    m2 = f32x4.pmax(m2, v128.load(p, 32));
    m3 = f32x4.pmax(m3, v128.load(p, 48));
  }
  for (; i + 4 <= n; i += 4) m0 = f32x4.pmax(m0, v128.load(px + (<usize>i << 2)));
  m0 = f32x4.pmax(f32x4.pmax(m0, m1), f32x4.pmax(m2, m3));
  const a = f32x4.extract_lane(m0, 0), b = f32x4.extract_lane(m0, 1), c = f32x4.extract_lane(m0, 2), d = f32x4.extract_lane(m0, 3);
  const ab = a < b ? b : a, cd = c < d ? d : c;
  let m = ab < cd ? cd : ab;
  for (; i < n; i++) { const v = load<f32>(px + (<usize>i << 2)); if (m < v) m = v; }
  return m;
}

@inline export function laneSum(v: v128): f64 {
  return <f64>((f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3)));
}

/** exp(x) for x ≤ 0 or NaN (x − max), times 2⁶⁴ unless `unscale` (a constant at every call). */
@inline function expAt(x: v128, unscale: bool): v128 {
  const e = scaledExpNonPositiveF32x4(x);
  return unscale ? f32x4.mul(e, twoToMinus64F32x4()) : e;
}

/**
 * acc + e0 + e1 + e2 + e3 for the exps e (expAt) of the 16 elements at p minus vm, each stored
 * at q when `store` (constants at every call). The four exps are computed before any store: po
 * may be px (attention's rows are exponentiated in place).
 */
@inline function expSum16(p: usize, q: usize, vm: v128, acc: v128, store: bool, unscale: bool): v128 {
  const e0 = expAt(f32x4.sub(v128.load(p), vm), unscale);
  const e1 = expAt(f32x4.sub(v128.load(p, 16), vm), unscale);
  const e2 = expAt(f32x4.sub(v128.load(p, 32), vm), unscale);
  const e3 = expAt(f32x4.sub(v128.load(p, 48), vm), unscale);
  if (store) { v128.store(q, e0); v128.store(q, e1, 16); v128.store(q, e2, 32); v128.store(q, e3, 48); }
  return f32x4.add(f32x4.add(f32x4.add(f32x4.add(acc, e0), e1), e2), e3);
}

/** Σ expAt(x − m) over a float32 row, each stored to po when po is not 0. */
@inline function expSumRow(px: usize, po: usize, n: i32, m: f32, unscale: bool): f64 {
  const vm = f32x4.splat(m);
  let total: f64 = 0;
  let i = 0;
  while (i + 4 <= n) {
    const end = min(n & ~3, i + CHUNK);
    let acc = f32x4.splat(0);
    if (po != 0) {
      for (; i + 16 <= end; i += 16) acc = expSum16(px + (<usize>i << 2), po + (<usize>i << 2), vm, acc, true, unscale);
      for (; i < end; i += 4) {
        const e = expAt(f32x4.sub(v128.load(px + (<usize>i << 2)), vm), unscale);
        v128.store(po + (<usize>i << 2), e);
        acc = f32x4.add(acc, e);
      }
    } else {
      for (; i + 16 <= end; i += 16) acc = expSum16(px + (<usize>i << 2), 0, vm, acc, false, unscale);
      for (; i < end; i += 4) acc = f32x4.add(acc, expAt(f32x4.sub(v128.load(px + (<usize>i << 2)), vm), unscale));
    }
    total += laneSum(acc);
  }
  for (; i < n; i++) {
    const e = f32x4.extract_lane(expAt(f32x4.splat(load<f32>(px + (<usize>i << 2)) - m), unscale), 0);
    if (po != 0) store<f32>(po + (<usize>i << 2), e);
    total += <f64>e;
  }
  return total;
}

/** Σ exp(x − m) over a float32 row (m its max), each exp stored to po when po is not 0. */
export function rowExpSumF32(px: usize, po: usize, n: i32, m: f32): f64 {
  return expSumRow(px, po, n, m, true);
}

/**
 * rowExpSumF32 with every exp and the sum 2⁶⁴ times larger (exactly, subnormal exps included):
 * softmax folds the 2⁻⁶⁴ into its reciprocal of the sum, one multiply per element fewer.
 */
function rowScaledExpSumF32(px: usize, po: usize, n: i32, m: f32): f64 {
  return expSumRow(px, po, n, m, false);
}

/** po[i] *= c over a float32 row. */
export function rowScaleF32(po: usize, n: i32, c: f32): void {
  const vc = f32x4.splat(c);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const q = po + (<usize>i << 2);
    const a = v128.load(q), b = v128.load(q, 16), d = v128.load(q, 32), e = v128.load(q, 48);
    v128.store(q, f32x4.mul(a, vc)); v128.store(q, f32x4.mul(b, vc), 16); v128.store(q, f32x4.mul(d, vc), 32); v128.store(q, f32x4.mul(e, vc), 48);
  }
  for (; i + 4 <= n; i += 4) v128.store(po + (<usize>i << 2), f32x4.mul(v128.load(po + (<usize>i << 2)), vc));
  for (; i < n; i++) store<f32>(po + (<usize>i << 2), load<f32>(po + (<usize>i << 2)) * c);
}

/** po[i] = (x[i] − m) − c over a float32 row. */
function rowShiftF32(px: usize, po: usize, n: i32, m: f32, c: f32): void {
  const vm = f32x4.splat(m), vc = f32x4.splat(c);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const p = px + (<usize>i << 2), q = po + (<usize>i << 2);
    const a = v128.load(p), b = v128.load(p, 16), d = v128.load(p, 32), e = v128.load(p, 48);
    v128.store(q, f32x4.sub(f32x4.sub(a, vm), vc)); v128.store(q, f32x4.sub(f32x4.sub(b, vm), vc), 16);
    v128.store(q, f32x4.sub(f32x4.sub(d, vm), vc), 32); v128.store(q, f32x4.sub(f32x4.sub(e, vm), vc), 48);
  }
  for (; i + 4 <= n; i += 4) v128.store(po + (<usize>i << 2), f32x4.sub(f32x4.sub(v128.load(px + (<usize>i << 2)), vm), vc));
  for (; i < n; i++) store<f32>(po + (<usize>i << 2), (load<f32>(px + (<usize>i << 2)) - m) - c);
}

/**
 * float32 softmax (y = e·(1/Σe), e = exp(x − max)) or logSoftmax (y = (x − max) − log Σe) of a
 * contiguous row, as PyTorch's vectorised CPU kernels order it. The exps are kept 2⁶⁴ times
 * larger (rowScaledExpSumF32), so 1/Σ carries the 2⁻⁶⁴: the same bits as e·(1/Σe) wherever e is
 * a normal number, and subnormal exps enter the sum and the outputs instead of flushing to 0.
 */
function softmaxRowF32(px: usize, po: usize, n: i32, isLog: bool): void {
  if (n == 0) return;
  const m = rowMaxF32(px, n);
  const s = rowScaledExpSumF32(px, isLog ? 0 : po, n, m); // 2⁶⁴·Σe, exact
  if (isLog) rowShiftF32(px, po, n, m, <f32>Math.log(s * 5.421010862427522e-20)); // s·2⁻⁶⁴, exact
  else rowScaleF32(po, n, <f32>(1.0 / s));
}

function softmaxKernel<T>(px: usize, po: usize, outer: i32, n: i32, inner: i32, isLog: bool, scratch: usize): void {
  const block = <usize>n * <usize>inner * sizeof<T>();
  for (let o = 0; o < outer; o++) {
    const q = <usize>o * block;
    if (inner == 1) softmaxRow<T>(px + q, po + q, n, isLog);
    else softmaxBlock<T>(px + q, po + q, n, inner, isLog, scratch);
  }
}

/** softmax (op = Op.softmax) or logSoftmax of x along `axis` (in [0, rank); 0 for rank 0). */
export function softmax(op: i32, x: i32, axis: i32): i32 {
  if (x == 0) return 0;
  const rank = rankOf(x);
  let outer = 1, inner = 1;
  const n = rank == 0 ? 1 : dimOf(x, axis);
  for (let k = 0; k < axis; k++) outer *= dimOf(x, k);
  for (let k = axis + 1; k < rank; k++) inner *= dimOf(x, k);
  const dt = dtypeOf(x);
  const out = newLike(x, dt);
  if (out == 0) return 0;
  let scratch: usize = 0;
  if (inner > 1 && n > 0 && outer > 0) {
    scratch = alloc(<u32>inner << 4);
    if (scratch == 0) { releaseTensor(out); fail(E_OOM, op); return 0; }
  }
  const isLog = op == Op.logSoftmax;
  if (dt == DType.float32) softmaxKernel<f32>(dataOf(x), dataOf(out), outer, n, inner, isLog, scratch);
  else softmaxKernel<f64>(dataOf(x), dataOf(out), outer, n, inner, isLog, scratch);
  if (scratch != 0) free(scratch);
  if (recordOp(shouldRecord1(x), op, out)) { recordInput(x); recordAttr(<f64>axis); }
  return out;
}

// ————————————————————————————————————————————————————————— the gradients as ops

/** Σ a·b over a float32 row (b = 0: Σ a), in CHUNK-element float32 lane sums added in float64. */
function rowDotF32(pa: usize, pb: usize, n: i32): f64 {
  let total: f64 = 0;
  let i = 0;
  while (i + 4 <= n) {
    const end = min(n & ~3, i + CHUNK);
    let acc = f32x4.splat(0);
    if (pb != 0) {
      for (; i + 16 <= end; i += 16) {
        const p = pa + (<usize>i << 2), q = pb + (<usize>i << 2);
        const a = f32x4.mul(v128.load(p), v128.load(q)), b = f32x4.mul(v128.load(p, 16), v128.load(q, 16));
        const c = f32x4.mul(v128.load(p, 32), v128.load(q, 32)), d = f32x4.mul(v128.load(p, 48), v128.load(q, 48));
        acc = f32x4.add(f32x4.add(f32x4.add(f32x4.add(acc, a), b), c), d);
      }
      for (; i < end; i += 4) acc = f32x4.add(acc, f32x4.mul(v128.load(pa + (<usize>i << 2)), v128.load(pb + (<usize>i << 2))));
    } else {
      for (; i + 16 <= end; i += 16) {
        const p = pa + (<usize>i << 2);
        acc = f32x4.add(f32x4.add(f32x4.add(f32x4.add(acc, v128.load(p)), v128.load(p, 16)), v128.load(p, 32)), v128.load(p, 48));
      }
      for (; i < end; i += 4) acc = f32x4.add(acc, v128.load(pa + (<usize>i << 2)));
    }
    total += laneSum(acc);
  }
  for (; i < n; i++) total += <f64>(pb != 0 ? load<f32>(pa + (<usize>i << 2)) * load<f32>(pb + (<usize>i << 2)) : load<f32>(pa + (<usize>i << 2)));
  return total;
}

/** out = y·(g − c) on the four elements at pg, py, po. */
@inline function softmaxBackAt(pg: usize, py: usize, po: usize, vc: v128): void {
  v128.store(po, f32x4.mul(v128.load(py), f32x4.sub(v128.load(pg), vc)));
}

/** out = y·(g − c) over a float32 row. */
function rowSoftmaxBackF32(pg: usize, py: usize, po: usize, n: i32, c: f32): void {
  const vc = f32x4.splat(c);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const o = <usize>i << 2;
    softmaxBackAt(pg + o, py + o, po + o, vc); softmaxBackAt(pg + o + 16, py + o + 16, po + o + 16, vc);
    softmaxBackAt(pg + o + 32, py + o + 32, po + o + 32, vc); softmaxBackAt(pg + o + 48, py + o + 48, po + o + 48, vc);
  }
  for (; i + 4 <= n; i += 4) softmaxBackAt(pg + (<usize>i << 2), py + (<usize>i << 2), po + (<usize>i << 2), vc);
  for (; i < n; i++) store<f32>(po + (<usize>i << 2), load<f32>(py + (<usize>i << 2)) * (load<f32>(pg + (<usize>i << 2)) - c));
}

/** out = g − exp(y)·c over a float32 row. */
function rowLogSoftmaxBackF32(pg: usize, py: usize, po: usize, n: i32, c: f32): void {
  const vc = f32x4.splat(c);
  let i = 0;
  for (; i + 16 <= n; i += 16) { // four exps before any store (po may be pg)
    const o = <usize>i << 2;
    const e0 = expNonPositiveF32x4(v128.load(py + o)), e1 = expNonPositiveF32x4(v128.load(py + o, 16));
    const e2 = expNonPositiveF32x4(v128.load(py + o, 32)), e3 = expNonPositiveF32x4(v128.load(py + o, 48));
    v128.store(po + o, f32x4.sub(v128.load(pg + o), f32x4.mul(e0, vc)));
    v128.store(po + o, f32x4.sub(v128.load(pg + o, 16), f32x4.mul(e1, vc)), 16);
    v128.store(po + o, f32x4.sub(v128.load(pg + o, 32), f32x4.mul(e2, vc)), 32);
    v128.store(po + o, f32x4.sub(v128.load(pg + o, 48), f32x4.mul(e3, vc)), 48);
  }
  for (; i + 4 <= n; i += 4) {
    const e = expNonPositiveF32x4(v128.load(py + (<usize>i << 2)));
    v128.store(po + (<usize>i << 2), f32x4.sub(v128.load(pg + (<usize>i << 2)), f32x4.mul(e, vc)));
  }
  for (; i < n; i++) store<f32>(po + (<usize>i << 2), load<f32>(pg + (<usize>i << 2)) - expNonPositiveF32(load<f32>(py + (<usize>i << 2))) * c);
}

/** Any layout and dtype: each slice of n elements at stride `inner`, its sum in float64. */
function softmaxBackwardStrided<T>(pg: usize, py: usize, po: usize, outer: i32, n: i32, inner: i32, isLog: bool): void {
  const size = sizeof<T>();
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = (<usize>o * <usize>n * <usize>inner + <usize>j) * size, step = <usize>inner * size;
      let acc: f64 = 0;
      for (let i = 0; i < n; i++) {
        const q = base + <usize>i * step;
        acc += isLog ? <f64>load<T>(pg + q) : <f64>load<T>(pg + q) * <f64>load<T>(py + q);
      }
      const c = <T>acc;
      for (let i = 0; i < n; i++) {
        const q = base + <usize>i * step;
        const g = load<T>(pg + q), y = load<T>(py + q);
        store<T>(po + q, isLog ? g - expT<T>(y) * c : y * (g - c));
      }
    }
  }
}

/**
 * softmax's gradient y·(g − Σ g·y) (op = Op.softmaxBackward) or logSoftmax's g − exp(y)·Σ g
 * (Op.logSoftmaxBackward) along `axis`, for an adjoint g and the forward output y of one shape.
 */
export function softmaxBackward(op: i32, g: i32, y: i32, axis: i32): i32 {
  if (g == 0 || y == 0) return 0;
  const rank = rankOf(y);
  let outer = 1, inner = 1;
  const n = rank == 0 ? 1 : dimOf(y, axis);
  for (let k = 0; k < axis; k++) outer *= dimOf(y, k);
  for (let k = axis + 1; k < rank; k++) inner *= dimOf(y, k);
  const dt = dtypeOf(y);
  const out = newLike(y, dt);
  if (out == 0) return 0;
  const isLog = op == Op.logSoftmaxBackward;
  const pg = dataOf(g), py = dataOf(y), po = dataOf(out);
  if (dt == DType.float32 && inner == 1) {
    const row = <usize>n << 2;
    for (let o = 0; o < outer; o++) {
      const q = <usize>o * row;
      const c = <f32>rowDotF32(pg + q, isLog ? 0 : py + q, n);
      if (isLog) rowLogSoftmaxBackF32(pg + q, py + q, po + q, n, c);
      else rowSoftmaxBackF32(pg + q, py + q, po + q, n, c);
    }
  } else if (dt == DType.float32) softmaxBackwardStrided<f32>(pg, py, po, outer, n, inner, isLog);
  else softmaxBackwardStrided<f64>(pg, py, po, outer, n, inner, isLog);
  if (recordOp(shouldRecord2(g, y), op, out)) { recordInput(g); recordInput(y); recordAttr(<f64>axis); }
  return out;
}

// ————————————————————————————————————————————————————————— gelu

const SQRT1_2 = 0.7071067811865476;
const GELU_BETA = 0.7978845608028654; // √(2/π)
const GELU_KAPPA = 0.044715;
const INV_SQRT_2PI = 0.3989422804014327;

// The two forms are separate functions with the choice made outside the loops: with one
// function and a flag, binaryen turns the branch into a select and computes tanh for both.

/** gelu(x) as PyTorch's CPU kernel writes it: x/2·(1 + erf(x/√2)). */
@inline function geluExactAt(x: f64): f64 { return x * 0.5 * (1 + erf64(x * SQRT1_2)); }

/** PyTorch's tanh approximation x/2·(1 + tanh(β·(x + κx³))). */
@inline function geluTanhAt(x: f64): f64 { return 0.5 * x * (1 + Math.tanh(GELU_BETA * (x + GELU_KAPPA * (x * x * x)))); }

/** gelu'(x) = Φ(x) + x·φ(x), as PyTorch's backward kernel. */
@inline function geluExactSlopeAt(x: f64): f64 {
  return 0.5 * (1 + erf64(x * SQRT1_2)) + x * (Math.exp(-0.5 * x * x) * INV_SQRT_2PI);
}

/** The tanh form's derivative, as PyTorch's backward kernel. */
@inline function geluTanhSlopeAt(x: f64): f64 {
  const x2 = x * x;
  const t = Math.tanh(GELU_BETA * (x + GELU_KAPPA * (x2 * x)));
  return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * GELU_BETA * (1 + 3 * GELU_KAPPA * x2);
}

/** The float32 exact form in lanes: (x/2)·(1 + erf(x/√2)). */
@inline function geluExactF32x4(x: v128): v128 {
  return f32x4.mul(f32x4.mul(x, f32x4.splat(0.5)), onePlusErfF32x4(f32x4.mul(x, f32x4.splat(<f32>SQRT1_2))));
}

/** Its slope in lanes: (1 + erf(x/√2))/2 + x·e^(−x²/2)/√(2π). */
@inline function geluExactSlopeF32x4(x: v128): v128 {
  const cdf = f32x4.mul(onePlusErfF32x4(f32x4.mul(x, f32x4.splat(<f32>SQRT1_2))), f32x4.splat(0.5));
  const pdf = f32x4.mul(expNonPositiveF32x4(f32x4.mul(f32x4.mul(x, x), f32x4.splat(-0.5))), f32x4.splat(<f32>INV_SQRT_2PI));
  return f32x4.add(cdf, f32x4.mul(x, pdf));
}

function geluExactF32(px: usize, po: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(po + (<usize>i << 2), geluExactF32x4(v128.load(px + (<usize>i << 2))));
  for (; i < n; i++) store<f32>(po + (<usize>i << 2), f32x4.extract_lane(geluExactF32x4(f32x4.splat(load<f32>(px + (<usize>i << 2)))), 0));
}

/** g·gelu'(x) in float32 lanes; g has x's shape or one element (gStep 0). */
function geluExactBackwardF32(pg: usize, px: usize, po: usize, n: i32, gStep: usize): void {
  let i = 0;
  if (gStep != 0) {
    for (; i + 4 <= n; i += 4) {
      v128.store(po + (<usize>i << 2), f32x4.mul(v128.load(pg + (<usize>i << 2)), geluExactSlopeF32x4(v128.load(px + (<usize>i << 2)))));
    }
  } else {
    const g = f32x4.splat(load<f32>(pg));
    for (; i + 4 <= n; i += 4) v128.store(po + (<usize>i << 2), f32x4.mul(g, geluExactSlopeF32x4(v128.load(px + (<usize>i << 2)))));
  }
  for (; i < n; i++) {
    const slope = f32x4.extract_lane(geluExactSlopeF32x4(f32x4.splat(load<f32>(px + (<usize>i << 2)))), 0);
    store<f32>(po + (<usize>i << 2), load<f32>(pg + <usize>i * gStep) * slope);
  }
}

function geluKernel<T>(px: usize, po: usize, n: i32, tanhForm: bool): void {
  if (sizeof<T>() == 4 && !tanhForm) { geluExactF32(px, po, n); return; }
  if (tanhForm) {
    for (let i = 0; i < n; i++) { const q = <usize>i * sizeof<T>(); store<T>(po + q, <T>geluTanhAt(<f64>load<T>(px + q))); }
  } else {
    for (let i = 0; i < n; i++) { const q = <usize>i * sizeof<T>(); store<T>(po + q, <T>geluExactAt(<f64>load<T>(px + q))); }
  }
}

/** g·gelu'(x); g has x's shape, or one element (broadcast: gStep 0). */
function geluBackwardKernel<T>(pg: usize, px: usize, po: usize, n: i32, gStep: usize, tanhForm: bool): void {
  if (sizeof<T>() == 4 && !tanhForm) { geluExactBackwardF32(pg, px, po, n, gStep); return; }
  if (tanhForm) {
    for (let i = 0; i < n; i++) {
      const q = <usize>i * sizeof<T>();
      store<T>(po + q, <T>(<f64>load<T>(pg + <usize>i * gStep) * geluTanhSlopeAt(<f64>load<T>(px + q))));
    }
  } else {
    for (let i = 0; i < n; i++) {
      const q = <usize>i * sizeof<T>();
      store<T>(po + q, <T>(<f64>load<T>(pg + <usize>i * gStep) * geluExactSlopeAt(<f64>load<T>(px + q))));
    }
  }
}

/** gelu of a float tensor, elementwise; approximate 0 = 'none' (erf), 1 = 'tanh'. */
export function gelu(x: i32, approximate: i32): i32 {
  if (x == 0) return 0;
  const dt = dtypeOf(x);
  const out = newLike(x, dt);
  if (out == 0) return 0;
  const tanhForm = approximate != 0;
  if (dt == DType.float32) geluKernel<f32>(dataOf(x), dataOf(out), numelOf(x), tanhForm);
  else geluKernel<f64>(dataOf(x), dataOf(out), numelOf(x), tanhForm);
  if (recordOp(shouldRecord1(x), Op.gelu, out)) { recordInput(x); recordAttr(<f64>approximate); }
  return out;
}

/** gelu's gradient g·gelu'(x), for x and an adjoint g of x's shape (or a single element). */
export function geluBackward(g: i32, x: i32, approximate: i32): i32 {
  if (g == 0 || x == 0) return 0;
  const dt = dtypeOf(x);
  const out = newLike(x, dt);
  if (out == 0) return 0;
  const tanhForm = approximate != 0;
  const step: usize = numelOf(g) == 1 ? 0 : <usize>(dt == DType.float32 ? 4 : 8);
  if (dt == DType.float32) geluBackwardKernel<f32>(dataOf(g), dataOf(x), dataOf(out), numelOf(x), step, tanhForm);
  else geluBackwardKernel<f64>(dataOf(g), dataOf(x), dataOf(out), numelOf(x), step, tanhForm);
  if (recordOp(shouldRecord2(g, x), Op.geluBackward, out)) { recordInput(g); recordInput(x); recordAttr(<f64>approximate); }
  return out;
}

/** gelu''(x) in recording ops: φ(x)·(2 − x²), or the tanh form's second derivative. */
function geluCurvature(x: i32, approximate: i32): i32 {
  const x2 = unary(Op.square, x);
  if (approximate == 0) {
    const pdf = mulScalar(unary(Op.exp, mulScalar(x2, -0.5)), INV_SQRT_2PI);
    return mul(pdf, addScalar(neg(x2), 2));
  }
  // u = β(x + κx³), t = tanh u, t' = (1 − t²)u'; gelu'' = t' + x/2·((1 − t²)u'' − 2t·t'·u')
  const t = unary(Op.tanh, mulScalar(add(x, mulScalar(mul(x2, x), GELU_KAPPA)), GELU_BETA));
  const s = addScalar(neg(unary(Op.square, t)), 1);
  const du = mulScalar(addScalar(mulScalar(x2, 3 * GELU_KAPPA), 1), GELU_BETA);
  const dt = mul(s, du);
  const inner = sub(mulScalar(mul(s, x), 6 * GELU_KAPPA * GELU_BETA), mulScalar(mul(t, mul(dt, du)), 2));
  return add(dt, mul(mulScalar(x, 0.5), inner));
}

/** geluBackward(g, x) when g has x's shape or is one element, else the same in ops. */
function geluBackwardOf(g: i32, x: i32, approximate: i32): i32 {
  if (dtypeOf(g) == dtypeOf(x) && (numelOf(g) == 1 || sameShape(g, x))) return geluBackward(g, x, approximate);
  return mul(g, geluBackward(scalar(dtypeOf(x), 1), x, approximate));
}

// ————————————————————————————————————————————————————————— derivative rules

@inline function axisMask(r: u32, k: i32): i32 { return rankOf(recInput(r, k)) == 0 ? 0 : 1 << <i32>recAttr(r, 0); }

/** The fused gradient when g has y's shape (an adjoint always does), else the same map in ops. */
function backwardOf(op: i32, g: i32, y: i32, axis: i32, axes: i32): i32 {
  if (sameShape(g, y) && dtypeOf(g) == dtypeOf(y)) return softmaxBackward(op, g, y, axis);
  if (op == Op.softmaxBackward) return mul(y, sub(g, sum(mul(g, y), axes, true)));
  return sub(g, mul(unary(Op.exp, y), sum(g, axes, true)));
}

export function vjpActivation(op: i32, r: u32, g: i32): void {
  const axis = <i32>recAttr(r, 0);
  if (op == Op.gelu) {
    const x = recInput(r, 0);
    if (needsGrad(x)) accumulate(x, geluBackwardOf(g, x, axis));
    return;
  }
  if (op == Op.geluBackward) { // f(a, x) = a·gelu'(x): ā = f(u, x), x̄ = u·a·gelu''(x)
    const a = recInput(r, 0), x = recInput(r, 1);
    if (needsGrad(a)) accumulate(a, geluBackwardOf(g, x, axis));
    if (needsGrad(x)) accumulate(x, mul(mul(g, a), geluCurvature(x, axis)));
    return;
  }
  if (op == Op.softmax || op == Op.logSoftmax) {
    const x = recInput(r, 0);
    if (!needsGrad(x)) return;
    const back = op == Op.softmax ? Op.softmaxBackward : Op.logSoftmaxBackward;
    accumulate(x, backwardOf(back, g, recOut(r), axis, axisMask(r, 0)));
    return;
  }
  // f(a, y) = y·(a − Σ a·y): ā = f(u, y), ȳ = u·(a − Σ a·y) − a·Σ u·y
  // f(a, y) = a − exp(y)·Σ a: ā = u − Σ u·exp(y), ȳ = −u·exp(y)·Σ a
  const a = recInput(r, 0), y = recInput(r, 1), axes = axisMask(r, 1);
  if (op == Op.softmaxBackward) {
    if (needsGrad(a)) accumulate(a, backwardOf(op, g, y, axis, axes));
    if (needsGrad(y)) accumulate(y, sub(mul(g, sub(a, sum(mul(a, y), axes, true))), mul(a, sum(mul(g, y), axes, true))));
  } else if (op == Op.logSoftmaxBackward) {
    const e = unary(Op.exp, y);
    if (needsGrad(a)) accumulate(a, sub(g, sum(mul(g, e), axes, true)));
    if (needsGrad(y)) accumulate(y, neg(mul(mul(g, e), sum(a, axes, true))));
  } else fail(E_NO_RULE, op);
}

export function jvpActivation(op: i32, r: u32): void {
  const axis = <i32>recAttr(r, 0);
  if (op == Op.gelu) { setTangent(recOut(r), geluBackwardOf(tangentOf(recInput(r, 0)), recInput(r, 0), axis)); return; }
  if (op == Op.geluBackward) {
    const a = recInput(r, 0), x = recInput(r, 1), ta = tangentOf(a), tx = tangentOf(x);
    const left = ta != 0 ? geluBackwardOf(ta, x, axis) : 0;
    const right = tx != 0 ? mul(mul(a, tx), geluCurvature(x, axis)) : 0;
    setTangent(recOut(r), left == 0 ? right : right == 0 ? left : add(left, right));
    return;
  }
  if (op == Op.softmax || op == Op.logSoftmax) {
    const tx = tangentOf(recInput(r, 0));
    const y = recOut(r), axes = axisMask(r, 0);
    if (op == Op.softmax) setTangent(y, backwardOf(Op.softmaxBackward, tx, y, axis, axes));
    else setTangent(y, sub(tx, sum(mul(unary(Op.exp, y), tx), axes, true)));
    return;
  }
  // ḟ = f(ȧ, y) + (the y part): ẏ·(a − Σ a·y) − y·Σ a·ẏ, or −ẏ·exp(y)·Σ a
  const a = recInput(r, 0), y = recInput(r, 1), axes = axisMask(r, 1);
  const ta = tangentOf(a), ty = tangentOf(y);
  let left = 0, right = 0;
  if (op == Op.softmaxBackward) {
    if (ta != 0) left = backwardOf(op, ta, y, axis, axes);
    if (ty != 0) right = sub(mul(ty, sub(a, sum(mul(a, y), axes, true))), mul(y, sum(mul(a, ty), axes, true)));
  } else if (op == Op.logSoftmaxBackward) {
    if (ta != 0) left = backwardOf(op, ta, y, axis, axes);
    if (ty != 0) right = neg(mul(mul(ty, unary(Op.exp, y)), sum(a, axes, true)));
  } else { fail(E_NO_RULE, op); return; }
  setTangent(recOut(r), left == 0 ? right : right == 0 ? left : add(left, right));
}
