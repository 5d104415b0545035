// accelerate(f): MATLAB's dlaccelerate for wasmgrad. The first call with an input pattern runs f
// while wasm captures every kernel it runs — forward ops, the reverse sweep's rule ops and
// adjoint accumulations, in-place updates, fused optimizer steps — as a program
// (assembly/engine/accelerate.ts); later calls with the same pattern copy the new inputs in and replay
// the program with ONE wasm call, no host work per op. An optimizer's step counts live in wasm
// (advanced by each replay as by each eager step) and its hyperparameters in a wasm tensor the
// host rewrites whenever an option changes, so a learning-rate schedule applies to replays. Index
// and class-target tensors given as arguments are checked on the host for the capturing call and
// guarded in wasm afterwards: a replay with an out-of-range value captures again, which throws
// the eager error. Results are the program's own output tensors, overwritten by the
// next call with the same pattern (copy them to keep them).

import { Tensor, setValueReadHook } from './tensor.js';
import { wasm, views, I32, ARGS, requireInit, raise, recordWord } from './runtime.js';
import { openScope, closeScope, tensorsIn } from './scope.js';
import { WasmgradError, ValueError, DisposedError, formatShape } from './errors.js';
import { Op } from '../assembly/core/vocabulary.js';
import { compileScalarProgram } from './accelerate-compile.js';
import { options, opt, checkArity, describeValue, type OptionsOf } from './options.js';
import { E_GUARD, E_UNSUPPORTED, E_CONSTANT_MUTATED, E_STALE, E_EAGER, T_DATA } from '../assembly/core/abi.js';

/** An int32 tensor's values, read without counting as a value read of an accelerated function. */
export function rawInt32(t: Tensor): Int32Array {
  views();
  const p = I32[recordWord(t.id) + T_DATA / 4] >>> 2;
  return I32.slice(p, p + t.numel());
}

/**
 * While accelerate captures: guards that make a replay whose index tensor holds a value outside
 * [0, n) capture again — a capture runs the host checks, so it throws the eager call's error.
 */
export function guardIndexRange(ti: Tensor, n: number): void {
  if (!wasm.capturing()) return;
  for (const [op, bound] of [[Op.lt, 0], [Op.ge, n]]) {
    const outside = wasm.compareScalarOp(op, ti.id, bound);
    if (outside === 0) raise('accelerate (index guard)');
    wasm.captureGuard(outside, 0);
    new Tensor(outside).dispose();
  }
}

/** f cannot be accelerated: it decides on tensor values, or uses an op no replay can repeat. */
export class NotAcceleratableError extends WasmgradError {}

// Error codes of assembly/engine/accelerate.ts

const ACCELERATE = options('accelerate', {
  /** how many input patterns to keep (least recently used dropped first); default 50, MATLAB's */
  cacheSize: opt.any<number>(),
  /** run f eagerly beside every replay and throw if any output differs in a single bit */
  check: opt.boolean,
  /**
   * compile a program made only of scalar instructions to a small wasm function of its own
   * (default true; the same operations in the same order as the interpreter, so the same bits).
   * false: no wasm is compiled at run time, the interpreter replays every program.
   */
  compile: opt.any<boolean>(),
  /**
   * run chains of elementwise ops as fused loops over cache-sized tiles (default true; the same
   * operations in the same order on every element, so the same bits, with less memory traffic)
   */
  fuse: opt.any<boolean>(),
});
/** Options of accelerate: cacheSize (default 50), check (default false), compile (default true), fuse (default true). */
export type AccelerateOptions = OptionsOf<typeof ACCELERATE>;

interface Entry {
  handle: number;
  key: string;
  /** flat leaves of the argument pattern, for the quick match against the last entry */
  leaves: unknown[];
  nInputs: number;
  outIds: number[];
  handles: Tensor[];
  /** f's result with each tensor replaced by its output index */
  template: unknown;
  /** the argument pattern when every argument is a tensor: dtype and dims per argument */
  flat?: { dtype: string; dims: readonly number[] }[];
  /** per argument, the last tensor object that matched `flat` */
  seen: unknown[];
  /** makes the result from the output handles */
  make: () => any;
  /** replays the entry: wasm.replay, or the program compiled to wasm of its own when it is all scalars */
  replay: (h: number, src: number, n: number) => number;
  compiled: boolean;
}

