// MATLAB's dlnetwork: a network made from a layer array (src/matlab/layers.ts), its learnables
// and state as tables (arrays of { Layer, Parameter, Value } rows, MATLAB's table columns), and
// the functions MATLAB's custom training loops call on it: forward, predict, initialize,
// dlupdate, and adamupdate / sgdmupdate / rmspropupdate taking the network and gradient tables.
//
// A dlnetwork is a wasmgrad Module: each layer with learnables or state is a submodule named
// after the layer, holding MATLAB's parameter names ('conv_1.Weights', 'batchnorm_1.Offset',
// buffers 'batchnorm_1.TrainedMean'), so dlfeval traces its learnables by tensor identity and
// `dlgradient(loss, net.Learnables)` returns the gradient table (the rows' Values are the traced
// stand-ins inside dlfeval; dlgradient keeps the structure, with gradients for Values).
//
// Differences from MATLAB, by design: the update functions and dlupdate change the network's
// learnables in place and return the same handle (MATLAB returns a new network; a JS loop then
// holds a constant set of tensors); `net.State = state` hands the state's tensors to the network.

import { Tensor, setFormat } from '../tensor.js';
import { keep, tidy } from '../scope.js';
import { ValueError, ShapeError, DTypeError, formatShape } from '../errors.js';
import { options, opt, describeValue, isPlainObject, nearestKey, type OptionsOf } from '../options.js';
import { requireInit } from '../runtime.js';
import { Module, copyInto } from '../nn/module.js';
import { zeros, ones, tensor } from '../tensor.js';
import { uniform, normal } from '../random.js';
import { reshape, permute } from '../ops/shape.js';
import { clone } from '../ops/elementwise.js';
import { dropout } from '../ops/dropout.js';
import { mapTensors } from '../autodiff.js';
import * as M from '../optim/matlab.js';
import { sub, div, relu, leakyrelu, tanh, sigmoid } from './dlarray.js';
import { fullyconnect, dlconv, dltranspconv, maxpool, avgpool, batchnorm, softmax } from './dlnn.js';
import { applyFormat, dimsOf } from './format.js';
import {
  Layer, InputLayer, Convolution2DLayer, BatchNormalizationLayer, ReLULayer, LeakyReLULayer, SoftmaxLayer, FlattenLayer,
  DropoutLayer, Pooling2DLayer, FullyConnectedLayer, TransposedConvolution2DLayer, TanhLayer, SigmoidLayer, ProjectAndReshapeLayer,
  layerOptions, type WeightsInitializer, type BiasInitializer,
} from './layers.js';

/** One row of a Learnables or State table (MATLAB's table columns Layer, Parameter, Value). */
export interface TableRow<V = Tensor> {
  /** the layer's name */
  Layer: string;
  /** the parameter's name ('Weights', 'Bias', 'Offset', 'Scale', 'TrainedMean', 'TrainedVariance') */
  Parameter: string;
  /** its value (or gradient, or optimiser state) */
  Value: V;
}
/** A Learnables, State or gradient table: rows in the network's layer order. */
export type Table<V = Tensor> = TableRow<V>[];

/** The tensors of one layer (learnables as parameters, state as buffers); it has no forward of its own. */
class LayerTensors extends Module {
  forward(): never { throw new ValueError('dlnetwork: a layer\'s tensors have no forward of their own; call forward(net, X) or predict(net, X)'); }
}

const learnableNames = (l: Layer): readonly string[] => (l instanceof Convolution2DLayer || l instanceof FullyConnectedLayer ||
  l instanceof TransposedConvolution2DLayer || l instanceof ProjectAndReshapeLayer ? ['Weights', 'Bias']
  : l instanceof BatchNormalizationLayer ? ['Offset', 'Scale'] : []);
const stateNames = (l: Layer): readonly string[] => (l instanceof BatchNormalizationLayer ? ['TrainedMean', 'TrainedVariance'] : []);

const DLNETWORK = options('dlnetwork', {
  /** initialise the learnables now (default true; needs an input layer or example inputs) */
  Initialize: opt.boolean,
});
/** Options of dlnetwork: Initialize (default true). */
export type DlnetworkOptions = OptionsOf<typeof DLNETWORK>;

function rethrow(e: unknown, where: string): never {
  if (e instanceof Error && !e.message.startsWith('dlnetwork')) {
    const Ctor = e.constructor as new (m: string) => Error;
    let wrapped: Error;
    try { wrapped = new Ctor(`${where}: ${e.message}`); } catch { throw e; }
    throw wrapped;
  }
  throw e;
}

function initWeights(shape: number[], kind: WeightsInitializer, fanIn: number, fanOut: number): Tensor {
  switch (kind) {
    case 'glorot': { const a = Math.sqrt(6 / (fanIn + fanOut)); return uniform(shape, -a, a); }
    case 'he': return normal(shape, 0, Math.sqrt(2 / fanIn));
    case 'narrow-normal': return normal(shape, 0, 0.01);
    case 'zeros': return zeros(shape);
    case 'ones': return ones(shape);
  }
}

