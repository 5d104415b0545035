// Fused elementwise groups of accelerated programs: a register machine over tiles.
//
// A run of consecutive elementwise records of one float dtype and one element count becomes a
// group (planned in accelerate.ts). Its replay walks the elements in tiles small enough to stay
// in L1 and applies every instruction to the whole tile before the next, with the ops' own
// run kernels (elementwise.ts binaryRun / unaryRun). Each element goes through the same
// operations in the same order with the same arithmetic as the unfused records, so the bits are
// the same; only the memory traffic changes: an intermediate nobody outside the group reads lives
// in a tile register and is never written to memory. Nothing is compiled at run time.
//
// The instructions are the float binary and unary ops, comparisons (a bool tile) and where (a
// bool tile selecting between two float ones), and a sum over trailing dims that may end the
// group (its input is then never written either). A group descriptor is a block of i32 words:
// the header, then G_INSTR words per instruction, then the broadcast geometries they point at.
//
// Two float32 binary instructions where the second reads the first's register and nothing later
// does run as one pass (a pair): the first result stays in a SIMD register, never stored to its
// tile — the same two roundings in the same order, so the same bits, with a third less L1
// traffic (y = a·b + c: 0.39 → 0.30 ms for 1M elements).

import { DType } from "../core/vocabulary";
import { dataOf, rankOf, shapePtr, MAX_RANK } from "../core/tensor";
import { prepare, itRank, IT_SHAPE, IT_STRIDE } from "../core/iter";
import { alloc, free } from "../core/alloc";
import { binaryRun, unaryRun, compareRun, whereRun, binaryScalarOp } from "./kernels.generated";
import { Op } from "../core/vocabulary";

// Header words.
const G_COUNT = 0, G_NUMEL = 1, G_F32 = 2, G_REGS = 3;
export const G_HEADER = 4;
// Instruction words: op, class, then (kind, value, geometry) for up to three operands and out.
export const G_INSTR = 14;
const I_OP = 0, I_CLASS = 1, I_ARGS = 2, I_OUT = 11;
/** Instruction classes: what the op computes and in which element types. */
export const C_BINARY = 0, C_UNARY = 1, C_COMPARE = 2, C_WHERE = 3, C_SUM = 4;
// A binary instruction paired with the next, which reads its register as operand 0 or operand 1.
const C_PAIR_FIRST = 5, C_PAIR_SECOND = 6;

/** Operand kinds: a tile register, a tensor of the group's size, a size-1 tensor, a broadcast tensor. */
export const O_REG = 1, O_MEM = 2, O_SCALAR = 3, O_BCAST = 4;

/** Tile size in bytes: a handful of tiles (registers and the streams) stay in a 32 KiB L1. */
const TILE_BYTES: u32 = 2048;

// The tile registers: one block for every group, grown at capture (a replay never allocates).
let scratch: u32 = 0; let scratchRegs: i32 = 0;

@inline function wd(g: u32, k: i32): i32 { return load<i32>(g + (<u32>k << 2)); }
@inline function setWd(g: u32, k: i32, v: i32): void { store<i32>(g + (<u32>k << 2), v); }

/** A descriptor for `count` instructions with room for `nBcast` geometries, or 0 when out of memory. */
export function groupNew(count: i32, nBcast: i32, numel: i32, dtype: i32): u32 {
  const words = G_HEADER + count * G_INSTR + nBcast * (1 + 2 * MAX_RANK);
  const g = alloc(<u32>words * 4);
  if (g == 0) return 0;
  setWd(g, G_COUNT, count); setWd(g, G_NUMEL, numel);
  setWd(g, G_F32, dtype == DType.float32 ? 1 : 0); setWd(g, G_REGS, 0);
  return g;
}

export function groupFree(g: u32): void { free(g); }

