// MATLAB's dlnetwork (src/matlab/dlnetwork.ts) and layers (src/matlab/layers.ts): sizes inferred
// through the layers from the input layer, MATLAB's default names and weight layouts, the
// Learnables and State tables, forward (training: batch statistics, state returned) against
// predict (inference), gradients from dlfeval / dlgradient(loss, net.Learnables) against central
// differences on a tiny float64 network, the update functions on tables, errors named, no leaks.

import { beforeAll, describe, expect, it } from 'vitest';
import { wg, expectClose, expectNoLeak } from './helpers.js';
import { expectError } from './nn-helpers.js';
import {
  imageInputLayer, featureInputLayer, convolution2dLayer, batchNormalizationLayer, reluLayer, leakyReluLayer,
  maxPooling2dLayer, averagePooling2dLayer, fullyConnectedLayer, softmaxLayer, dropoutLayer, flattenLayer,
} from '../src/matlab/layers.js';
import {
  dlnetwork, forward, predict, initialize, dlupdate, adamupdate, sgdmupdate, rmspropupdate, DlNetwork, type Table,
} from '../src/matlab/dlnetwork.js';
import { crossentropy } from '../src/matlab/losses.js';
import { dlarray } from '../src/matlab/dlarray.js';
import { copyInto } from '../src/nn/module.js';
import type { Tensor } from '../src/index.js';

beforeAll(async () => { await wg.init(); });

const digitsLayers = () => [
  imageInputLayer([12, 12, 1]),
  convolution2dLayer(5, 4),
  batchNormalizationLayer(),
  reluLayer(),
  convolution2dLayer(3, 4, 'Padding', 'same'),
  batchNormalizationLayer(),
  reluLayer(),
  maxPooling2dLayer(2, { Stride: 2 }),
  fullyConnectedLayer(10),
  softmaxLayer(),
];

const rowsOf = (t: Table) => t.map((r) => [r.Layer, r.Parameter, r.Value.shape]);