function initBias(shape: number[], kind: BiasInitializer): Tensor {
  return kind === 'zeros' ? zeros(shape) : kind === 'ones' ? ones(shape) : normal(shape, 0, 0.01);
}

const prod = (ds: readonly number[]): number => ds.reduce((a, b) => a * b, 1);

/**
 * MATLAB's dlnetwork: a sequence of layers with its learnables (net.Learnables) and state
 * (net.State) as tables. Make it with dlnetwork(layers); run it with forward(net, X) (training
 * behaviour, returning the updated state) or predict(net, X) (inference).
 */
export class DlNetwork extends Module {
  /** the layers, in order (their Name properties filled in with MATLAB's defaults) */
  readonly Layers: readonly Layer[];
  /** @internal */ _initialized = false;

  /** @internal use dlnetwork(layers) */
  constructor(layers: readonly Layer[]) {
    super();
    const fn = 'dlnetwork';
    if (!Array.isArray(layers) || layers.length === 0) throw new ValueError(`${fn}: layers must be a non-empty array of layers (imageInputLayer(…), convolution2dLayer(…), …), got ${describeValue(layers)}`);
    layers.forEach((l, i) => {
      if (!(l instanceof Layer)) throw new ValueError(`${fn}: layers[${i}] is ${describeValue(l)}, not a layer (make one with reluLayer(), fullyConnectedLayer(n), …)`);
      if (i > 0 && l instanceof InputLayer) throw new ValueError(`${fn}: layers[${i}] is an input layer; only the first layer can be one`);
    });
    if (new Set(layers).size !== layers.length) throw new ValueError(`${fn}: a layer object appears twice in layers; make one per position`);
    // MATLAB's default names: the stem for a kind used once ('fc'), stem_1, stem_2, … otherwise.
    const given = new Set<string>();
    for (const l of layers) {
      if (l.Name === '') continue;
      if (given.has(l.Name)) throw new ValueError(`${fn}: two layers are named '${l.Name}'; layer names must be unique`);
      if (l.Name.includes('.')) throw new ValueError(`${fn}: layer name '${l.Name}' contains '.'; use another name`);
      given.add(l.Name);
    }
    const counts = new Map<string, number>();
    for (const l of layers) if (l.Name === '') counts.set(l._defaultName, (counts.get(l._defaultName) ?? 0) + 1);
    const next = new Map<string, number>();
    // Copies: the network fills in sizes (NumChannels, InputSize) and names without changing the caller's layers.
    this.Layers = layers.map((l0) => {
      const l = Object.assign(Object.create(Object.getPrototypeOf(l0)), l0) as Layer;
      if (l.Name !== '') return l;
      const stem = l._defaultName;
      let name = stem;
      if (counts.get(stem)! > 1 || given.has(stem)) {
        let k = next.get(stem) ?? 1;
        while (given.has(`${stem}_${k}`)) k++;
        name = `${stem}_${k}`;
        next.set(stem, k + 1);
      }
      given.add(name);
      l.Name = name;
      return l;
    });
  }

  /** whether the learnables exist (MATLAB's Initialized) */
  get Initialized(): boolean { return this._initialized; }
  /** the input layer's name (MATLAB's InputNames), [] without one */
  get InputNames(): string[] { return this.Layers[0] instanceof InputLayer ? [this.Layers[0].Name] : []; }
  /** the last layer's name (MATLAB's OutputNames) */
  get OutputNames(): string[] { return [this.Layers[this.Layers.length - 1].Name]; }

  /** @internal the tensors of layer `name` */
  _tensors(name: string): LayerTensors | undefined { return this._modules.get(name) as LayerTensors | undefined; }

  /** @internal [layer, parameter, tensor] for each learnable, in MATLAB's order; own tensors or (resolved) stand-ins */
  _entries(kind: 'learnables' | 'state', own: boolean): [Layer, string, Tensor][] {
    this._checkAlive(kind === 'learnables' ? 'Learnables' : 'State');
    const out: [Layer, string, Tensor][] = [];
    if (!this._initialized) return out;
    for (const l of this.Layers) {
      const m = this._tensors(l.Name);
      if (m === undefined) continue;
      for (const p of kind === 'learnables' ? learnableNames(l) : stateNames(l)) {
        const t = kind === 'learnables' ? (own ? m._parameters.get(p)! : m.param(p)!) : (own ? m._buffers.get(p)! : m.buffer(p)!);
        out.push([l, p, t]);
      }
    }
    return out;
  }

  /**
   * MATLAB's net.Learnables: a table (array) of { Layer, Parameter, Value } rows, Value the
   * learnable tensor (inside dlfeval: its traced stand-in, so dlgradient(loss, net.Learnables)
   * differentiates with respect to it). Empty before the network is initialised.
   */
  get Learnables(): Table {
    return this._entries('learnables', false).map(([l, p, t]) => ({ Layer: l.Name, Parameter: p, Value: t }));
  }

  /** Copies the rows' values into the learnables (each row must name one; shapes must match). */
  set Learnables(rows: Table) {
    const own = this._lookup('learnables', 'Learnables');
    for (const [key, t, v] of this._matchRows('Learnables', rows, own)) {
      if (v !== t) copyInto(t, checkValue('Learnables', key, v, t));
    }
  }