/** Sets instruction i's op, class and output. */
export function groupInstr(g: u32, i: i32, op: i32, cls: i32, outKind: i32, outValue: i32): void {
  const p = G_HEADER + i * G_INSTR;
  setWd(g, p + I_OP, op); setWd(g, p + I_CLASS, cls);
  setWd(g, p + I_OUT, outKind); setWd(g, p + I_OUT + 1, outValue); setWd(g, p + I_OUT + 2, 0);
  for (let k = I_ARGS; k < I_OUT; k++) setWd(g, p + k, 0); // operands an op does not have
}

/**
 * Sets operand k (0, 1, 2) of instruction i. A broadcast tensor's strides onto `out` (the
 * record's output, whose shape the iteration follows) are stored after the instructions, at word
 * `geo`; returns the next free geometry word.
 */
export function groupOperand(g: u32, i: i32, k: i32, kind: i32, id: i32, out: i32, geo: i32): i32 {
  const p = G_HEADER + i * G_INSTR + I_ARGS + 3 * k;
  setWd(g, p, kind); setWd(g, p + 1, id); setWd(g, p + 2, geo);
  if (kind != O_BCAST) return geo;
  // The output's shape with size-1 dims dropped and contiguous dims merged (iter.ts).
  prepare(rankOf(out), shapePtr(out), id, 0, 0);
  setWd(g, geo, itRank);
  for (let d = 0; d < itRank; d++) {
    setWd(g, geo + 1 + d, load<i32>(IT_SHAPE + (<u32>d << 2)));
    setWd(g, geo + 1 + MAX_RANK + d, load<i32>(IT_STRIDE + (<u32>d << 2)));
  }
  return geo + 1 + 2 * MAX_RANK;
}

/**
 * Sets instruction i to the sum of operand `x` (kind, value) over runs of `run` elements into
 * tensor `out`: reduce.ts's sum over trailing dims, which must end the group.
 */
export function groupSum(g: u32, i: i32, xKind: i32, xValue: i32, run: i32, out: i32): void {
  groupInstr(g, i, Op.sum, C_SUM, O_MEM, out);
  const p = G_HEADER + i * G_INSTR + I_ARGS;
  setWd(g, p, xKind); setWd(g, p + 1, xValue); setWd(g, p + 2, 0);
  setWd(g, p + 3, 0); setWd(g, p + 4, run);
}

/** Ops with a vector form that pairs may chain. */
@inline function pairable(op: i32): bool { return op >= Op.add && op <= Op.div; }

/**
 * Marks pairs: binary instruction i writing register r, then binary instruction i+1 reading r
 * in exactly one operand, with no later instruction reading r before it is written again.
 */
export function groupPairs(g: u32): void {
  if (wd(g, G_F32) == 0) return; // float32 only: the loops cost code size, float64 runs unpaired
  const count = wd(g, G_COUNT);
  for (let i = 0; i + 1 < count; i++) {
    const p = G_HEADER + i * G_INSTR, q = p + G_INSTR;
    if (wd(g, p + I_CLASS) != C_BINARY || wd(g, q + I_CLASS) != C_BINARY) continue;
    if (!pairable(wd(g, p + I_OP)) || !pairable(wd(g, q + I_OP)) || wd(g, p + I_OUT) != O_REG) continue;
    const r = wd(g, p + I_OUT + 1);
    const in0 = readsReg(g, q, 0, r), in1 = readsReg(g, q, 1, r);
    const rewritten = wd(g, q + I_OUT) == O_REG && wd(g, q + I_OUT + 1) == r;
    if (in0 == in1 || (!rewritten && regReadLater(g, i + 2, r))) continue;
    setWd(g, p + I_CLASS, in0 ? C_PAIR_FIRST : C_PAIR_SECOND);
    i++;
  }
}

@inline function readsReg(g: u32, p: i32, k: i32, r: i32): bool {
  return wd(g, p + I_ARGS + 3 * k) == O_REG && wd(g, p + I_ARGS + 3 * k + 1) == r;
}

