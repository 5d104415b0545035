// Reductions over any set of axes, with keepdims: sum, max, min, prod, logsumexp — kernels and
// VJP rules. Axes are a bitmask over the input's dims.
//
// Every kernel walks the input in row-major order with the output broadcast onto it (stride 0
// on reduced dims), so the order of accumulation is fixed: results never depend on threads or
// engines. float32 sums and products accumulate in float64 along contiguous runs. max/min
// propagate NaN (PyTorch's amax/amin).

import { Op, DType } from "../core/vocabulary";
import {
  newTensor, releaseTensor, dtypeOf, rankOf, dimOf, dataOf, numelOf, shapePtr, needsGrad, MAX_RANK,
  rec, T_RANK, T_SHAPE, fail, E_NO_RULE,
} from "../core/tensor";
import { prepare, advance, itInner, itOuter, itOffset, itStride } from "../core/iter";
import { shouldRecord1, recordOp, recordInput, recordAttr, recAttr, recInput, recOut, accumulate } from "../engine/tape";
import { reshapeLike, expandLike, reshapeTo } from "./shape";
import {
  unary, where, cast, compare, compareScalarOp, scalar, mul, div, sub,
} from "./elementwise";
import { expT, logT } from "../core/math";
import { tangentOf, setTangent } from "../engine/forward";
import { anySetGuarded } from "../engine/accelerate";

const SHAPE_TMP = memory.data(MAX_RANK * 4);

/** Writes x's shape with the masked dims set to 1 into SHAPE_TMP. */
function keptShape(x: i32, axes: i32): void {
  for (let k = 0; k < rankOf(x); k++) {
    store<i32>(SHAPE_TMP + (<u32>k << 2), (axes >> k) & 1 ? 1 : dimOf(x, k));
  }
}

/** Drops the reduced dims from a keepdims-shaped result (same data, same order). */
function squeezeAxes(out: i32, axes: i32, rankIn: i32): void {
  const r = rec(out);
  let w = 0;
  for (let k = 0; k < rankIn; k++) {
    if ((axes >> k) & 1) continue;
    store<i32>(r + (<u32>w << 2), load<i32>(r + (<u32>k << 2), T_SHAPE), T_SHAPE);
    w++;
  }
  for (let k = w; k < MAX_RANK; k++) store<i32>(r + (<u32>k << 2), 1, T_SHAPE);
  store<i32>(r, w, T_RANK);
}

/**
 * The float64 sum of a contiguous run, two lanes at a time: the order of every full reduction
 * (the fused crossEntropy sums its row losses with it, so its values are sum's).
 */
@inline export function sumRun<T>(qx: usize, inner: i32): f64 {
  const size = sizeof<T>();
  let acc0 = f64x2.splat(0), acc1 = f64x2.splat(0);
  let i = 0;
  if (size == 4) {
    for (; i + 4 <= inner; i += 4) {
      const v = v128.load(qx + (<usize>i << 2));
      acc0 = f64x2.add(acc0, f64x2.promote_low_f32x4(v));
      acc1 = f64x2.add(acc1, f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1)));
    }
  } else {
    for (; i + 4 <= inner; i += 4) {
      acc0 = f64x2.add(acc0, v128.load(qx + (<usize>i << 3)));
      acc1 = f64x2.add(acc1, v128.load(qx + (<usize>i << 3), 16));
    }
  }
  const accs = f64x2.add(acc0, acc1);
  let s = f64x2.extract_lane(accs, 0) + f64x2.extract_lane(accs, 1);
  for (; i < inner; i++) s += <f64>load<T>(qx + <usize>i * size);
  return s;
}

function sumKernel<T>(x: i32, out: i32): void {
  const size = sizeof<T>();
  const n = numelOf(out), po = dataOf(out);
  memory.fill(po, 0, <usize>n * size);
  prepare(rankOf(x), shapePtr(x), x, out, 0);
  const px = dataOf(x);
  const inner = itInner, so = itStride(1);
  for (let r = 0; r < itOuter; r++) {
    const qx = px + <usize>itOffset(0) * size;
    const qo = po + <usize>itOffset(1) * size;
    if (so == 0) {
      store<T>(qo, <T>(<f64>load<T>(qo) + sumRun<T>(qx, inner)));
    } else {
      const lanes = <i32>(16 / size);
      let i = 0;
      for (; i + lanes <= inner; i += lanes) {
        const o = qo + <usize>i * size;
        v128.store(o, v128.add<T>(v128.load(o), v128.load(qx + <usize>i * size)));
      }
      for (; i < inner; i++) {
        const o = qo + <usize>i * size;
        store<T>(o, load<T>(o) + load<T>(qx + <usize>i * size));
      }
    }
    advance();
  }
}

