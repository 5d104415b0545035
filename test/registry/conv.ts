// The convolution and pooling ops (assembly/ops/conv.ts, pool.ts, conv3d.ts, pool3d.ts; src/ops/conv.ts,
// pool.ts, conv3d.ts, pool3d.ts; format: README.md). A primitive has its kernel, VJP and JVP rules in wasm; a
// composite is built from differentiable ops. Convolutions take x, weight and bias as inputs;
// max pooling gets distinct values, so no window has a tie.

import * as wg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import type { OpStatus } from './types.js';
import { inputMaker } from './inputs.js';

const { x64, distinct } = inputMaker(500);
const works = { vjp: true, jvp: true, float32: true, float64: true } as const;

const pool = (name: string, kind: OpStatus['kind'], notes: string, f: (x: Tensor) => Tensor, input: () => Tensor): OpStatus =>
  ({ name, kind, ...works, notes, make: () => ({ f, inputs: [input()] }) });

export const convOps: OpStatus[] = [
  {
    name: 'conv1d', kind: 'primitive', ...works, notes: 'Op.conv with xH = kH = 1; bias added by add',
    make: () => ({ f: (x, w, b) => wg.conv1d(x, w, b, { stride: 2, padding: 1 }), inputs: [x64([2, 2, 5]), x64([3, 2, 3]), x64([3])] }),
  },
  {
    name: 'conv2d', kind: 'primitive', ...works,
    notes: 'Op.conv (input gradient Op.convTranspose, weight gradient Op.convWeight); bias added by add; { activation: "relu" } with a bias: the fused op convBiasRelu (bias and relu in the store, the same bits)',
    make: () => ({
      f: (x, w, b) => wg.conv2d(x, w, b, { groups: 2, padding: 1, dilation: [1, 2] }),
      inputs: [x64([1, 4, 4, 3]), x64([2, 2, 2, 2]), x64([2])],
    }),
  },
  {
    name: 'convTranspose1d', kind: 'primitive', ...works, notes: 'Op.convTranspose',
    make: () => ({
      f: (x, w, b) => wg.convTranspose1d(x, w, b, { stride: 2, padding: 1, outputPadding: 1 }),
      inputs: [x64([1, 2, 4]), x64([2, 3, 3]), x64([3])],
    }),
  },
  {
    name: 'convTranspose2d', kind: 'primitive', ...works, notes: 'Op.convTranspose',
    make: () => ({ f: (x, w, b) => wg.convTranspose2d(x, w, b, { stride: 2, groups: 2 }), inputs: [x64([1, 2, 3, 3]), x64([2, 1, 2, 2]), x64([2])] }),
  },
  {
    name: 'dltranspconv', kind: 'primitive', ...works, aliasOf: 'convTranspose2d', notes: 'MATLAB name',
    make: () => ({ f: (x, w, b) => wg.dltranspconv(x, w, b, { padding: 1 }), inputs: [x64([2, 2, 3, 3]), x64([2, 3, 3, 2]), x64([3])] }),
  },
  {
    name: 'conv3d', kind: 'primitive', ...works,
    notes: 'Op.conv3d (input gradient Op.convTranspose3d, weight gradient Op.convWeight3d); bias added by add',
    make: () => ({
      f: (x, w, b) => wg.conv3d(x, w, b, { groups: 2, padding: [1, 0, 1], stride: [1, 2, 1], dilation: [1, 1, 2] }),
      inputs: [x64([1, 4, 3, 4, 4]), x64([2, 2, 2, 2, 2]), x64([2])],
    }),
  },
  {
    name: 'convTranspose3d', kind: 'primitive', ...works, notes: 'Op.convTranspose3d',
    make: () => ({
      f: (x, w, b) => wg.convTranspose3d(x, w, b, { stride: [2, 1, 2], padding: [1, 0, 0], outputPadding: [1, 0, 1], groups: 2 }),
      inputs: [x64([1, 2, 2, 2, 2]), x64([2, 1, 2, 2, 2]), x64([2])],
    }),
  },
  pool('maxPool1d', 'primitive', 'argmax indices (not differentiable) + Op.poolGather',
    (x) => wg.maxPool1d(x, 3, { stride: 2, padding: 1 }), () => distinct([2, 7])),
  pool('maxPool2d', 'primitive', 'argmax indices (not differentiable) + Op.poolGather; returnIndices gives int32 indices',
    (x) => wg.maxPool2d(x, [2, 3], { stride: [1, 2], padding: 1, ceilMode: true }), () => distinct([1, 2, 4, 5])),
  pool('avgPool1d', 'primitive', 'Op.avgPool', (x) => wg.avgPool1d(x, 3, { stride: 2, padding: 1 }), () => x64([2, 2, 7])),
  pool('avgPool2d', 'primitive', 'Op.avgPool',
    (x) => wg.avgPool2d(x, 3, { stride: 2, padding: 1, countIncludePad: false, ceilMode: true }), () => x64([1, 2, 5, 4])),
  pool('adaptiveAvgPool1d', 'primitive', 'Op.avgPool with adaptive windows', (x) => wg.adaptiveAvgPool1d(x, 3), () => x64([2, 5])),
  pool('adaptiveAvgPool2d', 'primitive', 'Op.avgPool with adaptive windows', (x) => wg.adaptiveAvgPool2d(x, [3, 2]), () => x64([1, 2, 5, 5])),
  pool('adaptiveMaxPool1d', 'primitive', 'argmax indices over adaptive windows (not differentiable) + Op.poolGather',
    (x) => wg.adaptiveMaxPool1d(x, 3), () => distinct([2, 7])),
  pool('adaptiveMaxPool2d', 'primitive', 'argmax indices over adaptive windows (not differentiable) + Op.poolGather; returnIndices gives int32 indices',
    (x) => wg.adaptiveMaxPool2d(x, [3, 2]), () => distinct([1, 2, 5, 5])),
  pool('maxPool3d', 'primitive', 'Op.maxPool3dIndices (not differentiable) + Op.poolGather; returnIndices gives int32 flat in-volume indices',
    (x) => wg.maxPool3d(x, [2, 3, 2], { stride: [1, 2, 1], padding: [1, 1, 0], ceilMode: true }), () => distinct([1, 2, 3, 4, 3])),
  pool('avgPool3d', 'primitive', 'Op.avgPool3d',
    (x) => wg.avgPool3d(x, 3, { stride: 2, padding: 1, countIncludePad: false, ceilMode: true }), () => x64([1, 2, 4, 5, 4])),
  pool('adaptiveAvgPool3d', 'primitive', 'Op.avgPool3d with adaptive windows', (x) => wg.adaptiveAvgPool3d(x, [2, null, 3]), () => x64([2, 3, 4, 5])),
  pool('adaptiveMaxPool3d', 'primitive', 'Op.maxPool3dIndices over adaptive windows (not differentiable) + Op.poolGather',
    (x) => wg.adaptiveMaxPool3d(x, [2, null, 3]), () => distinct([2, 3, 4, 5])),
  pool('globalAvgPool2d', 'composite', 'adaptiveAvgPool2d(x, 1)', (x) => wg.globalAvgPool2d(x), () => x64([2, 2, 3, 3])),
  pool('globalMaxPool2d', 'composite', 'maxPool2d with the whole plane as kernel', (x) => wg.globalMaxPool2d(x), () => distinct([2, 2, 3, 3])),
  {
    name: 'maxUnpool2d', kind: 'primitive', ...works, notes: 'Op.poolScatter; differentiable in x, not in the indices',
    make: () => {
      const [, indices] = wg.maxPool2d(distinct([1, 2, 4, 6]), [2, 3], { returnIndices: true });
      return { f: (v) => wg.maxUnpool2d(v, indices, [2, 3]), inputs: [x64([1, 2, 2, 2])] };
    },
  },
];
