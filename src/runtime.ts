// Loading the wasm module and talking to it: the exports, views on linear memory, the argument
// buffer, and turning the module's error state into exceptions.

import { InitError, OutOfMemoryError, WasmgradError, NotDifferentiableError } from './errors.js';
import { Op } from '../assembly/vocabulary.js';

export interface Exports {
  memory: WebAssembly.Memory;
  argsAddress(): number;
  stateAddress(): number;
  errorCode(): number;
  clearError(): void;
  allocLiveBytes(): number;
  allocPeakBytes(): number;
  allocLiveBlocks(): number;
  resetPeak(): void;
  heapBytes(): number;
  setPageLimit(pages: number): void;
  getPageLimit(): number;
  availableBytes(): number;
  liveTensors(): number;
  liveTensorBytes(): number;
  peakTensorBytes(): number;
  resetTensorPeak(): void;
  scopeDepth(): number;
  scopeBegin(): number;
  scopeEnd(keep: number, n: number): void;
  keepTensor(id: number): void;
  disposeTensor(id: number): void;
  newTensor(dtype: number, rank: number, shape: number): number;
  arenaLength(): number;
  tapeBegin(): number;
  tapeEnd(): void;
  tapeDepthNow(): number;
  watch(id: number): void;
  unwatch(id: number): void;
  backward(loss: number, mark: number, targets: number, n: number, mode: number): number;
  clearAdjoints(mark: number, loss: number): void;
  adjoint(id: number): number;
  tapeLength(): number;
  tapeRecordOp(i: number): number;
  tapeRecordOut(i: number): number;
  tapeRecordNumInputs(i: number): number;
  tapeRecordInput(i: number, k: number): number;
  tapeRecordNumAttrs(i: number): number;
  tapeRecordAttr(i: number, k: number): number;
  [name: string]: any;
}

export let wasm: Exports = undefined as unknown as Exports;

/**
 * Callbacks the module makes into JS (custom derivative rules; see src/custom.ts). A hook
 * never throws into wasm: it returns nonzero and leaves the error in `pendingHostError`.
 */
export const hostHooks = {
  customRule: (_kind: number, _handle: number, _record: number, _g: number): number => 1,
};
export let pendingHostError: unknown = undefined;
export function setPendingHostError(e: unknown): void { pendingHostError = e; }
let buffer: ArrayBuffer | undefined;
export let I32 = new Int32Array(0);
export let F32 = new Float32Array(0);
export let F64 = new Float64Array(0);
export let U8 = new Uint8Array(0);
export let ARGS = 0;
export let STATE = 0;

/** Word index of tensor `id`'s record in the table (the table moves when it grows). */
export function recordWord(id: number): number {
  return (I32[STATE >> 2] + id * 96) >> 2; // records are 96 bytes (assembly/tensor.ts)
}

/** Refreshes the typed-array views after memory growth detached the old buffer. */
export function views(): void {
  // Growing memory detaches the old buffer, which empties every view on it.
  if (I32.length !== 0) return;
  const b = wasm.memory.buffer;
  buffer = b;
  I32 = new Int32Array(b);
  F32 = new Float32Array(b);
  F64 = new Float64Array(b);
  U8 = new Uint8Array(b);
}

export function isInitialized(): boolean {
  return wasm !== undefined;
}

export function requireInit(what: string): void {
  if (wasm === undefined) throw new InitError(`${what}: wasmgrad is not initialised; call 'await init()' first`);
}

export type WasmSource = WebAssembly.Module | BufferSource | URL | string | Response | Promise<Response>;

/**
 * Loads the module. Node, Deno and Bun find the bundled .wasm by themselves; browsers and edge
 * runtimes pass a WebAssembly.Module (precompiled, as workerd requires), bytes, a URL or a Response.
 */
export async function init(source?: WasmSource): Promise<void> {
  if (wasm !== undefined) return;
  const module = await compile(source);
  let instance: WebAssembly.Instance;
  try {
    instance = await WebAssembly.instantiate(module, { host: { customRule: (kind: number, handle: number, record: number, g: number) => hostHooks.customRule(kind, handle, record, g) } });
  } catch (e) {
    throw new InitError(`init: instantiating the wasm module failed: ${(e as Error).message}`);
  }
  wasm = instance.exports as unknown as Exports;
  ARGS = wasm.argsAddress();
  STATE = wasm.stateAddress();
  views();
}

