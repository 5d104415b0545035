// MATLAB's data helpers for custom training loops: onehotencode / onehotdecode and
// minibatchqueue (with next, hasdata, reset and shuffle), with MATLAB's semantics and option
// names (Deep Learning Toolbox pages onehotencode, onehotdecode, minibatchqueue, next, hasdata,
// reset, shuffle).
//
// Dimensions are 0-based, as everywhere in wasmgrad: MATLAB's onehotencode(labels, 2) on a
// column of labels is onehotencode(labels, 1) here. A mini-batch is laid out as MATLAB's
// 'collate' makes it: the observations along a new last dimension (a feature vector per
// observation gives [F, B], 'CB'; an image [H, W, C] gives [H, W, C, B], 'SSCB'; a scalar gives
// [1, B]), so the batches feed the MATLAB losses (src/matlab/losses.ts) in their default layout.
// With MiniBatchFormat, each output is a formatted dlarray (dlarray(X, fmt): the labels ride on
// the tensor, in MATLAB's canonical order S…S C B T U…U, as MATLAB's minibatchqueue returns them).

import { Tensor, tensor, type DTypeName, type NestedArray } from '../tensor.js';
import { ShapeError, DTypeError, ValueError, formatShape } from '../errors.js';
import { tidy, tensorsIn } from '../scope.js';
import { options, opt, describeValue, type OptionsOf } from '../options.js';
import { idOf, requireInit } from '../ops/common.js';
import { indexSelect, permute, reshape, stack, select } from '../ops/shape.js';
import { rand } from '../random.js';
import { permutation, seededRandom } from '../train/data.js';
import { splitArgs, choice, layoutOf } from './losses.js';
import { dlarray } from './dlarray.js';

/** A class label: a string, a number or a boolean (MATLAB's categorical values). */
export type Label = string | number | boolean;
/** Labels as (nested) JS arrays, or a tensor of numbers. */
export type LabelsLike = Tensor | Label | readonly (Label | null | undefined | LabelsLikeNested)[];
type LabelsLikeNested = readonly (Label | null | undefined | LabelsLikeNested)[];

// ————————————————————————————————————————————————————————— nested arrays

/** The shape and row-major values of (nested) JS arrays, which must be rectangular. */
function nested(fn: string, arg: string, v: unknown): { shape: number[]; values: unknown[] } {
  const shape: number[] = [];
  for (let x = v; Array.isArray(x); x = x[0]) shape.push(x.length);
  const values: unknown[] = [];
  const walk = (x: unknown, depth: number, path: number[]): void => {
    if (depth === shape.length) {
      if (Array.isArray(x)) throw new ShapeError(`${fn}: ${arg} is not rectangular: element [${path.join(', ')}] is an array, but its siblings are not`);
      values.push(x);
      return;
    }
    if (!Array.isArray(x) || x.length !== shape[depth]) {
      throw new ShapeError(`${fn}: ${arg} is not rectangular: element [${path.join(', ')}] has ${Array.isArray(x) ? x.length : 'no'} entries where ${shape[depth]} are expected`);
    }
    x.forEach((e, i) => walk(e, depth + 1, [...path, i]));
  };
  walk(v, 0, []);
  return { shape, values };
}

// ————————————————————————————————————————————————————————— onehotencode / onehotdecode

const ONEHOTENCODE = options('onehotencode', {
  /** the classes in order (default: the sorted distinct labels, as MATLAB's categorical(labels) makes them) */
  ClassNames: opt.any<readonly Label[] | Tensor>(),
});
/** Options of onehotencode: ClassNames, the classes in order (default: the sorted distinct labels). */
export type OnehotencodeOptions = OptionsOf<typeof ONEHOTENCODE>;

/** MATLAB's type names (and wasmgrad's dtypes) for the output of onehotencode and minibatchqueue's OutputCast. */
const TYPENAMES: Record<string, DTypeName> = {
  single: 'float32', double: 'float64', float32: 'float32', float64: 'float64', int32: 'int32', logical: 'bool', bool: 'bool',
};

function typeOf(fn: string, arg: string, v: unknown): DTypeName {
  const t = typeof v === 'string' ? TYPENAMES[v.toLowerCase()] : undefined;
  if (t === undefined) {
    throw new ValueError(`${fn}: ${arg} must be 'single', 'double', 'int32' or 'logical' (or 'float32', 'float64', 'bool'), got ${describeValue(v)}`);
  }
  return t;
}

/** Labels read to the host: shape and values (null, undefined and NaN are MATLAB's <undefined>). */
function readLabels(fn: string, labels: unknown): { shape: number[]; values: (Label | undefined)[] } {
  if (labels instanceof Tensor) {
    idOf(labels, `${fn} (labels)`);
    const data = labels.data();
    return { shape: labels.shape, values: Array.from(data as ArrayLike<number>, (x) => (labels.dtype === 'bool' ? x !== 0 : Number.isNaN(x) ? undefined : x)) };
  }
  if (typeof labels === 'string' || typeof labels === 'number' || typeof labels === 'boolean') return { shape: [], values: [labels] };
  if (!Array.isArray(labels)) throw new ValueError(`${fn}: labels must be (nested) arrays of class names or numbers, or a Tensor, got ${describeValue(labels)}`);
  const { shape, values } = nested(fn, 'labels', labels);
  return {
    shape,
    values: values.map((x, i) => {
      if (x === null || x === undefined || (typeof x === 'number' && Number.isNaN(x))) return undefined;
      if (typeof x !== 'string' && typeof x !== 'number' && typeof x !== 'boolean') {
        throw new ValueError(`${fn}: labels must be strings, numbers or booleans; flat element ${i} is ${describeValue(x)}`);
      }
      return x;
    }),
  };
}

