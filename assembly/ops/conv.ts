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
  newTensor, releaseTensor, dtypeOf, dataOf, numelOf, needsGrad, shapePtr, rankOf, dimOf, MAX_RANK, fail,
  E_NO_RULE, E_OOM,
} from "../core/tensor";
import { recordTarget, TO_NONE, shouldRecord2, recordOp, recordInput, recordAttr, recInput, recAttr, recOut, accumulate } from "../engine/tape";
import { tangentOf, setTangent, flushJvp } from "../engine/forward";
import { matmul, splatAt, madd, parallelTasks, matmulWorkers } from "./matmul";
import { alloc, free } from "../core/alloc";
import { add, compareScalarOp, whereZero } from "./elementwise";
import { sum } from "./reduce";
import { reshapeTo } from "./shape";

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

// ————————————————————————————————————————————————————————— direct kernels (stride 1)
//
// At stride 1 a convolution reads its input through shifted windows. One image's channels of a
// group are padded into a buffer of Hp × Wp planes (Hp = outH + dH·(kH − 1), Wp at most
// outW + dW·(kW − 1), see rowPitch);
// output position q = h·Wp + w of tap k = (c, kh, kw) then reads the buffer at q + off(k),
// off(k) = c·Hp·Wp + kh·dH·Wp + kw·dW. The im2col columns are never written: the micro-kernel
// reads them in place (the columns w ≥ outW of each row are computed and dropped). Each output
// is one chain over k in im2col's order from 0, so conv's bits are the im2col matmul's.
// convTranspose at stride 1 is the same correlation of ȳ with the weight flipped and transposed
// (one chain over (o, kh, kw)); convWeight multiplies the padded image by ȳᵀ, one chain per
// weight over the images of a chunk and their positions, the chunks' sums added in order.

// Images per convWeight partial sum: fixed, so the summation order is too.
const WEIGHT_CHUNK = 16;

@inline function nrOf<T>(): i32 { return 32 / sizeof<T>(); }
@inline function roundUp(n: i32, m: i32): i32 { return (n + m - 1) / m * m; }

/**
 * Copies `ch` planes srcH × srcW at src into Hp × Wp planes at dst, src[i − padT, j − padL] at
 * [i, j] where that is inside src. The rest of dst is never written: a job's per-thread buffer is
 * zeroed once (zeroBuffers), and its padding stays zero for every image.
 */
function padPlanes<T>(src: usize, ch: i32, srcH: i32, srcW: i32, Hp: i32, Wp: i32, padT: i32, padL: i32, dst: usize): void {
  const size = <usize>sizeof<T>();
  const j0 = min(max(padL, 0), Wp), j1 = max(min(padL + srcW, Wp), j0);
  const i0 = min(max(padT, 0), Hp), i1 = max(min(padT + srcH, Hp), i0);
  const bytes = <usize>(j1 - j0) * size;
  for (let c = 0; c < ch; c++) {
    const plane = src + <usize>c * <usize>srcH * <usize>srcW * size + <usize>(j0 - padL) * size;
    const out = dst + <usize>c * <usize>Hp * <usize>Wp * size + <usize>j0 * size;
    for (let i = i0; i < i1; i++) copyRow(out + <usize>i * <usize>Wp * size, plane + <usize>(i - padT) * <usize>srcW * size, bytes);
  }
}

/** memory.copy for the short rows of small images, where the bulk instruction's overhead dominates. */
@inline function copyRow(dst: usize, src: usize, bytes: usize): void {
  let b: usize = 0;
  for (; b + 16 <= bytes; b += 16) v128.store(dst + b, v128.load(src + b));
  for (; b < bytes; b += 4) store<u32>(dst + b, load<u32>(src + b));
}

/** Zeros every thread's first `bytes` of the job's scratch (the padded buffers, see padPlanes). */
function zeroBuffers(bytes: usize): void {
  const base = <usize>jw(J_SCRATCH), per = <usize>jw(J_PER_THREAD);
  for (let t = 0; t <= matmulWorkers(); t++) memory.fill(base + <usize>t * per, 0, bytes);
}

/** Byte offsets off(k) of the taps k = (c, kh, kw), c < ch, in padded planes Hp × Wp. */
function tapOffsets<T>(ch: i32, Hp: i32, Wp: i32, offs: usize): void {
  let k = 0;
  for (let c = 0; c < ch; c++) {
    for (let kh = 0; kh < kH; kh++) {
      for (let kw = 0; kw < kW; kw++) {
        store<u32>(offs + (<usize>k << 2), <u32>((c * Hp * Wp + kh * dH * Wp + kw * dW) * sizeof<T>()));
        k++;
      }
    }
  }
}

