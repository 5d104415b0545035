// Reverse mode as users see it: valueAndGrad / grad options and structures, hasAux, unused
// inputs, fan-out, higher order, dlfeval / dlgradient (also with respect to intermediates), trace.

import { beforeAll, describe, expect, it } from 'vitest';
import { wg, checkGrad, expectClose, rand64 } from './helpers.js';
import type { Tensor } from '../src/index.js';

beforeAll(async () => { await wg.init(); });

const f64 = (v: number[] | number, shape?: number[]) => wg.tensor(v as any, { dtype: 'float64', ...(shape ? { shape } : {}) });

describe('valueAndGrad and grad', () => {
  it('argnums as an array picks the differentiated arguments, in that order', () => {
    wg.tidy(() => {
      const a = f64([1, 2]), b = f64([3, 4]), c = f64([5, 6]);
      const f = (x: Tensor, y: Tensor, z: Tensor) => x.mul(y).add(z.square()).sum();
      const [v, [gc, ga]] = wg.valueAndGrad(f, { argnums: [2, 0] })(a, b, c);
      expect(v.item()).toBe(3 + 8 + 25 + 36);
      expect(gc.toArray()).toEqual([10, 12]);
      expect(ga.toArray()).toEqual([3, 4]);
      const [gb] = wg.grad(f, { argnums: [1] })(a, b, c);
      expect(gb.toArray()).toEqual([1, 2]);
      expect(wg.grad(f, { argnums: 1 })(a, b, c).toArray()).toEqual([1, 2]);
      // non-tensor arguments pass through
      const [, gs] = wg.valueAndGrad((x: Tensor, s: number) => x.mul(s).sum())(a, 2.5);
      expect(gs.toArray()).toEqual([2.5, 2.5]);
      expect(() => wg.valueAndGrad(f, { argnums: [3] })(a, b, c)).toThrow(wg.ValueError);
      expect(() => wg.valueAndGrad(f, { argnums: [3] })(a, b, c)).toThrow('valueAndGrad: argnums 3 is out of range for 3 argument(s)');
    });
  });

  it('gradients of arrays and plain objects of tensors come back in the same structure', () => {
    wg.tidy(() => {
      const params = { w: f64([1, 2, 3]), layers: [f64(2), { bias: f64([0.5]) }], name: 'mlp' };
      const f = (p: typeof params) => {
        const [s, inner] = p.layers as [Tensor, { bias: Tensor }];
        return p.w.mul(s).add(inner.bias).square().sum();
      };
      const [v, g] = wg.valueAndGrad(f)(params);
      // y_i = (2 w_i + 0.5)^2: dy/dw_i = 4 (2 w_i + 0.5), dy/ds = Σ 2 (s w_i + b) w_i, dy/db = Σ 2 (s w_i + b)
      expect(v.item()).toBe(2.5 ** 2 + 4.5 ** 2 + 6.5 ** 2);
      expect(Object.keys(g)).toEqual(['w', 'layers', 'name']);
      expect(g.name).toBe('mlp');
      expect(g.w.toArray()).toEqual([10, 18, 26]);
      expect(g.layers[0].shape).toEqual([]);
      expect(g.layers[0].item()).toBe(2 * (2.5 * 1 + 4.5 * 2 + 6.5 * 3));
      expect(g.layers[1].bias.toArray()).toEqual([2 * (2.5 + 4.5 + 6.5)]);
      const [ga, gb] = wg.grad((xs: Tensor[], y: Tensor) => xs[0].mul(xs[1]).mul(y).sum(), { argnums: [0, 1] })(
        [f64([2]), f64([3])], f64([4]));
      expect(ga.map((t: Tensor) => t.item())).toEqual([12, 8]);
      expect(gb.item()).toBe(6);
    });
  });

  it('hasAux: [value, aux] comes back beside the gradient; aux tensors survive', () => {
    const n = wg.memory().liveTensors;
    const x = f64([1, 2, 3]);
    const [[v, aux], g] = wg.valueAndGrad((t: Tensor) => {
      const pred = t.mul(2);
      return [pred.square().sum(), { pred, note: 'aux', count: 3 }];
    }, { hasAux: true })(x);
    expect(v.item()).toBe(56);
    expect(aux.note).toBe('aux');
    expect(aux.count).toBe(3);
    expect(aux.pred.toArray()).toEqual([2, 4, 6]);
    expect(g.toArray()).toEqual([8, 16, 24]);
    expect(wg.memory().liveTensors).toBe(n + 4);
    wg.dispose([x, v, aux, g]);
    expect(wg.memory().liveTensors).toBe(n);
  });

  it('an unused input gets zeros of its shape and dtype', () => {
    wg.tidy(() => {
      const a = f64([1, 2]), b = wg.tensor([[1, 2, 3]]);
      const [, [ga, gb]] = wg.valueAndGrad((x: Tensor, _y: Tensor) => x.square().sum(), { argnums: [0, 1] })(a, b);
      expect(ga.toArray()).toEqual([2, 4]);
      expect(gb.dtype).toBe('float32');
      expect(gb.toArray()).toEqual([[0, 0, 0]]);
      // also when the output does not depend on any input at all
      const [v, g0] = wg.valueAndGrad((_x: Tensor) => f64(7))(a);
      expect(v.item()).toBe(7);
      expect(g0.toArray()).toEqual([0, 0]);
      // and when f returns its input itself
      const [vi, gi] = wg.valueAndGrad((x: Tensor) => x)(f64(3));
      expect(vi.item()).toBe(3);
      expect(gi.item()).toBe(1);
    });
  });

  it('fan-out: a tensor used several times accumulates every contribution', () => {
    wg.tidy(() => {
      const x = f64([0.5, -1, 2]);
      const [, g] = wg.valueAndGrad((t: Tensor) => t.mul(t).add(t.sin()).add(t).mul(t).sum())(x);
      // d/dx of (x² + sin x + x)·x = 3x² + sin x + x cos x + 2x
      expectClose(g.toArray(), [0.5, -1, 2].map((v) => 3 * v * v + Math.sin(v) + v * Math.cos(v) + 2 * v), 1e-14, 0);
      checkGrad((t) => t.exp().mul(t).add(t.square().mul(t)).div(t.add(3)), [rand64([2, 3], -1, 1, 4)]);
    });
  });

  it('grad(grad(f)) for f = x³ is 6x exactly, and the third derivative is 6', () => {
    wg.tidy(() => {
      const cube = (x: Tensor) => x.mul(x).mul(x).sum();
      const cubePow = (x: Tensor) => x.pow(3).sum();
      for (const v of [-3, -0.5, 0, 0.25, 1, 2, 7]) {
        const x = f64(v);
        expect(wg.grad(cube)(x).item()).toBe(3 * v * v);
        expect(wg.grad(wg.grad(cube))(x).item()).toBe(6 * v);
        expect(wg.grad(wg.grad(cubePow))(x).item()).toBe(6 * v);
        const [d1, d2] = wg.valueAndGrad(wg.grad(cube))(x);
        expect(d1.item()).toBe(3 * v * v);
        expect(d2.item()).toBe(6 * v);
        expect(wg.grad(wg.grad(wg.grad(cube)))(x).item()).toBe(6);
      }
      // on a vector: the Hessian of Σ x³ is diagonal, so grad of Σ grad gives 6x elementwise
      const xs = f64([1, -2, 3]);
      expect(wg.grad((t: Tensor) => wg.grad(cube)(t).sum())(xs).toArray()).toEqual([6, -12, 18]);
    });
  });

  it('grad(grad(f)) of a function of two variables: mixed second derivatives', () => {
    wg.tidy(() => {
      // f = x² y + sin(x y); ∂f/∂x = 2xy + y cos(xy); ∂²f/∂x∂y = 2x + cos(xy) - xy sin(xy)
      const f = (x: Tensor, y: Tensor) => x.square().mul(y).add(x.mul(y).sin()).sum();
      const x = f64(0.7), y = f64(-1.3);
      const dxdy = wg.grad((a: Tensor, b: Tensor) => wg.grad(f)(a, b), { argnums: 1 })(x, y);
      const p = 0.7 * -1.3;
      expectClose(dxdy.item(), 2 * 0.7 + Math.cos(p) - p * Math.sin(p), 1e-14, 0);
    });
  });
});