/** Whether an instruction from `from` on reads register r before one writes it. */
function regReadLater(g: u32, from: i32, r: i32): bool {
  for (let i = from, count = wd(g, G_COUNT); i < count; i++) {
    const p = G_HEADER + i * G_INSTR;
    for (let k = 0; k < 3; k++) if (readsReg(g, p, k, r)) return true;
    if (wd(g, p + I_OUT) == O_REG && wd(g, p + I_OUT + 1) == r) return false;
  }
  return false;
}

/** Sets the register count and makes sure the tile registers (plus three for gathers) exist. */
export function groupRegisters(g: u32, n: i32): bool {
  setWd(g, G_REGS, n);
  const want = n + 3;
  if (want <= scratchRegs) return true;
  const p = alloc(<u32>want * TILE_BYTES);
  if (p == 0) return false;
  if (scratch != 0) free(scratch);
  scratch = p; scratchRegs = want;
  return true;
}

/** Replays group g. */
export function runGroup(g: u32): void {
  if (wd(g, G_F32) != 0) runTiles<f32>(g);
  else runTiles<f64>(g);
}

const COORD = memory.data(MAX_RANK * 4);

/** Copies elements [t0, t0 + n) of tensor `id` broadcast by geometry `geo` into `dst`. */
function gather<T>(g: u32, geo: i32, id: i32, t0: i32, n: i32, dst: usize): void {
  const size = sizeof<T>();
  const rank = wd(g, geo), base = dataOf(id);
  if (rank == 0) { fill<T>(dst, load<T>(base), n); return; }
  const dims = geo + 1, strides = geo + 1 + MAX_RANK;
  // The coordinates of element t0, and the offset they give into the tensor.
  let rest = t0, off = 0;
  for (let d = rank - 1; d >= 0; d--) {
    const c = rest % wd(g, dims + d);
    rest /= wd(g, dims + d);
    store<i32>(COORD + (<u32>d << 2), c);
    off += c * wd(g, strides + d);
  }
  const last = rank - 1, inner = wd(g, dims + last), s = wd(g, strides + last);
  let i = 0;
  while (i < n) {
    const c = load<i32>(COORD + (<u32>last << 2));
    const run = min(inner - c, n - i);
    const q = dst + <usize>i * size;
    if (s == 1) memory.copy(q, base + <usize>off * size, <usize>run * size);
    else if (s == 0) fill<T>(q, load<T>(base + <usize>off * size), run);
    else for (let j = 0; j < run; j++) store<T>(q + <usize>j * size, load<T>(base + <usize>(off + j * s) * size));
    i += run;
    // Advance the coordinates by the run, carrying into the outer dims.
    off += run * s;
    store<i32>(COORD + (<u32>last << 2), c + run);
    for (let d = last; d > 0 && load<i32>(COORD + (<u32>d << 2)) == wd(g, dims + d); d--) {
      off -= wd(g, dims + d) * wd(g, strides + d);
      store<i32>(COORD + (<u32>d << 2), 0);
      store<i32>(COORD + (<u32>(d - 1) << 2), load<i32>(COORD + (<u32>(d - 1) << 2)) + 1);
      off += wd(g, strides + d - 1);
    }
  }
}

@inline function fill<T>(q: usize, v: T, n: i32): void {
  const size = sizeof<T>();
  const lanes = <i32>(16 / size);
  const vv = v128.splat<T>(v);
  let j = 0;
  for (; j + lanes <= n; j += lanes) v128.store(q + <usize>j * size, vv);
  for (; j < n; j++) store<T>(q + <usize>j * size, v);
}

// Resolved operands of the current instruction (a pointer and a stride: 1, or 0 for a scalar).
let p0: usize = 0; let s0: i32 = 0; let p1: usize = 0; let s1: i32 = 0; let p2: usize = 0; let s2: i32 = 0;

/**
 * Resolves operand k of the instruction at p, of element type E, for the tile at t0 of n
 * elements, into slot `slot` (p0, p1, p2).
 */
