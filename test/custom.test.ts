// User-defined derivatives and their relatives: customGrad (reverse mode, and forward mode with
// { jvp }), customJvp, errors raised by rules, checkpoint (identical gradients, lower memory
// high-water mark, higher order), stopGradient / detach, vjp's pullback, and a WGAN-style
// gradient penalty.

import { beforeAll, describe, expect, it } from 'vitest';
import { wg, checkGrad, expectClose, expectNoLeak, rand64 } from './helpers.js';
import type { Tensor } from '../src/index.js';
import { wasm } from '../src/runtime.js';

beforeAll(async () => { await wg.init(); });

const f64 = (v: number[] | number, shape?: number[]) => wg.tensor(v as any, { dtype: 'float64', ...(shape ? { shape } : {}) });
type Tangents = (Tensor | null)[];

/** A small op afterwards: the runtime still works. */
const stillWorks = () => wg.tidy(() => {
  expect(wg.grad((x: Tensor) => x.square().sum())(f64([1, 2])).toArray()).toEqual([2, 4]);
  const [, t] = wg.jvp((x: Tensor) => x.mul(3), [f64([1])], [f64([2])]);
  expect(t.toArray()).toEqual([6]);
});

describe('customGrad and customJvp', () => {
  // round() has derivative 0 almost everywhere; the straight-through estimator passes the
  // gradient (and the tangent) through unchanged.
  const roundSte = wg.customGrad(
    (x: Tensor) => wg.tensor(Array.from(x.data() as Float64Array, Math.round), { shape: x.shape, dtype: x.dtype }),
    (g: Tensor) => g,
    { jvp: ([t]: Tangents) => t!, name: 'roundSte' });

  it('a straight-through round(): the overriding rule is used in reverse mode and in forward mode', () => {
    wg.tidy(() => {
      const x = f64([0.2, 1.7, -2.4, 3.5]);
      const w = f64([1, -2, 3, 0.5]);
      const [y, g] = wg.valueAndGrad((t: Tensor) => roundSte(t).mul(w).sum())(x);
      expect(y.item()).toBe(0 * 1 + 2 * -2 + -2 * 3 + 4 * 0.5);
      expect(g.toArray()).toEqual([1, -2, 3, 0.5]); // round's own derivative would be 0
      const [r, t] = wg.jvp(roundSte, [x], [f64([1, 2, 3, 4])]);
      expect(r.toArray()).toEqual([0, 2, -2, 4]);
      expect(t.toArray()).toEqual([1, 2, 3, 4]);
      // jacfwd (forward) and jacobian (reverse) agree on the overridden Jacobian: the identity
      expect(wg.jacfwd(roundSte)(x).toArray()).toEqual(wg.eye(4, { dtype: 'float64' }).toArray());
      expect(wg.jacobian(roundSte)(x).toArray()).toEqual(wg.eye(4, { dtype: 'float64' }).toArray());
    });
  });

  it('rules override even a differentiable forward pass (x² with rules claiming 2x + 1)', () => {
    const off = wg.customGrad((x: Tensor) => x.square(), (g: Tensor, _y: Tensor, x: Tensor) => g.mul(x.mul(2).add(1)),
      { jvp: ([t]: Tangents, _y: Tensor, x: Tensor) => t!.mul(x.mul(2).add(1)) });
    wg.tidy(() => {
      const x = f64([1, -3]);
      expect(wg.grad((t: Tensor) => off(t).sum())(x).toArray()).toEqual([3, -5]);
      expect(wg.jvp(off, [x], [f64([1, 1])])[1].toArray()).toEqual([3, -5]);
      // outside any differentiation it is just the forward function
      expect(off(x).toArray()).toEqual([1, 9]);
    });
  });

  it('several inputs, a null gradient for one of them, a captured constant', () => {
    const scale = f64(10);
    const f = wg.customGrad((a: Tensor, b: Tensor) => a.mul(b).mul(scale),
      (g: Tensor, _y: Tensor, a: Tensor, b: Tensor) => [g.mul(b).mul(scale), null],
      { jvp: ([ta]: Tangents, _y: Tensor, _a: Tensor, b: Tensor) => ta!.mul(b).mul(scale) });
    wg.tidy(() => {
      const [ga, gb] = wg.grad((a: Tensor, b: Tensor) => f(a, b).sum(), { argnums: [0, 1] })(f64([1, 2]), f64([3, 4]));
      expect(ga.toArray()).toEqual([30, 40]);
      expect(gb.toArray()).toEqual([0, 0]);
      // with no tangent for b the rule receives null for it
      const [, t] = wg.jvp((a: Tensor) => f(a, f64([3, 4])), [f64([1, 2])], [f64([1, 1])]);
      expect(t.toArray()).toEqual([30, 40]);
    });
    scale.dispose();
  });

  it('rules written with wasmgrad ops differentiate again: a stable softplus to third order', () => {
    // softplus(x) = max(x, 0) + log1p(exp(−|x|)); d/dx = sigmoid(x)
    const softplus = wg.customGrad(
      (x: Tensor) => x.relu().add(x.abs().neg().exp().log1p()),
      (g: Tensor, _y: Tensor, x: Tensor) => g.mul(x.sigmoid()),
      { jvp: ([t]: Tangents, _y: Tensor, x: Tensor) => t!.mul(x.sigmoid()), name: 'softplus' });
    const pts = [-30, -1.5, -0.2, 0.7, 2, 40];
    const s = (x: number) => 1 / (1 + Math.exp(-x));
    wg.tidy(() => {
      const x = f64(pts);
      expectClose(softplus(x).toArray(), pts.map((v) => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)))), 1e-15, 0);
      const second = (t: Tensor) => wg.grad((u: Tensor) => wg.grad((z: Tensor) => softplus(z).sum())(u).sum())(t);
      expectClose(second(x).toArray(), pts.map((v) => s(v) * (1 - s(v))), 1e-14, 1e-300);
      // the Hessian forward-over-reverse: the VJP rule's own ops carry tangents
      const h = wg.hessian((z: Tensor) => softplus(z).sum())(x).toArray() as number[][];
      expectClose(h.map((row, i) => row[i]), pts.map((v) => s(v) * (1 - s(v))), 1e-14, 1e-300);
      // third derivative s(1 − s)(1 − 2s) by jvp of the second
      const [, third] = wg.jvp(second, [x], [wg.onesLike(x)]);
      expectClose(third.toArray(), pts.map((v) => s(v) * (1 - s(v)) * (1 - 2 * s(v))), 1e-13, 1e-300);
      // and the rule agrees with finite differences
      checkGrad((z) => softplus(z), [rand64([2, 3], -3, 3, 5)]);
    });
  });

  it('a rule may take gradients and tangents itself, also inside a first-order sweep', () => {
    // The sweep pauses recording when no higher order is asked for; a level opened by the rule
    // (grad, jvp) must record anyway, or its derivative would silently be zero.
    const viaGrad = wg.customGrad((x: Tensor) => x.sin(), (g: Tensor, _y: Tensor, x: Tensor) => g.mul(wg.grad((t: Tensor) => t.sin().sum())(x)));
    const viaJvp = wg.customGrad((x: Tensor) => x.sin(), (g: Tensor, _y: Tensor, x: Tensor) => g.mul(wg.jvp((t: Tensor) => t.sin(), [x], [wg.onesLike(x)])[1]));
    const pts = [0, 1, -2.5];
    wg.tidy(() => {
      for (const s of [viaGrad, viaJvp]) {
        expectClose(wg.grad((x: Tensor) => s(x).sum())(f64(pts)).toArray(), pts.map(Math.cos), 1e-15, 0);
        const [g1, g2] = wg.dlfeval((x: Tensor) => [wg.dlgradient(s(x).sum(), x), wg.dlgradient(s(x).mul(2).sum(), x)], f64(pts));
        expectClose(g1.toArray(), pts.map(Math.cos), 1e-15, 0);
        expectClose(g2.toArray(), pts.map((p) => 2 * Math.cos(p)), 1e-15, 0);
        // and to second order, where the rule's own ops are recorded too
        expectClose(wg.grad((x: Tensor) => wg.grad((t: Tensor) => s(t).sum())(x).sum())(f64(pts)).toArray(), pts.map((p) => -Math.sin(p)), 1e-15, 1e-300);
      }
    });
    const x = f64(pts);
    // White-box: the levels such a rule opens in a first-order sweep leave no records on the tape
    // (nothing would walk them, and the sweep frees their tensors right after the rule).
    wg.tidy(() => wg.dlfeval((t: Tensor) => {
      const y = viaGrad(t).sum();
      const length = wasm.tapeLength();
      wg.dlgradient(y, t);
      expect(wasm.tapeLength()).toBe(length);
    }, f64(pts)));
    const run = () => wg.tidy(() => { wg.grad((t: Tensor) => viaGrad(t).sum())(x); wg.dlfeval((t: Tensor) => { wg.dlgradient(viaJvp(t).sum(), t); }, x); });
    run();
    expectNoLeak(run);
    x.dispose();
  });

  it('customJvp: forward mode uses the rule', () => {
    const cubeJ = wg.customJvp((x: Tensor) => x.pow(3), ([t]: Tangents, _y: Tensor, x: Tensor) => t!.mul(x.square()).mul(3));
    wg.tidy(() => {
      const [y, t] = wg.jvp(cubeJ, [f64([2, -1])], [f64([1, 0.5])]);
      expect(y.toArray()).toEqual([8, -1]);
      expect(t.toArray()).toEqual([12, 1.5]);
      expect(wg.jacfwd(cubeJ)(f64([2, -1])).toArray()).toEqual([[12, 0], [0, 3]]);
    });
  });

  describe('errors from rules surface as thrown errors, with nothing leaked', () => {
    const x = () => f64([1, 2]);
    const cases: { name: string; run: () => unknown; cls: any; message: string }[] = [
      {
        name: 'a VJP gradient of the wrong shape',
        run: () => wg.grad((t: Tensor) => wg.customGrad((a: Tensor) => a.mul(2), (g: Tensor) => g.sum(), { name: 'badShape' })(t).sum())(x()),
        cls: wg.ShapeError,
        message: "badShape: the VJP rule's gradient 0 has shape [] (float64) but input 0 has shape [2] (float64)",
      },
      {
        name: 'a VJP gradient of the wrong dtype',
        run: () => wg.grad((t: Tensor) => wg.customGrad((a: Tensor) => a.mul(2), (g: Tensor) => g.to('float32'), { name: 'badDtype' })(t).sum())(x()),
        cls: wg.ShapeError,
        message: "badDtype: the VJP rule's gradient 0 has shape [2] (float32) but input 0 has shape [2] (float64)",
      },
      {
        name: 'too many gradients',
        run: () => wg.grad((t: Tensor) => wg.customGrad((a: Tensor) => a.mul(2), (g: Tensor) => [g, g], { name: 'twoGrads' })(t).sum())(x()),
        cls: wg.ValueError,
        message: 'twoGrads: the VJP rule returned 2 gradient(s) for 1 input(s)',
      },
      {
        name: 'a VJP rule that throws',
        run: () => wg.grad((t: Tensor) => wg.customGrad((a: Tensor) => a.mul(2), (g: Tensor) => { g.mul(3); throw new RangeError('rule failed on purpose'); })(t).sum())(x()),
        cls: RangeError,
        message: 'rule failed on purpose',
      },
      {
        name: 'a JVP tangent of the wrong shape',
        run: () => wg.jvp(wg.customGrad((a: Tensor) => a.mul(2), (g: Tensor) => g, { jvp: ([t]: Tangents) => t!.sum(), name: 'badTangent' }), [x()], [x()]),
        cls: wg.ShapeError,
        message: "badTangent: the JVP rule's tangent has shape [] (float64) but the output has shape [2] (float64)",
      },
      {
        name: 'a JVP rule that throws, inside a Hessian',
        run: () => wg.hessian((t: Tensor) => wg.customGrad((a: Tensor) => a.square(), (g: Tensor, _y: Tensor, a: Tensor) => g.mul(a).mul(2),
          { jvp: () => { throw new TypeError('jvp failed on purpose'); } })(t).sum())(x()),
        cls: TypeError,
        message: 'jvp failed on purpose',
      },
      {
        name: 'a forward function that returns no tensor',
        run: () => wg.customGrad((() => 3) as any, (g: Tensor) => g, { name: 'noTensor' })(x()),
        cls: wg.ValueError,
        message: 'noTensor: the forward function must return one Tensor, got the number 3',
      },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const xs = x();
        // first call warms up any lazily allocated runtime tables
        try { wg.tidy(c.run); } catch { /* expected */ }
        expectNoLeak(() => {
          let caught: unknown;
          try { wg.tidy(c.run); } catch (e) { caught = e; }
          expect(caught).toBeInstanceOf(c.cls);
          expect((caught as Error).message).toBe(c.message);
        });
        expect(wg.memory().scopeDepth).toBe(0);
        xs.dispose();
        stillWorks();
      });
    }
  });

  it('bad arguments to customGrad and customJvp', () => {
    expect(() => wg.customGrad('f' as any, (g: Tensor) => g)).toThrow(wg.ValueError);
    expect(() => wg.customGrad('f' as any, (g: Tensor) => g)).toThrow('customGrad: forward must be a function, got the string "f"');
    expect(() => wg.customJvp((x: Tensor) => x, undefined as any)).toThrow('customJvp: jvp must be a function, got undefined');
    const id = wg.customGrad((x: Tensor) => x, (g: Tensor) => g, { name: 'ident' });
    expect(() => id(3 as any)).toThrow(wg.ValueError);
    expect(() => id(3 as any)).toThrow('ident: argument 0 must be a Tensor, got the number 3');
    stillWorks();
  });
});

