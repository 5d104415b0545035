// Optimizers against PyTorch (fixtures from test/fixtures/make_fixtures.py, torch 1.13): several
// steps of SGD / Adam / AdamW / RMSprop / Adagrad with momentum, Nesterov, weight decay, amsgrad,
// centered and maximize, in float32 and float64; L-BFGS with and without the strong-Wolfe line
// search; learning-rate schedules; gradient clipping. MATLAB's update functions against their
// formulas in plain JS. State save/restore, memory, and errors.

import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { wg, expectClose, expectNoLeak, flat, uniform } from './helpers.js';
import type { Tensor } from '../src/index.js';

const fixtures = JSON.parse(readFileSync(new URL('./fixtures/optim.json', import.meta.url), 'utf8'));
const { optim, nn } = wg;

beforeAll(async () => { await wg.init(); });

const camel = (s: string): string => s.replace(/_([a-z])/g, (_, c) => c.toUpperCase());
const tolerance = (dtype: string): [number, number] => (dtype === 'float32' ? [1e-6, 1e-7] : [1e-12, 1e-14]);

function makeOptimizer(name: string, params: Tensor[], options: Record<string, unknown>) {
  const o = Object.fromEntries(Object.entries(options).map(([k, v]) => [camel(k), v]));
  return new (optim as any)[name](params, o);
}

describe('first-order optimizers match PyTorch step for step', () => {
  for (const c of fixtures.optimizers) {
    it(`${c.optimizer} ${JSON.stringify(c.options)} ${c.dtype}`, () => {
      const params = c.params.map((p: number[], i: number) => wg.keep(wg.tensor(p, { shape: c.shapes[i], dtype: c.dtype })));
      const opt = makeOptimizer(c.optimizer, params, c.options);
      const [rtol, atol] = tolerance(c.dtype);
      c.grads.forEach((gs: number[][], k: number) => {
        wg.tidy(() => opt.step(gs.map((g, i) => wg.tensor(g, { shape: c.shapes[i], dtype: c.dtype }))));
        params.forEach((p: Tensor, i: number) => expectClose(p.toArray(), c.after[k][i], rtol, atol));
      });
      opt.dispose();
      wg.dispose(params);
    });
  }
});

describe('L-BFGS matches torch.optim.LBFGS (float64, Rosenbrock)', () => {
  const rosenbrock = (x: Tensor): Tensor => {
    const a = x.slice(0, 0, -1), b = x.slice(0, 1);
    return b.sub(a.square()).square().mul(100).add(wg.sub(1, a).square()).sum();
  };
  fixtures.lbfgs.forEach((c: any, n: number) => {
    it(`case ${n}: ${JSON.stringify(c.options)}`, () => {
      const x = wg.keep(wg.tensor(c.x0, { dtype: 'float64' }));
      const o = Object.fromEntries(Object.entries(c.options).map(([k, v]) => [camel(k), v]));
      const opt = new optim.LBFGS([x], o);
      const closure = () => wg.valueAndGrad((v: Tensor) => rosenbrock(v))(x) as [Tensor, Tensor];
      for (const s of c.steps) {
        const loss = opt.step(() => { const [l, g] = closure(); return [l, [g]]; });
        // Dot products accumulate in a different order than BLAS: a few ulp, grown by Rosenbrock's curvature.
        expectClose(loss, s.loss, 1e-8, 1e-12);
        expectClose(x.toArray(), s.x, 1e-8, 1e-12);
      }
      expect(opt.funcEvals).toBe(c.func_evals);
      expect(opt.nIter).toBe(c.n_iter);
      opt.dispose();
      x.dispose();
    });
  });

  it('reaches the minimum of a quadratic and leaves no tensors behind', () => {
    const x = wg.keep(wg.tensor([3, -2, 1], { dtype: 'float64' }));
    const target = wg.keep(wg.tensor([1, 2, 3], { dtype: 'float64' }));
    const opt = new optim.LBFGS([x], { lineSearchFn: 'strong_wolfe' });
    opt.step(() => { const [l, g] = wg.valueAndGrad((v: Tensor) => v.sub(target).square().mul(wg.tensor([1, 10, 100], { dtype: 'float64' })).sum())(x); return [l, [g]]; });
    expectClose(x.toArray(), [1, 2, 3], 1e-6, 1e-6);
    expectNoLeak(() => {
      opt.step(() => { const [l, g] = wg.valueAndGrad((v: Tensor) => v.sub(target).square().sum())(x); return [l, [g]]; });
    });
    opt.dispose();
    wg.dispose([x, target]);
  });
});