@inline function operand<E>(g: u32, p: i32, k: i32, t0: i32, n: i32, tmp: usize, slot: i32 = -1): void {
  if (slot < 0) slot = k;
  const size = sizeof<E>();
  const q = p + I_ARGS + 3 * k;
  const kind = wd(g, q), v = wd(g, q + 1);
  let ptr: usize = 0, s = 1;
  if (kind == O_REG) ptr = scratch + <usize>v * TILE_BYTES;
  else if (kind == O_MEM) ptr = dataOf(v) + <usize>t0 * size;
  else if (kind == O_SCALAR) { ptr = dataOf(v); s = 0; }
  else { ptr = tmp + <usize>slot * TILE_BYTES; gather<E>(g, wd(g, q + 2), v, t0, n, ptr); }
  if (slot == 0) { p0 = ptr; s0 = s; } else if (slot == 1) { p1 = ptr; s1 = s; } else { p2 = ptr; s2 = s; }
}

function runTiles<T>(g: u32): void {
  const size = sizeof<T>();
  const tile = <i32>(TILE_BYTES / size);
  const count = wd(g, G_COUNT), numel = wd(g, G_NUMEL), regs = wd(g, G_REGS);
  const tmp = scratch + <usize>regs * TILE_BYTES;
  for (let t0 = 0; t0 < numel; t0 += tile) {
    const n = min(tile, numel - t0);
    for (let i = 0; i < count; i++) {
      const p = G_HEADER + i * G_INSTR;
      const op = wd(g, p + I_OP), cls = wd(g, p + I_CLASS);
      const out = wd(g, p + I_OUT + 1);
      // A comparison writes bytes (bool); everything else writes T.
      const po = wd(g, p + I_OUT) == O_REG ? scratch + <usize>out * TILE_BYTES
        : dataOf(out) + <usize>t0 * (cls == C_COMPARE ? 1 : size);
      if (cls == C_WHERE) {
        operand<u8>(g, p, 0, t0, n, tmp);
        operand<T>(g, p, 1, t0, n, tmp);
        operand<T>(g, p, 2, t0, n, tmp);
        whereRun<T>(p0, s0, p1, s1, p2, s2, po, n);
        continue;
      }
      operand<T>(g, p, 0, t0, n, tmp);
      if (cls == C_UNARY) { unaryRun<T>(op, p0, po, n); continue; }
      if (cls == C_SUM) { sumTile<T>(p0, n, t0, wd(g, p + I_ARGS + 4), dataOf(out)); continue; }
      operand<T>(g, p, 1, t0, n, tmp);
      if (cls == C_COMPARE) compareRun<T>(op, p0, s0, p1, s1, po, n);
      else if (cls == C_BINARY) binaryRun<T>(op, p0, s0, p1, s1, po, n);
      else {
        // A pair: the next instruction's other operand, its output, and one pass for both.
        const q = p + G_INSTR, first = cls == C_PAIR_FIRST;
        operand<T>(g, q, first ? 1 : 0, t0, n, tmp, 2);
        const out2 = wd(g, q + I_OUT + 1);
        const po2 = wd(g, q + I_OUT) == O_REG ? scratch + <usize>out2 * TILE_BYTES : dataOf(out2) + <usize>t0 * size;
        if (size == 4) pairRun<f32>(op, wd(g, q + I_OP), first, n, po2); // (no float64 pairs)
        i++;
      }
    }
  }
}

// ————————————————————————————————————————————————————————— pairs

/** Splatted scalar operands of a pair (a vector load from a fixed cell instead of a stride 0). */
const SPLAT = memory.data(48, 16);

/** A pair's operands as (pointer, byte mask): a stride-0 operand loads its splat cell every time. */
@inline function vecOperand<T>(slot: i32, p: usize, s: i32): usize {
  if (s != 0) return p;
  const cell = SPLAT + <usize>slot * 16;
  v128.store(cell, v128.splat<T>(load<T>(p)));
  return cell;
}

/**
 * out = op2(op1(x, y), z) when `first` (else op2(z, op1(x, y))) over the operands in p0..p2,
 * n elements: the SIMD loop binaryRun would run for each op, with the first result kept in a
 * register; the scalar tail as binaryRun's.
 */
