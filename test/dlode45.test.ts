// dlode45 (MATLAB's differentiable ODE solve): solutions against exact ones (decay, the harmonic
// oscillator, y' = A·y against a matrix exponential computed here), multiple output times and
// backward-in-time spans, gradients in both GradientModes against central finite differences,
// the exact derivative of decay and each other, dlfeval/dlgradient with a struct of parameters,
// jvp through 'direct', memory constant in the number of steps for 'adjoint', no leaks, and
// every bad input as a clear error.

import { beforeAll, describe, expect, it } from 'vitest';
import { wg, expectClose, expectError, expectNoLeak, flat, uniform } from './helpers.js';
import type { Tensor } from '../src/index.js';
import { dlode45 } from '../src/matlab/ode.js';

beforeAll(async () => { await wg.init(); });

const f64 = (v: any, shape?: number[]) => wg.tensor(v, { dtype: 'float64', ...(shape ? { shape } : {}) });
const TIGHT = { RelativeTolerance: 1e-8, AbsoluteTolerance: 1e-10 };
const MODES = ['direct', 'adjoint'] as const;

/** max |a − e| over all elements. */
const maxErr = (a: unknown, e: unknown): number => {
  const x = flat(a), y = flat(e);
  expect(x.length).toBe(y.length);
  return Math.max(...x.map((v, i) => Math.abs(v - y[i])));
};

// —————————————————————————————————————————————————— exact solutions in plain JS

/** e^{M} for a small square matrix (arrays of rows): Taylor series after scaling, then squaring. */
function expm(M: number[][]): number[][] {
  const n = M.length;
  const mm = (a: number[][], b: number[][]) => a.map((r) => b[0].map((_, j) => r.reduce((s, v, k) => s + v * b[k][j], 0)));
  const norm = Math.max(...M.map((r) => r.reduce((s, v) => s + Math.abs(v), 0)));
  const squarings = Math.max(0, Math.ceil(Math.log2(norm)) + 4);
  const S = M.map((r) => r.map((v) => v / 2 ** squarings));
  let term = S.map((r, i) => r.map((_, j) => (i === j ? 1 : 0)));
  let sumM = term.map((r) => r.slice());
  for (let k = 1; k < 30; k++) {
    term = mm(term, S).map((r) => r.map((v) => v / k));
    sumM = sumM.map((r, i) => r.map((v, j) => v + term[i][j]));
  }
  for (let s = 0; s < squarings; s++) sumM = mm(sumM, sumM);
  return sumM;
}

const decay = (_t: number, y: Tensor, k: Tensor) => y.mul(k).neg();

