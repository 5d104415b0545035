// Forward mode and higher derivatives on the seed function f(x) = x1 · exp(−½(x1² + x2²)) at
// (2, ½) in float64, against the exact values of ../shared/reference/seed-example.md; third
// derivatives against closed forms; the errors of forward mode and higher order.

import { beforeAll, describe, expect, it } from 'vitest';
import { wg, expectClose, expectNoLeak, rand64 } from './helpers.js';
import type { Tensor } from '../src/index.js';

beforeAll(async () => { await wg.init(); });

const TOL = 1e-13;
const f64 = (v: number[] | number, shape?: number[]) => wg.tensor(v as any, { dtype: 'float64', ...(shape ? { shape } : {}) });

// The reference tables (seed-example.md).
const E = 0.119432968266720; // exp(−2.125)
const tangentsX1 = [1, 0, 4, 0, 4, -2, -0.238865936533439, -0.358298904800159];
const tangentsX2 = [0, 1, 0, 1, 1, -0.5, -0.0597164841333598, -0.119432968266720];
const H11 = 0.238865936533439, H12 = 0.179149452400079, H22 = -0.179149452400079;
const LAPLACIAN = 0.0597164841333598;
const HESSIAN = [[H11, H12], [H12, H22]];

const seed2 = (x1: Tensor, x2: Tensor): Tensor => x1.mul(x1.square().add(x2.square()).mul(-0.5).exp());
/** The seed on a 2-vector. */
const seed = (x: Tensor): Tensor => { const [a, b] = x.unstack(); return seed2(a, b); };
const X = () => f64([2, 0.5]);

/** The seed's Hessian and Laplacian in closed form at any point (for the batched operators). */
function exactHessian(x1: number, x2: number): number[][] {
  const e = Math.exp(-0.5 * (x1 * x1 + x2 * x2));
  const h12 = (x1 * x1 - 1) * x2 * e;
  return [[(x1 ** 3 - 3 * x1) * e, h12], [h12, x1 * (x2 * x2 - 1) * e]];
}
const exactLaplacian = (x1: number, x2: number) => { const h = exactHessian(x1, x2); return h[0][0] + h[1][1]; };

