// The safetensors format: an 8-byte little-endian header length N, N bytes of JSON
// ({ name: { dtype, shape, data_offsets: [begin, end] }, __metadata__: { string: string } }),
// then the tensors' bytes, little-endian, row-major. Bytes work in every runtime; file paths in
// Node, Deno and Bun. Loading checks the whole file — and, into a module, every name, dtype and
// shape — before it assigns anything, so a bad file changes nothing.

import { Tensor, tensor, type DTypeName } from '../tensor.js';
import { requireInit } from '../runtime.js';
import { tidy } from '../scope.js';
import { WasmgradError, ValueError, IOError } from '../errors.js';
import { Module, type StateDict } from '../nn/module.js';
import { readFile, writeFile } from '../platform/read-file.js';
import { options, opt, checkArity, describeValue, type OptionsOf } from '../options.js';
import type { WebURL } from '../web-types.js';
import { isOptimizer, optimizerToFile, optimizerFromFile, OPTIMIZER_KEYS, type AnyOptimizer } from './optimizer.js';

/** A malformed or truncated file, or one that does not fit the network it is loaded into. */
export class SafetensorsError extends WasmgradError {}

const DTYPES: Record<string, { bytes: number; to: DTypeName }> = {
  F32: { bytes: 4, to: 'float32' },
  F64: { bytes: 8, to: 'float64' },
  I32: { bytes: 4, to: 'int32' },
  I64: { bytes: 8, to: 'int32' }, // PyTorch's int64 buffers (num_batches_tracked), when they fit
  BOOL: { bytes: 1, to: 'bool' },
};
const WRITE: Record<DTypeName, string> = { float32: 'F32', float64: 'F64', int32: 'I32', bool: 'BOOL' };
const MAX_HEADER = 100_000_000; // the reference implementation's limit

const SAVE_OPTIONS = options('io.save', {
  /** strings stored in the header's __metadata__ */
  metadata: opt.any<Record<string, string>>(),
});
/** Options of io.save / io.serialize: metadata, strings stored in the header's __metadata__. */
export type SaveOptions = OptionsOf<typeof SAVE_OPTIONS>;

/** What io.load(bytes) gives: the tensors by name and the header's metadata. */
export interface Loaded {
  /** the tensors by name */
  tensors: StateDict;
  /** the header's __metadata__ strings ({} when there are none) */
  metadata: Record<string, string>;
}

type Source = Uint8Array | ArrayBuffer | ArrayBufferView;

function bytesOf(source: Source): Uint8Array {
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (ArrayBuffer.isView(source)) return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  throw new ValueError(`io.load: expected safetensors bytes (Uint8Array or ArrayBuffer) or a file path (string or URL), got ${describeValue(source)}`);
}

/** PyTorch keeps BatchNorm's counter as int64: an int32 tensor under this name is written as I64. */
const isCounter = (name: string): boolean => name === 'num_batches_tracked' || name.endsWith('.num_batches_tracked');

/**
 * The state dict (a Module's, tensors by name, or an optimizer's state: see io/optimizer.ts) as
 * safetensors bytes; names sorted, as the reference writer does. BatchNorm's num_batches_tracked
 * is written as I64, as PyTorch's.
 */
export function serialize(target: Module | StateDict | AnyOptimizer, opts: SaveOptions = {}): Uint8Array {
  if (arguments.length > 2) checkArity('io.serialize', arguments, 2, 'target, options?');
  requireInit('io.save');
  const options = SAVE_OPTIONS.parse(opts);
  let metadata = options.metadata;
  if (metadata !== undefined) {
    if (metadata === null || typeof metadata !== 'object' || Object.values(metadata).some((v) => typeof v !== 'string')) {
      throw new ValueError(`io.save: metadata must be an object of strings, got ${metadata === null || typeof metadata !== 'object' ? describeValue(metadata) : `an object with ${describeValue(Object.values(metadata).find((v) => typeof v !== 'string'))}`}`);
    }
  }
  let dict: StateDict;
  if (isOptimizer(target)) {
    const file = optimizerToFile(target);
    const taken = Object.keys(metadata ?? {}).filter((k) => (OPTIMIZER_KEYS as readonly string[]).includes(k));
    if (taken.length) throw new ValueError(`io.save: metadata key(s) ${taken.map((k) => `'${k}'`).join(', ')} are the optimizer state's own (${OPTIMIZER_KEYS.join(', ')}); choose other names`);
    dict = file.tensors;
    metadata = { ...metadata, ...file.metadata };
  } else {
    dict = target instanceof Module ? target.stateDict() : target;
  }
  if (dict === null || typeof dict !== 'object') throw new ValueError(`io.save: expected a Module, an optimizer or an object of tensors by name, got ${describeValue(dict)}`);
  const names = Object.keys(dict).sort();
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) header.__metadata__ = metadata;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const name of names) {
    if (name === '__metadata__') throw new ValueError("io.save: '__metadata__' cannot name a tensor");
    const t = dict[name];
    if (!(t instanceof Tensor)) throw new ValueError(`io.save: '${name}' is not a Tensor (got ${describeValue(t)})`);
    t.use(`io.save ('${name}')`);
    let data: ArrayBufferView = t.data();
    let dtype = WRITE[t.dtype];
    if (t.dtype === 'int32' && isCounter(name)) {
      data = BigInt64Array.from(data as Int32Array, (v) => BigInt(v));
      dtype = 'I64';
    }
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces so the data starts 8-byte aligned (as the reference writer does).
  const encoder = new TextEncoder();
  let head = encoder.encode(json);
  const pad = (8 - ((8 + head.length) % 8)) % 8;
  if (pad) { json += ' '.repeat(pad); head = encoder.encode(json); }
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const c of chunks) { out.set(c, at); at += c.length; }
  return out;
}

