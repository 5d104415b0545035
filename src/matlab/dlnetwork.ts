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
import { add, sub, div, relu, leakyrelu, tanh, sigmoid } from './dlarray.js';
import { fullyconnect, dlconv, dltranspconv, maxpool, avgpool, batchnorm, softmax } from './dlnn.js';
import { applyFormat, dimsOf } from './format.js';
import {
  Layer, InputLayer, Convolution2DLayer, BatchNormalizationLayer, ReLULayer, LeakyReLULayer, SoftmaxLayer, FlattenLayer,
  DropoutLayer, Pooling2DLayer, FullyConnectedLayer, TransposedConvolution2DLayer, TanhLayer, SigmoidLayer, ProjectAndReshapeLayer,
  AdditionLayer, ConcatenationLayer, DepthConcatenationLayer, RecurrentLayer, LSTMLayer, GRULayer, layerOptions,
  type WeightsInitializer, type BiasInitializer, type RecurrentWeightsInitializer,
} from './layers.js';
import { LayerGraph, nameLayers, chain, topologicalOrder, type Edge, type ConnectionRow } from './layergraph.js';
import { concat, transpose, broadcastTo, split, stack, unstack } from '../ops/shape.js';
import { matmul } from '../ops/matmul.js';
import { qr } from '../ops/linalg.js';
import * as E from '../ops/elementwise.js';
import { lstm, gru } from '../ops/recurrent.js';

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

const learnableNames = (l: Layer): readonly string[] => (l instanceof LSTMLayer ? ['InputWeights', 'RecurrentWeights', 'Bias']
  : l instanceof GRULayer ? ['InputWeights', 'RecurrentWeights', 'Bias', ...(l.ResetGateMode === 'recurrent-bias-after-multiplication' ? ['RecurrentBias'] : [])]
  : l instanceof Convolution2DLayer || l instanceof FullyConnectedLayer ||
  l instanceof TransposedConvolution2DLayer || l instanceof ProjectAndReshapeLayer ? ['Weights', 'Bias']
  : l instanceof BatchNormalizationLayer ? ['Offset', 'Scale'] : []);
const stateNames = (l: Layer): readonly string[] => (l instanceof BatchNormalizationLayer ? ['TrainedMean', 'TrainedVariance']
  : l instanceof LSTMLayer ? ['HiddenState', 'CellState'] : l instanceof GRULayer ? ['HiddenState'] : []);
/** A recurrent layer's state may take a column per observation (forward returns it so), not only its initial H × 1. */
const perObservation = (p: string): boolean => p === 'HiddenState' || p === 'CellState';

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

/**
 * Recurrent weights by MATLAB's initialisers; 'orthogonal' is Q of the QR decomposition of a
 * unit-normal matrix (of its transpose for a wide one, so the rows or columns are orthonormal).
 */