/** The sorted distinct labels (numbers ascending, strings by code unit, as MATLAB's unique). */
function distinct(fn: string, values: readonly (Label | undefined)[]): Label[] {
  const set = [...new Set(values.filter((v): v is Label => v !== undefined))];
  const kinds = new Set(set.map((v) => typeof v));
  if (kinds.size > 1) throw new ValueError(`${fn}: labels mix ${[...kinds].join(' and ')}; give labels of one kind (or ClassNames)`);
  return set.sort((a, b) => (typeof a === 'string' ? (a < (b as string) ? -1 : a > (b as string) ? 1 : 0) : Number(a) - Number(b)));
}

function classList(fn: string, arg: string, classes: unknown): Label[] {
  let list: unknown[];
  if (classes instanceof Tensor) {
    idOf(classes, `${fn} (${arg})`);
    if (classes.rank > 1) throw new ShapeError(`${fn}: ${arg} must be a vector, got shape ${formatShape(classes.dims)}`);
    list = Array.from(classes.data() as ArrayLike<number>);
  } else if (Array.isArray(classes)) {
    list = classes;
  } else {
    throw new ValueError(`${fn}: ${arg} must be an array of class names (strings, numbers or booleans), got ${describeValue(classes)}`);
  }
  list.forEach((c, i) => {
    if (typeof c !== 'string' && typeof c !== 'number' && typeof c !== 'boolean') {
      throw new ValueError(`${fn}: ${arg}[${i}] is ${describeValue(c)}; class names are strings, numbers or booleans`);
    }
  });
  const dup = list.find((c, i) => list.indexOf(c) !== i);
  if (dup !== undefined) throw new ValueError(`${fn}: ${arg} lists ${JSON.stringify(dup)} more than once`);
  if (list.length === 0) throw new ValueError(`${fn}: ${arg} is empty; give at least one class`);
  return list as Label[];
}

function checkFeatureDim(fn: string, featureDim: unknown, max: number, what: string): number {
  if (typeof featureDim !== 'number' || !Number.isInteger(featureDim) || featureDim < 0 || featureDim > max) {
    throw new ValueError(`${fn}: featureDim must be an integer in [0, ${max}] (0-based; ${what}), got ${describeValue(featureDim)}`);
  }
  return featureDim;
}

/**
 * MATLAB's onehotencode(labels, featureDim[, typename][, ClassNames]): each label becomes a
 * vector of length K (the number of classes) along featureDim, 1 at its class and 0 elsewhere;
 * a label that is null, undefined, NaN or not among ClassNames (MATLAB's <undefined>) becomes a
 * vector of NaN. featureDim is 0-based. Labels of rank 2 or more with a singleton there have it
 * replaced (MATLAB's rule: [B, 1] with featureDim 1 gives [B, K]); otherwise, and always for a
 * flat array, the class dimension is inserted there — labels of shape [B] give [K, B] with
 * featureDim 0 ('CB') and [B, K] with featureDim 1, for every B including 1. Classes: ClassNames, or the sorted distinct
 * labels. typename: 'single' (default, float32), 'double', 'int32' or 'logical'.
 */
export function onehotencode(labels: LabelsLike, featureDim: number, options?: OnehotencodeOptions): Tensor;
export function onehotencode(labels: LabelsLike, featureDim: number, typename: string, options?: OnehotencodeOptions): Tensor;
export function onehotencode(labels: LabelsLike, featureDim: number, ...nameValue: unknown[]): Tensor;
export function onehotencode(labels: LabelsLike, featureDim: number, ...rest: unknown[]): Tensor {
  const fn = 'onehotencode';
  requireInit(fn);
  let typename: unknown;
  if (typeof rest[0] === 'string' && rest[0].toLowerCase() !== 'classnames') typename = rest.shift();
  const { opts } = splitArgs(fn, ONEHOTENCODE, rest, typename === undefined ? 3 : 4, 0);
  const dtype = typename === undefined ? 'float32' : typeOf(fn, 'typename', typename);
  const { shape, values } = readLabels(fn, labels);
  const fd = checkFeatureDim(fn, featureDim, shape.length, `labels have shape ${formatShape(shape)}`);
  const classes = opts.ClassNames === undefined ? distinct(fn, values) : classList(fn, 'ClassNames', opts.ClassNames);
  if (classes.length === 0) throw new ValueError(`${fn}: there are no classes: every label is undefined; give ClassNames`);
  const kinds = new Set(classes.map((c) => typeof c));
  const labelKinds = new Set(values.filter((v) => v !== undefined).map((v) => typeof v));
  for (const k of labelKinds) {
    if (!kinds.has(k)) throw new ValueError(`${fn}: the labels are ${k}s but ClassNames holds ${[...kinds].join(' and ')}s; they must be of one kind`);
  }
  const K = classes.length;
  const index = new Map<Label, number>(classes.map((c, i) => [c, i]));
  const outShape = shape.length >= 2 && fd < shape.length && shape[fd] === 1 ? shape.map((d, i) => (i === fd ? K : d)) : [...shape.slice(0, fd), K, ...shape.slice(fd)];
  const post = outShape.slice(fd + 1).reduce((a, b) => a * b, 1);
  const out = new Float64Array(values.length * K);
  values.forEach((v, i) => {
    const a = Math.floor(i / post), b = i % post;
    const k = v === undefined ? undefined : index.get(v);
    if (k === undefined) {
      if (dtype === 'int32' || dtype === 'bool') {
        throw new ValueError(`${fn}: label ${v === undefined ? '<undefined>' : JSON.stringify(v)} (flat element ${i}) is not among the classes; ` +
          `it would encode to NaN, which typename '${String(typename)}' cannot hold`);
      }
      for (let c = 0; c < K; c++) out[(a * K + c) * post + b] = NaN;
    } else {
      out[(a * K + k) * post + b] = 1;
    }
  });
  return tensor(dtype === 'bool' ? Array.from(out, (x) => x !== 0) : out, { shape: outShape, dtype });
}