interface Entry { name: string; dtype: string; shape: number[]; begin: number; end: number }

/** Parses and checks a safetensors file completely; throws SafetensorsError naming the problem. */
function parse(buf: Uint8Array): { entries: Entry[]; metadata: Record<string, string>; dataStart: number } {
  if (buf.length < 8) throw new SafetensorsError(`io.load: the file is truncated: ${buf.length} bytes, fewer than the 8-byte header length`);
  const n = new DataView(buf.buffer, buf.byteOffset, buf.byteLength).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER)) throw new SafetensorsError(`io.load: header length ${n} is larger than the limit (${MAX_HEADER} bytes)`);
  const headerLength = Number(n);
  if (8 + headerLength > buf.length) throw new SafetensorsError(`io.load: the file is truncated: the header claims ${headerLength} bytes but only ${buf.length - 8} follow the length`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(8, 8 + headerLength)));
  } catch (e) {
    throw new SafetensorsError(`io.load: the header is not valid JSON: ${(e as Error).message}`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw new SafetensorsError('io.load: the header must be a JSON object');
  const dataStart = 8 + headerLength;
  const dataLength = buf.length - dataStart;
  let metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, v] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (v === null || typeof v !== 'object' || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string')) {
        throw new SafetensorsError('io.load: __metadata__ must be an object of strings');
      }
      metadata = v as Record<string, string>;
      continue;
    }
    const info = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (info === null || typeof info !== 'object') throw new SafetensorsError(`io.load: the entry for '${name}' must be an object with dtype, shape and data_offsets`);
    const { dtype, shape, data_offsets: offsets } = info;
    if (typeof dtype !== 'string') throw new SafetensorsError(`io.load: '${name}' has no dtype`);
    if (!(dtype in DTYPES)) throw new SafetensorsError(`io.load: '${name}' has dtype ${dtype}; wasmgrad reads F32, F64, I32, I64 and BOOL`);
    if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) throw new SafetensorsError(`io.load: '${name}' has an invalid shape ${JSON.stringify(shape)}`);
    if (shape.length > 8) throw new SafetensorsError(`io.load: '${name}' has rank ${shape.length}; at most 8 dims are supported`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || offsets.some((o) => !Number.isInteger(o) || o < 0) || offsets[0] > offsets[1]) {
      throw new SafetensorsError(`io.load: '${name}' has invalid data_offsets ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    const numel = (shape as number[]).reduce((a, b) => a * b, 1);
    if (end - begin !== numel * DTYPES[dtype].bytes) {
      throw new SafetensorsError(`io.load: '${name}' (${dtype} [${(shape as number[]).join(', ')}]) needs ${numel * DTYPES[dtype].bytes} bytes but data_offsets [${begin}, ${end}] span ${end - begin}`);
    }
    if (end > dataLength) throw new SafetensorsError(`io.load: the file is truncated: '${name}' ends at byte ${end} of the data, which has ${dataLength} bytes`);
    entries.push({ name, dtype, shape: shape as number[], begin, end });
  }
  // The data must be covered exactly, without holes or overlaps (the format's own rule).
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  for (const e of sorted) {
    if (e.begin !== covered) throw new SafetensorsError(`io.load: data_offsets of '${e.name}' start at ${e.begin}, expected ${covered} (tensors must tile the data without holes or overlaps)`);
    covered = e.end;
  }
  if (covered !== dataLength) throw new SafetensorsError(`io.load: the data has ${dataLength} bytes but the tensors cover ${covered}`);
  return { entries, metadata, dataStart };
}

function values(buf: Uint8Array, at: number, e: Entry): Float32Array | Float64Array | Int32Array | Uint8Array {
  const n = (e.end - e.begin) / DTYPES[e.dtype].bytes;
  const bytes = buf.slice(at + e.begin, at + e.end); // a copy: aligned, and little-endian as all wasm hosts are
  switch (e.dtype) {
    case 'F32': return new Float32Array(bytes.buffer, 0, n);
    case 'F64': return new Float64Array(bytes.buffer, 0, n);
    case 'I32': return new Int32Array(bytes.buffer, 0, n);
    case 'I64': {
      const big = new BigInt64Array(bytes.buffer, 0, n);
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        if (big[i] > 2147483647n || big[i] < -2147483648n) throw new SafetensorsError(`io.load: '${e.name}' (I64) holds ${big[i]} at element ${i}, which does not fit wasmgrad's int32 [-2147483648, 2147483647]; nothing was loaded`);
        out[i] = Number(big[i]);
      }
      return out;
    }
    default: {
      for (const b of bytes) if (b > 1) throw new SafetensorsError(`io.load: '${e.name}' is BOOL but holds the byte ${b}`);
      return bytes;
    }
  }
}

