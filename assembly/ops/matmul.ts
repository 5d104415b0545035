// Matrix products: batched matmul with broadcast batch dims and transposed operands — the
// kernel, the recording op and its VJP rule.
//
// C[..., m, n] = op(A)[..., m, k] · op(B)[..., k, n], op(X) = Xᵀ (of the last two dims) when its
// flag is set. Transposes are never materialised: operands are read through strides, by the
// packing routines (large products) or in place (small and skinny ones). Each C[i, j] is one
// chain over k in increasing order from 0, so results are the same bits on every engine,
// whatever the blocking or the path.

import { Op, DType } from "../core/vocabulary";
import {
  newTensor, dtypeOf, rankOf, dimOf, dataOf, numelOf, MAX_RANK, needsGrad, releaseTensor, fail, E_NO_RULE,
  E_OOM,
} from "../core/tensor";
import { alloc, free } from "../core/alloc";
import { shouldRecord2, recordOp, recordInput, recordAttr, recInput, recAttr, recOut, accumulate } from "../engine/tape";
import { sumTo } from "./reduce";
import { tangentOf, setTangent } from "../engine/forward";
import { add } from "./elementwise";

const SHAPE_TMP = memory.data(MAX_RANK * 4);
// Per output batch dim: its size and the matrix strides of A and B (0 where broadcast).
const BATCH_DIM = memory.data(MAX_RANK * 4);
const BATCH_STRIDE_A = memory.data(MAX_RANK * 4);
const BATCH_STRIDE_B = memory.data(MAX_RANK * 4);
const BATCH_INDEX = memory.data(MAX_RANK * 4);

@inline function getI(p: usize, k: i32): i32 { return load<i32>(p + (<usize>k << 2)); }
@inline function setI(p: usize, k: i32, v: i32): void { store<i32>(p + (<usize>k << 2), v); }

// ————————————————————————————————————————————————————————— kernels
//
// Operands are addressed by element strides, so every transposed form is just other strides:
// op(A)[i, q] at pa + (i·sIa + q·sKa)·size and op(B)[q, j] at pb + (q·sKb + j·sJb)·size.
// Every path computes each C element as ONE chain c = 0; c = c + a·b for q = 0, 1, …, k-1 (mul
// then add, never fused), so the bits depend neither on the path nor on the blocking.

// Register tile of the micro-kernel: MR rows × two v128 of T (4×8 f32, 4×4 f64).
const MR = 4;
// Cache blocks: KC deep; the packed A block (MC×KC) stays in L2, the packed B block (KC×NC) in
// L2/L3, and one B micro-panel (KC×NR) in L1 while the A panels stream past it.
const KC = 256;
@inline function nr<T>(): i32 { return 32 / sizeof<T>(); }
@inline function mcOf<T>(): i32 { return sizeof<T>() == 4 ? 128 : 64; }
@inline function ncOf<T>(): i32 { return sizeof<T>() == 4 ? 1024 : 512; }

@inline export function splatAt<T>(p: usize): v128 {
  if (sizeof<T>() == 4) return v128.load32_splat(p);
  return v128.load64_splat(p);
}
@inline export function madd<T>(c: v128, a: v128, b: v128): v128 { return v128.add<T>(c, v128.mul<T>(a, b)); }

/** Stores v's lanes at p, p + step, … (a strided column of C). */
@inline function storeLanes<T>(p: usize, step: usize, v: v128): void {
  if (sizeof<T>() == 4) {
    store<f32>(p, f32x4.extract_lane(v, 0));
    store<f32>(p + step, f32x4.extract_lane(v, 1));
    store<f32>(p + 2 * step, f32x4.extract_lane(v, 2));
    store<f32>(p + 3 * step, f32x4.extract_lane(v, 3));
  } else {
    store<f64>(p, f64x2.extract_lane(v, 0));
    store<f64>(p + step, f64x2.extract_lane(v, 1));
  }
}
@inline function storeVec<T>(p: usize, cCol: usize, v: v128): void {
  if (cCol == sizeof<T>()) v128.store(p, v);
  else storeLanes<T>(p, cCol, v);
}

/**
 * The register-blocked micro-kernel: C[r, c] for r < 4 (rows4) or 1, and c < 2 or 1 vectors
 * (vec2), C[r, c] (+)= Σ_q a(r, q)·b(q, c). a(r, q) at pa + r·aRow + q·aK is broadcast; b(q, ·)
 * at pb + q·bK is loaded as vectors; C[r, ·] at pc + r·cRow, its lanes cCol apart. `first`
 * starts from 0, otherwise from the partial sums in C (only with cCol == size). Inlined with
 * constant flags, so each use compiles to a straight-line loop with its accumulators in registers.
 */