function pairRun<T>(op1: i32, op2: i32, first: bool, n: i32, po: usize): void {
  // Byte steps: 16 for a tile or tensor, 0 for a splatted scalar.
  qa = vecOperand<T>(0, p0, s0); qb = vecOperand<T>(1, p1, s1); qc = vecOperand<T>(2, p2, s2);
  da = s0 != 0 ? 16 : 0; db = s1 != 0 ? 16 : 0; dc = s2 != 0 ? 16 : 0;
  const lanes = <i32>(16 / sizeof<T>());
  const vectors = n / lanes;
  switch (op1 * 8 + op2) {
    case Op.add * 8 + Op.add: pairLoop<T>(Op.add, Op.add, first, vectors, po); break;
    case Op.add * 8 + Op.sub: pairLoop<T>(Op.add, Op.sub, first, vectors, po); break;
    case Op.add * 8 + Op.mul: pairLoop<T>(Op.add, Op.mul, first, vectors, po); break;
    case Op.add * 8 + Op.div: pairLoop<T>(Op.add, Op.div, first, vectors, po); break;
    case Op.sub * 8 + Op.add: pairLoop<T>(Op.sub, Op.add, first, vectors, po); break;
    case Op.sub * 8 + Op.sub: pairLoop<T>(Op.sub, Op.sub, first, vectors, po); break;
    case Op.sub * 8 + Op.mul: pairLoop<T>(Op.sub, Op.mul, first, vectors, po); break;
    case Op.sub * 8 + Op.div: pairLoop<T>(Op.sub, Op.div, first, vectors, po); break;
    case Op.mul * 8 + Op.add: pairLoop<T>(Op.mul, Op.add, first, vectors, po); break;
    case Op.mul * 8 + Op.sub: pairLoop<T>(Op.mul, Op.sub, first, vectors, po); break;
    case Op.mul * 8 + Op.mul: pairLoop<T>(Op.mul, Op.mul, first, vectors, po); break;
    case Op.mul * 8 + Op.div: pairLoop<T>(Op.mul, Op.div, first, vectors, po); break;
    case Op.div * 8 + Op.add: pairLoop<T>(Op.div, Op.add, first, vectors, po); break;
    case Op.div * 8 + Op.sub: pairLoop<T>(Op.div, Op.sub, first, vectors, po); break;
    case Op.div * 8 + Op.mul: pairLoop<T>(Op.div, Op.mul, first, vectors, po); break;
    case Op.div * 8 + Op.div: pairLoop<T>(Op.div, Op.div, first, vectors, po); break;
    default: break; // groupPairs pairs only these
  }
  pairTail<T>(op1, op2, first, vectors * lanes, n, po);
}

// A pair's operand cursors and their byte steps.
let qa: usize = 0; let qb: usize = 0; let qc: usize = 0; let da: usize = 0; let db: usize = 0; let dc: usize = 0;

@inline function vecOp<T>(op: i32, x: v128, y: v128): v128 {
  if (op == Op.add) return v128.add<T>(x, y);
  if (op == Op.sub) return v128.sub<T>(x, y);
  if (op == Op.mul) return v128.mul<T>(x, y);
  return v128.div<T>(x, y);
}

@inline function pairLoop<T>(op1: i32, op2: i32, first: bool, vectors: i32, po: usize): void {
  let a = qa, b = qb, c = qc, o = po;
  const sa = da, sb = db, sc = dc;
  if (first) {
    for (let v = 0; v < vectors; v++) {
      v128.store(o, vecOp<T>(op2, vecOp<T>(op1, v128.load(a), v128.load(b)), v128.load(c)));
      a += sa; b += sb; c += sc; o += 16;
    }
  } else {
    for (let v = 0; v < vectors; v++) {
      v128.store(o, vecOp<T>(op2, v128.load(c), vecOp<T>(op1, v128.load(a), v128.load(b))));
      a += sa; b += sb; c += sc; o += 16;
    }
  }
}

