// Elementwise ops: binary arithmetic with NumPy broadcasting, comparisons, unary math, where,
// clamp, cast and copy — each forward kernel with its VJP rule beside it.
//
// Kernels run over the broadcast iteration of iter.ts; the inner run uses v128 (f32x4 / f64x2)
// when it is contiguous or constant, with scalar tails. Rules are written with the recording
// ops of this file and of reduce.ts, so they are themselves differentiable.

import { Op, DType } from "../core/vocabulary";
import { isUntouched, copyBytes } from "../core/alloc";
import {
  newTensor, newLike, dtypeOf, rankOf, dimOf, dataOf, numelOf, shapePtr, MAX_RANK, itemSize,
  fail, E_NO_RULE, E_UNKNOWN_OP, flagsOf, F_ON_TAPE, releaseTensor, needsGrad,
} from "../core/tensor";
import { prepare, advance, itInner, itOuter, itOffset, itStride } from "../core/iter";
import { recording, shouldRecord1, shouldRecord2, recordTarget, TO_NONE, recordOp, recordInput, recordAttr, record1, recNumInputs,
  record2, recInput, recAttr, recOut, accumulate } from "../engine/tape";
import { sumTo } from "./reduce";
import { captureOp1, captureOp2, captureFill } from "../engine/accelerate";
import { expandLike } from "./shape";
import { tangentOf, setTangent, sameShape } from "../engine/forward";
import {
  expT, logT, log1pT, expm1T, sinT, cosT, tanT, tanhT, powT, sigmoidT, softplusT, signT, erfT, logaddexpT, atan2T,
  expF32x4,
} from "../core/math";

const SHAPE_TMP = memory.data(MAX_RANK * 4);

/** Writes the broadcast shape of a and b (and c, if nonzero) to SHAPE_TMP; returns its rank. */
export function broadcastShape(a: i32, b: i32, c: i32): i32 {
  const r = max(rankOf(a), max(rankOf(b), c != 0 ? rankOf(c) : 0));
  for (let k = 0; k < r; k++) {
    let n = 1;
    for (let j = 0; j < 3; j++) {
      const x = j == 0 ? a : j == 1 ? b : c;
      if (x == 0) continue;
      const kx = k - (r - rankOf(x));
      if (kx < 0) continue;
      const d = dimOf(x, kx);
      if (d != 1) n = d; // the host has checked that the non-1 sizes agree
    }
    store<i32>(SHAPE_TMP + (<u32>k << 2), n);
  }
  return r;
}

// ————————————————————————————————————————————————————————— binary

@inline export function binaryScalarOp<T>(op: i32, x: T, y: T): T {
  switch (op) {
    case Op.add: return x + y;
    case Op.sub: return x - y;
    case Op.mul: return x * y;
    case Op.div: return x / y;
    case Op.maximum: return max<T>(x, y);
    case Op.minimum: return min<T>(x, y);
    case Op.pow: return powT<T>(x, y);
    case Op.logaddexp: return logaddexpT<T>(x, y);
    case Op.atan2: return atan2T<T>(x, y);
    default: fail(E_UNKNOWN_OP, op); return <T>0; // no value for an op this kernel does not know
  }
}

@inline function binaryVectorOp<T>(op: i32, x: v128, y: v128): v128 {
  switch (op) {
    case Op.add: return v128.add<T>(x, y);
    case Op.sub: return v128.sub<T>(x, y);
    case Op.mul: return v128.mul<T>(x, y);
    case Op.div: return v128.div<T>(x, y);
    case Op.maximum: return v128.max<T>(x, y);
    case Op.minimum: return v128.min<T>(x, y);
    default: fail(E_UNKNOWN_OP, op); return v128.splat<T>(<T>0);
  }
}

/**
 * One inner run: out[i] = a[i*sa] op b[i*sb], with sa, sb in {0, 1} on the fast paths. The op
 * and the strides are resolved once per run, so each SIMD loop body is a single instruction
 * pattern (binaryLoop is inlined with constant op and strides, and the switch folds away).
 * Accelerated programs' fused groups call it on tiles (engine/fusion.ts): the same arithmetic.
 */