const DECODE_TYPES = ['categorical', 'string', 'double', 'single'] as const;

/**
 * MATLAB's onehotdecode(B, classes, featureDim[, typename]): the class of each vector of B along
 * featureDim (0-based), at its largest value (the first one on a tie; NaN ignored, as MATLAB's
 * max; a vector of only NaN gives undefined, MATLAB's <undefined>). Returns nested JS arrays of
 * B's shape without featureDim (one class per observation), or the class itself when B is one
 * vector. typename: 'categorical' (default: the classes as given), 'string' or 'double'/'single'
 * (numbers).
 */
export function onehotdecode(B: Tensor | NestedArray, classes: readonly Label[] | Tensor, featureDim: number, typename?: string): any {
  const fn = 'onehotdecode';
  if (arguments.length > 4) throw new ValueError(`${fn}: takes at most 4 arguments (B, classes, featureDim, typename?), got ${arguments.length}`);
  requireInit(fn);
  let values: ArrayLike<number>, shape: number[];
  if (B instanceof Tensor) {
    idOf(B, `${fn} (B)`);
    if (B.dtype === 'bool') throw new DTypeError(`${fn}: B must hold numbers (scores or one-hot vectors), got a bool tensor`);
    values = B.data() as ArrayLike<number>;
    shape = B.shape;
  } else {
    const n = nested(fn, 'B', B);
    n.values.forEach((x, i) => { if (typeof x !== 'number') throw new ValueError(`${fn}: B must hold numbers; flat element ${i} is ${describeValue(x)}`); });
    values = n.values as number[];
    shape = n.shape;
  }
  if (shape.length === 0) throw new ShapeError(`${fn}: B is a scalar; it needs a dimension of class scores`);
  const fd = checkFeatureDim(fn, featureDim, shape.length - 1, `B has shape ${formatShape(shape)}`);
  const list = classList(fn, 'classes', classes);
  const K = shape[fd];
  if (list.length !== K) {
    throw new ShapeError(`${fn}: classes has ${list.length} entries but B ${formatShape(shape)} has ${K} along featureDim ${fd}; they must be equal`);
  }
  const kind = choice(fn, 'typename', typename, DECODE_TYPES, 'categorical');
  const convert = (c: Label): Label => (kind === 'string' ? String(c) : kind === 'categorical' ? c : Number(c));
  const outShape = shape.filter((_, i) => i !== fd);
  const post = shape.slice(fd + 1).reduce((a, b) => a * b, 1);
  const count = values.length / Math.max(K, 1);
  const flat: (Label | undefined)[] = [];
  for (let i = 0; i < count; i++) {
    const a = Math.floor(i / post), b = i % post;
    let best = -1, bestValue = -Infinity;
    for (let k = 0; k < K; k++) {
      const x = values[(a * K + k) * post + b];
      if (!Number.isNaN(x) && (best < 0 || x > bestValue)) { best = k; bestValue = x; }
    }
    flat.push(best < 0 ? undefined : convert(list[best]));
  }
  if (outShape.length === 0) return flat[0];
  const build = (depth: number, offset: number): unknown[] => {
    const step = outShape.slice(depth + 1).reduce((a, b) => a * b, 1);
    return Array.from({ length: outShape[depth] }, (_, i) => (depth === outShape.length - 1 ? flat[offset + i] : build(depth + 1, offset + i * step)));
  };
  return build(0, 0);
}

// ————————————————————————————————————————————————————————— minibatchqueue

type MiniBatchFcn = (...variables: unknown[][]) => unknown;

