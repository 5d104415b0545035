// The core ops: elementwise, reductions, matrix products, shape and indexing (format: README.md).

import * as wg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import type { OpCase } from './types.js';
import { inputMaker, weighted } from './inputs.js';

const { x64, offZero, apart, distinct } = inputMaker(100);

const unary = (name: string, f: (x: Tensor) => Tensor, input: () => Tensor): OpCase =>
  ({ name, kind: 'primitive', make: () => ({ f, inputs: [input()] }) });

export const ops: OpCase[] = [
  // — elementwise binary, with broadcasting (their rules reduce back with sumTo)
  { name: 'add', kind: 'primitive', make: () => ({ f: (a, b) => wg.add(a, b), inputs: [x64([2, 3]), x64([3])] }) },
  { name: 'sub', kind: 'primitive', make: () => ({ f: (a, b) => wg.sub(a, b), inputs: [x64([2, 3]), x64([2, 1])] }) },
  { name: 'mul', kind: 'primitive', make: () => ({ f: (a, b) => wg.mul(a, b), inputs: [x64([2, 3]), x64([3])] }) },
  { name: 'div', kind: 'primitive', make: () => ({ f: (a, b) => wg.div(a, b), inputs: [x64([2, 3]), x64([3], 0.5, 2)] }) },
  { name: 'pow', kind: 'primitive', make: () => ({ f: (a, b) => wg.pow(a, b), inputs: [x64([2, 3], 0.5, 2), x64([2, 3], -1.5, 1.5)] }) },
  { name: 'atan2', kind: 'primitive', make: () => ({ f: (a, b) => wg.atan2(a, b), inputs: apart([2, 3]) }) },
  { name: 'logaddexp', kind: 'primitive', make: () => ({ f: (a, b) => wg.logaddexp(a, b), inputs: apart([2, 3]) }) },
  { name: 'maximum', kind: 'primitive', make: () => ({ f: (a, b) => wg.maximum(a, b), inputs: apart([2, 3]) }) },
  { name: 'minimum', kind: 'primitive', make: () => ({ f: (a, b) => wg.minimum(a, b), inputs: apart([2, 3]) }) },
  // — comparisons give bool masks with no derivative (a mask choosing between branches is
  //   checked in test/elementwise.test.ts)
  ...(['lt', 'le', 'gt', 'ge'] as const).map((name): OpCase => ({
    name, kind: 'primitive', differentiable: false, notes: 'bool mask',
    make: () => ({ f: (a, b) => wg[name](a, b), inputs: apart([2, 3]) }),
  })),
  ...(['eq', 'ne'] as const).map((name): OpCase => ({
    name, kind: 'primitive', differentiable: false, notes: 'bool mask',
    make: () => ({ f: (a) => wg[name](a, a.mul(0.5).add(1)), inputs: [x64([2, 3])] }),
  })),
  // — elementwise unary, in their domains and away from their kinks
  unary('neg', wg.neg, () => x64([2, 3])),
  unary('abs', wg.abs, () => offZero([2, 3])),
  // sign's derivative is 0; multiplied by x², x·|x| has a non-vanishing derivative 2|x|
  unary('sign', (x) => wg.sign(x).mul(x.square()), () => offZero([2, 3])),
  unary('square', wg.square, () => x64([2, 3])),
  unary('sqrt', wg.sqrt, () => x64([2, 3], 0.5, 2)),
  unary('rsqrt', wg.rsqrt, () => x64([2, 3], 0.5, 2)),
  unary('exp', wg.exp, () => x64([2, 3])),
  unary('log', wg.log, () => x64([2, 3], 0.5, 2)),
  unary('log1p', wg.log1p, () => x64([2, 3], -0.5, 1)),
  unary('expm1', wg.expm1, () => x64([2, 3])),
  unary('sin', wg.sin, () => x64([2, 3], -3, 3)),
  unary('cos', wg.cos, () => x64([2, 3], -3, 3)),
  unary('tan', wg.tan, () => x64([2, 3], -1.2, 1.2)),
  unary('tanh', wg.tanh, () => x64([2, 3], -2, 2)),
  unary('sigmoid', wg.sigmoid, () => x64([2, 3], -3, 3)),
  unary('relu', wg.relu, () => offZero([2, 3])),
  unary('softplus', wg.softplus, () => x64([2, 3], -4, 4)),
  unary('erf', wg.erf, () => x64([2, 3], -2, 2)),
  // — where, clamp, cast, clone
  {
    name: 'where', kind: 'primitive',
    make: () => {
      const cond = wg.tensor([[true, false, true], [false, false, true]]);
      return { f: (a, b) => wg.where(cond, a, b), inputs: [x64([2, 3]), x64([3])] };
    },
  },
  // both bounds, and each bound alone; inputs are at least 0.1 from the bounds ±0.5
  unary('clamp', (x) => wg.clamp(x, -0.5, 0.5).add(wg.clamp(x, -0.5)).add(wg.clamp(x, null, 0.5).mul(2)),
    () => wg.tensor([-0.9, -0.6, -0.3, 0.1, 0.4, 0.7, 0.95, -0.05], { shape: [2, 4], dtype: 'float64' })),
  // float64 → float32 → float64 rounds to float32, so finite differences need a large step
  // (the function is linear; the test's random directions are float32 values, so the identity is exact)
  { ...unary('cast', (x) => wg.cast(wg.cast(x, 'float32'), 'float64'), () => x64([2, 3])), fdStep: 0.05 },
  unary('clone', (x) => wg.clone(x).mul(x), () => x64([2, 3])),
  // — reductions
  unary('sum', (x) => wg.sum(x, 1, { keepdims: true }), () => x64([2, 3, 2])),
  unary('prod', (x) => wg.prod(x, [0, 2]), () => offZero([2, 3, 2])),
  unary('max', (x) => wg.max(x, -1), () => distinct([2, 4])),
  unary('min', (x) => wg.min(x, 0), () => distinct([3, 2])),
  unary('amax', (x) => wg.amax(x, [0, 2], { keepdims: true }), () => distinct([2, 3, 2])),
  unary('amin', (x) => wg.amin(x), () => distinct([2, 3])),
  unary('logsumexp', (x) => wg.logsumexp(x, 1), () => x64([2, 4], -2, 2)),
  { ...unary('mean', (x) => wg.mean(x, [1]), () => x64([2, 3, 2])), kind: 'composite' },
  { ...unary('variance', (x) => wg.variance(x, 1), () => x64([2, 4])), kind: 'composite' },
  { ...unary('var', (x) => wg.var(x, 0, { correction: 0 }), () => x64([3, 2])), kind: 'composite' },
  { ...unary('std', (x) => wg.std(x, -1), () => x64([2, 4])), kind: 'composite' },
  // — matrix products
  { name: 'matmul', kind: 'primitive', make: () => ({ f: (a, b) => wg.matmul(a, b), inputs: [x64([2, 3, 4]), x64([4, 2])] }) },
  { name: 'mm', kind: 'primitive', make: () => ({ f: (a, b) => wg.mm(a, b), inputs: [x64([3, 4]), x64([4, 2])] }) },
  { name: 'bmm', kind: 'primitive', make: () => ({ f: (a, b) => wg.bmm(a, b), inputs: [x64([2, 3, 4]), x64([2, 4, 2])] }) },
  { name: 'dot', kind: 'composite', make: () => ({ f: (a, b) => wg.dot(a, b), inputs: [x64([5]), x64([5])] }) },
  { name: 'mv', kind: 'composite', make: () => ({ f: (a, b) => wg.mv(a, b), inputs: [x64([3, 4]), x64([4])] }) },
  { name: 'outer', kind: 'composite', make: () => ({ f: (a, b) => wg.outer(a, b), inputs: [x64([3]), x64([4])] }) },
  {
    name: 'matmulT', kind: 'primitive',
    make: () => ({
      f: (a, b, c) => wg.matmulT(a, b, { transA: true, transB: true }).add(wg.matmulT(c, b, { transB: true })),
      inputs: [x64([2, 4, 3]), x64([2, 4]), x64([3, 4])],
    }),
  },
  // — shape
  unary('reshape', (x) => wg.reshape(x, [3, -1]), () => x64([2, 3, 2])),
  unary('broadcastTo', (x) => wg.broadcastTo(x, [2, 3, 4]), () => x64([3, 1])),
  unary('permute', (x) => wg.permute(x, [2, 0, 1]), () => x64([2, 3, 4])),
  unary('transpose', (x) => wg.transpose(x, 0, 2), () => x64([2, 3, 4])),
  unary('t', (x) => wg.t(x), () => x64([3, 4])),
  unary('squeeze', (x) => wg.squeeze(x, 1), () => x64([3, 1, 2])),
  unary('unsqueeze', (x) => wg.unsqueeze(x, -1), () => x64([3, 2])),
  unary('flatten', (x) => wg.flatten(x, 1), () => x64([2, 3, 2])),
  unary('slice', (x) => wg.slice(x, [null, [1, null, 2], [-3, -1]]), () => x64([2, 5, 4])),
  unary('narrow', (x) => wg.narrow(x, 1, 1, 2), () => x64([2, 4])),
  unary('select', (x) => wg.select(x, 1, -1), () => x64([2, 3, 2])),
  // pads the last dim, crops the one before (negative pad), with a non-zero fill value
  unary('pad', (x) => wg.pad(x, [1, 2, -1, 0], 0.5), () => x64([3, 4])),
  unary('indexSelect', (x) => wg.indexSelect(x, 0, [2, 0, 2, 1]), () => x64([3, 2])),
  {
    name: 'indexAdd', kind: 'primitive',
    make: () => ({ f: (x, s) => wg.indexAdd(x, 1, [0, 2, 0], s, { alpha: 1.5 }), inputs: [x64([2, 3]), x64([2, 3])] }),
  },
  unary('gather', (x) => wg.gather(x, 1, [[0, 0, 2], [1, 2, 1]]), () => x64([2, 3])),
  {
    name: 'scatterAdd', kind: 'primitive',
    make: () => ({ f: (x, s) => wg.scatterAdd(x, 0, [[1, 0, 1], [1, 1, 0]], s), inputs: [x64([2, 3]), x64([2, 3])] }),
  },
  { name: 'concat', kind: 'primitive', make: () => ({ f: (a, b) => wg.concat([a, b, a], 1), inputs: [x64([2, 3]), x64([2, 1])] }) },
  { name: 'cat', kind: 'primitive', make: () => ({ f: (a, b) => wg.cat([b, a], 0), inputs: [x64([2, 3]), x64([1, 3])] }) },
  { name: 'stack', kind: 'primitive', make: () => ({ f: (a, b) => wg.stack([a, b], 1), inputs: [x64([2, 3]), x64([2, 3])] }) },
  { ...unary('unstack', (x) => wg.stack(weighted(wg.unstack(x, 1)), 0), () => x64([2, 3])), kind: 'composite' },
  { ...unary('unbind', (x) => wg.concat(weighted(wg.unbind(x)), 0), () => x64([3, 2])), kind: 'composite' },
  { ...unary('split', (x) => wg.concat(weighted(wg.split(x, [1, 3], 1)), 1), () => x64([2, 4])), kind: 'composite' },
  { ...unary('chunk', (x) => wg.concat(weighted(wg.chunk(x, 2, 0)), 0), () => x64([5, 2])), kind: 'composite' },
];