async function compile(source?: WasmSource): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) return source;
  try {
    if (source === undefined) return await WebAssembly.compile(await readBundledWasm());
    if (typeof source === 'string' || source instanceof URL) {
      const url = source instanceof URL ? source : new URL(source, (globalThis as any).location?.href);
      if (url.protocol === 'file:') return await WebAssembly.compile(await readFile(url));
      return await compileResponse(fetch(url));
    }
    if (typeof Response !== 'undefined' && (source instanceof Response || source instanceof Promise)) {
      return await compileResponse(source as Response | Promise<Response>);
    }
    return await WebAssembly.compile(source as BufferSource);
  } catch (e) {
    if (e instanceof WasmgradError) throw e;
    throw new InitError(`init: could not compile wasmgrad's wasm module (${(e as Error).message}). ` +
      'Check that the source is wasmgrad.wasm and that the engine supports WebAssembly SIMD.');
  }
}

async function compileResponse(r: Response | Promise<Response>): Promise<WebAssembly.Module> {
  const res = await r;
  if (!res.ok) throw new InitError(`init: fetching the wasm module failed: HTTP ${res.status} ${res.statusText} (${res.url})`);
  if (typeof WebAssembly.compileStreaming === 'function' &&
      res.headers.get('content-type')?.startsWith('application/wasm')) {
    return WebAssembly.compileStreaming(res);
  }
  return WebAssembly.compile(await res.arrayBuffer());
}

async function readFile(url: URL): Promise<Uint8Array<ArrayBuffer>> {
  const fs = await import('node:fs/promises');
  return new Uint8Array(await fs.readFile(url));
}

/** The .wasm next to this module (dist/), or the build output when running from src/. */
async function readBundledWasm(): Promise<Uint8Array<ArrayBuffer>> {
  const here = import.meta.url;
  const candidates = [new URL('./wasmgrad.wasm', here), new URL('../build/out/wasmgrad.wasm', here)];
  const errors: string[] = [];
  for (const url of candidates) {
    try {
      return await readFile(url);
    } catch (e) {
      errors.push(`${url.href}: ${(e as Error).message}`);
    }
  }
  throw new InitError(`init: wasmgrad.wasm not found (${errors.join('; ')}). ` +
    "Run 'npm run build', or pass the module to init(source).");
}

// Error codes of assembly/tensor.ts
const E_OOM = 1;
const E_NO_RULE = 2;
const E_SCOPE = 3;
const E_HOST = 4;

/** Throws the error the module recorded (and clears it); `op` names the caller. */
export function raise(op: string): never {
  views(); // the failing call may have grown memory, detaching the old views
  const code = wasm.errorCode();
  const ruleOp = I32[(STATE + 12) >> 2];
  const requested = F64[(STATE + 16) >> 3];
  wasm.clearError();
  if (code === E_OOM) {
    const available = wasm.availableBytes();
    throw new OutOfMemoryError(
      `${op}: out of memory: requested ${requested} bytes, ${available} bytes available in wasm memory ` +
      `(limit ${wasm.getPageLimit() * 65536} bytes)`, requested, available);
  }
  if (code === E_NO_RULE) throw new NotDifferentiableError(`${op}: op '${Op[ruleOp]}' has no derivative rule`);
  if (code === E_HOST && pendingHostError !== undefined) {
    const e = pendingHostError;
    pendingHostError = undefined;
    throw e;
  }
  if (code === E_SCOPE) throw new WasmgradError(`${op}: scopes nested deeper than 1024`);
  throw new WasmgradError(`${op}: wasm call failed (code ${code})`);
}

/** Returns a new tensor id, or throws the recorded error when the call failed. */
export function checked(id: number, op: string): number {
  // The error code lives at STATE + 8: reading it from memory saves a call per op.
  views();
  if (id === 0 || I32[(STATE + 8) >> 2] !== 0) raise(op);
  return id;
}

/** Writes i32s into the argument buffer at word offset `at`; returns their address. */
export function argsI32(values: ArrayLike<number>, at = 0): number {
  views();
  const base = (ARGS >> 2) + at;
  for (let i = 0; i < values.length; i++) I32[base + i] = values[i];
  return ARGS + at * 4;
}