const MINIBATCHQUEUE = options('minibatchqueue', {
  /** observations per mini-batch (default 128) */
  MiniBatchSize: opt.any<number>(),
  /** 'return' (default: the last, smaller mini-batch too) or 'discard' */
  PartialMiniBatch: opt.any<'return' | 'discard'>(),
  /** 'collate' (default) or a function of one array of observations per variable, returning the outputs */
  MiniBatchFcn: opt.any<'collate' | MiniBatchFcn>(),
  /** the data format of each output (one string, or one per output; '' for none), e.g. ['SSCB', 'CB'] */
  MiniBatchFormat: opt.any<string | readonly string[]>(),
  /** the type of each output (one, or one per output): 'single' (default), 'double', 'int32' or 'logical' */
  OutputCast: opt.any<string | readonly string[]>(),
  /** true (default): outputs are tensors; false: nested JS arrays (one, or one per output) */
  OutputAsDlarray: opt.any<boolean | readonly boolean[]>(),
  /** 'auto' (default) or 'cpu' (one, or one per output): wasm memory either way; there is no GPU */
  OutputEnvironment: opt.any<string | readonly string[]>(),
  /** 'serial' (the only one: batches are made when next asks for them) */
  PreprocessingEnvironment: opt.any<'serial'>(),
});
/** Options of minibatchqueue: MiniBatchSize (128), PartialMiniBatch, MiniBatchFcn, MiniBatchFormat, OutputCast, OutputAsDlarray, OutputEnvironment, PreprocessingEnvironment (MATLAB's name-value arguments). */
export type MinibatchqueueOptions = OptionsOf<typeof MINIBATCHQUEUE>;

/** A datastore in MATLAB's style: read() one observation while hasdata(); reset(); optionally shuffle() → a shuffled datastore. */
export interface Datastore {
  /** The next observation. */
  read(): unknown;
  /** Whether an observation is left to read. */
  hasdata(): boolean;
  /** Back to the first observation. */
  reset(): void;
  /** A shuffled copy of the datastore, or nothing after shuffling it in place. */
  shuffle?(): Datastore | void;
}

/** What minibatchqueue reads: a Tensor, an array of columns, an iterable or a datastore. */
export type DatastoreLike = Tensor | readonly (Tensor | readonly unknown[])[] | Iterable<unknown> | Datastore;

type Source =
  | { kind: 'columns'; columns: (Tensor | readonly unknown[])[]; length: number }
  | { kind: 'iterable'; ds: Iterable<unknown> | Datastore };

interface Config {
  source: Source;
  numOutputs: number;
  numVariables: number;
  miniBatchSize: number;
  partial: 'return' | 'discard';
  fcn: 'collate' | MiniBatchFcn;
  formats: string[];
  casts: DTypeName[];
  asDlarray: boolean[];
  environments: string[];
}

const isDatastore = (v: unknown): v is Datastore => v !== null && typeof v === 'object' &&
  typeof (v as Datastore).read === 'function' && typeof (v as Datastore).hasdata === 'function' && typeof (v as Datastore).reset === 'function';

/**
 * A queue of mini-batches over a datastore (MATLAB's minibatchqueue). Make one with
 * minibatchqueue(ds, numOutputs?, options?); read it with next(mbq) / mbq.next() while
 * hasdata(mbq), start again with reset(mbq), reshuffle with shuffle(mbq) (which also resets).
 * The tensors next() returns belong to the queue: they are freed by the following next(),
 * reset(), shuffle() or dispose() — so a MATLAB-style loop frees nothing itself and leaks
 * nothing; clone a batch to keep it longer.
 */
export class MiniBatchQueue implements Iterable<unknown[]> {
  /** observations per mini-batch (default 128) */
  readonly MiniBatchSize: number;
  /** 'return' (default: the last, smaller mini-batch too) or 'discard' */
  readonly PartialMiniBatch: 'return' | 'discard';
  /** 'collate' (default) or the function that makes the outputs of each mini-batch */
  readonly MiniBatchFcn: 'collate' | MiniBatchFcn;
  /** the number of outputs next() gives */
  readonly NumOutputs: number;
  /** the data format of each output ('' for none) */
  readonly MiniBatchFormat: readonly string[];
  /** the type of each output, by MATLAB's names ('single', 'double', 'int32', 'logical') */
  readonly OutputCast: readonly string[];
  /** per output: a tensor (true) or nested JS arrays (false) */
  readonly OutputAsDlarray: readonly boolean[];
  /** per output: 'auto' or 'cpu' (wasm memory either way) */
  readonly OutputEnvironment: readonly string[];
  /** 'serial': mini-batches are made when next() asks for them */
  readonly PreprocessingEnvironment = 'serial';

  private readonly source: Source;
  private readonly numVariables: number;
  private readonly casts: DTypeName[];
  /** columns: the observation order and the next position */
  private order: Int32Array = new Int32Array(0);
  private position = 0;
  /** iterables: the current iterator (or datastore) and observations read ahead (owned copies) */
  private ds: Iterable<unknown> | Datastore | undefined;
  private iterator: Iterator<unknown> | undefined;
  private buffer: unknown[][] = [];
  private exhausted = false;
  /** the tensors of the batch last returned, freed when the next one is made */
  private held: Tensor[] = [];

  /** @internal use minibatchqueue(ds, numOutputs?, options?) */
  constructor(config: Config) {
    this.source = config.source;
    this.numVariables = config.numVariables;
    this.NumOutputs = config.numOutputs;
    this.MiniBatchSize = config.miniBatchSize;
    this.PartialMiniBatch = config.partial;
    this.MiniBatchFcn = config.fcn;
    this.MiniBatchFormat = Object.freeze([...config.formats]);
    this.casts = config.casts;
    this.OutputCast = Object.freeze(config.casts.map((c) => ({ float32: 'single', float64: 'double', int32: 'int32', bool: 'logical' })[c]));
    this.OutputAsDlarray = Object.freeze([...config.asDlarray]);
    this.OutputEnvironment = Object.freeze([...config.environments]);
    if (this.source.kind === 'columns') this.order = Int32Array.from({ length: this.source.length }, (_, i) => i);
    else this.ds = this.source.ds;
    this.restart();
  }