export function binaryRun<T>(op: i32, pa: usize, sa: i32, pb: usize, sb: i32, po: usize, n: i32): void {
  // pow and logaddexp have no vector form: their scalar loop
  if (op == Op.pow || op == Op.logaddexp || op == Op.atan2 || sa < 0 || sb < 0 || sa > 1 || sb > 1) { binaryTail<T>(op, pa, sa, pb, sb, po, n, 0); return; }
  switch (op) {
    case Op.add: binaryStrides<T>(Op.add, pa, sa, pb, sb, po, n); break;
    case Op.sub: binaryStrides<T>(Op.sub, pa, sa, pb, sb, po, n); break;
    case Op.mul: binaryStrides<T>(Op.mul, pa, sa, pb, sb, po, n); break;
    case Op.div: binaryStrides<T>(Op.div, pa, sa, pb, sb, po, n); break;
    case Op.maximum: binaryStrides<T>(Op.maximum, pa, sa, pb, sb, po, n); break;
    case Op.minimum: binaryStrides<T>(Op.minimum, pa, sa, pb, sb, po, n); break;
    default: fail(E_UNKNOWN_OP, op);
  }
}

@inline function binaryStrides<T>(op: i32, pa: usize, sa: i32, pb: usize, sb: i32, po: usize, n: i32): void {
  if (sa == 1 && sb == 1) binaryLoop<T>(op, pa, 1, pb, 1, po, n);
  else if (sa == 1) binaryLoop<T>(op, pa, 1, pb, 0, po, n);
  else if (sb == 1) binaryLoop<T>(op, pa, 0, pb, 1, po, n);
  else binaryLoop<T>(op, pa, 0, pb, 0, po, n);
}

@inline function binaryLoop<T>(op: i32, pa: usize, sa: i32, pb: usize, sb: i32, po: usize, n: i32): void {
  const size = sizeof<T>();
  const lanes = <i32>(16 / size);
  const va = v128.splat<T>(load<T>(pa));
  const vb = v128.splat<T>(load<T>(pb));
  let i = 0;
  for (; i + lanes <= n; i += lanes) {
    const x = sa == 1 ? v128.load(pa + <usize>i * size) : va;
    const y = sb == 1 ? v128.load(pb + <usize>i * size) : vb;
    v128.store(po + <usize>i * size, binaryVectorOp<T>(op, x, y));
  }
  binaryTail<T>(op, pa, sa, pb, sb, po, n, i);
}

function binaryTail<T>(op: i32, pa: usize, sa: i32, pb: usize, sb: i32, po: usize, n: i32, from: i32): void {
  const size = sizeof<T>();
  for (let i = from; i < n; i++) {
    const x = load<T>(pa + <usize>(i * sa) * size);
    const y = load<T>(pb + <usize>(i * sb) * size);
    store<T>(po + <usize>i * size, binaryScalarOp<T>(op, x, y));
  }
}

function binaryKernel<T>(op: i32, a: i32, b: i32, out: i32): void {
  const size = sizeof<T>();
  // One contiguous run when neither operand broadcasts, or one of them is a single value.
  const n = numelOf(out), na = numelOf(a), nb = numelOf(b);
  if ((na == n || na == 1) && (nb == n || nb == 1) && n > 0) {
    binaryRun<T>(op, dataOf(a), na == n ? 1 : 0, dataOf(b), nb == n ? 1 : 0, dataOf(out), n);
    return;
  }
  prepare(rankOf(out), shapePtr(out), a, b, 0);
  const pa = dataOf(a), pb = dataOf(b);
  let po = dataOf(out);
  const sa = itStride(0), sb = itStride(1), inner = itInner;
  for (let r = 0; r < itOuter; r++) {
    binaryRun<T>(op, pa + <usize>itOffset(0) * size, sa, pb + <usize>itOffset(1) * size, sb, po, inner);
    po += <usize>inner * size;
    advance();
  }
}

/** out = a op b with broadcasting (a recording op). Both operands share one float dtype. */
export function binary(op: i32, a: i32, b: i32): i32 {
  if (a == 0 || b == 0) return 0;
  const rank = broadcastShape(a, b, 0);
  const dt = dtypeOf(a);
  const out = newTensor(dt, rank, SHAPE_TMP);
  if (out == 0) return 0;
  if (dt == DType.float32) binaryKernel<f32>(op, a, b, out);
  else binaryKernel<f64>(op, a, b, out);
  record2(shouldRecord2(a, b), op, out, a, b);
  return out;
}

