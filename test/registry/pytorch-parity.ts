// PyTorch-parity ops built as composites of recording ops (src/ops/shape.ts pad modes and
// pixelShuffle, src/ops/sampling.ts, src/ops/search.ts, src/ops/distance.ts, src/ops/masked.ts;
// format: README.md). Inputs sit away from kinks: gridSample's sample points off the pixel grid,
// cdist's rows apart, hypot's operands off zero. test/pytorch-parity.test.ts backs every row.

import * as wg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import type { OpCase } from './types.js';
import { inputMaker, f64 } from './inputs.js';

const { x64, offZero } = inputMaker(1700);
const integral = { differentiable: false } as const;

/** A 2×3×2 grid of (x, y) points whose pixel coordinates are off integers for a 3×4 input (every paddingMode). */
const gridPoints = () => f64([
  -0.83, -0.61, 0.12, 0.37, 0.58, -0.29,
  -1.19, 0.44, 1.07, -0.76, 0.31, 1.13,
  0.67, 0.08, -0.41, -0.93, 1.21, 0.52,
  -0.22, -1.16, 0.86, 0.71, -0.64, 0.19,
], [2, 2, 3, 2]);

export const ops: OpCase[] = [
  {
    name: 'pad', kind: 'composite', notes: "modes 'constant' (wasm pad), 'reflect', 'replicate', 'circular' (indexSelect per padded dim)",
    make: () => ({
      f: (x) => wg.pad(wg.pad(wg.pad(x, [2, 1, 1, 2], 0, 'reflect'), [1, 2], 0, 'replicate'), [3, -1], 0, 'circular').mul(wg.pad(x, [1, 1, 1, 1], 0.5).sum()),
      inputs: [x64([2, 3, 4])],
    }),
  },
  {
    name: 'pixelShuffle', kind: 'composite', notes: 'reshape and permute',
    make: () => ({ f: (x) => wg.pixelShuffle(x, 2).mul(wg.arange(0, 6, 1, { dtype: 'float64' })), inputs: [x64([2, 8, 2, 3])] }),
  },
  {
    name: 'pixelUnshuffle', kind: 'composite', notes: 'reshape and permute',
    make: () => ({ f: (x) => wg.pixelUnshuffle(x, 2).square(), inputs: [x64([1, 2, 4, 6])] }),
  },
  {
    name: 'interpolate', kind: 'composite', notes: 'index selections with constant weights, one spatial dim at a time',
    make: () => ({
      f: (x) => wg.interpolate(x, { size: [5, 7], mode: 'bicubic' }).square().sum()
        .add(wg.interpolate(x, { scaleFactor: 1.7, mode: 'bilinear', alignCorners: true }).mul(wg.interpolate(x, { size: [6, 8] }).sum()).sum())
        .mul(wg.interpolate(x.reshape([2, 3, 4]), { scaleFactor: 2.5, mode: 'linear' }).exp().sum()),
      inputs: [x64([2, 1, 3, 4])],
    }),
  },
  {
    name: 'upsample', kind: 'composite', aliasOf: 'interpolate', notes: 'interpolate with F.upsample\'s options',
    make: () => ({ f: (x) => wg.upsample(x, { scaleFactor: 2, mode: 'bilinear' }).square(), inputs: [x64([1, 2, 3, 3])] }),
  },
  {
    name: 'affineGrid', kind: 'composite', notes: 'a constant base grid times thetaᵀ',
    make: () => ({ f: (t) => wg.affineGrid(t, [2, 1, 3, 4]).square(), inputs: [x64([2, 2, 3])] }),
  },
  {
    name: 'gridSample', kind: 'composite', notes: 'gathers at the corners picked from the grid, bilinear weights differentiable in input and grid',
    make: () => ({
      f: (x, g) => wg.gridSample(x, g).mul(wg.gridSample(x, g, { paddingMode: 'border', alignCorners: true }))
        .add(wg.gridSample(x, g, { paddingMode: 'reflection' }).square())
        .add(wg.gridSample(x, g, { mode: 'nearest', paddingMode: 'border' }).mul(g.sum())),
      inputs: [x64([2, 2, 3, 4]), gridPoints()],
    }),
  },
  {
    name: 'maskedFill', kind: 'composite', notes: 'where; the gradient reaches x off the mask and a 0-d value tensor on it',
    make: () => ({
      f: (x, v) => wg.maskedFill(x, wg.tensor([[true, false, false, true]]), v).mul(x),
      inputs: [x64([3, 4]), x64([])],
    }),
  },
  {
    name: 'bucketize', kind: 'composite', ...integral, notes: 'int32 result (PyTorch out_int32)',
    make: () => ({ f: (x) => wg.bucketize(x, wg.tensor([-0.5, 0, 0.5], { dtype: 'float64' })), inputs: [x64([2, 3])] }),
  },
  {
    name: 'searchsorted', kind: 'composite', ...integral, notes: 'int32 result (PyTorch out_int32)',
    make: () => ({ f: (s) => wg.searchsorted(s, wg.tensor([[0.1, 0.7], [-0.3, 2]], { dtype: 'float64' }), { side: 'right' }), inputs: [f64([-1, 0, 0.5, -2, -1, 3], [2, 3])] }),
  },
  {
    name: 'cdist', kind: 'composite', notes: 'vectorNorm of the pairwise differences (zero-safe at p = 2 and p < 1)',
    make: () => ({
      f: (a, b) => wg.cdist(a, b).add(wg.cdist(a, b, 3).square()).add(wg.cdist(a, b, 1.5)).add(wg.cdist(a, b, 1)),
      inputs: [x64([2, 3, 4]), x64([2, 2, 4], 2, 3)],
    }),
  },
  {
    name: 'hypot', kind: 'composite', notes: 'max·√(1 + (min/max)²) with max = max(|a|, |b|)',
    make: () => ({ f: (a, b) => wg.hypot(a, b), inputs: [offZero([3, 4]), x64([4], 2, 3)] }),
  },
];
