// linear (alias fullyconnect): y = x·Wᵀ + b with PyTorch's layouts. Forward against a plain JS
// reference, the transposed read (no permute on the tape), gradients for x, W and b by finite
// differences, JVP against VJP, second derivatives, float32 vs float64, and bad inputs.

import { beforeAll, describe, expect, it } from 'vitest';
import { wg, checkGrad, expectClose, expectNoLeak, rand64, flat, expectError, runtimeWorks, dot } from './helpers.js';
import type { Tensor } from '../src/index.js';
import { ops as registry } from './registry/linear.js';

beforeAll(async () => { await wg.init(); });

/** y[..., o] = Σ_k x[..., k]·W[o, k] + b[o], on flat data. */
function refLinear(x: number[], xShape: number[], W: number[], out: number, b?: number[]): number[] {
  const inF = xShape[xShape.length - 1];
  const rows = x.length / inF;
  const y: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < out; o++) {
      let s = b ? b[o] : 0;
      for (let k = 0; k < inF; k++) s += x[r * inF + k] * W[o * inF + k];
      y.push(s);
    }
  }
  return y;
}


describe('linear', () => {
  it('matches the JS reference for 1-D, 2-D and batched x, with and without bias', () => {
    for (const xShape of [[4], [3, 4], [2, 3, 4], [2, 1, 3, 4], [0, 4]]) {
      const x = rand64(xShape, -1, 1, 1), W = rand64([5, 4], -1, 1, 2), b = rand64([5], -1, 1, 3);
      const xs = flat(x.toArray()), ws = flat(W.toArray()), bs = flat(b.toArray());
      const y = wg.linear(x, W, b);
      expect(y.shape).toEqual([...xShape.slice(0, -1), 5]);
      expectClose(flat(y.toArray()), refLinear(xs, xShape, ws, 5, bs), 1e-14, 1e-14);
      expectClose(flat(x.linear(W).toArray()), refLinear(xs, xShape, ws, 5), 1e-14, 1e-14);
      expectClose(flat(wg.fullyconnect(x, W, b).toArray()), flat(y.toArray()), 0, 0);
    }
    // a 1-D weight [in]: one output per row, the feature dim dropped (PyTorch)
    const x = rand64([3, 4], -1, 1, 4), w = rand64([4], -1, 1, 5);
    const y = wg.linear(x, w, wg.tensor(0.5, { dtype: 'float64' }));
    expect(y.shape).toEqual([3]);
    expectClose(flat(y.toArray()), refLinear(flat(x.toArray()), [3, 4], flat(w.toArray()), 1).map((v) => v + 0.5), 1e-14, 1e-14);
    // exact small case: [[1, 2]]·[[1, 0], [0, 1], [1, 1]]ᵀ + [10, 20, 30]
    const e = wg.linear(wg.tensor([[1, 2]]), wg.tensor([[1, 0], [0, 1], [1, 1]]), wg.tensor([10, 20, 30]));
    expect(e.toArray()).toEqual([[11, 22, 33]]);
  });

  it('reads W transposed in place: one matmul with transB, no permute on the tape', () => {
    const x = rand64([3, 4], -1, 1, 6), W = rand64([5, 4], -1, 1, 7), b = rand64([5], -1, 1, 8);
    const t = wg.trace((a: Tensor) => wg.linear(a, W, b).sum(), x);
    const ops = t.nodes.map((n) => n.op);
    expect(ops).toContain('matmul');
    expect(ops).not.toContain('permute');
  });

  it('gradients for x, W and b by finite differences (float64), broadcasting bias over batch dims', () => {
    checkGrad((x, W, b) => wg.linear(x, W, b), [rand64([3, 4], -1, 1, 9), rand64([2, 4], -1, 1, 10), rand64([2], -1, 1, 11)]);
    checkGrad((x, W, b) => wg.linear(x, W, b), [rand64([2, 3, 4], -1, 1, 12), rand64([5, 4], -1, 1, 13), rand64([5], -1, 1, 14)]);
    checkGrad((x, W) => wg.linear(x, W), [rand64([4], -1, 1, 15), rand64([3, 4], -1, 1, 16)]);
    checkGrad((x, W) => wg.linear(x, W), [rand64([1, 1], -1, 1, 17), rand64([1, 1], -1, 1, 18)]);
    checkGrad((x, w, b) => wg.linear(x, w, b), [rand64([3, 4], -1, 1, 19), rand64([4], -1, 1, 20), rand64([], -1, 1, 21)]);
  });

  it('JVP matches VJP in x and in W; second derivatives; float32 vs float64', () => {
    const x = rand64([2, 3, 4], -1, 1, 22), W = rand64([5, 4], -1, 1, 23), b = rand64([5], -1, 1, 24);
    const check = (f: (t: Tensor) => Tensor, at: Tensor) => wg.tidy(() => {
      const u = rand64(at.shape, -1, 1, 25);
      const [y, ydot] = wg.jvp(f, [at], [u]);
      const v = rand64((y as Tensor).shape, -1, 1, 26);
      const g = wg.grad((t: Tensor) => f(t).mul(v).sum())(at);
      expectClose(dot(flat((ydot as Tensor).toArray()), flat(v.toArray())), dot(flat(g.toArray()), flat(u.toArray())), 1e-12, 1e-12);
    });
    check((t) => wg.linear(t, W, b), x);
    check((t) => wg.linear(x, t, b), W);
    check((t) => wg.linear(x, W, t), b);
    // h(W) = Σ linear(x, W, b)²: its Hessian-vector product (both ways) against differences of the gradient
    wg.tidy(() => {
      const h = (t: Tensor) => wg.linear(x, t, b).square().sum();
      const v = rand64(W.shape, -1, 1, 27);
      const eps = 1e-5;
      const fd = flat(wg.grad(h)(W.add(v.mul(eps))).toArray()).map((p, i) => (p - flat(wg.grad(h)(W.sub(v.mul(eps))).toArray())[i]) / (2 * eps));
      expectClose(flat(wg.hvp(h)(W, v).toArray()), fd, 1e-6, 1e-7);
      expectClose(flat(wg.grad((t: Tensor) => wg.grad(h)(t).mul(v).sum())(W).toArray()), fd, 1e-6, 1e-7);
    });
    // float32 within float32 rounding of float64
    const y64 = flat(wg.linear(x, W, b).toArray());
    const y32 = flat(wg.linear(x.to('float32'), W.to('float32'), b.to('float32')).toArray());
    expectClose(y32, y64, 0, 1e-5);
  });

  it('frees its temporaries', () => {
    const x = rand64([4], -1, 1, 28), W = rand64([3, 4], -1, 1, 29), b = rand64([3], -1, 1, 30), w = rand64([4], -1, 1, 31);
    const b0 = wg.tensor(0.5, { dtype: 'float64' });
    expectNoLeak(() => { wg.dispose(wg.linear(x, W, b)); wg.dispose(wg.linear(x, w)); wg.dispose(wg.linear(W, w, b0)); });
  });

  it('rejects mismatched shapes naming both, and bad dtypes', () => {
    const x = rand64([2, 3], -1, 1, 32);
    expectError(() => wg.linear(x, rand64([4, 5], -1, 1, 33)), wg.ShapeError, 'linear', '[2, 3]', '[4, 5]', 'last dim (3)', 'in-features');
    expectError(() => wg.fullyconnect(x, rand64([4, 5], -1, 1, 33)), wg.ShapeError, 'fullyconnect', '[2, 3]', '[4, 5]');
    expectError(() => wg.linear(x, rand64([4, 3], -1, 1, 34), rand64([3], -1, 1, 35)), wg.ShapeError, 'linear', 'bias has shape [3]', '[4, 3]', 'must have shape [4]');
    expectError(() => wg.linear(x, rand64([2, 4, 3], -1, 1, 36)), wg.ShapeError, 'linear', 'weight must be 2-D', '[2, 4, 3]');
    expectError(() => wg.linear(wg.tensor(1, { dtype: 'float64' }), rand64([2, 1], -1, 1, 37)), wg.ShapeError, 'linear', 'rank-0');
    expectError(() => wg.linear(x, rand64([4, 3], -1, 1, 38).to('float32')), wg.DTypeError, 'linear', 'float32', 'float64');
    expectError(() => wg.linear(wg.tensor([[1, 2, 3]], { dtype: 'int32' }), rand64([4, 3], -1, 1, 39)), wg.DTypeError, 'linear', 'int32');
  });

  it('is listed in the registry with its alias', () => {
    for (const op of registry) {
      expect(typeof (wg as any)[op.name]).toBe('function');
      for (const alias of op.aliases ?? []) expect(typeof (wg as any)[alias]).toBe('function');
    }
    expect(typeof (wg.Tensor.prototype as any).linear).toBe('function');
    expect(typeof (wg.Tensor.prototype as any).einsum).toBe('function');
  });
});