/** A rank-0 constant. */
export function scalar(dtype: i32, v: f64): i32 {
  const t = newTensor(dtype, 0, SHAPE_TMP);
  if (t == 0) return 0;
  if (dtype == DType.float32) store<f32>(dataOf(t), <f32>v);
  else if (dtype == DType.float64) store<f64>(dataOf(t), v);
  else if (dtype == DType.int32) store<i32>(dataOf(t), <i32>v);
  else store<u8>(dataOf(t), v != 0 ? 1 : 0);
  captureFill(t, v);
  return t;
}

const SCALAR_CELL = memory.data(16, 16);

/** a op s (or s op a when `scalarFirst`), s a JS number taken in a's dtype. */
export function binaryScalar(op: i32, a: i32, s: f64, scalarFirst: bool): i32 {
  if (a == 0) return 0;
  // Unrecorded (a first-order sweep's rules, ops outside any tape), s needs no tensor of its own:
  // the same run reads it from a cell, in a's dtype, so the bits are the same.
  if (shouldRecord1(a) == TO_NONE) return binaryCell(op, a, s, scalarFirst);
  const c = scalar(dtypeOf(a), s);
  const out = scalarFirst ? binary(op, c, a) : binary(op, a, c);
  dropConstant(c);
  return out;
}

function binaryCell(op: i32, a: i32, s: f64, scalarFirst: bool): i32 {
  const dt = dtypeOf(a);
  const out = newLike(a, dt);
  if (out == 0) return 0;
  const n = numelOf(out), pa = dataOf(a), po = dataOf(out);
  if (dt == DType.float32) {
    store<f32>(SCALAR_CELL, <f32>s);
    if (scalarFirst) binaryRun<f32>(op, SCALAR_CELL, 0, pa, 1, po, n);
    else binaryRun<f32>(op, pa, 1, SCALAR_CELL, 0, po, n);
  } else {
    store<f64>(SCALAR_CELL, s);
    if (scalarFirst) binaryRun<f64>(op, SCALAR_CELL, 0, pa, 1, po, n);
    else binaryRun<f64>(op, pa, 1, SCALAR_CELL, 0, po, n);
  }
  return out;
}

/** Frees a temporary constant now unless a tape record refers to it: outside every scope nothing else would. */
function dropConstant(c: i32): void {
  if (c != 0 && (flagsOf(c) & F_ON_TAPE) == 0) releaseTensor(c);
}

export function add(a: i32, b: i32): i32 { return binary(Op.add, a, b); }
export function sub(a: i32, b: i32): i32 { return binary(Op.sub, a, b); }
export function mul(a: i32, b: i32): i32 { return binary(Op.mul, a, b); }
export function div(a: i32, b: i32): i32 { return binary(Op.div, a, b); }
export function mulScalar(a: i32, s: f64): i32 { return binaryScalar(Op.mul, a, s, false); }
export function addScalar(a: i32, s: f64): i32 { return binaryScalar(Op.add, a, s, false); }

/** dst += src in place (same shape, same dtype); used to accumulate adjoints. */
export function addInPlace(dst: i32, src: i32): void {
  const n = numelOf(dst);
  if (dtypeOf(dst) == DType.float32) binaryRun<f32>(Op.add, dataOf(dst), 1, dataOf(src), 1, dataOf(dst), n);
  else binaryRun<f64>(Op.add, dataOf(dst), 1, dataOf(src), 1, dataOf(dst), n);
}

export function fillScalar(t: i32, v: f64): void {
  const n = numelOf(t), p = dataOf(t);
  const dt = dtypeOf(t);
  // zeros() of memory never touched since it grew: already zeros, and writing them would only
  // make the operating system fault in every page now (+0 only: -0 has its sign bit set).
  if (reinterpret<u64>(v) == 0 && isUntouched(p)) { captureFill(t, v); return; }
  if (dt == DType.float32) { for (let i = 0; i < n; i++) store<f32>(p + (<usize>i << 2), <f32>v); }
  else if (dt == DType.float64) { for (let i = 0; i < n; i++) store<f64>(p + (<usize>i << 3), v); }
  else if (dt == DType.int32) { for (let i = 0; i < n; i++) store<i32>(p + (<usize>i << 2), <i32>v); }
  else memory.fill(p, v != 0 ? 1 : 0, n);
  captureFill(t, v);
}