describe('forward mode on the seed function', () => {
  it('the reference itself: closed forms reproduce the tables (guards the constants above)', () => {
    expectClose(exactHessian(2, 0.5), HESSIAN, 1e-14, 0);
    expectClose(exactLaplacian(2, 0.5), LAPLACIAN, 1e-14, 0);
    expectClose(Math.exp(-2.125), E, 1e-14, 0);
  });

  it('traceJvp: every tangent u̇₋₁ … u̇₆ in the direction of x1 and of x2', () => {
    for (const [dir, expected] of [[[1, 0], tangentsX1], [[0, 1], tangentsX2]] as const) {
      wg.tidy(() => {
        const t = wg.traceJvp(seed2, [f64(2), f64(0.5)], [f64(dir[0]), f64(dir[1])]);
        expect(t.nodes.map((n) => n.index)).toEqual([-1, 0, 1, 2, 3, 4, 5, 6]);
        expect(t.nodes.map((n) => n.op)).toEqual(['input', 'input', 'square', 'square', 'add', 'mul', 'exp', 'mul']);
        expectClose(t.nodes.map((n) => n.tangent), expected, TOL, TOL);
        // values and adjoints are the same tables as trace()
        expectClose(t.nodes[7].value, 0.238865936533439, TOL, 0);
        expectClose(t.nodes[0].adjoint, -0.358298904800159, TOL, 0);
        const text = t.toString();
        expect(text).toContain('Forward mode (tangents u̇)');
        expect(text).toContain('u̇₆');
      });
    }
  });

  it('jvp: outputs and tangents in one pass, in each direction and along a mixed one', () => {
    wg.tidy(() => {
      for (const [dir, expected] of [[[1, 0], tangentsX1[7]], [[0, 1], tangentsX2[7]]] as const) {
        const [y, ydot] = wg.jvp(seed, [X()], [f64([...dir])]);
        expectClose(y.item(), 0.238865936533439, TOL, 0);
        expectClose(ydot.item(), expected, TOL, 0);
      }
      // linear in the direction: ∇f · (3, −2)
      const [, mixed] = wg.jvp(seed, [X()], [f64([3, -2])]);
      expectClose(mixed.item(), 3 * tangentsX1[7] - 2 * tangentsX2[7], TOL, 0);
      // two primals, structured outputs (an object and an array come back in the same structure)
      const [out, tan] = wg.jvp((a: Tensor, b: Tensor) => ({ f: seed2(a, b), parts: [a.square(), b.square()] }),
        [f64(2), f64(0.5)], [f64(0), f64(1)]);
      expectClose(out.f.item(), 0.238865936533439, TOL, 0);
      expectClose(tan.f.item(), tangentsX2[7], TOL, 0);
      expect(tan.parts.map((t: Tensor) => t.item())).toEqual([0, 1]);
      // an output that does not depend on the primals gets a zero tangent of its shape
      const [, zero] = wg.jvp((a: Tensor) => f64([1, 2, 3]).add(a.mul(0).detach()), [f64(1)], [f64(1)]);
      expect(zero.toArray()).toEqual([0, 0, 0]);
    });
  });

  it('jacfwd and jacobian give ∇f as a [2] Jacobian', () => {
    wg.tidy(() => {
      const g = [tangentsX1[7], tangentsX2[7]];
      expectClose(wg.jacfwd(seed)(X()).toArray(), g, TOL, 0);
      expectClose(wg.jacrev(seed)(X()).toArray(), g, TOL, 0);
      expect(wg.jacobian(seed)(X()).shape).toEqual([2]);
    });
  });

  it('the Hessian: hessian, jacfwd(grad) and jacobian(grad) agree with the table', () => {
    wg.tidy(() => {
      const h = wg.hessian(seed)(X());
      expect(h.shape).toEqual([2, 2]);
      expectClose(h.toArray(), HESSIAN, TOL, TOL);
      expectClose(wg.jacfwd(wg.grad(seed))(X()).toArray(), HESSIAN, TOL, TOL);
      expectClose(wg.jacobian(wg.grad(seed))(X()).toArray(), HESSIAN, TOL, TOL);
      // reverse over reverse by hand: grad of each gradient component
      const rows = [0, 1].map((i) => wg.grad((x: Tensor) => wg.grad(seed)(x).select(0, i))(X()).toArray());
      expectClose(rows, HESSIAN, TOL, TOL);
      // valueAndGrad with higherOrder inside dlfeval, then dlgradient of each component
      const [d1, d2] = wg.dlfeval((x: Tensor) => {
        const [, gx] = wg.valueAndGrad(seed, { higherOrder: true })(x);
        return [gx, [0, 1].map((i) => wg.dlgradient(gx.select(0, i), x))];
      }, X());
      expectClose(d1.toArray(), [tangentsX1[7], tangentsX2[7]], TOL, 0);
      expectClose(d2.map((t: Tensor) => t.toArray()), HESSIAN, TOL, TOL);
    });
  });

  it('Hessian-vector products (forward over reverse) equal H·v', () => {
    wg.tidy(() => {
      for (const v of [[1, 0], [0, 1], [0.3, -1.7], [2.5, 4]]) {
        const hv = wg.hvp(seed)(X(), f64(v));
        expectClose(hv.toArray(), [H11 * v[0] + H12 * v[1], H12 * v[0] + H22 * v[1]], TOL, TOL);
      }
    });
  });

  it('the Laplacian: the trace of the Hessian, and dllaplacian with either layout', () => {
    wg.tidy(() => {
      const h = wg.hessian(seed)(X()).toArray() as number[][];
      expectClose(h[0][0] + h[1][1], LAPLACIAN, TOL, TOL);
      // dllaplacian: component axis dim, the other axis holds observations (the seed point first)
      const pts = [[2, 0.5], [0.3, -1.1], [-1.4, 0.8]];
      for (const layout of ['components first', 'observations first'] as const) {
        const [lap, div, jac] = wg.dlfeval((x: Tensor) => {
          const dim = layout === 'components first' ? 0 : 1;
          const u = seed2(x.select(dim, 0), x.select(dim, 1)).unsqueeze(dim);
          const g = wg.dljacobian(u, x, dim);
          return [wg.dllaplacian(u, x, dim), wg.dldivergence(g.squeeze(dim), x, dim), g];
        }, layout === 'components first' ? f64(pts[0].map((_, k) => pts.map((p) => p[k])).flat(), [2, 3]) : f64(pts.flat(), [3, 2]));
        const expected = pts.map(([a, b]) => exactLaplacian(a, b));
        expect(lap.shape).toEqual(layout === 'components first' ? [1, 3] : [3, 1]);
        expectClose(lap.toArray(), layout === 'components first' ? [expected] : expected.map((v) => [v]), TOL, TOL);
        // the divergence of the gradient field is the Laplacian too
        expectClose(div.toArray(), lap.toArray(), TOL, TOL);
        expect(jac.shape).toEqual(layout === 'components first' ? [1, 2, 3] : [3, 1, 2]);
        expectClose(lap.toArray(), layout === 'components first' ? [[LAPLACIAN, ...expected.slice(1)]] : [[LAPLACIAN], ...expected.slice(1).map((v) => [v])], TOL, TOL);
      }
    });
  });

  it('forward mode leaves nothing behind', () => {
    const x = X(), v = f64([0.3, -1.7]);
    wg.tidy(() => { wg.jvp(seed, [x], [v]); wg.hessian(seed)(x); wg.hvp(seed)(x, v); }); // warm-up
    expectNoLeak(() => {
      for (let i = 0; i < 20; i++) {
        wg.tidy(() => {
          wg.jvp(seed, [x], [v]);
          wg.hessian(seed)(x);
          wg.hvp(seed)(x, v);
          wg.traceJvp(seed2, [f64(2), f64(0.5)], [f64(1), f64(0)]);
        });
      }
    });
    wg.dispose([x, v]);
  });
});

