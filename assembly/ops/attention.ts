// Scaled dot-product attention as one op: out = softmax(scale·q·kᵀ [+ the causal mask])·v for
// q [N, L, E], k [N, S, E], v [N, S, Ev] → [N, L, Ev] (torch.nn.functional.
// scaled_dot_product_attention's math, is_causal top-left aligned: query i sees keys j ≤ i). The
// host sends masked and dropout calls to its composite (src/ops/attention.ts).
//
// Both directions run a block of query rows at a time (at most BLOCK_SCORES scores, never the
// L×S matrix; causal blocks stop at the last key their last row sees), each block's products by
// matmul's kernels. The forward: P = softmax(scale·q·kᵀ) row by row (the max, exp(s − max), their
// sum; a row with no visible key, or whose scores are all −inf, gives zeros as PyTorch's
// _safe_softmax), then out = P·v.
//
// Its gradient is the op attentionBackward(q, k, v, g), flash-attention style: each block's
// weights P are recomputed exactly as the forward made them (the max and sum are O(S) per row
// beside the O(S·E) scores, so nothing is saved from the forward), then
//   dP = g·vᵀ   dS = scale·P·(dP − Σ_j P·dP)   q̄ = dS·k   k̄ += dSᵀ·q   v̄ += Pᵀ·g
// with k̄ and v̄ summed block after block in order: the bits do not depend on anything but the
// shapes. Its output packs q̄, k̄ and v̄ (as qr packs Q and R) into one tensor
// [N, L + 2·S, max(E, Ev)], so each is one slice.
//
// The rules are recording ops on the weights P = softmax(scale·q·kᵀ + mask) (the L×S matrix:
// they run only for higher derivatives and forward mode):
//   attention          VJP g ↦ attentionBackward(q, k, v, g)    JVP (q̇, k̇, v̇) ↦ Ṗ·v + P·v̇
//                      with Ṗ = softmaxBackward(scale·(q̇·kᵀ + q·k̇ᵀ), P)
//   attentionBackward  B(q, k, v, g) = ∇⟨g, attention(q, k, v)⟩ is linear in g and its Jacobian in
//                      (q, k, v) is a symmetric Hessian, so its VJP for ū = (ū_q, ū_k, ū_v) is
//                      ḡ = attention's JVP along ū and (q̄, k̄, v̄) = B's JVP along ū with ġ = 0.
//                      Its JVP differentiates v̄ = Pᵀ·g, dS = scale·softmaxBackward(g·vᵀ, P),
//                      q̄ = dS·k, k̄ = dSᵀ·q by the product rule.

import { Op, DType } from "../core/vocabulary";
import { newTensor, releaseTensor, dtypeOf, dataOf, dimOf, needsGrad, fail, E_OOM } from "../core/tensor";
import { alloc, free } from "../core/alloc";
import { recordTarget, recordOp, recordInput, recordAttr, recInput, recAttr, recOut, accumulate } from "../engine/tape";
import { tangentOf, setTangent, flushJvp } from "../engine/forward";
import { add, sub, mul, mulScalar } from "./elementwise";
import { sum } from "./reduce";
import { matmul, gemm } from "./matmul";
import { slice, pad } from "./shape";
import { softmax, softmaxBackward, rowMaxF32, rowExpSumF32, rowScaleF32 } from "./activation";
import { expT } from "../core/math";

const SHAPE3 = memory.data(12);

/** Σ a_e·b_e over E float32s, in four lanes then added in a fixed order. */
@inline function dotF32(pa: usize, pb: usize, E: i32): f32 {
  let acc = f32x4.splat(0);
  let e = 0;
  for (; e + 4 <= E; e += 4) acc = f32x4.add(acc, f32x4.mul(v128.load(pa + (<usize>e << 2)), v128.load(pb + (<usize>e << 2))));
  let s = (f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1)) + (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
  for (; e < E; e++) s += load<f32>(pa + (<usize>e << 2)) * load<f32>(pb + (<usize>e << 2));
  return s;
}