// ————————————————————————————————————————————————————————— comparisons

@inline function compareScalar<T>(op: i32, x: T, y: T): u8 {
  switch (op) {
    case Op.eq: return <u8>(x == y);
    case Op.ne: return <u8>(x != y);
    case Op.lt: return <u8>(x < y);
    case Op.le: return <u8>(x <= y);
    case Op.gt: return <u8>(x > y);
    case Op.ge: return <u8>(x >= y);
    default: fail(E_UNKNOWN_OP, op); return 0;
  }
}

@inline function compareF32x4(op: i32, x: v128, y: v128): v128 {
  switch (op) {
    case Op.eq: return f32x4.eq(x, y);
    case Op.ne: return f32x4.ne(x, y);
    case Op.lt: return f32x4.lt(x, y);
    case Op.le: return f32x4.le(x, y);
    case Op.gt: return f32x4.gt(x, y);
    case Op.ge: return f32x4.ge(x, y);
    default: fail(E_UNKNOWN_OP, op); return v128.splat<i32>(0);
  }
}

/**
 * out[i] = x[i] op s for the whole 16-element blocks of a contiguous f32 run against a scalar (a
 * relu's mask, say): four lane masks narrowed to 16 bytes of 0/1. Returns how many it did.
 */
function compareScalarRunF32(op: i32, px: usize, s: f32, po: usize, n: i32): i32 {
  const y = f32x4.splat(s), ones = i8x16.splat(1);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const x = px + (<usize>i << 2);
    const lo = i16x8.narrow_i32x4_s(compareF32x4(op, v128.load(x), y), compareF32x4(op, v128.load(x, 16), y));
    const hi = i16x8.narrow_i32x4_s(compareF32x4(op, v128.load(x, 32), y), compareF32x4(op, v128.load(x, 48), y));
    v128.store(po + <usize>i, v128.and(i8x16.narrow_i16x8_s(lo, hi), ones));
  }
  return i;
}

/** One inner run of a comparison: out[i] = a[i*sa] op b[i*sb] as a 0/1 byte (also a fused group's tile). */
export function compareRun<T>(op: i32, pa: usize, sa: i32, pb: usize, sb: i32, po: usize, n: i32): void {
  const size = sizeof<T>();
  let i = 0;
  if (isFloat<T>() && size == 4 && sa == 1 && sb == 0) i = compareScalarRunF32(op, pa, load<f32>(pb), po, n);
  for (; i < n; i++) {
    store<u8>(po + <usize>i, compareScalar<T>(op, load<T>(pa + <usize>(i * sa) * size), load<T>(pb + <usize>(i * sb) * size)));
  }
}

function compareKernel<T>(op: i32, a: i32, b: i32, out: i32): void {
  const size = sizeof<T>();
  prepare(rankOf(out), shapePtr(out), a, b, 0);
  const pa = dataOf(a), pb = dataOf(b);
  let po = dataOf(out);
  const sa = itStride(0), sb = itStride(1), n = itInner;
  for (let r = 0; r < itOuter; r++) {
    compareRun<T>(op, pa + <usize>itOffset(0) * size, sa, pb + <usize>itOffset(1) * size, sb, po, n);
    po += <usize>n;
    advance();
  }
}

/** A bool mask of a op b (broadcast). Never recorded: its derivative is zero. */
export function compare(op: i32, a: i32, b: i32): i32 {
  if (a == 0 || b == 0) return 0;
  const rank = broadcastShape(a, b, 0);
  const out = newTensor(DType.bool, rank, SHAPE_TMP);
  if (out == 0) return 0;
  const dt = dtypeOf(a);
  if (dt == DType.float32) compareKernel<f32>(op, a, b, out);
  else if (dt == DType.float64) compareKernel<f64>(op, a, b, out);
  else if (dt == DType.int32) compareKernel<i32>(op, a, b, out);
  else compareKernel<u8>(op, a, b, out);
  captureOp2(op, out, a, b);
  return out;
}

export function compareScalarOp(op: i32, a: i32, s: f64): i32 {
  if (a == 0) return 0;
  const c = scalar(dtypeOf(a), s);
  const out = compare(op, a, c);
  dropConstant(c);
  return out;
}