function initRecurrent(shape: [number, number], kind: RecurrentWeightsInitializer, fanIn: number, fanOut: number): Tensor {
  if (kind !== 'orthogonal') return initWeights(shape, kind, fanIn, fanOut);
  const [r, c] = shape;
  return tidy(() => (r >= c ? qr(normal([r, c], 0, 1))[0] : transpose(qr(normal([c, r], 0, 1))[0])));
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

  /** @internal the connections (a layer array's chain them in order) */
  readonly _edges: readonly Edge[];
  /** @internal for each layer, the source layer of each input port (undefined: the network's input) */
  readonly _sources: ReadonlyMap<string, readonly (string | undefined)[]>;
  /** @internal the input layer, if the network has one */
  readonly _inputLayer: InputLayer | undefined;
  /** @internal without an input layer: the layer and port that take the network's input */
  readonly _entry: { layer: Layer; port: string } | undefined;

  /** @internal use dlnetwork(layers) or dlnetwork(lgraph) */
  constructor(layers: readonly Layer[] | LayerGraph) {
    super();
    const fn = 'dlnetwork';
    let named: Layer[], edges: Edge[];
    if (layers instanceof LayerGraph) {
      if (layers.Layers.length === 0) throw new ValueError(`${fn}: the layer graph has no layers`);
      named = nameLayers(fn, layers.Layers); // copies: the network fills in sizes without changing the graph's layers
      edges = [...layers._edges];
    } else {
      named = nameLayers(fn, layers);
      edges = chain(fn, named);
    }
    const order = topologicalOrder(fn, named, edges);
    const open: { layer: Layer; port: string }[] = [];
    for (const l of order) for (const p of l.InputNames) if (!edges.some((e) => e.to === l.Name && e.port === p)) open.push({ layer: l, port: p });
    const inputLayers = order.filter((l): l is InputLayer => l instanceof InputLayer);
    if (inputLayers.length + open.length !== 1) {
      const inputs = [...inputLayers.map((l) => `'${l.Name}'`), ...open.map((o) => `'${o.layer.Name}/${o.port}'`)];
      if (open.length > 0) {
        const { layer, port } = open.find((o) => o.layer !== order[0]) ?? open[0];
        throw new ValueError(`${fn}: layer '${layer.Name}' (${layer.Type}) has an unconnected input '${port}'; each layer input must be connected ` +
          `to the output of another layer (connectLayers(lgraph, 'source', '${layer.Name}/${port}')); wasmgrad's dlnetwork takes one network input, and this one has ${inputs.join(', ')}`);
      }
      throw new ValueError(`${fn}: the network has ${inputLayers.length} input layers (${inputs.join(', ')}); wasmgrad's dlnetwork takes one input`);
    }
    this.Layers = order;
    this._edges = edges;
    this._inputLayer = inputLayers[0];
    this._entry = open[0];
    this._sources = new Map(order.map((l) => [l.Name, l.InputNames.map((p) => edges.find((e) => e.to === l.Name && e.port === p)?.from)]));
  }

  /** whether the learnables exist (MATLAB's Initialized) */
  get Initialized(): boolean { return this._initialized; }
  /** the network's input (MATLAB's InputNames): the input layer's name, or the layer (or 'layer/port') that takes the input */
  get InputNames(): string[] {
    if (this._inputLayer !== undefined) return [this._inputLayer.Name];
    const { layer, port } = this._entry!;
    return [layer.InputNames.length === 1 ? layer.Name : `${layer.Name}/${port}`];
  }
  /** the network's outputs (MATLAB's OutputNames): the layers whose output goes to no other layer */
  get OutputNames(): string[] { return this.Layers.filter((l) => !this._edges.some((e) => e.from === l.Name)).map((l) => l.Name); }
  /** MATLAB's Connections table: { Source, Destination } rows */
  get Connections(): ConnectionRow[] { return this._edges.map((e) => ({ Source: e.from, Destination: `${e.to}/${e.port}` })); }

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
      if (perObservation(p) && v instanceof Tensor && v.rank === 2 && t.rank === 2 && v.dims[0] === t.dims[0] && v.dims[1] >= 1) {
        checkValue('State', key, v, v);
        if (v.dtype !== t.dtype) throw new DTypeError(`dlnetwork: State '${key}' is ${v.dtype}; the network's is ${t.dtype}`);
      } else {
        checkValue('State', key, v, t);
      }
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
    const first = this._inputLayer;
    tidy(() => {
      let x: Tensor;
      if (first !== undefined) {
        const shape = [...first.InputSize];
        while (shape.length < first._format.length) shape.push(1); // one observation (and one time step)
        x = setFormat(zeros(shape), first._format);
        if (X !== undefined) x = this._input(fn, X);
      } else {
        if (X === undefined) throw new ValueError(`${fn}: the network has no input layer; give an example input: initialize(net, X) with X a formatted dlarray (e.g. dlarray(X, 'SSCB'))`);
        x = this._input(fn, X);
      }
      // Smallest batch: the sizes of one observation are what the learnables need.
      this._walk(x, (l, xs) => {
        try {
          this._make(l, xs[0]);
          return this._layer(l, xs, false, undefined);
        } catch (e) {
          rethrow(e, `dlnetwork: layer '${l.Name}' (${l.Type}, input ${xs.map((t) => `${t._format ?? ''} ${formatShape(t.dims)}`).join(' and ')})`);
        }
      });
      return undefined;
    });
    this._initialized = true;
    return this;
  }

  /**
   * @internal runs `step` on each layer in order with its inputs (the network's input x for the
   * input layer or the entry port, the source layers' outputs otherwise); returns the outputs by
   * layer name
   */
  _walk(x: Tensor, step: (l: Layer, xs: Tensor[]) => Tensor): Map<string, Tensor> {
    const values = new Map<string, Tensor>();
    for (const l of this.Layers) {
      const xs = l instanceof InputLayer ? [x] : this._sources.get(l.Name)!.map((src) => (src === undefined ? x : values.get(src)!));
      values.set(l.Name, step(l, xs));
    }
    return values;
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
    } else if (l instanceof RecurrentLayer) {
      const C = channels();
      const H = l.NumHiddenUnits, G = l instanceof LSTMLayer ? 4 : 3;
      l.InputSize = C;
      m.registerParameter('InputWeights', initRecurrent([G * H, C], l.InputWeightsInitializer, C, G * H));
      m.registerParameter('RecurrentWeights', initRecurrent([G * H, H], l.RecurrentWeightsInitializer, H, G * H));
      const bias = l.BiasInitializer === 'unit-forget-gate'
        ? tensor(Array.from({ length: G * H }, (_, k) => (k >= H && k < 2 * H ? 1 : 0)), { shape: [G * H, 1] })
        : initBias([G * H, 1], l.BiasInitializer as BiasInitializer);
      m.registerParameter('Bias', bias);
      if (l instanceof GRULayer && l.ResetGateMode === 'recurrent-bias-after-multiplication') m.registerParameter('RecurrentBias', initBias([G * H, 1], l.BiasInitializer as BiasInitializer));
      m.registerBuffer('HiddenState', zeros([H, 1]));
      if (l instanceof LSTMLayer) m.registerBuffer('CellState', zeros([H, 1]));
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
    const first = this._inputLayer;
    if (first === undefined) {
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

  /** @internal runs one layer on its inputs; in training, batch normalisation's new statistics go to `state` */
  _layer(l: Layer, xs: Tensor[], training: boolean, state: Table | undefined): Tensor {
    const m = this._tensors(l.Name);
    const x = xs[0];
    if (l instanceof AdditionLayer || l instanceof ConcatenationLayer || l instanceof DepthConcatenationLayer) return merge(l, xs);
    if (l instanceof RecurrentLayer) return recurrent(l, m!, x, training ? state : undefined);
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
    const wanted = outputs ?? this.OutputNames;
    for (const w of wanted) {
      if (!names.includes(w)) {
        const near = nearestKey(w, names);
        throw new ValueError(`${fn}: Outputs names '${w}', which is not a layer of the network${near ? `. Did you mean '${near}'?` : ''} (layers: ${names.join(', ')})`);
      }
    }
    const state: Table = [];
    const out = tidy(() => {
      const x = this._input(fn, X);
      const got = this._walk(x, (l, xs) => {
        try {
          return this._layer(l, xs, training, state);
        } catch (e) {
          rethrow(e, `${fn}: layer '${l.Name}' (${l.Type})`);
        }
      });
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

/**
 * An LSTM or GRU layer over 'CBT' data (or 'CB': one time step), from the layer's state. The
 * data go to the PyTorch-layout lstm / gru ops as [T, B, C] (MATLAB's gate order is PyTorch's;
 * MATLAB's one Bias is b_ih with a zero b_hh, except the GRU's RecurrentBias, which is b_hh).
 * GRU's 'before-multiplication' has no PyTorch op: its recurrence is written out here. In
 * training the last step's hidden (and cell) state goes to `state`, one column per observation.
 */
function recurrent(l: RecurrentLayer, m: LayerTensors, x: Tensor, state: Table | undefined): Tensor {
  const fmt = x._format ?? '';
  if (fmt !== 'CBT' && fmt !== 'CB') throw new ValueError(`${l.Type}: input format '${fmt}': the layer takes 'CBT' data (or 'CB', one time step)`);
  const H = l.NumHiddenUnits, B = x.dims[1];
  const p = (name: string) => m.param(name)!;
  const initial = (name: string): Tensor => {
    const h = m.buffer(name)!;
    if (h.dims[1] !== 1 && h.dims[1] !== B) {
      throw new ShapeError(`${l.Type}: its ${name} has ${h.dims[1]} columns (from a batch of ${h.dims[1]}) but X has ${B} observations; call resetState(net) or give batches of one size`);
    }
    return reshape(transpose(h.dims[1] === 1 ? broadcastTo(h, [H, B]) : h), [1, B, H]);
  };
  const seq = fmt === 'CBT' ? permute(x, [2, 1, 0]) : reshape(transpose(x), [1, B, x.dims[0]]); // [T, B, C]
  const G = l instanceof LSTMLayer ? 4 : 3;
  const zerosLike1 = () => zeros([G * H], { dtype: x.dtype });
  const weights = (bhh: Tensor) => ({ weight_ih_l0: p('InputWeights'), weight_hh_l0: p('RecurrentWeights'), bias_ih_l0: reshape(p('Bias'), [G * H]), bias_hh_l0: bhh });
  let out: Tensor, hN: Tensor, cN: Tensor | undefined;
  if (l instanceof LSTMLayer) {
    [out, [hN, cN]] = lstm(seq, [initial('HiddenState'), initial('CellState')], weights(zerosLike1()));
    [hN, cN] = [reshape(hN, [B, H]), reshape(cN, [B, H])];
  } else if ((l as GRULayer).ResetGateMode !== 'before-multiplication') {
    const bhh = (l as GRULayer).ResetGateMode === 'recurrent-bias-after-multiplication' ? reshape(p('RecurrentBias'), [G * H]) : zerosLike1();
    [out, hN] = gru(seq, initial('HiddenState'), weights(bhh));
    hN = reshape(hN, [B, H]);
  } else {
    // h̃ = tanh(W_h̃ x + b_h̃ + R_h̃ (r ⊙ h)): the reset gate scales h before the product
    const gx = E.add(matmul(seq, transpose(p('InputWeights'))), reshape(p('Bias'), [G * H])); // [T, B, 3H]
    const [Rr, Rz, Rn] = split(p('RecurrentWeights'), H, 0);
    let h = reshape(initial('HiddenState'), [B, H]);
    const outs: Tensor[] = [];
    for (const g of unstack(gx, 0)) {
      const [xr, xz, xn] = split(g, H, 1);
      const r = E.sigmoid(E.add(xr, matmul(h, transpose(Rr))));
      const z = E.sigmoid(E.add(xz, matmul(h, transpose(Rz))));
      const n = E.tanh(E.add(xn, matmul(E.mul(r, h), transpose(Rn))));
      h = E.add(E.mul(E.sub(1, z), n), E.mul(z, h));
      outs.push(h);
    }
    out = stack(outs, 0);
    hN = h;
  }
  if (state !== undefined) {
    state.push({ Layer: l.Name, Parameter: 'HiddenState', Value: transpose(hN).detach() });
    if (cN !== undefined) state.push({ Layer: l.Name, Parameter: 'CellState', Value: transpose(cN).detach() });
  }
  if (l.OutputMode === 'last') return setFormat(transpose(hN), 'CB');
  return fmt === 'CBT' ? setFormat(permute(out, [2, 1, 0]), 'CBT') : setFormat(transpose(reshape(out, [B, H])), 'CB');
}

/** MATLAB's addition, concatenation and depth concatenation layers on their inputs (one format). */
function merge(l: AdditionLayer | ConcatenationLayer | DepthConcatenationLayer, xs: Tensor[]): Tensor {
  const fmt = xs[0]._format ?? '';
  const shapes = () => xs.map((t, k) => `${l.InputNames[k]} ${t._format ?? ''} ${formatShape(t.dims)}`).join(', ');
  if (xs.some((t) => (t._format ?? '') !== fmt)) throw new ValueError(`the inputs have different formats (${shapes()}); they must have one`);
  if (l instanceof AdditionLayer) {
    if (xs.some((t) => formatShape(t.dims) !== formatShape(xs[0].dims))) throw new ShapeError(`the inputs have different sizes (${shapes()}); addition takes inputs of one size`);
    return xs.slice(1).reduce((a, b) => add(a, b), xs[0]);
  }
  const dim = l instanceof DepthConcatenationLayer ? fmt.indexOf('C') : l.Dim;
  if (dim < 0) throw new ValueError(`the inputs have format '${fmt}' with no 'C' (channel) dim to concatenate along`);
  if (dim >= xs[0].rank) throw new ValueError(`Dim ${dim} (0-based) is beyond the inputs' ${xs[0].rank} dims (${shapes()})`);
  const others = (t: Tensor) => t.dims.filter((_, k) => k !== dim).join('×');
  if (xs.some((t) => t.rank !== xs[0].rank || others(t) !== others(xs[0]))) {
    throw new ShapeError(`the inputs differ in a dim other than the concatenated dim ${dim} (${shapes()})`);
  }
  return setFormat(concat(xs, dim), xs[0]._format);
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
export function dlnetwork(layers: readonly Layer[] | LayerGraph, ...rest: unknown[]): DlNetwork {
  const fn = 'dlnetwork';
  requireInit(fn);
  const example = rest[0] instanceof Tensor ? rest.shift() as Tensor : undefined;
  const o = layerOptions(fn, DLNETWORK, rest);
  const net = new DlNetwork(layers);
  const hasInput = net._inputLayer !== undefined;
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
  return Array.isArray(o.Outputs) || (o.Outputs === undefined && ys.length > 1) ? ys : ys[0];
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

/**
 * MATLAB's net = resetState(net): the recurrent layers' HiddenState and CellState back to their
 * initial zeros (H × 1), so the next sequence starts afresh (and may have another batch size).
 * In place; the same network comes back.
 */
export function resetState(net: DlNetwork): DlNetwork {
  const fn = 'resetState';
  if (arguments.length > 1) throw new ValueError(`${fn}: takes 1 argument (net), got ${arguments.length}`);
  requireInit(fn);
  const n = checkNet(fn, net);
  n._checkAlive(fn);
  if (!n.Initialized) return n;
  for (const l of n.Layers) {
    if (!(l instanceof RecurrentLayer)) continue;
    const m = n._tensors(l.Name)!;
    for (const p of stateNames(l)) m.registerBuffer(p, zeros([l.NumHiddenUnits, 1], { dtype: m.buffer(p)!.dtype }));
  }
  return n;
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