/**
 * The row pitch of a correlation's padded planes: the dstW + dW·(kW − 1) columns a row's taps
 * read, less the zero columns its right padding can share with the next row's left padding (a
 * read past a row's end lands in the next row's leading zeros, or the buffer's zero tail). Fewer
 * columns computed and dropped: 15 instead of 16 for 14-wide 'same' 3×3 rows.
 */
function rowPitch(srcW: i32, dstW: i32, padL: i32): i32 {
  const full = dstW + dW * (kW - 1);
  const left = max(padL, 0), right = full - min(padL + srcW, full);
  return full - max(0, min(left, right));
}

/**
 * Four output rows × 2 vectors of positions: C[r, ·] = Σ_k wp[k, r]·buffer[q + off(k)], each a
 * chain from 0 over k. wp holds 4 values per k; C rows at pc + r·cRow.
 */
@inline function correlateTile<T>(K: i32, wp: usize, offs: usize, pb: usize, pc: usize, cRow: usize): void {
  const size = <usize>sizeof<T>();
  let c00 = i32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  for (let k = 0; k < K; k++) {
    const b = pb + <usize>load<u32>(offs + (<usize>k << 2));
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    let a = splatAt<T>(wp);
    c00 = madd<T>(c00, a, b0); c01 = madd<T>(c01, a, b1);
    a = splatAt<T>(wp + size);
    c10 = madd<T>(c10, a, b0); c11 = madd<T>(c11, a, b1);
    a = splatAt<T>(wp + 2 * size);
    c20 = madd<T>(c20, a, b0); c21 = madd<T>(c21, a, b1);
    a = splatAt<T>(wp + 3 * size);
    c30 = madd<T>(c30, a, b0); c31 = madd<T>(c31, a, b1);
    wp += 4 * size;
  }
  v128.store(pc, c00); v128.store(pc, c01, 16);
  v128.store(pc + cRow, c10); v128.store(pc + cRow, c11, 16);
  v128.store(pc + 2 * cRow, c20); v128.store(pc + 2 * cRow, c21, 16);
  v128.store(pc + 3 * cRow, c30); v128.store(pc + 3 * cRow, c31, 16);
}

// One direct call is a job of tasks (an image, or a chunk of images for convWeight) that may run
// on the worker threads (parallelTasks): the geometry and the job's words live in JOB, which
// every instance reads, and each thread has its own scratch.
const JOB = memory.data(32 * 4, 16);
const J_KIND = GEO_LEN, J_SRC = GEO_LEN + 1, J_SRC_C = GEO_LEN + 2, J_SRC_H = GEO_LEN + 3, J_SRC_W = GEO_LEN + 4,
  J_DST = GEO_LEN + 5, J_DST_C = GEO_LEN + 6, J_DST_H = GEO_LEN + 7, J_DST_W = GEO_LEN + 8, J_PAD_T = GEO_LEN + 9,
  J_PAD_L = GEO_LEN + 10, J_PACK = GEO_LEN + 11, J_OFFS = GEO_LEN + 12, J_SCRATCH = GEO_LEN + 13, J_PER_THREAD = GEO_LEN + 14,
  J_BIAS = GEO_LEN + 15;
const KIND_CORRELATE = 0, KIND_WEIGHT = 2; // + 1 for f64

@inline function jw(k: i32): i32 { return load<i32>(JOB + (<usize>k << 2)); }
@inline function setJw(k: i32, v: i32): void { store<i32>(JOB + (<usize>k << 2), v); }

function storeGeoInJob(): void {
  setJw(0, N); setJw(1, C); setJw(2, O); setJw(3, G); setJw(4, xH); setJw(5, xW); setJw(6, yH); setJw(7, yW);
  setJw(8, kH); setJw(9, kW); setJw(10, sH); setJw(11, sW); setJw(12, pT); setJw(13, pL); setJw(14, dH); setJw(15, dW);
}

/** Task i of the job in JOB on thread `thread` (the instance's statics are loaded from JOB first). */
function convTask(i: i32, thread: i32): void {
  loadGeo(JOB);
  const kind = jw(J_KIND);
  if (kind == KIND_CORRELATE) correlateImage<f32>(i, thread);
  else if (kind == KIND_CORRELATE + 1) correlateImage<f64>(i, thread);
  else if (kind == KIND_WEIGHT) weightChunk<f32>(i, thread);
  else weightChunk<f64>(i, thread);
}

