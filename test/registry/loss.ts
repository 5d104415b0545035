// The loss family's ops (format: README.md). kind: 'primitive' = kernel + VJP + JVP rules in
// wasm (assembly/ops/loss.ts); 'composite' = built from differentiable ops on the host
// (crossEntropy is fused without class weights, a composite of logSoftmax with them). Every float operand is an input: the
// prediction, a float target, class weights; class indices are captured by f.

import * as wg from '../../src/index.js';
import type { OpStatus } from './types.js';
import { inputMaker, f64 } from './inputs.js';

const { x64, apart } = inputMaker(800);
const works = { vjp: true, jvp: true, float32: true, float64: true } as const;
/** class indices for [4, 5] logits, one ignored (-100) */
const classes = [2, -100, 4, 1];

export const loss: OpStatus[] = [
  {
    name: 'crossEntropy', kind: 'primitive', ...works,
    notes: "[N, C] and [C] without class weights: fused, each row's max and log-sum-exp (logSumExpRows) shared by the loss and its gradient op crossEntropyBackward, which has rules of its own; class weights and [N, C, d1, ...] are composites of logSoftmax",
    // fused: indices with ignoreIndex and label smoothing ('mean', and 'none' under a square so
    // that each row's adjoint differs), probabilities ('sum', 'mean'); composite: class weights
    make: () => ({
      f: (x, w, p) => wg.stack([
        wg.crossEntropy(x, classes, { labelSmoothing: 0.2 }),
        wg.crossEntropy(x, classes, { reduction: 'none' }).square().sum(),
        wg.crossEntropy(x, p, { labelSmoothing: 0.1, reduction: 'sum' }),
        wg.crossEntropy(x, p).mul(wg.crossEntropy(x, p, { reduction: 'none' }).sum()),
        wg.crossEntropy(x, classes, { weight: w, labelSmoothing: 0.2 })]),
      inputs: [x64([4, 5], -2, 2), x64([5], 0.5, 1.5), x64([4, 5], 0.05, 1)],
    }),
  },
  {
    name: 'indexcrossentropy', kind: 'composite', ...works, aliasOf: 'crossEntropy', notes: 'class-index targets only',
    make: () => ({ f: (x) => wg.indexcrossentropy(x, [[0, 2], [1, 1]], { reduction: 'none' }), inputs: [x64([2, 3, 2], -2, 2)] }),
  },
  {
    name: 'nllLoss', kind: 'composite', ...works,
    make: () => ({ f: (x, w) => wg.nllLoss(x, classes, { weight: w }), inputs: [x64([4, 5], -3, 0), x64([5], 0.5, 1.5)] }),
  },
  {
    name: 'binaryCrossEntropy', kind: 'composite', ...works,
    make: () => ({ f: (x, t, w) => wg.binaryCrossEntropy(x, t, { weight: w }), inputs: [x64([2, 3], 0.1, 0.9), x64([2, 3], 0.05, 0.95), x64([3], 0.5, 1.5)] }),
  },
  {
    name: 'binaryCrossEntropyWithLogits', kind: 'composite', ...works,
    make: () => ({
      f: (x, t, pw, w) => wg.binaryCrossEntropyWithLogits(x, t, { posWeight: pw, weight: w }),
      inputs: [x64([2, 3], -3, 3), x64([2, 3], 0, 1), x64([3], 0.5, 2), x64([2, 1], 0.5, 1.5)],
    }),
  },
  // PyTorch's mse_loss (MATLAB's mse, the half mean squared error, is in matlab-losses.ts)
  {
    name: 'mseLoss', kind: 'composite', ...works,
    make: () => ({ f: (x, t, u) => wg.stack([wg.mseLoss(x, t), wg.mseLoss(x, u, { reduction: 'sum' })]), inputs: [x64([2, 3]), x64([3]), x64([2, 3])] }),
  },
  // l1 has a kink where x = t: the inputs are apart
  { name: 'l1Loss', kind: 'composite', ...works, make: () => ({ f: (x, t) => wg.l1Loss(x, t, { reduction: 'sum' }), inputs: apart([2, 3]) }) },
  // |x − t| on both sides of delta / beta (0.5), at least 0.1 away from it and from 0
  {
    name: 'huberLoss', kind: 'composite', ...works,
    make: () => ({ f: (x, t) => wg.huberLoss(x, t, { delta: 0.5 }), inputs: [f64([0.3, -0.2, 1.5, 0.9, -1, 0.4], [2, 3]), f64([0.1, 0.7, 0.6, 1.2, -0.1, -0.5], [2, 3])] }),
  },
  {
    name: 'smoothL1Loss', kind: 'composite', ...works,
    make: () => ({ f: (x, t) => wg.smoothL1Loss(x, t, { beta: 0.5, reduction: 'none' }), inputs: [f64([0.3, -0.2, 1.5, 0.9, -1, 0.4], [2, 3]), f64([0.1, 0.7, 0.6, 1.2, -0.1, -0.5], [2, 3])] }),
  },
  {
    name: 'klDiv', kind: 'composite', ...works,
    make: () => ({
      f: (x, t, lt) => wg.klDiv(x, t, { reduction: 'batchmean' }).add(wg.klDiv(x, lt, { logTarget: true })),
      inputs: [x64([2, 3], -2, -0.1), x64([2, 3], 0.1, 1), x64([2, 3], -2, 0)],
    }),
  },
  {
    name: 'ctcLoss', kind: 'primitive', ...works, secondOrder: false,
    notes: 'VJP and JVP are the true derivatives for any log-probabilities (PyTorch\'s formula assumes a log-softmax before); no second derivative, as in PyTorch',
    // unnormalised log-probabilities: the rules must be the derivatives of the forward itself
    make: () => ({ f: (z) => wg.ctcLoss(z, [[1, 2, 1], [3, 0, 0]], [5, 4], [3, 1], { reduction: 'none' }), inputs: [x64([5, 2, 4], -2, 0)] }),
  },
];