@inline function tile<T>(rows4: bool, vec2: bool, first: bool, k: i32, pa: usize, aRow: usize, aK: usize,
                         pb: usize, bK: usize, pc: usize, cRow: usize, cCol: usize): void {
  const half = <usize>16;
  let c00 = i32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  if (!first) {
    c00 = v128.load(pc);
    if (vec2) c01 = v128.load(pc + half);
    if (rows4) {
      c10 = v128.load(pc + cRow); c20 = v128.load(pc + 2 * cRow); c30 = v128.load(pc + 3 * cRow);
      if (vec2) { c11 = v128.load(pc + cRow + half); c21 = v128.load(pc + 2 * cRow + half); c31 = v128.load(pc + 3 * cRow + half); }
    }
  }
  for (let q = 0; q < k; q++) {
    const b0 = v128.load(pb);
    let b1 = b0;
    if (vec2) b1 = v128.load(pb + half);
    let a = splatAt<T>(pa);
    c00 = madd<T>(c00, a, b0);
    if (vec2) c01 = madd<T>(c01, a, b1);
    if (rows4) {
      a = splatAt<T>(pa + aRow);
      c10 = madd<T>(c10, a, b0);
      if (vec2) c11 = madd<T>(c11, a, b1);
      a = splatAt<T>(pa + 2 * aRow);
      c20 = madd<T>(c20, a, b0);
      if (vec2) c21 = madd<T>(c21, a, b1);
      a = splatAt<T>(pa + 3 * aRow);
      c30 = madd<T>(c30, a, b0);
      if (vec2) c31 = madd<T>(c31, a, b1);
    }
    pa += aK; pb += bK;
  }
  const colStep = cCol * <usize>(16 / sizeof<T>());
  storeVec<T>(pc, cCol, c00);
  if (vec2) storeVec<T>(pc + colStep, cCol, c01);
  if (rows4) {
    storeVec<T>(pc + cRow, cCol, c10);
    storeVec<T>(pc + 2 * cRow, cCol, c20);
    storeVec<T>(pc + 3 * cRow, cCol, c30);
    if (vec2) {
      storeVec<T>(pc + cRow + colStep, cCol, c11);
      storeVec<T>(pc + 2 * cRow + colStep, cCol, c21);
      storeVec<T>(pc + 3 * cRow + colStep, cCol, c31);
    }
  }
}

/** One C element as a scalar chain: Σ_q a[q·aK]·b[q·bK] (byte strides). */
@inline function chain<T>(k: i32, pa: usize, aK: usize, pb: usize, bK: usize): T {
  let s: T = 0;
  for (let q = 0; q < k; q++) { s = s + load<T>(pa) * load<T>(pb); pa += aK; pb += bK; }
  return s;
}

// ——— the packed path

/** Packs op(A)[0..mc, 0..kc] into MR-row panels (MR values per q, rows past mc zero). */
function packA<T>(src: usize, sIa: usize, sKa: usize, mc: i32, kc: i32, dst: usize): void {
  const size = <usize>sizeof<T>();
  for (let i = 0; i < mc; i += MR) {
    const rows = min(MR, mc - i);
    const base = src + <usize>i * sIa * size;
    if (sIa == 1 && rows == MR) {
      // op(A) = Aᵀ: the MR values of one q are contiguous
      for (let q = 0; q < kc; q++) {
        const p = base + <usize>q * sKa * size;
        v128.store(dst + <usize>q * MR * size, v128.load(p));
        if (size == 8) v128.store(dst + <usize>q * MR * size, v128.load(p, 16), 16);
      }
    } else {
      for (let r = 0; r < MR; r++) {
        const row = base + <usize>r * sIa * size;
        let d = dst + <usize>r * size;
        if (r < rows) {
          for (let q = 0; q < kc; q++) { store<T>(d, load<T>(row + <usize>q * sKa * size)); d += MR * size; }
        } else {
          for (let q = 0; q < kc; q++) { store<T>(d, 0); d += MR * size; }
        }
      }
    }
    dst += <usize>MR * <usize>kc * size;
  }
}

/** Packs op(B)[0..kc, 0..nc] into NR-column panels (NR values per q, columns past nc zero). */
function packB<T>(src: usize, sKb: usize, sJb: usize, kc: i32, nc: i32, dst: usize): void {
  const size = <usize>sizeof<T>();
  const NR = nr<T>();
  for (let j = 0; j < nc; j += NR) {
    const cols = min(NR, nc - j);
    const base = src + <usize>j * sJb * size;
    if (sJb == 1 && cols == NR) {
      for (let q = 0; q < kc; q++) {
        const p = base + <usize>q * sKb * size;
        v128.store(dst + (<usize>q << 5), v128.load(p));
        v128.store(dst + (<usize>q << 5), v128.load(p, 16), 16);
      }
    } else {
      for (let c = 0; c < NR; c++) {
        const col = base + <usize>c * sJb * size;
        let d = dst + <usize>c * size;
        if (c < cols) {
          for (let q = 0; q < kc; q++) { store<T>(d, load<T>(col + <usize>q * sKb * size)); d += 32; }
        } else {
          for (let q = 0; q < kc; q++) { store<T>(d, 0); d += 32; }
        }
      }
    }
    dst += <usize>kc << 5;
  }
}

// A partial register tile goes through a full-size tile at the end of the scratch block (each
// thread has its own block).
const EDGE_TILE_BYTES: usize = MR * 32;

/** Scratch bytes the packed path needs for an m×k by k×n product: both packed blocks, the edge tile. */
function packedScratchBytes<T>(m: i32, k: i32, n: i32): usize {
  const NR = nr<T>();
  const kc = <usize>min(KC, k);
  const mc = <usize>min(mcOf<T>(), (m + MR - 1) / MR * MR);
  const nc = <usize>min(ncOf<T>(), (n + NR - 1) / NR * NR);
  return (mc + nc) * kc * <usize>sizeof<T>() + EDGE_TILE_BYTES;
}

