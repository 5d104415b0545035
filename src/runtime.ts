// Loading the wasm module and talking to it: the exports, views on linear memory, the argument
// buffer, and turning the module's error state into exceptions.

import type { WasmExports } from './wasm.generated.js';
import type { WasmModule, WebResponse, WebURL } from './web-types.js';
import { InitError, OutOfMemoryError, WasmgradError, NotDifferentiableError, ValueError } from './errors.js';
import { Op } from '../assembly/core/vocabulary.js';
import { options, opt, type OptionsOf } from './options.js';
import { readFile, canReadFiles } from './platform/read-file.js';
import { otherLocations, fileExists } from './platform/locate.js';
import { shippedUrl, type ShippedFile } from './platform/shipped.js';
import { startWorkers, threadsUnavailable } from './threads.js';
import { E_OOM, E_NO_RULE, E_SCOPE, E_HOST, E_BOUNDS, E_UNKNOWN_OP, REC } from '../assembly/core/abi.js';

/** The module's exports, typed from their AssemblyScript signatures (src/wasm.generated.ts). */
export type Exports = WasmExports;

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
export let I32: Int32Array = new Int32Array(0);
export let F32: Float32Array = new Float32Array(0);
export let F64: Float64Array = new Float64Array(0);
export let U8: Uint8Array = new Uint8Array(0);
export let ARGS = 0;
export let STATE = 0;
let PAGES = 0; // word index of the module's memory-pages word (assembly/core/alloc.ts)
let viewPages = -1;

/** Word index of tensor `id`'s record in the table (the table moves when it grows). */
export function recordWord(id: number): number {
  return (I32[STATE >>> 2] + id * REC) >>> 2;
}

/** Refreshes the typed-array views after memory grew. */
export function views(): void {
  // Growing detaches a memory's old buffer (its length becomes 0) or, for a shared memory, leaves
  // it short while the pages word changes. The length test comes first so that this load never
  // reads out of bounds: one such read would make V8 compile every later views() more slowly.
  if (I32.length !== 0 && I32[PAGES] === viewPages) return;
  const b = wasm.memory.buffer;
  buffer = b;
  I32 = new Int32Array(b);
  F32 = new Float32Array(b);
  F64 = new Float64Array(b);
  U8 = new Uint8Array(b);
  viewPages = I32[PAGES];
}

export function isInitialized(): boolean {
  return wasm !== undefined;
}

export function requireInit(what: string): void {
  if (wasm === undefined) throw new InitError(`${what}: wasmgrad is not initialised; call 'await init()' first`);
}

/** Where init() gets the module: a compiled WebAssembly.Module, its bytes, a URL (string or URL), or a Response (or its promise). */
export type WasmSource = WasmModule | ArrayBuffer | ArrayBufferView | WebURL | string | WebResponse | Promise<WebResponse>;

/**
 * Loads the module. Node, Deno and Bun read the .wasm beside the bundle; a browser fetches it from
 * beside the bundle (streaming compile). Edge runtimes such as workerd, which forbid compiling
 * wasm from bytes, pass the precompiled module: `import wasm from './wasmgrad.wasm'; await
 * init(wasm)`. Any runtime may pass a WebAssembly.Module, bytes, a URL (string or URL) or a Response.
 * Call it once before anything else; every other function throws InitError before it.
 *
 * @param source - the module (optional; default: wasmgrad.wasm beside the bundle), or the options
 * @param options - threads (default 1), worker (the worker script's location)
 *
 * @example
 * ```ts
 * import { init, tensor } from 'wasmgrad';
 * await init();                       // or: await init({ threads: 4 })
 * const x = tensor([1, 2, 3]);
 * ```
 */