/** Σ a_e·b_e over n float64s, in two lanes then added. */
@inline function dotF64(pa: usize, pb: usize, n: i32): f64 {
  let acc = f64x2.splat(0);
  let e = 0;
  for (; e + 2 <= n; e += 2) acc = f64x2.add(acc, f64x2.mul(v128.load(pa + (<usize>e << 3)), v128.load(pb + (<usize>e << 3))));
  let s = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
  for (; e < n; e++) s += load<f64>(pa + (<usize>e << 3)) * load<f64>(pb + (<usize>e << 3));
  return s;
}

@inline function dot<T>(pa: usize, pb: usize, n: i32): T {
  if (sizeof<T>() == 4) return <T>dotF32(pa, pb, n);
  return <T>dotF64(pa, pb, n);
}

/**
 * Softmax in place of scale·row[0…n) for a float32 row of dot products q_i·k_j. False when the
 * weights are all zero (no visible key, or every score −inf: the safe softmax's zeros).
 */
function softmaxRowF32(row: usize, n: i32, scale: f32): bool {
  if (n == 0) return false;
  rowScaleF32(row, n, scale);
  const m = rowMaxF32(row, n);
  if (m == -Infinity) {
    // every score is −inf: zeros, unless a NaN hides among them
    let nan = false;
    for (let j = 0; j < n; j++) { const s = load<f32>(row + (<usize>j << 2)); if (s != s) nan = true; }
    if (!nan) return false;
  }
  rowScaleF32(row, n, <f32>(1.0 / rowExpSumF32(row, row, n, m)));
  return true;
}

/** The same for a float64 row, with float64 sums. */
function softmaxRowF64(row: usize, n: i32, scale: f64): bool {
  if (n == 0) return false;
  let m: f64 = -Infinity;
  for (let j = 0; j < n; j++) {
    const s = load<f64>(row + (<usize>j << 3)) * scale;
    store<f64>(row + (<usize>j << 3), s);
    m = max(m, s); // NaN propagates
  }
  if (m == -Infinity) return false;
  let total: f64 = 0;
  for (let j = 0; j < n; j++) {
    const p = expT<f64>(load<f64>(row + (<usize>j << 3)) - m);
    store<f64>(row + (<usize>j << 3), p);
    total += p;
  }
  for (let j = 0; j < n; j++) store<f64>(row + (<usize>j << 3), load<f64>(row + (<usize>j << 3)) / total);
  return true;
}

@inline function softmaxRow<T>(row: usize, n: i32, scale: f64): bool {
  if (sizeof<T>() == 4) return softmaxRowF32(row, n, <f32>scale);
  return softmaxRowF64(row, n, scale);
}

// ————————————————————————————————————————————————————————— blocks of query rows

/** dst[0…n) += src[0…n). */
function addInto<T>(dst: usize, src: usize, n: i32): void {
  const size = <usize>sizeof<T>(), lanes = <i32>(16 / size);
  let e = 0;
  for (; e + lanes <= n; e += lanes) {
    const o = <usize>e * size;
    v128.store(dst + o, v128.add<T>(v128.load(dst + o), v128.load(src + o)));
  }
  for (; e < n; e++) store<T>(dst + <usize>e * size, load<T>(dst + <usize>e * size) + load<T>(src + <usize>e * size));
}

// A block of query rows holds at most this many scores (and as many dS values): the L×S matrix
// is never made, yet the products of a block are big enough for the register-tiled kernel.
const BLOCK_SCORES = 16384;

// Causal blocks stop at the last key their last row sees: shorter blocks skip more of the masked
// triangle (at L = S = 64, 16-row blocks do 5/8 of the full products' work).
const CAUSAL_ROWS = 16;

