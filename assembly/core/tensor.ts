// The tensor table, scopes, and the runtime's error state.
//
// A tensor is an id into a table of fixed 96-byte records in linear memory; its data is one
// contiguous row-major block from the allocator. Ids are reused; each reuse bumps `gen`, so a
// host handle holding (id, gen) can tell that its tensor is gone.
//
// Scopes: while a scope is open every new tensor is listed in the arena; closing the scope frees
// what it listed except the tensors the host returns (which move to the enclosing scope) and
// tensors a live tape still needs. Outside every scope a tensor lives until disposed.

import { DType } from "./vocabulary";
import { alloc, free, realloc, copyBytes, lastFailedRequest } from "./alloc";

// The record layout, flags and error codes are the ABI shared with the host (assembly/core/abi.ts).
export {
  MAX_RANK, REC, T_GEN, T_DTYPE, T_RANK, T_NUMEL, T_DATA, T_FLAGS, T_ADJ, T_SLOT, T_SHAPE, T_TAN, T_SWEEP,
  F_LIVE, F_NEEDS_GRAD, F_ON_TAPE, F_RETURNING, F_DISPOSE_PENDING, F_ADJOINT, F_TANGENT, F_CAPTURED, F_HELD,
  F_PROGRAM, E_NONE, E_OOM, E_NO_RULE, E_SCOPE, E_HOST, E_BOUNDS, E_UNKNOWN_OP,
} from "./abi";
import {
  MAX_RANK, REC, T_GEN, T_DTYPE, T_RANK, T_NUMEL, T_DATA, T_FLAGS, T_ADJ, T_SLOT, T_SHAPE, T_TAN, T_SWEEP,
  F_LIVE, F_NEEDS_GRAD, F_ON_TAPE, F_RETURNING, F_DISPOSE_PENDING, F_ADJOINT, F_TANGENT, F_CAPTURED, F_HELD,
  F_PROGRAM, E_NONE, E_OOM, E_SCOPE, E_BOUNDS,
} from "./abi";

// Host-visible state at fixed addresses: [tableBase, tableCap, errorCode, errorOp]
export const STATE = memory.data(32);

@inline export function tableBase(): u32 { return load<u32>(STATE); }
@inline export function rec(id: i32): u32 { return tableBase() + <u32>id * REC; }

let tableCap: i32 = 0;
const SHAPE_COPY = memory.data(MAX_RANK * 4);
let freeHead: i32 = 0; // free ids are chained through T_DATA
let liveCount: i32 = 0;
let tensorBytes: f64 = 0; // data bytes of live tensors
let tensorPeak: f64 = 0;
let nextFresh: i32 = 1; // id 0 is the null tensor

// arena of ids for open scopes, and the stack of scope marks
let arena: u32 = 0;
let arenaLen: i32 = 0;
let arenaCap: i32 = 0;
const MAX_DEPTH = 1024;
const scopeMarks = memory.data(MAX_DEPTH * 4);
let depth: i32 = 0;

export function fail(code: i32, op: i32): void {
  if (load<i32>(STATE, 8) == E_NONE) {
    store<i32>(STATE, code, 8);
    store<i32>(STATE, op, 12);
    store<f64>(STATE, lastFailedRequest, 16);
  }
}
export function errorCode(): i32 { return load<i32>(STATE, 8); }
export function clearError(): void { store<i32>(STATE, E_NONE, 8); }
export function stateAddress(): u32 { return STATE; }

@inline export function dtypeOf(id: i32): i32 { return load<i32>(rec(id), T_DTYPE); }
@inline export function rankOf(id: i32): i32 { return load<i32>(rec(id), T_RANK); }
@inline export function numelOf(id: i32): i32 { return load<i32>(rec(id), T_NUMEL); }
@inline export function dataOf(id: i32): u32 { return load<u32>(rec(id), T_DATA); }
@inline export function flagsOf(id: i32): i32 { return load<i32>(rec(id), T_FLAGS); }
@inline export function setFlags(id: i32, f: i32): void { store<i32>(rec(id), f, T_FLAGS); }
@inline export function dimOf(id: i32, k: i32): i32 { return load<i32>(rec(id) + (<u32>k << 2), T_SHAPE); }
@inline export function shapePtr(id: i32): u32 { return rec(id) + T_SHAPE; }
@inline export function needsGrad(id: i32): bool { return (flagsOf(id) & F_NEEDS_GRAD) != 0; }
@inline export function isLive(id: i32): bool { return id > 0 && (flagsOf(id) & F_LIVE) != 0; }
@inline export function adjointOf(id: i32): i32 { return load<i32>(rec(id), T_ADJ); }
@inline export function setAdjoint(id: i32, a: i32): void { store<i32>(rec(id), a, T_ADJ); }