export async function init(source?: WasmSource | InitOptions, options?: InitOptions): Promise<void> {
  if (isInitOptions(source)) { options = source; source = undefined; }
  const threads = threadOption(options);
  if (wasm !== undefined) {
    if (options?.threads !== undefined && threads !== activeThreads) {
      throw new InitError(`init: wasmgrad is already initialised with ${activeThreads} thread(s); threads (${threads}) ` +
        'are chosen by the first init() of a program');
    }
    return;
  }
  if (threads > 1) {
    const why = threadsUnavailable();
    if (why !== undefined) throw new InitError(`init: threads: ${threads} is not available here: ${why}`);
  }
  const module = await compile(source as WasmSource | undefined, threads > 1 ? 'wasmgrad.threads.wasm' : 'wasmgrad.wasm');
  checkExports(module);
  const shared = importsSharedMemory(module);
  if (threads > 1 && !shared) {
    throw new InitError(`init: threads: ${threads} needs the threads build, wasmgrad.threads.wasm (it imports a shared ` +
      'memory that the workers use too); the module given has its own memory');
  }
  // The threads build runs on one thread too; its memory comes from here.
  const memory = shared ? new WebAssembly.Memory({ initial: 16, maximum: 65536, shared: true }) : undefined;
  let instance: WebAssembly.Instance;
  try {
    instance = await WebAssembly.instantiate(module, {
      host: { customRule: (kind: number, handle: number, record: number, g: number) => hostHooks.customRule(kind, handle, record, g) },
      ...(memory !== undefined ? { env: { memory } } : {}),
    });
  } catch (e) {
    throw new InitError(`init: instantiating the wasm module failed: ${(e as Error).message}`);
  }
  const exports = instance.exports as unknown as Exports;
  if (threads > 1) {
    // Workers instantiate the module on the same memory, which writes its constant data again:
    // they start before this instance changes anything in memory.
    try {
      await startWorkers(module, memory!, threads - 1, await workerScript(options?.worker as string | URL | undefined));
    } catch (e) {
      throw new InitError(`init: starting ${threads - 1} worker thread(s) failed: ${(e as Error).message}`);
    }
    if (!exports.setMatmulWorkers(threads - 1)) throw new InitError('init: out of memory for the worker threads\' scratch');
  }
  wasm = exports;
  activeThreads = threads;
  ARGS = wasm.argsAddress() >>> 0;
  STATE = wasm.stateAddress() >>> 0;
  PAGES = wasm.pagesAddress() >>> 2;
  views();
}

const INIT = options('init', {
  /**
   * Threads for the big matrix products (default 1). More than 1 loads the threads build
   * (wasmgrad.threads.wasm, a shared memory) and starts threads − 1 workers; results are
   * bit-identical for every thread count. Needs SharedArrayBuffer and workers: Node, Deno, Bun,
   * and cross-origin isolated pages; not workerd.
   */
  threads: opt.any<number>(),
  /**
   * Where the worker threads' script is (default: wasmgrad.worker.js beside this script). For
   * bundled apps: serve dist/wasmgrad.worker.js (and wasmgrad.threads.wasm) and say where.
   */
  worker: opt.any<string | { readonly href: string }>(), // a URL (structurally: the .d.ts would name URL, absent without the DOM lib)
});
/** Options of init: threads (default 1) and worker (where the worker script is). */
export type InitOptions = OptionsOf<typeof INIT>;

let activeThreads = 1;
/** The number of threads init() started the runtime with (1 before init). */
export function threadCount(): number { return activeThreads; }

function isInitOptions(v: unknown): v is InitOptions {
  return v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype;
}

function threadOption(options: InitOptions | undefined): number {
  if (options === undefined) return 1;
  if (!isInitOptions(options)) throw new InitError(`init: options must be an object like { threads: 2 }, got ${typeof options}`);
  INIT.parse(options);
  const w = options.worker;
  if (w !== undefined && typeof w !== 'string' && !(w instanceof URL)) {
    throw new InitError(`init: worker must be a URL or a URL string (the worker script), got ${w === null ? 'null' : typeof w}`);
  }
  const t = options.threads ?? 1;
  if (typeof t !== 'number' || !Number.isInteger(t) || t < 1 || t > 16) {
    throw new InitError(`init: threads must be an integer from 1 to 16, got ${String(t)}`);
  }
  return t;
}

function importsSharedMemory(module: WebAssembly.Module): boolean {
  return WebAssembly.Module.imports(module).some((i) => i.module === 'env' && i.name === 'memory' && i.kind === 'memory');
}

/**
 * Node, Deno and Bun: the file beside this script, else beside the app's main script or in the
 * installed package (an app bundled for Node carries the code but not the files;
 * src/platform/locate.ts), with the places looked at.
 */
async function localFile(file: ShippedFile): Promise<{ url?: URL; looked: string[] }> {
  const candidates: URL[] = [];
  for (const url of [shippedUrl(file), ...await otherLocations(file)]) {
    if (url !== undefined && url.protocol === 'file:' && !candidates.some((u) => u.href === url.href)) candidates.push(url);
  }
  for (const url of candidates) if (await fileExists(url)) return { url, looked: [] };
  return { looked: candidates.map((u) => u.href) };
}