describe('checkpoint', () => {
  const LAYERS = 30, BATCH = 64, WIDTH = 256, PER_BLOCK = 3;

  function chain() {
    wg.seed(11);
    const x = wg.randn([BATCH, WIDTH]);
    const ws = wg.tidy(() => Array.from({ length: LAYERS }, () => wg.randn([WIDTH, WIDTH]).mul(1 / Math.sqrt(WIDTH))));
    return { x, ws };
  }
  const layer = (h: Tensor, w: Tensor) => h.matmul(w).tanh();
  /** Ten blocks of three layers, each checkpointed: only block boundaries are kept. */
  const block = wg.checkpoint((h: Tensor, ...ws: Tensor[]) => ws.reduce(layer, h));
  let atSweepStart = 0;
  const plain = (x: Tensor, ws: Tensor[]) => {
    const loss = ws.reduce(layer, x).square().mean();
    atSweepStart = wg.memory().liveBytes;
    return loss;
  };
  const checked = (x: Tensor, ws: Tensor[]) => {
    let h = x;
    for (let b = 0; b < LAYERS; b += PER_BLOCK) h = block(h, ...ws.slice(b, b + PER_BLOCK));
    const loss = h.square().mean();
    atSweepStart = wg.memory().liveBytes;
    return loss;
  };

  function run(loss: (x: Tensor, ws: Tensor[]) => Tensor, x: Tensor, ws: Tensor[]) {
    wg.resetPeakMemory();
    const [value, [gx, gws]] = wg.valueAndGrad(loss, { argnums: [0, 1] })(x, ws);
    const peak = wg.memory().peakBytes;
    const bits = [value, gx, ...gws].map((t: Tensor) => Array.from(new Uint32Array((t.data() as Float32Array).slice().buffer)));
    wg.dispose([value, gx, gws]);
    return { peak, atSweepStart, bits };
  }

  it('30 layers of tanh(h·W) on [64, 256]: bitwise-identical gradients and a lower high-water mark', () => {
    const { x, ws } = chain();
    const a = run(plain, x, ws);
    const b = run(checked, x, ws);
    expect(b.bits.length).toBe(a.bits.length);
    b.bits.forEach((bits, k) => { if (bits.join() !== a.bits[k].join()) throw new Error(`gradient ${k - 1} (0 = x, −1 = the value) differs in its bits`); });
    // An activation [64, 256] in float32 is 64 KiB. When the sweep starts, the plain run holds all
    // 61 (30 products, 30 tanh, the square) and the checkpointed one the 10 block outputs and
    // the square: 50 fewer.
    const activation = BATCH * WIDTH * 4;
    expect(a.atSweepStart - b.atSweepStart).toBe(50 * activation);
    // Over the whole run the weights' gradients (30 × 256 KiB) dominate both high-water marks;
    // the checkpointed one adds one block's recomputation (6 activations) and the rule's copies of
    // its inputs (h and three weights: 13 activations' worth), so it saves ≈ 30 activations.
    expect(b.peak).toBeLessThan(a.peak);
    expect(a.peak - b.peak).toBeGreaterThan(24 * activation);
    wg.dispose([x, ws]);
  });

  it('parameters a checkpointed function captures get their gradients, bitwise equal to the unchecked run', () => {
    // Layers close over their weights; the input itself needs no gradient, so only the
    // captured weights tie the checkpointed segments to the loss.
    const x = rand64([4, 8], -1, 1, 21);
    const Ws = [rand64([8, 8], -0.5, 0.5, 22), rand64([8, 8], -0.5, 0.5, 23), rand64([8, 8], -0.5, 0.5, 24)];
    const loss = (ck: boolean) => (ws: Tensor[]) => {
      let h = x;
      for (const W of ws) {
        const layer = (a: Tensor) => wg.matmul(a, W).tanh();
        h = ck ? wg.checkpoint(layer)(h) : layer(h);
      }
      return h.square().sum();
    };
    wg.tidy(() => {
      const plain = wg.grad(loss(false))(Ws) as Tensor[];
      const checked = wg.grad(loss(true))(Ws) as Tensor[];
      plain.forEach((g, k) => {
        expect(g.toArray()).not.toEqual(wg.zerosLike(g).toArray());
        expect(Array.from(checked[k].data())).toEqual(Array.from(g.data()));
      });
      // Second order through the captured weights.
      const h1 = wg.grad((ws: Tensor[]) => (wg.grad(loss(false))(ws) as Tensor[])[2].sum())(Ws) as Tensor[];
      const h2 = wg.grad((ws: Tensor[]) => (wg.grad(loss(true))(ws) as Tensor[])[2].sum())(Ws) as Tensor[];
      h1.forEach((h, k) => expectClose(h2[k].toArray(), h.toArray(), 1e-12, 1e-14));
    });
  });

  it('checkpoint leaves nothing behind, and runs f as it is in forward mode', () => {
    const { x, ws } = chain();
    run(checked, x, ws);
    expectNoLeak(() => { run(checked, x, ws); });
    wg.tidy(() => {
      const small = ws.slice(0, 2).map((w) => w.slice([null, [0, 4]]).slice([[0, 4]]));
      const xs = x.slice([[0, 3], [0, 4]]);
      const u = wg.onesLike(xs);
      const [y1, t1] = wg.jvp((h: Tensor) => block(h, ...small), [xs], [u]);
      const [y2, t2] = wg.jvp((h: Tensor) => small.reduce(layer, h), [xs], [u]);
      expect(y1.toArray()).toEqual(y2.toArray());
      expect(t1.toArray()).toEqual(t2.toArray());
    });
    wg.dispose([x, ws]);
  });

  it('under grad(grad(·)) and hessian a checkpointed function matches the unchecked one', () => {
    wg.tidy(() => {
      const w1 = rand64([3, 4], -1, 1, 21), w2 = rand64([4, 2], -1, 1, 22);
      const body = (h: Tensor) => h.matmul(w1).tanh().matmul(w2).sin();
      const cp = wg.checkpoint(body);
      const fPlain = (x: Tensor) => body(x).square().sum();
      const fCp = (x: Tensor) => cp(x).square().sum();
      const x = rand64([2, 3], -1, 1, 23);
      const c = rand64([2, 3], -1, 1, 24);
      const second = (f: (x: Tensor) => Tensor) => wg.grad((t: Tensor) => wg.grad(f)(t).mul(c).sum())(x);
      expectClose(second(fCp).toArray(), second(fPlain).toArray(), 1e-14, 1e-15);
      expectClose(wg.grad(fCp)(x).toArray(), wg.grad(fPlain)(x).toArray(), 0, 0);
      const third = (f: (x: Tensor) => Tensor) => wg.grad((t: Tensor) => wg.grad((s: Tensor) => wg.grad(f)(s).mul(c).sum())(t).sum())(x);
      expectClose(third(fCp).toArray(), third(fPlain).toArray(), 1e-13, 1e-14);
      expectClose(wg.hessian(fCp)(x).toArray(), wg.hessian(fPlain)(x).toArray(), 1e-14, 1e-15);
      // and against finite differences
      checkGrad((t) => wg.grad(fCp)(t), [x]);
    });
  });
});