  /** true while a mini-batch is left (a full one, with PartialMiniBatch 'discard'). */
  hasdata(): boolean {
    const need = this.PartialMiniBatch === 'discard' ? this.MiniBatchSize : 1;
    if (this.source.kind === 'columns') return this.source.length - this.position >= need;
    this.fill(need);
    return this.buffer.length >= need;
  }

  /**
   * The next mini-batch: an array with one entry per output (`const [X, T] = mbq.next()`). Frees
   * the tensors of the mini-batch it returned before.
   */
  next(): unknown[] {
    if (!this.hasdata()) {
      throw new ValueError('minibatchqueue: no data left in the queue (hasdata is false); call reset(mbq) or shuffle(mbq) to start again');
    }
    this.release();
    if (this.source.kind === 'iterable') this.fill(this.MiniBatchSize);
    const obs = this.source.kind === 'iterable' ? this.buffer.splice(0, this.MiniBatchSize) : [];
    let outputs: unknown[] | undefined;
    try {
      outputs = tidy(() => this.makeBatch(obs));
    } finally {
      // the observations read ahead are the queue's copies: free them, unless an output is one
      const kept = new Set(outputs === undefined ? [] : tensorsIn(outputs));
      for (const t of tensorsIn(obs)) if (!kept.has(t)) t.dispose();
    }
    this.held = tensorsIn(outputs);
    return outputs;
  }

  /** Starts again from the first observation (the same order); frees the last mini-batch. */
  reset(): void {
    this.release();
    this.restart();
  }

  /**
   * Shuffles the data into a new random order and resets the queue. The order is drawn from
   * wasmgrad's seeded generator (wg.seed(n) makes it reproducible, as MATLAB's rng). An iterable
   * is shuffled by its own shuffle() (MATLAB's shuffleable datastores); one without it cannot be.
   */
  shuffle(): void {
    if (this.source.kind === 'columns') {
      const u = rand([1], { dtype: 'float64' });
      let seed: number;
      try { seed = Math.floor((u.data()[0] as number) * 4294967296); } finally { u.dispose(); }
      this.order = permutation(this.source.length, seededRandom(seed));
    } else {
      const ds = this.ds as Partial<Datastore>;
      if (typeof ds.shuffle !== 'function') {
        throw new ValueError('minibatchqueue: this datastore cannot be shuffled: it has no shuffle() method (an array of columns or a Tensor can be, ' +
          'and so can an iterable whose shuffle() returns a shuffled copy, as MATLAB\'s datastores)');
      }
      const shuffled = ds.shuffle();
      if (shuffled !== undefined && shuffled !== null) {
        if (!isDatastore(shuffled) && !(typeof (shuffled as any)[Symbol.iterator] === 'function')) {
          throw new ValueError(`minibatchqueue: the datastore's shuffle() returned ${describeValue(shuffled)}; it must return a datastore or an iterable (or shuffle in place and return nothing)`);
        }
        this.ds = shuffled as Datastore;
      }
    }
    this.reset();
  }

  /** Frees the last mini-batch and the observations read ahead. */
  dispose(): void {
    this.release();
    this.dropBuffer();
  }

  /** dispose(), for `using mbq = minibatchqueue(…)`: the batches are freed when the block ends. */
  [Symbol.dispose](): void { this.dispose(); }

  /** The remaining mini-batches, one next() each (`for (const [X, T] of mbq)`). */
  *[Symbol.iterator](): Iterator<unknown[]> {
    while (this.hasdata()) yield this.next();
  }

  private release(): void {
    for (const t of this.held) t.dispose();
    this.held = [];
  }

  private dropBuffer(): void {
    for (const obs of this.buffer) for (const t of tensorsIn(obs)) t.dispose();
    this.buffer = [];
  }

  private restart(): void {
    this.position = 0;
    if (this.source.kind === 'columns') return;
    this.dropBuffer();
    this.exhausted = false;
    const ds = this.ds!;
    if (isDatastore(ds)) {
      ds.reset();
      this.iterator = undefined;
    } else {
      this.iterator = ds[Symbol.iterator]();
    }
  }

  /** Reads ahead until `n` observations are buffered or the data ends. */
  private fill(n: number): void {
    while (this.buffer.length < n && !this.exhausted) {
      const obs = tidy(() => {
        let v: unknown;
        if (this.iterator === undefined) {
          const ds = this.ds as Datastore;
          if (!ds.hasdata()) return undefined;
          v = ds.read();
        } else {
          const r = this.iterator.next();
          if (r.done) return undefined;
          v = r.value;
        }
        const row = Array.isArray(v) ? v : [v];
        if (row.length !== this.numVariables) {
          throw new ValueError(`minibatchqueue: the datastore gave an observation with ${row.length} variable${row.length === 1 ? '' : 's'}, but the first had ${this.numVariables}; ` +
            'every read must give the same variables (an array is a row of variables)');
        }
        // copies, so the queue owns what it holds: tensors the datastore made are freed here,
        // tensors it only hands out (its own data) are left alone
        return row.map((x) => (x instanceof Tensor ? x.clone() : x));
      });
      if (obs === undefined) this.exhausted = true;
      else this.buffer.push(obs);
    }
  }