  /** MATLAB's net.State: the batch-normalisation layers' TrainedMean and TrainedVariance rows. */
  get State(): Table {
    return this._entries('state', false).map(([l, p, t]) => ({ Layer: l.Name, Parameter: p, Value: t }));
  }

  /**
   * `net.State = state` (state from forward): the network takes the rows' tensors as its state
   * (they are freed when replaced or when the network is disposed); the old ones are freed.
   */
  set State(rows: Table) {
    const own = this._lookup('state', 'State');
    for (const [key, t, v, layer, p] of this._matchRows('State', rows, own)) {
      if (v === t) continue;
      checkValue('State', key, v, t);
      this._tensors(layer)!.registerBuffer(p, v as Tensor);
    }
  }

  /** @internal 'Layer/Parameter' → own tensor */
  _lookup(kind: 'learnables' | 'state', what: string): Map<string, Tensor> {
    if (!this._initialized) throw new ValueError(`dlnetwork: ${what}: the network is not initialised; call initialize(net, X) first`);
    return new Map(this._entries(kind, true).map(([l, p, t]) => [`${l.Name}/${p}`, t]));
  }

  /** @internal each row of a table matched to its own tensor: [key, own tensor, row value, layer, parameter] */
  _matchRows(what: string, rows: unknown, own: Map<string, Tensor>): [string, Tensor, unknown, string, string][] {
    if (!Array.isArray(rows)) throw new ValueError(`dlnetwork: ${what} must be a table (an array of { Layer, Parameter, Value } rows), got ${describeValue(rows)}`);
    return rows.map((r, i) => {
      if (!isPlainObject(r) || typeof r.Layer !== 'string' || typeof r.Parameter !== 'string') {
        throw new ValueError(`dlnetwork: ${what} row ${i} must be { Layer, Parameter, Value }, got ${describeValue(r)}`);
      }
      const key = `${r.Layer}/${r.Parameter}`;
      const t = own.get(key);
      if (t === undefined) throw new ValueError(`dlnetwork: ${what} row ${i} names '${key}', which the network does not have (it has ${[...own.keys()].map((k) => `'${k}'`).join(', ')})`);
      return [key, t, r.Value, r.Layer, r.Parameter];
    });
  }

  /**
   * Initialises the learnables and state (MATLAB's initialize): the sizes come from the input
   * layer, or from the example input X (formatted) for a network without one. Weights from the
   * seeded generator as MATLAB's initialisers; biases, offsets and means zero, scales and
   * variances one. Does nothing if the network is initialised.
   */
  _initialize(X?: Tensor): this {
    const fn = 'initialize';
    this._checkAlive(fn);
    if (this._initialized) return this;
    const first = this.Layers[0];
    tidy(() => {
      let x: Tensor;
      if (first instanceof InputLayer) {
        x = setFormat(zeros([...first.InputSize, 1]), first._format);
        if (X !== undefined) x = this._input(fn, X);
      } else {
        if (X === undefined) throw new ValueError(`${fn}: the network has no input layer; give an example input: initialize(net, X) with X a formatted dlarray (e.g. dlarray(X, 'SSCB'))`);
        x = this._input(fn, X);
      }
      // Smallest batch: the sizes of one observation are what the learnables need.
      for (const l of this.Layers) {
        try {
          this._make(l, x);
          x = this._layer(l, x, false, undefined);
        } catch (e) {
          rethrow(e, `dlnetwork: layer '${l.Name}' (${l.Type}, input ${x._format ?? ''} ${formatShape(x.dims)})`);
        }
      }
      return undefined;
    });
    this._initialized = true;
    return this;
  }