// ————————————————————————————————————————————————————————— unary

@inline export function unaryScalar<T>(op: i32, x: T): T {
  switch (op) {
    case Op.neg: return -x;
    case Op.abs: return abs<T>(x);
    case Op.sign: return signT<T>(x);
    case Op.square: return x * x;
    case Op.sqrt: return sqrt<T>(x);
    case Op.rsqrt: return <T>1 / sqrt<T>(x);
    case Op.exp: return expT<T>(x);
    case Op.log: return logT<T>(x);
    case Op.log1p: return log1pT<T>(x);
    case Op.expm1: return expm1T<T>(x);
    case Op.sin: return sinT<T>(x);
    case Op.cos: return cosT<T>(x);
    case Op.tan: return tanT<T>(x);
    case Op.tanh: return tanhT<T>(x);
    case Op.sigmoid: return sigmoidT<T>(x);
    case Op.relu: return max<T>(x, <T>0);
    case Op.softplus: return softplusT<T>(x);
    case Op.erf: return erfT<T>(x);
    default: fail(E_UNKNOWN_OP, op); return <T>0;
  }
}

function hasVectorUnary<T>(op: i32): bool {
  return op == Op.neg || op == Op.abs || op == Op.square || op == Op.sqrt || op == Op.rsqrt ||
    op == Op.relu || (sizeof<T>() == 4 && (op == Op.exp || op == Op.sigmoid));
}

@inline function unaryVector<T>(op: i32, x: v128): v128 {
  switch (op) {
    case Op.neg: return v128.neg<T>(x);
    case Op.abs: return v128.abs<T>(x);
    case Op.square: return v128.mul<T>(x, x);
    case Op.sqrt: return v128.sqrt<T>(x);
    case Op.rsqrt: return v128.div<T>(v128.splat<T>(<T>1), v128.sqrt<T>(x));
    // float32 only (hasVectorUnary): the same lane arithmetic as the scalar expT<f32>
    case Op.exp: return expF32x4(x);
    case Op.sigmoid: return f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), expF32x4(f32x4.neg(x))));
    case Op.relu: return v128.max<T>(x, v128.splat<T>(<T>0));
    default: fail(E_UNKNOWN_OP, op); return v128.splat<T>(<T>0);
  }
}

/** out[i] = op(x[i]) over one contiguous run (also a fused group's tile, engine/fusion.ts). */
export function unaryRun<T>(op: i32, px: usize, po: usize, n: i32): void {
  const size = sizeof<T>();
  const lanes = <i32>(16 / size);
  let i = 0;
  if (hasVectorUnary<T>(op)) {
    for (; i + lanes <= n; i += lanes) {
      v128.store(po + <usize>i * size, unaryVector<T>(op, v128.load(px + <usize>i * size)));
    }
  }
  for (; i < n; i++) store<T>(po + <usize>i * size, unaryScalar<T>(op, load<T>(px + <usize>i * size)));
}

/** out = op(x) (a recording op). */
export function unary(op: i32, x: i32): i32 {
  if (x == 0) return 0;
  const dt = dtypeOf(x);
  const out = newLike(x, dt);
  if (out == 0) return 0;
  if (dt == DType.float32) unaryRun<f32>(op, dataOf(x), dataOf(out), numelOf(x));
  else unaryRun<f64>(op, dataOf(x), dataOf(out), numelOf(x));
  record1(shouldRecord1(x), op, out, x);
  return out;
}

export function neg(x: i32): i32 { return unary(Op.neg, x); }

// ————————————————————————————————————————————————————————— where, clamp, cast, copy

/**
 * where over the whole 4-element blocks of a contiguous run: a contiguous mask, a and b each
 * contiguous or one value (relu's gradient: where(mask, g, 0)). Returns how many it did.
 */
function whereRunF32(pc: usize, pa: usize, aRun: bool, pb: usize, bRun: bool, po: usize, n: i32): i32 {
  const a0 = v128.load32_splat(pa), b0 = v128.load32_splat(pb), zero = i32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const take = v128.not(i32x4.eq(i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v128.load32_zero(pc + <usize>i))), zero));
    v128.store(po + o, v128.bitselect(aRun ? v128.load(pa + o) : a0, bRun ? v128.load(pb + o) : b0, take));
  }
  return i;
}