describe('dlnetwork: layers, names, sizes', () => {
  it('infers sizes from the input layer and names the layers as MATLAB', () => {
    wg.seed(1);
    const net = dlnetwork(digitsLayers());
    expect(net).toBeInstanceOf(DlNetwork);
    expect(net.Initialized).toBe(true);
    expect(net.Layers.map((l) => l.Name)).toEqual(['imageinput', 'conv_1', 'batchnorm_1', 'relu_1', 'conv_2', 'batchnorm_2', 'relu_2', 'maxpool', 'fc', 'softmax']);
    expect(net.InputNames).toEqual(['imageinput']);
    expect(net.OutputNames).toEqual(['softmax']);
    expect(rowsOf(net.Learnables)).toEqual([
      ['conv_1', 'Weights', [5, 5, 1, 4]], ['conv_1', 'Bias', [1, 1, 4]],
      ['batchnorm_1', 'Offset', [1, 1, 4]], ['batchnorm_1', 'Scale', [1, 1, 4]],
      ['conv_2', 'Weights', [3, 3, 4, 4]], ['conv_2', 'Bias', [1, 1, 4]],
      ['batchnorm_2', 'Offset', [1, 1, 4]], ['batchnorm_2', 'Scale', [1, 1, 4]],
      ['fc', 'Weights', [10, 4 * 4 * 4]], ['fc', 'Bias', [10, 1]],
    ]);
    expect(rowsOf(net.State)).toEqual([
      ['batchnorm_1', 'TrainedMean', [1, 1, 4]], ['batchnorm_1', 'TrainedVariance', [1, 1, 4]],
      ['batchnorm_2', 'TrainedMean', [1, 1, 4]], ['batchnorm_2', 'TrainedVariance', [1, 1, 4]],
    ]);
    // MATLAB's initial values: Glorot uniform weights within their bound, zero biases and offsets, unit scales
    const L = net.Learnables;
    const bound = Math.sqrt(6 / (25 * 1 + 25 * 4));
    const w = Array.from(L[0].Value.data() as Float32Array);
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(bound / 2);
    expect(Array.from(L[1].Value.data() as Float32Array)).toEqual([0, 0, 0, 0]);
    expect(Array.from(L[3].Value.data() as Float32Array)).toEqual([1, 1, 1, 1]);
    expect(Array.from(net.State[1].Value.data() as Float32Array)).toEqual([1, 1, 1, 1]);
    expect((net.Layers[1] as any).NumChannels).toBe(1);
    expect((net.Layers[8] as any).InputSize).toBe(64);
    // the same seed gives the same weights
    wg.seed(1);
    const again = dlnetwork(digitsLayers());
    expectClose(again.Learnables[0].Value.data(), w, 0, 0);
    net.dispose();
    again.dispose();
  });

  it('shapes through the layers: SSCB in, CB out; an unformatted X takes the input layer\'s format', () => {
    wg.seed(2);
    const net = dlnetwork(digitsLayers());
    wg.tidy(() => {
      const X = dlarray(wg.rand([12, 12, 1, 3]), 'SSCB');
      const Y = predict(net, X);
      expect(Y.shape).toEqual([10, 3]);
      expect(Y.format).toBe('CB');
      expectClose(Y.sum(0).data(), [1, 1, 1], 1e-5, 1e-5);
      const Y2 = predict(net, wg.rand([12, 12, 1, 3]));
      expect(Y2.format).toBe('CB');
      const [Y3, state] = forward(net, X);
      expect(Y3.shape).toEqual([10, 3]);
      expect(rowsOf(state)).toEqual(rowsOf(net.State));
      return undefined;
    });
    net.dispose();
  });

  it('the other layers: padding, strides, pooling, flatten, dropout, leaky ReLU, feature input', () => {
    wg.seed(3);
    const net = dlnetwork([
      imageInputLayer([9, 8, 2], 'Name', 'in'),
      convolution2dLayer([3, 2], 5, { Stride: 2, Padding: 1, Name: 'c' }),
      leakyReluLayer(0.2),
      averagePooling2dLayer(2, 'Padding', 'same'),
      flattenLayer(),
      dropoutLayer(0.3),
      fullyConnectedLayer(3),
    ]);
    // conv: floor((9 + 2 - 3) / 2) + 1 = 5, floor((8 + 2 - 2) / 2) + 1 = 5; avgpool stride 1 'same' keeps 5 × 5
    expect(net.Learnables.map((r) => r.Value.shape)).toEqual([[3, 2, 2, 5], [1, 1, 5], [3, 125], [3, 1]]);
    expect(net.Layers.map((l) => l.Name)).toEqual(['in', 'c', 'leakyrelu', 'avgpool', 'flatten', 'dropout', 'fc']);
    wg.tidy(() => {
      const X = dlarray(wg.rand([9, 8, 2, 4]), 'SSCB');
      const a = predict(net, X).data(), b = predict(net, X).data();
      expectClose(a, b, 0, 0); // predict: no dropout
      wg.seed(5);
      const [f1] = forward(net, X);
      wg.seed(6);
      const [f2] = forward(net, X);
      expect(Array.from(f1.data() as Float32Array)).not.toEqual(Array.from(f2.data() as Float32Array)); // dropout in training
      return undefined;
    });
    net.dispose();

    const mlp = dlnetwork([featureInputLayer(6), fullyConnectedLayer(4), batchNormalizationLayer(), reluLayer(), fullyConnectedLayer(2), softmaxLayer()]);
    expect(rowsOf(mlp.Learnables)).toEqual([
      ['fc_1', 'Weights', [4, 6]], ['fc_1', 'Bias', [4, 1]], ['batchnorm', 'Offset', [4, 1]], ['batchnorm', 'Scale', [4, 1]],
      ['fc_2', 'Weights', [2, 4]], ['fc_2', 'Bias', [2, 1]],
    ]);
    wg.tidy(() => {
      const Y = predict(mlp, wg.rand([6, 5]));
      expect(Y.shape).toEqual([2, 5]);
      expect(Y.format).toBe('CB');
      return undefined;
    });
    mlp.dispose();
  });

  it('input normalisation: zerocenter and zscore with the given statistics', () => {
    const mean = [0.5, -1], std = [2, 4];
    const make = (o: object) => dlnetwork([featureInputLayer(2, o), fullyConnectedLayer(2, { WeightsInitializer: 'ones' })]);
    const none = make({}), zc = make({ Normalization: 'zerocenter', Mean: mean }), zs = make({ Normalization: 'zscore', Mean: mean, StandardDeviation: std });
    wg.tidy(() => {
      const X = wg.tensor([[1, 3], [2, 5]]); // 2 features × 2 observations
      const sumOf = (x: number[][]) => x[0].map((_, j) => x[0][j] + x[1][j]);
      expectClose(predict(none, X).data(), [3, 8, 3, 8], 1e-6, 1e-6);
      const c = [[1 - 0.5, 3 - 0.5], [2 + 1, 5 + 1]];
      expectClose(predict(zc, X).data(), [...sumOf(c), ...sumOf(c)], 1e-6, 1e-6);
      const z = [[(1 - 0.5) / 2, (3 - 0.5) / 2], [(2 + 1) / 4, (5 + 1) / 4]];
      expectClose(predict(zs, X).data(), [...sumOf(z), ...sumOf(z)], 1e-6, 1e-6);
      return undefined;
    });
    for (const n of [none, zc, zs]) n.dispose();
  });

  it('without an input layer: uninitialised until initialize(net, X)', () => {
    const net = dlnetwork([convolution2dLayer(3, 2), reluLayer(), fullyConnectedLayer(3)]);
    expect(net.Initialized).toBe(false);
    expect(net.Learnables).toEqual([]);
    const X = dlarray(wg.rand([6, 6, 3, 2]), 'SSCB');
    expect(initialize(net, X)).toBe(net);
    expect(rowsOf(net.Learnables)).toEqual([['conv', 'Weights', [3, 3, 3, 2]], ['conv', 'Bias', [1, 1, 2]], ['fc', 'Weights', [3, 32]], ['fc', 'Bias', [3, 1]]]);
    wg.tidy(() => { expect(predict(net, X).shape).toEqual([3, 2]); return undefined; });
    const net2 = dlnetwork([fullyConnectedLayer(3)], dlarray(wg.rand([4, 2]), 'CB'));
    expect(net2.Initialized).toBe(true);
    expect(net2.Learnables[0].Value.shape).toEqual([3, 4]);
    const net3 = dlnetwork([featureInputLayer(4), fullyConnectedLayer(3)], { Initialize: false });
    expect(net3.Initialized).toBe(false);
    initialize(net3);
    expect(net3.Initialized).toBe(true);
    X.dispose();
    for (const n of [net, net2, net3]) n.dispose();
  });
});