describe('learning-rate schedules match torch.optim.lr_scheduler', () => {
  const make: Record<string, (o: any) => any> = {
    StepLR: (o) => new optim.StepLR(o, 3, 0.5),
    ExponentialLR: (o) => new optim.ExponentialLR(o, 0.9),
    CosineAnnealingLR: (o) => new optim.CosineAnnealingLR(o, 5, 0.001),
    LinearLR: (o) => new optim.LinearLR(o, { startFactor: 0.25, endFactor: 1, totalIters: 4 }),
  };
  for (const [name, expected] of Object.entries(fixtures.schedules) as [string, number[]][]) {
    it(name, () => {
      const p = wg.keep(wg.zeros([1]));
      const opt = new optim.SGD([p], { lr: 0.1 });
      const sched = make[name](opt);
      const lrs = [opt.lr];
      for (let i = 1; i < expected.length; i++) { sched.step(); lrs.push(opt.lr); }
      expectClose(lrs, expected, 1e-14, 1e-17);
      expect(sched.getLastLr()).toEqual([lrs[lrs.length - 1]]);
      p.dispose();
    });
  }

  it('linearWarmup ramps lr/steps … lr, then holds', () => {
    const p = wg.keep(wg.zeros([1]));
    const opt = new optim.Adam([p], { lr: 0.4 });
    const warm = optim.linearWarmup(opt, 4);
    const lrs = [opt.lr];
    for (let i = 0; i < 5; i++) { warm.step(); lrs.push(opt.lr); }
    expectClose(lrs, [0.1, 0.2, 0.3, 0.4, 0.4, 0.4], 1e-15, 1e-16);
    expect(lrs[3]).toBe(0.4);
    p.dispose();
  });
});

describe('gradient clipping (torch.nn.utils semantics)', () => {
  for (const c of fixtures.clipGradNorm) {
    it(`clipGradNorm ${c.dtype} maxNorm ${c.maxNorm} norm ${c.normType}`, () => {
      const grads = c.grads.map((g: number[], i: number) => wg.tensor(g, { shape: c.shapes[i], dtype: c.dtype }));
      const total = optim.clipGradNorm(grads, c.maxNorm, { normType: c.normType === 'inf' ? Infinity : c.normType });
      const [rtol, atol] = tolerance(c.dtype);
      expectClose(total, c.total, rtol, atol);
      grads.forEach((g: Tensor, i: number) => expectClose(g.toArray(), c.clipped[i], rtol, atol));
      wg.dispose(grads);
    });
  }

  it('clipGradValue clamps every element to [−v, v] (NaN stays NaN)', () => {
    const g = { a: wg.tensor([-3, 0.5, 2, NaN]), b: wg.tensor([[1.5, -0.2]], { dtype: 'float64' }) };
    expect(() => optim.clipGradValue(g, 1)).toThrow(/mix float32 and float64/);
    const same = [wg.tensor([-3, 0.5, 2, NaN]), wg.tensor([[1.5, -0.2]])];
    optim.clipGradValue(same, 1);
    expectClose(same[0].toArray(), [-1, 0.5, 1, NaN]);
    expectClose(same[1].toArray(), [[1, Math.fround(-0.2)]]);
    wg.dispose([g, same]);
  });

  it('errorIfNonfinite rejects an infinite norm, and nothing is scaled', () => {
    const g = wg.tensor([Infinity, 1]);
    expect(() => optim.clipGradNorm([g], 1, { errorIfNonfinite: true })).toThrow(wg.ValueError);
    expect(() => optim.clipGradNorm([g], 1, { errorIfNonfinite: true })).toThrow(/non-finite \(Infinity\)/);
    expect(g.toArray()).toEqual([Infinity, 1]);
    g.dispose();
  });
});