/** Runs the job's `count` tasks on the threads, or here one after another. */
function runJob(count: i32): void {
  if (parallelTasks(count, convTask)) return;
  const self = matmulWorkers();
  for (let i = 0; i < count; i++) convTask(i, self);
}

/** One block for the job: `shared` bytes, then `perThread` bytes for each thread (16-aligned). */
function jobBlock(op: i32, shared: usize, perThread: usize): usize {
  shared = (shared + 15) & ~15; perThread = (perThread + 15) & ~15;
  const block = alloc(<u32>(shared + perThread * <usize>(matmulWorkers() + 1) + 16));
  if (block == 0) { fail(E_OOM, op); return 0; }
  const base = (<usize>block + 15) & ~15;
  setJw(J_SCRATCH, <i32>(base + shared)); setJw(J_PER_THREAD, <i32>perThread);
  return block;
}

/**
 * conv (flip false: src = x, dst = y) or convTranspose (flip true: src = y, dst = x) at stride 1,
 * as a correlation of the padded src with the weight, seen as [G, dstC rows, srcC·kH·kW taps].
 */
function correlate<T>(op: i32, src: usize, srcC: i32, srcH: i32, srcW: i32, dst: usize, dstC: i32, dstH: i32, dstW: i32,
                      padT: i32, padL: i32, w: usize, flip: bool, bias: usize): bool {
  const size = <usize>sizeof<T>();
  const NR = nrOf<T>();
  const Hp = dstH + dH * (kH - 1), Wp = rowPitch(srcW, dstW, padL), plane = Hp * Wp;
  const K = srcC * kH * kW, taps = kH * kW;
  const rows = roundUp(dstC, 4), Qr = roundUp(dstH * Wp, NR);
  const bufLen = srcC * plane + dW * (kW - 1) + NR;
  const offsBytes = <usize>K << 2, packBytes = <usize>G * <usize>rows * <usize>K * size;
  const block = jobBlock(op, offsBytes + 16 + packBytes, <usize>bufLen * size + <usize>rows * <usize>Qr * size);
  if (block == 0) return false;
  const offs = (<usize>block + 15) & ~15, pack = (offs + offsBytes + 15) & ~15;
  tapOffsets<T>(srcC, Hp, Wp, offs);
  // Weights in panels of 4 rows, 4 values per tap (rows past dstC zero).
  let pw = pack;
  for (let g = 0; g < G; g++) {
    for (let r0 = 0; r0 < rows; r0 += 4) {
      for (let k = 0; k < K; k++) {
        for (let r = r0; r < r0 + 4; r++) {
          let v: T = 0;
          if (r < dstC) {
            if (!flip) v = load<T>(w + (<usize>(g * dstC + r) * <usize>K + <usize>k) * size);
            else {
              // tap (o, kh, kw) of row c reads w[g·Og + o, c, kH − 1 − kh, kW − 1 − kw]
              const o = k / taps, t = k - o * taps;
              v = load<T>(w + (<usize>((g * srcC + o) * dstC + r) * <usize>taps + <usize>(taps - 1 - t)) * size);
            }
          }
          store<T>(pw, v);
          pw += size;
        }
      }
    }
  }
  storeGeoInJob();
  setJw(J_KIND, KIND_CORRELATE + (size == 8 ? 1 : 0));
  setJw(J_SRC, <i32>src); setJw(J_SRC_C, srcC); setJw(J_SRC_H, srcH); setJw(J_SRC_W, srcW);
  setJw(J_DST, <i32>dst); setJw(J_DST_C, dstC); setJw(J_DST_H, dstH); setJw(J_DST_W, dstW);
  setJw(J_PAD_T, padT); setJw(J_PAD_L, padL); setJw(J_PACK, <i32>pack); setJw(J_OFFS, <i32>offs); setJw(J_BIAS, <i32>bias);
  zeroBuffers(<usize>bufLen * size);
  runJob(N);
  free(block);
  return true;
}