describe('dlfeval and dlgradient', () => {
  it('with respect to inputs, in the structure of x', () => {
    const [y, g] = wg.dlfeval((a: Tensor, b: Tensor) => {
      const v = a.mul(b).sum();
      return [v, wg.dlgradient(v, { a, b })];
    }, f64([1, 2]), f64([3, 4]));
    expect(y.item()).toBe(11);
    expect(g.a.toArray()).toEqual([3, 4]);
    expect(g.b.toArray()).toEqual([1, 2]);
    wg.dispose([y, g]);
  });

  it('with respect to an intermediate value', () => {
    wg.tidy(() => {
      const [gh, gx, hv] = wg.dlfeval((x: Tensor) => {
        const h = x.exp();
        const y = h.mul(h).add(h.mul(x)).sum();
        const [dh, dx] = wg.dlgradient(y, [h, x]);
        return [dh, dx, h];
      }, f64([0, 1]));
      const h = [1, Math.E];
      // ∂y/∂h (x held fixed) = 2h + x; dy/dx through h and directly = (2h + x) h + h
      expectClose(hv.toArray(), h, 1e-15, 0);
      expectClose(gh.toArray(), [2 * h[0] + 0, 2 * h[1] + 1], 1e-15, 0);
      expectClose(gx.toArray(), [(2 * h[0]) * h[0] + h[0], (2 * h[1] + 1) * h[1] + h[1]], 1e-15, 0);
    });
  });

  it('two dlgradient calls in one dlfeval are independent (the first result is not touched)', () => {
    wg.tidy(() => {
      const [g1, g2, g1Before] = wg.dlfeval((x: Tensor) => {
        const a = wg.dlgradient(x.square().sum(), x);
        const before = a.toArray();
        const b = wg.dlgradient(x.mul(3).sum(), x);
        return [a, b, before];
      }, f64([2, 5]));
      expect(g1Before).toEqual([4, 10]);
      expect(g1.toArray()).toEqual([4, 10]);
      expect(g2.toArray()).toEqual([3, 3]);
    });
  });

  it('EnableHigherDerivatives: a gradient differentiated again inside the same dlfeval', () => {
    wg.tidy(() => {
      const [g, h] = wg.dlfeval((x: Tensor) => {
        const y = x.pow(3).sum();
        const gx = wg.dlgradient(y, x, { EnableHigherDerivatives: true });
        return [gx, wg.dlgradient(gx.sum(), x)];
      }, f64([1, -2, 0.5]));
      expect(g.toArray()).toEqual([3, 12, 0.75]);
      expect(h.toArray()).toEqual([6, -12, 3]);
    });
  });
});

