// Accelerated programs: a function's whole computation captured once, replayed by one call.
//
// While a capture runs, every kernel that makes or changes a tensor appends a program record —
// the tape's recording ops (forward ops, and the reverse sweep's rule ops whether or not the
// sweep records itself), plus the kernels the tape never sees: comparisons, fills, the sweep's
// in-place adjoint accumulation, random draws, index computations, running-stat updates,
// optimizer steps (assembly/ops/optim.ts). The records, in execution order, ARE the program: a replay
// runs the same kernels on the same tensors in the same order, so it gives the eager call's bits
// exactly.
//
// A record is replayed by calling the op's own function with the next allocation redirected to
// the record's output (tensor.ts redirectNext), so there is one implementation of every op. Size-1
// elementwise records become scalar instructions with their data pointers resolved once.
//
// Buffers: tensors defined by the program and not handed out (its temporaries) share one arena,
// laid out by their live intervals (first definition to last use), so a replay allocates nothing
// beyond the kernels' own transient scratch.

import { Op, DType } from "../core/vocabulary";
import { replayable } from "./rules.generated";
import {
  binary, unary, where, clamp, cast, copy, compare, detach, fillScalar, addInPlace, binaryScalarOp, unaryScalar,
  sum, reduce, matmul, reshapeTo, expandTo, permute, slice, pad, indexSelect, indexAdd, gather, scatterAdd, concat,
  convFamily, convBiasRelu, poolGather, poolScatter, avgPoolFamily, maxPoolIndices, normalize, runningStatsUpdate, softmax, softmaxBackward, gelu, geluBackward, attention, attentionBackward,
  layerNorm, layerNormBackward, layerNormWeightGrad,
  ctcLoss, ctcLossGrad, crossEntropy, crossEntropyBackward, logSumExpRows, cumsum, cumprod, linrec, sortIndices, argExtremum, solve, determinant, cholesky,
  solveTriangular, qr, svd, eigh, pinv, randFill, replayOptimStep, conv3dFamily, avgPool3dFamily, maxPool3dIndices,
} from "./kernels.generated";
import {
  rec, T_GEN, T_DATA, T_SLOT, T_FLAGS, F_CAPTURED, F_HELD, F_PROGRAM, F_NEEDS_GRAD, F_ON_TAPE,
  F_ADJOINT, F_TANGENT, F_DISPOSE_PENDING,
  dtypeOf, rankOf, numelOf, dataOf, shapePtr, itemSize, flagsOf, isLive, fail,
  errorCode, E_NONE, E_OOM, releaseTensor, capturingNow, setCaptureMode, heldCount, heldAt,
  clearHeld, redirectNext, redirectPending, adjustTensorBytes, tableCapacity,
} from "../core/tensor";
import { alloc, free, realloc } from "../core/alloc";
import { tapeDepthNow } from "./tape";
import { forwardDepthNow } from "./forward";

// Error codes beside tensor.ts's (the host maps them in src/accelerate.ts).
export { E_REPLAY, E_GUARD, E_UNSUPPORTED, E_CONSTANT_MUTATED, E_STALE, E_EAGER } from "../core/abi";
import { E_REPLAY, E_GUARD, E_UNSUPPORTED, E_CONSTANT_MUTATED, E_STALE, E_EAGER, E_UNKNOWN_OP, BINARY_FIRST, BINARY_LAST, UNARY_FIRST, UNARY_LAST, CONV_GEO_WORDS, MAX_POOL_GEO_WORDS, CONV3D_GEO_WORDS, MAX_POOL3D_GEO_WORDS, AVG_POOL3D_GEO_WORDS, S_BIN, S_UN, S_FILL, S_COPY, S_PER_DTYPE, S_F32, S_GENERIC, S_FUSED, INSTR_WORDS } from "../core/abi";
import {
  groupNew, groupFree, groupInstr, groupOperand, groupRegisters, groupSum, groupPairs, runGroup, G_HEADER, G_INSTR,
  O_REG, O_MEM, O_SCALAR, O_BCAST, C_BINARY, C_UNARY, C_COMPARE, C_WHERE,
} from "./fusion";

// ————————————————————————————————————————————————————————— capture buffers

const PREC = 24; // op, out, input offset, input count, attribute offset, attribute count
let pRec: u32 = 0; let pLen: i32 = 0; let pCap: i32 = 0;
let pInts: u32 = 0; let pIntLen: i32 = 0; let pIntCap: i32 = 0;
let pAttrs: u32 = 0; let pAttrLen: i32 = 0; let pAttrCap: i32 = 0;
let pCur: u32 = 0;
let inputs: u32 = 0; let inputLen: i32 = 0; let inputCap: i32 = 0;

function grow(p: u32, cap: i32, unit: u32, want: i32): u32 {
  return realloc(p, <u32>cap * unit, <u32>want * unit);
}

/** Starts a program record (only while capturing). */
export function progBegin(op: i32, out: i32): bool {
  if (pLen == pCap) {
    const cap = pCap == 0 ? 1024 : pCap * 2;
    const p = grow(pRec, pCap, PREC, cap);
    if (p == 0) { fail(E_OOM, op); return false; }
    pRec = p; pCap = cap;
  }
  pCur = pRec + <u32>pLen * PREC;
  store<i32>(pCur, op, 0); store<i32>(pCur, out, 4);
  store<i32>(pCur, pIntLen, 8); store<i32>(pCur, 0, 12);
  store<i32>(pCur, pAttrLen, 16); store<i32>(pCur, 0, 20);
  pLen++;
  return true;
}

export function progInput(id: i32): void {
  if (pIntLen == pIntCap) {
    const cap = pIntCap == 0 ? 4096 : pIntCap * 2;
    const p = grow(pInts, pIntCap, 4, cap);
    if (p == 0) { fail(E_OOM, 0); return; }
    pInts = p; pIntCap = cap;
  }
  store<i32>(pInts + (<u32>pIntLen << 2), id);
  pIntLen++;
  store<i32>(pCur, load<i32>(pCur, 12) + 1, 12);
}

export function progAttr(v: f64): void {
  if (pAttrLen == pAttrCap) {
    const cap = pAttrCap == 0 ? 4096 : pAttrCap * 2;
    const p = grow(pAttrs, pAttrCap, 8, cap);
    if (p == 0) { fail(E_OOM, 0); return; }
    pAttrs = p; pAttrCap = cap;
  }
  store<f64>(pAttrs + (<u32>pAttrLen << 3), v);
  pAttrLen++;
  store<i32>(pCur, load<i32>(pCur, 20) + 1, 20);
}

// Hooks for kernels that never record on the tape; each does nothing unless a capture runs.
export function captureBegin(op: i32, out: i32): bool { return capturingNow() && progBegin(op, out); }
export function captureInput(id: i32): void { progInput(id); }
export function captureAttr(v: f64): void { progAttr(v); }
export function captureOp1(op: i32, out: i32, a: i32): void {
  if (captureBegin(op, out)) progInput(a);
}
export function captureOp2(op: i32, out: i32, a: i32, b: i32): void {
  if (captureBegin(op, out)) { progInput(a); progInput(b); }
}
export function captureFill(t: i32, v: f64): void {
  if (captureBegin(Op.fill, t)) progAttr(v);
}
export function captureGuard(mask: i32, set: bool): void {
  if (captureBegin(Op.valueGuard, mask)) { progInput(mask); progAttr(set ? 1 : 0); }
}

/** Starts capturing: everything made from now on may belong to the program. */
export function captureStart(): void {
  pLen = 0; pIntLen = 0; pAttrLen = 0; inputLen = 0;
  clearHeld();
  setCaptureMode(true);
}

/** A program input: a copy of the argument `src` that replays will copy new values into. */
export function captureInputCopy(src: i32): i32 {
  const c = detach(src); // a captured tensor, not a record: its value comes from the host
  // detach appended a program record; an input is defined by the host, not by the program.
  if (pLen > 0 && load<i32>(pRec + <u32>(pLen - 1) * PREC, 4) == c) {
    pLen--;
    pIntLen = load<i32>(pRec + <u32>pLen * PREC, 8);
  }
  if (c == 0) return 0;
  if (inputLen == inputCap) {
    const cap = inputCap == 0 ? 64 : inputCap * 2;
    const p = grow(inputs, inputCap, 4, cap);
    if (p == 0) { fail(E_OOM, 0); return 0; }
    inputs = p; inputCap = cap;
  }
  store<i32>(inputs + (<u32>inputLen << 2), c);
  inputLen++;
  return c;
}

