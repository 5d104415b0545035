// Option cases for the activation, dropout, attention, normalisation, loss and recurrent ops
// (src/ops/activation.ts, dropout.ts, attention.ts, norm.ts, loss.ts, recurrent.ts).

import * as wg from '../../src/index.js';
import type { OptionCase } from './types.js';

const x23 = () => wg.tensor([[0.5, -1, 2], [1.5, 0.25, -0.75]]);
const c3 = (v: number) => wg.full([3], v);
const logp = () => wg.logSoftmax(x23(), 1);
const probs = () => wg.tensor([[0.2, 0.5, 0.9], [0.1, 0.7, 0.4]]);

/** q, k, v [L=2, N=1, E=2] and nn.MultiheadAttention's parameters for E = 2. */
const seq = () => wg.tensor([[[0.1, 0.2]], [[0.3, -0.4]]]);
const mhaParams = () => ({
  in_proj_weight: wg.tensor([[1, 0], [0, 1], [0.5, 0.5], [1, -1], [0.2, 0.3], [-0.1, 0.4]]),
  'out_proj.weight': wg.tensor([[1, 0], [0, 1]]),
});

/** An lstm (4 gates) or gru (3 gates) with input size 2, hidden size 2, one layer. */
const rnnParams = (gates: number) => ({
  weight_ih_l0: wg.full([gates * 2, 2], 0.1),
  weight_hh_l0: wg.full([gates * 2, 2], -0.2),
});
const rnnInput = () => wg.tensor([[[0.5, -0.5]], [[1, 0.25]], [[-1, 2]]]); // [T=3, N=1, 2]

export const cases: OptionCase[] = [
  // activations, dropout
  { name: 'gelu', call: (o) => wg.gelu(x23(), o) },
  { name: 'softplus', call: (o) => wg.softplus(x23(), o) },
  { name: 'dropout', call: (o) => wg.dropout(x23(), 0.5, o) },

  // attention
  { name: 'scaledDotProductAttention', call: (o) => wg.scaledDotProductAttention(x23(), x23(), x23(), o) },
  {
    name: 'multiHeadAttention',
    // numHeads is required: the case supplies it and adds the options under test.
    call: (o) => wg.multiHeadAttention(seq(), seq(), seq(), mhaParams(), { numHeads: 1, ...o }),
  },

  // normalisation
  { name: 'batchNorm', call: (o) => wg.batchNorm(x23(), c3(0), c3(1), null, null, o) },
  { name: 'layerNorm', call: (o) => wg.layerNorm(x23(), 3, null, null, o) },
  { name: 'groupNorm', call: (o) => wg.groupNorm(wg.tensor([[1, 2, 3, 4], [4, 3, 2, 0]]), 2, null, null, o) },
  { name: 'instanceNorm', call: (o) => wg.instanceNorm(x23().reshape([1, 2, 3]), null, null, null, null, o) },
  { name: 'localResponseNorm', call: (o) => wg.localResponseNorm(x23().reshape([1, 3, 2]), 2, o) },
  { name: 'crosschannelnorm', call: (o) => wg.crosschannelnorm(x23().reshape([1, 3, 2]), 2, o) },

  // losses
  { name: 'mseLoss', call: (o) => wg.mseLoss(x23(), 1, o) },
  { name: 'l1Loss', call: (o) => wg.l1Loss(x23(), 1, o) },
  { name: 'huberLoss', call: (o) => wg.huberLoss(x23(), 1, o) },
  { name: 'smoothL1Loss', call: (o) => wg.smoothL1Loss(x23(), 1, o) },
  { name: 'klDiv', call: (o) => wg.klDiv(logp(), probs(), o) },
  { name: 'binaryCrossEntropy', call: (o) => wg.binaryCrossEntropy(probs(), probs(), o) },
  { name: 'binaryCrossEntropyWithLogits', call: (o) => wg.binaryCrossEntropyWithLogits(x23(), probs(), o) },
  { name: 'nllLoss', call: (o) => wg.nllLoss(logp(), [0, 2], o) },
  { name: 'crossEntropy', call: (o) => wg.crossEntropy(x23(), [0, 2], o) },
  { name: 'indexcrossentropy', call: (o) => wg.indexcrossentropy(x23(), [1, 0], o) },
  {
    name: 'ctcLoss',
    call: (o) => wg.ctcLoss(wg.logSoftmax(x23().reshape([3, 1, 2]), 2), [[1]], [3], [1], o),
  },

  // recurrent
  { name: 'lstm', call: (o) => wg.lstm(rnnInput(), null, rnnParams(4), o) },
  { name: 'gru', call: (o) => wg.gru(rnnInput(), null, rnnParams(3), o) },
];