/** Rows per block for S keys: a multiple of 4 (the product kernel's tile), at least 4, at most L (and 1 when L is 0). */
@inline function blockRows(L: i32, S: i32, causal: i32): i32 {
  return max(1, min(L, max(4, min(BLOCK_SCORES / max(S, 1), causal != 0 ? CAUSAL_ROWS : L) & ~3)));
}

/**
 * The weights of query rows i0…i0+R against the first n keys into P [R, n]: the scores by one
 * product, then each row's softmax (zeros past the keys it sees, or for a row with none).
 */
function weightsBlock<T>(qb: usize, pk: usize, P: usize, i0: i32, R: i32, n: i32, E: i32, scale: f64, causal: i32): bool {
  if (!gemm<T>(qb, pk, P, R, E, n, false, true)) return false;
  const size = <usize>sizeof<T>(), ld = <usize>n * size;
  for (let r = 0; r < R; r++) {
    const p = P + <usize>r * ld;
    const seen = causal != 0 ? min(i0 + r + 1, n) : n;
    if (!softmaxRow<T>(p, seen, scale)) memory.fill(p, 0, ld);
    else memory.fill(p + <usize>seen * size, 0, <usize>(n - seen) * size);
  }
  return true;
}

/** The keys a block of rows i0…i0+rows sees: all S, or up to its last row when causal. */
@inline function blockKeys(i0: i32, rows: i32, S: i32, causal: i32): i32 { return causal != 0 ? min(i0 + rows, S) : S; }

function attentionKernel<T>(pq: usize, pk: usize, pv: usize, po: usize, N: i32, L: i32, S: i32, E: i32, Ev: i32, scale: f64, causal: i32, P: usize): bool {
  const size = <usize>sizeof<T>(), R = blockRows(L, S, causal);
  for (let b = 0; b < N; b++) {
    const kb = pk + <usize>b * <usize>S * <usize>E * size, vb = pv + <usize>b * <usize>S * <usize>Ev * size;
    for (let i0 = 0; i0 < L; i0 += R) {
      const rows = min(R, L - i0), n = blockKeys(i0, rows, S, causal);
      const qb = pq + (<usize>b * <usize>L + <usize>i0) * <usize>E * size, ob = po + (<usize>b * <usize>L + <usize>i0) * <usize>Ev * size;
      if (!weightsBlock<T>(qb, kb, P, i0, rows, n, E, scale, causal) || !gemm<T>(P, vb, ob, rows, n, Ev, false, false)) return false;
    }
  }
  return true;
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
  const P = alloc(<u32>(<usize>blockRows(L, S, causal) * <usize>max(S, 1) * size));
  const ok = P != 0 && (dt == DType.float32
    ? attentionKernel<f32>(dataOf(q), dataOf(k), dataOf(v), dataOf(out), N, L, S, E, Ev, scale, causal, P)
    : attentionKernel<f64>(dataOf(q), dataOf(k), dataOf(v), dataOf(out), N, L, S, E, Ev, scale, causal, P));
  if (P != 0) free(P);
  if (!ok) { releaseTensor(out); fail(E_OOM, Op.attention); return 0; }
  if (recordOp(recordTarget(needsGrad(q) || needsGrad(k) || needsGrad(v)), Op.attention, out)) {
    recordInput(q); recordInput(k); recordInput(v); recordAttr(scale); recordAttr(<f64>causal);
  }
  return out;
}

// ————————————————————————————————————————————————————————— the gradient as an op

/**
 * Rows 0…n of `cols` values from src (compact) into dst (rows `ld` values apart): added to rows
 * below `done` (written by an earlier block), copied into the rest.
 */
function intoRows<T>(dst: usize, ld: i32, src: usize, n: i32, cols: i32, done: i32): void {
  const size = <usize>sizeof<T>();
  for (let r = 0; r < n; r++) {
    const d = dst + <usize>r * <usize>ld * size, s = src + <usize>r * <usize>cols * size;
    if (r < done) addInto<T>(d, s, cols);
    else memory.copy(d, s, <usize>cols * size);
  }
}

