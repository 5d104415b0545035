// Memory without reference counting: scopes (tidy, and every valueAndGrad / grad / dlfeval /
// optimizer step) free what was made inside them except what they return; keep() and dispose()
// for the exceptions; a FinalizationRegistry frees forgotten top-level tensors as a backstop.

import { wasm, requireInit, views, I32, ARGS, recordWord } from './runtime.js';
import { WasmgradError, ValueError } from './errors.js';
import { describeValue } from './options.js';
import type { Tensor } from './tensor.js';
import { T_GEN, T_FLAGS, T_SLOT } from '../assembly/core/abi.js';

const MAX_KEEP = 16000;

const registry = typeof FinalizationRegistry === 'undefined' ? undefined :
  new FinalizationRegistry<{ id: number; gen: number }>(({ id, gen }) => {
    if (wasm === undefined) return;
    views();
    const r = recordWord(id);
    // Free only if the id still names the same tensor and no open scope owns it.
    if (I32[r + T_GEN / 4] === gen && (I32[r + T_FLAGS / 4] & 1) !== 0 && I32[r + T_SLOT / 4] === -1) {
      wasm.disposeTensor(id);
    }
  });

/** Open scopes, mirrored on the host so that making a handle needs no call into wasm. */
let depth = 0;

// A one-time warning when many tensors are alive outside any scope: a loop leaving temporaries
// to the garbage collector, which a synchronous loop never lets run. Checked every 256 top-level
// handles with one cheap call (outside every scope, the live tensors are the top-level ones).
let warnLimit: number | false = 10000;
let sinceCheck = 0;

/**
 * Sets the number of tensors alive outside any scope (tidy, valueAndGrad, …) above which
 * wasmgrad warns once on the console, or turns the warning off with false. Default 10000.
 */
export function setLiveTensorWarning(limit: number | false): void {
  if (limit !== false && (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1)) {
    throw new ValueError(`setLiveTensorWarning: limit must be an integer >= 1 or false, got ${describeValue(limit)}`);
  }
  warnLimit = limit;
}

function checkLiveTensors(): void {
  sinceCheck = 0;
  if (warnLimit === false || depth !== 0) return;
  const n = wasm.liveTensors();
  if (n <= warnLimit) return;
  warnLimit = false;
  console.warn(`wasmgrad: ${n} tensors are alive outside any scope. Temporaries left to the garbage collector ` +
    'are freed only when the event loop turns, so a synchronous loop keeps every one (memory grows, and each new ' +
    'page costs time): run the loop body in tidy(() => …), or dispose() what it makes. ' +
    '(setLiveTensorWarning(false) turns this warning off.)');
}

function register(t: Tensor): void {
  if (registry === undefined || t._registered) return;
  // No unregister token and a flag on the handle instead of a WeakSet: both made the collector
  // track each top-level handle in one more weak table (about 2 µs per handle, measured).
  registry.register(t, { id: t.id, gen: t.gen });
  t._registered = true;
  if (++sinceCheck === 256) checkLiveTensors();
}

/** @internal called for every new handle: top-level tensors get the GC backstop. */
export function adopt(t: Tensor): void {
  if (depth === 0) register(t);
}

/** Every Tensor in a value made of tensors, arrays and plain objects. */
export function tensorsIn(value: unknown, out: Tensor[] = [], seen?: Set<unknown>): Tensor[] {
  if (value === null || typeof value !== 'object') return out;
  // A flat array of numbers (what a loop body often returns) holds nothing to walk.
  if (seen === undefined && Array.isArray(value) && !holdsObjects(value)) return out;
  seen ??= new Set<unknown>();
  if (seen.has(value)) return out;
  seen.add(value);
  if (isTensorLike(value)) { out.push(value as Tensor); return out; }
  if (Array.isArray(value)) { for (const v of value) tensorsIn(v, out, seen); return out; }
  if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value as object)) tensorsIn(v, out, seen);
  }
  return out;
}

function holdsObjects(a: unknown[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== null && typeof a[i] === 'object') return true;
  return false;
}

function isTensorLike(v: object): boolean {
  return typeof (v as any).use === 'function' && typeof (v as any).gen === 'number';
}

/** @internal opens a scope (one wasm call). */
export function openScope(op: string): void {
  requireInit(op);
  if (wasm.scopeBegin() < 0) {
    wasm.clearError();
    throw new WasmgradError(`${op}: scopes nested deeper than 1024`);
  }
  depth++;
}