export function itemSize(dtype: i32): u32 {
  return dtype == DType.float64 ? 8 : dtype == DType.bool ? 1 : 4;
}

function growTable(): bool {
  const cap = tableCap == 0 ? 256 : tableCap * 2;
  const base = realloc(tableBase(), <u32>tableCap * REC, <u32>cap * REC);
  if (base == 0) return false;
  memory.fill(base + <u32>tableCap * REC, 0, <u32>(cap - tableCap) * REC);
  store<u32>(STATE, base);
  store<i32>(STATE, cap, 4);
  tableCap = cap;
  return true;
}

function arenaPush(id: i32): bool {
  if (arenaLen == arenaCap) {
    const cap = arenaCap == 0 ? 1024 : arenaCap * 2;
    const p = realloc(arena, <u32>arenaCap * 4, <u32>cap * 4);
    if (p == 0) return false;
    arena = p;
    arenaCap = cap;
  }
  store<i32>(arena + (<u32>arenaLen << 2), id);
  store<i32>(rec(id), arenaLen, T_SLOT);
  arenaLen++;
  return true;
}

/**
 * Creates a tensor of `dtype` with `rank` dims read from `shape` (i32s in memory).
 * Returns 0 (and records the error) when memory runs out. Data is uninitialised.
 */
export function newTensor(dtype: i32, rank: i32, shapeIn: u32): i32 {
  if (redirectTarget != 0) return redirected(dtype, rank, shapeIn);
  // Copy the shape first: it may point into this very table (a tensor's own dims), which
  // moves if the table has to grow below.
  const shape = SHAPE_COPY;
  copyBytes(shape, shapeIn, <u32>rank << 2);
  // The host validates shapes; this is the last line: a negative dim, or a count past i32 (the
  // product stops growing there, so it cannot wrap), never allocates.
  // The element count in f64 (exact far past i32, never wrapping) for the check and the message.
  let count: f64 = 1;
  for (let k = 0; k < rank; k++) {
    const d = load<i32>(shape + (<u32>k << 2));
    if (d < 0) { fail(E_BOUNDS, 0); return 0; }
    count *= <f64>d;
  }
  const requested = count * <f64>itemSize(dtype);
  // Beyond 32-bit memory, or more elements than T_NUMEL (an i32) can count.
  if (requested > <f64>0xfff00000 || count > <f64>0x7fffffff) {
    if (errorCode() == E_NONE) {
      fail(E_OOM, 0);
      store<f64>(STATE, requested, 16); // after fail(), which records the allocator's last request
    }
    return 0;
  }
  const numel = <i64>count, bytes = <i64>requested;
  const data = alloc(<u32>bytes);
  if (data == 0) { fail(E_OOM, 0); return 0; }
  let id: i32;
  if (freeHead != 0) {
    id = freeHead;
    freeHead = load<i32>(rec(id), T_DATA);
  } else {
    if (nextFresh >= tableCap && !growTable()) { free(data); fail(E_OOM, 0); return 0; }
    id = nextFresh++;
  }
  const r = rec(id);
  for (let k = 0; k < MAX_RANK; k++) {
    store<i32>(r + (<u32>k << 2), k < rank ? load<i32>(shape + (<u32>k << 2)) : 1, T_SHAPE);
  }
  store<i32>(r, load<i32>(r, T_GEN) + 1, T_GEN);
  store<i32>(r, dtype, T_DTYPE);
  store<i32>(r, rank, T_RANK);
  store<i32>(r, <i32>numel, T_NUMEL);
  store<u32>(r, data, T_DATA);
  store<i32>(r, captureMode ? F_LIVE | F_CAPTURED : F_LIVE, T_FLAGS);
  tensorBytes += <f64>bytes;
  if (tensorBytes > tensorPeak) tensorPeak = tensorBytes;
  store<i32>(r, 0, T_ADJ);
  store<i32>(r, -1, T_SLOT);
  store<i32>(r, 0, T_TAN);
  store<i32>(r, 0, T_SWEEP);
  liveCount++;
  if (depth > 0 && !arenaPush(id)) { releaseTensor(id); fail(E_OOM, 0); return 0; }
  return id;
}