/** d = p·(d − c)·s over n values (softmax's gradient, then the scale). */
function scoreGradient<T>(p: usize, d: usize, n: i32, c: T, s: T): void {
  const size = <usize>sizeof<T>(), lanes = <i32>(16 / size);
  const vc = v128.splat<T>(c), vs = v128.splat<T>(s);
  let j = 0;
  for (; j + lanes <= n; j += lanes) {
    const o = <usize>j * size;
    v128.store(d + o, v128.mul<T>(v128.mul<T>(v128.load(p + o), v128.sub<T>(v128.load(d + o), vc)), vs));
  }
  for (; j < n; j++) store<T>(d + <usize>j * size, load<T>(p + <usize>j * size) * (load<T>(d + <usize>j * size) - c) * s);
}

/**
 * Rows i0…i0+R of one batch element against its first n keys (every key the block sees): P and
 * dS [R, n], then q̄ of the block and the block's terms into k̄ and v̄ (rows W values apart in the
 * packed output; rows below `done` hold earlier blocks' terms). `tmp` holds one [max(R, n), W]
 * product.
 */
function backwardBlock<T>(pq: usize, pk: usize, pv: usize, pg: usize, pdq: usize, pdk: usize, pdv: usize, W: i32,
                          i0: i32, R: i32, n: i32, done: i32, E: i32, Ev: i32, scale: f64, causal: i32, P: usize, dS: usize, tmp: usize): bool {
  const size = <usize>sizeof<T>(), ld = <usize>n * size;
  const qb = pq + <usize>i0 * <usize>E * size, gb = pg + <usize>i0 * <usize>Ev * size;
  let ok = weightsBlock<T>(qb, pk, P, i0, R, n, E, scale, causal);
  ok = ok && gemm<T>(gb, pv, dS, R, Ev, n, false, true); // dP = g·vᵀ
  for (let r = 0; r < R; r++) {
    const p = P + <usize>r * ld, d = dS + <usize>r * ld;
    scoreGradient<T>(p, d, n, dot<T>(p, d, n), <T>scale);
  }
  // q̄ = dS·k, straight into the output when its rows are compact there
  const dq = pdq + <usize>i0 * <usize>W * size;
  ok = ok && gemm<T>(dS, pk, W == E ? dq : tmp, R, n, E, false, false);
  if (W != E) intoRows<T>(dq, W, tmp, R, E, 0);
  ok = ok && gemm<T>(dS, qb, tmp, n, R, E, true, false); // dSᵀ·q
  intoRows<T>(pdk, W, tmp, n, E, done);
  ok = ok && gemm<T>(P, gb, tmp, n, R, Ev, true, false); // Pᵀ·g
  intoRows<T>(pdv, W, tmp, n, Ev, done);
  return ok;
}

function attentionBackwardKernel<T>(pq: usize, pk: usize, pv: usize, pg: usize, po: usize, N: i32, L: i32, S: i32, E: i32, Ev: i32,
                                    scale: f64, causal: i32, P: usize, dS: usize, tmp: usize): bool {
  const size = <usize>sizeof<T>();
  const W = max(E, Ev), R = blockRows(L, S, causal);
  for (let b = 0; b < N; b++) {
    const qo = <usize>b * <usize>L * <usize>E * size, go = <usize>b * <usize>L * <usize>Ev * size;
    const ko = <usize>b * <usize>S * <usize>E * size, vo = <usize>b * <usize>S * <usize>Ev * size;
    const pdq = po + <usize>b * <usize>(L + 2 * S) * <usize>W * size;
    const pdk = pdq + <usize>L * <usize>W * size, pdv = pdk + <usize>S * <usize>W * size;
    let done = 0; // k̄ and v̄ rows written so far
    for (let i0 = 0; i0 < L; i0 += R) {
      const rows = min(R, L - i0);
      const n = blockKeys(i0, rows, S, causal);
      if (!backwardBlock<T>(pq + qo, pk + ko, pv + vo, pg + go, pdq, pdk, pdv, W, i0, rows, n, done, E, Ev, scale, causal, P, dS, tmp)) return false;
      done = n;
    }
    // keys no query sees (causal, S > L)
    memory.fill(pdk + <usize>done * <usize>W * size, 0, <usize>(S - done) * <usize>W * size);
    memory.fill(pdv + <usize>done * <usize>W * size, 0, <usize>(S - done) * <usize>W * size);
  }
  return true;
}

