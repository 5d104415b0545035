// MATLAB's layer constructors and dlnetwork (src/matlab/layers.ts, src/matlab/dlnetwork.ts): one
// case per schema. Each layer takes its options as one object or MATLAB's name-value pairs.
import {
  imageInputLayer, featureInputLayer, convolution2dLayer, batchNormalizationLayer, reluLayer, leakyReluLayer,
  maxPooling2dLayer, averagePooling2dLayer, fullyConnectedLayer, softmaxLayer, dropoutLayer, flattenLayer,
  transposedConv2dLayer, tanhLayer, sigmoidLayer, projectAndReshapeLayer, additionLayer, concatenationLayer,
  depthConcatenationLayer, sequenceInputLayer, lstmLayer, gruLayer,
} from '../../src/matlab/layers.js';
import { dlnetwork, forward, predict } from '../../src/matlab/dlnetwork.js';
import * as wg from '../../src/index.js';

/** calls f with a small network, disposed afterwards */
const withNet = (f: (net: ReturnType<typeof dlnetwork>) => unknown) => {
  const net = dlnetwork([featureInputLayer(2), fullyConnectedLayer(1)]);
  try { return f(net); } finally { net.dispose(); }
};
import type { OptionCase } from './types.js';

export const cases: OptionCase[] = [
  { name: 'imageInputLayer', call: (o) => imageInputLayer([4, 4, 1], o) },
  { name: 'featureInputLayer', call: (o) => featureInputLayer(3, o) },
  { name: 'convolution2dLayer', call: (o) => convolution2dLayer(3, 2, o) },
  { name: 'batchNormalizationLayer', call: (o) => batchNormalizationLayer(o) },
  { name: 'reluLayer', call: (o) => reluLayer(o) },
  { name: 'leakyReluLayer', call: (o) => leakyReluLayer(0.1, o) },
  { name: 'maxPooling2dLayer', call: (o) => maxPooling2dLayer(2, o) },
  { name: 'averagePooling2dLayer', call: (o) => averagePooling2dLayer(2, o) },
  { name: 'fullyConnectedLayer', call: (o) => fullyConnectedLayer(3, o) },
  { name: 'softmaxLayer', call: (o) => softmaxLayer(o) },
  { name: 'dropoutLayer', call: (o) => dropoutLayer(0.5, o) },
  { name: 'flattenLayer', call: (o) => flattenLayer(o) },
  { name: 'transposedConv2dLayer', call: (o) => transposedConv2dLayer(3, 2, o) },
  { name: 'tanhLayer', call: (o) => tanhLayer(o) },
  { name: 'sigmoidLayer', call: (o) => sigmoidLayer(o) },
  { name: 'projectAndReshapeLayer', call: (o) => projectAndReshapeLayer([2, 2, 3], o) },
  { name: 'additionLayer', call: (o) => additionLayer(2, o) },
  { name: 'concatenationLayer', call: (o) => concatenationLayer(2, 2, o) },
  { name: 'depthConcatenationLayer', call: (o) => depthConcatenationLayer(2, o) },
  { name: 'sequenceInputLayer', call: (o) => sequenceInputLayer(3, o) },
  { name: 'lstmLayer', call: (o) => lstmLayer(2, o) },
  { name: 'gruLayer', call: (o) => gruLayer(2, o) },
  { name: 'dlnetwork', call: (o) => dlnetwork([featureInputLayer(2), fullyConnectedLayer(1)], o) },
  { name: 'forward', call: (o) => withNet((net) => { forward(net, wg.ones([2, 3]), o); }) },
  { name: 'predict', call: (o) => withNet((net) => { predict(net, wg.ones([2, 3]), o); }) },
];