/** @internal closes the innermost scope, letting `keep` (and only those) survive into the enclosing one. */
export function closeScope(keep: readonly Tensor[]): void {
  // The live ids go straight into the argument buffer (it holds MAX_KEEP of them).
  let n = 0;
  for (let i = 0; i < keep.length; i++) {
    const t = keep[i];
    if (!t.isAlive) continue;
    if (n < MAX_KEEP) I32[(ARGS >>> 2) + n] = t.id;
    n++;
  }
  if (n > MAX_KEEP) {
    wasm.scopeEnd(0, 0); // close the scope all the same: an open scope would hold every later tensor
    depth--;
    throw new WasmgradError(`tidy: cannot return more than ${MAX_KEEP} tensors from one scope (got ${n}); they were freed`);
  }
  wasm.scopeEnd(ARGS, n);
  depth--;
  if (depth === 0) for (const t of keep) register(t);
}

/**
 * Runs fn and frees every tensor it made, except the tensors in its result (a Tensor, or
 * arrays / plain objects of them) and those passed to keep(). fn must be synchronous.
 * (TensorFlow.js: tf.tidy.)
 *
 * @example
 * ```ts
 * const y = tidy(() => {
 *   const h = x.matmul(w).relu();   // freed when tidy returns
 *   return h.sum();                 // kept: it is the result
 * });
 * ```
 */
export function tidy<T>(fn: () => T): T {
  if (typeof fn !== 'function') throw new ValueError(`tidy: expected a function, got ${describeValue(fn)}`);
  if (Object.prototype.toString.call(fn) === '[object AsyncFunction]') {
    throw new ValueError('tidy: fn is an async function; tidy is synchronous (the tensors would be freed before its promise settles)');
  }
  openScope('tidy');
  let result: T;
  try {
    result = fn();
  } catch (e) {
    closeScope([]);
    throw e;
  }
  if (result instanceof Promise) {
    closeScope([]);
    result.catch(() => {}); // never an unhandled rejection: the error below is what the caller sees
    throw new ValueError('tidy: fn returned a Promise; tidy is synchronous (tensors would be freed before it settles)');
  }
  let keep: Tensor[];
  try {
    keep = tensorsIn(result);
  } catch (e) {
    closeScope([]); // a result whose walk throws (a getter) must not leave the scope open
    throw e;
  }
  closeScope(keep);
  return result;
}

/** Lets a tensor outlive the scopes it was made in; only dispose() (or GC) frees it then. */
export function keep<T extends Tensor>(t: T): T {
  if (t === null || typeof t !== 'object' || !isTensorLike(t)) throw new ValueError(`keep: expected a Tensor, got ${describeValue(t)}`);
  const id = t.use('keep');
  wasm.keepTensor(id);
  register(t);
  return t;
}

/** Frees tensors now: a Tensor, or arrays / plain objects of them. */
export function dispose(value: unknown): void {
  for (const t of tensorsIn(value)) t.dispose();
}

/** What memory() reports: tensors and bytes alive, the peak, the allocator's and the heap's size. */
export interface MemoryInfo {
  /** tensors alive in wasm memory */
  liveTensors: number;
  /** bytes of tensor data alive */
  liveBytes: number;
  /** the most liveBytes has been (the high-water mark) */
  peakBytes: number;
  /** bytes the allocator hands out in all: tensor data plus runtime tables (tape, scopes) */
  allocatedBytes: number;
  /** the size of wasm linear memory */
  heapBytes: number;
  /** open scopes */
  scopeDepth: number;
}

/** A snapshot of wasm memory use: live tensors and bytes, the peak, allocated and heap bytes, open scopes (TensorFlow.js: tf.memory). */
export function memory(): MemoryInfo {
  requireInit('memory');
  return {
    liveTensors: wasm.liveTensors(),
    liveBytes: wasm.liveTensorBytes(),
    peakBytes: wasm.peakTensorBytes(),
    allocatedBytes: wasm.allocLiveBytes(),
    heapBytes: wasm.heapBytes(),
    scopeDepth: wasm.scopeDepth(),
  };
}

/** Starts a new high-water mark: memory().peakBytes becomes the current liveBytes. */
export function resetPeakMemory(): void {
  requireInit('resetPeakMemory');
  wasm.resetTensorPeak();
}

/** Sets the most wasm memory may grow to, in bytes (rounded down to 64 KiB pages). */
export function setMemoryLimit(bytes: number): void {
  requireInit('setMemoryLimit');
  if (typeof bytes !== 'number' || !(bytes >= 0)) {
    throw new ValueError(`setMemoryLimit: bytes must be a number >= 0, got ${String(bytes)}`);
  }
  wasm.setPageLimit(Math.max(1, Math.min(65536, Math.floor(bytes / 65536))));
}