describe('forward, predict and the state', () => {
  it('forward normalises with the batch statistics and returns the updated running ones; predict uses the stored ones', () => {
    const net = dlnetwork([featureInputLayer(2), batchNormalizationLayer()]);
    const X = wg.tensor([[1, 2, 3, 6], [0, 0, 4, 4]]); // 2 channels × 4 observations
    wg.tidy(() => {
      const [Y, state] = forward(net, X);
      // batch statistics: channel 0 mean 3, var 3.5; channel 1 mean 2, var 4
      const ref = [[1, 2, 3, 6].map((v) => (v - 3) / Math.sqrt(3.5 + 1e-5)), [0, 0, 4, 4].map((v) => (v - 2) / Math.sqrt(4 + 1e-5))].flat();
      expectClose(Y.data(), ref, 1e-5, 1e-5);
      expect(state.map((r) => r.Parameter)).toEqual(['TrainedMean', 'TrainedVariance']);
      expectClose(state[0].Value.data(), [0.3, 0.2], 1e-6, 1e-6); // 0.1·batch + 0.9·0
      // predict: running statistics 0 and 1, so the identity (scale 1, offset 0) up to epsilon
      expectClose(predict(net, X).data(), [1, 2, 3, 6, 0, 0, 4, 4].map((v) => v / Math.sqrt(1 + 1e-5)), 1e-6, 1e-6);
      net.State = state;
      expectClose(net.State[0].Value.data(), [0.3, 0.2], 1e-6, 1e-6);
      expect(net.State[0].Value).toBe(state[0].Value);
      const m = 0.3, s = net.State[1].Value.data()[0];
      expectClose(predict(net, X).data()[0], (1 - m) / Math.sqrt(s + 1e-5), 1e-5, 1e-5);
      return undefined;
    });
    expect(net.State[0].Value.isAlive).toBe(true); // the network owns the state it was given
    X.dispose();
    net.dispose();
  });

  it('Outputs: the outputs of named layers (MATLAB\'s [Y1, …, YN, state] = forward(net, X, Outputs=names))', () => {
    wg.seed(8);
    const net = dlnetwork([featureInputLayer(3), fullyConnectedLayer(4), batchNormalizationLayer(), reluLayer(), fullyConnectedLayer(2)]);
    wg.tidy(() => {
      const X = wg.rand([3, 5]);
      const [fc1, relu, Y, state] = forward(net, X, { Outputs: ['fc_1', 'relu', 'fc_2'] }) as [Tensor, Tensor, Tensor, Table];
      expect([fc1.shape, relu.shape, Y.shape]).toEqual([[4, 5], [4, 5], [2, 5]]);
      expect(state.length).toBe(2);
      expectClose(Y.data(), forward(net, X)[0].data(), 0, 0);
      const single = predict(net, X, 'Outputs', 'fc_1');
      expectClose(single.data(), fc1.data(), 0, 0);
      const listed = predict(net, X, { Outputs: ['fc_2'] });
      expect(Array.isArray(listed)).toBe(true);
      expectClose(listed[0].data(), predict(net, X).data(), 0, 0);
      const inputs = predict(net, X, { Outputs: ['input', 'input'] });
      expect(inputs[0]).not.toBe(X);
      expect(inputs[1]).not.toBe(inputs[0]);
      return undefined;
    });
    expectError(() => wg.tidy(() => predict(net, wg.rand([3, 2]), { Outputs: 'rleu' })), wg.ValueError, ['predict', "'rleu'", "Did you mean 'relu'"]);
    net.dispose();
  });

  it('the Module form: net.forward in training mode keeps the new statistics, net.predict does not', () => {
    const net = dlnetwork([featureInputLayer(2), batchNormalizationLayer()]);
    wg.tidy(() => {
      const X = wg.tensor([[1, 2, 3, 6], [0, 0, 4, 4]]);
      net.predict(X);
      expectClose(net.State[0].Value.data(), [0, 0], 0, 0);
      net.forward(X);
      expectClose(net.State[0].Value.data(), [0.3, 0.2], 1e-6, 1e-6);
      return undefined;
    });
    net.dispose();
  });

  it('is a Module: saved and loaded by its parameter names, learnables and state', () => {
    wg.seed(21);
    const a = dlnetwork([featureInputLayer(3), fullyConnectedLayer(2), batchNormalizationLayer()]);
    wg.tidy(() => { a.State = forward(a, wg.rand([3, 4]))[1]; return undefined; });
    const bytes = wg.io.save(a);
    wg.seed(22);
    const b = dlnetwork([featureInputLayer(3), fullyConnectedLayer(2), batchNormalizationLayer()]);
    wg.io.load(bytes, b);
    expect(Object.keys(b.stateDict())).toEqual(['fc.Weights', 'fc.Bias', 'batchnorm.Offset', 'batchnorm.Scale', 'batchnorm.TrainedMean', 'batchnorm.TrainedVariance']);
    [...a.Learnables, ...a.State].forEach((r, i) => expectClose([...b.Learnables, ...b.State][i].Value.data(), r.Value.data(), 0, 0));
    a.dispose();
    b.dispose();
  });

  it('net.Learnables = table copies values in', () => {
    const net = dlnetwork([featureInputLayer(2), fullyConnectedLayer(1)]);
    const w = net.Learnables[0].Value;
    const rows = net.Learnables.map((r) => ({ ...r, Value: wg.onesLike(r.Value) }));
    net.Learnables = rows;
    expect(net.Learnables[0].Value).toBe(w);
    expectClose(w.data(), [1, 1], 0, 0);
    wg.dispose(rows.map((r) => r.Value));
    net.dispose();
  });
});

