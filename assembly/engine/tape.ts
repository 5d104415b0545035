// The flat tape and the reverse sweep.
//
// A record is 32 bytes: op, output id, offset and count of its input ids (in `ints`), offset and
// count of its f64 attributes (in `attrs`). Ops append a record only while a tape is open and
// one of their inputs is on the path from a differentiated input (F_NEEDS_GRAD), so gradients
// are computed only where they are needed.
//
// `backward` walks the records in reverse once, calling each op's VJP rule. Rules are written
// with the same recording ops as user code, so with `createGraph` the sweep records itself and
// its results can be differentiated again; without it nothing in the sweep is recorded and every
// temporary is freed as soon as its record is done.

import { Op } from "../core/vocabulary";
import { F_DISCARD, F_TARGET, F_FRESH_ADJOINT, MODE_CREATE_GRAPH, MODE_RETAIN_ALL } from "../core/abi";
import {
  rec, T_FLAGS, T_SWEEP, F_LIVE, F_NEEDS_GRAD, F_ON_TAPE, F_DISPOSE_PENDING, F_ADJOINT,
  flagsOf, setFlags, isLive, adjointOf, setAdjoint, needsGrad, releaseTensor, fail, E_OOM,
  E_NO_RULE, errorCode, scopeBegin, scopeEnd, releaseAfter, arenaLength, newLike, dtypeOf,
  numelOf, dataOf, itemSize, E_NONE, capturingNow,
} from "../core/tensor";
import { progBegin, progInput, progAttr, captureOp1, captureOp2 } from "./accelerate";
import { realloc, alloc, free, copyBytes } from "../core/alloc";
import { addInPlace, fillScalar, binary } from "./kernels.generated";
import { vjpRule } from "./rules.generated";
import { flushJvp, noteRecord, inJvpRule } from "./forward";

const RECORD = 32;
// record fields
const R_OP = 0;
const R_OUT = 4;
const R_IN = 8;
const R_NIN = 12;
const R_ATTR = 16;
const R_NATTR = 20;
const R_KIND = 24; // 1 for a record made by a JVP rule (a tangent's computation), else 0

let records: u32 = 0; let recLen: i32 = 0; let recCap: i32 = 0;
let ints: u32 = 0; let intLen: i32 = 0; let intCap: i32 = 0;
let attrs: u32 = 0; let attrLen: i32 = 0; let attrCap: i32 = 0;
let tapeDepth: i32 = 0;
let paused: bool = false;

/** True while ops should record: a tape is open and no sweep without createGraph runs. */
@inline export function recording(): bool { return tapeDepth > 0 && !paused; }

// Where an op's record goes: nowhere, the tape (and a program being captured), or the program alone.
export const TO_NONE = 0;
export const TO_TAPE = 1;
export const TO_PROGRAM = 2;

/**
 * The query: where the record of an op whose inputs `wanted` a tape record goes. On the tape
 * while recording; while `accelerate` captures a program, into the program alone (every op is
 * part of it); else nowhere. No side effect: recordOp(to, …) is the action.
 */
export function recordTarget(wanted: bool): i32 {
  if (recording() && wanted) return TO_TAPE;
  if (capturingNow()) return TO_PROGRAM;
  return TO_NONE;
}
export function shouldRecord1(a: i32): i32 { return recordTarget(needsGrad(a)); }
export function shouldRecord2(a: i32, b: i32): i32 { return recordTarget(needsGrad(a) || needsGrad(b)); }

let current: u32 = 0; // the record being written
let writeTape = false;
let writeProgram = false;

/** The action: starts a record for `op` producing `out` where `to` says; inputs and attributes follow. */
export function recordOp(to: i32, op: i32, out: i32): bool {
  if (to == TO_NONE) return false;
  const toTape = to == TO_TAPE;
  // The previous record is complete: its tangent can be computed now (its rule records too, so
  // the state of the record being written is set only afterwards).
  if (toTape) flushJvp();
  // A custom record's forward value was computed by recorded ops: the program skips it.
  writeProgram = capturingNow() && op != Op.custom && progBegin(op, out);
  writeTape = toTape;
  if (!toTape) return writeProgram;
  if (recLen == recCap) {
    const cap = recCap == 0 ? 1024 : recCap * 2;
    const p = realloc(records, <u32>recCap * RECORD, <u32>cap * RECORD);
    if (p == 0) { fail(E_OOM, op); return false; }
    records = p; recCap = cap;
  }
  current = records + <u32>recLen * RECORD;
  store<i32>(current, op, R_OP);
  store<i32>(current, out, R_OUT);
  store<i32>(current, intLen, R_IN);
  store<i32>(current, 0, R_NIN);
  store<i32>(current, attrLen, R_ATTR);
  store<i32>(current, 0, R_NATTR);
  store<i32>(current, inJvpRule() ? 1 : 0, R_KIND);
  recLen++;
  setFlags(out, flagsOf(out) | F_NEEDS_GRAD | F_ON_TAPE);
  noteRecord(recLen - 1);
  return true;
}