/** Sum over the dims in the `axes` bitmask (a recording op). */
export function sum(x: i32, axes: i32, keepdims: bool): i32 {
  if (x == 0) return 0;
  const rankIn = rankOf(x);
  keptShape(x, axes);
  const dt = dtypeOf(x);
  const out = newTensor(dt, rankIn, SHAPE_TMP);
  if (out == 0) return 0;
  if (dt == DType.float32) sumKernel<f32>(x, out);
  else sumKernel<f64>(x, out);
  if (!keepdims) squeezeAxes(out, axes, rankIn);
  if (recordOp(shouldRecord1(x), Op.sum, out)) {
    recordInput(x); recordAttr(<f64>axes); recordAttr(keepdims ? 1 : 0);
  }
  return out;
}

/**
 * Sums g down to the shape of `like` (undoing a broadcast): the adjoint of every broadcasting op.
 * Returns g itself when the shapes already agree.
 */
export function sumTo(g: i32, like: i32): i32 {
  if (g == 0) return 0;
  const rg = rankOf(g), rl = rankOf(like);
  let axes = 0;
  let same = rg == rl;
  for (let k = 0; k < rg; k++) {
    const kl = k - (rg - rl);
    const dl = kl < 0 ? 1 : dimOf(like, kl);
    if (dl != dimOf(g, k)) { same = false; if (dl == 1) axes |= 1 << k; }
    else if (kl < 0) axes |= 1 << k;
  }
  if (same) return g;
  return reshapeLike(sum(g, axes, true), like);
}

// ————————————————————————————————————————————————————————— max, min, prod

const LANES_TMP = memory.data(16, 16);

@inline function foldIdentity(op: i32): f64 {
  return op == Op.max ? -Infinity : op == Op.min ? Infinity : 1.0;
}

/** a op b for max, min (NaN-propagating, as wasm's f64.max/min) and prod. */
@inline function foldScalar(op: i32, a: f64, b: f64): f64 {
  return op == Op.max ? max(a, b) : op == Op.min ? min(a, b) : a * b;
}

/**
 * Folds a contiguous run of n elements into one value: max/min exactly with v128 lanes, prod in
 * float64 (two f64x2 accumulators, like sum) so a float32 product rounds once per run.
 */
function foldRun<T>(op: i32, p: usize, n: i32): f64 {
  const size = sizeof<T>();
  let i = 0;
  let r = foldIdentity(op);
  if (op == Op.prod) {
    let acc0 = f64x2.splat(1), acc1 = f64x2.splat(1);
    if (size == 4) {
      for (; i + 4 <= n; i += 4) {
        const v = v128.load(p + (<usize>i << 2));
        acc0 = f64x2.mul(acc0, f64x2.promote_low_f32x4(v));
        acc1 = f64x2.mul(acc1, f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1)));
      }
    } else {
      for (; i + 4 <= n; i += 4) {
        acc0 = f64x2.mul(acc0, v128.load(p + (<usize>i << 3)));
        acc1 = f64x2.mul(acc1, v128.load(p + (<usize>i << 3), 16));
      }
    }
    const a = f64x2.mul(acc0, acc1);
    r = f64x2.extract_lane(a, 0) * f64x2.extract_lane(a, 1);
  } else {
    const lanes = <i32>(16 / size);
    if (n >= lanes) {
      let acc = v128.splat<T>(<T>r);
      for (; i + lanes <= n; i += lanes) {
        const v = v128.load(p + <usize>i * size);
        acc = op == Op.max ? v128.max<T>(acc, v) : v128.min<T>(acc, v);
      }
      v128.store(LANES_TMP, acc);
      for (let k = 0; k < lanes; k++) r = foldScalar(op, r, <f64>load<T>(LANES_TMP + <usize>k * size));
    }
  }
  for (; i < n; i++) r = foldScalar(op, r, <f64>load<T>(p + <usize>i * size));
  return r;
}