describe('dlode45: solutions', () => {
  it('exponential decay y\' = −k·y: within the requested tolerance, and within ode45\'s defaults by default', () => {
    wg.tidy(() => {
      const y0 = [1, 2, -0.5];
      const exact = y0.map((v) => v * Math.exp(-0.7 * 2));
      for (const mode of MODES) {
        const y = dlode45(decay, [0, 2], f64(y0), f64(0.7), { ...TIGHT, GradientMode: mode });
        expect(y.shape).toEqual([3]);
        expect(maxErr(y.toArray(), exact)).toBeLessThan(1e-8);
      }
      // Defaults RelTol 1e-3, AbsTol 1e-6: the error is of that order, not more.
      const loose = dlode45(decay, [0, 2], f64(y0), f64(0.7));
      const e = maxErr(loose.toArray(), exact);
      expect(e).toBeLessThan(1e-3);
      expect(e).toBeGreaterThan(0);
    });
  });

  it('the harmonic oscillator x\'\' = −ω²x at many output times: the times stacked on a new last axis', () => {
    wg.tidy(() => {
      const w = 2;
      const osc = (_t: number, y: Tensor, omega: Tensor) => {
        const [x, v] = wg.unstack(y, 0);
        return wg.stack([v, x.mul(omega.square()).neg()], 0);
      };
      const ts = Array.from({ length: 21 }, (_, i) => i * 0.5);
      const Y = dlode45(osc, ts, f64([1, 0]), f64(w), TIGHT);
      expect(Y.shape).toEqual([2, 20]);
      const exact = [ts.slice(1).map((t) => Math.cos(w * t)), ts.slice(1).map((t) => -w * Math.sin(w * t))];
      expect(maxErr(Y.toArray(), exact)).toBeLessThan(1e-6);
      // A two-point span gives the state at its end, in Y0's shape.
      const y = dlode45(osc, [0, 10], f64([1, 0]), f64(w), TIGHT);
      expect(y.shape).toEqual([2]);
      expect(maxErr(y.toArray(), [Math.cos(20), -2 * Math.sin(20)])).toBeLessThan(1e-6);
    });
  });

  it('a linear system y\' = A·y (a batch of initial states) against the matrix exponential', () => {
    wg.tidy(() => {
      const A = [[-0.5, 1.2, 0], [-1.0, -0.3, 0.4], [0.2, 0, -0.8]];
      const Y0 = [[1, 0, 0.5, -1], [0, 1, 0.5, 2], [0, 0, 1, 0.3]]; // [C, B]: 3 states, 4 observations
      const At = f64(A);
      const ts = [0, 0.7, 2.5, 4];
      const Y = dlode45((_t: number, y: Tensor, a: Tensor) => wg.matmul(a, y), ts, f64(Y0), At, { ...TIGHT, DataFormat: 'CB' });
      expect(Y.shape).toEqual([3, 4, 3]);
      const got = Y.toArray() as number[][][];
      for (let k = 1; k < ts.length; k++) {
        const E = expm(A.map((r) => r.map((v) => v * ts[k])));
        const exact = E.map((r) => Y0[0].map((_, j) => r.reduce((s, v, i) => s + v * Y0[i][j], 0)));
        const at = got.map((r) => r.map((c) => c[k - 1]));
        expect(maxErr(at, exact)).toBeLessThan(1e-6);
      }
    });
  });

  it('a decreasing tspan integrates backwards in time (as ode45 allows)', () => {
    wg.tidy(() => {
      for (const mode of MODES) {
        const Y = dlode45(decay, [2, 1, 0], f64([1, -3]), f64(0.7), { ...TIGHT, GradientMode: mode });
        expect(Y.shape).toEqual([2, 2]);
        const exact = [[Math.exp(0.7), Math.exp(1.4)], [-3 * Math.exp(0.7), -3 * Math.exp(1.4)]];
        expect(maxErr(Y.toArray(), exact)).toBeLessThan(1e-7);
      }
    });
  });

  it('odefun gets t as a number: y\' = cos(t) gives sin(t)', () => {
    wg.tidy(() => {
      const ts = [0, 1, 2, 3];
      const Y = dlode45((t: number, y: Tensor) => wg.fullLike(y, Math.cos(t)), ts, f64([0]), null, TIGHT);
      expect(maxErr(Y.toArray(), [ts.slice(1).map(Math.sin)])).toBeLessThan(1e-6);
    });
  });

  it('float32 states work, with the same dtype out', () => {
    wg.tidy(() => {
      const y = dlode45(decay, [0, 1], wg.tensor([1, 2]), wg.tensor(0.5));
      expect(y.dtype).toBe('float32');
      expectClose(y.toArray(), [Math.exp(-0.5), 2 * Math.exp(-0.5)], 1e-3, 1e-5);
    });
  });

  it('options as MATLAB name-value pairs, names and GradientMode case-insensitive, equal the options object', () => {
    wg.tidy(() => {
      const a = dlode45(decay, [0, 1, 2], f64([1, 2]), f64(0.3), { RelativeTolerance: 1e-6, GradientMode: 'adjoint' });
      const b = dlode45(decay, [0, 1, 2], f64([1, 2]), f64(0.3), 'relativetolerance', 1e-6, 'GRADIENTMODE', 'Adjoint');
      expect(b.toArray()).toEqual(a.toArray());
      const c = dlode45(decay, [0, 1, 2], f64([1, 2]), f64(0.3), { relativeTolerance: 1e-6 });
      expect(c.toArray()).toEqual(a.toArray());
    });
  });
});

// —————————————————————————————————————————————————— gradients

/** A small nonlinear, time-dependent field: f = V·tanh(W·y + b) + 0.1·sin(t). */
const mlp = (t: number, y: Tensor, p: { W: Tensor; b: Tensor; V: Tensor }) =>
  wg.matmul(p.V, wg.tanh(wg.matmul(p.W, y).add(p.b))).add(0.1 * Math.sin(t));