export function recordInput(id: i32): void {
  if (writeProgram) progInput(id);
  if (!writeTape) return;
  if (intLen == intCap) {
    const cap = intCap == 0 ? 4096 : intCap * 2;
    const p = realloc(ints, <u32>intCap * 4, <u32>cap * 4);
    if (p == 0) { fail(E_OOM, 0); return; }
    ints = p; intCap = cap;
  }
  store<i32>(ints + (<u32>intLen << 2), id);
  intLen++;
  store<i32>(current, load<i32>(current, R_NIN) + 1, R_NIN);
  setFlags(id, flagsOf(id) | F_ON_TAPE);
}

export function recordAttr(v: f64): void {
  if (writeProgram) progAttr(v);
  if (!writeTape) return;
  if (attrLen == attrCap) {
    const cap = attrCap == 0 ? 4096 : attrCap * 2;
    const p = realloc(attrs, <u32>attrCap * 8, <u32>cap * 8);
    if (p == 0) { fail(E_OOM, 0); return; }
    attrs = p; attrCap = cap;
  }
  store<f64>(attrs + (<u32>attrLen << 3), v);
  attrLen++;
  store<i32>(current, load<i32>(current, R_NATTR) + 1, R_NATTR);
}

export function record1(to: i32, op: i32, out: i32, a: i32): void {
  if (recordOp(to, op, out)) recordInput(a);
}
export function record2(to: i32, op: i32, out: i32, a: i32, b: i32): void {
  if (recordOp(to, op, out)) { recordInput(a); recordInput(b); }
}

// Reading records (rules and the host's trace).
@inline export function recordAt(i: i32): u32 { return records + <u32>i * RECORD; }
@inline export function recOp(r: u32): i32 { return load<i32>(r, R_OP); }
@inline export function recOut(r: u32): i32 { return load<i32>(r, R_OUT); }
@inline export function recNumInputs(r: u32): i32 { return load<i32>(r, R_NIN); }
@inline export function recInput(r: u32, k: i32): i32 {
  return load<i32>(ints + (<u32>(load<i32>(r, R_IN) + k) << 2));
}
@inline export function recNumAttrs(r: u32): i32 { return load<i32>(r, R_NATTR); }
@inline export function recAttr(r: u32, k: i32): f64 {
  return load<f64>(attrs + (<u32>(load<i32>(r, R_ATTR) + k) << 3));
}

export function tapeLength(): i32 { return recLen; }
export function recordIndexOf(r: u32): i32 { return <i32>((r - records) / RECORD); }
/** Pauses (or resumes) recording; returns whether it was paused. */
export function setPaused(p: bool): bool { const was = paused; paused = p; return was; }
export function recordingNow(): bool { return recording(); }
export function tapeRecordOp(i: i32): i32 { return recOp(recordAt(i)); }
export function tapeRecordOut(i: i32): i32 { return recOut(recordAt(i)); }
export function tapeRecordNumInputs(i: i32): i32 { return recNumInputs(recordAt(i)); }
export function tapeRecordInput(i: i32, k: i32): i32 { return recInput(recordAt(i), k); }
export function tapeRecordNumAttrs(i: i32): i32 { return recNumAttrs(recordAt(i)); }
export function tapeRecordAttr(i: i32, k: i32): f64 { return recAttr(recordAt(i), k); }
export function tapeRecordIsTangent(i: i32): bool { return load<i32>(recordAt(i), R_KIND) != 0; }

// Whether recording was paused when each level opened. A level records its own computation
// even when opened where recording is paused (a custom rule's gradient inside a first-order
// sweep, a custom function's forward pass); the pause resumes when the level ends.
const MAX_LEVELS = 4096;
const pausedAtLevel = memory.data(MAX_LEVELS);

/** Opens a tape level; returns the mark that a sweep for this level stops at. */
export function tapeBegin(): i32 {
  if (tapeDepth < MAX_LEVELS) store<u8>(pausedAtLevel + <u32>tapeDepth, paused ? 1 : 0);
  paused = false;
  tapeDepth++;
  return recLen;
}