/** A new tensor with the shape of `like`. */
export function newLike(like: i32, dtype: i32): i32 {
  return newTensor(dtype, rankOf(like), shapePtr(like));
}

/** Frees a tensor's data and its id, whatever scope it is in. */
export function releaseTensor(id: i32): void {
  if (captureMode) { holdTensor(id); return; }
  const r = rec(id);
  tensorBytes -= <f64>load<i32>(r, T_NUMEL) * <f64>itemSize(load<i32>(r, T_DTYPE));
  free(load<u32>(r, T_DATA));
  store<i32>(r, 0, T_FLAGS);
  store<i32>(r, load<i32>(r, T_GEN) + 1, T_GEN);
  store<i32>(r, freeHead, T_DATA);
  store<i32>(r, -1, T_SLOT);
  freeHead = id;
  liveCount--;
}

/** The host's dispose: deferred while a tape still refers to the tensor. */
export function disposeTensor(id: i32): void {
  if (!isLive(id)) return;
  const f = flagsOf(id);
  if ((f & F_PROGRAM) != 0) return;
  if ((f & F_ON_TAPE) != 0) setFlags(id, f | F_DISPOSE_PENDING);
  else releaseTensor(id);
}

export function liveTensors(): i32 { return liveCount; }

/**
 * Live tensors outside every scope (made at top level or kept): the ones only dispose() or the
 * host's garbage collector frees. Counted when memory runs out, to say where it went.
 */
export function liveOutsideScopes(): i32 {
  let n = 0;
  for (let id = 1; id < nextFresh; id++) if (isLive(id) && load<i32>(rec(id), T_SLOT) == -1) n++;
  return n;
}
export function liveTensorBytes(): f64 { return tensorBytes; }
export function peakTensorBytes(): f64 { return tensorPeak; }
export function resetTensorPeak(): void { tensorPeak = tensorBytes; }
export function scopeDepth(): i32 { return depth; }

export function scopeBegin(): i32 {
  if (depth == MAX_DEPTH) { fail(E_SCOPE, 0); return -1; }
  store<i32>(scopeMarks + (<u32>depth << 2), arenaLen);
  depth++;
  return depth;
}

/**
 * Frees the arena entries after `mark` except those with a flag in `protect`; those are
 * compacted to sit right after `mark` (so they stay owned by the enclosing range).
 */
export function releaseAfter(mark: i32, protect: i32): void {
  let kept = mark;
  for (let i = mark; i < arenaLen; i++) {
    const id = load<i32>(arena + (<u32>i << 2));
    const r = rec(id);
    // A stale entry: the id was freed (and maybe reused) since it was listed here.
    if (load<i32>(r, T_SLOT) != i || (load<i32>(r, T_FLAGS) & F_LIVE) == 0) continue;
    if ((load<i32>(r, T_FLAGS) & protect) != 0) {
      store<i32>(arena + (<u32>kept << 2), id);
      store<i32>(r, kept, T_SLOT);
      kept++;
    } else {
      releaseTensor(id);
    }
  }
  arenaLen = kept;
}

/**
 * Closes the innermost scope. The `n` ids at `keep` (i32s) survive into the enclosing scope;
 * tensors still needed by a live tape move there too.
 */