  /** @internal makes layer l's tensors for input x */
  _make(l: Layer, x: Tensor): void {
    const fmt = x._format ?? '';
    const sizeOf = (label: string) => dimsOf(fmt, label).map((k) => x.dims[k]);
    const channels = (): number => {
      const c = sizeOf('C');
      if (c.length !== 1) throw new ValueError(`the input has format '${fmt}' with no 'C' (channel) dim`);
      return c[0];
    };
    const m = new LayerTensors();
    if (l instanceof Convolution2DLayer) {
      const C = channels();
      const [fh, fw] = l.FilterSize;
      l.NumChannels = C;
      m.registerParameter('Weights', initWeights([fh, fw, C, l.NumFilters], l.WeightsInitializer, fh * fw * C, fh * fw * l.NumFilters));
      m.registerParameter('Bias', initBias([1, 1, l.NumFilters], l.BiasInitializer));
    } else if (l instanceof TransposedConvolution2DLayer) {
      const C = channels();
      const [fh, fw] = l.FilterSize;
      l.NumChannels = C;
      // MATLAB's fan sizes for transposed convolution: numIn counts the filters, numOut the channels.
      m.registerParameter('Weights', initWeights([fh, fw, l.NumFilters, C], l.WeightsInitializer, fh * fw * l.NumFilters, fh * fw * C));
      m.registerParameter('Bias', initBias([1, 1, l.NumFilters], l.BiasInitializer));
    } else if (l instanceof ProjectAndReshapeLayer) {
      const C = channels();
      const n = prod(l.OutputSize);
      l.NumChannels = C;
      m.registerParameter('Weights', initWeights([n, C], 'glorot', C, n));
      m.registerParameter('Bias', zeros([n, 1]));
    } else if (l instanceof FullyConnectedLayer) {
      const n = prod([...fmt].flatMap((label, k) => (label === 'S' || label === 'C' || label === 'U' ? [x.dims[k]] : [])));
      l.InputSize = n;
      m.registerParameter('Weights', initWeights([l.OutputSize, n], l.WeightsInitializer, n, l.OutputSize));
      m.registerParameter('Bias', initBias([l.OutputSize, 1], l.BiasInitializer));
    } else if (l instanceof BatchNormalizationLayer) {
      const C = channels();
      l.NumChannels = C;
      const shape = fmt.includes('S') ? [1, 1, C] : [C, 1];
      m.registerParameter('Offset', zeros(shape));
      m.registerParameter('Scale', ones(shape));
      m.registerBuffer('TrainedMean', zeros(shape));
      m.registerBuffer('TrainedVariance', ones(shape));
    } else if (l instanceof InputLayer && l.Normalization !== 'none') {
      const stat = (v: unknown): Tensor => (v instanceof Tensor ? clone(v) : tensor(typeof v === 'number' ? [v] : v as number[]));
      const shape = (t: Tensor): Tensor => {
        if (t.numel() === 1) return reshape(t, []);
        if (t.numel() === prod(l.InputSize)) return reshape(t, [...l.InputSize]);
        const C = l.InputSize[l.InputSize.length - 1];
        if (t.numel() === C) return reshape(t, l._format === 'SSCB' ? [1, 1, C] : [C]);
        throw new ShapeError(`${l.Normalization} statistics have ${t.numel()} values; give one, one per channel (${C}) or the input size (${l.InputSize.join('×')})`);
      };
      m.registerBuffer('Mean', shape(stat(l.Mean)));
      if (l.Normalization === 'zscore') m.registerBuffer('StandardDeviation', shape(stat(l.StandardDeviation)));
    } else {
      return;
    }
    this.registerModule(l.Name, m);
  }

  /** @internal X checked against the input layer (an unformatted X is labelled with its format) */
  _input(fn: string, X: unknown): Tensor {
    if (!(X instanceof Tensor)) throw new ValueError(`${fn}: X must be a Tensor (a dlarray), got ${describeValue(X)}`);
    X.use(`${fn} (X)`);
    const first = this.Layers[0];
    if (!(first instanceof InputLayer)) {
      if (X._format === undefined) throw new ValueError(`${fn}: X is unformatted (shape ${formatShape(X.dims)}) and the network has no input layer to give its format; label it: dlarray(X, 'SSCB')`);
      return X;
    }
    const fmt = first._format;
    const x = X._format === undefined ? applyFormat(fn, X, fmt, false) : X;
    if (x._format !== fmt) throw new ValueError(`${fn}: X has format '${x._format}' but the input layer '${first.Name}' takes '${fmt}' data`);
    const n = first.InputSize.length;
    if (x.dims.slice(0, n).some((d, k) => d !== first.InputSize[k])) {
      throw new ShapeError(`${fn}: X has shape ${formatShape(x.dims)} ('${fmt}') but the input layer '${first.Name}' takes observations of size ${formatShape(first.InputSize)}`);
    }
    return x;
  }