/**
 * What accelerate returns: a function with f's signature that replays recorded programs, with
 * its cache's statistics and controls (MATLAB: AcceleratedFunction).
 *
 * @typeParam F - the accelerated function's type
 */
export interface AcceleratedFunction<F extends (...args: any[]) => any> {
  /** Calls f: a replay when the arguments match a recorded pattern, else a capture (or an eager call when disabled). */
  (...args: Parameters<F>): ReturnType<F>;
  /** the function being accelerated */
  readonly function: F;
  /** false: every call runs f eagerly */
  enabled: boolean;
  /** compare every replay against an eager run (slow: for testing) */
  checkMode: boolean;
  /** the most input patterns kept (options.cacheSize, default 50) */
  readonly cacheSize: number;
  /** calls answered by a replay */
  readonly hits: number;
  /** calls that had to capture (a new pattern, or an entry gone stale) */
  readonly misses: number;
  /** hits / (hits + misses) as a percentage, as MATLAB's HitRate (0 before any call) */
  readonly hitRate: number;
  /** entries / cacheSize as a percentage, as MATLAB's Occupancy */
  readonly occupancy: number;
  /** entries in the cache */
  readonly entries: number;
  /** program records (and their ops' names, in order), whether the program runs as compiled wasm, and arena bytes of each entry (most recently used last) */
  readonly programs: {
    /** the program's records (kernel calls) */
    records: number;
    /** each record's op name, in order */
    ops: string[];
    /** whether the program runs as compiled wasm of its own */
    compiled: boolean;
    /** the size of the arena the program's temporaries share */
    arenaBytes: number;
    /** the bytes of the temporaries placed in the arena (more than arenaBytes when they share space) */
    sharedBytes: number;
    /** tensors the entry owns */
    owned: number;
    /** tensors from outside f (parameters, running statistics) the program reads live */
    externals: number;
    /** records that run inside fused elementwise groups */
    fused: number;
    /** temporaries of fused groups that live only in cache-sized tiles, never written to memory */
    unwritten: number;
  }[];
  /** frees every entry and the tensors it owns */
  clearCache(): void;
  /**
   * Frees every program now; calling the function afterwards is a DisposedError. (A wrapper that
   * is simply dropped releases its programs when the garbage collector collects it.)
   */
  dispose(): void;
  /** dispose(), for `using fast = accelerate(f)`: the programs are freed when the block ends. */
  [Symbol.dispose](): void;
}

// A dropped wrapper's programs (and the tensors they own) are released when it is collected. The
// held value is the cache alone: nothing in it refers back to the wrapper.
const dropped = typeof FinalizationRegistry === 'undefined' ? undefined :
  new FinalizationRegistry<{ cache: Map<string, Entry>; instance: unknown }>(({ cache, instance }) => {
    if (wasm !== instance) return; // the runtime was started again: those programs are gone
    for (const e of cache.values()) wasm.releaseEntry(e.handle);
    cache.clear();
  });

let identities = new WeakMap<object, number>();
let nextIdentity = 1;
function identity(o: object): number {
  let id = identities.get(o);
  if (id === undefined) identities.set(o, (id = nextIdentity++));
  return id;
}

