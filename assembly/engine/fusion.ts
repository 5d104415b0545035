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
// bool tile selecting between two float ones). A group descriptor is a block of i32 words: the
// header, then G_INSTR words per instruction, then the broadcast geometries they point at.

import { DType } from "../core/vocabulary";
import { dataOf, rankOf, shapePtr, MAX_RANK } from "../core/tensor";
import { prepare, itRank, IT_SHAPE, IT_STRIDE } from "../core/iter";
import { alloc, free } from "../core/alloc";
import { binaryRun, unaryRun, compareRun, whereRun } from "./kernels.generated";

// Header words.
const G_COUNT = 0, G_NUMEL = 1, G_F32 = 2, G_REGS = 3;
export const G_HEADER = 4;
// Instruction words: op, class, then (kind, value, geometry) for up to three operands and out.
export const G_INSTR = 14;
const I_OP = 0, I_CLASS = 1, I_ARGS = 2, I_OUT = 11;
/** Instruction classes: what the op computes and in which element types. */
export const C_BINARY = 0, C_UNARY = 1, C_COMPARE = 2, C_WHERE = 3;

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

/** Resolves operand k of the instruction at p, of element type E, for the tile at t0 of n elements. */
@inline function operand<E>(g: u32, p: i32, k: i32, t0: i32, n: i32, tmp: usize): void {
  const size = sizeof<E>();
  const q = p + I_ARGS + 3 * k;
  const kind = wd(g, q), v = wd(g, q + 1);
  let ptr: usize = 0, s = 1;
  if (kind == O_REG) ptr = scratch + <usize>v * TILE_BYTES;
  else if (kind == O_MEM) ptr = dataOf(v) + <usize>t0 * size;
  else if (kind == O_SCALAR) { ptr = dataOf(v); s = 0; }
  else { gather<E>(g, wd(g, q + 2), v, t0, n, tmp + <usize>k * TILE_BYTES); ptr = tmp + <usize>k * TILE_BYTES; }
  if (k == 0) { p0 = ptr; s0 = s; } else if (k == 1) { p1 = ptr; s1 = s; } else { p2 = ptr; s2 = s; }
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
      operand<T>(g, p, 1, t0, n, tmp);
      if (cls == C_COMPARE) compareRun<T>(op, p0, s0, p1, s1, po, n);
      else binaryRun<T>(op, p0, s0, p1, s1, po, n);
    }
  }
}