/**
 * attention's gradient for the adjoint g [N, L, Ev] of its output: q̄, k̄ and v̄ packed in one
 * tensor [N, L + 2·S, max(E, Ev)] (rows: q̄, then k̄, then v̄; columns past a part's width zero),
 * a block of query rows at a time.
 */
export function attentionBackward(q: i32, k: i32, v: i32, g: i32, scale: f64, causal: i32): i32 {
  if (q == 0 || k == 0 || v == 0 || g == 0) return 0;
  const N = dimOf(q, 0), L = dimOf(q, 1), E = dimOf(q, 2), S = dimOf(k, 1), Ev = dimOf(v, 2), W = max(E, Ev);
  const dt = dtypeOf(q);
  store<i32>(SHAPE3, N); store<i32>(SHAPE3, L + 2 * S, 4); store<i32>(SHAPE3, W, 8);
  const out = newTensor(dt, 3, SHAPE3);
  if (out == 0) return 0;
  const size: usize = dt == DType.float32 ? 4 : 8;
  const R = blockRows(L, S, causal), block = <usize>R * <usize>max(S, 1) * size;
  const P = alloc(<u32>(2 * block + <usize>max(max(S, R), 1) * <usize>max(W, 1) * size));
  if (P == 0) { releaseTensor(out); fail(E_OOM, Op.attentionBackward); return 0; }
  const po = dataOf(out);
  if (E != Ev) memory.fill(po, 0, <usize>N * <usize>(L + 2 * S) * <usize>W * size); // the narrower part's columns
  const ok = dt == DType.float32
    ? attentionBackwardKernel<f32>(dataOf(q), dataOf(k), dataOf(v), dataOf(g), po, N, L, S, E, Ev, scale, causal, P, P + block, P + 2 * block)
    : attentionBackwardKernel<f64>(dataOf(q), dataOf(k), dataOf(v), dataOf(g), po, N, L, S, E, Ev, scale, causal, P, P + block, P + 2 * block);
  free(P);
  if (!ok) { releaseTensor(out); fail(E_OOM, Op.attentionBackward); return 0; }
  if (recordOp(recordTarget(needsGrad(q) || needsGrad(k) || needsGrad(v) || needsGrad(g)), Op.attentionBackward, out)) {
    recordInput(q); recordInput(k); recordInput(v); recordInput(g); recordAttr(scale); recordAttr(<f64>causal);
  }
  return out;
}

// ————————————————————————————————————————————————————————— derivative rules

const SPEC = memory.data(36);
const LAST = 1 << 2; // the last axis of [N, L, S]
const OUT3 = memory.data(12); // backwardTangent's three results

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

/** The attention weights of record r (attention or attentionBackward), recomputed with recording ops. */
function weightsOf(r: u32): i32 {
  const q = recInput(r, 0), k = recInput(r, 1);
  let s = mulScalar(matmul(q, k, 0, 1), recAttr(r, 0));
  if (recAttr(r, 1) != 0) s = add(s, causalBias(dimOf(q, 1), dimOf(k, 1), dtypeOf(q)));
  return softmax(Op.softmax, s, 2);
}

@inline function addOr(a: i32, b: i32): i32 { return a == 0 ? b : b == 0 ? a : add(a, b); }