function mlpProblem() {
  const y0 = f64(uniform(6, -1, 1, 3), [2, 3]);
  const theta = { W: f64(uniform(8, -1, 1, 4), [4, 2]), b: f64(uniform(4, -0.5, 0.5, 5), [4, 1]), V: f64(uniform(8, -1, 1, 6), [2, 4]) };
  return { y0, theta };
}

/** Central differences of L over every element of the tensors in xs (perturbed in place through fresh copies). */
function centralDiff(L: (xs: Tensor[]) => number, xs: Tensor[], h = 1e-5): number[][] {
  return xs.map((x, which) => {
    const base = Array.from(x.data() as Float64Array);
    return base.map((_, i) => {
      const at = (d: number) => wg.tidy(() => {
        const v = base.slice(); v[i] += d;
        const moved = xs.map((t, k) => (k === which ? f64(v, t.shape) : t));
        return L(moved);
      });
      return (at(h) - at(-h)) / (2 * h);
    });
  });
}

describe('dlode45: gradients', () => {
  it('∂/∂Y0 and ∂/∂θ match central finite differences, in both modes, at several output times', () => {
    wg.tidy(() => {
      const { y0, theta } = mlpProblem();
      const ts = [0, 0.5, 1.5];
      const wOut = f64(uniform(12, -1, 1, 7), [2, 3, 2]);
      const FD_TOL = { RelativeTolerance: 1e-10, AbsoluteTolerance: 1e-12 };
      const loss = (y: Tensor, W: Tensor, b: Tensor, V: Tensor, mode: string) =>
        dlode45(mlp, ts, y, { W, b, V }, { ...FD_TOL, GradientMode: mode }).mul(wOut).sum();
      const fd = centralDiff((xs) => loss(xs[0], xs[1], xs[2], xs[3], 'direct').item() as number, [y0, theta.W, theta.b, theta.V]);
      const grads: Record<string, number[][]> = {};
      for (const mode of MODES) {
        const [, g] = wg.valueAndGrad((y: Tensor, W: Tensor, b: Tensor, V: Tensor) => loss(y, W, b, V, mode), { argnums: [0, 1, 2, 3] })(y0, theta.W, theta.b, theta.V);
        grads[mode] = (g as Tensor[]).map((t) => Array.from(t.data() as Float64Array));
        grads[mode].forEach((gk, k) => expectClose(gk, fd[k], 1e-5, 1e-6));
      }
      // The two modes agree to the solver's tolerance.
      grads.direct.forEach((gk, k) => expectClose(grads.adjoint[k], gk, 1e-7, 1e-8));
    });
  });

  it('decay: ∂y/∂k = −t·y0·e^{−kt} and ∂y/∂y0 = e^{−kt}, both modes, forwards and backwards in time', () => {
    wg.tidy(() => {
      for (const mode of MODES) {
        for (const [t0, t1] of [[0, 1.5], [1.5, 0]]) {
          const dt = t1 - t0;
          const [, [gy, gk]] = wg.valueAndGrad((y: Tensor, k: Tensor) =>
            dlode45(decay, [t0, t1], y, k, { ...TIGHT, GradientMode: mode }).sum(), { argnums: [0, 1] })(f64([2, -1]), f64(0.8));
          expectClose(gy.toArray(), [Math.exp(-0.8 * dt), Math.exp(-0.8 * dt)], 1e-7, 1e-9);
          expectClose(gk.item(), -dt * (2 - 1) * Math.exp(-0.8 * dt), 1e-7, 1e-9);
        }
      }
    });
  });

  it('two modes agree on a long oscillating run with several outputs, and with a decreasing tspan', () => {
    wg.tidy(() => {
      const { y0, theta } = mlpProblem();
      for (const ts of [[0, 2, 3, 5, 8], [8, 5, 3, 2, 0]]) {
        const wOut = f64(uniform(6 * (ts.length - 1), -1, 1, 9), [2, 3, ts.length - 1]);
        const run = (mode: string) => wg.grad((p: typeof theta, y: Tensor) =>
          dlode45(mlp, ts, y, p, { ...TIGHT, GradientMode: mode }).mul(wOut).sum(), { argnums: [0, 1] })(theta, y0);
        const [pd, yd] = run('direct');
        const [pa, ya] = run('adjoint');
        expectClose(ya.toArray(), yd.toArray(), 1e-5, 1e-7);
        for (const k of ['W', 'b', 'V'] as const) expectClose(pa[k].toArray(), pd[k].toArray(), 1e-5, 1e-7);
      }
    });
  });

  it('MATLAB style: dlfeval / dlgradient with theta a struct of structs; gradients come back in its structure', () => {
    wg.tidy(() => {
      const { y0, theta } = mlpProblem();
      const params = { fc1: { Weights: theta.W, Bias: theta.b }, fc2: { Weights: theta.V } };
      const odeModel = (_t: number, y: Tensor, p: typeof params) =>
        wg.matmul(p.fc2.Weights, wg.tanh(wg.matmul(p.fc1.Weights, y).add(p.fc1.Bias)));
      for (const mode of MODES) {
        const [g, loss] = wg.dlfeval((p: typeof params, y: Tensor) => {
          const Y = dlode45(odeModel, [0, 0.25, 0.5], y, p, 'DataFormat', 'CB', 'GradientMode', mode);
          const l = Y.square().mean();
          return [wg.dlgradient(l, p), l];
        }, params, y0);
        expect(Object.keys(g)).toEqual(['fc1', 'fc2']);
        expect(g.fc1.Weights.shape).toEqual([4, 2]);
        expect(g.fc1.Bias.shape).toEqual([4, 1]);
        expect(g.fc2.Weights.shape).toEqual([2, 4]);
        expect(loss.item()).toBeGreaterThan(0);
      }
    });
  });

  it('jvp through GradientMode \'direct\' gives the exact tangent of decay', () => {
    wg.tidy(() => {
      const [y, ty] = wg.jvp((k: Tensor) => dlode45(decay, [0, 1], f64([3]), k, TIGHT), [f64(0.5)], [f64(1)]);
      expectClose(y.toArray(), [3 * Math.exp(-0.5)], 1e-8);
      expectClose(ty.toArray(), [-3 * Math.exp(-0.5)], 1e-7);
    });
  });

  it('\'adjoint\': memory stays constant in the number of steps (10 vs 1000); \'direct\' grows with them', () => {
    // A rotation of 2×512 float64 states (8 KiB per tensor): its steps are set by the span.
    const n = 512;
    const peak = (mode: string, T: number): [number, number] => {
      let calls = 0;
      const rot = (_t: number, y: Tensor, w: Tensor) => {
        calls++;
        const [x, v] = wg.unstack(y, 0);
        return wg.stack([v.mul(w), x.mul(w).neg()], 0);
      };
      const y0 = f64(uniform(2 * n, -1, 1, 11), [2, n]);
      const w = f64(1.3);
      const before = wg.memory();
      wg.resetPeakMemory();
      wg.tidy(() => {
        wg.grad((y: Tensor, om: Tensor) => dlode45(rot, [0, T], y, om, { GradientMode: mode }).square().sum(), { argnums: [0, 1] })(y0, w);
      });
      const after = wg.memory();
      expect(after.liveTensors).toBe(before.liveTensors);
      y0.dispose(); w.dispose();
      return [after.peakBytes - before.liveBytes, calls];
    };
    const [short, shortCalls] = peak('adjoint', 1);
    const [long, longCalls] = peak('adjoint', 700);
    expect(shortCalls).toBeLessThan(200);   // ≈ 10 steps each way
    expect(longCalls).toBeGreaterThan(6000); // ≥ 1000 steps each way
    expect(long).toBeLessThan(1.5 * short);
    const [directShort] = peak('direct', 1);
    const [directLong] = peak('direct', 100);
    expect(directLong).toBeGreaterThan(5 * directShort);
  });

  it('no leaks: solving, differentiating (both modes) and failing leave no tensor behind', () => {
    const { y0, theta } = mlpProblem();
    expectNoLeak(() => wg.tidy(() => {
      for (const mode of MODES) {
        dlode45(mlp, [0, 1, 2], y0, theta, { GradientMode: mode });
        wg.valueAndGrad((p: typeof theta) => dlode45(mlp, [0, 1], y0, p, { GradientMode: mode }).sum())(theta);
      }
    }));
    // A failure in the middle of the solve (odefun's 20th call returns a wrong shape).
    for (const mode of MODES) {
      let calls = 0;
      const bad = (t: number, y: Tensor, p: typeof theta) => (++calls === 20 ? y.sum() : mlp(t, y, p));
      expectError(() => wg.grad((p: typeof theta) => dlode45(bad, [0, 5], y0, p, { GradientMode: mode }).sum())(theta),
        wg.ShapeError, 'dlode45', 'odefun', '[]', '[2, 3]');
      if (mode === 'direct') continue;
      // And in the adjoint pass itself.
      calls = -1e9;
      let backward = 0;
      const badBack = (t: number, y: Tensor, p: typeof theta) => (calls > 0 && ++backward === 5 ? y.sum() : mlp(t, y, p));
      expectError(() => wg.grad((p: typeof theta) => { const Y = dlode45(badBack, [0, 1], y0, p, { GradientMode: mode }); calls = 1; return Y.sum(); })(theta),
        wg.ShapeError, 'dlode45');
    }
    y0.dispose(); wg.dispose(theta);
  });
});

