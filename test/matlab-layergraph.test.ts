// MATLAB's branched networks (src/matlab/layergraph.ts, src/matlab/dlnetwork.ts): layerGraph,
// addLayers, connectLayers ('add/in2' ports), disconnectLayers, removeLayers, additionLayer,
// concatenationLayer and depthConcatenationLayer, dlnetwork(lgraph). A residual block against
// the same computation written with dlconv / batchnorm / relu, its gradients against central
// differences (the input fans out to two branches), concatenation against concat of the
// branches, and the errors MATLAB gives (unconnected inputs naming the layer and port, unknown
// names with the nearest, a port connected twice, cycles), named.

import { beforeAll, describe, expect, it } from 'vitest';
import { wg, expectClose } from './helpers.js';
import { expectError } from './nn-helpers.js';
import { expectLearnableGradients } from './matlab-helpers.js';
import {
  imageInputLayer, convolution2dLayer, batchNormalizationLayer, reluLayer, fullyConnectedLayer, featureInputLayer,
  additionLayer, concatenationLayer, depthConcatenationLayer,
} from '../src/matlab/layers.js';
import { layerGraph, addLayers, connectLayers, disconnectLayers, removeLayers } from '../src/matlab/layergraph.js';
import { dlnetwork, forward, predict, type DlNetwork } from '../src/matlab/dlnetwork.js';
import { dlarray } from '../src/matlab/dlarray.js';
import { dlconv, batchnorm } from '../src/matlab/dlnn.js';
import { copyInto } from '../src/nn/module.js';
import type { Tensor } from '../src/index.js';

beforeAll(async () => { await wg.init(); });

/** MATLAB's residual block: conv-bn-relu-conv-bn, plus a 1×1 convolution of the input, then relu. */
function residualGraph() {
  let lgraph = layerGraph([
    imageInputLayer([6, 6, 3], 'Name', 'in'),
    convolution2dLayer(3, 4, 'Padding', 'same', 'Name', 'conv1'),
    batchNormalizationLayer('Name', 'bn1'),
    reluLayer('Name', 'relu1'),
    convolution2dLayer(3, 4, 'Padding', 'same', 'Name', 'conv2'),
    batchNormalizationLayer('Name', 'bn2'),
    additionLayer(2, 'Name', 'add'),
    reluLayer('Name', 'relu2'),
  ]);
  lgraph = addLayers(lgraph, convolution2dLayer(1, 4, 'Name', 'skipConv'));
  lgraph = connectLayers(lgraph, 'in', 'skipConv');
  return connectLayers(lgraph, 'skipConv', 'add/in2');
}

const value = (net: DlNetwork, layer: string, p: string): Tensor => net.Learnables.find((r) => r.Layer === layer && r.Parameter === p)!.Value;

/** The residual block written out with MATLAB's functions, the network's learnables, batch statistics. */
function handWritten(net: DlNetwork, X: Tensor): Tensor {
  const v = (l: string, p: string) => value(net, l, p);
  let y = dlconv(X, v('conv1', 'Weights'), v('conv1', 'Bias'), { Padding: 'same' });
  y = batchnorm(y, v('bn1', 'Offset'), v('bn1', 'Scale'))[0].relu();
  y = dlconv(y, v('conv2', 'Weights'), v('conv2', 'Bias'), { Padding: 'same' });
  y = batchnorm(y, v('bn2', 'Offset'), v('bn2', 'Scale'))[0];
  const skip = dlconv(X, v('skipConv', 'Weights'), v('skipConv', 'Bias'));
  return y.add(skip).relu();
}