/** Ṗ = softmaxBackward(scale·(q̇·kᵀ + q·k̇ᵀ), P), or 0 when q̇ and k̇ are 0. */
function weightsTangent(q: i32, k: i32, P: i32, scale: f64, tq: i32, tk: i32): i32 {
  if (tq == 0 && tk == 0) return 0;
  const ds = mulScalar(addOr(tq != 0 ? matmul(tq, k, 0, 1) : 0, tk != 0 ? matmul(q, tk, 0, 1) : 0), scale);
  return softmaxBackward(Op.softmaxBackward, ds, P, 2);
}

/** attention's tangent Ṗ·v + P·v̇ along (q̇, k̇, v̇) (0 where a tangent is 0). */
function outputTangent(q: i32, k: i32, v: i32, P: i32, scale: f64, tq: i32, tk: i32, tv: i32): i32 {
  const dP = weightsTangent(q, k, P, scale, tq, tk);
  return addOr(tv != 0 ? matmul(P, tv, 0, 0) : 0, dP != 0 ? matmul(dP, v, 0, 0) : 0);
}

/** Rows from…from + rows and the first `cols` columns of a packed [N, L + 2·S, W] gradient. */
function unpack(packed: i32, from: i32, rows: i32, cols: i32): i32 {
  if (packed == 0) return 0;
  flushJvp(); // SPEC is read again after recordOp, which may run a pending JVP
  store<i32>(SPEC, 0); store<i32>(SPEC, 1, 4); store<i32>(SPEC, dimOf(packed, 0), 8);
  store<i32>(SPEC, from, 12); store<i32>(SPEC, 1, 16); store<i32>(SPEC, rows, 20);
  store<i32>(SPEC, 0, 24); store<i32>(SPEC, 1, 28); store<i32>(SPEC, cols, 32);
  return slice(packed, SPEC, -1);
}

/** x placed at row `from` of zeros shaped [N, rows, W] (a recording op). */
function placed(x: i32, from: i32, rows: i32, W: i32): i32 {
  flushJvp(); // SHAPE3 and SPEC are read again after recordOp
  store<i32>(SHAPE3, dimOf(x, 0)); store<i32>(SHAPE3, rows, 4); store<i32>(SHAPE3, W, 8);
  store<i32>(SPEC, 0); store<i32>(SPEC, 1, 4); store<i32>(SPEC, from, 8); store<i32>(SPEC, 1, 12); store<i32>(SPEC, 0, 16); store<i32>(SPEC, 1, 20);
  return pad(x, SHAPE3, SPEC, 0);
}

/** q̄, k̄ and v̄ (each may be 0) packed as attentionBackward packs them (recording ops). */
function pack(dq: i32, dk: i32, dv: i32, L: i32, S: i32, W: i32): i32 {
  const rows = L + 2 * S;
  const a = dq != 0 ? placed(dq, 0, rows, W) : 0, b = dk != 0 ? placed(dk, L, rows, W) : 0;
  const c = dv != 0 ? placed(dv, L + S, rows, W) : 0;
  return addOr(addOr(a, b), c);
}

/**
 * The tangent of attentionBackward(q, k, v, g) = (q̄, k̄, v̄) along (q̇, k̇, v̇, ġ) (each may be 0),
 * by the product rule on v̄ = Pᵀ·g, dP = g·vᵀ, dS = scale·softmaxBackward(dP, P), q̄ = dS·k,
 * k̄ = dSᵀ·q; softmaxBackward(a, P) = P·(a − Σ a·P) moves with a and with P:
 *   dṠ = scale·(softmaxBackward(dṖ, P) + Ṗ·(dP − Σ dP·P) − P·Σ dP·Ṗ)
 * Writes the three into OUT3 (0 where the tangent is 0).
 */