/**
 * Whether reading x's values on the host during the capture would bake in a decision that a
 * replay cannot repeat: x is an input, the output of a record so far, or from outside the
 * capture (it may change). A constant the host made during the capture is safe to read.
 */
export function captureDependsOn(x: i32): bool {
  if ((flagsOf(x) & F_CAPTURED) == 0) return true;
  for (let i = 0; i < inputLen; i++) if (ld(inputs, i) == x) return true;
  for (let i = 0; i < pLen; i++) if (load<i32>(pRec + <u32>i * PREC, 4) == x) return true;
  return false;
}

/** Ends a failed capture: everything it held is freed, nothing is kept. */
export function captureAbort(): void {
  setCaptureMode(false);
  for (let i = 0, n = heldCount(); i < n; i++) {
    const id = heldAt(i);
    if (isLive(id) && (flagsOf(id) & F_HELD) != 0) releaseTensor(id);
  }
  clearHeld();
  pLen = 0; pIntLen = 0; pAttrLen = 0; inputLen = 0;
}

// ————————————————————————————————————————————————————————— entries

// An entry: a block of i32 words.
const E_NREC = 0, E_REC = 1, E_INTS = 2, E_ATTRS = 3, E_NINSTR = 4, E_INSTR = 5, E_NOWNED = 6,
  E_OWNED = 7, E_ARENA = 8, E_NEXT = 9, E_EXT = 10, E_NIN = 11, E_IN = 12, E_NOUT = 13, E_OUTS = 14,
  E_ARENA_BYTES = 15, E_SHARED_BYTES = 16, E_FUSED = 17, E_UNWRITTEN = 18, E_FRESH = 19;
const ENTRY_WORDS = 20;

let entries: u32 = 0; let entryCap: i32 = 0;

@inline function ew(e: u32, k: i32): i32 { return load<i32>(e + (<u32>k << 2)); }
@inline function setEw(e: u32, k: i32, v: i32): void { store<i32>(e + (<u32>k << 2), v); }
@inline function ld(p: u32, k: i32): i32 { return load<i32>(p + (<u32>k << 2)); }
@inline function st(p: u32, k: i32, v: i32): void { store<i32>(p + (<u32>k << 2), v); }

function entryAt(h: i32): u32 {
  if (h <= 0 || h > entryCap) return 0;
  return load<u32>(entries + (<u32>(h - 1) << 2));
}

function newHandle(e: u32): i32 {
  for (let i = 0; i < entryCap; i++) {
    if (load<u32>(entries + (<u32>i << 2)) == 0) { store<u32>(entries + (<u32>i << 2), e); return i + 1; }
  }
  const cap = entryCap == 0 ? 16 : entryCap * 2;
  const p = realloc(entries, <u32>entryCap * 4, <u32>cap * 4);
  if (p == 0) return 0;
  memory.fill(p + <u32>entryCap * 4, 0, <u32>(cap - entryCap) * 4);
  entries = p;
  const h = entryCap + 1;
  entryCap = cap;
  store<u32>(entries + (<u32>(h - 1) << 2), e);
  return h;
}

function copyOut(src: u32, bytes: u32): u32 {
  const p = alloc(max<u32>(bytes, 16));
  if (p != 0 && bytes > 0) memory.copy(p, src, bytes);
  return p;
}

// ————————————————————————————————————————————————————————— finishing a capture

/** How a record treats its output: defines it fully, updates it in place, or only reads. */
@inline function definesOutput(op: i32): bool {
  return op != Op.accumulateAdd && op != Op.runningStats && op != Op.valueGuard && op != Op.optimStep;
}


// Per-tensor planning data, indexed by the order in which the program first names a tensor.
let ids: u32 = 0; let first: u32 = 0; let last: u32 = 0; let kind: u32 = 0; let offs: u32 = 0; let regOf: u32 = 0;
let nIds: i32 = 0; let idsCap: i32 = 0;
let slotOf: u32 = 0; let slotCap: i32 = 0; // tensor id → planning index, or -1

// K_REG: a temporary only a fused group reads and writes; it lives in a tile register, never in memory.
const K_TEMP = 1, K_PINNED = 2, K_EXTERNAL = 3, K_REG = 4;

function ensurePlanning(n: i32): bool {
  if (n <= idsCap) return true;
  const cap = max(n, idsCap * 2);
  ids = realloc(ids, <u32>idsCap * 4, <u32>cap * 4);
  first = realloc(first, <u32>idsCap * 4, <u32>cap * 4);
  last = realloc(last, <u32>idsCap * 4, <u32>cap * 4);
  kind = realloc(kind, <u32>idsCap * 4, <u32>cap * 4);
  offs = realloc(offs, <u32>idsCap * 4, <u32>cap * 4);
  regOf = realloc(regOf, <u32>idsCap * 4, <u32>cap * 4);
  if (ids == 0 || first == 0 || last == 0 || kind == 0 || offs == 0 || regOf == 0) { idsCap = 0; return false; }
  idsCap = cap;
  return true;
}

/** Notes a tensor named at record i (as output when `isOut`); returns its planning index. */
function note(id: i32, i: i32, isOut: bool, defines: bool): i32 {
  if (id <= 0) return -1;
  let k = ld(slotOf, id);
  if (k < 0) {
    if (!ensurePlanning(nIds + 1)) return -1;
    k = nIds++;
    st(ids, k, id);
    st(first, k, i);
    // A tensor first seen as a fully written output is the program's own: a temporary.
    st(kind, k, isOut && defines ? K_TEMP : K_PINNED);
    st(offs, k, 0); // until the arena is planned: how many records write the tensor
    st(slotOf, id, k);
  }
  st(last, k, i);
  if (isOut) st(offs, k, ld(offs, k) + 1);
  return k;
}

/**
 * Ends the capture: `outs` are the `nOut` tensor ids the function returned. Builds the entry
 * (program, buffer plan, instructions) and returns its handle, or 0 with an error code set.
 */