describe('layerGraph and dlnetwork(lgraph)', () => {
  it('a residual block: the graph\'s tables, the layers in topological order, forward equal to the block written out', () => {
    const lgraph = residualGraph();
    expect(lgraph.Layers.map((l) => l.Name)).toEqual(['in', 'conv1', 'bn1', 'relu1', 'conv2', 'bn2', 'add', 'relu2', 'skipConv']);
    expect(lgraph.Connections).toEqual([
      { Source: 'in', Destination: 'conv1/in' }, { Source: 'conv1', Destination: 'bn1/in' }, { Source: 'bn1', Destination: 'relu1/in' },
      { Source: 'relu1', Destination: 'conv2/in' }, { Source: 'conv2', Destination: 'bn2/in' }, { Source: 'bn2', Destination: 'add/in1' },
      { Source: 'add', Destination: 'relu2/in' }, { Source: 'in', Destination: 'skipConv/in' }, { Source: 'skipConv', Destination: 'add/in2' },
    ]);
    expect([lgraph.InputNames, lgraph.OutputNames]).toEqual([['in'], ['relu2']]);
    wg.seed(1);
    const net = dlnetwork(lgraph);
    expect(net.Layers.map((l) => l.Name)).toEqual(['in', 'conv1', 'bn1', 'relu1', 'conv2', 'bn2', 'skipConv', 'add', 'relu2']);
    expect([net.InputNames, net.OutputNames]).toEqual([['in'], ['relu2']]);
    expect(net.Connections).toEqual(lgraph.Connections);
    expect(net.Learnables.map((r) => `${r.Layer}/${r.Parameter} ${r.Value.shape.join('×')}`)).toEqual([
      'conv1/Weights 3×3×3×4', 'conv1/Bias 1×1×4', 'bn1/Offset 1×1×4', 'bn1/Scale 1×1×4', 'conv2/Weights 3×3×4×4', 'conv2/Bias 1×1×4',
      'bn2/Offset 1×1×4', 'bn2/Scale 1×1×4', 'skipConv/Weights 1×1×3×4', 'skipConv/Bias 1×1×4',
    ]);
    expect((net.Layers[6] as any).NumChannels).toBe(3);
    wg.tidy(() => {
      for (const r of net.Learnables) if (r.Parameter !== 'Weights') copyInto(r.Value, wg.rand(r.Value.shape).add(0.5));
      const X = dlarray(wg.rand([6, 6, 3, 5]), 'SSCB');
      const [Y, state] = forward(net, X);
      expect([Y.shape, Y.format]).toEqual([[6, 6, 4, 5], 'SSCB']);
      expectClose(Y.data(), handWritten(net, X).data(), 1e-6, 1e-6);
      expect(state.map((r) => `${r.Layer}/${r.Parameter}`)).toEqual(['bn1/TrainedMean', 'bn1/TrainedVariance', 'bn2/TrainedMean', 'bn2/TrainedVariance']);
      // predict: the branch outputs by name, and the sum
      const [a, b, s] = predict(net, X, { Outputs: ['bn2', 'skipConv', 'add'] });
      expectClose(s.data(), a.add(b).data(), 1e-6, 1e-6);
      return undefined;
    });
    net.dispose();
  });

  it('gradients through the fan-out and the addition match central differences (float64)', () => {
    wg.seed(2);
    const net = dlnetwork(residualGraph());
    net.to('float64');
    const X = dlarray(wg.rand([6, 6, 3, 2], { dtype: 'float64' }), 'SSCB');
    const T = dlarray(wg.rand([6, 6, 4, 2], { dtype: 'float64' }), 'SSCB');
    const lossOf = (n: DlNetwork) => forward(n, X)[0].sub(T).square().mean();
    const g = wg.dlfeval((n: DlNetwork) => wg.dlgradient(lossOf(n), n.Learnables), net) as { Layer: string; Parameter: string; Value: Tensor }[];
    expectLearnableGradients(net, lossOf, g);
    wg.dispose([g.map((r) => r.Value), X, T]);
    net.dispose();
  });

  it('depthConcatenationLayer and concatenationLayer(dim, n) join the branches as concat does; two outputs come back in order', () => {
    wg.seed(3);
    let lgraph = layerGraph([imageInputLayer([4, 4, 2], 'Name', 'in'), convolution2dLayer(3, 3, 'Padding', 'same', 'Name', 'a'), depthConcatenationLayer(2, 'Name', 'cat')]);
    lgraph = addLayers(lgraph, [convolution2dLayer(1, 2, 'Name', 'b'), reluLayer('Name', 'rb')]);
    lgraph = connectLayers(lgraph, 'in', 'b');
    lgraph = connectLayers(lgraph, 'rb', 'cat/in2');
    lgraph = addLayers(lgraph, concatenationLayer(2, 2, 'Name', 'cat2')); // dim 2 (0-based) of 'SSCB': the channels
    lgraph = connectLayers(lgraph, 'a', 'cat2/in1');
    lgraph = connectLayers(lgraph, 'rb', 'cat2/in2');
    lgraph = addLayers(lgraph, concatenationLayer(3, 2, 'Name', 'catB')); // dim 3: the observations
    lgraph = connectLayers(lgraph, 'cat', 'catB/in1');
    lgraph = connectLayers(lgraph, 'cat2', 'catB/in2');
    const net = dlnetwork(lgraph);
    expect(net.OutputNames).toEqual(['catB']);
    wg.tidy(() => {
      const X = wg.rand([4, 4, 2, 3]);
      const [A, RB, C, C2, CB] = predict(net, X, { Outputs: ['a', 'rb', 'cat', 'cat2', 'catB'] });
      expect([C.shape, C.format, CB.shape]).toEqual([[4, 4, 5, 3], 'SSCB', [4, 4, 5, 6]]);
      expectClose(C.data(), wg.concat([A, RB], 2).data(), 0, 0);
      expectClose(C2.data(), C.data(), 0, 0);
      expectClose(CB.data(), wg.concat([C, C2], 3).data(), 0, 0);
      return undefined;
    });
    net.dispose();
    // two unconnected outputs: forward gives both, then the state
    let two = layerGraph([featureInputLayer(3, 'Name', 'in'), fullyConnectedLayer(2, 'Name', 'f1')]);
    two = addLayers(two, fullyConnectedLayer(4, 'Name', 'f2'));
    two = connectLayers(two, 'in', 'f2');
    const net2 = dlnetwork(two);
    expect(net2.OutputNames).toEqual(['f1', 'f2']);
    wg.tidy(() => {
      const out = forward(net2, wg.rand([3, 5]));
      expect(out.length).toBe(3);
      expect([(out[0] as Tensor).shape, (out[1] as Tensor).shape, out[2]]).toEqual([[2, 5], [4, 5], []]);
      expect(predict(net2, wg.rand([3, 5])).map((t: Tensor) => t.shape)).toEqual([[2, 5], [4, 5]]);
      return undefined;
    });
    net2.dispose();
  });

  it('graphs are values; disconnectLayers and removeLayers', () => {
    const g1 = residualGraph();
    const g2 = disconnectLayers(g1, 'skipConv', 'add/in2');
    expect(g1.Connections.length).toBe(9);
    expect(g2.Connections.length).toBe(8);
    expect(g2.InputNames).toEqual(['in', 'add/in2']);
    const g3 = removeLayers(g1, 'skipConv');
    expect(g3.Layers.map((l) => l.Name)).not.toContain('skipConv');
    expect(g3.Connections.some((c) => c.Source === 'skipConv' || c.Destination.startsWith('skipConv'))).toBe(false);
    const g4 = connectLayers(g3, 'relu1', 'add/in2'); // the other classic residual: the identity shortcut
    wg.seed(4);
    const net = dlnetwork(g4);
    wg.tidy(() => {
      const X = wg.rand([6, 6, 3, 2]);
      const [r1, b2, y] = predict(net, X, { Outputs: ['relu1', 'bn2', 'relu2'] });
      expectClose(y.data(), r1.add(b2).relu().data(), 1e-6, 1e-6);
      return undefined;
    });
    net.dispose();
    // unnamed layers get MATLAB's names, which connectLayers takes
    let g = layerGraph([featureInputLayer(2), fullyConnectedLayer(2), additionLayer(2)]);
    expect(g.Layers.map((l) => l.Name)).toEqual(['input', 'fc', 'addition']);
    g = addLayers(g, [fullyConnectedLayer(2), reluLayer()]);
    expect(g.Layers.map((l) => l.Name)).toEqual(['input', 'fc', 'addition', 'fc_1', 'relu']);
    g = connectLayers(g, 'input', 'fc_1');
    g = connectLayers(g, 'relu', 'addition/in2');
    const small = dlnetwork(g);
    expect(small.OutputNames).toEqual(['addition']);
    small.dispose();
  });

  it('errors name the layer and port: unconnected inputs, unknown names (the nearest), a port connected twice, cycles, sizes', () => {
    const g = residualGraph();
    const open = disconnectLayers(g, 'skipConv', 'add/in2');
    expectError(() => dlnetwork(open), wg.ValueError, ["layer 'add'", "unconnected input 'in2'", "connectLayers(lgraph, 'source', 'add/in2')"]);
    expectError(() => connectLayers(g, 'conv1', 'ad/in2'), wg.ValueError, ['connectLayers', "layer 'ad'", "Did you mean 'add'?"]);
    expectError(() => connectLayers(g, 'conv1', 'add/in3'), wg.ValueError, ['connectLayers', "layer 'add' has no input 'in3'", "'in1', 'in2'"]);
    expectError(() => connectLayers(g, 'conv1', 'add'), wg.ValueError, ['connectLayers', "layer 'add' has inputs 'in1', 'in2'", "'add/in1'"]);
    expectError(() => connectLayers(g, 'conv1', 'add/in1'), wg.ValueError, ["input 'add/in1' is already connected to 'bn2'"]);
    expectError(() => connectLayers(g, 'conv1', 'in'), wg.ValueError, ["layer 'in'", 'input layer']);
    expectError(() => connectLayers(g, 'conv1/output', 'relu2'), wg.ValueError, ["layer 'conv1' has no output 'output'"]);
    expectError(() => disconnectLayers(g, 'conv1', 'relu2'), wg.ValueError, ["'conv1' is not connected to 'relu2/in'"]);
    expectError(() => removeLayers(g, 'reluu1'), wg.ValueError, ['removeLayers', "'reluu1'", "Did you mean 'relu1'?"]);
    expectError(() => addLayers(g, reluLayer('Name', 'relu1')), wg.ValueError, ['addLayers', "two layers are named 'relu1'"]);
    expectError(() => additionLayer(1), wg.ValueError, ['additionLayer', 'numInputs', 'at least 2']);
    expectError(() => concatenationLayer(-1, 2), wg.ValueError, ['concatenationLayer', 'dim', '0-based']);
    expectError(() => additionLayer(2, 'Nam', 'x'), wg.ValueError, ['additionLayer', "'Nam'", "Did you mean 'Name'?"]);
    let cyc = layerGraph([featureInputLayer(2, 'Name', 'in'), additionLayer(2, 'Name', 'add'), fullyConnectedLayer(2, 'Name', 'fc')]);
    cyc = connectLayers(cyc, 'fc', 'add/in2');
    expectError(() => dlnetwork(cyc), wg.ValueError, ['dlnetwork', 'cycle', "'add'", "'fc'"]);
    // addition of branches of different sizes: named at initialisation
    let bad = layerGraph([imageInputLayer([4, 4, 1], 'Name', 'in'), convolution2dLayer(3, 2, 'Name', 'c'), additionLayer(2, 'Name', 'add')]);
    bad = connectLayers(bad, 'in', 'add/in2');
    expectError(() => dlnetwork(bad), wg.ShapeError, ["layer 'add'", 'different sizes', '[2, 2, 2, 1]', '[4, 4, 1, 1]']);
    // the runtime keeps working
    const net = dlnetwork(g);
    wg.tidy(() => { expect(predict(net, wg.rand([6, 6, 3, 1])).shape).toEqual([6, 6, 4, 1]); return undefined; });
    net.dispose();
  });
});