  /** One mini-batch: MiniBatchFcn (or collate) of its observations, then OutputCast and the format checks. */
  private makeBatch(obs: unknown[][]): unknown[] {
    const fcn = this.MiniBatchFcn;
    let outputs: unknown[];
    if (this.source.kind === 'columns') {
      const { columns, length } = this.source;
      const rows = this.order.subarray(this.position, Math.min(this.position + this.MiniBatchSize, length));
      this.position += rows.length;
      columns.forEach((c, v) => { if (c instanceof Tensor) c.use(`minibatchqueue (variable ${v})`); });
      if (fcn === 'collate') {
        outputs = columns.map((c, v) => (c instanceof Tensor
          ? collateTensor(indexSelect(c, 0, tensor(rows, { dtype: 'int32' })))
          : collateValues(v, Array.from(rows, (i) => c[i]))));
      } else {
        outputs = this.callFcn(fcn, columns.map((c) => (c instanceof Tensor ? Array.from(rows, (i) => select(c, 0, i)) : Array.from(rows, (i) => c[i]))));
      }
    } else {
      const perVariable = Array.from({ length: this.numVariables }, (_, v) => obs.map((row) => row[v]));
      outputs = fcn === 'collate' ? perVariable.map((o, v) => collateValues(v, o)) : this.callFcn(fcn, perVariable);
    }
    return outputs.map((o, k) => this.finish(o, k));
  }

  private callFcn(fcn: MiniBatchFcn, variables: unknown[][]): unknown[] {
    const r = fcn(...variables);
    if (this.NumOutputs === 1) return [r];
    if (!Array.isArray(r) || r.length !== this.NumOutputs) {
      throw new ValueError(`minibatchqueue: MiniBatchFcn must return an array of ${this.NumOutputs} outputs (NumOutputs), got ${Array.isArray(r) ? `an array of ${r.length}` : describeValue(r)}`);
    }
    return r;
  }

  /** OutputCast, the format check and OutputAsDlarray for output k. */
  private finish(o: unknown, k: number): unknown {
    const fmt = this.MiniBatchFormat[k];
    if (!(o instanceof Tensor)) {
      if (fmt !== '') throw new ValueError(`minibatchqueue: output ${k} is ${describeValue(o)}, not a tensor, so it cannot have the MiniBatchFormat '${fmt}'`);
      return o;
    }
    o.use(`minibatchqueue (output ${k})`);
    let t = o.dtype === this.casts[k] ? o : o.to(this.casts[k]);
    if (fmt !== '') {
      try {
        layoutOf('minibatchqueue', `MiniBatchFormat{${k}}`, fmt, t.dims);
      } catch (e) {
        throw new ValueError(`minibatchqueue: output ${k} has shape ${formatShape(t.dims)}, which its MiniBatchFormat '${fmt}' does not fit (${(e as Error).message})`);
      }
      // a formatted dlarray, as MATLAB's: the labels ride on the tensor, in MATLAB's canonical order
      t = dlarray(t, fmt);
    }
    return this.OutputAsDlarray[k] ? t : t.toArray();
  }
}

/** [b, ...obs] → [...obs, b] (observations along a new last dim; a scalar observation gives [1, b]). */
function collateTensor(batch: Tensor): Tensor {
  if (batch.rank === 1) return reshape(batch, [1, batch.dims[0]]);
  return permute(batch, [...batch.dims.slice(1).map((_, i) => i + 1), 0]);
}

/** Observations of one variable as a batch: tensors stacked along a new last dim, numbers as [1, b] (or [...obs, b] for nested arrays), anything else as a JS array. */
function collateValues(v: number, obs: unknown[]): unknown {
  if (obs.length === 0) return [];
  if (obs.every((x) => x instanceof Tensor)) {
    const ts = obs as Tensor[];
    ts.forEach((t, i) => {
      if (formatShape(t.dims) !== formatShape(ts[0].dims) || t.dtype !== ts[0].dtype) {
        throw new ShapeError(`minibatchqueue: variable ${v}: observation ${i} is ${t.dtype} ${formatShape(t.dims)} but observation 0 is ${ts[0].dtype} ${formatShape(ts[0].dims)}; ` +
          'collate needs observations of one shape and dtype (or give a MiniBatchFcn)');
      }
    });
    const first = ts[0];
    if (first.rank === 0) return reshape(stack(ts, 0), [1, ts.length]);
    return stack(ts, first.rank);
  }
  const numeric = (x: unknown): boolean => typeof x === 'number' || typeof x === 'boolean' || (Array.isArray(x) && x.every(numeric));
  if (obs.every(numeric)) {
    const t = tensor(obs as NestedArray, { dtype: 'float64' });
    return collateTensor(t);
  }
  return obs;
}