/** Reads safetensors bytes into new tensors by name (and the metadata). */
export function deserialize(source: Source): Loaded {
  if (arguments.length > 1) checkArity('io.deserialize', arguments, 1, 'source');
  requireInit('io.load');
  const buf = bytesOf(source);
  const { entries, metadata, dataStart } = parse(buf);
  const arrays = entries.map((e) => values(buf, dataStart, e)); // all checked before any tensor exists
  const tensors = tidy(() => Object.fromEntries(entries.map((e, i) => [e.name, tensor(arrays[i], { shape: e.shape, dtype: DTYPES[e.dtype].to })])));
  return { tensors, metadata };
}

/**
 * Loads safetensors bytes into a module: every name must match (no missing, no unknown), every
 * dtype and shape fit, and the file be well formed — all checked before anything is assigned.
 */
export function loadInto(module: Module, source: Source): Module {
  if (arguments.length > 2) checkArity('io.loadInto', arguments, 2, 'module, source');
  requireInit('io.load');
  const buf = bytesOf(source);
  const { entries, dataStart } = parse(buf);
  // A tied tensor may come under any of its names (stateDict() and save_model keep one of them).
  const { targets, missingKeys: missing, unexpectedKeys: unknown } = module._matchState(entries.map((e) => e.name));
  if (missing.length || unknown.length) {
    const parts: string[] = [];
    if (missing.length) parts.push(`missing ${missing.map((k) => `'${k}'`).join(', ')}`);
    if (unknown.length) parts.push(`unknown ${unknown.map((k) => `'${k}'`).join(', ')}`);
    throw new SafetensorsError(`io.load: the file does not match the network (${parts.join('; ')}); nothing was loaded`);
  }
  for (const e of entries) {
    const t = targets.get(e.name)!;
    const to = DTYPES[e.dtype].to;
    if (to !== t.dtype) throw new SafetensorsError(`io.load: '${e.name}' is ${e.dtype} in the file but ${t.dtype} in the network; nothing was loaded`);
    if (e.shape.length !== t.rank || e.shape.some((d, k) => d !== t.dims[k])) {
      throw new SafetensorsError(`io.load: '${e.name}' has shape [${e.shape.join(', ')}] in the file but [${t.dims.join(', ')}] in the network; nothing was loaded`);
    }
  }
  const arrays = entries.map((e) => values(buf, dataStart, e));
  tidy(() => {
    const dict = Object.fromEntries(entries.map((e, i) => [e.name, tensor(arrays[i], { shape: e.shape, dtype: DTYPES[e.dtype].to })]));
    module.loadStateDict(dict);
  });
  return module;
}

const isPath = (x: unknown): x is string | URL => typeof x === 'string' || x instanceof URL;

/**
 * The platform's error reading or writing `path` (Node's ENOENT, EACCES, EISDIR, …, or the
 * browser build's "no file access") as an IOError naming the function, the path and what failed.
 */
function ioError(op: string, verb: 'read' | 'write', path: string | URL, cause: unknown): IOError {
  const where = path instanceof URL ? path.href : path;
  const e = cause as { code?: unknown; message?: unknown } | null;
  const text = typeof e?.message === 'string' ? e.message : String(cause);
  // Node's message is 'ENOENT: no such file or directory, open '/x'': keep the code and reason.
  const reason = typeof e?.code === 'string' ? text.replace(/, \w+ '.*'$/s, '') : text;
  return new IOError(`${op}: cannot ${verb} the file '${where}': ${reason}`, where, cause);
}

