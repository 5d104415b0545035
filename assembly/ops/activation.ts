// Fused activations: softmax and logSoftmax over one axis, numerically stable (the slice's max
// is subtracted before exp; sums accumulate in float64). Their rules use recording ops:
//   softmax     VJP g ↦ y·(g − Σ g·y)        JVP ẋ ↦ y·(ẋ − Σ ẋ·y)   (a symmetric Jacobian)
//   logSoftmax  VJP g ↦ g − exp(y)·Σ g        JVP ẋ ↦ ẋ − Σ exp(y)·ẋ
// Every other activation is a composite on the host (src/ops/activation.ts). The loss
// primitives share this op range; their rules live in loss.ts.

import { Op, DType } from "../core/vocabulary";
import { newLike, releaseTensor, dtypeOf, dataOf, rankOf, dimOf, needsGrad, fail, E_NO_RULE, E_OOM } from "../core/tensor";
import { alloc, free } from "../core/alloc";
import { shouldRecord1, recordOp, recordInput, recordAttr, recInput, recAttr, recOut, accumulate } from "../engine/tape";
import { tangentOf, setTangent } from "../engine/forward";
import { sum } from "./reduce";
import { unary, mul, sub } from "./elementwise";
import { expT, expF32x4 } from "../core/math";
import { vjpLoss, jvpLoss } from "./loss";

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
  if (sizeof<T>() == 4 && !isLog) { softmaxRowF32(px, po, n); return; }
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

/**
 * float32 softmax of a contiguous slice, four lanes at a time: the max, the exps summed in
 * float64 by two accumulators in a fixed order, and each exp scaled by the sum's reciprocal in
 * float64 (as PyTorch scales by 1/sum), then rounded once.
 */
function softmaxRowF32(px: usize, po: usize, n: i32): void {
  let vm = f32x4.splat(-Infinity);
  let i = 0;
  for (; i + 4 <= n; i += 4) vm = f32x4.max(vm, v128.load(px + (<usize>i << 2))); // NaN propagates
  let m = max(max(f32x4.extract_lane(vm, 0), f32x4.extract_lane(vm, 1)), max(f32x4.extract_lane(vm, 2), f32x4.extract_lane(vm, 3)));
  for (; i < n; i++) m = max(m, load<f32>(px + (<usize>i << 2)));
  const vmax = f32x4.splat(m);
  let lo = f64x2.splat(0), hi = f64x2.splat(0);
  i = 0;
  for (; i + 4 <= n; i += 4) {
    const e = expF32x4(f32x4.sub(v128.load(px + (<usize>i << 2)), vmax));
    v128.store(po + (<usize>i << 2), e);
    lo = f64x2.add(lo, f64x2.promote_low_f32x4(e));
    hi = f64x2.add(hi, f64x2.promote_low_f32x4(i32x4.shuffle(e, e, 2, 3, 0, 1)));
  }
  let s = (f64x2.extract_lane(lo, 0) + f64x2.extract_lane(lo, 1)) + (f64x2.extract_lane(hi, 0) + f64x2.extract_lane(hi, 1));
  for (let j = i; j < n; j++) {
    const e = expT<f32>(load<f32>(px + (<usize>j << 2)) - m);
    store<f32>(po + (<usize>j << 2), e);
    s += <f64>e;
  }
  const inv = 1.0 / s;
  const vs = f64x2.splat(inv);
  i = 0;
  for (; i + 4 <= n; i += 4) {
    const e = v128.load(po + (<usize>i << 2));
    const a = f32x4.demote_f64x2_zero(f64x2.mul(f64x2.promote_low_f32x4(e), vs));
    const b = f32x4.demote_f64x2_zero(f64x2.mul(f64x2.promote_low_f32x4(i32x4.shuffle(e, e, 2, 3, 0, 1)), vs));
    v128.store(po + (<usize>i << 2), i32x4.shuffle(a, b, 0, 1, 4, 5));
  }
  for (; i < n; i++) store<f32>(po + (<usize>i << 2), <f32>(<f64>load<f32>(po + (<usize>i << 2)) * inv));
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

// ————————————————————————————————————————————————————————— derivative rules

@inline function axisMask(r: u32): i32 { return rankOf(recInput(r, 0)) == 0 ? 0 : 1 << <i32>recAttr(r, 0); }

export function vjpActivation(op: i32, r: u32, g: i32): void {
  if (op >= Op.ctcLoss) { vjpLoss(op, r, g); return; }
  const x = recInput(r, 0);
  if (!needsGrad(x)) return;
  const y = recOut(r), axes = axisMask(r);
  if (op == Op.softmax) accumulate(x, mul(y, sub(g, sum(mul(g, y), axes, true))));
  else if (op == Op.logSoftmax) accumulate(x, sub(g, mul(unary(Op.exp, y), sum(g, axes, true))));
  else fail(E_NO_RULE, op);
}

export function jvpActivation(op: i32, r: u32): void {
  if (op >= Op.ctcLoss) { jvpLoss(op, r); return; }
  const tx = tangentOf(recInput(r, 0));
  const y = recOut(r), axes = axisMask(r);
  if (op == Op.softmax) setTangent(y, mul(y, sub(tx, sum(mul(tx, y), axes, true))));
  else if (op == Op.logSoftmax) setTangent(y, sub(tx, sum(mul(unary(Op.exp, y), tx), axes, true)));
  else fail(E_NO_RULE, op);
}