describe('optimizer state lives in wasm and can be saved and restored', () => {
  it('2 steps, stateDict → a new optimizer → 2 more steps equals 4 uninterrupted steps, bit for bit', () => {
    const c = fixtures.optimizers.find((o: any) => o.optimizer === 'Adam' && o.options.amsgrad && o.dtype === 'float32');
    const run = (split: boolean): number[][] => {
      const params = c.params.map((p: number[], i: number) => wg.keep(wg.tensor(p, { shape: c.shapes[i] })));
      let opt = new optim.Adam(params, { lr: 0.01, amsgrad: true });
      c.grads.forEach((gs: number[][], k: number) => {
        if (split && k === 2) {
          const sd = opt.stateDict();
          expect(Object.keys(sd.state[0]).sort()).toEqual(['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq', 'step']);
          expect(sd.state[0].step).toBe(2);
          const next = new optim.Adam(params, { lr: 0.5 });
          next.loadStateDict(sd);
          expect(next.lr).toBe(0.01);
          opt.dispose();
          opt = next;
        }
        wg.tidy(() => opt.step(gs.map((g, i) => wg.tensor(g, { shape: c.shapes[i] }))));
      });
      const out = params.map((p: Tensor) => flat(p.toArray()));
      opt.dispose();
      wg.dispose(params);
      return out;
    };
    expect(run(true)).toEqual(run(false));
  });

  it('loadStateDict checks everything first: a wrong shape changes nothing', () => {
    const p = wg.keep(wg.zeros([3]));
    const opt = new optim.SGD([p], { lr: 0.1, momentum: 0.9 });
    wg.tidy(() => opt.step([wg.ones([3])]));
    const before = flat((opt.stateDict().state[0].momentum_buffer as Tensor).toArray());
    const bad = wg.keep(wg.zeros([4]));
    expect(() => opt.loadStateDict({ state: { 0: { step: 5, momentum_buffer: bad } }, paramGroups: [{ lr: 1 }] })).toThrow(wg.ShapeError);
    expect(() => opt.loadStateDict({ state: { 0: { step: 5, momentum_buffer: bad } }, paramGroups: [{ lr: 1 }] })).toThrow(/state 'momentum_buffer' of parameter 0 is float32 \[4\], the parameter float32 \[3\]/);
    expect(opt.lr).toBe(0.1);
    expect(flat((opt.stateDict().state[0].momentum_buffer as Tensor).toArray())).toEqual(before);
    opt.dispose();
    wg.dispose([p, bad]);
  });
});

describe('optimizers on a module', () => {
  it('by name: grads from valueAndGrad over parameterDict; params without a gradient are skipped', () => {
    wg.seed(3);
    const model = new nn.Linear(3, 2);
    const opt = new optim.SGD(model, { lr: 0.5 });
    const w0 = flat(model.weight.toArray()), b0 = flat(model.bias!.toArray());
    wg.tidy(() => opt.step({ weight: wg.ones([2, 3]) }));
    expectClose(model.weight.toArray(), w0.map((v) => Math.fround(v - 0.5)), 0, 0);
    expect(flat(model.bias!.toArray())).toEqual(b0);
    expect(() => opt.step({ weights: wg.ones([2, 3]) } as any)).toThrow(/gradients for unknown parameter\(s\) 'weights'/);
    opt.dispose();
    model.dispose();
  });

  it('a step makes no tensors: live count and bytes stay put over many steps', () => {
    const model = new nn.Linear(4, 3);
    const opt = new optim.AdamW(model);
    const x = wg.keep(wg.randn([5, 4]));
    const step = () => wg.tidy(() => {
      const [, g] = wg.valueAndGrad((p: Record<string, Tensor>) => wg.functionalCall(model, p, x).square().sum())(model.parameterDict());
      opt.step(g);
    });
    step();
    expectNoLeak(() => { for (let i = 0; i < 50; i++) step(); });
    opt.dispose();
    model.dispose();
    x.dispose();
  });
});

