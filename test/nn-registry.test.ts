// The activation, normalisation and loss registries name real exports: each is a function and a
// Tensor method, differentiable in float64 and float32. And the ops free every temporary.

import { beforeAll, describe, expect, it } from 'vitest';
import { wg } from './helpers.js';
import { norm } from './registry/norm.js';
import { activation } from './registry/activation.js';
import { loss } from './registry/loss.js';

beforeAll(async () => { await wg.init(); });

describe('registry of the activation, normalisation and loss families', () => {
  for (const op of [...norm, ...activation, ...loss]) {
    it(`${op.name} is exported as a function and a Tensor method`, () => {
      expect(typeof (wg as any)[op.name]).toBe('function');
      expect(typeof (wg.Tensor.prototype as any)[op.name]).toBe('function');
      expect(op.vjp && op.jvp && op.float32 && op.float64).toBe(true);
      if (op.aliasOf) expect(typeof (wg as any)[op.aliasOf]).toBe('function');
    });
  }
});

describe('memory', () => {
  it('the ops free every temporary: only their results stay alive', () => {
    const x = wg.randn([4, 3, 5], { dtype: 'float64' });
    const c3 = wg.ones([3], { dtype: 'float64' });
    const lp = wg.randn([5, 2, 4], { dtype: 'float64' }).logSoftmax(2);
    const probs = x.sigmoid();
    const classes = [[0, 1, 2, 0, 1], [0, 1, 2, 0, 1], [0, 1, 2, 0, 1], [0, 1, 2, -100, 1]];
    const ops: (() => unknown)[] = [
      () => wg.batchNorm(x, c3, c3, c3, c3, { training: true }),
      () => wg.batchNorm(x, c3, c3, c3, c3),
      () => wg.layerNorm(x, [5]), () => wg.groupNorm(x, 3), () => wg.instanceNorm(x, c3, c3),
      () => wg.localResponseNorm(x, 3), () => wg.softmax(x, 1), () => wg.gelu(x), () => wg.softplus(x, { beta: 2 }),
      () => wg.crossEntropy(x, classes, { weight: c3, labelSmoothing: 0.1 }),
      () => wg.binaryCrossEntropyWithLogits(x, probs, { posWeight: 2 }),
      () => wg.klDiv(x, probs, { reduction: 'batchmean' }),
      () => wg.ctcLoss(lp, [[1, 2], [3, 0]], [5, 4], [2, 1]),
      () => wg.dropout(x, 0.3),
      () => wg.valueAndGrad((v: any) => wg.ctcLoss(v, [[1, 2], [3, 0]], [5, 4], [2, 1]))(lp),
      () => wg.valueAndGrad((v: any) => wg.crossEntropy(v, classes))(x),
      () => wg.jvp((v: any) => wg.layerNorm(v, [5]), [x], [x]),
    ];
    for (const [i, op] of ops.entries()) {
      const before = wg.memory().liveTensors;
      wg.dispose(op());
      expect(wg.memory().liveTensors, `op ${i}`).toBe(before);
    }
    wg.dispose([x, c3, lp, probs]);
  });
});