  /** @internal runs one layer; in training, batch normalisation's new statistics go to `state` */
  _layer(l: Layer, x: Tensor, training: boolean, state: Table | undefined): Tensor {
    const m = this._tensors(l.Name);
    if (l instanceof InputLayer) {
      if (l.Normalization === 'none') return x;
      const centred = sub(x, m!.buffer('Mean')!);
      return l.Normalization === 'zscore' ? div(centred, m!.buffer('StandardDeviation')!) : centred;
    }
    if (l instanceof Convolution2DLayer) {
      return dlconv(x, m!.param('Weights')!, m!.param('Bias')!, { Stride: [...l.Stride], DilationFactor: [...l.DilationFactor], Padding: l.Padding });
    }
    if (l instanceof TransposedConvolution2DLayer) {
      return dltranspconv(x, m!.param('Weights')!, m!.param('Bias')!, { Stride: [...l.Stride], Cropping: l.Cropping });
    }
    if (l instanceof FullyConnectedLayer) return fullyconnect(x, m!.param('Weights')!, m!.param('Bias')!);
    if (l instanceof ProjectAndReshapeLayer) {
      const fmt = x._format ?? '';
      if (fmt !== 'CB') throw new ValueError(`projectAndReshapeLayer: input format '${fmt}': the layer projects 'CB' data (one vector per observation)`);
      const y = fullyconnect(x, m!.param('Weights')!, m!.param('Bias')!);
      // MATLAB's reshape(X, h, w, c, []) is column-major: element i + h·j + h·w·k of each column
      // is (i, j, k). Row-major that is [c, w, h, B], permuted to [h, w, c, B].
      const [h, w, c] = l.OutputSize;
      return setFormat(permute(reshape(y, [c, w, h, y.dims[1]]), [2, 1, 0, 3]), 'SSCB');
    }
    if (l instanceof BatchNormalizationLayer) {
      const [y, mu, sigmaSq] = batchnorm(x, m!.param('Offset')!, m!.param('Scale')!, m!.buffer('TrainedMean')!, m!.buffer('TrainedVariance')!,
        { Training: training, Epsilon: l.Epsilon, MeanDecay: l.MeanDecay, VarianceDecay: l.VarianceDecay });
      if (training && state !== undefined) {
        state.push({ Layer: l.Name, Parameter: 'TrainedMean', Value: mu }, { Layer: l.Name, Parameter: 'TrainedVariance', Value: sigmaSq });
      }
      return y;
    }
    if (l instanceof ReLULayer) return relu(x);
    if (l instanceof LeakyReLULayer) return leakyrelu(x, l.Scale);
    if (l instanceof TanhLayer) return tanh(x);
    if (l instanceof SigmoidLayer) return sigmoid(x);
    if (l instanceof SoftmaxLayer) return softmax(x);
    if (l instanceof Pooling2DLayer) {
      const o = { Stride: [...l.Stride], Padding: l.Padding };
      return l.Mode === 'max' ? maxpool(x, [...l.PoolSize], o) : avgpool(x, [...l.PoolSize], o);
    }
    if (l instanceof DropoutLayer) return training ? setFormat(dropout(x, l.Probability), x._format) : x;
    if (l instanceof FlattenLayer) {
      const fmt = x._format ?? '';
      if (fmt.includes('T') || fmt.includes('U')) throw new ValueError(`flattenLayer: input format '${fmt}': wasmgrad flattens S…S C B data`);
      if (!fmt.includes('S')) return x;
      const b = fmt.includes('B') ? x.dims[fmt.indexOf('B')] : 1;
      return setFormat(reshape(x, [x.numel() / b, b]), 'CB');
    }
    throw new ValueError(`dlnetwork: layer '${l.Name}' (${l.Type}) is not supported`);
  }

  /** @internal runs the network: [Y, state rows] (state only in training) */
  _run(fn: string, X: unknown, training: boolean): [Tensor, Table] {
    const [ys, state] = this._runOutputs(fn, X, training, undefined);
    return [ys[0], state];
  }

  /** @internal runs the network: the outputs of the layers named (default: the last), and the state rows (training only) */
  _runOutputs(fn: string, X: unknown, training: boolean, outputs: readonly string[] | undefined): [Tensor[], Table] {
    requireInit(fn);
    this._checkAlive(fn);
    if (!this._initialized) throw new ValueError(`${fn}: the network is not initialised; call initialize(net, X) first (or give it an input layer)`);
    const names = this.Layers.map((l) => l.Name);
    const wanted = outputs ?? [names[names.length - 1]];
    for (const w of wanted) {
      if (!names.includes(w)) {
        const near = nearestKey(w, names);
        throw new ValueError(`${fn}: Outputs names '${w}', which is not a layer of the network${near ? `. Did you mean '${near}'?` : ''} (layers: ${names.join(', ')})`);
      }
    }
    const state: Table = [];
    const out = tidy(() => {
      const got = new Map<string, Tensor>();
      let x = this._input(fn, X);
      for (const l of this.Layers) {
        try {
          x = this._layer(l, x, training, state);
        } catch (e) {
          rethrow(e, `${fn}: layer '${l.Name}' (${l.Type})`);
        }
        if (wanted.includes(l.Name)) got.set(l.Name, x);
      }
      // each output its own tensor: never X itself, never one tensor twice
      const seen = new Set<Tensor>([X as Tensor]);
      const ys = wanted.map((w) => {
        let y = got.get(w)!;
        if (seen.has(y)) y = clone(y);
        seen.add(y);
        return y;
      });
      return [ys, state.map((r) => r.Value)] as const;
    })[0];
    return [out, state];
  }

  /**
   * Module's forward: training behaviour when the module is in training mode (batch statistics,
   * dropout on; the running statistics updated in place, as PyTorch), inference otherwise.
   * MATLAB's forward(net, X) returns the state instead of storing it.
   */
  forward(X: Tensor): Tensor {
    if (!this.training) return this._run('forward', X, false)[0];
    const [y, state] = this._run('forward', X, true);
    if (state.length > 0) this.State = state;
    return y;
  }

  /** Inference behaviour (MATLAB's predict): running statistics, no dropout. */
  predict(X: Tensor): ReturnType<this['forward']> {
    return this._run('predict', X, false)[0] as ReturnType<this['forward']>;
  }

  /** The layers' names and kinds, for printing. */
  extraRepr(): string {
    return this.Layers.map((l) => `${l.Name} (${l.Type})`).join(', ');
  }
}