/** Image n of a correlate job, all its groups. */
function correlateImage<T>(n: i32, thread: i32): void {
  const size = <usize>sizeof<T>();
  const NR = nrOf<T>();
  const srcC = jw(J_SRC_C), srcH = jw(J_SRC_H), srcW = jw(J_SRC_W), dstC = jw(J_DST_C), dstH = jw(J_DST_H), dstW = jw(J_DST_W);
  const Hp = dstH + dH * (kH - 1), Wp = rowPitch(srcW, dstW, jw(J_PAD_L)), plane = Hp * Wp;
  const K = srcC * kH * kW, rows = roundUp(dstC, 4), Qr = roundUp(dstH * Wp, NR);
  const bufLen = srcC * plane + dW * (kW - 1) + NR;
  const buf = <usize>jw(J_SCRATCH) + <usize>thread * <usize>jw(J_PER_THREAD), acc = buf + <usize>bufLen * size;
  const offs = <usize>jw(J_OFFS), pack = <usize>jw(J_PACK);
  const srcPlane = <usize>srcH * <usize>srcW * size, dstPlane = <usize>dstH * <usize>dstW * size;
  for (let g = 0; g < G; g++) {
    padPlanes<T>(<usize>jw(J_SRC) + <usize>((n * G + g) * srcC) * srcPlane, srcC, srcH, srcW, Hp, Wp, jw(J_PAD_T), jw(J_PAD_L), buf);
    const wg = pack + <usize>g * <usize>rows * <usize>K * size;
    for (let r0 = 0; r0 < rows; r0 += 4) {
      const wp = wg + <usize>r0 * <usize>K * size, c = acc + <usize>r0 * <usize>Qr * size;
      for (let q = 0; q < Qr; q += NR) {
        correlateTile<T>(K, wp, offs, buf + <usize>q * size, c + <usize>q * size, <usize>Qr * size);
      }
    }
    let out = <usize>jw(J_DST) + <usize>((n * G + g) * dstC) * dstPlane;
    const bias = <usize>jw(J_BIAS);
    for (let r = 0; r < dstC; r++) {
      for (let h = 0; h < dstH; h++) {
        const row = acc + (<usize>r * <usize>Qr + <usize>h * <usize>Wp) * size;
        if (bias == 0) copyRow(out, row, <usize>dstW * size);
        else biasRelu<T>(out, row, dstW, load<T>(bias + <usize>(g * dstC + r) * size));
        out += <usize>dstW * size;
      }
    }
  }
}

/**
 * Four taps × 2 vectors of output channels of convWeight: C[r, ·] (+)= Σ_p x[p + off(k_r)]·ȳᵀ[p, ·]
 * over the outH × outW positions p of one image, a chain continuing C's partial sums unless
 * `first`. xr are the four taps' first values in the padded image; ȳᵀ rows yRow bytes apart.
 */
@inline function weightTile<T>(first: bool, yH: i32, yW: i32, Wp: i32, x0: usize, x1: usize, x2: usize, x3: usize,
                               yT: usize, yRow: usize, pc: usize, cRow: usize): void {
  const size = <usize>sizeof<T>();
  let c00 = i32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  if (!first) {
    c00 = v128.load(pc); c01 = v128.load(pc, 16);
    c10 = v128.load(pc + cRow); c11 = v128.load(pc + cRow, 16);
    c20 = v128.load(pc + 2 * cRow); c21 = v128.load(pc + 2 * cRow, 16);
    c30 = v128.load(pc + 3 * cRow); c31 = v128.load(pc + 3 * cRow, 16);
  }
  const skip = <usize>(Wp - yW) * size;
  let yp = yT;
  for (let h = 0; h < yH; h++) {
    for (let wo = 0; wo < yW; wo++) {
      const b0 = v128.load(yp), b1 = v128.load(yp, 16);
      let a = splatAt<T>(x0);
      c00 = madd<T>(c00, a, b0); c01 = madd<T>(c01, a, b1);
      a = splatAt<T>(x1);
      c10 = madd<T>(c10, a, b0); c11 = madd<T>(c11, a, b1);
      a = splatAt<T>(x2);
      c20 = madd<T>(c20, a, b0); c21 = madd<T>(c21, a, b1);
      a = splatAt<T>(x3);
      c30 = madd<T>(c30, a, b0); c31 = madd<T>(c31, a, b1);
      x0 += size; x1 += size; x2 += size; x3 += size; yp += yRow;
    }
    x0 += skip; x1 += skip; x2 += skip; x3 += skip;
  }
  v128.store(pc, c00); v128.store(pc, c01, 16);
  v128.store(pc + cRow, c10); v128.store(pc + cRow, c11, 16);
  v128.store(pc + 2 * cRow, c20); v128.store(pc + 2 * cRow, c21, 16);
  v128.store(pc + 3 * cRow, c30); v128.store(pc + 3 * cRow, c31, 16);
}