export function captureEnd(outs: u32, nOut: i32, fuse: bool): i32 {
  setCaptureMode(false);
  if (errorCode() != E_NONE) { captureAbort(); return 0; }
  const cap = tableCapacity();
  if (cap > slotCap) {
    const p = realloc(slotOf, <u32>slotCap * 4, <u32>cap * 4);
    if (p == 0) { fail(E_OOM, 0); captureAbort(); return 0; }
    slotOf = p; slotCap = cap;
  }
  if (!eliminateCopies(outs, nOut, cap)) { fail(E_OOM, 0); captureAbort(); return 0; }
  memory.fill(slotOf, 0xff, <u32>cap * 4);
  nIds = 0;
  // Inputs first: they are pinned (the host writes them).
  for (let i = 0; i < inputLen; i++) note(ld(inputs, i), -1, false, false);
  for (let i = 0; i < pLen; i++) {
    const r = pRec + <u32>i * PREC;
    const op = load<i32>(r, 0);
    if (!replayable(op)) { fail(E_UNSUPPORTED, op); captureAbort(); return 0; }
    const nin = load<i32>(r, 12), in0 = load<i32>(r, 8);
    for (let k = 0; k < nin; k++) note(ld(pInts, in0 + k), i, false, false);
    const out = load<i32>(r, 4);
    const defines = definesOutput(op);
    const seen = ld(slotOf, out) >= 0;
    const k = note(out, i, true, defines);
    // An in-place update of a tensor the program did not define first changes state the
    // program cannot restore (unless it lives outside, like a module's running statistics).
    if (!defines && op != Op.valueGuard && !seen && k >= 0) st(kind, k, K_PINNED);
  }
  for (let i = 0; i < nOut; i++) {
    const k = note(ld(outs, i), pLen, false, false);
    if (k >= 0) st(kind, k, K_PINNED);
  }
  if (errorCode() != E_NONE) { captureAbort(); return 0; }
  // A constant filled once and never written again keeps its own buffer and needs no replay.
  for (let i = 0; i < pLen; i++) {
    const r = pRec + <u32>i * PREC;
    if (load<i32>(r, 0) != Op.fill) continue;
    const k = ld(slotOf, load<i32>(r, 4));
    if (ld(offs, k) == 1) st(kind, k, K_PINNED);
  }
  // Owned or external; inputs are pinned already.
  for (let k = 0; k < nIds; k++) {
    const id = ld(ids, k);
    const f = flagsOf(id);
    if ((f & (F_CAPTURED | F_HELD)) == 0) st(kind, k, K_EXTERNAL);
  }
  // In-place updates must hit tensors defined by the program or living outside it.
  for (let i = 0; i < pLen; i++) {
    const r = pRec + <u32>i * PREC;
    const op = load<i32>(r, 0);
    if (op != Op.accumulateAdd && op != Op.runningStats && op != Op.optimStep) continue;
    const from = op == Op.accumulateAdd ? -1 : op == Op.runningStats ? 1 : 0;
    const to = op == Op.accumulateAdd ? 0 : load<i32>(r, 12) - (op == Op.optimStep ? 1 : 0);
    for (let j = from; j < to; j++) {
      if (op == Op.optimStep && j % 6 == 1) continue; // a gradient: only read
      const id = j < 0 ? load<i32>(r, 4) : ld(pInts, load<i32>(r, 8) + j);
      const k = ld(slotOf, id);
      if (k < 0) continue;
      const kd = ld(kind, k);
      const definedBefore = kd == K_TEMP || (kd == K_PINNED && ld(first, k) < i && definedEarlier(id, i));
      if (kd != K_EXTERNAL && !definedBefore) { fail(E_CONSTANT_MUTATED, op); captureAbort(); return 0; }
    }
  }
  // The program now owns its captured tensors; everything else held is freed.
  let nOwned = 0;
  for (let k = 0; k < nIds; k++) if (ld(kind, k) != K_EXTERNAL) nOwned++;
  const nExt = nIds - nOwned;
  const e = alloc(ENTRY_WORDS * 4);
  const owned = alloc(<u32>max(nOwned, 1) * 4);
  const ext = alloc(<u32>max(nExt, 1) * 8);
  if (e == 0 || owned == 0 || ext == 0) { fail(E_OOM, 0); captureAbort(); return 0; }
  let w = 0, x = 0;
  for (let k = 0; k < nIds; k++) {
    const id = ld(ids, k);
    if (ld(kind, k) == K_EXTERNAL) {
      st(ext, 2 * x, id); st(ext, 2 * x + 1, load<i32>(rec(id), T_GEN)); x++;
      continue;
    }
    st(owned, w++, id);
    const r = rec(id);
    // Out of every scope and off every tape: only clearCache frees it.
    store<i32>(r, -1, T_SLOT);
    const f = load<i32>(r, T_FLAGS);
    store<i32>(r, (f & ~(F_HELD | F_NEEDS_GRAD | F_ON_TAPE | F_ADJOINT | F_TANGENT | F_DISPOSE_PENDING)) | F_PROGRAM, T_FLAGS);
  }
  for (let i = 0, n = heldCount(); i < n; i++) {
    const id = heldAt(i);
    if (isLive(id) && (flagsOf(id) & F_HELD) != 0) releaseTensor(id);
  }
  clearHeld();
  setEw(e, E_NREC, pLen);
  setEw(e, E_REC, copyOut(pRec, <u32>pLen * PREC));
  setEw(e, E_INTS, copyOut(pInts, <u32>pIntLen * 4));
  setEw(e, E_ATTRS, copyOut(pAttrs, <u32>pAttrLen * 8));
  setEw(e, E_NOWNED, nOwned); setEw(e, E_OWNED, owned);
  setEw(e, E_NEXT, nExt); setEw(e, E_EXT, ext);
  setEw(e, E_NIN, inputLen); setEw(e, E_IN, copyOut(inputs, <u32>inputLen * 4));
  setEw(e, E_NOUT, nOut); setEw(e, E_OUTS, copyOut(outs, <u32>nOut * 4));
  setEw(e, E_FRESH, freshOutputs(outs, nOut));
  setEw(e, E_ARENA, 0); setEw(e, E_ARENA_BYTES, 0); setEw(e, E_SHARED_BYTES, 0);
  setEw(e, E_FUSED, 0); setEw(e, E_UNWRITTEN, 0); setEw(e, E_INSTR, 0); setEw(e, E_NINSTR, 0);
  nGroups = 0;
  if (fuse) planFusion(e);
  planArena(e);
  buildInstructions(e);
  pLen = 0; pIntLen = 0; pAttrLen = 0; inputLen = 0;
  if (errorCode() != E_NONE) { freeEntry(e); return 0; }
  const h = newHandle(e);
  if (h == 0) { fail(E_OOM, 0); freeEntry(e); return 0; }
  return h;
}

/**
 * Per output, 1 when every replay writes it whole before anything reads it: a program tensor
 * first named as the output of a record that defines it (not a constant filled once at capture).
 * Such an output's old buffer holds nothing the replay needs, so when it comes back as an input
 * the replay may take its buffer instead of copying it (begin). Before the fusion plan, which
 * widens live intervals.
 */
function freshOutputs(outs: u32, nOut: i32): u32 {
  const p = alloc(<u32>max(nOut, 1) * 4);
  if (p == 0) return 0;
  for (let i = 0; i < nOut; i++) {
    const id = ld(outs, i), k = ld(slotOf, id);
    let fresh = false;
    if (k >= 0 && ld(kind, k) != K_EXTERNAL && ld(first, k) >= 0 && ld(first, k) < pLen) {
      const r = pRec + <u32>ld(first, k) * PREC;
      const op = load<i32>(r, 0);
      fresh = load<i32>(r, 4) == id && definesOutput(op) && !(op == Op.fill && ld(offs, k) == 1);
    }
    st(p, i, fresh ? 1 : 0);
  }
  return p;
}

// Per tensor id while copies are eliminated: how many records write it, the last that does, and
// the tensor a dropped copy's reads are redirected to (0: none).
let wCount: u32 = 0; let wLast: u32 = 0; let alias: u32 = 0; let aliasCap: i32 = 0;

/** Whether record input j of `op` (nin inputs) is updated in place (as the mutation check reads them). */
function writesInput(op: i32, j: i32, nin: i32): bool {
  if (op == Op.accumulateAdd) return j == 0;
  if (op == Op.runningStats) return j >= 1;
  if (op == Op.optimStep) return j < nin - 1 && j % 6 != 1;
  return false;
}

/**
 * Copy elimination, before the tensors are planned (so live intervals follow the rewritten
 * reads): a copy/detach record whose output o is written by no other record, is dead to the host
 * (held by the capture, not returned, not an input) and whose source a is not written again from
 * that record on, is dropped, and later reads of o read a. A copy is exact, so the values read
 * are the same bits. Returns false when out of memory.
 */
function eliminateCopies(outs: u32, nOut: i32, cap: i32): bool {
  if (cap > aliasCap) {
    wCount = realloc(wCount, <u32>aliasCap * 4, <u32>cap * 4);
    wLast = realloc(wLast, <u32>aliasCap * 4, <u32>cap * 4);
    alias = realloc(alias, <u32>aliasCap * 4, <u32>cap * 4);
    if (wCount == 0 || wLast == 0 || alias == 0) { aliasCap = 0; return false; }
    aliasCap = cap;
  }
  memory.fill(wCount, 0, <u32>cap * 4);
  memory.fill(wLast, 0xff, <u32>cap * 4);
  memory.fill(alias, 0, <u32>cap * 4);
  for (let i = 0; i < pLen; i++) {
    const r = pRec + <u32>i * PREC;
    const op = load<i32>(r, 0), out = load<i32>(r, 4);
    const nin = load<i32>(r, 12), in0 = load<i32>(r, 8);
    if (out > 0) { st(wCount, out, ld(wCount, out) + 1); st(wLast, out, i); }
    for (let j = 0; j < nin; j++) {
      const id = ld(pInts, in0 + j);
      if (id > 0 && writesInput(op, j, nin)) { st(wCount, id, ld(wCount, id) + 1); st(wLast, id, i); }
    }
  }
  let m = 0;
  for (let i = 0; i < pLen; i++) {
    const r = pRec + <u32>i * PREC;
    const op = load<i32>(r, 0), out = load<i32>(r, 4);
    const nin = load<i32>(r, 12), in0 = load<i32>(r, 8);
    for (let j = 0; j < nin; j++) {
      const id = ld(pInts, in0 + j);
      if (id > 0 && ld(alias, id) != 0) st(pInts, in0 + j, ld(alias, id));
    }
    if ((op == Op.copy || op == Op.detach) && nin == 1 && copyRemovable(out, ld(pInts, in0), i, outs, nOut)) {
      st(alias, out, ld(pInts, in0));
      continue;
    }
    if (m != i) memory.copy(pRec + <u32>m * PREC, r, PREC);
    m++;
  }
  pLen = m;
  return true;
}