/** The input pattern: a key, the flat leaves (tensors and values) and the tensors in order. */
function pattern(args: unknown[], tensors: Tensor[], leaves: unknown[]): string {
  const parts: string[] = [];
  const walk = (v: unknown): void => {
    if (v instanceof Tensor) {
      v.use('accelerate (argument)');
      tensors.push(v);
      leaves.push(v.dtype, v.dims);
      parts.push(`t${v.dtype}[${v.dims.join(',')}]`);
    } else if (Array.isArray(v)) {
      parts.push(`a${v.length}(`); leaves.push(Array, v.length);
      for (const x of v) walk(x);
      parts.push(')');
    } else if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
      const keys = Object.keys(v);
      parts.push(`o(${keys.join(',')})(`); leaves.push(Object, keys.join(','));
      for (const k of keys) walk((v as any)[k]);
      parts.push(')');
    } else if (v !== null && (typeof v === 'object' || typeof v === 'function')) {
      const id = identity(v);
      parts.push(`#${id}`); leaves.push('#', id);
    } else {
      const s = typeof v === 'number' && Object.is(v, -0) ? '-0' : typeof v === 'string' ? JSON.stringify(v) : String(v);
      parts.push(`${typeof v}:${s}`); leaves.push(typeof v, v);
    }
    parts.push(';');
  };
  for (const a of args) walk(a);
  return parts.join('');
}

/** Whether args fit `leaves` exactly; collects the argument tensors' ids into ARGS. */
function quickMatch(args: unknown[], leaves: unknown[], n: number): boolean {
  let i = 0, t = 0;
  const base = ARGS >>> 2;
  const walk = (v: unknown): boolean => {
    if (v instanceof Tensor) {
      if (leaves[i++] !== v.dtype) return false;
      const want = leaves[i++] as readonly number[], dims = v.dims;
      if (want.length !== dims.length) return false;
      for (let k = 0; k < dims.length; k++) if (want[k] !== dims[k]) return false;
      if (t >= n) return false;
      I32[base + t++] = v.use('accelerate (argument)');
      return true;
    }
    if (Array.isArray(v)) {
      if (leaves[i++] !== Array || leaves[i++] !== v.length) return false;
      for (const x of v) if (!walk(x)) return false;
      return true;
    }
    if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
      if (leaves[i++] !== Object || leaves[i++] !== Object.keys(v).join(',')) return false;
      for (const k in v) if (!walk((v as any)[k])) return false;
      return true;
    }
    if (v !== null && (typeof v === 'object' || typeof v === 'function')) {
      return leaves[i++] === '#' && leaves[i++] === identities.get(v);
    }
    return leaves[i++] === typeof v && Object.is(leaves[i++], v);
  };
  views();
  for (const a of args) if (!walk(a)) return false;
  return i === leaves.length && t === n;
}

/**
 * quickMatch for an argument list of distinct tensors. A tensor object that matched the pattern
 * before (`seen`) has the same dtype and dims still (a handle's shape never changes), so only its
 * liveness is checked again.
 */
function flatMatch(args: ArrayLike<unknown>, flat: { dtype: string; dims: readonly number[] }[], seen: unknown[]): boolean {
  if (args.length !== flat.length) return false;
  views();
  const base = ARGS >>> 2;
  for (let i = 0; i < args.length; i++) {
    const t = args[i];
    if (t !== seen[i]) {
      if (!(t instanceof Tensor)) return false;
      const p = flat[i];
      if (t.dtype !== p.dtype) return false;
      const dims = t.dims, want = p.dims;
      if (dims !== want) {
        if (dims.length !== want.length) return false;
        for (let k = 0; k < dims.length; k++) if (dims[k] !== want[k]) return false;
      }
      seen[i] = t;
    }
    const u = t as Tensor, r = recordWord(u.id);
    if (u.disposed || I32[r] !== u.gen || (I32[r + 5] & 1) === 0) u.use('accelerate (argument)');
    I32[base + i] = u.id;
  }
  return true;
}

/** Whether t is `seen` and alive; if so, writes its id as argument i. */
function sameLive(t: unknown, seen: unknown, i: number): boolean {
  if (t !== seen) return false;
  const u = t as Tensor, r = recordWord(u.id);
  if (u.disposed || I32[r] !== u.gen || (I32[r + 5] & 1) === 0) return false;
  I32[(ARGS >>> 2) + i] = u.id;
  return true;
}