/** C = op(A)·op(B) with packed panels, blocked over N, K and M (m, k, n > 0; C rows ldc elements apart). */
function gemmPacked<T>(pa: usize, sIa: usize, sKa: usize, pb: usize, sKb: usize, sJb: usize, pc: usize, ldcElems: i32,
                       m: i32, k: i32, n: i32, scratch: usize): void {
  const size = <usize>sizeof<T>();
  const NR = nr<T>(), MC = mcOf<T>(), NC = ncOf<T>();
  const ldc = <usize>ldcElems * size;
  const bufA = scratch;
  const bufB = scratch + <usize>min(MC, (m + MR - 1) / MR * MR) * <usize>min(KC, k) * size;
  const EDGE_TILE = scratch + packedScratchBytes<T>(m, k, n) - EDGE_TILE_BYTES;
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc);
    for (let pq = 0; pq < k; pq += KC) {
      const kc = min(KC, k - pq);
      const first = pq == 0;
      packB<T>(pb + (<usize>pq * sKb + <usize>jc * sJb) * size, sKb, sJb, kc, nc, bufB);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = min(MC, m - ic);
        packA<T>(pa + (<usize>ic * sIa + <usize>pq * sKa) * size, sIa, sKa, mc, kc, bufA);
        for (let jr = 0; jr < nc; jr += NR) {
          const panelB = bufB + <usize>jr * <usize>kc * size;
          const cols = min(NR, nc - jr);
          for (let ir = 0; ir < mc; ir += MR) {
            const panelA = bufA + <usize>ir * <usize>kc * size;
            const rows = min(MR, mc - ir);
            const c = pc + <usize>(ic + ir) * ldc + <usize>(jc + jr) * size;
            if (rows == MR && cols == NR) {
              if (first) tile<T>(true, true, true, kc, panelA, size, MR * size, panelB, 32, c, ldc, size);
              else tile<T>(true, true, false, kc, panelA, size, MR * size, panelB, 32, c, ldc, size);
            } else {
              // A partial tile goes through a full-size buffer; padded lanes are dropped.
              if (!first) {
                for (let r = 0; r < rows; r++) memory.copy(EDGE_TILE + (<usize>r << 5), c + <usize>r * ldc, <usize>cols * size);
              }
              if (first) tile<T>(true, true, true, kc, panelA, size, MR * size, panelB, 32, EDGE_TILE, 32, size);
              else tile<T>(true, true, false, kc, panelA, size, MR * size, panelB, 32, EDGE_TILE, 32, size);
              for (let r = 0; r < rows; r++) memory.copy(c + <usize>r * ldc, EDGE_TILE + (<usize>r << 5), <usize>cols * size);
            }
          }
        }
      }
    }
  }
}

// ——— the direct path: small and skinny shapes, no packing

/**
 * C' = A'·B' where B' rows are contiguous: the micro-kernel run on the operands in place, 4 rows
 * and 2 vectors at a time, then single rows / single vectors, then scalar chains for the last
 * columns. A'(r, q) at pa + r·aRow + q·aK; B'(q, c) at pb + q·bK + c·size; C'(r, c) at
 * pc + r·cRow + c·cCol.
 */
function directRows<T>(k: i32, pa: usize, aRow: usize, aK: usize, pb: usize, bK: usize,
                       pc: usize, cRow: usize, cCol: usize, rows: i32, cols: i32): void {
  const size = <usize>sizeof<T>();
  const L = <i32>(16 / size), NR = L * 2;
  let r = 0;
  for (; r < rows; ) {
    const four = r + MR <= rows;
    if (!four && cCol == size) {
      axpyRow<T>(k, pa + <usize>r * aRow, aK, pb, bK, pc + <usize>r * cRow, cols);
      r++;
      continue;
    }
    const a = pa + <usize>r * aRow, c = pc + <usize>r * cRow;
    let j = 0;
    for (; j + NR <= cols; j += NR) {
      if (four) tile<T>(true, true, true, k, a, aRow, aK, pb + <usize>j * size, bK, c + <usize>j * cCol, cRow, cCol);
      else tile<T>(false, true, true, k, a, aRow, aK, pb + <usize>j * size, bK, c + <usize>j * cCol, cRow, cCol);
    }
    if (j + L <= cols) {
      if (four) tile<T>(true, false, true, k, a, aRow, aK, pb + <usize>j * size, bK, c + <usize>j * cCol, cRow, cCol);
      else tile<T>(false, false, true, k, a, aRow, aK, pb + <usize>j * size, bK, c + <usize>j * cCol, cRow, cCol);
      j += L;
    }
    const nrows = four ? MR : 1;
    for (; j < cols; j++) {
      for (let t = 0; t < nrows; t++) {
        store<T>(c + <usize>t * cRow + <usize>j * cCol, chain<T>(k, a + <usize>t * aRow, aK, pb + <usize>j * size, bK));
      }
    }
    r += nrows;
  }
}

/**
 * One contiguous row of C' accumulated in place, q outer: streams B' row by row (a single row
 * gains nothing from register blocking, and walking B' down its columns defeats the caches).
 */
function axpyRow<T>(k: i32, pa: usize, aK: usize, pb: usize, bK: usize, pc: usize, cols: i32): void {
  const size = <usize>sizeof<T>();
  const L = <i32>(16 / size);
  memory.fill(pc, 0, <usize>cols * size);
  for (let q = 0; q < k; q++) {
    const s = load<T>(pa), av = splatAt<T>(pa);
    let j = 0;
    for (; j + L <= cols; j += L) {
      const o = <usize>j * size;
      v128.store(pc + o, madd<T>(v128.load(pc + o), av, v128.load(pb + o)));
    }
    for (; j < cols; j++) {
      const o = <usize>j * size;
      store<T>(pc + o, load<T>(pc + o) + s * load<T>(pb + o));
    }
    pa += aK; pb += bK;
  }
}

/**
 * out[r] = Σ_q X[r, q]·y[q] for r < count, where X rows are contiguous along q (at px + r·xRow)
 * and y is strided (py + q·yK): L rows at a time, their L-element chunks transposed in registers
 * so that each lane carries one row's chain in order. out[r] at po + r·oStep.
 */