/** One tap × 2 vectors of output channels: weightTile for a single tap, the same chain. */
@inline function weightTap<T>(first: bool, yH: i32, yW: i32, Wp: i32, x0: usize, yT: usize, yRow: usize, pc: usize): void {
  const size = <usize>sizeof<T>();
  let c0 = i32x4.splat(0), c1 = c0;
  if (!first) { c0 = v128.load(pc); c1 = v128.load(pc, 16); }
  const skip = <usize>(Wp - yW) * size;
  let yp = yT;
  for (let h = 0; h < yH; h++) {
    for (let wo = 0; wo < yW; wo++) {
      const a = splatAt<T>(x0);
      c0 = madd<T>(c0, a, v128.load(yp)); c1 = madd<T>(c1, a, v128.load(yp, 16));
      x0 += size; yp += yRow;
    }
    x0 += skip;
  }
  v128.store(pc, c0); v128.store(pc, c1, 16);
}

/** convWeight at stride 1 (see above): w̄[g·Og + o, k] = Σ_chunks Σ_n Σ_p x_pad[n, p + off(k)]·ȳ[n, g·Og + o, p]. */
function convWeightDirect<T>(px: usize, py: usize, po: usize): bool {
  const size = <usize>sizeof<T>();
  const NR = nrOf<T>();
  const Hp = yH + dH * (kH - 1), Wp = yW + dW * (kW - 1), plane = Hp * Wp;
  const Kr = roundUp(K, 4), Or = roundUp(Og, NR);
  const chunks = (N + WEIGHT_CHUNK - 1) / WEIGHT_CHUNK;
  const offsBytes = <usize>K << 2, partBytes = <usize>G * <usize>Kr * <usize>Or * size;
  const block = jobBlock(Op.convWeight, offsBytes + 16 + <usize>chunks * partBytes, <usize>(Cg * plane) * size + <usize>P * <usize>Or * size);
  if (block == 0) return false;
  const offs = (<usize>block + 15) & ~15, part = (offs + offsBytes + 15) & ~15;
  tapOffsets<T>(Cg, Hp, Wp, offs);
  storeGeoInJob();
  setJw(J_KIND, KIND_WEIGHT + (size == 8 ? 1 : 0));
  setJw(J_SRC, <i32>px); setJw(J_DST, <i32>py); setJw(J_PACK, <i32>part); setJw(J_OFFS, <i32>offs);
  zeroBuffers(<usize>(Cg * plane) * size);
  runJob(chunks);
  // The chunks' sums, in chunk order, transposed to [O, K].
  const cRow = <usize>Or * size;
  for (let g = 0; g < G; g++) {
    for (let o = 0; o < Og; o++) {
      for (let k = 0; k < K; k++) {
        const at = part + <usize>g * <usize>Kr * cRow + <usize>k * cRow + <usize>o * size;
        let s = load<T>(at);
        for (let ch = 1; ch < chunks; ch++) s += load<T>(at + <usize>ch * partBytes);
        store<T>(po + (<usize>(g * Og + o) * <usize>K + <usize>k) * size, s);
      }
    }
  }
  free(block);
  return true;
}

/** dst[p, r] = src[r, p] for r < rows, p < cols (dst rows dRow bytes apart): 4×4 blocks in registers for f32. */
function transposeRows<T>(src: usize, rows: i32, cols: i32, dst: usize, dRow: usize): void {
  const size = <usize>sizeof<T>();
  const sRow = <usize>cols * size;
  let r = 0;
  if (size == 4) {
    for (; r + 4 <= rows; r += 4) {
      const s0 = src + <usize>r * sRow, s1 = s0 + sRow, s2 = s1 + sRow, s3 = s2 + sRow;
      let p = 0;
      for (; p + 4 <= cols; p += 4) {
        const o = <usize>p << 2;
        const a = v128.load(s0 + o), b = v128.load(s1 + o), c = v128.load(s2 + o), d = v128.load(s3 + o);
        const ab0 = v128.shuffle<f32>(a, b, 0, 4, 1, 5), ab1 = v128.shuffle<f32>(a, b, 2, 6, 3, 7);
        const cd0 = v128.shuffle<f32>(c, d, 0, 4, 1, 5), cd1 = v128.shuffle<f32>(c, d, 2, 6, 3, 7);
        const at = dst + <usize>p * dRow + (<usize>r << 2);
        v128.store(at, v128.shuffle<f32>(ab0, cd0, 0, 1, 4, 5));
        v128.store(at + dRow, v128.shuffle<f32>(ab0, cd0, 2, 3, 6, 7));
        v128.store(at + 2 * dRow, v128.shuffle<f32>(ab1, cd1, 0, 1, 4, 5));
        v128.store(at + 3 * dRow, v128.shuffle<f32>(ab1, cd1, 2, 3, 6, 7));
      }
      for (; p < cols; p++) {
        const at = dst + <usize>p * dRow + (<usize>r << 2), o = <usize>p << 2;
        store<f32>(at, load<f32>(s0 + o)); store<f32>(at, load<f32>(s1 + o), 4);
        store<f32>(at, load<f32>(s2 + o), 8); store<f32>(at, load<f32>(s3 + o), 12);
      }
    }
  }
  for (; r < rows; r++) {
    const row = src + <usize>r * sRow;
    let d = dst + <usize>r * size;
    for (let p = 0; p < cols; p++) { store<T>(d, load<T>(row + <usize>p * size)); d += dRow; }
  }
}