function replaceTensors(v: unknown, fn: (t: Tensor) => unknown): unknown {
  if (v instanceof Tensor) return fn(v);
  if (Array.isArray(v)) return v.map((x) => replaceTensors(x, fn));
  if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = replaceTensors(x, fn);
    return out;
  }
  return v;
}

/** Output slot k's handle (a fresh one if the user disposed the last). */
function handleOf(e: Entry, k: number): Tensor {
  let h = e.handles[k];
  if (h.disposed) h = e.handles[k] = new Tensor(e.outIds[k]);
  return h;
}

/** Output slot k's handle (a top-level function, so the hit path inlines it). */
function handleAt(e: Entry, k: number): Tensor {
  const h = e.handles[k];
  return h.disposed ? handleOf(e, k) : h;
}

/** A function making the result from a template, compiled once per entry. */
function builder(e: Entry, v: unknown): () => any {
  if (typeof v === 'number' && v < 0) {
    const k = -v - 1;
    return () => handleAt(e, k);
  }
  if (Array.isArray(v)) {
    // Tensors read their slot in place (handleAt inlines); a closure per leaf would make the
    // parent's calls polymorphic, which costs more than the arrays.
    const slot = (x: unknown) => (typeof x === 'number' && x < 0 ? -x - 1 : -1);
    const [i, j, k] = [slot(v[0]), slot(v[1]), slot(v[2])];
    if (v.length === 1 && i >= 0) return () => [handleAt(e, i)];
    if (v.length === 2 && i >= 0 && j >= 0) return () => [handleAt(e, i), handleAt(e, j)];
    if (v.length === 3 && i >= 0 && j >= 0 && k >= 0) return () => [handleAt(e, i), handleAt(e, j), handleAt(e, k)];
    const parts = v.map((x) => builder(e, x));
    if (parts.length === 1) { const [a] = parts; return () => [a()]; }
    if (parts.length === 2) {
      const [a, b] = parts;
      if (i >= 0) return () => [handleAt(e, i), b()]; // valueAndGrad's [value, [grads]]
      return () => [a(), b()];
    }
    if (parts.length === 3) { const [a, b, c] = parts; return () => [a(), b(), c()]; }
    return () => parts.map((p) => p());
  }
  if (v !== null && typeof v === 'object') {
    const t = v as { s?: Record<string, unknown>; c?: unknown };
    if ('c' in t) { const c = t.c; return () => c; }
    const keys = Object.keys(t.s!), parts = keys.map((k) => builder(e, t.s![k]));
    return () => { const out: Record<string, unknown> = {}; for (let i = 0; i < keys.length; i++) out[keys[i]] = parts[i](); return out; };
  }
  return () => v;
}

/** f's result as a template: tensors become -(k+1), other values are kept as constants. */
function templateOf(v: unknown, index: Map<Tensor, number>): unknown {
  if (v instanceof Tensor) return -(index.get(v)! + 1);
  if (Array.isArray(v)) return v.map((x) => templateOf(x, index));
  if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const s: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) s[k] = templateOf(x, index);
    return { s };
  }
  return { c: v };
}

const READ_MESSAGE = 'reads a tensor\'s values on the host (item(), toArray() or data(), or an op that checks values on the host) while it is being recorded; a replay would repeat the decision made with those values instead of making it again. Take the read out of the accelerated function, or call the function without accelerate';

function opName(op: number): string { return Op[op] ?? `op ${op}`; }

/**
 * accelerate(f, options) → a function with f's signature that records f once per input pattern
 * (shapes and dtypes of the tensors in the arguments, the other argument values) and replays it
 * in one wasm call afterwards. f may use valueAndGrad / grad / dlfeval / dlgradient inside; tensors
 * f captures from outside (parameters, running statistics) are read live on every replay.
 * Results are overwritten by the next call with the same pattern. MATLAB: dlaccelerate; JAX: jit.
 *
 * @typeParam F - the function's type, kept by the result
 * @param f - a synchronous function of tensors (and other values) that returns tensors
 * @param opts - cacheSize (default 50), check (default false), compile (default true), fuse (default true)
 *
 * @example
 * ```ts
 * const step = accelerate((x: Tensor, y: Tensor) => valueAndGrad((m: typeof net) => mseLoss(m.call(x), y))(net));
 * const [loss, grads] = step(xBatch, yBatch);   // recorded on the first call, replayed after
 * opt.step(grads);
 * ```
 */