describe('trace', () => {
  it('a small function: one node per input and per op, with values and adjoints', () => {
    // f = x1·x2 + sin(x1) at (2, 3): u₋₁ = x1, u₀ = x2, u₁ = u₋₁·u₀, u₂ = sin u₋₁, u₃ = u₁ + u₂
    const t = wg.trace((a: Tensor, b: Tensor) => a.mul(b).add(a.sin()), f64(2), f64(3));
    expect(t.nodes.length).toBe(5);
    expect(t.nodes.map((n) => n.index)).toEqual([-1, 0, 1, 2, 3]);
    expect(t.nodes.map((n) => n.op)).toEqual(['input', 'input', 'mul', 'sin', 'add']);
    expect(t.nodes[2].inputs).toEqual([{ node: -1 }, { node: 0 }]);
    expect(t.nodes[4].inputs).toEqual([{ node: 1 }, { node: 2 }]);
    expectClose(t.nodes.map((n) => n.value), [2, 3, 6, Math.sin(2), 6 + Math.sin(2)], 1e-15, 0);
    expectClose(t.nodes.map((n) => n.adjoint), [3 + Math.cos(2), 2, 1, 1, 1], 1e-15, 0);
    expect(t.outputIndex).toBe(3);
    // a constant operand shows as its value, not as a node
    const c = wg.trace((a: Tensor) => a.mul(5).exp(), f64(0.1));
    expect(c.nodes.map((n) => n.op)).toEqual(['input', 'mul', 'exp']);
    expect(c.nodes[1].inputs).toEqual([{ node: 0 }, { constant: 5 }]);
  });

  it('leaves nothing behind', () => {
    const x = f64(2), y = f64(3);
    const n = wg.memory().liveTensors;
    for (let i = 0; i < 50; i++) wg.trace((a: Tensor, b: Tensor) => a.mul(b).add(a.sin()), x, y);
    expect(wg.memory().liveTensors).toBe(n);
    wg.dispose([x, y]);
  });
});