/** One inner run of where: out[i] = c[i*sc] ? a[i*sa] : b[i*sb], c bytes (also a fused group's tile). */
export function whereRun<T>(pc: usize, sc: i32, pa: usize, sa: i32, pb: usize, sb: i32, po: usize, n: i32): void {
  const size = sizeof<T>();
  let i = 0;
  if (isFloat<T>() && size == 4 && sc == 1 && <u32>sa <= 1 && <u32>sb <= 1) i = whereRunF32(pc, pa, sa != 0, pb, sb != 0, po, n);
  for (; i < n; i++) {
    const v = load<u8>(pc + <usize>(i * sc)) != 0 ? load<T>(pa + <usize>(i * sa) * size) : load<T>(pb + <usize>(i * sb) * size);
    store<T>(po + <usize>i * size, v);
  }
}

function whereKernel<T>(c: i32, a: i32, b: i32, out: i32): void {
  const size = sizeof<T>();
  prepare(rankOf(out), shapePtr(out), c, a, b);
  const pc = dataOf(c), pa = dataOf(a), pb = dataOf(b);
  let po = dataOf(out);
  const n = itInner;
  const sc = itStride(0), sa = itStride(1), sb = itStride(2);
  for (let r = 0; r < itOuter; r++) {
    whereRun<T>(pc + <usize>itOffset(0), sc, pa + <usize>itOffset(1) * size, sa, pb + <usize>itOffset(2) * size, sb, po, n);
    po += <usize>n * size;
    advance();
  }
}

/** where(cond, a, b): a where the bool mask holds, else b, all broadcast together. */
export function where(c: i32, a: i32, b: i32): i32 {
  if (c == 0 || a == 0 || b == 0) return 0;
  const rank = broadcastShape(c, a, b);
  const dt = dtypeOf(a);
  const out = newTensor(dt, rank, SHAPE_TMP);
  if (out == 0) return 0;
  if (dt == DType.float32) whereKernel<f32>(c, a, b, out);
  else if (dt == DType.float64) whereKernel<f64>(c, a, b, out);
  else if (dt == DType.int32) whereKernel<i32>(c, a, b, out);
  else whereKernel<u8>(c, a, b, out);
  if (recordOp(shouldRecord2(a, b), Op.where, out)) {
    recordInput(c); recordInput(a); recordInput(b);
  }
  return out;
}

/** where(cond, a, 0). */
export function whereZero(c: i32, a: i32): i32 { return where(c, a, scalar(dtypeOf(a), 0)); }

function clampKernel<T>(px: usize, po: usize, n: i32, lo: T, hi: T): void {
  const size = sizeof<T>();
  const lanes = <i32>(16 / size);
  const vlo = v128.splat<T>(lo), vhi = v128.splat<T>(hi);
  let i = 0;
  for (; i + lanes <= n; i += lanes) {
    v128.store(po + <usize>i * size, v128.min<T>(v128.max<T>(v128.load(px + <usize>i * size), vlo), vhi));
  }
  for (; i < n; i++) store<T>(po + <usize>i * size, min<T>(max<T>(load<T>(px + <usize>i * size), lo), hi));
}

/** min(max(x, lo), hi), as PyTorch's clamp (NaN propagates; lo > hi gives hi). */
export function clamp(x: i32, lo: f64, hi: f64): i32 {
  if (x == 0) return 0;
  const dt = dtypeOf(x);
  const out = newLike(x, dt);
  if (out == 0) return 0;
  if (dt == DType.float32) clampKernel<f32>(dataOf(x), dataOf(out), numelOf(x), <f32>lo, <f32>hi);
  else clampKernel<f64>(dataOf(x), dataOf(out), numelOf(x), lo, hi);
  if (recordOp(shouldRecord1(x), Op.clamp, out)) { recordInput(x); recordAttr(lo); recordAttr(hi); }
  return out;
}

function loadAs(dt: i32, p: usize, i: i32): f64 {
  if (dt == DType.float32) return <f64>load<f32>(p + (<usize>i << 2));
  if (dt == DType.float64) return load<f64>(p + (<usize>i << 3));
  if (dt == DType.int32) return <f64>load<i32>(p + (<usize>i << 2));
  return <f64>load<u8>(p + <usize>i);
}