/** Chunk ch of a convWeight job: its images' chain for every weight, into its partial block. */
function weightChunk<T>(ch: i32, thread: i32): void {
  const size = <usize>sizeof<T>();
  const NR = nrOf<T>();
  const Hp = yH + dH * (kH - 1), Wp = yW + dW * (kW - 1), plane = Hp * Wp;
  const Kr = roundUp(K, 4), Or = roundUp(Og, NR);
  const yRow = <usize>Or * size, cRow = yRow, partBytes = <usize>G * <usize>Kr * cRow;
  const buf = <usize>jw(J_SCRATCH) + <usize>thread * <usize>jw(J_PER_THREAD), yT = buf + <usize>(Cg * plane) * size;
  const offs = <usize>jw(J_OFFS), px = <usize>jw(J_SRC), py = <usize>jw(J_DST);
  memory.fill(yT, 0, <usize>P * yRow); // the columns o ≥ Og stay zero
  const n0 = ch * WEIGHT_CHUNK, n1 = min(N, n0 + WEIGHT_CHUNK);
  for (let n = n0; n < n1; n++) {
    for (let g = 0; g < G; g++) {
      padPlanes<T>(px + (<usize>(n * C + g * Cg) * <usize>X) * size, Cg, xH, xW, Hp, Wp, pT, pL, buf);
      const yg = py + (<usize>(n * O + g * Og) * <usize>P) * size;
      transposeRows<T>(yg, Og, P, yT, yRow);
      const pg = <usize>jw(J_PACK) + <usize>ch * partBytes + <usize>g * <usize>Kr * cRow;
      let k = 0;
      for (; k + 4 <= K; k += 4) {
        const x0 = buf + <usize>load<u32>(offs + (<usize>k << 2)), x1 = buf + <usize>load<u32>(offs + (<usize>(k + 1) << 2));
        const x2 = buf + <usize>load<u32>(offs + (<usize>(k + 2) << 2)), x3 = buf + <usize>load<u32>(offs + (<usize>(k + 3) << 2));
        for (let o = 0; o < Or; o += NR) {
          const c = pg + <usize>k * cRow + <usize>o * size;
          if (n == n0) weightTile<T>(true, yH, yW, Wp, x0, x1, x2, x3, yT + <usize>o * size, yRow, c, cRow);
          else weightTile<T>(false, yH, yW, Wp, x0, x1, x2, x3, yT + <usize>o * size, yRow, c, cRow);
        }
      }
      // the last K mod 4 taps one at a time (a 3×3 kernel of one channel has 9 taps: 2 tiles and 1)
      for (; k < K; k++) {
        const x0 = buf + <usize>load<u32>(offs + (<usize>k << 2));
        for (let o = 0; o < Or; o += NR) {
          const c = pg + <usize>k * cRow + <usize>o * size;
          if (n == n0) weightTap<T>(true, yH, yW, Wp, x0, yT + <usize>o * size, yRow, c);
          else weightTap<T>(false, yH, yW, Wp, x0, yT + <usize>o * size, yRow, c);
        }
      }
    }
  }
}

/**
 * dst[i] = max(src[i] + b, 0) for n values: convBiasRelu's epilogue, the broadcasting add and the
 * relu of the unfused ops (the same operations in the same order, so the same bits).
 */