function directDots<T>(k: i32, px: usize, xRow: usize, py: usize, yK: usize, po: usize, oStep: usize, count: i32): void {
  const size = <usize>sizeof<T>();
  const L = <i32>(16 / size);
  let r = 0;
  // two groups at once, so two independent add chains are in flight
  for (; r + 2 * L <= count; r += 2 * L) dotGroups<T>(true, k, px + <usize>r * xRow, xRow, py, yK, po + <usize>r * oStep, oStep);
  for (; r + L <= count; r += L) dotGroups<T>(false, k, px + <usize>r * xRow, xRow, py, yK, po + <usize>r * oStep, oStep);
  for (; r < count; r++) store<T>(po + <usize>r * oStep, chain<T>(k, px + <usize>r * xRow, size, py, yK));
}

/** L rows (two groups of L when `two`) of directDots. */
@inline function dotGroups<T>(two: bool, k: i32, x: usize, xRow: usize, py: usize, yK: usize, po: usize, oStep: usize): void {
  const L = <usize>(16 / sizeof<T>());
  const x2 = x + L * xRow;
  let acc = i32x4.splat(0), acc2 = acc;
  let y = py;
  let q = 0;
  if (sizeof<T>() == 4) {
    for (; q + 4 <= k; q += 4) {
      const o = <usize>q << 2;
      const y0 = v128.load32_splat(y), y1 = v128.load32_splat(y + yK);
      const y2 = v128.load32_splat(y + 2 * yK), y3 = v128.load32_splat(y + 3 * yK);
      acc = dotChunkF32(acc, x + o, xRow, y0, y1, y2, y3);
      if (two) acc2 = dotChunkF32(acc2, x2 + o, xRow, y0, y1, y2, y3);
      y += 4 * yK;
    }
    for (; q < k; q++) {
      const o = <usize>q << 2;
      const yq = v128.load32_splat(y);
      acc = madd<f32>(acc, gatherF32(x + o, xRow), yq);
      if (two) acc2 = madd<f32>(acc2, gatherF32(x2 + o, xRow), yq);
      y += yK;
    }
  } else {
    for (; q + 2 <= k; q += 2) {
      const o = <usize>q << 3;
      const y0 = v128.load64_splat(y), y1 = v128.load64_splat(y + yK);
      acc = dotChunkF64(acc, x + o, xRow, y0, y1);
      if (two) acc2 = dotChunkF64(acc2, x2 + o, xRow, y0, y1);
      y += 2 * yK;
    }
    if (q < k) {
      const o = <usize>q << 3;
      const yq = v128.load64_splat(y);
      acc = madd<f64>(acc, f64x2.replace_lane(f64x2.splat(load<f64>(x + o)), 1, load<f64>(x + o + xRow)), yq);
      if (two) acc2 = madd<f64>(acc2, f64x2.replace_lane(f64x2.splat(load<f64>(x2 + o)), 1, load<f64>(x2 + o + xRow)), yq);
    }
  }
  storeVec<T>(po, oStep, acc);
  if (two) storeVec<T>(po + L * oStep, oStep, acc2);
}

/** acc + the 4×4 f32 block at p (rows xRow apart) transposed, column by column times y0..y3. */
@inline function dotChunkF32(acc: v128, p: usize, xRow: usize, y0: v128, y1: v128, y2: v128, y3: v128): v128 {
  const r0 = v128.load(p), r1 = v128.load(p + xRow), r2 = v128.load(p + 2 * xRow), r3 = v128.load(p + 3 * xRow);
  const u0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5), u1 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
  const u2 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7), u3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
  acc = madd<f32>(acc, v128.shuffle<f32>(u0, u1, 0, 1, 4, 5), y0);
  acc = madd<f32>(acc, v128.shuffle<f32>(u0, u1, 2, 3, 6, 7), y1);
  acc = madd<f32>(acc, v128.shuffle<f32>(u2, u3, 0, 1, 4, 5), y2);
  return madd<f32>(acc, v128.shuffle<f32>(u2, u3, 2, 3, 6, 7), y3);
}

@inline function dotChunkF64(acc: v128, p: usize, xRow: usize, y0: v128, y1: v128): v128 {
  const r0 = v128.load(p), r1 = v128.load(p + xRow);
  acc = madd<f64>(acc, v128.shuffle<f64>(r0, r1, 0, 2), y0);
  return madd<f64>(acc, v128.shuffle<f64>(r0, r1, 1, 3), y1);
}

/** The f32 at p from each of 4 rows xRow apart, as one vector. */
@inline function gatherF32(p: usize, xRow: usize): v128 {
  let t = f32x4.splat(load<f32>(p));
  t = f32x4.replace_lane(t, 1, load<f32>(p + xRow));
  t = f32x4.replace_lane(t, 2, load<f32>(p + 2 * xRow));
  return f32x4.replace_lane(t, 3, load<f32>(p + 3 * xRow));
}

/**
 * C = op(A)·op(B) without packing (m, k, n > 0). Vectors run along whichever of i or j has
 * contiguous operand data: op(B) rows (vectors along j), op(A) columns (Cᵀ = op(B)ᵀ·op(A)ᵀ,
 * vectors along i), or rows contiguous along k (transposed dot products). Below one vector
 * each way, plain chains.
 */