describe('gradients: dlfeval with dlgradient(loss, net.Learnables)', () => {
  function tinyNet(): DlNetwork {
    wg.seed(11);
    const net = dlnetwork([
      imageInputLayer([4, 4, 2]), convolution2dLayer(3, 3, 'Padding', 'same'), batchNormalizationLayer(), leakyReluLayer(0.1),
      averagePooling2dLayer(2, 'Stride', 2), fullyConnectedLayer(3), softmaxLayer(),
    ]);
    net.to('float64');
    // non-trivial offsets and scales
    wg.tidy(() => {
      for (const r of net.Learnables) if (r.Layer.startsWith('batchnorm')) copyInto(r.Value, wg.rand(r.Value.shape, { dtype: 'float64' }).add(0.5));
      return undefined;
    });
    return net;
  }

  it('matches central differences for every learnable, in the table\'s structure', () => {
    const net = tinyNet();
    const X = dlarray(wg.rand([4, 4, 2, 5], { dtype: 'float64' }), 'SSCB');
    const T = wg.tensor([[1, 0, 0, 1, 0], [0, 1, 0, 0, 0], [0, 0, 1, 0, 1]], { dtype: 'float64' });
    const modelLoss = (n: DlNetwork, x: Tensor, t: Tensor) => {
      const [Y, state] = forward(n, x);
      const loss = crossentropy(Y, t);
      const gradients = dlgradient(loss, n.Learnables);
      return [loss, gradients, state];
    };
    const { dlgradient } = wg;
    const [loss, gradients, state] = wg.dlfeval(modelLoss, net, X, T) as [Tensor, Table, Table];
    expect(gradients.map((r) => [r.Layer, r.Parameter])).toEqual(net.Learnables.map((r) => [r.Layer, r.Parameter]));
    const lossAt = () => wg.tidy(() => crossentropy(forward(net, X)[0], T).item());
    expectClose(loss.item(), lossAt(), 1e-12, 1e-12);
    const eps = 1e-6;
    for (const [i, row] of net.Learnables.entries()) {
      const p = row.Value;
      const base = Float64Array.from(p.data() as Float64Array);
      const g = gradients[i].Value.data() as Float64Array;
      expect(gradients[i].Value.shape).toEqual(p.shape);
      const picks = [0, Math.floor(base.length / 2), base.length - 1];
      for (const k of picks) {
        const at = (d: number) => {
          const v = Float64Array.from(base);
          v[k] += d;
          wg.tidy(() => { copyInto(p, wg.tensor(v, { shape: p.shape, dtype: 'float64' })); return undefined; });
          return lossAt();
        };
        const fd = (at(eps) - at(-eps)) / (2 * eps);
        at(0);
        expect(Math.abs(g[k] - fd), `${row.Layer}.${row.Parameter}[${k}]: ${g[k]} vs ${fd}`).toBeLessThan(1e-7 + 1e-6 * Math.abs(fd));
      }
    }
    wg.dispose([loss, gradients.map((r) => r.Value), state.map((r) => r.Value)]);
    X.dispose();
    T.dispose();
    net.dispose();
  });

  it('dlgradient(loss, net) gives the gradients by parameter name; the same values', () => {
    const net = tinyNet();
    const X = dlarray(wg.rand([4, 4, 2, 3], { dtype: 'float64' }), 'SSCB');
    const T = wg.tensor([[1, 0, 0], [0, 1, 0], [0, 0, 1]], { dtype: 'float64' });
    const [a, b] = wg.dlfeval((n: DlNetwork, x: Tensor, t: Tensor) => {
      const loss = crossentropy(forward(n, x)[0], t);
      return [wg.dlgradient(loss, n.Learnables), wg.dlgradient(loss, n)];
    }, net, X, T) as [Table, Record<string, Tensor>];
    expect(Object.keys(b)).toEqual(a.map((r) => `${r.Layer}.${r.Parameter}`));
    a.forEach((r) => expectClose(r.Value.data(), b[`${r.Layer}.${r.Parameter}`].data(), 0, 0));
    wg.dispose([a.map((r) => r.Value), b, X, T]);
    net.dispose();
  });
});