function checkValue(what: string, key: string, v: unknown, like: Tensor): Tensor {
  if (!(v instanceof Tensor)) throw new ValueError(`dlnetwork: ${what} '${key}' must be a Tensor, got ${describeValue(v)}`);
  v.use(`dlnetwork (${what} '${key}')`);
  if (formatShape(v.dims) !== formatShape(like.dims)) throw new ShapeError(`dlnetwork: ${what} '${key}' has shape ${formatShape(v.dims)}; the network's is ${formatShape(like.dims)}`);
  if (v.dtype !== like.dtype) throw new DTypeError(`dlnetwork: ${what} '${key}' is ${v.dtype}; the network's is ${like.dtype}`);
  return v;
}

// ————————————————————————————————————————————————————————— MATLAB's functions

/**
 * MATLAB's dlnetwork(layers): a network from a layer array, its sizes inferred from the input
 * layer (imageInputLayer, featureInputLayer) and its learnables initialised from the seeded
 * generator. Without an input layer, give example inputs — dlnetwork(layers, X) — or make it
 * uninitialised (dlnetwork(layers, { Initialize: false }), as for a network without one) and call
 * initialize(net, X). Unnamed layers get MATLAB's default names ('conv_1', 'fc', …).
 */
export function dlnetwork(layers: readonly Layer[], ...rest: unknown[]): DlNetwork {
  const fn = 'dlnetwork';
  requireInit(fn);
  const example = rest[0] instanceof Tensor ? rest.shift() as Tensor : undefined;
  const o = layerOptions(fn, DLNETWORK, rest);
  const net = new DlNetwork(layers);
  const hasInput = net.Layers[0] instanceof InputLayer;
  if (o.Initialize === true && !hasInput && example === undefined) {
    throw new ValueError(`${fn}: Initialize is true but the network has no input layer; give an example input: dlnetwork(layers, X)`);
  }
  if (o.Initialize !== false && (hasInput || example !== undefined)) {
    try {
      net._initialize(example);
    } catch (e) {
      net.dispose();
      throw e;
    }
  }
  return net;
}

function checkNet(fn: string, net: unknown): DlNetwork {
  if (!(net instanceof DlNetwork)) throw new ValueError(`${fn}: net must be a dlnetwork (from dlnetwork(layers)), got ${describeValue(net)}`);
  return net;
}

const OUTPUTS = {
  /** the layers whose outputs to return: one name (one output) or an array of names (an array of outputs, in that order) */
  Outputs: opt.any<string | string[]>(),
};
const FORWARD = options('forward', OUTPUTS);
const PREDICT = options('predict', OUTPUTS);

function outputNames(fn: string, v: unknown): string[] | undefined {
  if (v === undefined) return undefined;
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || list.length === 0 || list.some((x) => typeof x !== 'string')) {
    throw new ValueError(`${fn}: Outputs must be a layer name or a non-empty array of them, got ${describeValue(v)}`);
  }
  return list as string[];
}

/**
 * MATLAB's [Y, state] = forward(net, X): the output with training behaviour (batch statistics,
 * dropout on) and the updated state table (batch normalisation's running statistics), which the
 * network does not keep until `net.State = state`. With `{ Outputs: name }` Y is that layer's
 * output; with `{ Outputs: [name1, name2, …] }` the result is [Y1, Y2, …, state] (MATLAB's
 * [Y1, …, YN, state] = forward(net, X, Outputs=names)). Options as an object or name-value pairs.
 */
export function forward(net: DlNetwork, X: Tensor): [Tensor, Table];
export function forward(net: DlNetwork, X: Tensor, ...opts: unknown[]): [...Tensor[], Table];
export function forward(net: DlNetwork, X: Tensor, ...opts: unknown[]): [...Tensor[], Table] {
  const fn = 'forward';
  const o = layerOptions(fn, FORWARD, opts);
  const names = outputNames(fn, o.Outputs);
  const [ys, state] = checkNet(fn, net)._runOutputs(fn, X, true, names);
  return [...ys, state] as [...Tensor[], Table];
}

/**
 * MATLAB's Y = predict(net, X): inference behaviour (the trained statistics, no dropout). With
 * `{ Outputs: name }` that layer's output; with an array of names an array of outputs.
 */
export function predict(net: DlNetwork, X: Tensor): Tensor;
export function predict(net: DlNetwork, X: Tensor, ...opts: unknown[]): any;
export function predict(net: DlNetwork, X: Tensor, ...opts: unknown[]): any {
  const fn = 'predict';
  const o = layerOptions(fn, PREDICT, opts);
  const names = outputNames(fn, o.Outputs);
  const [ys] = checkNet(fn, net)._runOutputs(fn, X, false, names);
  return Array.isArray(o.Outputs) ? ys : ys[0];
}

/**
 * MATLAB's net = initialize(net, X?): initialises the learnables and state of a network made
 * with Initialize false; X is an example input (needed without an input layer). Initialises in
 * place and returns the network; an initialised network is returned as it is.
 */
export function initialize(net: DlNetwork, X?: Tensor): DlNetwork {
  if (arguments.length > 2) throw new ValueError(`initialize: takes at most 2 arguments (net, X?), got ${arguments.length}`);
  requireInit('initialize');
  return checkNet('initialize', net)._initialize(X);
}