/**
 * io.save(net | tensors | optimizer) → safetensors bytes; io.save(target, path) writes the file
 * (Node, Deno, Bun). An optimizer's file holds its state tensors ('state.0.exp_avg', …) and, in
 * the metadata, its step counts and hyperparameters: io.load(bytes, optimizer) restores it.
 * The format is Hugging Face's safetensors (PyTorch: safetensors.torch.save_model / save_file).
 *
 * @example
 * ```ts
 * const bytes = io.save(net);                  // Uint8Array, in a browser too
 * await io.save(net, 'model.safetensors');     // a file (Node, Deno, Bun)
 * ```
 */
export function save(target: Module | StateDict | AnyOptimizer, options?: SaveOptions): Uint8Array;
export function save(target: Module | StateDict | AnyOptimizer, path: string | WebURL, options?: SaveOptions): Promise<void>;
export function save(target: Module | StateDict | AnyOptimizer, pathOrOptions?: string | URL | SaveOptions, options: SaveOptions = {}): Uint8Array | Promise<void> {
  if (arguments.length > 3) checkArity('io.save', arguments, 3, 'target, path?, options?');
  if (isPath(pathOrOptions)) {
    const bytes = serialize(target, options);
    const path = pathOrOptions;
    let written: Promise<void>;
    try {
      written = writeFile(path, bytes);
    } catch (e) {
      return Promise.reject(ioError('io.save', 'write', path, e));
    }
    return written.catch((e: unknown) => { throw ioError('io.save', 'write', path, e); });
  }
  if (arguments.length > 2) checkArity('io.save', arguments, 2, 'target, options?');
  return serialize(target, pathOrOptions ?? {});
}

/** Loads an optimizer file (io.save(optimizer)) into the optimizer: all or nothing; returns it. */
export function loadOptimizer<O extends AnyOptimizer>(opt: O, source: Source): O {
  if (arguments.length > 2) checkArity('io.loadOptimizer', arguments, 2, 'optimizer, source');
  requireInit('io.load');
  if (!isOptimizer(opt)) throw new ValueError(`io.load: expected an optimizer, got ${describeValue(opt)}`);
  const { tensors, metadata } = deserialize(source);
  try {
    optimizerFromFile('io.load', opt, tensors, metadata);
  } finally {
    for (const t of Object.values(tensors)) t.dispose();
  }
  return opt;
}

/**
 * io.load(bytes) → { tensors, metadata }; io.load(bytes, net) loads into the network (all or
 * nothing) and returns it; io.load(bytes, optimizer) restores an optimizer's state saved by
 * io.save(optimizer). With a path instead of bytes, the same as a Promise (Node, Deno, Bun).
 * Reads safetensors files, PyTorch's included (PyTorch: safetensors.torch.load_model / load_file).
 *
 * @example
 * ```ts
 * io.load(bytes, net);                                   // weights into net, all or nothing
 * const { tensors, metadata } = await io.load('model.safetensors');
 * ```
 */
export function load(source: Source): Loaded;
export function load<M extends Module | AnyOptimizer>(source: Source, into: M): M;
export function load(source: string | WebURL): Promise<Loaded>;
export function load<M extends Module | AnyOptimizer>(source: string | WebURL, into: M): Promise<M>;
export function load(source: Source | string | URL, into?: Module | AnyOptimizer): Loaded | Module | AnyOptimizer | Promise<Loaded | Module | AnyOptimizer> {
  if (arguments.length > 2) checkArity('io.load', arguments, 2, 'source, into?');
  if (into !== undefined && !(into instanceof Module) && !isOptimizer(into)) throw new ValueError(`io.load: the second argument must be a Module, got ${describeValue(into)} (or an optimizer, to restore what io.save(optimizer) wrote)`);
  const loadTo = (bytes: Source): Loaded | Module | AnyOptimizer => (into === undefined ? deserialize(bytes) : into instanceof Module ? loadInto(into, bytes) : loadOptimizer(into, bytes));
  if (isPath(source)) {
    const path = source;
    let read: Promise<Uint8Array>;
    try {
      read = readFile(path as URL);
    } catch (e) {
      return Promise.reject(ioError('io.load', 'read', path, e));
    }
    // Only the read becomes an IOError; a malformed file is still a SafetensorsError.
    return read.then((bytes) => loadTo(bytes), (e: unknown) => { throw ioError('io.load', 'read', path, e); });
  }
  return loadTo(source);
}