// —————————————————————————————————————————————————— bad input

describe('dlode45: bad input is a clear error naming dlode45, the argument and the shapes', () => {
  const y0 = () => f64([1, 2]);
  const ok = (_t: number, y: Tensor) => y.neg();

  it('tspan', () => {
    expectError(() => dlode45(ok, [0, 1, 0.5], y0(), null), wg.ValueError, 'dlode45', 'tspan', 'strictly increasing or strictly decreasing', '[0, 1, 0.5]', 'tspan[2] = 0.5');
    expectError(() => dlode45(ok, [0, 0], y0(), null), wg.ValueError, 'dlode45', 'tspan', 'strictly');
    expectError(() => dlode45(ok, [0], y0(), null), wg.ValueError, 'dlode45', 'tspan', 'at least two');
    expectError(() => dlode45(ok, 1 as any, y0(), null), wg.ValueError, 'dlode45', 'tspan', 'the number 1');
    expectError(() => dlode45(ok, [0, NaN], y0(), null), wg.ValueError, 'dlode45', 'tspan[1]', 'NaN');
    expectError(() => dlode45(ok, f64([[0, 1]]), y0(), null), wg.ShapeError, 'dlode45', 'tspan', '[1, 2]');
    // A 1-D tensor of times is fine.
    wg.tidy(() => { expect(dlode45(ok, f64([0, 1]), y0(), null).shape).toEqual([2]); });
  });

  it('Y0', () => {
    expectError(() => dlode45(ok, [0, 1], [1, 2] as any, null), wg.ValueError, 'dlode45', 'Y0', 'float32 or float64 Tensor', 'an array');
    expectError(() => dlode45(ok, [0, 1], wg.tensor([1, 2], { dtype: 'int32' }), null), wg.DTypeError, 'dlode45', 'Y0', 'int32', '[2]');
    expectError(() => dlode45(ok, [0, 1], wg.zeros([0], { dtype: 'float64' }), null), wg.ShapeError, 'dlode45', 'Y0', '[0]');
  });

  it('odefun: not a function, or returning the wrong thing', () => {
    expectError(() => dlode45(42 as any, [0, 1], y0(), null), wg.ValueError, 'dlode45', 'odefun', 'the number 42');
    expectError(() => dlode45(async () => y0(), [0, 1], y0(), null), wg.ValueError, 'dlode45', 'odefun', 'async');
    expectError(() => dlode45((_t: number, y: Tensor) => y.reshape([1, 2]), [0, 1], y0(), null), wg.ShapeError, 'dlode45', 'odefun', '[1, 2]', '[2]', 't = 0');
    expectError(() => dlode45(() => [1, 2] as any, [0, 1], y0(), null), wg.ValueError, 'dlode45', 'odefun', 'an array', '[2]');
    expectError(() => dlode45((_t: number, y: Tensor) => y.to('float32'), [0, 1], y0(), null), wg.DTypeError, 'dlode45', 'float32', 'float64');
  });

  it('theta and options', () => {
    expectError(() => dlode45(ok, [0, 1], y0(), 'GradientMode' as any, 'adjoint'), wg.ValueError, 'dlode45', 'theta is missing');
    expectError(() => dlode45(ok, [0, 1], y0(), { GradientMode: 'adjoint' } as any), wg.ValueError, 'dlode45', 'theta is missing', 'options');
    expectError(() => dlode45(ok, [0, 1], y0(), null, { RelTol: 1e-6 }), wg.ValueError, 'dlode45', "'RelTol'", 'RelativeTolerance');
    expectError(() => dlode45(ok, [0, 1], y0(), null, { gradient_mode: 'adjoint' }), wg.ValueError, 'dlode45', "Did you mean 'GradientMode'?");
    expectError(() => dlode45(ok, [0, 1], y0(), null, 'GradientMod', 'adjoint'), wg.ValueError, 'dlode45', "'GradientMod'", "Did you mean 'GradientMode'?");
    expectError(() => dlode45(ok, [0, 1], y0(), null, 'GradientMode'), wg.ValueError, 'dlode45', 'pairs', 'GradientMode');
    expectError(() => dlode45(ok, [0, 1], y0(), null, { GradientMode: 'backprop' }), wg.ValueError, 'dlode45', 'GradientMode', "'direct', 'adjoint'");
    expectError(() => dlode45(ok, [0, 1], y0(), null, { RelativeTolerance: -1 }), wg.ValueError, 'dlode45', 'RelativeTolerance', '-1');
    expectError(() => dlode45(ok, [0, 1], y0(), null, { AbsoluteTolerance: 0 }), wg.ValueError, 'dlode45', 'AbsoluteTolerance');
    expectError(() => dlode45(ok, [0, 1], y0(), null, { DataFormat: 'CB' }), wg.ShapeError, 'dlode45', 'DataFormat', "'CB'", '[2]');
    expectError(() => dlode45(ok, [0, 1], y0(), null, { DataFormat: 'T' }), wg.ValueError, 'dlode45', 'DataFormat', "'T'");
    expectError(() => dlode45(ok, [0, 1], y0(), null, { DataFormat: 'X' }), wg.ValueError, 'dlode45', 'DataFormat', 'S, C, B, T, U');
    expectError(() => dlode45(ok, [0, 1], y0(), null, 5 as any, 6), wg.ValueError, 'dlode45', 'option name', 'argument 5');
  });

  it('a solution that blows up cannot meet the tolerances: an error, not a hang', () => {
    // y' = y², y(0) = 1 has y = 1/(1 − t): infinite at t = 1.
    expectError(() => dlode45((_t: number, y: Tensor) => y.square(), [0, 2], f64([1]), null),
      wg.ValueError, 'dlode45', /unable to meet integration tolerances|not finite/, 't = 0.99');
  });

  it('\'adjoint\': a captured differentiated tensor, higher derivatives, forward mode and a Module theta are refused', () => {
    const k = f64(0.5);
    expectError(() => wg.grad((kk: Tensor) => dlode45((_t: number, y: Tensor) => y.mul(kk).neg(), [0, 1], y0(), null, { GradientMode: 'adjoint' }).sum())(k),
      wg.NotDifferentiableError, 'dlode45', 'not in theta', '[]', "GradientMode 'direct'");
    expectError(() => wg.grad(wg.grad((kk: Tensor) => dlode45(decay, [0, 1], y0(), kk, { GradientMode: 'adjoint' }).sum()))(k),
      wg.NotDifferentiableError, 'dlode45', 'first derivatives');
    expectError(() => wg.jvp((kk: Tensor) => dlode45(decay, [0, 1], y0(), kk, { GradientMode: 'adjoint' }), [k], [f64(1)]),
      wg.NotDifferentiableError, 'dlode45', 'forward mode');
    const net = new wg.nn.Linear(2, 2, { dtype: 'float64' } as any);
    expectError(() => dlode45((_t: number, y: Tensor, m: any) => m.call(y), [0, 1], y0(), net as any, { GradientMode: 'adjoint' }),
      wg.ValueError, 'dlode45', 'Module');
    // 'direct' differentiates all of these.
    wg.tidy(() => {
      const g = wg.grad((kk: Tensor) => dlode45((_t: number, y: Tensor) => y.mul(kk).neg(), [0, 1], y0(), null, TIGHT).sum())(k);
      expectClose(g.item(), -3 * Math.exp(-0.5), 1e-7);
      const gg = wg.grad(wg.grad((kk: Tensor) => dlode45(decay, [0, 1], f64([1]), kk, TIGHT).sum()))(k);
      expectClose(gg.item(), Math.exp(-0.5), 1e-6); // ∂²/∂k² e^{−k} = e^{−k}
    });
    k.dispose(); net.dispose();
  });
});