describe('optimizer errors name the op and the problem, and the runtime keeps working', () => {
  it('rejects bad options and mismatched gradients before touching anything', () => {
    const p = wg.keep(wg.tensor([1, 2, 3]));
    expect(() => new optim.Adam([p], { betas: [0.9, 1.5] })).toThrow(/Adam: invalid betas \[0.9,1.5\]: expected two numbers in \[0, 1\)/);
    expect(() => new optim.SGD([p], { lr: -1 })).toThrow(/SGD: invalid lr value: -1 \(lr >= 0\)/);
    expect(() => new optim.SGD([p], { nesterov: true })).toThrow(/SGD: Nesterov momentum requires a momentum and zero dampening/);
    expect(() => new optim.LBFGS([p], { lineSearchFn: 'armijo' as any })).toThrow(/only 'strong_wolfe' is supported/);
    const opt = new optim.Adam([p], { lr: 0.1 });
    expect(() => opt.step([wg.tensor([1, 2])])).toThrow(wg.ShapeError);
    expect(() => opt.step([wg.tensor([1, 2])])).toThrow(/Adam.step \(gradient '0'\): shape \[2\] does not match the parameter's \[3\]/);
    expect(() => opt.step([wg.tensor([1, 2, 3], { dtype: 'float64' })])).toThrow(/dtype float64 does not match the parameter's float32/);
    expect(p.toArray()).toEqual([1, 2, 3]);
    expect(opt.state.size).toBe(0);
    wg.tidy(() => opt.step([wg.tensor([1, 1, 1])]));
    expectClose(p.toArray(), [0.9, 1.9, 2.9].map(Math.fround), 1e-6);
    opt.dispose();
    p.dispose();
  });
});

// ————————————————————————————————————————————————————————— MATLAB's update functions

describe('MATLAB adamupdate / sgdmupdate / rmspropupdate / lbfgsupdate', () => {
  const p0 = [0.5, -1, 2, 0.25], g1 = [0.1, -0.3, 0.2, 1], g2 = [-0.4, 0.2, 0.05, -1];

  it('adamupdate: MATLAB\'s formula (ε outside the bias correction), defaults, returns [net, averageGrad, averageSqGrad]', () => {
    const params = wg.tensor(p0, { dtype: 'float64' });
    let m: any = [], v: any = [];
    let net: any = params;
    const ref = p0.slice(), rm = [0, 0, 0, 0], rv = [0, 0, 0, 0];
    [g1, g2].forEach((g, k) => {
      const t = k + 1;
      [net, m, v] = wg.adamupdate(net, wg.tensor(g, { dtype: 'float64' }), m, v, t);
      for (let i = 0; i < 4; i++) {
        rm[i] = 0.9 * rm[i] + 0.1 * g[i];
        rv[i] = 0.999 * rv[i] + (1 - 0.999) * (g[i] * g[i]);
        ref[i] += -((0.001 * Math.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)) * (rm[i] / (Math.sqrt(rv[i]) + 1e-8)));
      }
    });
    expect(net).toBe(params);
    expectClose(net.toArray(), ref, 1e-14, 1e-16);
    expectClose(m.toArray(), rm, 1e-15, 1e-17);
    expectClose(v.toArray(), rv, 1e-15, 1e-17);
    wg.dispose([net, m, v]);
  });

  it('sgdmupdate: vel = momentum·vel − lr·g; net = net + vel (defaults 0.01, 0.9), on a module by name', () => {
    const model = new nn.Linear(2, 2, { dtype: 'float64' });
    const w0 = flat(model.weight.toArray());
    const grad = { weight: wg.tensor([[1, 2], [3, 4]], { dtype: 'float64' }), bias: wg.tensor([1, -1], { dtype: 'float64' }) };
    let [net, vel] = wg.sgdmupdate(model, grad, null);
    [net, vel] = wg.sgdmupdate(net, grad, vel);
    expect(net).toBe(model);
    // two steps: vel1 = −0.01g, vel2 = 0.9·vel1 − 0.01g = −0.019g
    expectClose(vel.weight.toArray(), [[-0.019, -0.038], [-0.057, -0.076]], 1e-14);
    expectClose(model.weight.toArray(), w0.map((w, i) => w - 0.01 * [1, 2, 3, 4][i] - 0.019 * [1, 2, 3, 4][i]), 1e-14);
    wg.dispose([grad, vel]);
    model.dispose();
  });

  it('rmspropupdate: v = ρv + (1−ρ)g²; net −= lr·g/(√v + ε) (defaults 0.001, 0.9, 1e-8), on an object of tensors', () => {
    const params = { a: wg.tensor(p0, { dtype: 'float64' }) };
    let [net, s] = wg.rmspropupdate(params, { a: wg.tensor(g1, { dtype: 'float64' }) }, []);
    [net, s] = wg.rmspropupdate(net, { a: wg.tensor(g2, { dtype: 'float64' }) }, s, 0.01, 0.5, 1e-6);
    const v1 = g1.map((g) => 0.1 * (g * g));
    const r1 = p0.map((p, i) => p - 0.001 * g1[i] / (Math.sqrt(v1[i]) + 1e-8));
    const v2 = v1.map((v, i) => 0.5 * v + 0.5 * (g2[i] * g2[i]));
    const r2 = r1.map((p, i) => p - 0.01 * g2[i] / (Math.sqrt(v2[i]) + 1e-6));
    expectClose(net.a.toArray(), r2, 1e-14);
    expectClose(s.a.toArray(), v2, 1e-15);
    wg.dispose([net, s]);
  });

  it('checks its arguments', () => {
    const p = wg.tensor([1, 2]);
    expect(() => wg.adamupdate(p, wg.tensor([1, 2, 3]), [], [], 1)).toThrow(/adamupdate: grad '' has shape \[3\], the parameter \[2\]/);
    expect(() => wg.adamupdate(p, wg.tensor([1, 2]), [], [], 0)).toThrow(/adamupdate: iteration must be a positive integer, got 0/);
    expect(() => wg.sgdmupdate(p, wg.tensor([1, 2]), [], 0.1, 2)).toThrow(/sgdmupdate: momentum must be in \[0, 1\], got 2/);
    expect(p.toArray()).toEqual([1, 2]);
    p.dispose();
  });

  for (const method of ['weak-wolfe', 'strong-wolfe', 'backtracking'] as const) {
    it(`lbfgsupdate (${method}) minimises a quadratic; solverState keeps the history`, () => {
      const x = wg.tensor([4, -3], { dtype: 'float64' });
      const lossFcn = (v: Tensor) => wg.valueAndGrad((u: Tensor) => u.sub(wg.tensor([1, 2], { dtype: 'float64' })).square().mul(wg.tensor([1, 5], { dtype: 'float64' })).sum())(v) as [Tensor, Tensor];
      let state = wg.lbfgsState({ HistorySize: 3 });
      let net = x;
      const losses: number[] = [];
      for (let i = 0; i < 12; i++) {
        [net, state] = wg.lbfgsupdate(net, lossFcn, state, { LineSearchMethod: method });
        losses.push(state.Loss!);
      }
      expect(state.Iteration).toBe(12);
      expect(state.StepHistory.length).toBeLessThanOrEqual(3);
      expect(losses[losses.length - 1]).toBeLessThan(1e-10);
      expectClose(x.toArray(), [1, 2], 1e-5, 1e-5);
      state.dispose();
      x.dispose();
    });
  }
});

describe('accelerate: an option that adds optimizer state, set after the capture', () => {
  // The captured update has no tensor for the new state: its replay must capture again (the
  // eager step makes the state), never update through a missing buffer.
  type Opt = { step(g: unknown): void; paramGroups: { options: Record<string, unknown> }[]; dispose(): void };
  const cases: [string, (ps: Tensor[]) => Opt, Record<string, unknown>][] = [
    ['SGD momentum 0 → 0.9', (ps) => new wg.optim.SGD(ps, { lr: 0.1 }) as unknown as Opt, { momentum: 0.9 }],
    ['Adam amsgrad off → on', (ps) => new wg.optim.Adam(ps, { lr: 0.05 }) as unknown as Opt, { amsgrad: true }],
    ['AdamW amsgrad off → on', (ps) => new wg.optim.AdamW(ps, { lr: 0.05 }) as unknown as Opt, { amsgrad: true }],
    ['RMSprop momentum 0 → 0.5', (ps) => new wg.optim.RMSprop(ps, { lr: 0.01 }) as unknown as Opt, { momentum: 0.5 }],
    ['RMSprop centered off → on', (ps) => new wg.optim.RMSprop(ps, { lr: 0.01 }) as unknown as Opt, { centered: true }],
  ];
  const setup = () => {
    const w = wg.keep(wg.tensor(uniform(3 * 2, -1, 1, 11), { shape: [3, 2], dtype: 'float64' }));
    const b = wg.keep(wg.tensor([0.1, -0.2], { dtype: 'float64' }));
    const x = wg.keep(wg.tensor(uniform(4 * 3, -1, 1, 12), { shape: [4, 3], dtype: 'float64' }));
    const lg = wg.valueAndGrad((p: Tensor[]) => wg.matmul(x, p[0]).add(p[1]).tanh().square().sum());
    return { params: [w, b], x, lg };
  };
  for (const [name, make, change] of cases) {
    it(name, () => {
      const eager = setup(), fastNet = setup();
      const eagerOpt = make(eager.params), fastOpt = make(fastNet.params);
      const step = (net: typeof eager, opt: Opt) => () => { const [l, g] = net.lg(net.params) as [Tensor, Tensor[]]; opt.step(g); return l; };
      const fast = wg.accelerate(step(fastNet, fastOpt));
      const eagerStep = step(eager, eagerOpt);
      const same = () => {
        for (let k = 0; k < 2; k++) expect(Array.from(fastNet.params[k].data())).toEqual(Array.from(eager.params[k].data()));
      };
      for (let i = 0; i < 6; i++) {
        if (i === 3) {
          Object.assign(eagerOpt.paramGroups[0].options, change);
          Object.assign(fastOpt.paramGroups[0].options, change);
        }
        wg.tidy(() => { eagerStep(); });
        fast();
        same();
      }
      // captured at the first call and again at the first call after the change
      expect([fast.hits, fast.misses]).toEqual([4, 2]);
      fast.clearCache();
      eagerOpt.dispose(); fastOpt.dispose();
    });
  }
});
