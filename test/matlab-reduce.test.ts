// MATLAB's reductions on formatted dlarrays (src/matlab/dlarray.ts): sum, mean, prod, max and
// min reduce MATLAB's default dim (the first that is not 1), 'all', or the dims given (0-based),
// and keep each reduced dim as a singleton with its label, so the result keeps the format.
// Values against the plain reductions, gradients of a formatted mean, unformatted input
// unchanged (PyTorch's), and the error for keepdims false on formatted input.

import { beforeAll, describe, expect, it } from 'vitest';
import { wg, expectClose, flat } from './helpers.js';
import { expectError } from './nn-helpers.js';

beforeAll(async () => { await wg.init(); });

describe('reductions keep the format', () => {
  it("MATLAB's default dim (the first that is not 1), 'all', and given dims: singletons with their labels", () => wg.tidy(() => {
    wg.seed(1);
    const x = wg.rand([2, 3, 4, 5]);
    const X = wg.dlarray(x, 'SSCB');
    const s = wg.sum(X);
    expect([s.shape, s.format]).toEqual([[1, 3, 4, 5], 'SSCB']);
    expectClose(s.data(), x.sum(0).data(), 1e-6, 1e-6);
    const m = wg.mean(X, 'all');
    expect([m.shape, m.format]).toEqual([[1, 1, 1, 1], 'SSCB']);
    expectClose(m.item(), x.mean().item(), 1e-6, 1e-7);
    for (const [f, plain] of [[wg.max, (t: wg.Tensor, a: number[]) => t.max(a)], [wg.min, (t: wg.Tensor, a: number[]) => t.min(a)],
      [wg.prod, (t: wg.Tensor, a: number[]) => t.prod(a)], [wg.mean, (t: wg.Tensor, a: number[]) => t.mean(a)]] as const) {
      const y = f(X, [2, 3]);
      expect([y.shape, y.format]).toEqual([[2, 3, 1, 1], 'SSCB']);
      expectClose(y.data(), plain(x, [2, 3]).data(), 1e-6, 1e-6);
    }
    // a 'CB' batch of scores: the default dim is C (MATLAB's mean(Y) of a C×B array is 1×B)
    const Y = wg.dlarray(wg.rand([10, 6]), 'CB');
    const my = wg.mean(Y);
    expect([my.shape, my.format]).toEqual([[1, 6], 'CB']);
    // the GAN example's scores, 1×1×1×B: the default dim is B
    const D = wg.dlarray(wg.rand([1, 1, 1, 8]), 'SSCB');
    const md = wg.mean(D);
    expect([md.shape, md.format]).toEqual([[1, 1, 1, 1], 'SSCB']);
    expectClose(md.item(), flat(D.toArray()).reduce((a, b) => a + b, 0) / 8, 1e-6, 1e-7);
    // all dims 1: dim 0
    expect(wg.sum(wg.dlarray(wg.ones([1, 1]), 'CB')).shape).toEqual([1, 1]);
    // 'CBT' over time: a reduced T stays a singleton 'T'
    const S = wg.dlarray(wg.rand([3, 2, 7]), 'CBT');
    const mt = wg.mean(S, 2);
    expect([mt.shape, mt.format]).toEqual([[3, 2, 1], 'CBT']);
    return undefined;
  }));

  it('a formatted mean is differentiable to a scalar; unformatted input keeps PyTorch\'s reductions; keepdims false is refused on formatted input', () => {
    const x = wg.tensor([[1, 2, 3], [4, 5, 6]], { dtype: 'float64' });
    const [v, g] = wg.dlfeval((t: wg.Tensor) => {
      const loss = wg.mean(wg.dlarray(t, 'CB').square(), 'all');
      return [loss, wg.dlgradient(loss, t)];
    }, x) as [wg.Tensor, wg.Tensor];
    expectClose(v.item(), 91 / 6, 1e-12, 1e-12);
    expectClose(g.data(), [1, 2, 3, 4, 5, 6].map((k) => 2 * k / 6), 1e-12, 1e-12);
    wg.dispose([v, g]);
    wg.tidy(() => {
      expect(wg.sum(x).shape).toEqual([]);
      expect(wg.sum(x, 'all').shape).toEqual([]);
      expect(wg.mean(x, 1).shape).toEqual([2]);
      expect(wg.max(x, 0, { keepdims: true }).shape).toEqual([1, 3]);
      return undefined;
    });
    const X = wg.dlarray(wg.rand([2, 3]), 'CB');
    expectError(() => wg.sum(X, 0, { keepdims: false }), wg.ValueError, ['sum', "'CB'", 'singleton', 'stripdims']);
    X.dispose();
    x.dispose();
  });
});