/** The elements after the SIMD loop (fewer than a vector), one op at a time as binaryRun's tail. */
function pairTail<T>(op1: i32, op2: i32, first: bool, from: i32, n: i32, po: usize): void {
  const size = sizeof<T>();
  for (let i = from; i < n; i++) {
    const t = binaryScalarOp<T>(op1, load<T>(p0 + <usize>(i * s0) * size), load<T>(p1 + <usize>(i * s1) * size));
    const z = load<T>(p2 + <usize>(i * s2) * size);
    store<T>(po + <usize>i * size, first ? binaryScalarOp<T>(op2, t, z) : binaryScalarOp<T>(op2, z, t));
  }
}

// ————————————————————————————————————————————————————————— sums ending a group

// The running sum of the current run (its first elements may be in an earlier tile): reduce.ts's
// four float64 partial sums — element j of a run goes to partial j % 4 while j < the run's last
// multiple of 4 — then, once combined as (p0 + p2) + (p1 + p3), the tail added in order.
const PARTIALS = memory.data(32, 16);

/**
 * Adds the tile x (n elements, the group's elements t0..t0+n) to runs of `run` elements, each
 * run's sum stored to its element of po as reduce.ts's sumKernel stores it, when complete.
 */
function sumTile<T>(x: usize, n: i32, t0: i32, run: i32, po: usize): void {
  const size = sizeof<T>();
  const body = run & ~3;
  let row = t0 / run, pos = t0 - row * run;
  if (t0 == 0) { v128.store(PARTIALS, f64x2.splat(0)); v128.store(PARTIALS, f64x2.splat(0), 16); }
  let i = 0;
  while (i < n) {
    const seg = min(run - pos, n - i);
    let j = 0;
    // The vector body, four elements at a time from a multiple of 4 within the run.
    if (pos < body) {
      for (; j < seg && pos + j < body && ((pos + j) & 3) != 0; j++) addPartial(pos + j, <f64>load<T>(x + <usize>(i + j) * size));
      let acc0 = v128.load(PARTIALS), acc1 = v128.load(PARTIALS, 16);
      const stop = min(seg, body - pos);
      for (; j + 4 <= stop; j += 4) {
        const q = x + <usize>(i + j) * size;
        if (size == 4) {
          const v = v128.load(q);
          acc0 = f64x2.add(acc0, f64x2.promote_low_f32x4(v));
          acc1 = f64x2.add(acc1, f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1)));
        } else {
          acc0 = f64x2.add(acc0, v128.load(q));
          acc1 = f64x2.add(acc1, v128.load(q, 16));
        }
      }
      v128.store(PARTIALS, acc0); v128.store(PARTIALS, acc1, 16);
      for (; j < stop; j++) addPartial(pos + j, <f64>load<T>(x + <usize>(i + j) * size));
    }
    // The tail, in order after the partials are combined (at the body's end).
    for (; j < seg; j++) {
      if (pos + j == body) combinePartials();
      store<f64>(PARTIALS, load<f64>(PARTIALS) + <f64>load<T>(x + <usize>(i + j) * size));
    }
    i += seg; pos += seg;
    if (pos == run) {
      if (body == run) combinePartials();
      store<T>(po + <usize>row * size, <T>(0.0 + load<f64>(PARTIALS)));
      row++; pos = 0;
      v128.store(PARTIALS, f64x2.splat(0)); v128.store(PARTIALS, f64x2.splat(0), 16);
    }
  }
}

@inline function addPartial(j: i32, v: f64): void {
  const p = PARTIALS + (<usize>(j & 3) << 3);
  store<f64>(p, load<f64>(p) + v);
}

/** s = (p0 + p2) + (p1 + p3) into partial 0, as reduce.ts combines its two f64x2 accumulators. */
@inline function combinePartials(): void {
  const s = f64x2.add(v128.load(PARTIALS), v128.load(PARTIALS, 16));
  store<f64>(PARTIALS, f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1));
}