const isRow = (r: unknown): r is TableRow<unknown> => isPlainObject(r) && typeof r.Layer === 'string' && typeof r.Parameter === 'string' && 'Value' in r;
/** A non-empty table of { Layer, Parameter, Value } rows. */
export function isTable(v: unknown): v is Table<unknown> {
  return Array.isArray(v) && v.length > 0 && v.every(isRow);
}

/** Rows of a network or table: [key, own tensor]. */
function rowsOf(fn: string, net: DlNetwork | Table): [string, string, Tensor][] {
  if (net instanceof DlNetwork) {
    if (!net.Initialized) throw new ValueError(`${fn}: the network is not initialised; call initialize(net, X) first`);
    return net._entries('learnables', true).map(([l, p, t]) => [l.Name, p, t]);
  }
  return net.map((r, i) => {
    if (!(r.Value instanceof Tensor)) throw new ValueError(`${fn}: row ${i} ('${r.Layer}/${r.Parameter}') has no Tensor Value, got ${describeValue(r.Value)}`);
    return [r.Layer, r.Parameter, r.Value];
  });
}

/**
 * The values of `arg` for each row (a table matched by Layer and Parameter, an object by
 * 'Layer.Parameter' as dlgradient(loss, net) gives, or an array in row order); undefined for an
 * empty state ([] or null).
 */
function alignedTo(fn: string, what: string, rows: [string, string, Tensor][], arg: unknown, optional: boolean): unknown[] | undefined {
  if (optional && (arg === null || arg === undefined || (Array.isArray(arg) && arg.length === 0))) return undefined;
  if (isTable(arg)) {
    const byKey = new Map(arg.map((r) => [`${r.Layer}/${r.Parameter}`, r.Value]));
    return rows.map(([l, p]) => {
      if (!byKey.has(`${l}/${p}`)) throw new ValueError(`${fn}: ${what} has no row for layer '${l}', parameter '${p}' (it must have the rows of net.Learnables)`);
      return byKey.get(`${l}/${p}`);
    });
  }
  if (Array.isArray(arg)) {
    if (arg.length !== rows.length) throw new ValueError(`${fn}: ${what} has ${arg.length} entries for ${rows.length} learnables`);
    return arg;
  }
  if (isPlainObject(arg)) {
    return rows.map(([l, p]) => {
      const k = `${l}.${p}`;
      if (!(k in arg)) throw new ValueError(`${fn}: ${what} has no entry '${k}' (a table of net.Learnables' rows, or an object by 'Layer.Parameter')`);
      return arg[k];
    });
  }
  if (arg instanceof Tensor && rows.length === 1) return [arg];
  throw new ValueError(`${fn}: ${what} must be a table with the rows of net.Learnables (as dlgradient(loss, net.Learnables) gives), got ${describeValue(arg)}`);
}

const toTable = <V>(rows: [string, string, Tensor][], values: V[]): Table<V> => rows.map(([Layer, Parameter], i) => ({ Layer, Parameter, Value: values[i] }));

type Updatable = DlNetwork | Table | Parameters<typeof M.adamupdate>[0];

/** Whether an update call is dlnetwork's (a network or a table given); otherwise the call goes to src/optim/matlab.ts as it is. */
const tableCall = (net: unknown, grad: unknown): boolean => net instanceof DlNetwork || isTable(net) || isTable(grad);

/**
 * MATLAB's [net, averageGrad, averageSqGrad] = adamupdate(net, grad, averageGrad, averageSqGrad,
 * iteration, learnRate?, gradDecay?, sqGradDecay?, epsilon?) for a dlnetwork (or a Learnables
 * table) and a gradient table: the learnables are updated in place (the same net comes back)
 * and the moving averages come back as tables (start with []). Anything else is the Module /
 * tensor form of src/optim/matlab.ts.
 */
export function adamupdate(net: Updatable, grad: unknown, averageGrad: unknown, averageSqGrad: unknown, iteration: number, ...rest: unknown[]): [any, any, any] {
  if (!tableCall(net, grad)) return (M.adamupdate as any)(net, grad, averageGrad, averageSqGrad, iteration, ...rest);
  const fn = 'adamupdate';
  requireInit(fn);
  const rows = rowsOf(fn, net as DlNetwork | Table);
  const params = rows.map(([, , t]) => t);
  const [, m, v] = (M.adamupdate as any)(params, alignedTo(fn, 'grad', rows, grad, false), alignedTo(fn, 'averageGrad', rows, averageGrad, true) ?? [],
    alignedTo(fn, 'averageSqGrad', rows, averageSqGrad, true) ?? [], iteration, ...rest);
  return [net, toTable(rows, m), toTable(rows, v)];
}

/**
 * MATLAB's [net, vel] = sgdmupdate(net, grad, vel, learnRate?, momentum?) for a dlnetwork (or a
 * Learnables table) and a gradient table: in place, vel a table (start with []).
 */