function copyRemovable(o: i32, a: i32, i: i32, outs: u32, nOut: i32): bool {
  if (o <= 0 || a <= 0 || o == a || ld(wCount, o) != 1 || ld(wLast, a) >= i) return false;
  if ((flagsOf(o) & (F_CAPTURED | F_HELD)) != (F_CAPTURED | F_HELD)) return false;
  if (dtypeOf(o) != dtypeOf(a) || numelOf(o) != numelOf(a)) return false;
  for (let k = 0; k < nOut; k++) if (ld(outs, k) == o) return false;
  for (let k = 0; k < inputLen; k++) if (ld(inputs, k) == o) return false;
  return true;
}

/** Whether some record before i fully writes `id` (so an in-place update at i is repeatable). */
function definedEarlier(id: i32, i: i32): bool {
  for (let j = 0; j < i; j++) {
    const r = pRec + <u32>j * PREC;
    if (load<i32>(r, 4) == id && definesOutput(load<i32>(r, 0))) return true;
  }
  return false;
}

@inline function align16(n: u32): u32 { return (n + 15) & ~15; }

/** Lays the temporaries out in one arena, sharing memory between disjoint live intervals. */
function planArena(e: u32): void {
  let top: u32 = 0;
  let any = false;
  for (let k = 0; k < nIds; k++) {
    if (ld(kind, k) == K_REG) { any = true; continue; } // no space: its buffer is never touched
    if (ld(kind, k) != K_TEMP) continue;
    const id = ld(ids, k);
    const bytes = align16(<u32>numelOf(id) * itemSize(dtypeOf(id)));
    if (bytes == 0) { st(kind, k, K_PINNED); continue; }
    const a = ld(first, k), b = ld(last, k);
    // First fit: the lowest offset clear of every placed temporary whose interval meets [a, b].
    let off: u32 = 0;
    let moved = true;
    while (moved) {
      moved = false;
      for (let j = 0; j < k; j++) {
        if (ld(kind, j) != K_TEMP || ld(first, j) > b || ld(last, j) < a) continue;
        const oj = <u32>ld(offs, j);
        const idj = ld(ids, j);
        const ej = oj + align16(<u32>numelOf(idj) * itemSize(dtypeOf(idj)));
        if (oj < off + bytes && off < ej) { off = ej; moved = true; }
      }
    }
    st(offs, k, <i32>off);
    if (off + bytes > top) top = off + bytes;
    any = true;
  }
  if (!any) return;
  const arena = alloc(max<u32>(top, 16));
  if (arena == 0) return; // no room for the arena: the temporaries keep their own buffers
  let shared: f64 = 0;
  for (let k = 0; k < nIds; k++) {
    const kd = ld(kind, k);
    if (kd != K_TEMP && kd != K_REG) continue;
    const id = ld(ids, k);
    const r = rec(id);
    free(load<u32>(r, T_DATA));
    // A register tensor points at the arena's start: nothing reads or writes it there.
    store<u32>(r, arena + (kd == K_REG ? 0 : <u32>ld(offs, k)), T_DATA);
    shared += <f64>numelOf(id) * <f64>itemSize(dtypeOf(id));
  }
  adjustTensorBytes(<f64>top - shared);
  setEw(e, E_ARENA, arena);
  setEw(e, E_ARENA_BYTES, <i32>top);
  // Stored as f32 bits would lose precision: keep the shared byte count as an i32 (< 4 GiB).
  setEw(e, E_SHARED_BYTES, <i32><u32>shared);
}

// ————————————————————————————————————————————————————————— instructions

// An instruction: a code, then three pointers (a, b, out) or a record index.
const INSTR = INSTR_WORDS * 4; // bytes
// Scalar codes are dense per dtype — binary ops add..minimum, unary ops neg..erf, fill, copy —
// so the replay dispatches each with one br_table; float32 codes follow the float64 ones.

function isFloat(dt: i32): bool { return dt == DType.float32 || dt == DType.float64; }

/** The scalar code of record `op` on size-1 operands (without the dtype offset), or -1. */
function scalarCode(op: i32, nin: i32, out: i32, a: i32, b: i32): i32 {
  const dt = dtypeOf(out);
  if (numelOf(out) != 1 || !isFloat(dt)) return -1;
  if (((op >= BINARY_FIRST && op <= BINARY_LAST) || op == Op.accumulateAdd) && nin == 2 &&
      numelOf(a) == 1 && numelOf(b) == 1 && dtypeOf(a) == dt && dtypeOf(b) == dt) {
    return S_BIN + (op == Op.accumulateAdd ? Op.add : op) - Op.add;
  }
  if (op >= UNARY_FIRST && op <= UNARY_LAST && nin == 1 && numelOf(a) == 1 && dtypeOf(a) == dt) return S_UN + op - Op.neg;
  if (op == Op.fill) return S_FILL;
  if ((op == Op.copy || op == Op.detach) && nin == 1 && dtypeOf(a) == dt) return S_COPY;
  return -1;
}

function buildInstructions(e: u32): void {
  const n = ew(e, E_NREC);
  const p = alloc(<u32>max(n, 1) * INSTR);
  if (p == 0) { fail(E_OOM, 0); return; }
  setEw(e, E_INSTR, p);
  setEw(e, E_NINSTR, n);
  const recs = <u32>ew(e, E_REC), ints = <u32>ew(e, E_INTS), attrs = <u32>ew(e, E_ATTRS);
  let m = 0, group = 0;
  for (let i = 0; i < n; i++) {
    if (group < nGroups && i == ld(groups, 2 * group)) {
      const end = ld(groups, 2 * group + 1);
      const g = buildGroup(recs, ints, i, end);
      if (g == 0) { fail(E_OOM, 0); setEw(e, E_NINSTR, m); return; }
      const q = p + <u32>(m++) * INSTR;
      store<i32>(q, S_FUSED, 0);
      store<u32>(q, g, 4);
      i = end;
      group++;
      continue;
    }
    const r = recs + <u32>i * PREC;
    const op = load<i32>(r, 0), out = load<i32>(r, 4);
    if (op == Op.fill && ld(kind, ld(slotOf, out)) == K_PINNED && ld(offs, ld(slotOf, out)) == 1) continue;
    const nin = load<i32>(r, 12);
    const a = nin > 0 ? ld(ints, load<i32>(r, 8)) : 0;
    const b = nin > 1 ? ld(ints, load<i32>(r, 8) + 1) : 0;
    const q = p + <u32>(m++) * INSTR;
    const code = scalarCode(op, nin, out, a, b);
    if (code < 0) {
      store<i32>(q, S_GENERIC, 0);
      store<i32>(q, i, 4);
      continue;
    }
    store<i32>(q, code + (dtypeOf(out) == DType.float32 ? S_F32 : 0), 0);
    if (code == S_FILL) {
      store<u32>(q, attrs + (<u32>load<i32>(r, 16) << 3), 4);
    } else {
      store<u32>(q, dataOf(a), 4);
      store<u32>(q, b != 0 ? dataOf(b) : 0, 8);
    }
    store<u32>(q, dataOf(out), 12);
  }
  setEw(e, E_NINSTR, m);
}

// ————————————————————————————————————————————————————————— fused groups (engine/fusion.ts)

// Groups as pairs of record indices [first, last], in program order.
let groups: u32 = 0; let nGroups: i32 = 0; let groupCap: i32 = 0;
/** The most instructions in one group (its registers fit a 64-bit mask). */
const GROUP_MAX = 48;

/** A constant fill the instructions skip (filled once, never written again). */
function constantFill(r: u32): bool {
  if (load<i32>(r, 0) != Op.fill) return false;
  const k = ld(slotOf, load<i32>(r, 4));
  return ld(kind, k) == K_PINNED && ld(offs, k) == 1;
}

/** The float dtype record r computes in: its output's, or a comparison's operands'. */
function computeType(r: u32): i32 {
  const op = load<i32>(r, 0);
  return dtypeOf(op >= Op.eq && op <= Op.ge ? ld(pInts, load<i32>(r, 8)) : load<i32>(r, 4));
}