export function accelerate<F extends (...args: any[]) => any>(f: F, opts?: AccelerateOptions): AcceleratedFunction<F> {
  if (arguments.length > 2) checkArity('accelerate', arguments, 2, 'f, { cacheSize, check, compile, fuse }');
  if (typeof f !== 'function') throw new ValueError(`accelerate: f must be a function, got ${describeValue(f)}`);
  if (Object.prototype.toString.call(f) === '[object AsyncFunction]') {
    throw new ValueError('accelerate: f is an async function; accelerated functions are synchronous (tensors would be freed before its promise settles)');
  }
  const options = ACCELERATE.parse(opts);
  const cacheSize = options.cacheSize ?? 50;
  if (!Number.isInteger(cacheSize) || cacheSize < 1) {
    throw new ValueError(`accelerate: cacheSize must be an integer >= 1, got ${String(cacheSize)}`);
  }
  const compile = options.compile ?? true;
  if (typeof compile !== 'boolean') throw new ValueError(`accelerate: compile must be true or false, got ${String(compile)}`);
  const fuse = options.fuse ?? true;
  if (typeof fuse !== 'boolean') throw new ValueError(`accelerate: fuse must be true or false, got ${String(fuse)}`);
  const cache = new Map<string, Entry>(); // insertion order = least recently used first
  let last: Entry | undefined;
  let hits = 0, misses = 0, disposed = false;
  const held = { cache, instance: undefined as unknown }; // what the finalizer of a dropped wrapper frees

  const drop = (e: Entry): void => {
    cache.delete(e.key);
    if (last === e) last = undefined;
    wasm.releaseEntry(e.handle);
  };

  const capture = (args: unknown[], key: string, tensors: Tensor[], leaves: unknown[]): any => {
    openScope('accelerate');
    held.instance = wasm;
    wasm.captureStart();
    let result: unknown;
    let reading: Tensor | undefined;
    try {
      setValueReadHook((t) => {
        if (!wasm.captureDependsOn(t.id)) return; // a constant made inside f: reading it decides nothing
        reading = t;
        throw new NotAcceleratableError(`accelerate: f ${READ_MESSAGE} (a ${t.dtype} tensor of shape ${formatShape(t.dims)} was read)`);
      });
      const copies = new Map<Tensor, Tensor>();
      for (const t of tensors) {
        if (copies.has(t)) continue;
        const id = wasm.captureInputCopy(t.id);
        views();
        if (id === 0 || I32[(wasm.stateAddress() + 8) >>> 2] !== 0) raise('accelerate');
        copies.set(t, new Tensor(id));
      }
      const callArgs = args.map((a) => replaceTensors(a, (t) => copies.get(t)!));
      result = f(...callArgs);
      if (result instanceof Promise) throw new ValueError('accelerate: f returned a Promise; accelerated functions are synchronous');
    } catch (e) {
      setValueReadHook(undefined);
      wasm.captureAbort();
      closeScope([]);
      // An op that read values swallowed our error? Report the read all the same.
      if (reading !== undefined && !(e instanceof NotAcceleratableError)) {
        throw new NotAcceleratableError(`accelerate: f ${READ_MESSAGE} (a ${reading.dtype} tensor of shape ${formatShape(reading.dims)} was read)`);
      }
      throw e;
    }
    setValueReadHook(undefined);
    const outs = tensorsIn(result);
    closeScope(outs);
    const unique = [...new Set(outs)];
    const outIds = unique.map((t) => t.id);
    const inputIds = [...new Set(tensors)].map((t) => t.id);
    const handle = wasm.captureEnd(argsWords(outIds), outIds.length, fuse ? 1 : 0);
    if (handle === 0) captureFailed();
    const index = new Map<Tensor, number>(unique.map((t, k) => [t, k]));
    const e: Entry = {
      handle, key, leaves, nInputs: inputIds.length, outIds,
      // `flat` is set below for all-tensor patterns; naming it here gives every entry one shape
      // (hidden class), which keeps the hit path's property reads monomorphic.
      handles: unique, template: templateOf(result, index), make: () => undefined, seen: [], flat: undefined,
      replay: wasm.replay, compiled: false,
    };
    const compiled = compile ? compileScalarProgram(handle) : undefined;
    if (compiled !== undefined) { e.replay = compiled; e.compiled = true; }
    e.make = builder(e, e.template);
    if (args.every((a) => a instanceof Tensor) && new Set(args).size === args.length) {
      e.flat = (args as Tensor[]).map((t) => ({ dtype: t.dtype, dims: t.dims }));
    }
    // Repeated argument tensors are copied once: replays must name each distinct input once too.
    e.nInputs = new Set(tensors).size;
    if (e.nInputs !== tensors.length) e.leaves = []; // quick match assumes one input per leaf
    cache.set(key, e);
    last = e;
    while (cache.size > cacheSize) drop(cache.values().next().value!);
    return e.make();
  };

  let enabled = true, checkMode = options.check ?? false;
  // The hit path: up to three arguments, the very tensor objects of the last matching call, all
  // alive. Named parameters and arguments.length make no arguments object; anything else,
  // including a disposed argument (whose error flatMatch raises), takes the full path.
  const run = function (a0: unknown, a1: unknown, a2: unknown): any {
    const e = last, n = arguments.length;
    if (enabled && e !== undefined && e.flat !== undefined && n === e.flat.length && n <= 3) {
      views();
      const seen = e.seen;
      if ((n < 1 || sameLive(a0, seen[0], 0)) && (n < 2 || sameLive(a1, seen[1], 1)) && (n < 3 || sameLive(a2, seen[2], 2))) {
        const code = e.replay(e.handle, ARGS, e.nInputs);
        if (code === 0 && !checkMode) {
          hits++;
          return e.make();
        }
        return replayed(e, code, Array.prototype.slice.call(arguments));
      }
    }
    return slow(Array.prototype.slice.call(arguments));
  };

  const slow = (args: unknown[]): any => {
    if (disposed) throw new DisposedError('accelerate: this accelerated function was disposed');
    if (!enabled) return f(...args);
    let e = last;
    if (e === undefined || !(e.flat !== undefined ? flatMatch(args, e.flat, e.seen) : e.leaves.length !== 0 && quickMatch(args, e.leaves, e.nInputs))) {
      const tensors: Tensor[] = [];
      const leaves: unknown[] = [];
      requireInit('accelerate');
      const key = pattern(args, tensors, leaves);
      e = cache.get(key);
      if (e === undefined) {
        // Inside a gradient or a jvp the results must be differentiable: run f as written.
        if (wasm.tapeDepthNow() > 0 || wasm.forwardDepthNow() > 0) return f(...args);
        misses++;
        return capture(args, key, tensors, leaves);
      }
      const distinct = [...new Set(tensors)];
      views();
      distinct.forEach((t, k) => { I32[(ARGS >>> 2) + k] = t.id; });
      cache.delete(key);
      cache.set(key, e); // most recently used
      last = e;
    }
    return replayed(e, e.replay(e.handle, ARGS, e.nInputs), args);
  };

  /** After the replay of `e` with `args`: the result, or an eager run or capture when the replay could not answer. */
  const replayed = (e: Entry, code: number, args: unknown[]): any => {
    if (code !== 0) {
      if (code === E_EAGER) return f(...args);
      if (code === E_STALE || code === E_GUARD) {
        // A tensor f uses from outside is gone, or a value-dependent branch inside a rule went the
        // other way: capture afresh (the capture run is an eager run, so this call is right).
        wasm.clearError();
        const key = e.key;
        drop(e);
        misses++;
        const tensors: Tensor[] = [];
        const leaves: unknown[] = [];
        pattern(args, tensors, leaves);
        return capture(args, key, tensors, leaves);
      }
      raise('accelerate (replay)');
    }
    hits++;
    const result = e.make();
    if (checkMode) check(f, args, e, result);
    return result;
  };

  const fn = run as unknown as AcceleratedFunction<F>;
  Object.defineProperties(fn, {
    enabled: { get: () => enabled, set: (v: boolean) => { enabled = !!v; } },
    checkMode: { get: () => checkMode, set: (v: boolean) => { checkMode = !!v; } },
    function: { value: f },
    cacheSize: { value: cacheSize },
    hits: { get: () => hits },
    misses: { get: () => misses },
    hitRate: { get: () => (hits + misses === 0 ? 0 : (100 * hits) / (hits + misses)) },
    occupancy: { get: () => (100 * cache.size) / cacheSize },
    entries: { get: () => cache.size },
    programs: {
      get: () => [...cache.values()].map((e) => ({
        records: wasm.entryRecords(e.handle),
        ops: Array.from({ length: wasm.entryRecords(e.handle) }, (_, i) => opName(wasm.entryRecordOp(e.handle, i))),
        compiled: e.compiled,
        arenaBytes: wasm.entryArenaBytes(e.handle),
        sharedBytes: wasm.entrySharedBytes(e.handle), owned: wasm.entryOwned(e.handle),
        externals: wasm.entryExternals(e.handle),
        fused: wasm.entryFused(e.handle), unwritten: wasm.entryUnwritten(e.handle),
      })),
    },
    clearCache: {
      value: () => {
        for (const e of [...cache.values()]) drop(e);
        hits = 0; misses = 0;
      },
    },
    dispose: {
      value: () => {
        for (const e of [...cache.values()]) drop(e);
        disposed = true;
        dropped?.unregister(cache);
      },
    },
    [Symbol.dispose]: { value: () => fn.dispose() },
  });
  dropped?.register(fn, held, cache);
  return fn;
}