function gemmDirect<T>(pa: usize, sIa: usize, sKa: usize, pb: usize, sKb: usize, sJb: usize, pc: usize,
                       m: i32, k: i32, n: i32): void {
  const size = <usize>sizeof<T>();
  const L = <i32>(16 / size);
  const ldc = <usize>n * size;
  if (sJb == 1 && n >= L) {
    directRows<T>(k, pa, sIa * size, sKa * size, pb, sKb * size, pc, ldc, size, m, n);
  } else if (sIa == 1 && m >= L) {
    directRows<T>(k, pb, sJb * size, sKb * size, pa, sKa * size, pc, size, ldc, n, m);
  } else if (sKa == 1 && m >= L) {
    for (let j = 0; j < n; j++) {
      directDots<T>(k, pa, sIa * size, pb + <usize>j * sJb * size, sKb * size, pc + <usize>j * size, ldc, m);
    }
  } else if (sKb == 1 && n >= L) {
    for (let i = 0; i < m; i++) {
      directDots<T>(k, pb, sJb * size, pa + <usize>i * sIa * size, sKa * size, pc + <usize>i * ldc, size, n);
    }
  } else {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        store<T>(pc + <usize>i * ldc + <usize>j * size,
          chain<T>(k, pa + <usize>i * sIa * size, sKa * size, pb + <usize>j * sJb * size, sKb * size));
      }
    }
  }
}

// ————————————————————————————————————————————————————————— threads
//
// The threads build (build/out/wasmgrad.threads.wasm: shared memory; src/threads.ts) runs big
// packed products on worker threads, each an instance of this module on the same memory. A
// product is cut into chunks of whole register tiles — row blocks, or column blocks when C is
// wider than tall (each chunk packs its own share of the larger operand and all of the other:
// cutting the larger dimension keeps the repacking small) — and every thread, the caller
// included, claims chunks until none are left. Every element is still ONE chain over q = 0…k-1
// by the same micro-kernel, so the bits are one thread's for any thread count and any claiming
// order; a worker slow to wake leaves its unclaimed chunks to the others (one that is
// descheduled in the middle of a chunk still makes the caller wait for it).
//
// One job at a time, in a static block: the caller writes the job, then publishes CLAIM =
// (job << 32 | 0) and JOB = job, and wakes the workers (memory.atomic.notify). A chunk is claimed
// by a compare-and-swap of CLAIM from (job, i) to (job, i + 1), so a worker that wakes late
// cannot take a chunk of a later job; the job's fields stay unchanged until every claimed chunk
// is counted in FINISHED.

const MAX_WORKERS = 15;
const JOB_BLOCK = memory.data(128, 64);
const J_JOB = 0, J_CLAIM = 8, J_FINISHED = 16, J_DEAD = 20, J_KIND = 24, J_CHUNKS = 28, J_CHUNK = 32,
  J_BY_ROWS = 36, J_PA = 40, J_SIA = 44, J_SKA = 48, J_PB = 52, J_SKB = 56, J_SJB = 60, J_PC = 64,
  J_M = 68, J_K = 72, J_N = 76;
const KIND_F32 = 0, KIND_F64 = 1, KIND_TASK = 2;
// A task job (parallelTasks): J_PA holds the task's table index, J_PB the caller's thread number.
export type Task = (i: i32, thread: i32) => void;
// The largest block any product packs: both blocks at full size, and the edge tile.
const WORKER_SCRATCH: usize = max<usize>((128 + 1024) * KC * 4, (64 + 512) * KC * 8) + EDGE_TILE_BYTES;
// Products below this many multiply-adds stay on one thread: waking a worker costs more.
const THREAD_MIN_MACS: i64 = 1 << 20;
// A chunk is at least this many rows or columns (less would repack the other operand too often).
const MIN_CHUNK = 16;
const CHUNKS_PER_THREAD = 1;
const SPINS = 1 << 21; // how many times an idle worker polls before it sleeps (1–3 ms here)

let workers = 0; // set on the main instance only
let jobSeq = 0;
const WORKER_SCRATCHES = memory.data(<i32>(4 * MAX_WORKERS), 16);

/** Main instance: `n` workers will run matmulWorker(0…n-1) on this memory. Returns false when out of memory. */
export function setMatmulWorkers(n: i32): bool {
  n = min(max(n, 0), MAX_WORKERS);
  for (let w = workers; w < n; w++) {
    const p = alloc(<u32>WORKER_SCRATCH);
    if (p == 0) { workers = w; return false; }
    store<u32>(WORKER_SCRATCHES + (<usize>w << 2), p);
  }
  for (let w = n; w < workers; w++) free(load<u32>(WORKER_SCRATCHES + (<usize>w << 2)));
  workers = n;
  return true;
}
export function matmulWorkers(): i32 { return workers; }

/** Runs chunk i of the current job into C. */
function runChunk<T>(i: i32, scratch: usize): void {
  const size = <usize>sizeof<T>();
  const chunk = load<i32>(JOB_BLOCK, J_CHUNK), m = load<i32>(JOB_BLOCK, J_M), k = load<i32>(JOB_BLOCK, J_K), n = load<i32>(JOB_BLOCK, J_N);
  const sIa = <usize>load<u32>(JOB_BLOCK, J_SIA), sKa = <usize>load<u32>(JOB_BLOCK, J_SKA);
  const sKb = <usize>load<u32>(JOB_BLOCK, J_SKB), sJb = <usize>load<u32>(JOB_BLOCK, J_SJB);
  const pa = <usize>load<u32>(JOB_BLOCK, J_PA), pb = <usize>load<u32>(JOB_BLOCK, J_PB), pc = <usize>load<u32>(JOB_BLOCK, J_PC);
  const from = i * chunk;
  if (load<i32>(JOB_BLOCK, J_BY_ROWS) != 0) {
    gemmPacked<T>(pa + <usize>from * sIa * size, sIa, sKa, pb, sKb, sJb, pc + <usize>from * <usize>n * size, n,
      min(chunk, m - from), k, n, scratch);
  } else {
    gemmPacked<T>(pa, sIa, sKa, pb + <usize>from * sJb * size, sKb, sJb, pc + <usize>from * size, n,
      m, k, min(chunk, n - from), scratch);
  }
}