/**
 * The run length of a sum record over trailing dims (all of them, or a last few) of a float
 * tensor, or 0. reduce.ts sums such runs one after another in a fixed order that a tile loop
 * can keep; a sum over other dims adds several runs into one output element, which it cannot.
 */
function sumRun(r: u32): i32 {
  if (load<i32>(r, 0) != Op.sum || load<i32>(r, 12) != 1) return 0;
  const x = ld(pInts, load<i32>(r, 8)), out = load<i32>(r, 4);
  if (x <= 0 || out <= 0 || !isFloat(dtypeOf(x)) || dtypeOf(out) != dtypeOf(x)) return 0;
  const axes = <i32>load<f64>(pAttrs + (<u32>load<i32>(r, 16) << 3));
  const rank = rankOf(x);
  if (axes == 0 || rank > 30 || (axes >>> rank) != 0) return 0;
  const k0 = ctz(axes);
  if (axes + (1 << k0) != 1 << rank) return 0; // not a suffix of the dims
  let run = 1;
  for (let k = k0; k < rank; k++) run *= load<i32>(shapePtr(x) + (<u32>k << 2));
  return run >= 2 ? run : 0;
}

/**
 * The element count of record r when it can join a fused group (a float binary or unary op, a
 * comparison of floats, a where between floats, or an adjoint accumulation, of more than one
 * element, or a sum over trailing dims, counted by its input), else 0. Operands either have the
 * output's count (the same elements: broadcasting cannot change a count without a size-1 dim),
 * one element, or broadcast onto the output.
 */
function fusableCount(r: u32): i32 {
  const op = load<i32>(r, 0), out = load<i32>(r, 4), nin = load<i32>(r, 12);
  if (out <= 0) return 0;
  if (op == Op.sum) return sumRun(r) != 0 ? numelOf(ld(pInts, load<i32>(r, 8))) : 0;
  const n = numelOf(out);
  if (n < 2 || nin < 1) return 0;
  const a = ld(pInts, load<i32>(r, 8));
  const b = nin > 1 ? ld(pInts, load<i32>(r, 8) + 1) : 0;
  if (a <= 0 || (nin > 1 && b <= 0)) return 0;
  if (op >= Op.eq && op <= Op.ge && nin == 2) {
    return dtypeOf(out) == DType.bool && isFloat(dtypeOf(a)) && dtypeOf(b) == dtypeOf(a) ? n : 0;
  }
  const dt = dtypeOf(out);
  if (!isFloat(dt)) return 0;
  if (op >= BINARY_FIRST && op <= BINARY_LAST && nin == 2) return dtypeOf(a) == dt && dtypeOf(b) == dt ? n : 0;
  if (op >= UNARY_FIRST && op <= UNARY_LAST && nin == 1) return dtypeOf(a) == dt && numelOf(a) == n ? n : 0;
  if (op == Op.accumulateAdd && nin == 2) return a == out && dtypeOf(b) == dt && numelOf(b) == n ? n : 0;
  if (op == Op.where && nin == 3) {
    const c = ld(pInts, load<i32>(r, 8) + 2);
    return c > 0 && dtypeOf(a) == DType.bool && dtypeOf(b) == dt && dtypeOf(c) == dt ? n : 0;
  }
  return 0;
}

function addGroup(from: i32, to: i32): bool {
  if (nGroups == groupCap) {
    const cap = groupCap == 0 ? 64 : groupCap * 2;
    const p = grow(groups, groupCap, 8, cap);
    if (p == 0) return false;
    groups = p; groupCap = cap;
  }
  st(groups, 2 * nGroups, from); st(groups, 2 * nGroups + 1, to);
  nGroups++;
  return true;
}

/**
 * Finds the groups: maximal runs of consecutive fusable records (constant fills between them are
 * skipped) of one dtype and element count, two records at least, a sum only as the last (its
 * output has fewer elements: the group's other records cannot read it). A temporary that only its
 * group names becomes a register (K_REG). Every other tensor a group names stays live over the
 * whole group, since a tile of a later record runs before the rest of an earlier one: the arena
 * must not give its memory to another tensor of the group. Out of memory: nothing is fused.
 */
function planFusion(e: u32): void {
  nGroups = 0;
  let i = 0;
  while (i < pLen) {
    const n = fusableCount(pRec + <u32>i * PREC);
    if (n == 0 || load<i32>(pRec + <u32>i * PREC, 0) == Op.sum) { i++; continue; }
    const dt = computeType(pRec + <u32>i * PREC);
    let j = i, last = i, count = 1;
    while (j + 1 < pLen && count < GROUP_MAX) {
      const r = pRec + <u32>(j + 1) * PREC;
      if (constantFill(r)) { j++; continue; }
      if (fusableCount(r) != n || computeType(r) != dt) break;
      j++; last = j; count++;
      if (load<i32>(r, 0) == Op.sum) break;
    }
    if (count >= 2 && !addGroup(i, last)) { nGroups = 0; return; }
    i = last + 1;
  }
  let fused = 0, unwritten = 0;
  for (let g = 0; g < nGroups; g++) {
    const from = ld(groups, 2 * g), to = ld(groups, 2 * g + 1);
    for (let j = from; j <= to; j++) {
      const r = pRec + <u32>j * PREC;
      if (constantFill(r)) continue;
      fused++;
      const k = ld(slotOf, load<i32>(r, 4));
      if (load<i32>(r, 0) != Op.sum && ld(kind, k) == K_TEMP && ld(first, k) >= from && ld(last, k) <= to) {
        st(kind, k, K_REG); unwritten++;
      }
    }
    for (let j = from; j <= to; j++) {
      const r = pRec + <u32>j * PREC;
      const nin = load<i32>(r, 12), in0 = load<i32>(r, 8);
      for (let x = -1; x < nin; x++) {
        const k = ld(slotOf, x < 0 ? load<i32>(r, 4) : ld(pInts, in0 + x));
        if (k < 0 || ld(kind, k) == K_REG) continue;
        if (ld(first, k) > from) st(first, k, from);
        if (ld(last, k) < to) st(last, k, to);
      }
    }
  }
  setEw(e, E_FUSED, fused);
  setEw(e, E_UNWRITTEN, unwritten);
}

/** The descriptor of the group of records [from, to], registers allocated; 0 when out of memory. */
function buildGroup(recs: u32, ints: u32, from: i32, to: i32): u32 {
  let count = 0, nBcast = 0;
  const n = numelOf(load<i32>(recs + <u32>from * PREC, 4));
  for (let j = from; j <= to; j++) {
    const r = recs + <u32>j * PREC;
    if (constantFill(r)) continue;
    count++;
    for (let x = 0, nin = load<i32>(r, 12); x < nin; x++) {
      const m = numelOf(ld(ints, load<i32>(r, 8) + x));
      if (m != n && m != 1) nBcast++;
    }
  }
  const g = groupNew(count, nBcast, n, computeType(recs + <u32>from * PREC));
  if (g == 0) return 0;
  let geo = G_HEADER + count * G_INSTR, used: u64 = 0, regs = 0, i = 0;
  for (let j = from; j <= to; j++) {
    const r = recs + <u32>j * PREC;
    if (constantFill(r)) continue;
    const op = load<i32>(r, 0), out = load<i32>(r, 4), nin = load<i32>(r, 12), in0 = load<i32>(r, 8);
    const ko = ld(slotOf, out);
    const outReg = ld(kind, ko) == K_REG;
    // A register for a new temporary; an accumulation's target has one already.
    if (outReg && op != Op.accumulateAdd) {
      let reg = 0;
      while (((used >> <u64>reg) & 1) != 0) reg++;
      used |= (<u64>1) << <u64>reg;
      if (reg + 1 > regs) regs = reg + 1;
      st(regOf, ko, reg);
    }
    if (op == Op.sum) {
      const x = ld(ints, in0), kx = ld(slotOf, x);
      const reg = kx >= 0 && ld(kind, kx) == K_REG;
      groupSum(g, i, reg ? O_REG : O_MEM, reg ? ld(regOf, kx) : x, sumRun(r), out);
      i++;
      continue; // the group's last record: no register to free
    }
    // An accumulation out += b is the binary add of its operands (out, b) into out.
    const cls = op >= Op.eq && op <= Op.ge ? C_COMPARE : op == Op.where ? C_WHERE : nin == 1 ? C_UNARY : C_BINARY;
    groupInstr(g, i, op == Op.accumulateAdd ? Op.add : op, cls, outReg ? O_REG : O_MEM, outReg ? ld(regOf, ko) : out);
    for (let x = 0; x < nin; x++) {
      const id = ld(ints, in0 + x), k = ld(slotOf, id), m = numelOf(id);
      const kd = k >= 0 && ld(kind, k) == K_REG ? O_REG : m == n ? O_MEM : m == 1 ? O_SCALAR : O_BCAST;
      geo = groupOperand(g, i, x, kd, kd == O_REG ? ld(regOf, k) : id, out, geo);
    }
    // Registers whose tensor is named for the last time here are free for the later records.
    for (let x = -1; x < nin; x++) {
      const k = ld(slotOf, x < 0 ? out : ld(ints, in0 + x));
      if (k >= 0 && ld(kind, k) == K_REG && ld(last, k) <= j) used &= ~((<u64>1) << <u64>ld(regOf, k));
    }
    i++;
  }
  groupPairs(g);
  if (!groupRegisters(g, regs)) { groupFree(g); return 0; }
  return g;
}