/** out (keepdims-shaped, broadcast onto x) = op over the reduced dims; out starts at op's identity. */
function foldKernel<T>(op: i32, x: i32, out: i32): void {
  const size = sizeof<T>();
  const n = numelOf(out), po = dataOf(out);
  const init = <T>foldIdentity(op);
  for (let i = 0; i < n; i++) store<T>(po + <usize>i * size, init);
  prepare(rankOf(x), shapePtr(x), x, out, 0);
  const px = dataOf(x);
  const inner = itInner, so = itStride(1);
  const lanes = <i32>(16 / size);
  for (let r = 0; r < itOuter; r++) {
    const qx = px + <usize>itOffset(0) * size;
    const qo = po + <usize>itOffset(1) * size;
    if (so == 0) {
      store<T>(qo, <T>foldScalar(op, <f64>load<T>(qo), foldRun<T>(op, qx, inner)));
    } else {
      // A kept run: fold x into the output lane by lane.
      let i = 0;
      for (; i + lanes <= inner; i += lanes) {
        const o = qo + <usize>i * size;
        const a = v128.load(o), b = v128.load(qx + <usize>i * size);
        v128.store(o, op == Op.max ? v128.max<T>(a, b) : op == Op.min ? v128.min<T>(a, b) : v128.mul<T>(a, b));
      }
      for (; i < inner; i++) {
        const o = qo + <usize>i * size;
        store<T>(o, <T>foldScalar(op, <f64>load<T>(o), <f64>load<T>(qx + <usize>i * size)));
      }
    }
    advance();
  }
}

// ————————————————————————————————————————————————————————— logsumexp

/**
 * PyTorch's stable logsumexp: m = max over the dims, replaced by 0 where it is ±inf (so an
 * all -inf slice gives log(0) = -inf and a +inf gives +inf); out = log(Σ exp(x − m)) + m.
 * `acc` is a scratch tensor shaped like out.
 */
function logsumexpKernel<T>(x: i32, out: i32, acc: i32): void {
  const size = sizeof<T>();
  foldKernel<T>(Op.max, x, out);
  const n = numelOf(out), po = dataOf(out), pa = dataOf(acc);
  for (let i = 0; i < n; i++) {
    const m = load<T>(po + <usize>i * size);
    if (abs<T>(m) == <T>Infinity) store<T>(po + <usize>i * size, <T>0);
    store<T>(pa + <usize>i * size, <T>0);
  }
  prepare(rankOf(x), shapePtr(x), x, out, acc);
  const px = dataOf(x);
  const inner = itInner, so = itStride(1);
  for (let r = 0; r < itOuter; r++) {
    const qx = px + <usize>itOffset(0) * size;
    const qm = po + <usize>itOffset(1) * size;
    const qa = pa + <usize>itOffset(2) * size;
    if (so == 0) {
      const m = load<T>(qm);
      let s: f64 = 0;
      for (let i = 0; i < inner; i++) s += <f64>expT<T>(load<T>(qx + <usize>i * size) - m);
      store<T>(qa, <T>(<f64>load<T>(qa) + s));
    } else {
      for (let i = 0; i < inner; i++) {
        const o = <usize>i * size;
        store<T>(qa + o, load<T>(qa + o) + expT<T>(load<T>(qx + o) - load<T>(qm + o)));
      }
    }
    advance();
  }
  for (let i = 0; i < n; i++) {
    const o = <usize>i * size;
    store<T>(po + o, logT<T>(load<T>(pa + o)) + load<T>(po + o));
  }
}

/**
 * Reduces x over the dims in the `axes` bitmask with Op.sum, max, min, prod or logsumexp (a
 * recording op). Empty reductions give the op's identity: sum 0, prod 1, max -inf, min +inf,
 * logsumexp -inf (the host rejects max/min over an empty dim, as PyTorch does).
 */
export function reduce(op: i32, x: i32, axes: i32, keepdims: bool): i32 {
  if (op == Op.sum) return sum(x, axes, keepdims);
  if (x == 0) return 0;
  const rankIn = rankOf(x);
  const dt = dtypeOf(x);
  keptShape(x, axes);
  const out = newTensor(dt, rankIn, SHAPE_TMP);
  if (out == 0) return 0;
  if (op == Op.logsumexp) {
    const acc = newTensor(dt, rankIn, keptShapePtr(x, axes));
    if (acc == 0) { releaseTensor(out); return 0; }
    if (dt == DType.float32) logsumexpKernel<f32>(x, out, acc);
    else logsumexpKernel<f64>(x, out, acc);
    releaseTensor(acc);
  } else if (dt == DType.float32) {
    foldKernel<f32>(op, x, out);
  } else {
    foldKernel<f64>(op, x, out);
  }
  if (!keepdims) squeezeAxes(out, axes, rankIn);
  if (recordOp(shouldRecord1(x), op, out)) {
    recordInput(x); recordAttr(<f64>axes); recordAttr(keepdims ? 1 : 0);
  }
  return out;
}

// ————————————————————————————————————————————————————————— VJP rules