describe('stopGradient / detach', () => {
  it('no derivative flows through, in either mode; values are unchanged', () => {
    wg.tidy(() => {
      const x = f64([1.5, -2]);
      // d/dx [x · stop(x)] = stop(x), not 2x
      expect(wg.grad((t: Tensor) => t.mul(wg.stopGradient(t)).sum())(x).toArray()).toEqual([1.5, -2]);
      expect(wg.grad((t: Tensor) => t.mul(t.detach()).sum())(x).toArray()).toEqual([1.5, -2]);
      expect(wg.grad((t: Tensor) => wg.detach(t).sum().add(t.sum()))(x).toArray()).toEqual([1, 1]);
      const [y, tan] = wg.jvp((t: Tensor) => t.mul(wg.stopGradient(t)), [x], [f64([1, 1])]);
      expect(y.toArray()).toEqual([2.25, 4]);
      expect(tan.toArray()).toEqual([1.5, -2]);
      expect(wg.jvp((t: Tensor) => t.detach(), [x], [f64([1, 1])])[1].toArray()).toEqual([0, 0]);
      // second order: the detached factor is a constant
      expect(wg.grad((t: Tensor) => wg.grad((s: Tensor) => s.square().mul(s.detach()).sum())(t).sum())(x).toArray()).toEqual([3, -4]);
      // a detached copy is a new tensor: disposing it leaves x alone
      const d = x.detach();
      d.dispose();
      expect(x.toArray()).toEqual([1.5, -2]);
    });
  });

  it('bad input', () => {
    expect(() => wg.stopGradient([1, 2] as any)).toThrow(wg.ValueError);
    expect(() => wg.stopGradient([1, 2] as any)).toThrow('stopGradient: expected a Tensor, got an array');
    const x = f64([1]);
    x.dispose();
    expect(() => wg.detach(x)).toThrow(wg.DisposedError);
    stillWorks();
  });
});