/** Claims and runs chunks of job `job` until none are left; returns how many this thread ran. */
function claimChunks(job: i32, scratch: usize, thread: i32): i32 {
  let ran = 0;
  while (true) {
    const c = atomic.load<i64>(JOB_BLOCK + J_CLAIM);
    if (<i32>(c >>> 32) != job) return ran;
    const i = <i32>c;
    if (i >= load<i32>(JOB_BLOCK, J_CHUNKS)) return ran;
    if (atomic.cmpxchg<i64>(JOB_BLOCK + J_CLAIM, c, c + 1) != c) continue;
    const kind = load<i32>(JOB_BLOCK, J_KIND);
    if (kind == KIND_F32) runChunk<f32>(i, scratch);
    else if (kind == KIND_F64) runChunk<f64>(i, scratch);
    else call_indirect<void>(load<u32>(JOB_BLOCK, J_PA), i, thread);
    atomic.add<i32>(JOB_BLOCK + J_FINISHED, 1);
    ran++;
  }
}

/** Splits C = op(A)·op(B) over the workers and this thread; false when it is not worth it. */
function gemmThreaded<T>(pa: usize, sIa: usize, sKa: usize, pb: usize, sKb: usize, sJb: usize, pc: usize,
                         m: i32, k: i32, n: i32): bool {
  if (workers == 0 || <i64>m * <i64>k * <i64>n < THREAD_MIN_MACS) return false;
  if (atomic.load<i32>(JOB_BLOCK + J_DEAD) != 0) { workers = 0; return false; } // a worker died: go on alone
  const byRows = m >= n;
  const extent = byRows ? m : n, unit = byRows ? MR : nr<T>();
  // About CHUNKS_PER_THREAD chunks per thread, each whole register tiles and at least MIN_CHUNK wide.
  const units = (extent + unit - 1) / unit, want = CHUNKS_PER_THREAD * (workers + 1);
  const per = max((units + want - 1) / want, (MIN_CHUNK + unit - 1) / unit);
  const chunk = per * unit;
  const chunks = (extent + chunk - 1) / chunk;
  if (chunks < 2) return false;
  const job = ++jobSeq;
  store<i32>(JOB_BLOCK, sizeof<T>() == 4 ? KIND_F32 : KIND_F64, J_KIND);
  store<i32>(JOB_BLOCK, chunks, J_CHUNKS); store<i32>(JOB_BLOCK, chunk, J_CHUNK); store<i32>(JOB_BLOCK, byRows ? 1 : 0, J_BY_ROWS);
  store<u32>(JOB_BLOCK, <u32>pa, J_PA); store<u32>(JOB_BLOCK, <u32>sIa, J_SIA); store<u32>(JOB_BLOCK, <u32>sKa, J_SKA);
  store<u32>(JOB_BLOCK, <u32>pb, J_PB); store<u32>(JOB_BLOCK, <u32>sKb, J_SKB); store<u32>(JOB_BLOCK, <u32>sJb, J_SJB);
  store<u32>(JOB_BLOCK, <u32>pc, J_PC);
  store<i32>(JOB_BLOCK, m, J_M); store<i32>(JOB_BLOCK, k, J_K); store<i32>(JOB_BLOCK, n, J_N);
  atomic.store<i32>(JOB_BLOCK + J_FINISHED, 0);
  atomic.store<i64>(JOB_BLOCK + J_CLAIM, <i64>job << 32);
  atomic.store<i32>(JOB_BLOCK + J_JOB, job);
  atomic.notify(JOB_BLOCK + J_JOB, workers);
  claimChunks(job, scratch, workers);
  while (atomic.load<i32>(JOB_BLOCK + J_FINISHED) != chunks) {
    if (atomic.load<i32>(JOB_BLOCK + J_DEAD) != 0) {
      // A worker's thread died (its host wrote the mark), maybe holding a chunk: end the job,
      // redo every chunk here (C is only written, so a redo gives the same bits), go on alone.
      atomic.store<i64>(JOB_BLOCK + J_CLAIM, <i64>(job + 1) << 32);
      for (let i = 0; i < chunks; i++) {
        if (sizeof<T>() == 4) runChunk<f32>(i, scratch); else runChunk<f64>(i, scratch);
      }
      workers = 0;
      jobSeq++;
      break;
    }
  }
  return true;
}

/**
 * Runs task(i, thread) for every i < count on the workers and this thread, each i once, and
 * returns when all are done; false (nothing run) when there are no workers or fewer than two
 * tasks, and the caller runs them itself. `thread` is a worker's slot, or the number of workers
 * on this thread: per-thread scratch is indexed by it. Tasks must only write their own outputs,
 * so that one redone here after a worker died gives the same bits.
 */
export function parallelTasks(count: i32, task: Task): bool {
  if (workers == 0 || count < 2) return false;
  if (atomic.load<i32>(JOB_BLOCK + J_DEAD) != 0) { workers = 0; return false; }
  const job = ++jobSeq, self = workers;
  store<i32>(JOB_BLOCK, KIND_TASK, J_KIND);
  store<i32>(JOB_BLOCK, count, J_CHUNKS);
  store<u32>(JOB_BLOCK, task.index, J_PA);
  atomic.store<i32>(JOB_BLOCK + J_FINISHED, 0);
  atomic.store<i64>(JOB_BLOCK + J_CLAIM, <i64>job << 32);
  atomic.store<i32>(JOB_BLOCK + J_JOB, job);
  atomic.notify(JOB_BLOCK + J_JOB, workers);
  claimChunks(job, scratch, self);
  while (atomic.load<i32>(JOB_BLOCK + J_FINISHED) != count) {
    if (atomic.load<i32>(JOB_BLOCK + J_DEAD) != 0) {
      atomic.store<i64>(JOB_BLOCK + J_CLAIM, <i64>(job + 1) << 32);
      for (let i = 0; i < count; i++) call_indirect<void>(task.index, i, self);
      workers = 0;
      jobSeq++;
      break;
    }
  }
  return true;
}