/** Converts x to `dtype` (float→int truncates toward zero, →bool is x != 0). */
export function cast(x: i32, dtype: i32): i32 {
  if (x == 0) return 0;
  const from = dtypeOf(x);
  const out = newLike(x, dtype);
  if (out == 0) return 0;
  const n = numelOf(x), px = dataOf(x), po = dataOf(out);
  if (from == DType.float32 && dtype == DType.float64) {
    for (let i = 0; i < n; i++) store<f64>(po + (<usize>i << 3), <f64>load<f32>(px + (<usize>i << 2)));
  } else if (from == DType.float64 && dtype == DType.float32) {
    for (let i = 0; i < n; i++) store<f32>(po + (<usize>i << 2), <f32>load<f64>(px + (<usize>i << 3)));
  } else {
    for (let i = 0; i < n; i++) {
      const v = loadAs(from, px, i);
      if (dtype == DType.float32) store<f32>(po + (<usize>i << 2), <f32>v);
      else if (dtype == DType.float64) store<f64>(po + (<usize>i << 3), v);
      else if (dtype == DType.int32) store<i32>(po + (<usize>i << 2), v != v ? 0 : <i32>v);
      else store<u8>(po + <usize>i, v != 0 ? 1 : 0);
    }
  }
  if (recordOp(recordTarget(needsGrad(x) && (dtype == DType.float32 || dtype == DType.float64)), Op.cast, out)) {
    recordInput(x); recordAttr(<f64>dtype);
  }
  return out;
}

/** A fresh copy of x (recorded: the identity, used to start a differentiation level). */
export function copy(x: i32): i32 {
  if (x == 0) return 0;
  const out = newLike(x, dtypeOf(x));
  if (out == 0) return 0;
  copyBytes(dataOf(out), dataOf(x), <usize>numelOf(x) * itemSize(dtypeOf(x)));
  record1(shouldRecord1(x), Op.copy, out, x);
  return out;
}

/** A copy that is never recorded and carries no tangent: the gradient stops here. */
export function detach(x: i32): i32 {
  if (x == 0) return 0;
  const out = newLike(x, dtypeOf(x));
  if (out == 0) return 0;
  copyBytes(dataOf(out), dataOf(x), <usize>numelOf(x) * itemSize(dtypeOf(x)));
  captureOp1(Op.detach, out, x);
  return out;
}

// ————————————————————————————————————————————————————————— derivative rules
//
// One rule per op: `partial(op, r, k, g)` is g ⊙ ∂out/∂input_k, shaped like the output. The VJP
// sums it back to the input's shape; the JVP feeds it the input's tangent (broadcast to the
// output) and adds the terms. Both are written with recording ops, so they differentiate again.