@inline function biasRelu<T>(dst: usize, src: usize, n: i32, b: T): void {
  const size = <usize>sizeof<T>(), lanes = <i32>(16 / size);
  const vb = v128.splat<T>(b), zero = v128.splat<T>(<T>0);
  let i = 0;
  for (; i + lanes <= n; i += lanes) {
    const o = <usize>i * size;
    v128.store(dst + o, v128.max<T>(v128.add<T>(v128.load(src + o), vb), zero));
  }
  for (; i < n; i++) {
    const o = <usize>i * size;
    store<T>(dst + o, max<T>(load<T>(src + o) + b, <T>0));
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
  const out = convOutput(op, a, b, 0, rank, shape, geo);
  if (out != 0 && recordOp(shouldRecord2(a, b), op, out)) {
    recordInput(a); recordInput(b); recordGeo();
  }
  return out;
}

/**
 * relu(conv(x, w) + bias), the bias broadcast along the output's channel axis (1, or 0 for an
 * unbatched x): the fused op Op.convBiasRelu, whose kernel adds the bias and applies the relu as it
 * stores the convolution (the same operations as the unfused conv, add and relu, the same bits).
 * A recording op; its rules are those of the three unfused ops.
 */
export function convBiasRelu(x: i32, w: i32, bias: i32, rank: i32, shape: usize, geo: usize, channelAxis: i32): i32 {
  if (x == 0 || w == 0 || bias == 0) return 0;
  const out = convOutput(Op.conv, x, w, bias, rank, shape, geo);
  if (out != 0 && recordOp(recordTarget(needsGrad(x) || needsGrad(w) || needsGrad(bias)), Op.convBiasRelu, out)) {
    recordInput(x); recordInput(w); recordInput(bias); recordGeo(); recordAttr(<f64>channelAxis);
  }
  return out;
}

/** The output of `op` on (a, b), with conv's bias + relu epilogue where `bias` (a tensor id) is not 0. */
function convOutput(op: i32, a: i32, b: i32, bias: i32, rank: i32, shape: usize, geo: usize): i32 {
  // A pending JVP rule may run kernels of this file: let it finish before the statics are set.
  flushJvp();
  loadGeo(geo);
  copyShape(rank, shape);
  const dt = dtypeOf(a);
  const out = newTensor(dt, rank, OUT_SHAPE);
  if (out == 0) return 0;
  const pb = bias == 0 ? 0 : dataOf(bias);
  let ok: bool;
  // Stride 1 with something to compute takes the direct kernels; the rest goes through im2col.
  const direct = sH == 1 && sW == 1 && N > 0 && Cg > 0 && Og > 0 && numelOf(out) > 0;
  if (direct) ok = dt == DType.float32 ? directKernel<f32>(op, a, b, out, pb) : directKernel<f64>(op, a, b, out, pb);
  else {
    if (op == Op.conv) ok = dt == DType.float32 ? convKernel<f32>(a, b, out) : convKernel<f64>(a, b, out);
    else if (op == Op.convTranspose) ok = dt == DType.float32 ? convTransposeKernel<f32>(a, b, out) : convTransposeKernel<f64>(a, b, out);
    else ok = dt == DType.float32 ? convWeightKernel<f32>(a, b, out) : convWeightKernel<f64>(a, b, out);
    if (ok && pb != 0) {
      if (dt == DType.float32) biasReluPlanes<f32>(dataOf(out), pb); else biasReluPlanes<f64>(dataOf(out), pb);
    }
  }
  if (!ok) { releaseTensor(out); return 0; }
  return out;
}

/** conv's output y [N, O, yH·yW] ← max(y + bias[o], 0) in place (the epilogue of the im2col path). */
function biasReluPlanes<T>(py: usize, pb: usize): void {
  const size = <usize>sizeof<T>();
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      const plane = py + <usize>(n * O + o) * <usize>P * size;
      biasRelu<T>(plane, plane, P, load<T>(pb + <usize>o * size));
    }
  }
}