/** Where a worker's host marks that the worker died (src/thread-worker.ts). */
export function matmulWorkerDeadAddress(): u32 { return <u32>(JOB_BLOCK + J_DEAD); }

/** A worker instance's whole life: run chunks of every job (it ends with its thread). */
export function matmulWorker(w: i32): void {
  let seen = 0; // jobs count from 1: one posted before this thread got here is still joined
  while (true) {
    let spins = 0;
    let job = atomic.load<i32>(JOB_BLOCK + J_JOB);
    while (job == seen) {
      if (++spins >= SPINS) { atomic.wait<i32>(JOB_BLOCK + J_JOB, seen, -1); spins = 0; }
      job = atomic.load<i32>(JOB_BLOCK + J_JOB);
    }
    seen = job;
    // Read per job: the main instance allocates the scratch blocks after the workers started.
    claimChunks(job, <usize>load<u32>(WORKER_SCRATCHES + (<usize>w << 2)), w);
  }
}


// ————————————————————————————————————————————————————————— driver

// Packing scratch (both packed blocks), grown on demand and kept for the next product.
let scratch: usize = 0;
let scratchBytes: usize = 0;

function ensureScratch(bytes: usize): bool {
  if (bytes <= scratchBytes) return true;
  free(<u32>scratch);
  scratch = alloc(<u32>bytes);
  scratchBytes = scratch == 0 ? 0 : bytes;
  return scratch != 0;
}

// Products with at most this many multiply-adds, or a dimension thinner than this, skip packing.
const PACK_MIN_DIM = 16;
const PACK_MIN_MACS: i64 = 128 * 128 * 128;

// 0: choose by shape; 1: always direct; 2: always packed (tests check both give the same bits).
let forcedPath: i32 = 0;
export function setMatmulPath(mode: i32): void { forcedPath = mode; }

function usePacked(m: i32, k: i32, n: i32, transA: bool, transB: bool, lanes: i32): bool {
  if (forcedPath != 0) return forcedPath == 2;
  // Without a contiguous vector dimension the direct path needs in-register transposes, which
  // only pay when one side is thinner than the register tile.
  if (!((!transB && n >= lanes) || (transA && m >= lanes))) return m >= MR && n >= MR;
  // The direct micro-kernel streams the other operand from cache: fine while it is small.
  return m >= PACK_MIN_DIM && n >= PACK_MIN_DIM && <i64>m * <i64>k * <i64>n > PACK_MIN_MACS;
}

/**
 * C [m, n] = op(A)·op(B) for one pair of compact matrices at raw addresses, by the path matmul
 * takes for that shape (the fused ops' building block: attention's gradient runs it on blocks).
 * False when the packing scratch cannot be allocated.
 */
export function gemm<T>(pa: usize, pb: usize, pc: usize, m: i32, k: i32, n: i32, transA: bool, transB: bool): bool {
  if (m == 0 || n == 0) return true;
  if (k == 0) { memory.fill(pc, 0, <usize>m * <usize>n * sizeof<T>()); return true; }
  const sIa: usize = transA ? 1 : <usize>k, sKa: usize = transA ? <usize>m : 1;
  const sKb: usize = transB ? 1 : <usize>n, sJb: usize = transB ? <usize>k : 1;
  if (usePacked(m, k, n, transA, transB, <i32>(16 / sizeof<T>()))) {
    if (!ensureScratch(packedScratchBytes<T>(m, k, n))) return false;
    gemmPacked<T>(pa, sIa, sKa, pb, sKb, sJb, pc, n, m, k, n, scratch);
  } else gemmDirect<T>(pa, sIa, sKa, pb, sKb, sJb, pc, m, k, n);
  return true;
}

function matmulKernel<T>(a: i32, b: i32, out: i32, nb: i32, m: i32, k: i32, n: i32,
                         transA: bool, transB: bool, packed: bool): void {
  const size = <usize>sizeof<T>();
  const matA = <usize>m * <usize>k * size, matB = <usize>k * <usize>n * size, matC = <usize>m * <usize>n * size;
  // element strides of op(A)[i, q] and op(B)[q, j]
  const sIa: usize = transA ? 1 : <usize>k, sKa: usize = transA ? <usize>m : 1;
  const sKb: usize = transB ? 1 : <usize>n, sJb: usize = transB ? <usize>k : 1;
  let batches: i64 = 1;
  for (let d = 0; d < nb; d++) { batches *= <i64>getI(BATCH_DIM, d); setI(BATCH_INDEX, d, 0); }
  let offA: usize = 0, offB: usize = 0;
  let pc = dataOf(out);
  for (let t: i64 = 0; t < batches; t++) {
    const pa = dataOf(a) + offA * matA, pb = dataOf(b) + offB * matB;
    if (packed) {
      if (!gemmThreaded<T>(pa, sIa, sKa, pb, sKb, sJb, pc, m, k, n)) gemmPacked<T>(pa, sIa, sKa, pb, sKb, sJb, pc, n, m, k, n, scratch);
    }
    else gemmDirect<T>(pa, sIa, sKa, pb, sKb, sJb, pc, m, k, n);
    pc += matC;
    // Odometer over the batch dims, moving both operands' offsets.
    for (let d = nb - 1; d >= 0; d--) {
      const i = getI(BATCH_INDEX, d) + 1;
      const sa = <usize>getI(BATCH_STRIDE_A, d), sb = <usize>getI(BATCH_STRIDE_B, d);
      if (i < getI(BATCH_DIM, d)) { setI(BATCH_INDEX, d, i); offA += sa; offB += sb; break; }
      setI(BATCH_INDEX, d, 0);
      offA -= sa * <usize>(i - 1); offB -= sb * <usize>(i - 1);
    }
  }
}