/** Closes a tape level. Closing the outermost level empties the tape. */
export function tapeEnd(): void {
  if (tapeDepth == 0) return;
  tapeDepth--;
  if (tapeDepth < MAX_LEVELS) paused = load<u8>(pausedAtLevel + <u32>tapeDepth) != 0;
  if (tapeDepth > 0) return;
  // Every tensor the tape referred to is an ordinary tensor again.
  for (let i = 0; i < recLen; i++) {
    const r = recordAt(i);
    clearTapeFlags(recOut(r));
    for (let k = 0, n = recNumInputs(r); k < n; k++) clearTapeFlags(recInput(r, k));
  }
  recLen = 0; intLen = 0; attrLen = 0;
}

function clearTapeFlags(id: i32): void {
  if (!isLive(id)) return;
  const f = flagsOf(id);
  if ((f & F_DISPOSE_PENDING) != 0) { releaseTensor(id); return; }
  setFlags(id, f & ~(F_NEEDS_GRAD | F_ON_TAPE));
}

export function tapeDepthNow(): i32 { return tapeDepth; }


/**
 * Drops the records from `mark` on, made by finished nested levels that no sweep will walk
 * (a custom rule's own gradient or a checkpoint's recomputation inside a first-order sweep).
 * Tensors only those records refer to become ordinary again — freed if disposed meanwhile — so
 * that their scope frees them now instead of when the outermost level ends, and no record is
 * left naming a tensor the sweep has freed. Tensors that earlier records use are untouched.
 */
export function tapeDiscard(mark: i32): void {
  if (mark < 0 || mark >= recLen) return;
  for (let i = mark; i < recLen; i++) markRecord(recordAt(i), true);
  for (let i = 0; i < mark; i++) markRecord(recordAt(i), false);
  for (let i = mark; i < recLen; i++) {
    const r = recordAt(i);
    releaseIfDiscarded(recOut(r), true);
    for (let k = 0, n = recNumInputs(r); k < n; k++) releaseIfDiscarded(recInput(r, k), false);
  }
  const first = recordAt(mark);
  intLen = load<i32>(first, R_IN);
  attrLen = load<i32>(first, R_ATTR);
  recLen = mark;
}

function markRecord(r: u32, on: bool): void {
  markTensor(recOut(r), on);
  for (let k = 0, n = recNumInputs(r); k < n; k++) markTensor(recInput(r, k), on);
}

function markTensor(id: i32, on: bool): void {
  if (!isLive(id)) return;
  const f = flagsOf(id);
  setFlags(id, on ? f | F_DISCARD : f & ~F_DISCARD);
}

/**
 * An output of a discarded record is an ordinary tensor again. An input keeps F_NEEDS_GRAD:
 * made before the discarded records, it may be a watched input that a sweep still differentiates.
 */
function releaseIfDiscarded(id: i32, isOutput: bool): void {
  if (!isLive(id) || (flagsOf(id) & F_DISCARD) == 0) return;
  setFlags(id, flagsOf(id) & ~F_DISCARD);
  if (isOutput) { clearTapeFlags(id); return; }
  if ((flagsOf(id) & F_DISPOSE_PENDING) != 0) { releaseTensor(id); return; }
  setFlags(id, flagsOf(id) & ~F_ON_TAPE);
}

/** Marks a tensor as a differentiated input of the innermost tape level. */
export function watch(id: i32): void { setFlags(id, flagsOf(id) | F_NEEDS_GRAD); }
export function unwatch(id: i32): void { setFlags(id, flagsOf(id) & ~F_NEEDS_GRAD); }

/**
 * Adds `contrib` (shaped like `x`) into x's adjoint. Without createGraph the first
 * contribution is adopted (copied if it already serves as another adjoint) and later ones are
 * added in place; with createGraph the sum is a recorded op.
 */
/**
 * The adjoint of x to add a contribution into in place (a slice's gradient into its region),
 * made as zeros if x has none yet; 0 where an in-place add is not right: while recording (the
 * sweep's own ops must go on the tape) or capturing a program (a replay repeats recorded
 * kernels), or when x takes no gradient in this sweep.
 */
export function adjointToAddInto(x: i32): i32 {
  if (recording() || capturingNow() || !needsGrad(x) || !inRegion(x)) return 0;
  let a = adjointOf(x);
  if (a == 0) {
    a = newLike(x, dtypeOf(x));
    if (a == 0) return 0;
    fillScalar(a, 0);
    setFlags(a, flagsOf(a) | F_ADJOINT | F_FRESH_ADJOINT);
    setAdjoint(x, a);
  }
  return a;
}