/**
 * MATLAB's minibatchqueue(ds, numOutputs?, options?): a queue of mini-batches over ds, which is
 *   - a Tensor: one variable, its observations along dim 0 (MATLAB's arrayDatastore);
 *   - an array of columns, each a Tensor (observations along dim 0) or a JS array (one entry per
 *     observation), all of one length: one variable per column (MATLAB's combined datastores);
 *   - an iterable (a Set, an object with *[Symbol.iterator]()) or a MATLAB-style datastore
 *     ({ read(), hasdata(), reset(), shuffle?() }): each item one observation, an array being a
 *     row of variables.
 * Options (MATLAB's names; an object or name-value pairs): MiniBatchSize (128), PartialMiniBatch
 * ('return' | 'discard'), MiniBatchFcn ('collate', or a function given one array of observations
 * per variable and returning the outputs: one value, or an array of numOutputs), MiniBatchFormat,
 * OutputCast ('single'), OutputAsDlarray, OutputEnvironment ('auto' | 'cpu'),
 * PreprocessingEnvironment ('serial'). 'collate' puts the observations along a new last
 * dimension: [F] → [F, B], [H, W, C] → [H, W, C, B], a scalar → [1, B]; values that are not
 * numbers (class names) stay a JS array of B. MiniBatchFormat makes each output a formatted
 * dlarray (its labels checked against the output's rank; mbq.MiniBatchFormat lists them).
 */
export function minibatchqueue(ds: DatastoreLike, numOutputs?: number, options?: MinibatchqueueOptions): MiniBatchQueue;
export function minibatchqueue(ds: DatastoreLike, options?: MinibatchqueueOptions): MiniBatchQueue;
export function minibatchqueue(ds: DatastoreLike, ...nameValue: unknown[]): MiniBatchQueue;
export function minibatchqueue(ds: DatastoreLike, ...rest: unknown[]): MiniBatchQueue {
  const fn = 'minibatchqueue';
  requireInit(fn);
  let numOutputs: unknown;
  if (typeof rest[0] === 'number' || rest[0] === null) numOutputs = rest.shift();
  const { opts } = splitArgs(fn, MINIBATCHQUEUE, rest, numOutputs === undefined ? 2 : 3, 0);
  // the source and its number of variables
  let source: Source, numVariables: number;
  if (ds instanceof Tensor) {
    ds.use(`${fn} (ds)`);
    if (ds.rank === 0) throw new ShapeError(`${fn}: ds is a rank-0 tensor; its observations run along dim 0`);
    source = { kind: 'columns', columns: [ds], length: ds.dims[0] };
    numVariables = 1;
  } else if (Array.isArray(ds)) {
    if (ds.length === 0) throw new ValueError(`${fn}: ds is an empty array; give an array of columns (Tensors or JS arrays), such as [X, T]`);
    const lengths = ds.map((c: unknown, i) => {
      if (c instanceof Tensor) {
        c.use(`${fn} (column ${i})`);
        if (c.rank === 0) throw new ShapeError(`${fn}: column ${i} is a rank-0 tensor; observations run along dim 0`);
        return c.dims[0];
      }
      if (Array.isArray(c)) return c.length;
      throw new ValueError(`${fn}: an array ds is an array of columns (Tensors or JS arrays); column ${i} is ${describeValue(c)} ` +
        '(for one column of JS values, wrap it: [values])');
    });
    if (lengths.some((n) => n !== lengths[0])) {
      throw new ShapeError(`${fn}: the columns have ${formatShape(lengths)} observations; they must have one length`);
    }
    source = { kind: 'columns', columns: [...ds] as (Tensor | readonly unknown[])[], length: lengths[0] };
    numVariables = ds.length;
  } else if (isDatastore(ds) || (ds !== null && typeof ds === 'object' && typeof (ds as any)[Symbol.iterator] === 'function')) {
    source = { kind: 'iterable', ds: ds as Iterable<unknown> | Datastore };
    numVariables = -1; // from the first read
  } else {
    throw new ValueError(`${fn}: ds must be a Tensor, an array of columns, an iterable or a datastore ({ read, hasdata, reset }), got ${describeValue(ds)}`);
  }
  const miniBatchSize = opts.MiniBatchSize ?? 128;
  if (typeof miniBatchSize !== 'number' || !Number.isInteger(miniBatchSize) || miniBatchSize < 1) {
    throw new ValueError(`${fn}: MiniBatchSize must be a positive integer, got ${describeValue(miniBatchSize)}`);
  }
  const partial = choice(fn, 'PartialMiniBatch', opts.PartialMiniBatch, ['return', 'discard'] as const, 'return');
  choice(fn, 'PreprocessingEnvironment', opts.PreprocessingEnvironment, ['serial'] as const, 'serial');
  let fcn: 'collate' | MiniBatchFcn = 'collate';
  if (opts.MiniBatchFcn !== undefined) {
    if (typeof opts.MiniBatchFcn === 'function') fcn = opts.MiniBatchFcn;
    else if (typeof opts.MiniBatchFcn !== 'string' || opts.MiniBatchFcn.toLowerCase() !== 'collate') {
      throw new ValueError(`${fn}: MiniBatchFcn must be 'collate' or a function, got ${describeValue(opts.MiniBatchFcn)}`);
    }
  }
  if (numOutputs !== undefined && numOutputs !== null && (typeof numOutputs !== 'number' || !Number.isInteger(numOutputs) || numOutputs < 1)) {
    throw new ValueError(`${fn}: numOutputs must be a positive integer, got ${describeValue(numOutputs)}`);
  }
  const config: Config = {
    source, numVariables, miniBatchSize, partial, fcn, numOutputs: 0, formats: [], casts: [], asDlarray: [], environments: [],
  };
  // the number of variables of an iterable comes from its first read: peek it
  if (source.kind === 'iterable') {
    const probe = new Probe(source.ds);
    numVariables = probe.numVariables;
    config.numVariables = numVariables;
  }
  const n = (numOutputs as number | undefined | null) ?? numVariables;
  if (fcn === 'collate' && n !== numVariables) {
    throw new ValueError(`${fn}: numOutputs is ${n} but ds has ${numVariables} variable${numVariables === 1 ? '' : 's'}; without a MiniBatchFcn they must be equal`);
  }
  config.numOutputs = n;
  const perOutput = <T>(name: string, v: unknown, dflt: T, check: (x: unknown, k: number) => T): T[] => {
    if (v === undefined) return new Array<T>(n).fill(dflt);
    if (Array.isArray(v)) {
      if (v.length !== n) throw new ValueError(`${fn}: ${name} has ${v.length} entries but there ${n === 1 ? 'is 1 output' : `are ${n} outputs`}; give one value or one per output`);
      return v.map(check);
    }
    return new Array<T>(n).fill(check(v, -1));
  };
  const where = (k: number) => (k < 0 ? '' : `{${k}}`);
  config.formats = perOutput('MiniBatchFormat', opts.MiniBatchFormat, '', (x, k) => {
    if (x === '') return '';
    layoutOf(fn, `MiniBatchFormat${where(k)}`, x, []);
    return x as string;
  });
  config.casts = perOutput<DTypeName>('OutputCast', opts.OutputCast, 'float32', (x, k) => typeOf(fn, `OutputCast${where(k)}`, x));
  config.asDlarray = perOutput('OutputAsDlarray', opts.OutputAsDlarray, true, (x, k) => {
    if (typeof x !== 'boolean') throw new ValueError(`${fn}: OutputAsDlarray${where(k)} must be a boolean, got ${describeValue(x)}`);
    return x;
  });
  config.environments = perOutput('OutputEnvironment', opts.OutputEnvironment, 'auto', (x, k) => {
    const e = choice(fn, `OutputEnvironment${where(k)}`, x, ['auto', 'cpu', 'gpu'] as const, 'auto');
    if (e === 'gpu') throw new ValueError(`${fn}: OutputEnvironment${where(k)} 'gpu': wasmgrad has no GPU; use 'auto' or 'cpu' (tensors live in wasm memory)`);
    return e;
  });
  return new MiniBatchQueue(config);
}