/** What to do when a shipped file cannot be found or fetched: the consumer's options. */
function locateHint(file: ShippedFile, url: URL | undefined): string {
  const viteDeps = url !== undefined && /\/\.vite\/deps(_[^/]*)?\//.test(url.pathname);
  if (viteDeps) {
    return `. Vite's dev server pre-bundled wasmgrad into node_modules/.vite/deps, where ${file} is not: add ` +
      "optimizeDeps: { exclude: ['wasmgrad'] } to vite.config.js, or pass the module or its URL to init(source)";
  }
  if (canReadFiles && isServerRuntime()) {
    return `. An app bundled for Node (esbuild, bun build, webpack) needs ${file} beside the bundle or ` +
      `wasmgrad installed in node_modules: copy node_modules/wasmgrad/dist/${file} next to the bundled script, ` +
      'or pass the module, its bytes or its path to init(source)';
  }
  return `. ${file} must be served beside the script that loads wasmgrad (it ships as node_modules/wasmgrad/dist/${file}): ` +
    'webpack 5, Vite and Parcel emit it by themselves; with esbuild or Rollup copy it next to the bundle (see ' +
    "the README's Bundlers section); or pass the module or its URL to init(source)";
}

/** The worker script given, else the one shipped beside this bundle. */
async function workerScript(given: string | URL | undefined): Promise<URL> {
  if (given !== undefined) return toUrl(given);
  const file = 'wasmgrad.worker.js';
  const url = shippedUrl(file);
  if (canReadFiles && (url === undefined || url.protocol === 'file:')) {
    const found = await localFile(file);
    if (found.url !== undefined) return found.url;
    throw new Error(`${file} not found (looked at ${found.looked.join(', ') || 'nothing: no import.meta.url here'})` +
      `${locateHint(file, url)}; or say where it is: init({ threads, worker: url })`);
  }
  if (url === undefined) {
    throw new Error(`cannot locate ${file} (no import.meta.url here); serve it and say where: init({ threads, worker: url })`);
  }
  return url;
}

// (module (func (result v128) (v128.const i32x4 0 0 0 0))): validates only where SIMD is on.
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0,
  10, 22, 1, 20, 0, 253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11]);

/** Throws when the engine lacks fixed-width SIMD, which every kernel of wasmgrad uses. */
function requireSimd(): void {
  if (typeof WebAssembly !== 'object') {
    throw new InitError('init: this JavaScript engine has no WebAssembly; wasmgrad needs WebAssembly with SIMD');
  }
  if (!WebAssembly.validate(SIMD_PROBE)) {
    throw new InitError('init: this engine does not support WebAssembly SIMD (fixed-width 128-bit), which ' +
      'wasmgrad needs (Chrome/Edge >= 91, Firefox >= 89, Safari >= 16.4, Node >= 16.4, Deno, Bun, workerd); ' +
      'enable it or use a newer engine');
  }
}

async function compile(source: WasmSource | undefined, file: ShippedFile): Promise<WebAssembly.Module> {
  requireSimd();
  if (source instanceof WebAssembly.Module) return source;
  if (source === undefined) return compileDefault(file);
  if (typeof source === 'string' || source instanceof URL) return compileUrl(toUrl(source), String(source));
  if (typeof Response !== 'undefined' && (source instanceof Response || source instanceof Promise)) {
    return compileResponse(source as Response | Promise<Response>, 'the Response');
  }
  if (ArrayBuffer.isView(source) || source instanceof ArrayBuffer) {
    return compileBytes(source as BufferSource, 'the bytes passed to init');
  }
  throw new InitError('init: source must be a WebAssembly.Module, an ArrayBuffer or typed array, a URL (or URL ' +
    `string) or a Response, got ${source === null ? 'null' : typeof source}`);
}

/** A URL string, or (in Node, Deno, Bun) a file path, or a path relative to the page. */
function toUrl(source: string | URL): URL {
  if (source instanceof URL) return source;
  try {
    return new URL(source);
  } catch { /* not absolute */ }
  const base = (globalThis as any).location?.href as string | undefined;
  if (base !== undefined) return new URL(source, base);
  if (canReadFiles && isServerRuntime()) return new URL(source, `file://${cwd()}/`);
  throw new InitError(`init: '${source}' is not an absolute URL and there is no page location to resolve it against`);
}