/** Whether `a` (from adjointToAddInto) was just made: the contribution is then copied, not added (0 + −0 would be +0). */
export function takeFreshAdjoint(a: i32): bool {
  const f = flagsOf(a);
  if ((f & F_FRESH_ADJOINT) == 0) return false;
  setFlags(a, f & ~F_FRESH_ADJOINT);
  return true;
}

export function accumulate(x: i32, contrib: i32): void {
  if (contrib == 0 || !needsGrad(x) || !inRegion(x)) return;
  const prev = adjointOf(x);
  if (prev == 0) {
    let a = contrib;
    if ((flagsOf(contrib) & F_ADJOINT) != 0) {
      a = newLike(contrib, dtypeOf(contrib));
      if (a == 0) return;
      copyBytes(dataOf(a), dataOf(contrib), <u32>numelOf(contrib) * itemSize(dtypeOf(contrib)));
      if (recording()) record1(TO_TAPE, Op.copy, a, contrib);
      else captureOp1(Op.copy, a, contrib);
    }
    setFlags(a, flagsOf(a) | F_ADJOINT);
    setAdjoint(x, a);
  } else if (!recording()) {
    addInPlace(prev, contrib);
    captureOp2(Op.accumulateAdd, prev, prev, contrib);
  } else {
    const sum = binary(Op.add, prev, contrib);
    if (sum == 0) return;
    setFlags(prev, flagsOf(prev) & ~F_ADJOINT);
    setFlags(sum, flagsOf(sum) | F_ADJOINT);
    setAdjoint(x, sum);
  }
}




/**
 * The reverse sweep: seeds d(loss)/d(loss) = 1 and walks records [mark, end) backwards.
 * Afterwards the adjoint of each of the `n` target ids at `targets` is readable with
 * `adjointOf` (0 where the target is not on the path) and belongs to the caller's scope.
 * With MODE_RETAIN_ALL every record's output adjoint is kept too (for `trace`).
 * Returns 0, or an error code (the host raises the matching error).
 */
export function backward(loss: i32, mark: i32, targetsIn: u32, n: i32, mode: i32): i32 {
  // A rule may call back into the host, which may run a sweep of its own (checkpoint) and
  // reuse the argument buffer: keep a private copy of the targets.
  // A target may belong to an enclosing sweep too (a parameter captured by a checkpointed
  // function): remember its region and target mark, and give them back afterwards.
  const targets = alloc(<u32>n * 12);
  if (targets == 0 && n > 0) { fail(E_OOM, 0); return errorCode(); }
  copyBytes(targets, targetsIn, <u32>n << 2);
  const saved = targets + (<u32>n << 2);
  for (let i = 0; i < n; i++) {
    const t = load<i32>(targets + (<u32>i << 2));
    store<i32>(saved + (<u32>i << 3), load<i32>(rec(t), T_SWEEP));
    store<i32>(saved + (<u32>i << 3), flagsOf(t) & F_TARGET, 4);
  }
  const code = sweep(loss, mark, targets, n, mode);
  for (let i = 0; i < n; i++) {
    const t = load<i32>(targets + (<u32>i << 2));
    if (!isLive(t)) continue;
    store<i32>(rec(t), load<i32>(saved + (<u32>i << 3)), T_SWEEP);
    setFlags(t, flagsOf(t) | load<i32>(saved + (<u32>i << 3), 4));
  }
  free(targets);
  return code;
}

// A sweep's region: the outputs of the records it walks and its targets. Adjoints flow only
// into the region, so a sweep run inside another (a checkpoint's recomputation, a custom rule
// taking a gradient) never touches the adjoint slots of the enclosing sweep.
let sweepSerial: i32 = 0;
let currentSweep: i32 = 0;
@inline function inRegion(x: i32): bool { return load<i32>(rec(x), T_SWEEP) == currentSweep; }
@inline function enterRegion(x: i32): void { store<i32>(rec(x), currentSweep, T_SWEEP); }

