// Minibatches over tensors (rows of dim 0) or JS arrays, with a seeded shuffle that is the same
// on every engine (an integer PRNG, never the host's Math.random) and a drop-last option.
// Prefetch-free: a batch is cut when it is asked for.

import { Tensor, tensor, empty, dataPointer } from '../tensor.js';
import { indexSelect } from '../ops/shape.js';
import { ValueError, ShapeError, formatShape } from '../errors.js';
import { requireInit, views, I32 } from '../runtime.js';
import { rand } from '../random.js';
import { options, opt, checkArity, type OptionsOf } from '../options.js';
import { checkSize, show } from '../sizes.js';

const MINIBATCH_OPTIONS = options('minibatches', {
  /** rows per batch (default 64) */
  batchSize: opt.any<number>(),
  /** a new seeded order every epoch (default true) */
  shuffle: opt.boolean,
  /** the shuffle's seed (default 0) */
  seed: opt.any<number>(),
  /** drop the last batch when it is smaller than batchSize (default false) */
  dropLast: opt.boolean,
  /** free the previous batch's tensors when the next one is cut (default true) */
  disposePrevious: opt.boolean,
});
/** Options of minibatches: batchSize (64), shuffle (true), seed (0), dropLast (false), disposePrevious (true). */
export type MinibatchOptions = OptionsOf<typeof MINIBATCH_OPTIONS>;

const RANDPERM_OPTIONS = options('randperm', {
  /** a generator of its own with this seed (default: seeded from the global generator) */
  seed: opt.any<number>(),
});
export type RandpermOptions = OptionsOf<typeof RANDPERM_OPTIONS>;

type Column = Tensor | readonly unknown[];
type Batch<T> = T extends Tensor ? Tensor : T extends readonly (infer E)[] ? E[] : never;

/** A seeded 32-bit generator (mulberry32): integer arithmetic only, so identical everywhere. */
export function seededRandom(seed: number): () => number {
  let a = (seed | 0) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seeded Fisher–Yates permutation of 0…n−1. */
export function permutation(n: number, random: () => number): Int32Array {
  return shuffleInto(new Int32Array(n), random);
}

/** Fills p with a seeded Fisher–Yates permutation of 0…p.length−1 (in place, so it can be wasm memory). */
function shuffleInto(p: Int32Array, random: () => number): Int32Array {
  const n = p.length;
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = p[i]; p[i] = p[j]; p[j] = t;
  }
  return p;
}

/**
 * torch.randperm: 0…n−1 in a random order, as an int32 tensor. With `seed`, from a generator of
 * its own (the global stream untouched); otherwise seeded from the global generator (wg.seed).
 */
export function randperm(n: number, opts: RandpermOptions = {}): Tensor {
  if (arguments.length > 2) checkArity('randperm', arguments, 2, 'n, options?');
  requireInit('randperm');
  const options = RANDPERM_OPTIONS.parse(opts);
  checkSize('randperm', 'n', n);
  let seed = options.seed;
  if (seed !== undefined && !Number.isSafeInteger(seed)) {
    throw new ValueError(`randperm: seed must be an integer, got ${show(seed)}`);
  }
  // The tensor first (a size it cannot hold is an OutOfMemoryError before any work and before the
  // global stream moves), then the shuffle in place in wasm memory: no JS copy of n values.
  const t = empty([n], 'int32', 'randperm');
  if (seed === undefined) {
    let u: Tensor | undefined;
    try {
      u = rand([1], { dtype: 'float64' });
      seed = Math.floor((u.data()[0] as number) * 4294967296);
    } catch (e) {
      t.dispose();
      throw e;
    } finally {
      u?.dispose();
    }
  }
  views();
  const p = dataPointer(t) >>> 2;
  shuffleInto(I32.subarray(p, p + n), seededRandom(seed));
  return t;
}

/**
 * Minibatches of one or more aligned columns (tensors split on dim 0, or arrays): iterate it once
 * per epoch; each epoch draws the next seeded order. Each batch is an array with one entry per column.
 */