function backwardTangent(q: i32, k: i32, v: i32, g: i32, P: i32, scale: f64, tq: i32, tk: i32, tv: i32, tg: i32): void {
  const tP = weightsTangent(q, k, P, scale, tq, tk);
  const dP = matmul(g, v, 0, 1);
  const dS = mulScalar(softmaxBackward(Op.softmaxBackward, dP, P, 2), scale);
  const tdP = addOr(tg != 0 ? matmul(tg, v, 0, 1) : 0, tv != 0 ? matmul(g, tv, 0, 1) : 0);
  let tdS = tdP != 0 ? softmaxBackward(Op.softmaxBackward, tdP, P, 2) : 0;
  if (tP != 0) {
    const moved = sub(mul(tP, sub(dP, sum(mul(dP, P), LAST, true))), mul(P, sum(mul(dP, tP), LAST, true)));
    tdS = addOr(tdS, moved);
  }
  if (tdS != 0) tdS = mulScalar(tdS, scale);
  const dq = addOr(tdS != 0 ? matmul(tdS, k, 0, 0) : 0, tk != 0 ? matmul(dS, tk, 0, 0) : 0);
  const dk = addOr(tdS != 0 ? matmul(tdS, q, 1, 0) : 0, tq != 0 ? matmul(dS, tq, 1, 0) : 0);
  const dv = addOr(tP != 0 ? matmul(tP, g, 1, 0) : 0, tg != 0 ? matmul(P, tg, 1, 0) : 0);
  store<i32>(OUT3, dq); store<i32>(OUT3, dk, 4); store<i32>(OUT3, dv, 8);
}

export function vjpAttention(op: i32, r: u32, u: i32): void {
  const q = recInput(r, 0), k = recInput(r, 1), v = recInput(r, 2), scale = recAttr(r, 0);
  const L = dimOf(q, 1), E = dimOf(q, 2), S = dimOf(k, 1), Ev = dimOf(v, 2);
  if (op == Op.attention) {
    if (!needsGrad(q) && !needsGrad(k) && !needsGrad(v)) return;
    const packed = attentionBackward(q, k, v, u, scale, <i32>recAttr(r, 1));
    if (needsGrad(q)) accumulate(q, unpack(packed, 0, L, E));
    if (needsGrad(k)) accumulate(k, unpack(packed, L, S, E));
    if (needsGrad(v)) accumulate(v, unpack(packed, L + S, S, Ev));
    return;
  }
  // attentionBackward: ḡ is attention's tangent along ū, (q̄, k̄, v̄) the backward's tangent along ū
  const g = recInput(r, 3);
  const uq = unpack(u, 0, L, E), uk = unpack(u, L, S, E), uv = unpack(u, L + S, S, Ev);
  const P = weightsOf(r);
  if (needsGrad(g)) accumulate(g, outputTangent(q, k, v, P, scale, uq, uk, uv));
  if (!needsGrad(q) && !needsGrad(k) && !needsGrad(v)) return;
  backwardTangent(q, k, v, g, P, scale, uq, uk, uv, 0);
  const dq = load<i32>(OUT3), dk = load<i32>(OUT3, 4), dv = load<i32>(OUT3, 8);
  accumulate(q, dq); accumulate(k, dk); accumulate(v, dv);
}

export function jvpAttention(op: i32, r: u32): void {
  const q = recInput(r, 0), k = recInput(r, 1), v = recInput(r, 2), scale = recAttr(r, 0);
  const tq = tangentOf(q), tk = tangentOf(k), tv = tangentOf(v);
  const P = weightsOf(r);
  if (op == Op.attention) { setTangent(recOut(r), outputTangent(q, k, v, P, scale, tq, tk, tv)); return; }
  const g = recInput(r, 3);
  backwardTangent(q, k, v, g, P, scale, tq, tk, tv, tangentOf(g));
  const dq = load<i32>(OUT3), dk = load<i32>(OUT3, 4), dv = load<i32>(OUT3, 8);
  setTangent(recOut(r), pack(dq, dk, dv, dimOf(q, 1), dimOf(k, 1), max(dimOf(q, 2), dimOf(v, 2))));
}