// ————————————————————————————————————————————————————————— replay

const GEO = memory.data(32 * 4);
let curInts: u32 = 0;
let curAttrs: u32 = 0;

@inline function inAt(r: u32, k: i32): i32 { return ld(curInts, load<i32>(r, 8) + k); }
@inline function at(r: u32, k: i32): f64 { return load<f64>(curAttrs + (<u32>(load<i32>(r, 16) + k) << 3)); }
@inline function ati(r: u32, k: i32): i32 { return <i32>at(r, k); }

/** Attributes from `k` on, as i32 words in GEO. */
function geoFrom(r: u32, k: i32, n: i32): u32 {
  for (let j = 0; j < n; j++) st(GEO, j, ati(r, k + j));
  return GEO;
}

/** True when some element of a bool mask is set. */
function anySet(mask: i32): bool {
  const p = dataOf(mask);
  for (let i = 0, n = numelOf(mask); i < n; i++) if (load<u8>(p + <usize>i) != 0) return true;
  return false;
}

/** anySet for an op that branches on it: a replay must check the branch goes the same way. */
export function anySetGuarded(mask: i32): bool {
  const set = anySet(mask);
  captureGuard(mask, set);
  return set;
}

/** Recomputes record r into its output by calling the op's own function, redirected. */
function replayRecord(r: u32): void {
  const op = load<i32>(r, 0), out = load<i32>(r, 4);
  // In-place and checking records first: they make no tensor.
  if (op == Op.fill) { fillScalar(out, at(r, 0)); return; }
  if (op == Op.accumulateAdd) { addInPlace(out, inAt(r, 1)); return; }
  if (op == Op.randFill) { randFill(out, ati(r, 0), at(r, 1), at(r, 2), ati(r, 3), at(r, 4)); return; }
  if (op == Op.optimStep) { replayOptimStep(curInts + (<u32>load<i32>(r, 8) << 2), curAttrs + (<u32>load<i32>(r, 16) << 3)); return; }
  if (op == Op.valueGuard) { if (anySet(inAt(r, 0)) != (at(r, 0) != 0)) fail(E_GUARD, op); return; }
  if (op == Op.runningStats) {
    const hasMean = at(r, 4) != 0, hasVar = at(r, 5) != 0;
    const rm = hasMean ? inAt(r, 1) : 0;
    const rv = hasVar ? inAt(r, hasMean ? 2 : 1) : 0;
    runningStatsUpdate(inAt(r, 0), ati(r, 0), ati(r, 1), ati(r, 2), rm, rv, at(r, 3));
    return;
  }
  redirectNext(out);
  let got = 0;
  const x = load<i32>(r, 12) > 0 ? inAt(r, 0) : 0;
  if (op >= BINARY_FIRST && op <= BINARY_LAST) got = binary(op, x, inAt(r, 1));
  else if (op >= Op.eq && op <= Op.ge) got = compare(op, x, inAt(r, 1));
  else if (op >= UNARY_FIRST && op <= UNARY_LAST) got = unary(op, x);
  else {
    switch (op) {
      case Op.where: got = where(x, inAt(r, 1), inAt(r, 2)); break;
      case Op.clamp: got = clamp(x, at(r, 0), at(r, 1)); break;
      case Op.cast: got = cast(x, ati(r, 0)); break;
      case Op.copy: got = copy(x); break;
      case Op.detach: got = detach(x); break;
      case Op.sum: got = sum(x, ati(r, 0), at(r, 1) != 0); break;
      case Op.max: case Op.min: case Op.prod: case Op.logsumexp:
        got = reduce(op, x, ati(r, 0), at(r, 1) != 0); break;
      case Op.matmul: got = matmul(x, inAt(r, 1), ati(r, 0), ati(r, 1)); break;
      case Op.reshape: got = reshapeTo(x, rankOf(out), shapePtr(out)); break;
      case Op.expand: got = expandTo(x, rankOf(out), shapePtr(out)); break;
      case Op.permute: got = permute(x, geoFrom(r, 0, rankOf(x))); break;
      case Op.slice: got = slice(x, geoFrom(r, 1, 3 * rankOf(x)), ati(r, 0)); break;
      case Op.pad: got = pad(x, shapePtr(out), geoFrom(r, 1, 2 * rankOf(x)), at(r, 0)); break;
      case Op.indexSelect: got = indexSelect(x, ati(r, 0), inAt(r, 1)); break;
      case Op.indexAdd: got = indexAdd(x, ati(r, 0), inAt(r, 1), inAt(r, 2), at(r, 1)); break;
      case Op.gather: got = gather(x, ati(r, 0), inAt(r, 1)); break;
      case Op.scatterAdd: got = scatterAdd(x, ati(r, 0), inAt(r, 1), inAt(r, 2)); break;
      case Op.concat:
        got = concat(curInts + (<u32>load<i32>(r, 8) << 2), load<i32>(r, 12), ati(r, 0), rankOf(out), shapePtr(out));
        break;
      case Op.conv: case Op.convTranspose: case Op.convWeight:
        got = convFamily(op, x, inAt(r, 1), rankOf(out), shapePtr(out), geoFrom(r, 0, CONV_GEO_WORDS)); break;
      case Op.convBiasRelu:
        got = convBiasRelu(x, inAt(r, 1), inAt(r, 2), rankOf(out), shapePtr(out), geoFrom(r, 0, CONV_GEO_WORDS), ati(r, CONV_GEO_WORDS)); break;
      case Op.poolGather: got = poolGather(x, inAt(r, 1), ati(r, 0), ati(r, 1), ati(r, 2)); break;
      case Op.poolScatter:
        got = poolScatter(x, inAt(r, 1), rankOf(out), shapePtr(out), ati(r, 0), ati(r, 1), ati(r, 2), ati(r, 3)); break;
      case Op.avgPool: case Op.avgPoolAdjoint:
        got = avgPoolFamily(op, x, rankOf(out), shapePtr(out), geoFrom(r, 0, 14)); break;
      case Op.maxPoolIndices:
        got = maxPoolIndices(x, rankOf(out), shapePtr(out), geoFrom(r, 0, MAX_POOL_GEO_WORDS)); break;
      case Op.conv3d: case Op.convTranspose3d: case Op.convWeight3d:
        got = conv3dFamily(op, x, inAt(r, 1), rankOf(out), shapePtr(out), geoFrom(r, 0, CONV3D_GEO_WORDS)); break;
      case Op.avgPool3d: case Op.avgPool3dAdjoint:
        got = avgPool3dFamily(op, x, rankOf(out), shapePtr(out), geoFrom(r, 0, AVG_POOL3D_GEO_WORDS)); break;
      case Op.maxPool3dIndices:
        got = maxPool3dIndices(x, rankOf(out), shapePtr(out), geoFrom(r, 0, MAX_POOL3D_GEO_WORDS)); break;
      case Op.normalize: got = normalize(x, ati(r, 0), ati(r, 1), ati(r, 2), at(r, 3)); break;
      case Op.layerNorm: { // weight and bias follow x when the affine attribute says so
        const affine = ati(r, 2), w = (affine & 1) != 0 ? inAt(r, 1) : 0, b = (affine & 2) != 0 ? inAt(r, w != 0 ? 2 : 1) : 0;
        got = layerNorm(x, w, b, ati(r, 0), at(r, 1)); break;
      }
      case Op.layerNormBackward: got = layerNormBackward(x, inAt(r, 1), ati(r, 2) != 0 ? inAt(r, 2) : 0, ati(r, 0), at(r, 1)); break;
      case Op.layerNormWeightGrad: got = layerNormWeightGrad(x, inAt(r, 1), ati(r, 0), at(r, 1)); break;
      case Op.softmax: case Op.logSoftmax: got = softmax(op, x, ati(r, 0)); break;
      case Op.softmaxBackward: case Op.logSoftmaxBackward: got = softmaxBackward(op, x, inAt(r, 1), ati(r, 0)); break;
      case Op.gelu: got = gelu(x, ati(r, 0)); break;
      case Op.attention: got = attention(x, inAt(r, 1), inAt(r, 2), at(r, 0), ati(r, 1)); break;
      case Op.attentionBackward: got = attentionBackward(x, inAt(r, 1), inAt(r, 2), inAt(r, 3), at(r, 0), ati(r, 1)); break;
      case Op.geluBackward: got = geluBackward(x, inAt(r, 1), ati(r, 0)); break;
      case Op.ctcLoss:
        got = ctcLoss(x, inAt(r, 1), inAt(r, 2), inAt(r, 3), ati(r, 0), at(r, 1) != 0); break;
      case Op.logSumExpRows: got = logSumExpRows(x); break;
      case Op.crossEntropy: got = crossEntropy(x, inAt(r, 1), inAt(r, 2), ati(r, 0), ati(r, 1), at(r, 2)); break;
      case Op.crossEntropyBackward: got = crossEntropyBackward(x, inAt(r, 1), inAt(r, 2), inAt(r, 3), ati(r, 0), ati(r, 1), at(r, 2)); break;
      case Op.ctcLossGrad:
        got = ctcLossGrad(x, inAt(r, 1), inAt(r, 2), inAt(r, 3), ati(r, 0), at(r, 1) != 0); break;
      case Op.cumsum: got = cumsum(x, ati(r, 0), ati(r, 1)); break;
      case Op.cumprod: got = cumprod(x, ati(r, 0)); break;
      case Op.linrec: got = linrec(x, inAt(r, 1), ati(r, 0), ati(r, 1)); break;
      case Op.sortIndices: got = sortIndices(x, ati(r, 0), ati(r, 1), ati(r, 2)); break;
      case Op.argExtremum: got = argExtremum(x, ati(r, 0), ati(r, 1), ati(r, 2)); break;
      case Op.solve: got = solve(x, inAt(r, 1), ati(r, 0)); break;
      case Op.det: got = determinant(x, 0); break;
      case Op.logabsdet: got = determinant(x, 1); break;
      case Op.detSign: got = determinant(x, 2); break;
      case Op.cholesky: got = cholesky(x); break;
      case Op.solveTriangular:
        got = solveTriangular(x, inAt(r, 1), ati(r, 0), ati(r, 1), ati(r, 2), ati(r, 3)); break;
      case Op.qr: got = qr(x, ati(r, 0)); break;
      case Op.svd: got = svd(x, ati(r, 0), ati(r, 1)); break;
      case Op.eigh: got = eigh(x, ati(r, 0)); break;
      case Op.pinv: got = pinv(x, at(r, 0), at(r, 1), ati(r, 2)); break;
      default: fail(E_UNKNOWN_OP, op); return; // replayable() admitted an op this switch does not know
    }
  }
  if (got != out || redirectPending()) {
    redirectNext(0);
    fail(E_REPLAY, op);
  }
}