/**
 * PyTorch's amax/amin rule (scale_grad_by_count): g / count · mask with mask = (x == out), so
 * tied extrema share g evenly, and a NaN result gives NaN gradients for its whole slice.
 */
function extremumGrad(x: i32, axes: i32, gk: i32, outK: i32): i32 {
  const mask = cast(compare(Op.eq, x, outK), dtypeOf(x));
  return mul(div(gk, sum(mask, axes, true)), mask);
}

/**
 * The product of the other elements of each slice, times g, safe with zeros. Where a slice has
 * no zero this is PyTorch's g · out / x. With zeros, p1 = prod of the nonzero elements and
 * pz = prod of the zeros (0, but its derivative carries the mixed second-order term):
 *   nonzero x_j: p1 / x_j · pz        zero x_i: p1 · Π(other zeros)
 * where Π(other zeros) is 1 for a single zero, (Σ zeros − x_i) for two (exact second
 * derivatives) and 0 for more.
 */
function prodGrad(x: i32, axes: i32, gk: i32, outK: i32): i32 {
  const dt = dtypeOf(x);
  const isZero = compareScalarOp(Op.eq, x, 0);
  if (!anySetGuarded(isZero)) return mul(gk, div(outK, x));
  const one = scalar(dt, 1), zero = scalar(dt, 0);
  const nonzero = where(isZero, one, x);
  const p1 = reduce(Op.prod, nonzero, axes, true);
  const pz = reduce(Op.prod, where(isZero, x, one), axes, true);
  const zeros = sum(cast(isZero, dt), axes, true);
  const sumZeros = sum(where(isZero, x, zero), axes, true);
  const otherZeros = where(compareScalarOp(Op.eq, zeros, 1), one,
    where(compareScalarOp(Op.eq, zeros, 2), sub(sumZeros, x), zero));
  return mul(gk, where(isZero, mul(p1, otherZeros), mul(div(p1, nonzero), pz)));
}

export function vjpReduce(op: i32, r: u32, g: i32): void {
  const x = recInput(r, 0);
  if (!needsGrad(x)) return;
  const axes = <i32>recAttr(r, 0);
  const keepdims = recAttr(r, 1) != 0;
  // The gradient arrives shaped like the output; put the reduced dims back as size 1.
  const gk = keepdims ? g : reshapeTo(g, rankOf(x), keptShapePtr(x, axes));
  if (op == Op.sum) { accumulate(x, expandLike(gk, x)); return; }
  const out = recOut(r);
  const outK = keepdims ? out : reshapeTo(out, rankOf(x), keptShapePtr(x, axes));
  switch (op) {
    case Op.max:
    case Op.min: { accumulate(x, extremumGrad(x, axes, gk, outK)); return; }
    case Op.prod: {
      // Reducing nothing is the identity (PyTorch returns g for a rank-0 prod, even at inf).
      accumulate(x, axes == 0 ? gk : prodGrad(x, axes, gk, outK));
      return;
    }
    case Op.logsumexp: { accumulate(x, mul(gk, unary(Op.exp, sub(x, outK)))); return; }
    default: fail(E_NO_RULE, op);
  }
}

/** x's shape with the masked dims set to 1, in a static buffer valid until the next call. */
export function keptShapePtr(x: i32, axes: i32): u32 {
  keptShape(x, axes);
  return SHAPE_TMP;
}

/**
 * Each output element depends on its own slice only, so the JVP is the slice sum of the tangent
 * weighted by ∂out/∂x — the VJP's contribution for a unit cotangent.
 */
export function jvpReduce(op: i32, r: u32): void {
  const x = recInput(r, 0), out = recOut(r);
  const tx = tangentOf(x);
  const axes = <i32>recAttr(r, 0);
  const keepdims = recAttr(r, 1) != 0;
  if (op == Op.sum || axes == 0) { setTangent(out, op == Op.sum ? sum(tx, axes, keepdims) : reshapeLike(tx, out)); return; }
  const outK = keepdims ? out : reshapeTo(out, rankOf(x), keptShapePtr(x, axes));
  const one = scalar(dtypeOf(x), 1);
  let w: i32;
  switch (op) {
    case Op.max:
    case Op.min: w = extremumGrad(x, axes, one, outK); break;
    case Op.prod: w = prodGrad(x, axes, one, outK); break;
    case Op.logsumexp: w = unary(Op.exp, sub(x, outK)); break;
    default: fail(E_NO_RULE, op); return;
  }
  setTangent(out, sum(mul(tx, w), axes, keepdims));
}