export function sgdmupdate(net: Updatable, grad: unknown, vel: unknown, ...rest: unknown[]): [any, any] {
  if (!tableCall(net, grad)) return (M.sgdmupdate as any)(net, grad, vel, ...rest);
  const fn = 'sgdmupdate';
  requireInit(fn);
  const rows = rowsOf(fn, net as DlNetwork | Table);
  const [, velocity] = (M.sgdmupdate as any)(rows.map(([, , t]) => t), alignedTo(fn, 'grad', rows, grad, false), alignedTo(fn, 'vel', rows, vel, true) ?? [], ...rest);
  return [net, toTable(rows, velocity)];
}

/**
 * MATLAB's [net, averageSqGrad] = rmspropupdate(net, grad, averageSqGrad, learnRate?,
 * sqGradDecay?, epsilon?) for a dlnetwork (or a Learnables table) and a gradient table.
 */
export function rmspropupdate(net: Updatable, grad: unknown, averageSqGrad: unknown, ...rest: unknown[]): [any, any] {
  if (!tableCall(net, grad)) return (M.rmspropupdate as any)(net, grad, averageSqGrad, ...rest);
  const fn = 'rmspropupdate';
  requireInit(fn);
  const rows = rowsOf(fn, net as DlNetwork | Table);
  const [, v] = (M.rmspropupdate as any)(rows.map(([, , t]) => t), alignedTo(fn, 'grad', rows, grad, false), alignedTo(fn, 'averageSqGrad', rows, averageSqGrad, true) ?? [], ...rest);
  return [net, toTable(rows, v)];
}

/**
 * MATLAB's dlupdate(fcn, net, X1, …, Xn): fcn(learnable, x1, …, xn) for every learnable, with
 * the matching values of the tables X1 … Xn (gradients, moving averages: tables with the rows of
 * net.Learnables). fcn returns the new value, or an array [value, y1, …] whose extra entries
 * come back as tables: dlupdate then returns [net, Y1, …].
 * - net a dlnetwork: its learnables take the new values in place (the same network comes back;
 *   MATLAB returns a new one); fcn's intermediates are freed.
 * - net a table: a new table of fcn's results (the given one unchanged).
 * - net a Tensor, or an array / object of tensors (MATLAB's struct): fcn's results in that
 *   structure, X1 … Xn having the same structure.
 */
export function dlupdate(fcn: (...args: any[]) => Tensor | Tensor[], net: any, ...xs: unknown[]): any {
  const fn = 'dlupdate';
  requireInit(fn);
  if (typeof fcn !== 'function') throw new ValueError(`${fn}: fcn must be a function, got ${describeValue(fcn)}`);
  const call = (args: unknown[], where: string): Tensor[] => {
    const r = tidy(() => fcn(...args));
    const list = Array.isArray(r) ? r : [r];
    if (list.length === 0 || list.some((t) => !(t instanceof Tensor))) {
      throw new ValueError(`${fn}: fcn must return a Tensor (or an array of tensors), got ${describeValue(r)} for ${where}`);
    }
    return list as Tensor[];
  };
  const finish = <S>(first: S, extras: Tensor[][], shape: (vals: Tensor[]) => unknown): any => {
    if (extras.length === 0 || extras[0].length === 0) return first;
    const n = extras[0].length;
    return [first, ...Array.from({ length: n }, (_, k) => shape(extras.map((e) => e[k])))];
  };
  if (net instanceof DlNetwork || isTable(net)) {
    const rows = rowsOf(fn, net as DlNetwork | Table);
    const others = xs.map((x, k) => alignedTo(fn, `X${k + 1}`, rows, x, false)!);
    const results = rows.map(([l, p, t], i) => call([t, ...others.map((o) => o[i])], `'${l}/${p}'`));
    const extras = results.map((r) => r.slice(1));
    if (net instanceof DlNetwork) {
      const inputs = new Set<unknown>([...rows.map((r) => r[2]), ...others.flat()]);
      results.forEach((r, i) => {
        const [l, p, t] = rows[i];
        const v = checkValue('dlupdate result', `${l}/${p}`, r[0], t);
        if (v !== t) {
          copyInto(t, v);
          if (!inputs.has(v)) v.dispose();
        }
      });
      return finish(net, extras, (vals) => toTable(rows, vals));
    }
    return finish(toTable(rows, results.map((r) => r[0])), extras, (vals) => toTable(rows, vals));
  }
  const leaves: Tensor[] = [];
  mapTensors(net, (t) => { leaves.push(t); });
  if (leaves.length === 0) throw new ValueError(`${fn}: net must be a dlnetwork, a table, or a Tensor / array / object of tensors, got ${describeValue(net)}`);
  const others = xs.map((x, k) => {
    const l: Tensor[] = [];
    mapTensors(x, (t) => { l.push(t); });
    if (l.length !== leaves.length) throw new ValueError(`${fn}: X${k + 1} has ${l.length} tensors for ${leaves.length} in net (they must have one structure)`);
    return l;
  });
  const results = leaves.map((t, i) => call([t, ...others.map((o) => o[i])], `tensor ${i}`));
  let i = 0;
  const first = mapTensors(net, () => results[i++][0]);
  return finish(first, results.map((r) => r.slice(1)), (vals) => { let j = 0; return mapTensors(net, () => vals[j++]); });
}