describe('third derivatives against closed forms', () => {
  const pts = [-2.1, -0.7, 0, 0.4, 1.3, 3];
  const cases = [
    { name: 'tanh', f: (x: Tensor) => x.tanh(), d3: (x: number) => { const t = Math.tanh(x); return (1 - t * t) * (6 * t * t - 2); } },
    { name: 'sin', f: (x: Tensor) => x.sin(), d3: (x: number) => -Math.cos(x) },
  ];
  for (const { name, f, d3 } of cases) {
    it(`d³/dx³ ${name} by grad(grad(grad(f))) at scalar points`, () => {
      wg.tidy(() => {
        const third = wg.grad(wg.grad(wg.grad(f)));
        for (const p of pts) expectClose(third(f64(p)).item(), d3(p), TOL, TOL);
      });
    });

    it(`d³/dx³ ${name} elementwise by jvp of grad of grad, and by jacfwd of the second derivative`, () => {
      wg.tidy(() => {
        // the Hessian of Σ f(x_i) is diagonal, so grad(Σ grad(Σ f)) is f'' elementwise
        const second = (x: Tensor) => wg.grad((y: Tensor) => wg.grad((z: Tensor) => f(z).sum())(y).sum())(x);
        const x = f64(pts);
        const [d2, t3] = wg.jvp(second, [x], [wg.onesLike(x)]);
        expectClose(t3.toArray(), pts.map(d3), TOL, TOL);
        expect(d2.shape).toEqual([pts.length]);
        const j = wg.jacfwd(second)(x).toArray() as number[][];
        expectClose(j.map((row, i) => row[i]), pts.map(d3), TOL, TOL);
        expectClose(j.map((row, i) => row.filter((_, k) => k !== i)).flat(), pts.map(() => Array(pts.length - 1).fill(0)).flat(), 0, 0);
      });
    });
  }

  it('mixed third derivative of the seed: ∂³f/∂x1³ by jvp of a Hessian entry, against the closed form', () => {
    wg.tidy(() => {
      // ∂H₁₁/∂x1 from the closed form (x1³ − 3x1) e: (3x1² − 3) e − x1 (x1³ − 3x1) e
      const h11 = (x: Tensor) => wg.grad((y: Tensor) => wg.grad(seed)(y).select(0, 0))(x).select(0, 0);
      const [, d] = wg.jvp(h11, [X()], [f64([1, 0])]);
      expectClose(d.item(), ((3 * 4 - 3) - 2 * (8 - 6)) * E, TOL, TOL);
    });
  });
});