describe('updates on tables', () => {
  const grads = (net: DlNetwork, v: number): Table => net.Learnables.map((r) => ({ ...r, Value: wg.full(r.Value.shape, v) }));

  it('sgdmupdate: in place, velocity as a table (MATLAB: vel = momentum·vel − lr·g; w += vel)', () => {
    const net = dlnetwork([featureInputLayer(2), fullyConnectedLayer(2, 'WeightsInitializer', 'ones')]);
    const g = grads(net, 1);
    const [n1, vel] = sgdmupdate(net, g, [], 0.1, 0.9);
    expect(n1).toBe(net);
    expect(vel.map((r: any) => [r.Layer, r.Parameter])).toEqual([['fc', 'Weights'], ['fc', 'Bias']]);
    expectClose(net.Learnables[0].Value.data(), [0.9, 0.9, 0.9, 0.9], 1e-6, 1e-6);
    const [, vel2] = sgdmupdate(net, g, vel, 0.1, 0.9);
    expect(vel2[0].Value).toBe(vel[0].Value);
    expectClose(net.Learnables[0].Value.data(), [0.9 - 0.19, 0.9 - 0.19, 0.9 - 0.19, 0.9 - 0.19], 1e-6, 1e-6);
    expectClose(net.Learnables[1].Value.data(), [-0.29, -0.29], 1e-6, 1e-6);
    wg.dispose([g.map((r) => r.Value), vel.map((r: any) => r.Value)]);
    net.dispose();
  });

  it('adamupdate and rmspropupdate on the network and on a Learnables table; the Module form still works', () => {
    const net = dlnetwork([featureInputLayer(2), fullyConnectedLayer(2, 'WeightsInitializer', 'zeros')]);
    const g = grads(net, 2);
    const [, m, v] = adamupdate(net, g, [], [], 1, 0.01);
    // first Adam step: −lr · m̂ / (√v̂ + ε) = −0.01 per element
    expectClose(net.Learnables[0].Value.data(), [-0.01, -0.01, -0.01, -0.01], 1e-5, 1e-6);
    const [, m2, v2] = adamupdate(net.Learnables, g, m, v, 2, 0.01);
    expectClose(net.Learnables[0].Value.data(), [-0.02, -0.02, -0.02, -0.02], 1e-5, 1e-6);
    expect(m2[0].Value).toBe(m[0].Value);
    const [, s] = rmspropupdate(net, g, [], 0.001);
    expect(s.length).toBe(2);
    // the tensor / object form of src/optim/matlab.ts goes through unchanged
    const w = wg.zeros([2]);
    const [, vt] = sgdmupdate(w, wg.ones([2]), null, 0.5, 0);
    expectClose(w.data(), [-0.5, -0.5], 0, 0);
    wg.dispose([g.map((r) => r.Value), m.map((r: any) => r.Value), v.map((r: any) => r.Value), s.map((r: any) => r.Value), w, vt]);
    net.dispose();
  });

  it('dlupdate: fcn over every learnable and its gradient, in place for a network; extra outputs as tables', () => {
    const net = dlnetwork([featureInputLayer(2), fullyConnectedLayer(2, 'WeightsInitializer', 'ones')]);
    const g = grads(net, 1);
    const w = net.Learnables[0].Value;
    expect(dlupdate((p: Tensor, d: Tensor) => p.sub(d.mul(0.5)), net, g)).toBe(net);
    expect(net.Learnables[0].Value).toBe(w);
    expectClose(w.data(), [0.5, 0.5, 0.5, 0.5], 0, 0);
    const [same, extra] = dlupdate((p: Tensor, d: Tensor) => [p.add(d), d.mul(3)], net, g);
    expect(same).toBe(net);
    expectClose(w.data(), [1.5, 1.5, 1.5, 1.5], 0, 0);
    expectClose(extra[1].Value.data(), [3, 3], 0, 0);
    const table = dlupdate((p: Tensor) => p.mul(2), net.Learnables) as Table;
    expectClose(table[0].Value.data(), [3, 3, 3, 3], 0, 0);
    expectClose(w.data(), [1.5, 1.5, 1.5, 1.5], 0, 0);
    const obj = dlupdate((p: Tensor, q: Tensor) => p.add(q), { a: wg.ones([2]) }, { a: wg.ones([2]) });
    expectClose(obj.a.data(), [2, 2], 0, 0);
    wg.dispose([g.map((r) => r.Value), extra.map((r: any) => r.Value), table.map((r) => r.Value), obj]);
    net.dispose();
  });
});