/** Writes the broadcast batch dims of x (rank rx) and its matrix strides per output batch dim. */
function batchStrides(x: i32, nb: i32, strides: usize): void {
  const bx = rankOf(x) - 2;
  let s = 1;
  for (let d = nb - 1; d >= 0; d--) {
    const dx = d - (nb - bx);
    const size = dx < 0 ? 1 : dimOf(x, dx);
    setI(strides, d, size == 1 ? 0 : s);
    s *= size;
  }
}

/**
 * op(a) · op(b) over the last two dims, batch dims broadcast (a recording op). Both operands
 * have rank >= 2, one float dtype and fitting sizes (checked by the host).
 */
export function matmul(a: i32, b: i32, transA: i32, transB: i32): i32 {
  if (a == 0 || b == 0) return 0;
  const ra = rankOf(a), rb = rankOf(b);
  const m = transA ? dimOf(a, ra - 1) : dimOf(a, ra - 2);
  const k = transA ? dimOf(a, ra - 2) : dimOf(a, ra - 1);
  const n = transB ? dimOf(b, rb - 2) : dimOf(b, rb - 1);
  const nb = max(ra, rb) - 2;
  for (let d = 0; d < nb; d++) {
    const da = d - (nb - (ra - 2)), db = d - (nb - (rb - 2));
    const sa = da < 0 ? 1 : dimOf(a, da), sb = db < 0 ? 1 : dimOf(b, db);
    const size = sa == 1 ? sb : sa;
    setI(BATCH_DIM, d, size);
    setI(SHAPE_TMP, d, size);
  }
  setI(SHAPE_TMP, nb, m);
  setI(SHAPE_TMP, nb + 1, n);
  const dt = dtypeOf(a);
  const out = newTensor(dt, nb + 2, SHAPE_TMP);
  if (out == 0) return 0;
  batchStrides(a, nb, BATCH_STRIDE_A);
  batchStrides(b, nb, BATCH_STRIDE_B);
  if (m > 0 && n > 0 && k == 0) memory.fill(dataOf(out), 0, <usize>numelOf(out) * (dt == DType.float32 ? 4 : 8));
  if (m > 0 && n > 0 && k > 0 && numelOf(out) > 0) {
    const packed = usePacked(m, k, n, transA != 0, transB != 0, dt == DType.float32 ? 4 : 2);
    if (packed) {
      const bytes = dt == DType.float32 ? packedScratchBytes<f32>(m, k, n) : packedScratchBytes<f64>(m, k, n);
      if (!ensureScratch(bytes)) { releaseTensor(out); fail(E_OOM, Op.matmul); return 0; }
    }
    if (dt == DType.float32) matmulKernel<f32>(a, b, out, nb, m, k, n, transA != 0, transB != 0, packed);
    else matmulKernel<f64>(a, b, out, nb, m, k, n, transA != 0, transB != 0, packed);
  }
  if (recordOp(shouldRecord2(a, b), Op.matmul, out)) {
    recordInput(a); recordInput(b); recordAttr(<f64>transA); recordAttr(<f64>transB);
  }
  return out;
}

// ————————————————————————————————————————————————————————— VJP rule

/**
 * For C = op(A)·op(B) with adjoint G: d op(A) = G·op(B)ᵀ and d op(B) = op(A)ᵀ·G, each written as
 * one matmul with transpose flags (so no transpose is ever copied), then summed over the batch
 * dims the operand was broadcast along.
 */
export function vjpMatmul(op: i32, r: u32, g: i32): void {
  if (op != Op.matmul) { fail(E_NO_RULE, op); return; }
  const a = recInput(r, 0), b = recInput(r, 1);
  const tA = recAttr(r, 0) != 0, tB = recAttr(r, 1) != 0;
  if (needsGrad(a)) {
    // A·B: G·Bᵀ   A·Bᵀ: G·B   Aᵀ·B: B·Gᵀ   Aᵀ·Bᵀ: Bᵀ·Gᵀ
    const da = !tA ? matmul(g, b, 0, tB ? 0 : 1) : matmul(b, g, tB ? 1 : 0, 1);
    accumulate(a, sumTo(da, a));
  }
  if (needsGrad(b)) {
    // A·B: Aᵀ·G   A·Bᵀ: Gᵀ·A   Aᵀ·B: A·G   Aᵀ·Bᵀ: Gᵀ·Aᵀ
    const db = !tB ? matmul(a, g, tA ? 0 : 1, 0) : matmul(g, a, 1, tA ? 1 : 0);
    accumulate(b, sumTo(db, b));
  }
}

/** Bilinear: d(op(A)·op(B)) = op(dA)·op(B) + op(A)·op(dB), with the same flags. */
export function jvpMatmul(op: i32, r: u32): void {
  if (op != Op.matmul) { fail(E_NO_RULE, op); return; }
  const a = recInput(r, 0), b = recInput(r, 1);
  const tA = <i32>recAttr(r, 0), tB = <i32>recAttr(r, 1);
  const ta = tangentOf(a), tb = tangentOf(b);
  const left = ta != 0 ? matmul(ta, b, tA, tB) : 0;
  const right = tb != 0 ? matmul(a, tb, tA, tB) : 0;
  setTangent(recOut(r), left == 0 ? right : right == 0 ? left : add(left, right));
}
