// Reductions over any set of axes, with keepdims: sum, max, min, prod, logsumexp — kernels and
// VJP rules. Axes are a bitmask over the input's dims.
//
// Every kernel walks the input in row-major order with the output broadcast onto it (stride 0
// on reduced dims), so the order of accumulation is fixed: results never depend on threads or
// engines. float32 sums accumulate in float64 along contiguous runs.

import { Op, DType } from "./vocabulary";
import {
  newTensor, dtypeOf, rankOf, dimOf, dataOf, numelOf, shapePtr, MAX_RANK, rec, T_RANK, T_SHAPE,
  fail, E_NO_RULE,
} from "./tensor";
import { prepare, advance, itInner, itOuter, itOffset, itStride } from "./iter";
import { shouldRecord1, recordOp, recordInput, recordAttr, recAttr, recInput, recOut, accumulate } from "./tape";
import { reshapeLike, expandLike, reshapeTo } from "./shape";

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
      // The run is reduced into one element: accumulate it in float64, two lanes at a time.
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
      store<T>(qo, <T>(<f64>load<T>(qo) + s));
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
  if (shouldRecord1(x) && recordOp(Op.sum, out)) {
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

// Placeholders filled in by the other reductions below.

export function vjpReduce(op: i32, r: u32, g: i32): void {
  const x = recInput(r, 0);
  const axes = <i32>recAttr(r, 0);
  const keepdims = recAttr(r, 1) != 0;
  // The gradient arrives shaped like the output; put the reduced dims back as size 1.
  const gk = keepdims ? g : reshapeTo(g, rankOf(x), keptShapePtr(x, axes));
  switch (op) {
    case Op.sum: { accumulate(x, expandLike(gk, x)); return; }
    default: fail(E_NO_RULE, op);
  }
}

/** x's shape with the masked dims set to 1, in a static buffer valid until the next call. */
export function keptShapePtr(x: i32, axes: i32): u32 {
  keptShape(x, axes);
  return SHAPE_TMP;
}