/**
 * Replays entry `h`: brings the `n` source tensors (ids at `src`) into the program's inputs, then
 * runs the instructions. Returns 0, E_STALE (an outside tensor is gone: capture again) or an error.
 */
export function replay(h: i32, src: u32, n: i32): i32 {
  const code = begin(h, src, n, true);
  if (code != 0) return code;
  const result = run(entryAt(h));
  unbind();
  return result;
}

/**
 * A replay's checks and input copies, without running the program: 0 when it may run. Programs
 * the host compiled to wasm of their own (src/accelerate-compile.ts) call this first.
 */
export function replayBegin(h: i32, src: u32, n: i32): i32 { return begin(h, src, n, false); }

// Inputs bound to their sources' data for one replay: [input id, its own data pointer] pairs.
let bound: u32 = 0; let nBound: i32 = 0; let boundCap: i32 = 0;
/** Inputs smaller than this are copied: a copy costs less than the checks. */
const BIND_BYTES: u32 = 4096;

/**
 * Whether input d may read source s's data in place for this replay instead of a copy: s is
 * nobody's program tensor (a program may overwrite those while it runs, even this one's
 * outputs), s is not a tensor the program reads from outside (it may update those in place),
 * and d is not an output of the program (the host reads outputs after the replay).
 */
function bindable(e: u32, d: i32, s: i32): bool {
  if ((flagsOf(s) & F_PROGRAM) != 0) return false;
  const ext = <u32>ew(e, E_EXT);
  for (let i = 0, m = ew(e, E_NEXT); i < m; i++) if (ld(ext, 2 * i) == s) return false;
  return !isOutput(e, d);
}

function isOutput(e: u32, id: i32): bool {
  const outs = <u32>ew(e, E_OUTS);
  for (let i = 0, m = ew(e, E_NOUT); i < m; i++) if (ld(outs, i) == id) return true;
  return false;
}

/** Whether `id` is an output of entry e that each replay writes before reading (freshOutputs). */
function freshOutput(e: u32, id: i32): bool {
  if ((flagsOf(id) & F_PROGRAM) == 0) return false;
  const outs = <u32>ew(e, E_OUTS), fresh = <u32>ew(e, E_FRESH);
  if (fresh == 0) return false;
  for (let i = 0, m = ew(e, E_NOUT); i < m; i++) if (ld(outs, i) == id) return ld(fresh, i) != 0;
  return false;
}

function begin(h: i32, src: u32, n: i32, bind: bool): i32 {
  // Inside a gradient or a jvp the results must be differentiable: the host runs f as written.
  if (tapeDepthNow() > 0 || forwardDepthNow() > 0) return E_EAGER;
  const e = entryAt(h);
  if (e == 0) return E_STALE;
  const ext = <u32>ew(e, E_EXT);
  for (let i = 0, m = ew(e, E_NEXT); i < m; i++) {
    const id = ld(ext, 2 * i);
    if (!isLive(id) || load<i32>(rec(id), T_GEN) != ld(ext, 2 * i + 1)) return E_STALE;
  }
  const ins = <u32>ew(e, E_IN);
  nBound = 0;
  for (let i = 0; i < n; i++) {
    const s = ld(src, i), d = ld(ins, i);
    if (s == d) continue;
    const bytes = <u32>numelOf(d) * itemSize(dtypeOf(d));
    // Scalars are the common small case: a bulk copy costs more than the value.
    if (bytes == 8) store<u64>(dataOf(d), load<u64>(dataOf(s)));
    else if (bytes == 4) store<u32>(dataOf(d), load<u32>(dataOf(s)));
    else if (bind && bytes >= BIND_BYTES && freshOutput(e, s) && !isOutput(e, d)) {
      // Last replay's output fed back (a training step's new weights): the input takes its
      // buffer and the output the input's, which this replay overwrites before reading.
      const r = rec(s), q = rec(d), sd = load<u32>(r, T_DATA);
      store<u32>(r, load<u32>(q, T_DATA), T_DATA);
      store<u32>(q, sd, T_DATA);
    }
    else if (bind && bytes >= BIND_BYTES && bindable(e, d, s) && reserveBound(n)) {
      // Big inputs are read where they are, for this replay: the copy would cost a pass over them.
      st(bound, 2 * nBound, d); st(bound, 2 * nBound + 1, <i32>dataOf(d));
      nBound++;
      store<u32>(rec(d), dataOf(s), T_DATA);
    }
    else memory.copy(dataOf(d), dataOf(s), bytes);
  }
  return 0;
}

function reserveBound(n: i32): bool {
  if (n <= boundCap) return true;
  const p = grow(bound, boundCap, 8, n);
  if (p == 0) return false;
  bound = p; boundCap = n;
  return true;
}

/** Gives the bound inputs their own data back. */
function unbind(): void {
  for (let i = 0; i < nBound; i++) store<u32>(rec(ld(bound, 2 * i)), <u32>ld(bound, 2 * i + 1), T_DATA);
  nBound = 0;
}