describe('vjp', () => {
  it('the pullback gives Jᵀ·cotangent, and can be called more than once', () => {
    wg.tidy(() => {
      const f = (a: Tensor, b: Tensor) => a.mul(b).sin();
      const a = f64([0.5, -1, 2]), b = f64([1.5, 0.3, -0.7]);
      const [y, pullback] = wg.vjp(f, a, b);
      expectClose(y.toArray(), [0.75, -0.3, -1.4].map(Math.sin), 1e-15, 0);
      const av = [0.5, -1, 2], bv = [1.5, 0.3, -0.7];
      for (const ct of [[1, 0, 0], [0.3, -2, 1.5]]) {
        const [ga, gb] = pullback(f64(ct));
        expectClose(ga.toArray(), ct.map((c, i) => c * Math.cos(av[i] * bv[i]) * bv[i]), 1e-15, 0);
        expectClose(gb.toArray(), ct.map((c, i) => c * Math.cos(av[i] * bv[i]) * av[i]), 1e-15, 0);
      }
      expect(() => pullback(f64([1, 2]))).toThrow(wg.ShapeError);
      expect(() => pullback(f64([1, 2]))).toThrow("vjp pullback: the cotangent has shape [2] but f's output has shape [3]");
      expect(() => pullback(wg.tensor([1, 2, 3]))).toThrow("vjp pullback: the cotangent is float32 but f's output is float64");
      expect(() => wg.vjp(() => 1 as any, a)).toThrow("vjp: f must return a Tensor");
    });
    stillWorks();
  });
});