/** Reads an iterable's first observation to count its variables, then lets the queue start afresh. */
class Probe {
  readonly numVariables: number;
  constructor(ds: Iterable<unknown> | Datastore) {
    let first: unknown;
    let found = false;
    tidy(() => {
      if (isDatastore(ds)) {
        ds.reset();
        if (ds.hasdata()) { first = ds.read(); found = true; }
        ds.reset();
      } else {
        const it = ds[Symbol.iterator]();
        if ((it as unknown) === ds) {
          throw new ValueError('minibatchqueue: ds is a one-shot iterator (a generator object); pass an iterable whose [Symbol.iterator]() starts anew ' +
            '(an array of columns, or an object with a *[Symbol.iterator]() method), so that reset and shuffle can read it again');
        }
        const r = it.next();
        if (!r.done) { first = r.value; found = true; }
        it.return?.();
      }
      return undefined;
    });
    if (!found) throw new ValueError('minibatchqueue: the datastore is empty; it gave no observation');
    this.numVariables = Array.isArray(first) ? first.length : 1;
  }
}

function checkQueue(fn: string, mbq: unknown): MiniBatchQueue {
  if (!(mbq instanceof MiniBatchQueue)) throw new ValueError(`${fn}: expected a minibatchqueue (from minibatchqueue(ds, …)), got ${describeValue(mbq)}`);
  return mbq;
}

/** MATLAB's next(mbq): the next mini-batch, one entry per output (`const [X, T] = next(mbq)`). */
export function next(mbq: MiniBatchQueue): unknown[] {
  if (arguments.length > 1) throw new ValueError(`next: takes 1 argument (mbq), got ${arguments.length}`);
  return checkQueue('next', mbq).next();
}

/** MATLAB's hasdata(mbq): whether a mini-batch is left. */
export function hasdata(mbq: MiniBatchQueue): boolean {
  if (arguments.length > 1) throw new ValueError(`hasdata: takes 1 argument (mbq), got ${arguments.length}`);
  return checkQueue('hasdata', mbq).hasdata();
}

/** MATLAB's reset(mbq): start again from the first mini-batch (the order is kept). */
export function reset(mbq: MiniBatchQueue): void {
  if (arguments.length > 1) throw new ValueError(`reset: takes 1 argument (mbq), got ${arguments.length}`);
  checkQueue('reset', mbq).reset();
}

/** MATLAB's shuffle(mbq): a new random order (wasmgrad's seeded generator), and reset. */
export function shuffle(mbq: MiniBatchQueue): void {
  if (arguments.length > 1) throw new ValueError(`shuffle: takes 1 argument (mbq), got ${arguments.length}`);
  checkQueue('shuffle', mbq).shuffle();
}
