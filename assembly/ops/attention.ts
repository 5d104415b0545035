// Scaled dot-product attention as one op: out = softmax(scale·q·kᵀ [+ the causal mask])·v for
// q [N, L, E], k [N, S, E], v [N, S, Ev] → [N, L, Ev] (torch.nn.functional.
// scaled_dot_product_attention's math, is_causal top-left aligned: query i sees keys j ≤ i). The
// host sends masked and dropout calls to its composite (src/ops/attention.ts).
//
// The forward runs one query row at a time: its scores go to a scratch row of S values (never the
// L×S matrix), then the max, exp(s − max) and their sum, the weights normalised, and the weighted
// sum of value rows. A row with no visible key, or whose scores are all −inf, gives zeros (as
// PyTorch's _safe_softmax). Its rules recompute the weights with recording ops (products, the
// softmax and softmaxBackward ops), so they are differentiable again:
//   P = softmax(scale·q·kᵀ + mask)   v̄ = Pᵀ·g   dS = scale·softmaxBackward(g·vᵀ, P)   q̄ = dS·k   k̄ = dSᵀ·q
//   ȯ = softmaxBackward(scale·(q̇·kᵀ + q·k̇ᵀ), P)·v + P·v̇

import { Op, DType } from "../core/vocabulary";
import { newTensor, releaseTensor, dtypeOf, dataOf, dimOf, needsGrad, fail, E_OOM } from "../core/tensor";
import { alloc, free } from "../core/alloc";
import { recordTarget, recordOp, recordInput, recordAttr, recInput, recAttr, recOut, accumulate } from "../engine/tape";
import { tangentOf, setTangent } from "../engine/forward";
import { add, mulScalar } from "./elementwise";
import { matmul } from "./matmul";
import { softmax, softmaxBackward, rowMaxF32, rowExpSumF32, rowScaleF32 } from "./activation";
import { expT } from "../core/math";

const SHAPE3 = memory.data(12);

/** q_i·k_j over E float32s, in four lanes then added in a fixed order. */
@inline function dotF32(pa: usize, pb: usize, E: i32): f32 {
  let acc = f32x4.splat(0);
  let e = 0;
  for (; e + 4 <= E; e += 4) acc = f32x4.add(acc, f32x4.mul(v128.load(pa + (<usize>e << 2)), v128.load(pb + (<usize>e << 2))));
  let s = (f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1)) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
  for (; e < E; e++) s += load<f32>(pa + (<usize>e << 2)) * load<f32>(pb + (<usize>e << 2));
  return s;
}

/** One float32 output row: scores into `row`, softmax in place, then Σ_j p_j·v_j into po. */
function attendRowF32(pq: usize, pk: usize, pv: usize, po: usize, n: i32, E: i32, Ev: i32, scale: f32, row: usize): void {
  memory.fill(po, 0, <usize>Ev << 2);
  if (n == 0) return;
  for (let j = 0; j < n; j++) store<f32>(row + (<usize>j << 2), dotF32(pq, pk + <usize>j * <usize>E * 4, E) * scale);
  const m = rowMaxF32(row, n);
  if (m == -Infinity) {
    // every score is −inf: zeros (safe softmax), unless a NaN hides among them
    let nan = false;
    for (let j = 0; j < n; j++) { const s = load<f32>(row + (<usize>j << 2)); if (s != s) nan = true; }
    if (!nan) return;
  }
  rowScaleF32(row, n, <f32>(1.0 / rowExpSumF32(row, row, n, m)));
  for (let j = 0; j < n; j++) {
    const p = f32x4.splat(load<f32>(row + (<usize>j << 2)));
    const vj = pv + <usize>j * <usize>Ev * 4;
    let e = 0;
    for (; e + 4 <= Ev; e += 4) {
      const q = po + (<usize>e << 2);
      v128.store(q, f32x4.add(v128.load(q), f32x4.mul(p, v128.load(vj + (<usize>e << 2)))));
    }
    const ps = f32x4.extract_lane(p, 0);
    for (; e < Ev; e++) store<f32>(po + (<usize>e << 2), load<f32>(po + (<usize>e << 2)) + ps * load<f32>(vj + (<usize>e << 2)));
  }
}

/** One float64 output row, the same steps with float64 sums. */
function attendRowF64(pq: usize, pk: usize, pv: usize, po: usize, n: i32, E: i32, Ev: i32, scale: f64, row: usize): void {
  memory.fill(po, 0, <usize>Ev << 3);
  if (n == 0) return;
  let m: f64 = -Infinity;
  for (let j = 0; j < n; j++) {
    let d: f64 = 0;
    const kj = pk + <usize>j * <usize>E * 8;
    for (let e = 0; e < E; e++) d += load<f64>(pq + (<usize>e << 3)) * load<f64>(kj + (<usize>e << 3));
    const s = d * scale;
    store<f64>(row + (<usize>j << 3), s);
    m = max(m, s); // NaN propagates
  }
  if (m == -Infinity) return; // every score is −inf: zeros (safe softmax)
  let total: f64 = 0;
  for (let j = 0; j < n; j++) {
    const p = expT<f64>(load<f64>(row + (<usize>j << 3)) - m);
    store<f64>(row + (<usize>j << 3), p);
    total += p;
  }
  for (let j = 0; j < n; j++) {
    const p = load<f64>(row + (<usize>j << 3)) / total;
    const vj = pv + <usize>j * <usize>Ev * 8;
    for (let e = 0; e < Ev; e++) store<f64>(po + (<usize>e << 3), load<f64>(po + (<usize>e << 3)) + p * load<f64>(vj + (<usize>e << 3)));
  }
}