const isServerRuntime = (): boolean => typeof (globalThis as any).process?.versions?.node === 'string' ||
  typeof (globalThis as any).Deno === 'object' || typeof (globalThis as any).Bun === 'object';
const isWorkerd = (): boolean => (globalThis as any).navigator?.userAgent === 'Cloudflare-Workers';
const cwd = (): string => ((globalThis as any).process?.cwd?.() ?? (globalThis as any).Deno?.cwd?.() ?? '.').replace(/\\/g, '/');

async function compileUrl(url: URL, what: string): Promise<WebAssembly.Module> {
  if (url.protocol === 'file:') {
    let bytes: Uint8Array<ArrayBuffer>;
    try {
      bytes = await readFile(url);
    } catch (e) {
      throw new InitError(`init: reading the wasm module from ${url.href} failed: ${(e as Error).message}`);
    }
    return compileBytes(bytes, url.href);
  }
  let response: Response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new InitError(`init: fetching the wasm module from ${url.href} failed: ${(e as Error).message}` +
      (what !== url.href ? ` (source '${what}')` : ''));
  }
  return compileResponse(response, url.href);
}

async function compileResponse(r: Response | Promise<Response>, what: string): Promise<WebAssembly.Module> {
  let res: Response;
  try {
    res = await r;
  } catch (e) {
    throw new InitError(`init: fetching the wasm module failed: ${(e as Error).message}`);
  }
  const where = res.url || what;
  if (!res.ok) throw new InitError(`init: fetching the wasm module failed: HTTP ${res.status} ${res.statusText} (${where})`);
  if (typeof WebAssembly.compileStreaming === 'function' &&
      res.headers.get('content-type')?.split(';')[0].trim() === 'application/wasm') {
    // Streaming compile keeps the bytes out of JS; on failure the bytes are gone, so say what we know.
    try {
      return await WebAssembly.compileStreaming(res);
    } catch (e) {
      throw new InitError(`init: ${where} is not a valid WebAssembly module (${(e as Error).message}); ` +
        'check that it serves wasmgrad.wasm from the same release as this script');
    }
  }
  return compileBytes(await res.arrayBuffer(), where);
}

async function compileBytes(source: BufferSource, what: string): Promise<WebAssembly.Module> {
  const bytes = ArrayBuffer.isView(source) ? new Uint8Array(source.buffer, source.byteOffset, source.byteLength) :
    new Uint8Array(source);
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    throw new InitError(`init: not a WebAssembly module (${what}): ${bytes.length} bytes starting with ` +
      `${describeStart(bytes)}, not the wasm magic '\\0asm' (an HTML error page or the wrong file?)`);
  }
  try {
    return await WebAssembly.compile(bytes);
  } catch (e) {
    throw new InitError(`init: ${what} is not a valid WebAssembly module (${(e as Error).message}); ` +
      'check that it is wasmgrad.wasm from the same release as this script');
  }
}

/** The first bytes as text when printable, else as hex. */
function describeStart(bytes: Uint8Array): string {
  const head = Array.from(bytes.subarray(0, 16));
  if (head.length === 0) return 'nothing (empty)';
  if (head.every((b) => b >= 0x20 && b < 0x7f || b === 9 || b === 10 || b === 13)) {
    return JSON.stringify(String.fromCharCode(...head));
  }
  return head.map((b) => b.toString(16).padStart(2, '0')).join(' ');
}

// A few exports and the one import that every wasmgrad.wasm has; a module without them is another file.
const REQUIRED_EXPORTS = ['memory', 'argsAddress', 'stateAddress', 'newTensor', 'backward', 'binary', 'matmul'];

function checkExports(module: WebAssembly.Module): void {
  const exports = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
  const missing = REQUIRED_EXPORTS.filter((n) => !exports.has(n));
  const imports = WebAssembly.Module.imports(module)
    .filter((i) => !(i.module === 'host' && i.name === 'customRule') && !(i.module === 'env' && i.name === 'memory'));
  if (missing.length > 0 || imports.length > 0) {
    throw new InitError('init: this WebAssembly module is not wasmgrad\'s' +
      (missing.length > 0 ? ` (missing exports: ${missing.join(', ')})` : '') +
      (imports.length > 0 ? ` (unexpected imports: ${imports.map((i) => `${i.module}.${i.name}`).join(', ')})` : '') +
      '; pass the wasmgrad.wasm shipped beside this script');
  }
}