export function scopeEnd(keep: u32, n: i32): void {
  if (depth == 0) return;
  depth--;
  const mark = load<i32>(scopeMarks + (<u32>depth << 2));
  for (let i = 0; i < n; i++) {
    const id = load<i32>(keep + (<u32>i << 2));
    if (isLive(id)) setFlags(id, flagsOf(id) | F_RETURNING);
  }
  releaseAfter(mark, F_RETURNING | F_ON_TAPE | F_TANGENT);
  // Survivors now sit in [mark, arenaLen): they belong to the enclosing scope, or to nobody.
  if (depth == 0) {
    for (let i = mark; i < arenaLen; i++) store<i32>(rec(load<i32>(arena + (<u32>i << 2))), -1, T_SLOT);
    arenaLen = mark;
  }
  for (let i = 0; i < n; i++) {
    const id = load<i32>(keep + (<u32>i << 2));
    if (isLive(id)) setFlags(id, flagsOf(id) & ~F_RETURNING);
  }
}

/** Lets a tensor outlive every open scope: only dispose (or the host's GC backstop) frees it. */
export function keepTensor(id: i32): void {
  if (!isLive(id)) return;
  store<i32>(rec(id), -1, T_SLOT);
}

export function arenaLength(): i32 { return arenaLen; }

// ————————————————————————————————————————————————————————— capture support (assembly/engine/accelerate.ts)
//
// While a program is captured every new tensor is marked F_CAPTURED and nothing is freed: a
// released tensor becomes dead to the host (its generation moves on) but keeps its id and data,
// because the program may still name it. The capture's end frees the held tensors it does not use.
// During a replay `redirectTarget` makes the next newTensor return an existing tensor (the
// record's output), so an op's own function recomputes into it.

let captureMode = false;
let held: u32 = 0;
let heldLen: i32 = 0;
let heldCap: i32 = 0;
let redirectTarget: i32 = 0;

@inline export function capturingNow(): bool { return captureMode; }
export function setCaptureMode(on: bool): void { captureMode = on; }
export function heldCount(): i32 { return heldLen; }
export function heldAt(i: i32): i32 { return load<i32>(held + (<u32>i << 2)); }
export function clearHeld(): void { heldLen = 0; }

function holdTensor(id: i32): void {
  const r = rec(id);
  if ((load<i32>(r, T_FLAGS) & F_HELD) != 0) return;
  if (heldLen == heldCap) {
    const cap = heldCap == 0 ? 1024 : heldCap * 2;
    const p = realloc(held, <u32>heldCap * 4, <u32>cap * 4);
    if (p == 0) { fail(E_OOM, 0); return; }
    held = p; heldCap = cap;
  }
  store<i32>(held + (<u32>heldLen << 2), id);
  heldLen++;
  store<i32>(r, load<i32>(r, T_GEN) + 1, T_GEN);
  store<i32>(r, F_LIVE | F_HELD | (load<i32>(r, T_FLAGS) & F_CAPTURED), T_FLAGS);
  store<i32>(r, -1, T_SLOT);
  store<i32>(r, 0, T_ADJ);
}

/** The next newTensor returns `id` (reshaped as asked) instead of allocating. */
export function redirectNext(id: i32): void { redirectTarget = id; }
export function redirectPending(): bool { return redirectTarget != 0; }

function redirected(dtype: i32, rank: i32, shapeIn: u32): i32 {
  const id = redirectTarget;
  redirectTarget = 0;
  let numel: i64 = 1;
  for (let k = 0; k < rank; k++) numel *= <i64>load<i32>(shapeIn + (<u32>k << 2));
  const r = rec(id);
  if (dtype != load<i32>(r, T_DTYPE) || numel != <i64>load<i32>(r, T_NUMEL)) return 0;
  memory.copy(SHAPE_COPY, shapeIn, <u32>rank << 2);
  for (let k = 0; k < MAX_RANK; k++) {
    store<i32>(r + (<u32>k << 2), k < rank ? load<i32>(SHAPE_COPY + (<u32>k << 2)) : 1, T_SHAPE);
  }
  store<i32>(r, rank, T_RANK);
  return id;
}

/** Corrects the live-bytes count when a program moves tensors into one shared arena. */
export function adjustTensorBytes(delta: f64): void { tensorBytes += delta; }
export function tableCapacity(): i32 { return tableCap; }