describe('a WGAN-style gradient penalty', () => {
  // D: 3 → 8 → 1 with tanh; loss = mean(D(x)) + λ · mean_i (‖∇ₓD(x_i)‖₂ − 1)²
  const LAMBDA = 10;
  const D = (p: Tensor[], x: Tensor) => x.matmul(p[0]).add(p[1]).tanh().matmul(p[2]).add(p[3]);
  /** The per-sample input gradients come from one sweep of Σ D (samples are independent). */
  const penaltyLoss = (...p: Tensor[]) => (x: Tensor) => {
    const gx = wg.grad((xx: Tensor) => D(p, xx).sum())(x);
    const norms = gx.square().sum(1).sqrt();
    return D(p, x).mean().add(norms.sub(1).square().mean().mul(LAMBDA));
  };
  const params = () => [rand64([3, 8], -1, 1, 31), rand64([8], -0.5, 0.5, 32), rand64([8, 1], -1, 1, 33), rand64([1], -0.5, 0.5, 34)];
  const batch = () => rand64([5, 3], -2, 2, 35);

  it("the parameters' gradient matches finite differences (valueAndGrad and dlfeval agree)", () => {
    wg.tidy(() => {
      const p = params(), x = batch();
      checkGrad((...q: Tensor[]) => penaltyLoss(...q)(x), p, { rtol: 1e-6, atol: 1e-8 });
      const grads = (wg.grad((...q: Tensor[]) => penaltyLoss(...q)(x), { argnums: [0, 1, 2, 3] })(...p) as Tensor[])
        .map((t) => Array.from(t.data() as Float64Array));
      // MATLAB style: dlgradient with EnableHigherDerivatives inside dlfeval
      const ml = wg.dlfeval((xx: Tensor, ...q: Tensor[]) => {
        const gx = wg.dlgradient(D(q, xx).sum(), xx, { EnableHigherDerivatives: true });
        const loss = D(q, xx).mean().add(gx.square().sum(1).sqrt().sub(1).square().mean().mul(LAMBDA));
        return wg.dlgradient(loss, q);
      }, x, ...p);
      expectClose(ml.map((t: Tensor) => Array.from(t.data() as Float64Array)), grads, 1e-14, 1e-15);
    });
  });

  it('trains a few SGD steps without error, lowering the loss', () => {
    wg.tidy(() => {
      let p = params();
      const x = batch();
      const losses: number[] = [];
      const step = wg.valueAndGrad((...q: Tensor[]) => penaltyLoss(...q)(x), { argnums: [0, 1, 2, 3] });
      for (let i = 0; i < 8; i++) {
        const [loss, g] = step(...p);
        losses.push(loss.item() as number);
        const next = p.map((q, k) => q.sub((g as Tensor[])[k].mul(0.01)));
        wg.dispose([p, loss, g]);
        p = next;
      }
      expect(losses.every(Number.isFinite)).toBe(true);
      expect(losses[losses.length - 1]).toBeLessThan(losses[0]);
    });
  });
});