export class Minibatches<C extends readonly Column[]> implements Iterable<{ [K in keyof C]: Batch<C[K]> }> {
  /** rows in every column */
  readonly length: number;
  /** rows per batch */
  readonly batchSize: number;
  /** batches per epoch */
  readonly numBatches: number;
  private readonly random: () => number;
  private readonly options: Required<MinibatchOptions>;
  /** epochs started so far (iterations over this object) */
  epoch = 0;

  /**
   * @param columns - the aligned columns: tensors (cut along dim 0) or arrays, all of one length
   * @param opts - batchSize, shuffle, seed, dropLast, disposePrevious
   */
  constructor(readonly columns: C, opts: MinibatchOptions = {}) {
    if (arguments.length > 2) checkArity('minibatches', arguments, 2, 'columns, options?');
    requireInit('minibatches');
    const options = MINIBATCH_OPTIONS.parse(opts);
    if (!Array.isArray(columns) || columns.length === 0) throw new ValueError('minibatches: give one or more columns (tensors or arrays) of equal length');
    const lengths = columns.map((c, i) => {
      if (c instanceof Tensor) {
        c.use(`minibatches (column ${i})`);
        if (c.rank === 0) throw new ShapeError(`minibatches: column ${i} is a rank-0 tensor; batches are cut along dim 0`);
        return c.dims[0];
      }
      if (Array.isArray(c)) return c.length;
      throw new ValueError(`minibatches: column ${i} must be a Tensor or an array, got ${c === null ? 'null' : typeof c}`);
    });
    if (lengths.some((n) => n !== lengths[0])) {
      throw new ShapeError(`minibatches: columns have different lengths ${formatShape(lengths)}; they must align row for row`);
    }
    this.length = lengths[0];
    this.options = {
      batchSize: options.batchSize ?? 64, shuffle: options.shuffle ?? true, seed: options.seed ?? 0,
      dropLast: options.dropLast ?? false, disposePrevious: options.disposePrevious ?? true,
    };
    const b = this.options.batchSize;
    if (!Number.isInteger(b) || b < 1) throw new ValueError(`minibatches: batchSize must be an integer >= 1, got ${String(options.batchSize)}`);
    if (!Number.isSafeInteger(this.options.seed)) throw new ValueError(`minibatches: seed must be an integer, got ${String(options.seed)}`);
    this.batchSize = b;
    this.numBatches = this.options.dropLast ? Math.floor(this.length / b) : Math.ceil(this.length / b);
    this.random = seededRandom(this.options.seed);
  }

  /** The row order of the next epoch. */
  private order(): Int32Array {
    if (this.options.shuffle) return permutation(this.length, this.random);
    return Int32Array.from({ length: this.length }, (_, i) => i);
  }

  /** One epoch: the batches in the next seeded order, each an array with one entry per column. */
  *[Symbol.iterator](): Iterator<{ [K in keyof C]: Batch<C[K]> }> {
    const order = this.order();
    this.epoch++;
    let previous: Tensor[] = [];
    try {
      for (let k = 0; k < this.numBatches; k++) {
        const rows = order.subarray(k * this.batchSize, Math.min((k + 1) * this.batchSize, this.length));
        if (this.options.disposePrevious) for (const t of previous) t.dispose();
        const batch = this.columns.map((c) => {
          if (c instanceof Tensor) {
            const index = tensor(rows, { dtype: 'int32' });
            try { return indexSelect(c, 0, index); } finally { index.dispose(); }
          }
          return Array.from(rows, (i) => (c as readonly unknown[])[i]);
        });
        previous = batch.filter((b): b is Tensor => b instanceof Tensor);
        yield batch as any;
      }
    } finally {
      if (this.options.disposePrevious) for (const t of previous) t.dispose();
    }
  }
}

/** minibatches([x, y], { batchSize, shuffle, seed, dropLast }): see Minibatches. */
export function minibatches<C extends readonly Column[]>(columns: C, options: MinibatchOptions = {}): Minibatches<C> {
  if (arguments.length > 2) checkArity('minibatches', arguments, 2, 'columns, options?');
  return new Minibatches(columns, options);
}