/** Without a source: the .wasm shipped beside this script (src/platform/shipped.bundle.ts). */
async function compileDefault(file: ShippedFile): Promise<WebAssembly.Module> {
  if (isWorkerd()) {
    throw new InitError("init: workerd / Cloudflare Workers cannot compile wasm from bytes; import the module " +
      "and pass it: import wasm from 'wasmgrad/wasmgrad.wasm'; await init(wasm)");
  }
  const url = shippedUrl(file);
  if (canReadFiles && (url === undefined || url.protocol === 'file:')) {
    const found = await localFile(file);
    if (found.url !== undefined) return compileUrl(found.url, found.url.href);
    throw new InitError(`init: ${file} not found (looked at ${found.looked.join(', ') || 'nothing: no import.meta.url here'})` +
      locateHint(file, url));
  }
  if (url === undefined) {
    throw new InitError(`init: cannot locate ${file}: there is no import.meta.url here (was wasmgrad bundled into a ` +
      `script that is not an ES module?); serve ${file} and pass its URL, its bytes or the compiled module to init(source)`);
  }
  try {
    return await compileUrl(url, url.href);
  } catch (e) {
    // Missing (404), or an HTML page served in its place (a dev server's fallback), or unreachable.
    const m = (e as Error).message;
    if (e instanceof InitError && /fetching|not a WebAssembly module \(/.test(m)) throw new InitError(m + locateHint(file, url));
    throw e;
  }
}

// Error codes of assembly/core/tensor.ts

/** Throws the error the module recorded (and clears it); `op` names the caller. */
export function raise(op: string): never {
  views(); // the failing call may have grown memory, detaching the old views
  const code = wasm.errorCode();
  const ruleOp = I32[(STATE + 12) >>> 2];
  const requested = F64[(STATE + 16) >>> 3];
  wasm.clearError();
  if (code === E_OOM) {
    const available = wasm.availableBytes();
    // Many tensors outside every scope: most likely temporaries left to the garbage collector.
    const outside = wasm.liveOutsideScopes();
    const hint = outside >= 1000
      ? `; ${outside} tensors are alive outside any scope (made at top level or kept): temporaries left to the ` +
        'garbage collector are freed only when the event loop turns, so run loops in tidy(() => …) or dispose() what they make'
      : '';
    throw new OutOfMemoryError(
      `${op}: out of memory: requested ${requested} bytes, ${available} bytes available in wasm memory ` +
      `(limit ${wasm.getPageLimit() * 65536} bytes)${hint}`, requested, available);
  }
  if (code === E_NO_RULE) throw new NotDifferentiableError(`${op}: op '${Op[ruleOp]}' has no derivative rule`);
  if (code === E_HOST && pendingHostError !== undefined) {
    const e = pendingHostError;
    pendingHostError = undefined;
    throw e;
  }
  if (code === E_SCOPE) throw new WasmgradError(`${op}: scopes nested deeper than 1024`);
  if (code === E_UNKNOWN_OP) {
    throw new WasmgradError(`${op}: op code ${ruleOp} has no entry in the op spec (src/spec/ops.ts); the module and this script come from different releases`);
  }
  if (code === E_BOUNDS) {
    throw new ValueError(`${op}: a shape with a negative size, or an index range outside its tensor, reached wasm ` +
      `(${ruleOp ? `in '${Op[ruleOp]}'` : 'making a tensor'}) and was refused; nothing was computed`);
  }
  throw new WasmgradError(`${op}: wasm call failed (code ${code})`);
}

/** Returns a new tensor id, or throws the recorded error when the call failed. */
export function checked(id: number, op: string): number {
  // The error code lives at STATE + 8: reading it from memory saves a call per op.
  views();
  if (id === 0 || I32[(STATE + 8) >>> 2] !== 0) raise(op);
  return id;
}

/** Writes i32s into the argument buffer at word offset `at`; returns their address. */
export function argsI32(values: ArrayLike<number>, at = 0): number {
  views();
  const base = (ARGS >>> 2) + at;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    // The ops validate their sizes and indices; a value that would wrap in int32 is refused here, never sent.
    if ((v | 0) !== v) throw new ValueError(`a size or index ${v} is not a 32-bit integer and cannot be passed to wasm`);
    I32[base + i] = v;
  }
  return ARGS + at * 4;
}