function directKernel<T>(op: i32, a: i32, b: i32, out: i32, bias: usize): bool {
  if (op == Op.conv) return correlate<T>(op, dataOf(a), Cg, xH, xW, dataOf(out), Og, yH, yW, pT, pL, dataOf(b), false, bias);
  if (op == Op.convTranspose) {
    return correlate<T>(op, dataOf(a), Og, yH, yW, dataOf(out), Cg, xH, xW, dH * (kH - 1) - pT, dW * (kW - 1) - pL, dataOf(b), true, 0);
  }
  return convWeightDirect<T>(dataOf(a), dataOf(b), dataOf(out));
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

const BIAS_SHAPE = memory.data(MAX_RANK * 4);

/**
 * convBiasRelu's bias gradient: ḡ summed over every axis but the channel axis, as add's rule sums
 * it onto the bias viewed as [O, 1, …] (the same sum, the same bits), shaped as the bias [O].
 */
function biasGradient(gz: i32, out: i32, channelAxis: i32): i32 {
  if (gz == 0) return 0;
  const rank = rankOf(out);
  let axes = 0;
  for (let k = 0; k < rank; k++) if (k != channelAxis) axes |= 1 << k;
  store<i32>(BIAS_SHAPE, dimOf(out, channelAxis));
  return reshapeTo(sum(gz, axes, true), 1, BIAS_SHAPE);
}

/** The bias [O] as [O, 1, …] along `out`'s axes from the channel axis (add's broadcast of it). */
function biasAsPlanes(b: i32, out: i32, channelAxis: i32): i32 {
  if (b == 0) return 0;
  const rank = rankOf(out) - channelAxis;
  store<i32>(BIAS_SHAPE, dimOf(out, channelAxis));
  for (let k = 1; k < rank; k++) store<i32>(BIAS_SHAPE + (<usize>k << 2), 1);
  return reshapeTo(b, rank, BIAS_SHAPE);
}

/**
 * relu's rule: ḡ where the output is positive, else 0. Unrecorded (first order, eager), one pass
 * instead of the mask and the where: the same values.
 */
function reluMasked(g: i32, out: i32): i32 {
  if (g == 0) return 0;
  const dt = dtypeOf(g);
  if (recordTarget(needsGrad(g)) != TO_NONE || numelOf(g) != numelOf(out) || dt != dtypeOf(out)) {
    return whereZero(compareScalarOp(Op.gt, out, 0), g);
  }
  const gz = newTensor(dt, rankOf(out), shapePtr(out));
  if (gz == 0) return 0;
  if (dt == DType.float32) maskPositive<f32>(dataOf(g), dataOf(out), dataOf(gz), numelOf(g));
  else maskPositive<f64>(dataOf(g), dataOf(out), dataOf(gz), numelOf(g));
  return gz;
}

/** dst[i] = y[i] > 0 ? g[i] : 0 (+0, as where's scalar 0). */
function maskPositive<T>(pg: usize, py: usize, pd: usize, n: i32): void {
  const size = <usize>sizeof<T>(), lanes = <i32>(16 / size);
  const zero = v128.splat<T>(<T>0);
  let i = 0;
  for (; i + lanes <= n; i += lanes) {
    const o = <usize>i * size;
    v128.store(pd + o, v128.and(v128.load(pg + o), v128.gt<T>(v128.load(py + o), zero)));
  }
  for (; i < n; i++) {
    const o = <usize>i * size;
    store<T>(pd + o, load<T>(py + o) > <T>0 ? load<T>(pg + o) : <T>0);
  }
}

/**
 * conv (x, w → y):          x̄ = convTranspose(ȳ, w)   w̄ = convWeight(x, ȳ)
 * convTranspose (y, w → x): ȳ = conv(x̄, w)            w̄ = convWeight(x̄, y)
 * convWeight (x, y → w):    x̄ = convTranspose(y, w̄)   ȳ = conv(x, w̄)
 */
export function vjpConv(op: i32, r: u32, g: i32): void {
  loadRuleGeo(r);
  const a = recInput(r, 0), b = recInput(r, 1);
  if (op == Op.convBiasRelu) {
    // relu's rule, then add's (the bias gradient) and conv's, on the masked ḡ
    const out = recOut(r), bias = recInput(r, 2);
    const gz = reluMasked(g, out);
    if (needsGrad(a)) accumulate(a, apply(Op.convTranspose, gz, b, a));
    if (needsGrad(b)) accumulate(b, apply(Op.convWeight, a, gz, b));
    if (needsGrad(bias)) accumulate(bias, biasGradient(gz, out, <i32>recAttr(r, GEO_LEN)));
  } else if (op == Op.conv) {
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

/**
 * Bilinear: d op(a, b) = op(da, b) + op(a, db). convBiasRelu: relu's JVP of conv's plus the bias
 * tangent broadcast, as the unfused ops compose them.
 */
export function jvpConv(op: i32, r: u32): void {
  if (op != Op.conv && op != Op.convTranspose && op != Op.convWeight && op != Op.convBiasRelu) { fail(E_NO_RULE, op); return; }
  loadRuleGeo(r);
  const a = recInput(r, 0), b = recInput(r, 1), out = recOut(r);
  const ta = tangentOf(a), tb = tangentOf(b);
  const linear = op == Op.convBiasRelu ? Op.conv : op;
  const left = ta != 0 ? apply(linear, ta, b, out) : 0;
  const right = tb != 0 ? apply(linear, a, tb, out) : 0;
  let t = left == 0 ? right : right == 0 ? left : add(left, right);
  if (op == Op.convBiasRelu) {
    const tBias = tangentOf(recInput(r, 2));
    if (tBias != 0) {
      const planes = biasAsPlanes(tBias, out, <i32>recAttr(r, GEO_LEN));
      t = t == 0 ? planes : add(t, planes);
    }
    t = reluMasked(t, out);
  }
  setTangent(out, t);
}
