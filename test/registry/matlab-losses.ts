// MATLAB's losses (src/matlab/losses.ts; format: README.md): composites of differentiable ops,
// checked like the PyTorch ones. Every float operand is an input (predictions, targets, weights);
// masks, formats and class indices are captured by f. Inputs sit away from the kinks: l1loss's
// Y − T is at least 0.2 from 0, huber's |Y − T| at least 0.1 from its transition point,
// crossentropy's Y inside (0.05, 0.95) (far from the eps clamp).

import * as wg from '../../src/index.js';
import { crossentropy, mse, l1loss, l2loss, huber, ctc } from '../../src/matlab/losses.js';
import type { OpStatus } from './types.js';
import { inputMaker, f64 } from './inputs.js';

const { x64, apart } = inputMaker(1800);
const works = { vjp: true, jvp: true, float32: true, float64: true } as const;

export const matlabLosses: OpStatus[] = [
  {
    name: 'crossentropy', kind: 'composite', ...works,
    notes: "MATLAB's: probabilities Y (not logits), 'CB' layout, −Σ T·ln Y / N; multilabel, weights, Mask, NormalizationFactor",
    // [C, B] = [3, 4]: single-label with class weights; multilabel with a mask, per observation
    make: () => ({
      f: (y, t, w) => wg.stack([
        crossentropy(y, t, w),
        crossentropy(y, t, { ClassificationMode: 'multilabel', Mask: [[1, 1, 0, 1], [1, 0, 1, 1], [1, 1, 1, 0]], NormalizationFactor: 'mask-included' }),
        crossentropy(wg.permute(y, [1, 0]), wg.permute(t, [1, 0]), 'DataFormat', 'BC', 'NormalizationFactor', 'all-elements'),
      ]),
      inputs: [x64([3, 4], 0.05, 0.95), x64([3, 4], 0, 1), x64([3], 0.5, 1.5)],
    }),
  },
  {
    name: 'mse', kind: 'composite', ...works, notes: "MATLAB's mse: the half mean squared error Σ (Y − T)² / (2N), N the observations",
    make: () => ({ f: (y, t) => mse(y, t, { DataFormat: 'SSCB' }), inputs: [x64([2, 2, 1, 3]), x64([2, 2, 1, 3])] }),
  },
  {
    name: 'l1loss', kind: 'composite', ...works, notes: "MATLAB's: Σ w·|Y − T| / N",
    make: () => {
      const [y, t] = apart([2, 3]);
      return { f: (a, b, w) => l1loss(a, b, w, { WeightsFormat: 'B' }), inputs: [y, t, x64([3], 0.5, 1.5)] };
    },
  },
  {
    name: 'l2loss', kind: 'composite', ...works, notes: "MATLAB's: Σ w·(Y − T)² / N (no ½, unlike mse)",
    make: () => ({
      f: (y, t, w) => l2loss(y, t, w, { Reduction: 'none', Mask: [[1, 0, 1], [1, 1, 0]] }).sum().add(l2loss(y, t)),
      inputs: [x64([2, 3]), x64([2, 3]), x64([2, 3], 0.5, 1.5)],
    }),
  },
  {
    name: 'huber', kind: 'composite', ...works, notes: "MATLAB's: ½d² where |d| ≤ δ, else δ|d| − ½δ² (TransitionPoint δ = 1)",
    make: () => ({
      f: (y, t) => huber(y, t, { TransitionPoint: 0.5, NormalizationFactor: 'all-elements' }),
      inputs: [f64([0.3, -0.2, 1.5, 0.9, -1, 0.4], [2, 3]), f64([0.1, 0.7, 0.6, 1.2, -0.1, -0.5], [2, 3])],
    }),
  },
  {
    name: 'ctc', kind: 'composite', ...works, secondOrder: false,
    notes: "MATLAB's: probabilities Y ('CBT'), padded targets and masks, 'mean' over observations; built on ctcLoss, first order only",
    // softmax over C of logits [C, B, T] = [4, 2, 5]; observation 1 has 4 valid steps and 1 target
    make: () => ({
      f: (z) => ctc(wg.softmax(z, 0), [[1, 2, 1], [3, 0, 0]], [[1, 1, 1, 1, 1], [1, 1, 1, 1, 0]], [[1, 1, 1], [1, 0, 0]]),
      inputs: [x64([4, 2, 5], -2, 2)],
    }),
  },
];