function argsWords(ids: number[]): number {
  if (ids.length > 16000) throw new ValueError(`accelerate: f returns ${ids.length} tensors; at most 16000`);
  views();
  for (let i = 0; i < ids.length; i++) I32[(ARGS >>> 2) + i] = ids[i];
  return ARGS;
}

function captureFailed(): never {
  views();
  const code = wasm.errorCode();
  const op = I32[(wasm.stateAddress() + 12) >>> 2];
  if (code === E_UNSUPPORTED) {
    wasm.clearError();
    throw new NotAcceleratableError(`accelerate: op '${opName(op)}' cannot be replayed, so f cannot be accelerated`);
  }
  if (code === E_CONSTANT_MUTATED) {
    wasm.clearError();
    throw new NotAcceleratableError(`accelerate: '${opName(op)}' updates an argument or a constant of f in place; a replay could not restore it. Pass the updated tensor from outside f (a closure) instead`);
  }
  raise('accelerate');
}

/** check mode: f run eagerly must give the replay's outputs bit for bit. */
function check(f: (...args: any[]) => any, args: unknown[], e: Entry, replayed: unknown): void {
  openScope('accelerate (check)');
  try {
    const eager = f(...args);
    const a = tensorsIn(replayed), b = tensorsIn(eager);
    if (a.length !== b.length) throw new WasmgradError(`accelerate (check): replay gave ${a.length} tensors, eager ${b.length}`);
    for (let k = 0; k < a.length; k++) {
      const x = new Uint8Array(a[k].data().buffer), y = new Uint8Array(b[k].data().buffer);
      let same = x.length === y.length && a[k].dtype === b[k].dtype;
      for (let i = 0; same && i < x.length; i++) same = x[i] === y[i];
      if (!same) {
        throw new WasmgradError(`accelerate (check): output ${k} (${a[k].dtype} ${formatShape(a[k].dims)}) differs between the replay and the eager call; ` +
          'f may depend on something outside its arguments that changed (a reassigned closure variable, the random generator)');
      }
    }
  } finally {
    closeScope([]);
  }
}