/**
 * softmax(scale·q·kᵀ + mask)·v for q [N, L, E], k [N, S, E], v [N, S, Ev] of one float dtype
 * (the host checks shapes), with the causal mask when `causal` is 1.
 */
export function attention(q: i32, k: i32, v: i32, scale: f64, causal: i32): i32 {
  if (q == 0 || k == 0 || v == 0) return 0;
  const N = dimOf(q, 0), L = dimOf(q, 1), E = dimOf(q, 2), S = dimOf(k, 1), Ev = dimOf(v, 2);
  const dt = dtypeOf(q);
  store<i32>(SHAPE3, N); store<i32>(SHAPE3, L, 4); store<i32>(SHAPE3, Ev, 8);
  const out = newTensor(dt, 3, SHAPE3);
  if (out == 0) return 0;
  const size: usize = dt == DType.float32 ? 4 : 8;
  const row = alloc(<u32>(max(S, 1) * <i32>size));
  if (row == 0) { releaseTensor(out); fail(E_OOM, Op.attention); return 0; }
  const pq = dataOf(q), pk = dataOf(k), pv = dataOf(v), po = dataOf(out);
  for (let b = 0; b < N; b++) {
    const kb = pk + <usize>b * <usize>S * <usize>E * size, vb = pv + <usize>b * <usize>S * <usize>Ev * size;
    for (let i = 0; i < L; i++) {
      const n = causal != 0 ? min(i + 1, S) : S;
      const qi = pq + (<usize>b * <usize>L + <usize>i) * <usize>E * size;
      const oi = po + (<usize>b * <usize>L + <usize>i) * <usize>Ev * size;
      if (dt == DType.float32) attendRowF32(qi, kb, vb, oi, n, E, Ev, <f32>scale, row);
      else attendRowF64(qi, kb, vb, oi, n, E, Ev, scale, row);
    }
  }
  free(row);
  if (recordOp(recordTarget(needsGrad(q) || needsGrad(k) || needsGrad(v)), Op.attention, out)) {
    recordInput(q); recordInput(k); recordInput(v); recordAttr(scale); recordAttr(<f64>causal);
  }
  return out;
}

// ————————————————————————————————————————————————————————— derivative rules

/** A [L, S] float mask: 0 where key j is visible to query i (j ≤ i), −inf elsewhere. */
function causalBias(L: i32, S: i32, dt: i32): i32 {
  store<i32>(SHAPE3, L); store<i32>(SHAPE3, S, 4);
  const t = newTensor(dt, 2, SHAPE3);
  if (t == 0) return 0;
  const p = dataOf(t);
  for (let i = 0; i < L; i++) {
    for (let j = 0; j < S; j++) {
      const o = <usize>i * <usize>S + <usize>j;
      if (dt == DType.float32) store<f32>(p + (o << 2), j <= i ? 0 : -Infinity);
      else store<f64>(p + (o << 3), j <= i ? 0 : -Infinity);
    }
  }
  return t;
}

/** The attention weights of record r, recomputed with recording ops. */
function weightsOf(r: u32): i32 {
  const q = recInput(r, 0), k = recInput(r, 1);
  let s = mulScalar(matmul(q, k, 0, 1), recAttr(r, 0));
  if (recAttr(r, 1) != 0) s = add(s, causalBias(dimOf(q, 1), dimOf(k, 1), dtypeOf(q)));
  return softmax(Op.softmax, s, 2);
}

export function vjpAttention(op: i32, r: u32, g: i32): void {
  const q = recInput(r, 0), k = recInput(r, 1), v = recInput(r, 2);
  const P = weightsOf(r);
  if (needsGrad(v)) accumulate(v, matmul(P, g, 1, 0));
  if (needsGrad(q) || needsGrad(k)) {
    const dS = mulScalar(softmaxBackward(Op.softmaxBackward, matmul(g, v, 0, 1), P, 2), recAttr(r, 0));
    if (needsGrad(q)) accumulate(q, matmul(dS, k, 0, 0));
    if (needsGrad(k)) accumulate(k, matmul(dS, q, 1, 0));
  }
}

export function jvpAttention(op: i32, r: u32): void {
  const q = recInput(r, 0), k = recInput(r, 1), v = recInput(r, 2);
  const tq = tangentOf(q), tk = tangentOf(k), tv = tangentOf(v);
  const P = weightsOf(r);
  let out = tv != 0 ? matmul(P, tv, 0, 0) : 0;
  if (tq != 0 || tk != 0) {
    const a = tq != 0 ? matmul(tq, k, 0, 1) : 0, b = tk != 0 ? matmul(q, tk, 0, 1) : 0;
    const ds = mulScalar(a == 0 ? b : b == 0 ? a : add(a, b), recAttr(r, 0));
    const dP = matmul(softmaxBackward(Op.softmaxBackward, ds, P, 2), v, 0, 0);
    out = out == 0 ? dP : add(out, dP);
  }
  setTangent(recOut(r), out);
}