function run(e: u32): i32 {
  curInts = <u32>ew(e, E_INTS);
  curAttrs = <u32>ew(e, E_ATTRS);
  const recs = <u32>ew(e, E_REC);
  let q = <u32>ew(e, E_INSTR);
  const end = q + <u32>ew(e, E_NINSTR) * INSTR;
  for (; q < end; q += INSTR) {
    const k = load<i32>(q);
    if (k < S_F32) scalarStep<f64>(k, load<u32>(q, 4), load<u32>(q, 8), load<u32>(q, 12));
    else if (k < S_GENERIC) scalarStep<f32>(k - S_F32, load<u32>(q, 4), load<u32>(q, 8), load<u32>(q, 12));
    else if (k == S_FUSED) runGroup(load<u32>(q, 4));
    else {
      replayRecord(recs + <u32>load<i32>(q, 4) * PREC);
      if (errorCode() != E_NONE) return errorCode();
    }
  }
  return errorCode();
}

/** One scalar instruction: the kernels' own scalar functions, on resolved pointers. */
@inline function scalarStep<T>(code: i32, pa: u32, pb: u32, po: u32): void {
  // A unary's or a copy's b is 0: reading it is harmless and keeps one switch for both paths.
  store<T>(po, code == S_FILL ? <T>load<f64>(pa) : scalarValue<T>(code, load<T>(pa), load<T>(pb)));
}

/** A scalar code's value on operand values (also the compiled programs' calls for ops they do not inline). */
@inline function scalarValue<T>(code: i32, x: T, y: T): T {
  switch (code) {
    case S_BIN + Op.add - Op.add: return x + y;
    case S_BIN + Op.sub - Op.add: return x - y;
    case S_BIN + Op.mul - Op.add: return x * y;
    case S_BIN + Op.div - Op.add: return x / y;
    case S_BIN + Op.pow - Op.add: return binaryScalarOp<T>(Op.pow, x, y);
    case S_BIN + Op.maximum - Op.add: return binaryScalarOp<T>(Op.maximum, x, y);
    case S_BIN + Op.minimum - Op.add: return binaryScalarOp<T>(Op.minimum, x, y);
    case S_BIN + Op.logaddexp - Op.add: return binaryScalarOp<T>(Op.logaddexp, x, y);
    case S_BIN + Op.atan2 - Op.add: return binaryScalarOp<T>(Op.atan2, x, y);
    case S_UN + Op.neg - Op.neg: return unaryScalar<T>(Op.neg, x);
    case S_UN + Op.abs - Op.neg: return unaryScalar<T>(Op.abs, x);
    case S_UN + Op.sign - Op.neg: return unaryScalar<T>(Op.sign, x);
    case S_UN + Op.square - Op.neg: return unaryScalar<T>(Op.square, x);
    case S_UN + Op.sqrt - Op.neg: return unaryScalar<T>(Op.sqrt, x);
    case S_UN + Op.rsqrt - Op.neg: return unaryScalar<T>(Op.rsqrt, x);
    case S_UN + Op.exp - Op.neg: return unaryScalar<T>(Op.exp, x);
    case S_UN + Op.log - Op.neg: return unaryScalar<T>(Op.log, x);
    case S_UN + Op.log1p - Op.neg: return unaryScalar<T>(Op.log1p, x);
    case S_UN + Op.expm1 - Op.neg: return unaryScalar<T>(Op.expm1, x);
    case S_UN + Op.sin - Op.neg: return unaryScalar<T>(Op.sin, x);
    case S_UN + Op.cos - Op.neg: return unaryScalar<T>(Op.cos, x);
    case S_UN + Op.tan - Op.neg: return unaryScalar<T>(Op.tan, x);
    case S_UN + Op.tanh - Op.neg: return unaryScalar<T>(Op.tanh, x);
    case S_UN + Op.sigmoid - Op.neg: return unaryScalar<T>(Op.sigmoid, x);
    case S_UN + Op.relu - Op.neg: return unaryScalar<T>(Op.relu, x);
    case S_UN + Op.softplus - Op.neg: return unaryScalar<T>(Op.softplus, x);
    case S_UN + Op.erf - Op.neg: return unaryScalar<T>(Op.erf, x);
    case S_COPY: return x; // (fills are loaded by the callers)
    default: fail(E_UNKNOWN_OP, code); return <T>0;
  }
}

export function scalarOp64(code: i32, x: f64, y: f64): f64 { return scalarValue<f64>(code, x, y); }
export function scalarOp32(code: i32, x: f32, y: f32): f32 { return scalarValue<f32>(code, x, y); }

/** The instructions of entry h (16 bytes each: code, a, b, out pointers), for the host's compiler. */
export function entryInstrCount(h: i32): i32 { const e = entryAt(h); return e == 0 ? 0 : ew(e, E_NINSTR); }
export function entryInstrAddress(h: i32): u32 { const e = entryAt(h); return e == 0 ? 0 : <u32>ew(e, E_INSTR); }

// ————————————————————————————————————————————————————————— entry access and freeing

export function entryInput(h: i32, i: i32): i32 { const e = entryAt(h); return e == 0 ? 0 : ld(<u32>ew(e, E_IN), i); }
export function entryOutput(h: i32, i: i32): i32 { const e = entryAt(h); return e == 0 ? 0 : ld(<u32>ew(e, E_OUTS), i); }
export function entryRecords(h: i32): i32 { const e = entryAt(h); return e == 0 ? 0 : ew(e, E_NREC); }
export function entryRecordOp(h: i32, i: i32): i32 {
  const e = entryAt(h); return e == 0 ? 0 : load<i32>(<u32>ew(e, E_REC) + <u32>i * PREC);
}
export function entryArenaBytes(h: i32): i32 { const e = entryAt(h); return e == 0 ? 0 : ew(e, E_ARENA_BYTES); }
export function entrySharedBytes(h: i32): f64 { const e = entryAt(h); return e == 0 ? 0 : <f64><u32>ew(e, E_SHARED_BYTES); }
export function entryOwned(h: i32): i32 { const e = entryAt(h); return e == 0 ? 0 : ew(e, E_NOWNED); }
export function entryExternals(h: i32): i32 { const e = entryAt(h); return e == 0 ? 0 : ew(e, E_NEXT); }
/** Records that run inside fused groups, and the temporaries they never write to memory. */
export function entryFused(h: i32): i32 { const e = entryAt(h); return e == 0 ? 0 : ew(e, E_FUSED); }
export function entryUnwritten(h: i32): i32 { const e = entryAt(h); return e == 0 ? 0 : ew(e, E_UNWRITTEN); }

function freeEntry(e: u32): void {
  const owned = <u32>ew(e, E_OWNED);
  const arena = <u32>ew(e, E_ARENA);
  const arenaEnd = arena + <u32>ew(e, E_ARENA_BYTES);
  for (let i = 0, n = ew(e, E_NOWNED); i < n; i++) {
    const id = ld(owned, i);
    if (!isLive(id)) continue;
    const r = rec(id);
    store<i32>(r, load<i32>(r, T_FLAGS) & ~F_PROGRAM, T_FLAGS);
    const d = load<u32>(r, T_DATA);
    // not its own block (a register tensor points at the arena's start, even an empty arena's)
    if (arena != 0 && d >= arena && (d < arenaEnd || d == arena)) store<u32>(r, 0, T_DATA);
    releaseTensor(id);
  }
  if (arena != 0) {
    adjustTensorBytes(<f64><u32>ew(e, E_SHARED_BYTES) - <f64><u32>ew(e, E_ARENA_BYTES));
    free(arena);
  }
  free(owned);
  free(<u32>ew(e, E_EXT));
  free(<u32>ew(e, E_REC)); free(<u32>ew(e, E_INTS)); free(<u32>ew(e, E_ATTRS));
  free(<u32>ew(e, E_IN)); free(<u32>ew(e, E_OUTS)); free(<u32>ew(e, E_FRESH));
  const instr = <u32>ew(e, E_INSTR);
  if (instr != 0) {
    for (let i = 0, n = ew(e, E_NINSTR); i < n; i++) {
      const q = instr + <u32>i * INSTR;
      if (load<i32>(q) == S_FUSED) groupFree(load<u32>(q, 4));
    }
    free(instr);
  }
  free(e);
}

/** Frees entry `h` and every tensor it owns. */
export function releaseEntry(h: i32): void {
  const e = entryAt(h);
  if (e == 0) return;
  store<u32>(entries + (<u32>(h - 1) << 2), 0);
  freeEntry(e);
}
