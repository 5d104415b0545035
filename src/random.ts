// Seeded random tensors (generator and kernels in assembly/ops/random.ts): rand, randn, uniform,
// normal, and seed / manualSeed. The generator lives in wasm, so the same seed gives the same
// bits on every engine; random tensors are constants (never on the tape).

import { Tensor, empty, type Shape, type DTypeName } from './tensor.js';
import { wasm, requireInit } from './runtime.js';
import { DTypeError, ValueError } from './errors.js';
import { options, opt, checkArity, type OptionsOf } from './options.js';
import { checkShape, show } from './sizes.js';

const KIND_UNIFORM = 0;
const KIND_NORMAL = 1;

const randSpecs = {
  /** 'float32' (default) or 'float64' */
  dtype: opt.any<DTypeName>(),
  /** draw from a generator seeded with this integer; the global stream is left untouched */
  seed: opt.any<number>(),
};
const RAND = options('rand', randSpecs);
const RANDN = options('randn', randSpecs);
const UNIFORM = options('uniform', randSpecs);
const NORMAL = options('normal', randSpecs);
/** Options of rand / randn / uniform / normal: dtype (default 'float32') and seed (a private generator; the global stream is left untouched). */
export type RandOptions = OptionsOf<typeof randSpecs>;

function checkSeed(op: string, n: unknown, what: string): number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) {
    throw new ValueError(`${op}: ${what} must be an integer between -(2^53 - 1) and 2^53 - 1, got ${show(n)}`);
  }
  return n;
}

/** Seeds the global generator (PyTorch's manual_seed). */
export function seed(n: number): void {
  requireInit('seed');
  wasm.seed(checkSeed('seed', n, 'the seed'));
}

/** PyTorch's name for seed. */
export const manualSeed = seed;

function randomTensor(op: string, shape: Shape | number, kind: number, p: number, q: number, options: RandOptions): Tensor {
  requireInit(op);
  const dtype = options.dtype ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'float64') {
    throw new DTypeError(`${op}: dtype must be 'float32' or 'float64', got ${typeof dtype === 'string' ? `'${dtype}'` : show(dtype)}`);
  }
  const useSeed = options.seed !== undefined;
  const seedValue = useSeed ? checkSeed(op, options.seed, 'options.seed') : 0;
  const t = empty(checkShape(op, shape, 'shape', { allowNumber: true }), dtype, op);
  wasm.randFill(t.id, kind, p, q, useSeed ? 1 : 0, seedValue);
  return t;
}

function checkFinite(op: string, v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ValueError(`${op}: ${what} must be a finite number, got ${show(v)}`);
  return v;
}

/** Uniform in [0, 1): float32 values take 24 random bits, float64 values 53. */
export function rand(shape: Shape | number, options?: RandOptions): Tensor {
  if (arguments.length > 2) checkArity('rand', arguments, 2, 'shape, options?');
  return randomTensor('rand', shape, KIND_UNIFORM, 0, 1, RAND.parse(options));
}

/** Standard normal (Box–Muller in wasm). */
export function randn(shape: Shape | number, options?: RandOptions): Tensor {
  if (arguments.length > 2) checkArity('randn', arguments, 2, 'shape, options?');
  return randomTensor('randn', shape, KIND_NORMAL, 0, 1, RANDN.parse(options));
}

/** Uniform in [lo, hi) (lo <= hi, as PyTorch's uniform_). */
export function uniform(shape: Shape | number, lo = 0, hi = 1, options?: RandOptions): Tensor {
  if (arguments.length > 4) checkArity('uniform', arguments, 4, 'shape, lo?, hi?, options?');
  const o = UNIFORM.parse(options);
  checkFinite('uniform', lo, 'lo');
  checkFinite('uniform', hi, 'hi');
  if (lo > hi) throw new ValueError(`uniform: expects lo <= hi to draw from [lo, hi), got lo=${lo} > hi=${hi}`);
  return randomTensor('uniform', shape, KIND_UNIFORM, lo, hi, o);
}

/** Normal with the given mean and standard deviation (std >= 0). */
export function normal(shape: Shape | number, mean = 0, std = 1, options?: RandOptions): Tensor {
  if (arguments.length > 4) checkArity('normal', arguments, 4, 'shape, mean?, std?, options?');
  const o = NORMAL.parse(options);
  checkFinite('normal', mean, 'mean');
  checkFinite('normal', std, 'std');
  if (std < 0) throw new ValueError(`normal: expects std >= 0, got std=${std}`);
  return randomTensor('normal', shape, KIND_NORMAL, mean, std, o);
}