describe('bad input', () => {
  const stillWorks = () => wg.tidy(() => {
    const [y, t] = wg.jvp(seed, [X()], [f64([1, 0])]);
    expectClose([y.item(), t.item()], [0.238865936533439, tangentsX1[7]], TOL, 0);
  });

  it('jvp with a tangent of the wrong shape', () => {
    wg.tidy(() => {
      const call = () => wg.jvp(seed, [X()], [f64([1, 0, 0])]);
      expect(call).toThrow(wg.ShapeError);
      expect(call).toThrow('jvp: tangents[0] has shape [3] but primals[0] has shape [2]');
      expect(() => wg.jvp(seed, [X()], [f64([1, 0]), f64([1, 0])])).toThrow('jvp: 1 primal(s) but 2 tangent(s)');
    });
    stillWorks();
  });

  it('jvp with a tangent of the wrong dtype, and with int primals', () => {
    wg.tidy(() => {
      const call = () => wg.jvp(seed, [X()], [wg.tensor([1, 0], { dtype: 'float32' })]);
      expect(call).toThrow(wg.DTypeError);
      expect(call).toThrow('jvp: tangents[0] is float32 but primals[0] is float64');
      const ints = () => wg.jvp((x: Tensor) => x, [wg.tensor([1, 2], { dtype: 'int32' })], [wg.tensor([1, 2], { dtype: 'int32' })]);
      expect(ints).toThrow(wg.NotDifferentiableError);
      expect(ints).toThrow('jvp: primals[0] is a int32 tensor; only float tensors have tangents');
    });
    stillWorks();
  });

  it('hessian of a non-scalar function', () => {
    wg.tidy(() => {
      const call = () => wg.hessian((x: Tensor) => x.square())(X());
      expect(call).toThrow(wg.NotDifferentiableError);
      expect(call).toThrow('hessian: the function must return a scalar, got shape [2]; reduce it first, e.g. with .sum()');
      const hv = () => wg.hvp((x: Tensor) => [x.sum()] as any)(X(), f64([1, 0]));
      expect(hv).toThrow(wg.NotDifferentiableError);
      expect(hv).toThrow('hvp: the function must return a scalar, got an array; reduce it first, e.g. with .sum()');
    });
    stillWorks();
  });

  it('dllaplacian along a dimension x does not have', () => {
    wg.tidy(() => {
      const call = () => wg.dlfeval((x: Tensor) => wg.dllaplacian(x.square(), x, 2), rand64([2, 3]));
      expect(call).toThrow(wg.AxisError);
      expect(call).toThrow('dllaplacian: dim 2 is out of range for a tensor of rank 2 (expected [-2, 1])');
      const outside = () => wg.dllaplacian(f64([1]), f64([1]), 0);
      expect(outside).toThrow(wg.NotDifferentiableError);
      expect(outside).toThrow('dllaplacian: call it inside a function evaluated with dlfeval');
    });
    stillWorks();
  });

  it('nested jvp inside jvp', () => {
    wg.tidy(() => {
      const call = () => wg.jvp((x: Tensor) => wg.jvp(seed, [x], [f64([1, 0])])[1], [X()], [f64([0, 1])]);
      expect(call).toThrow(wg.NotDifferentiableError);
      expect(call).toThrow('jvp: forward mode inside forward mode is not supported; compose forward over reverse (jvp of grad) instead');
    });
    stillWorks();
    // the supported composition gives the mixed second derivative H₁₂
    wg.tidy(() => {
      const [, t] = wg.jvp((x: Tensor) => wg.grad(seed)(x).select(0, 0), [X()], [f64([0, 1])]);
      expectClose(t.item(), H12, TOL, 0);
    });
  });

  it('higher order through a function with only a VJP rule: forward over reverse needs its JVP', () => {
    // customGrad without { jvp } differentiates twice in reverse mode, but hessian (jvp of grad)
    // runs the function itself in forward mode, where it has no rule.
    const cube = wg.customGrad((x: Tensor) => x.pow(3), (g: Tensor, _y: Tensor, x: Tensor) => g.mul(x.square()).mul(3), { name: 'cube' });
    wg.tidy(() => {
      const f = (x: Tensor) => cube(x).sum();
      expectClose(wg.grad((x: Tensor) => wg.grad(f)(x).sum())(f64([1, -2])).toArray(), [6, -12], TOL, 0);
      const call = () => wg.hessian(f)(f64([1, -2]));
      expect(call).toThrow(wg.NotDifferentiableError);
      expect(call).toThrow('cube: forward mode reached a function with only a VJP rule; give it a JVP rule with customGrad(forward, vjp, { jvp })');
    });
    stillWorks();
  });

  it('higher order through a customJvp function used in reverse mode', () => {
    const sq = wg.customJvp((x: Tensor) => x.square(), ([t]: (Tensor | null)[], _y: Tensor, x: Tensor) => t!.mul(x).mul(2), { name: 'sq' });
    wg.tidy(() => {
      const [, t] = wg.jvp((x: Tensor) => sq(x), [f64([3])], [f64([1])]);
      expect(t.toArray()).toEqual([6]);
      const call = () => wg.grad((x: Tensor) => sq(x).sum())(f64([3]));
      expect(call).toThrow(wg.NotDifferentiableError);
      expect(call).toThrow('sq: reverse mode reached a function with only a JVP rule; give it a VJP rule with customGrad(forward, vjp, { jvp })');
    });
    stillWorks();
  });

  it('a VJP rule that is not differentiable (returns a detached tensor): its second-order term is lost, silently', () => {
    // There is no built-in op without a second derivative (every rule is written with recording
    // ops). A custom rule that leaves the graph — here by detaching its result — is treated as a
    // constant when the gradient is differentiated again, so grad(grad(f)) misses its term, as
    // with JAX's stop_gradient inside a custom_vjp. This pins that behaviour down.
    const cube = wg.customGrad((x: Tensor) => x.pow(3), (g: Tensor, _y: Tensor, x: Tensor) => g.mul(x.square()).mul(3).detach(), { name: 'cube' });
    wg.tidy(() => {
      const f = (x: Tensor) => cube(x).sum();
      expect(wg.grad(f)(f64([1, -2])).toArray()).toEqual([3, 12]);
      expect(wg.grad((x: Tensor) => wg.grad(f)(x).sum())(f64([1, -2])).toArray()).toEqual([0, 0]);
      // through the sum f + x³ only the built-in op's second derivative (6x) survives
      expect(wg.grad((x: Tensor) => wg.grad((y: Tensor) => f(y).add(y.pow(3).sum()))(x).sum())(f64([1, -2])).toArray()).toEqual([6, -12]);
    });
    stillWorks();
  });
});