function partial(op: i32, r: u32, k: i32, g: i32): i32 {
  const out = recOut(r);
  const a = recInput(r, 0);
  switch (op) {
    case Op.add: return g;
    case Op.sub: return k == 0 ? g : neg(g);
    case Op.mul: return mul(g, recInput(r, 1 - k));
    case Op.div: {
      const b = recInput(r, 1);
      return k == 0 ? div(g, b) : neg(mul(g, div(out, b))); // PyTorch: -grad * ((a / b) / b)
    }
    case Op.pow: {
      const b = recInput(r, 1);
      const zero = scalar(dtypeOf(a), 0);
      if (k == 0) {
        // PyTorch: grad * b * a^(b-1), zero where b == 0
        const da = mul(g, mul(b, binary(Op.pow, a, addScalar(b, -1))));
        return where(compareScalarOp(Op.eq, b, 0), zero, da);
      }
      // PyTorch: grad * out * log(a), zero where a == 0 and b >= 0
      const db = mul(g, mul(out, unary(Op.log, a)));
      const aZero = compareScalarOp(Op.eq, a, 0), bNonNeg = compareScalarOp(Op.ge, b, 0);
      return where(where(aZero, bNonNeg, aZero), zero, db);
    }
    case Op.atan2: {
      // ∂/∂a = b / (a² + b²), ∂/∂b = −a / (a² + b²) (PyTorch's formula: NaN at the origin, as there)
      const b = recInput(r, 1);
      const r2 = binary(Op.add, unary(Op.square, a), unary(Op.square, b));
      return k == 0 ? mul(g, div(b, r2)) : neg(mul(g, div(a, r2)));
    }
    case Op.logaddexp: {
      // ∂/∂a = eᵃ⁻ᵒᵘᵗ, ∂/∂b = eᵇ⁻ᵒᵘᵗ (PyTorch's formula: NaN where both are −∞, as there)
      return mul(g, unary(Op.exp, binary(Op.sub, recInput(r, k), out)));
    }
    case Op.maximum:
    case Op.minimum: {
      // The larger (smaller) operand takes the gradient; ties split it evenly, as in PyTorch.
      const b = recInput(r, 1);
      const tie = compare(Op.eq, a, b);
      const loses = k == 0 ? compare(op == Op.maximum ? Op.lt : Op.gt, a, b)
                           : compare(op == Op.maximum ? Op.gt : Op.lt, a, b);
      return where(loses, scalar(dtypeOf(g), 0), where(tie, mulScalar(g, 0.5), g));
    }
    case Op.neg: return neg(g);
    case Op.abs: return mul(g, unary(Op.sign, a));
    case Op.sign: return 0; // zero almost everywhere
    case Op.square: return mul(g, mulScalar(a, 2));
    case Op.sqrt: return div(g, mulScalar(out, 2));
    case Op.rsqrt: return mul(mulScalar(g, -0.5), mul(out, mul(out, out)));
    case Op.exp: return mul(g, out);
    case Op.log: return div(g, a);
    case Op.log1p: return div(g, addScalar(a, 1));
    case Op.expm1: return mul(g, addScalar(out, 1));
    case Op.sin: return mul(g, unary(Op.cos, a));
    case Op.cos: return mul(g, neg(unary(Op.sin, a)));
    case Op.tan: return mul(g, addScalar(unary(Op.square, out), 1));
    case Op.tanh: return mul(g, binaryScalar(Op.sub, unary(Op.square, out), 1, true));
    case Op.sigmoid: return mul(mul(g, binaryScalar(Op.sub, out, 1, true)), out);
    case Op.relu: return whereZero(compareScalarOp(Op.gt, out, 0), g);
    case Op.softplus: {
      // PyTorch: z = exp(x); x > 20 ? grad : grad * z / (z + 1)
      const z = unary(Op.exp, a);
      return where(compareScalarOp(Op.gt, a, 20), g, div(mul(g, z), addScalar(z, 1)));
    }
    case Op.erf: {
      const e = unary(Op.exp, neg(unary(Op.square, a)));
      return mul(mulScalar(e, 1.1283791670955126), g); // 2/sqrt(pi) · exp(-x²) · grad
    }
    case Op.where: {
      const zero = scalar(dtypeOf(g), 0);
      return k == 1 ? where(a, g, zero) : where(a, zero, g); // input 0 is the mask
    }
    case Op.clamp: {
      const lo = recAttr(r, 0), hi = recAttr(r, 1);
      const inside = where(compareScalarOp(Op.ge, a, lo), compareScalarOp(Op.le, a, hi), scalar(DType.bool, 0));
      return whereZero(inside, g);
    }
    case Op.cast: return cast(g, dtypeOf(g) == dtypeOf(out) ? dtypeOf(a) : dtypeOf(out));
    case Op.copy: return g;
    default: fail(E_NO_RULE, op); return 0;
  }
}

/** Inputs that carry derivatives: all of them, except where's mask. */
@inline function firstDifferentiable(op: i32): i32 { return op == Op.where ? 1 : 0; }

export function vjpElementwise(op: i32, r: u32, g: i32): void {
  for (let k = firstDifferentiable(op), n = recNumInputs(r); k < n; k++) {
    const x = recInput(r, k);
    if (needsGrad(x)) accumulate(x, sumTo(partial(op, r, k, g), x));
  }
}

export function jvpElementwise(op: i32, r: u32): void {
  const out = recOut(r);
  let t = 0;
  for (let k = firstDifferentiable(op), n = recNumInputs(r); k < n; k++) {
    const tx = tangentOf(recInput(r, k));
    if (tx == 0) continue;
    const term = partial(op, r, k, sameShape(tx, out) ? tx : expandLike(tx, out));
    if (term != 0) t = t == 0 ? term : add(t, term);
  }
  setTangent(out, t);
}