describe('errors and memory', () => {
  it('names what is wrong', () => {
    expectError(() => dlnetwork([]), wg.ValueError, ['dlnetwork', 'non-empty']);
    expectError(() => dlnetwork([reluLayer(), 3 as any]), wg.ValueError, ['layers[1]']);
    expectError(() => dlnetwork([reluLayer('Name', 'a'), reluLayer('Name', 'a')]), wg.ValueError, ["'a'", 'unique']);
    expectError(() => dlnetwork([reluLayer(), imageInputLayer([2, 2])]), wg.ValueError, ['input layer']);
    expectError(() => dlnetwork([featureInputLayer(3), convolution2dLayer(3, 2)]), wg.ValueError, ["layer 'conv'", 'Convolution2DLayer']);
    expectError(() => convolution2dLayer(3, 2, 'Padding', 'valid'), wg.ValueError, ['convolution2dLayer', 'Padding']);
    expectError(() => convolution2dLayer(3, 2, 'Paddin', 1), wg.ValueError, ['convolution2dLayer', "'Paddin'", "Did you mean 'Padding'"]);
    expectError(() => imageInputLayer([28, 28, 1], 'Normalization', 'zerocenter'), wg.ValueError, ['imageInputLayer', 'Mean']);
    expectError(() => fullyConnectedLayer(0), wg.ValueError, ['fullyConnectedLayer', 'outputSize']);
    const net = dlnetwork([imageInputLayer([4, 4, 1]), fullyConnectedLayer(2)]);
    expectError(() => wg.tidy(() => predict(net, wg.rand([5, 4, 1, 2]))), wg.ShapeError, ['predict', "'imageinput'", '[4, 4, 1]']);
    expectError(() => wg.tidy(() => predict(net, dlarray(wg.rand([16, 2]), 'CB'))), wg.ValueError, ['predict', "'CB'", "'SSCB'"]);
    expectError(() => predict({} as any, null as any), wg.ValueError, ['predict', 'dlnetwork']);
    expectError(() => { net.State = [{ Layer: 'x', Parameter: 'y', Value: null as any }]; }, wg.ValueError, ["'x/y'"]);
    expectError(() => wg.tidy(() => sgdmupdate(net, [{ Layer: 'fc', Parameter: 'Weights', Value: wg.zeros([2, 16]) }], [])), wg.ValueError, ['sgdmupdate', "'fc'", "'Bias'"]);
    const bare = dlnetwork([reluLayer()]);
    expectError(() => wg.tidy(() => predict(bare, wg.rand([2, 2]))), wg.ValueError, ['predict', 'initialize']);
    expectError(() => initialize(bare), wg.ValueError, ['initialize', 'example input']);
    net.dispose();
    bare.dispose();
  });

  it('a training loop leaks nothing: dlfeval, net.State = state, sgdmupdate, dispose', () => {
    expectNoLeak(() => {
      wg.seed(4);
      const net = dlnetwork([imageInputLayer([6, 6, 1]), convolution2dLayer(3, 2), batchNormalizationLayer(), reluLayer(), dropoutLayer(0.2), fullyConnectedLayer(3), softmaxLayer()]);
      const X = wg.tidy(() => dlarray(wg.rand([6, 6, 1, 4]), 'SSCB'));
      const T = wg.tensor([[1, 0, 0, 1], [0, 1, 0, 0], [0, 0, 1, 0]]);
      let vel: any = [];
      let first = 0, last = 0;
      for (let it = 1; it <= 5; it++) {
        const [loss, gradients, state] = wg.dlfeval((n: DlNetwork, x: Tensor, t: Tensor) => {
          const [Y, s] = forward(n, x);
          const l = crossentropy(Y, t);
          return [l, wg.dlgradient(l, n.Learnables), s];
        }, net, X, T) as [Tensor, Table, Table];
        net.State = state;
        [, vel] = sgdmupdate(net, gradients, vel, 0.05, 0.9);
        if (it === 1) first = loss.item();
        last = loss.item();
        wg.dispose([loss, gradients.map((r) => r.Value)]);
      }
      expect(last).toBeLessThan(first);
      wg.dispose([X, T, vel.map((r: any) => r.Value)]);
      net.dispose();
    });
  });
});