function sweep(loss: i32, mark: i32, targets: u32, n: i32, mode: i32): i32 {
  flushJvp(); // the forward pass's last record gets its tangent before the sweep starts
  const createGraph = (mode & MODE_CREATE_GRAPH) != 0;
  const retainAll = (mode & MODE_RETAIN_ALL) != 0;
  const end = recLen;
  const wasPaused = paused;
  const enclosingSweep = currentSweep;
  currentSweep = ++sweepSerial;
  paused = !createGraph;
  for (let i = 0; i < n; i++) {
    const t = load<i32>(targets + (<u32>i << 2));
    setFlags(t, flagsOf(t) | F_TARGET);
    enterRegion(t);
  }
  for (let i = mark; i < end; i++) enterRegion(recOut(recordAt(i)));
  scopeBegin();
  const seed = inRegion(loss) ? newLike(loss, dtypeOf(loss)) : 0;
  if (seed != 0) {
    fillScalar(seed, 1.0);
    setFlags(seed, flagsOf(seed) | F_ADJOINT);
    setAdjoint(loss, seed);
  }
  for (let i = end - 1; i >= mark && errorCode() == E_NONE; i--) {
    const r = recordAt(i);
    const out = recOut(r);
    const g = adjointOf(out);
    if (g == 0) continue;
    const arenaMark = arenaLength();
    vjpRule(recOp(r), r, g);
    // The output's adjoint is complete and now spent, unless someone wants to read it.
    if (!retainAll && (flagsOf(out) & F_TARGET) == 0) {
      setAdjoint(out, 0);
      setFlags(g, flagsOf(g) & ~F_ADJOINT);
      if (!createGraph) releaseTensor(g);
    }
    if (!createGraph) releaseAfter(arenaMark, F_ADJOINT);
  }
  flushJvp();
  paused = wasPaused;
  // Hand the wanted adjoints to the caller's scope; clear every other adjoint slot.
  const keepCount = retainAll ? end - mark + n + 1 : n;
  const keep = scratch(keepCount);
  let k = 0;
  for (let i = 0; i < n; i++) {
    if (keep != 0) pushKeep(keep, k++, adjointOf(load<i32>(targets + (<u32>i << 2))));
  }
  if (retainAll) {
    for (let i = end - 1; i >= mark; i--) {
      if (keep != 0) pushKeep(keep, k++, adjointOf(recOut(recordAt(i))));
    }
    if (keep != 0) pushKeep(keep, k++, adjointOf(loss));
  } else {
    for (let i = end - 1; i >= mark; i--) {
      const r = recordAt(i);
      for (let j = 0, m = recNumInputs(r); j < m; j++) {
        const x = recInput(r, j);
        if ((flagsOf(x) & F_TARGET) == 0 && inRegion(x)) clearAdjoint(x);
      }
    }
    if ((flagsOf(loss) & F_TARGET) == 0 && inRegion(loss)) clearAdjoint(loss);
  }
  for (let i = 0; i < n; i++) {
    const t = load<i32>(targets + (<u32>i << 2));
    setFlags(t, flagsOf(t) & ~F_TARGET);
  }
  for (let i = 0; i < k; i++) {
    const a = load<i32>(keep + (<u32>i << 2));
    if (a != 0) setFlags(a, flagsOf(a) & ~F_ADJOINT);
  }
  scopeEnd(keep, k);
  currentSweep = enclosingSweep;
  return errorCode();
}

/**
 * Hands a target's adjoint to the host and clears the slot, so that a later sweep over the same
 * tape (a second dlgradient, or the outer level of grad(grad(f))) starts from zero instead of
 * adding into a gradient the user already holds.
 */
export function takeAdjoint(id: i32): i32 {
  const a = adjointOf(id);
  setAdjoint(id, 0);
  return a;
}

@inline function pushKeep(keep: u32, i: i32, id: i32): void { store<i32>(keep + (<u32>i << 2), id); }

function clearAdjoint(x: i32): void {
  const a = adjointOf(x);
  if (a == 0) return;
  if (isLive(a)) setFlags(a, flagsOf(a) & ~F_ADJOINT);
  setAdjoint(x, 0);
}

/** Clears every adjoint slot on the records after `mark` (after a retaining sweep). */
export function clearAdjoints(mark: i32, loss: i32): void {
  for (let i = mark; i < recLen; i++) {
    const r = recordAt(i);
    clearAdjoint(recOut(r));
    for (let j = 0, m = recNumInputs(r); j < m; j++) clearAdjoint(recInput(r, j));
  }
  clearAdjoint(loss);
}

let scratchPtr: u32 = 0;
let scratchCap: i32 = 0;
/** A reusable i32 buffer for bookkeeping lists. */
export function scratch(n: i32): u32 {
  if (n > scratchCap) {
    const cap = max(n, 256);
    const p = realloc(scratchPtr, 0, <u32>cap * 4);
    if (p == 0) { fail(E_OOM, 0); return 0; }
    scratchPtr = p; scratchCap = cap;
  }
  return scratchPtr;
}
