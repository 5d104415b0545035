// accelerate: a replay gives the eager call's bits exactly, across the op library, training
// steps and higher-order gradients; the cache hits and misses by input pattern; value-dependent
// control flow is refused with a clear error; a replayed training loop allocates nothing.

import { beforeAll, describe, expect, it } from 'vitest';
import { wg, uniform } from './helpers.js';
import type { Tensor } from '../src/index.js';

beforeAll(async () => { await wg.init(); });

const numel = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const t64 = (shape: number[], seed: number, lo = -1, hi = 1) => wg.tensor(uniform(numel(shape), lo, hi, seed), { shape, dtype: 'float64' });
const t32 = (shape: number[], seed: number, lo = -1, hi = 1) => wg.tensor(uniform(numel(shape), lo, hi, seed), { shape, dtype: 'float32' });

/** Every tensor of a result as raw bytes (so -0, NaN payloads and last bits all count). */
function bits(v: unknown, out: unknown[] = []): unknown[] {
  if (v instanceof wg.Tensor) { out.push([v.dtype, v.shape, [...new Uint8Array(v.data().buffer)]]); return out; }
  if (Array.isArray(v)) { for (const x of v) bits(x, out); return out; }
  if (v !== null && typeof v === 'object') { for (const x of Object.values(v)) bits(x, out); return out; }
  out.push(v);
  return out;
}

/**
 * Runs f eagerly and accelerated on the first input set (capture), then on each later set
 * (replays), comparing bit for bit each time; returns the accelerated function.
 */
function expectReplayExact(f: (...a: any[]) => any, inputSets: unknown[][]) {
  const fast = wg.accelerate(f);
  for (const args of inputSets) {
    const want = wg.tidy(() => bits(f(...args)));
    const got = bits(fast(...args));
    expect(got).toEqual(want);
  }
  expect(fast.misses).toBe(1);
  expect(fast.hits).toBe(inputSets.length - 1);
  fast.clearCache();
  return fast;
}

/** valueAndGrad of sum(op(x)·w): value and gradient of a scalar made from op's output. */
function vgOf(op: (...x: Tensor[]) => Tensor, argnums: number[] = [0]) {
  return wg.valueAndGrad((...xs: Tensor[]) => {
    const y = op(...xs);
    const w = wg.tensor(uniform(y.numel(), 0.5, 1.5, 99), { shape: y.shape, dtype: y.dtype });
    return y.mul(w).sum();
  }, { argnums });
}

const seedF = (x1: Tensor, x2: Tensor): Tensor => x1.mul(x1.square().add(x2.square()).mul(-0.5).exp());

describe('accelerate: the seed function', () => {
  it('value and gradient replay bit for bit on new inputs', () => {
    const vg = wg.valueAndGrad(seedF, { argnums: [0, 1] });
    const sets = [0, 1, 2, 3, 4].map((i) => [wg.tensor(2 + i * 0.1, { dtype: 'float64' }), wg.tensor(0.5 - i * 0.3, { dtype: 'float64' })]);
    expectReplayExact(vg, sets);
  });

  it('matches the exact seed values after a replay', () => {
    const fast = wg.accelerate(wg.valueAndGrad(seedF, { argnums: [0, 1] }));
    fast(wg.tensor(1, { dtype: 'float64' }), wg.tensor(1, { dtype: 'float64' }));
    const [y, [g1, g2]] = fast(wg.tensor(2, { dtype: 'float64' }), wg.tensor(0.5, { dtype: 'float64' }));
    // ../shared/reference/seed-example.md
    expect(y.item()).toBeCloseTo(0.238865936533439, 14);
    expect(g1.item()).toBeCloseTo(-0.358298904800159, 14);
    expect(g2.item()).toBeCloseTo(-0.119432968266720, 14);
    expect(fast.hits).toBe(1);
    fast.clearCache();
  });
});

describe('accelerate: copy elimination', () => {
  const count = (ops: string[], op: string) => ops.filter((o) => o === op).length;

  it('the seed program drops its four copies and still replays bit for bit', () => {
    const vg = wg.valueAndGrad(seedF, { argnums: [0, 1] });
    for (const dtype of ['float64', 'float32'] as const) {
      const sets = [0, 1, 2].map((i) => [wg.tensor(2 - i * 0.7, { dtype }), wg.tensor(0.5 + i * 0.4, { dtype })]);
      const fast = wg.accelerate(vg);
      for (const args of sets) expect(bits(fast(...args))).toEqual(wg.tidy(() => bits(vg(...args))));
      const [program] = fast.programs;
      // The argument copies of valueAndGrad and the add rule's two adjoint copies are gone.
      expect(count(program.ops, 'copy')).toBe(0);
      expect(program.records).toBe(19);
      expect(program.ops.length).toBe(19);
      fast.clearCache();
    }
  });

  it('copies of inputs and of temporaries (any size) are dropped; later reads read the source', () => {
    const f = (x: Tensor, y: Tensor) => {
      const t = x.clone().mul(y.clone()).clone(); // copies of inputs and of a temporary
      return t.add(t.clone().exp()).clone().sum(0).clone().mul(wg.detach(t).sum(0));
    };
    const sets = [1, 2, 3].map((s) => [t64([3, 4], s), t64([3, 4], 10 + s)]);
    const fast = expectReplayExact(f, [...sets]);
    fast(...sets[0]);
    const { ops } = fast.programs[0];
    expect(ops).toEqual(['mul', 'exp', 'add', 'sum', 'sum', 'mul']);
    fast.clearCache();
  });

  it('a returned copy stays (its buffer is handed out) and is refreshed by every replay', () => {
    const f = (x: Tensor) => { const y = x.mul(x); return [y, y.clone(), x.clone()]; };
    const fast = expectReplayExact(f, [[t32([5], 1)], [t32([5], 2)], [t32([5], 3)]]);
    fast(t32([5], 4));
    expect(fast.programs[0].ops).toEqual(['mul', 'copy', 'copy']);
    const [y, c, xc] = fast(t32([5], 5));
    expect(bits(c)).toEqual(bits(y));
    expect(bits(xc)).toEqual(wg.tidy(() => bits(t32([5], 5))));
    fast.clearCache();
  });

  it('a copy that a later accumulation updates in place stays', () => {
    // u+u: u's adjoint starts as a copy of the sum's adjoint, and the second term is added into it.
    const vg = wg.valueAndGrad((x: Tensor) => { const u = x.mul(3); return u.add(u).sum(); });
    const fast = expectReplayExact(vg, [[t64([4], 1)], [t64([4], 2)], [t64([4], 3)]]);
    fast(t64([4], 4));
    const { ops } = fast.programs[0];
    expect(count(ops, 'copy')).toBe(1);
    expect(ops.indexOf('copy')).toBeLessThan(ops.indexOf('accumulateAdd'));
    fast.clearCache();
  });

  it('copies of tensors that an optimizer step updates later in the program stay', () => {
    for (const dtype of ['float64', 'float32'] as const) {
      const stepOf = (withUpdate: boolean) => {
        const net = netSetup(dtype);
        const opt = new wg.optim.SGD(net.params, { lr: 0.1 });
        // valueAndGrad copies each parameter; `before` is the first weight before the update:
        // the change would be zero if either copy read the updated weight.
        const step = (x: Tensor) => {
          const before = net.params[0].clone();
          const [l, g] = net.lg(net.params, x);
          if (withUpdate) opt.step(g);
          return [l, before.sub(net.params[0]).abs().sum()];
        };
        return { step, opt, n: net.params.length };
      };
      const eager = stepOf(true), accel = stepOf(true);
      const fast = wg.accelerate(accel.step);
      const batches = netSetup(dtype).batches;
      for (let i = 0; i < 4; i++) {
        const want = wg.tidy(() => bits(eager.step(batches[i])));
        const got = fast(batches[i]);
        expect(bits(got)).toEqual(want);
        expect(got[1].item()).toBeGreaterThan(0);
      }
      expect(count(fast.programs[0].ops, 'copy')).toBe(accel.n + 1);
      expect(fast.hits).toBe(3);
      fast.clearCache();
      // Without the update nothing writes the parameters: every copy goes.
      const still = stepOf(false);
      const fastStill = wg.accelerate(still.step);
      fastStill(batches[0]);
      expect(bits(fastStill(batches[1]))).toEqual(wg.tidy(() => bits(still.step(batches[1]))));
      expect(count(fastStill.programs[0].ops, 'copy')).toBe(0);
      fastStill.clearCache();
      eager.opt.dispose(); accel.opt.dispose(); still.opt.dispose();
    }
  });
});

describe('accelerate: scalar programs compiled to wasm', () => {
  const specials = [2, 0.5, -0, 0, -3.75, 1e-310, 1e-40, 88.5, -104, 700, Infinity, -Infinity, NaN, 1e30];

  it('the seed value and gradient: compiled, and bit for bit with eager on ordinary and special inputs', () => {
    const vg = wg.valueAndGrad(seedF, { argnums: [0, 1] });
    for (const dtype of ['float64', 'float32'] as const) {
      const fast = wg.accelerate(vg);
      for (let i = 0; i < specials.length; i++) {
        const a = wg.tensor(specials[i], { dtype }), b = wg.tensor(specials[(i * 5 + 3) % specials.length], { dtype });
        expect(bits(fast(a, b))).toEqual(wg.tidy(() => bits(vg(a, b))));
        expect(bits(fast(a, b))).toEqual(wg.tidy(() => bits(vg(a, b)))); // the same objects again
      }
      expect(fast.programs[0].compiled).toBe(true);
      expect(fast.hits).toBe(2 * specials.length - 1);
      fast.clearCache();
    }
  });

  it('every scalar op (inlined or called) replays bit for bit, with fills, copies and accumulation', () => {
    const f = (x: Tensor, y: Tensor) => {
      const u = [x.neg(), x.abs(), x.sign(), x.square(), x.abs().sqrt(), x.abs().add(0.5).rsqrt(), x.exp(), x.abs().log(),
        x.abs().log1p(), x.expm1(), x.sin(), x.cos(), x.tan(), x.tanh(), wg.sigmoid(x), wg.relu(x), wg.softplus(x), x.erf(),
        x.add(y), x.sub(y), x.mul(y), x.div(y), x.abs().pow(y), wg.maximum(x, y), wg.minimum(x, y), x.clone()];
      return u.reduce((acc, t) => acc.add(t.mul(0.25)));
    };
    const vg = wg.valueAndGrad(f, { argnums: [0, 1] });
    for (const dtype of ['float64', 'float32'] as const) {
      for (const g of [f, vg]) {
        const fast = wg.accelerate(g);
        for (const [a, b] of [[0.3, -1.2], [-0.7, 2.5], [1.9, 0.4], [-0, 0], [NaN, 1], [-2.2, -3]]) {
          const x = wg.tensor(a, { dtype }), y = wg.tensor(b, { dtype });
          expect(bits(fast(x, y))).toEqual(wg.tidy(() => bits(g(x, y))));
        }
        // The gradient's rules use comparisons and where, which are not scalar codes: interpreted.
        expect(fast.programs[0].compiled).toBe(g === f);
        fast.clearCache();
      }
    }
  });

  it('compile: false interprets (no wasm compiled at run time), with the same bits; a bad value is an error', () => {
    const vg = wg.valueAndGrad(seedF, { argnums: [0, 1] });
    const compiled = wg.accelerate(vg), interpreted = wg.accelerate(vg, { compile: false });
    for (const [a, b] of [[2, 0.5], [-0.3, 1.7], [-0, NaN]]) {
      const x = wg.tensor(a, { dtype: 'float64' }), y = wg.tensor(b, { dtype: 'float64' });
      expect(bits(interpreted(x, y))).toEqual(bits(compiled(x, y)));
      expect(bits(interpreted(x, y))).toEqual(wg.tidy(() => bits(vg(x, y))));
    }
    expect([compiled.programs[0].compiled, interpreted.programs[0].compiled]).toEqual([true, false]);
    expect(interpreted.hits).toBe(5);
    compiled.clearCache(); interpreted.clearCache();
    expect(() => wg.accelerate(vg, { compile: 'yes' as never })).toThrow(/accelerate: compile must be true or false, got yes/);
  });

  it('programs with a tensor of more than one element stay interpreted', () => {
    const fast = wg.accelerate((x: Tensor) => x.mul(2).sum());
    fast(t64([3], 1));
    expect(bits(fast(t64([3], 2)))).toEqual(wg.tidy(() => bits(t64([3], 2).mul(2).sum())));
    expect(fast.programs[0].compiled).toBe(false);
    fast.clearCache();
  });

  it('the guards run before a compiled program: differentiation levels, disposed arguments, stale outside tensors', () => {
    const fast = wg.accelerate((x: Tensor) => x.square().mul(3));
    fast(wg.tensor(1, { dtype: 'float64' }));
    expect(fast.programs[0].compiled).toBe(true);
    // Inside grad the call runs eagerly, so the gradient flows.
    expect(wg.grad((x: Tensor) => fast(x))(wg.tensor(2, { dtype: 'float64' })).item()).toBe(12);
    const x = wg.tensor(5, { dtype: 'float64' });
    expect(fast(x).item()).toBe(75);
    x.dispose();
    expect(() => fast(x)).toThrow(wg.DisposedError);
    // A tensor from outside f, disposed: the replay refuses to run and f captures again.
    let w = wg.tensor(2, { dtype: 'float64' });
    const outside = wg.accelerate((v: Tensor) => v.mul(w));
    const v = wg.tensor(3, { dtype: 'float64' });
    outside(v);
    expect(outside(v).item()).toBe(6);
    expect(outside.programs[0].compiled).toBe(true);
    w.dispose();
    w = wg.tensor(4, { dtype: 'float64' });
    expect(outside(v).item()).toBe(12);
    expect([outside.hits, outside.misses]).toEqual([1, 2]);
    fast.clearCache(); outside.clearCache();
  });
});

describe('accelerate: replay equals eager across the op library', () => {
  const unaryCases: [string, (x: Tensor) => Tensor, number, number][] = [
    ['neg/abs/sign', (x) => x.neg().abs().add(x.mul(x.sign())), -1, 1],
    ['exp/log/log1p/expm1', (x) => x.exp().add(x.log1p()).add(x.expm1()).add(x.abs().add(0.1).log()), -0.5, 0.5],
    ['sqrt/rsqrt/square', (x) => x.sqrt().add(x.rsqrt()).add(x.square()), 0.2, 2],
    ['sin/cos/tan/tanh', (x) => x.sin().add(x.cos()).add(x.tan()).add(x.tanh()), -1, 1],
    ['sigmoid/relu/softplus/erf', (x) => wg.sigmoid(x).add(wg.relu(x)).add(wg.softplus(x)).add(x.erf()), -2, 2],
    ['clamp/where/maximum', (x) => wg.where(x.gt(0), x.clamp(-0.5, 0.5), wg.maximum(x, x.mul(0.3))), -1, 1],
    ['pow', (x) => x.abs().add(0.5).pow(x), -1, 1],
    ['activations', (x) => wg.gelu(x).add(wg.silu(x)).add(wg.elu(x)).add(wg.leakyRelu(x)), -2, 2],
  ];
  for (const [name, op, lo, hi] of unaryCases) {
    it(`${name} (float64 and float32)`, () => {
      expectReplayExact(vgOf(op), [[t64([3, 4], 1, lo, hi)], [t64([3, 4], 2, lo, hi)], [t64([3, 4], 3, lo, hi)]]);
      expectReplayExact(vgOf(op), [[t32([5], 4, lo, hi)], [t32([5], 5, lo, hi)]]);
    });
  }

  it('broadcasting binaries', () => {
    const op = (a: Tensor, b: Tensor) => a.add(b).mul(a.sub(b)).div(b.abs().add(1));
    expectReplayExact(vgOf(op, [0, 1]), [[t64([2, 3, 4], 1), t64([3, 1], 2)], [t64([2, 3, 4], 3), t64([3, 1], 4)]]);
  });

  it('reductions: sum, mean, max, min, prod (with zeros), logsumexp, variance', () => {
    const op = (x: Tensor) => wg.sum(x, 1).add(wg.mean(x, 0).sum()).add(wg.max(x, 1)).add(wg.min(x, 1))
      .add(wg.prod(x, 1)).add(wg.logsumexp(x, 1)).add(wg.variance(x, 1));
    expectReplayExact(vgOf(op), [[t64([3, 4], 1)], [t64([3, 4], 2)], [t64([3, 4], 3)]]);
  });

  it('matmul, batched and transposed', () => {
    const op = (a: Tensor, b: Tensor) => wg.matmul(a, b).sum().add(wg.matmul(a.transpose(-1, -2), a).sum());
    expectReplayExact(vgOf(op, [0, 1]), [[t64([2, 3, 3], 1), t64([3, 5], 2)], [t64([2, 3, 3], 3), t64([3, 5], 4)]]);
    const big = (a: Tensor, b: Tensor) => wg.matmul(a, b);
    expectReplayExact(vgOf(big, [0, 1]), [[t32([40, 70], 1), t32([70, 50], 2)], [t32([40, 70], 3), t32([70, 50], 4)]]);
  });

  it('shape ops: reshape, permute, slice, pad, concat, stack, expand, indexSelect, gather', () => {
    const op = (x: Tensor) => {
      const a = x.reshape([4, 3]).permute([1, 0]);
      const b = wg.slice(x, 1, 1, 4, 2);
      const c = wg.pad(b, [1, 1, 0, 1], 0.5);
      const d = wg.concat([a.reshape([12]), c.reshape([-1]), wg.stack([x.sum(), x.max()])]);
      const e = wg.indexSelect(x, 1, [3, 0, 0]).add(wg.gather(x, 1, [[0, 2], [1, 1], [3, 0]]).sum());
      return d.sum().add(e.sum()).add(wg.broadcastTo(x.sum(1, { keepdims: true }), [3, 4]).mul(x).sum());
    };
    expectReplayExact(vgOf(op), [[t64([3, 4], 1)], [t64([3, 4], 2)], [t64([3, 4], 3)]]);
  });

  it('conv2d, max and average pooling', () => {
    const op = (x: Tensor, w: Tensor) => {
      const y = wg.conv2d(x, w, null, { padding: 1, stride: 1 });
      return wg.maxPool2d(wg.relu(y), 2).sum().add(wg.avgPool2d(y, 2).mul(y.mean()).sum());
    };
    expectReplayExact(vgOf(op, [0, 1]), [[t64([2, 2, 6, 6], 1), t64([3, 2, 3, 3], 2)], [t64([2, 2, 6, 6], 3), t64([3, 2, 3, 3], 4)]]);
  });

  it('conv3d, convTranspose3d, 3-D max, average and adaptive pooling', () => {
    const op = (x: Tensor, w: Tensor) => {
      const y = wg.conv3d(x, w, null, { padding: 1, stride: [1, 2, 1] });
      const z = wg.convTranspose3d(y, w, null, { stride: 2 }); // w [3, 2, …] read as [in, out, …]
      return wg.maxPool3d(wg.relu(y), 2, { stride: 1 }).sum().add(wg.avgPool3d(y, 2, { padding: 1 }).mul(y.mean()).sum())
        .add(wg.adaptiveAvgPool3d(z, [2, 1, 3]).square().sum());
    };
    expectReplayExact(vgOf(op, [0, 1]), [[t64([2, 2, 4, 5, 4], 1), t64([3, 2, 2, 2, 2], 2)], [t64([2, 2, 4, 5, 4], 3), t64([3, 2, 2, 2, 2], 4)]]);
  });

  it('layer norm, batch norm (training), softmax, logSoftmax and losses', () => {
    const op = (x: Tensor, w: Tensor) => {
      const h = wg.layerNorm(x.matmul(w), 5);
      const bn = wg.batchNorm(h, null, null, null, null, { training: true });
      const onehot = wg.tensor([[1, 0, 0, 0, 0], [0, 0, 1, 0, 0], [0, 0, 0, 0, 1], [0, 1, 0, 0, 0]], { dtype: 'float64' });
      return wg.softmax(bn, 1).mul(wg.logSoftmax(h, 1)).sum()
        .add(wg.crossEntropy(h, onehot)).add(wg.mseLoss(bn, onehot)).add(wg.huberLoss(h, onehot));
    };
    expectReplayExact(vgOf(op, [0, 1]), [[t64([4, 3], 1), t64([3, 5], 2)], [t64([4, 3], 3), t64([3, 5], 4)]]);
  });

  it('scans and sorting: cumsum, cumprod, sort, topk, argmax', () => {
    const op = (x: Tensor) => {
      const [s] = wg.sort(x, { axis: 1 });
      const [tv] = wg.topk(x, 2, { axis: 1 });
      const am = wg.argmax(x, 1).to('float64');
      return wg.cumsum(x, 1).add(wg.cumprod(x, 0)).sum().add(s.mul(x).sum()).add(tv.sum()).add(am.sum());
    };
    expectReplayExact(vgOf(op), [[t64([3, 4], 1)], [t64([3, 4], 2)], [t64([3, 4], 3)]]);
  });

  it('linear algebra: solve, det, cholesky, qr, inv', () => {
    const spd = (seed: number) => wg.tidy(() => { const a = t64([3, 3], seed); return wg.keep(a.matmul(a.transpose(0, 1)).add(wg.eye(3, { dtype: 'float64' }).mul(3))); });
    const op = (a: Tensor, b: Tensor) => {
      const [q, r] = wg.qr(a);
      return wg.solve(a, b).sum().add(wg.det(a)).add(wg.cholesky(a).sum()).add(q.sum().mul(r.sum())).add(wg.inv(a).sum());
    };
    expectReplayExact(vgOf(op, [0, 1]), [[spd(1), t64([3, 2], 2)], [spd(3), t64([3, 2], 4)], [spd(5), t64([3, 2], 6)]]);
  });

  it('prod rule branch taken on zeros: a replay that would branch differently captures again', () => {
    const vg = vgOf((x) => wg.prod(x, 1));
    const fast = wg.accelerate(vg);
    const noZero = t64([2, 3], 1, 0.5, 1.5);
    const withZero = wg.tensor([[1, 0, 2], [3, 4, 5]], { dtype: 'float64' });
    expect(bits(fast(noZero))).toEqual(wg.tidy(() => bits(vg(noZero))));
    expect(bits(fast(withZero))).toEqual(wg.tidy(() => bits(vg(withZero))));
    expect(fast.misses).toBe(2); // the guard inside prod's rule sent the second call to a capture
    expect(bits(fast(withZero))).toEqual(wg.tidy(() => bits(vg(withZero))));
    expect(fast.hits).toBe(1);
    fast.clearCache();
  });
});

describe('accelerate: higher-order gradients', () => {
  it('grad of grad, and a Hessian-vector product with jvp of grad', () => {
    const f = (x: Tensor) => x.sin().mul(x.square()).sum();
    const d2 = wg.grad((x: Tensor) => wg.grad(f)(x).mul(x.cos()).sum());
    expectReplayExact(d2, [[t64([4], 1)], [t64([4], 2)], [t64([4], 3)]]);
    const hvp = (x: Tensor, v: Tensor) => wg.jvp((y: Tensor) => wg.grad(f)(y), [x], [v]);
    expectReplayExact(hvp, [[t64([4], 1), t64([4], 9)], [t64([4], 2), t64([4], 8)]]);
  });

  it('dlfeval with dlgradient and EnableHigherDerivatives', () => {
    const model = (x: Tensor) => {
      const y = x.tanh().mul(x).sum();
      const g = wg.dlgradient(y, x, { EnableHigherDerivatives: true });
      const gg = wg.dlgradient(g.square().sum(), x);
      return [y, g, gg];
    };
    expectReplayExact((x: Tensor) => wg.dlfeval(model, x), [[t64([3], 1)], [t64([3], 2)], [t64([3], 3)]]);
  });
});

/** A dense relu network and its SGD step, as the benchmark writes it (one-hot targets). */
function mlpSetup(sizes: number[], batch: number, dtype: 'float32' | 'float64') {
  const p: Record<string, Tensor> = {};
  for (let k = 1; k < sizes.length; k++) {
    p[`w${k}`] = wg.keep(wg.tensor(uniform(sizes[k - 1] * sizes[k], -0.5, 0.5, k), { shape: [sizes[k - 1], sizes[k]], dtype }));
    p[`b${k}`] = wg.keep(wg.tensor(uniform(sizes[k], -0.1, 0.1, 10 + k), { shape: [sizes[k]], dtype }));
  }
  const x = wg.keep(wg.tensor(uniform(batch * sizes[0], 0, 1, 77), { shape: [batch, sizes[0]], dtype }));
  const classes = sizes[sizes.length - 1];
  const y = wg.keep(wg.tensor(Array.from({ length: batch }, (_, i) => Array.from({ length: classes }, (_, j) => (j === (i * 7) % classes ? 1 : 0))), { dtype }));
  const forward = (q: Record<string, Tensor>, input: Tensor) => {
    const layers = sizes.length - 1;
    let h = input;
    for (let k = 1; k <= layers; k++) {
      const z = h.matmul(q[`w${k}`]).add(q[`b${k}`]);
      h = k < layers ? wg.relu(z) : z;
    }
    return h;
  };
  const loss = (q: Record<string, Tensor>) => { const z = forward(q, x); return wg.mean(wg.logsumexp(z, 1).sub(wg.sum(z.mul(y), 1))); };
  const lg = wg.valueAndGrad(loss);
  const step = (q: Record<string, Tensor>) => {
    const [l, g] = lg(q);
    const next: Record<string, Tensor> = {};
    for (const k of Object.keys(q)) next[k] = q[k].sub(g[k].mul(0.05));
    return { loss: l, params: next };
  };
  return { p, step };
}

describe('accelerate: training steps', () => {
  it('an SGD training loop replays the eager loop bit for bit', () => {
    for (const dtype of ['float64', 'float32'] as const) {
      const { p, step } = mlpSetup([6, 8, 3], 4, dtype);
      let eager = p;
      const eagerLosses: unknown[] = [];
      const eagerParams: unknown[] = [];
      for (let i = 0; i < 6; i++) {
        const out = wg.tidy(() => step(eager));
        eagerLosses.push(bits(out.loss));
        eagerParams.push(bits(out.params));
        for (const t of Object.values(out.params)) wg.keep(t);
        eager = out.params;
      }
      const fast = wg.accelerate(step);
      let q = p;
      for (let i = 0; i < 6; i++) {
        const out = fast(q);
        expect(bits(out.loss)).toEqual(eagerLosses[i]);
        expect(bits(out.params)).toEqual(eagerParams[i]);
        q = out.params;
      }
      expect(fast.hits).toBe(5);
      fast.clearCache();
    }
  });

  it('1,000 replayed steps leave memory() constant and allocate nothing per step', () => {
    const { p, step } = mlpSetup([8, 16, 4], 5, 'float32');
    const fast = wg.accelerate(step);
    let q = fast(p).params;
    q = fast(q).params;
    const before = wg.memory();
    let lastLoss = Infinity;
    for (let i = 0; i < 1000; i++) {
      const out = fast(q);
      q = out.params;
      if (i % 250 === 0) {
        const m = wg.memory();
        expect(m.allocatedBytes).toBe(before.allocatedBytes);
        expect(m.liveTensors).toBe(before.liveTensors);
        expect(m.liveBytes).toBe(before.liveBytes);
        expect(m.heapBytes).toBe(before.heapBytes);
      }
      lastLoss = out.loss.item() as number;
    }
    const after = wg.memory();
    expect(after.allocatedBytes).toBe(before.allocatedBytes);
    expect(after.liveTensors).toBe(before.liveTensors);
    expect(lastLoss).toBeLessThan(1.4); // it trained
    expect(fast.hits).toBe(1001);
    const program = fast.programs[0];
    expect(program.sharedBytes).toBeGreaterThan(program.arenaBytes); // temporaries share memory
    fast.clearCache();
  });

  it('clearCache frees every tensor the programs owned', () => {
    const base = wg.memory().liveTensors;
    const fast = wg.accelerate(wg.valueAndGrad(seedF, { argnums: [0, 1] }));
    const a = wg.tensor(1, { dtype: 'float64' }), b = wg.tensor(2, { dtype: 'float64' });
    fast(a, b);
    fast(wg.tensor(1), wg.tensor(2)); // float32: a second entry
    expect(wg.memory().liveTensors).toBeGreaterThan(base + 6);
    fast.clearCache();
    expect(fast.entries).toBe(0);
    expect(wg.memory().liveTensors).toBe(base + 2 + 2); // a, b and the two argument tensors made inline
  });
});

describe('accelerate: the cache', () => {
  it('hits on the same pattern, misses on new shapes, dtypes and argument values; LRU eviction', () => {
    const f = (x: Tensor, s: number) => x.mul(s).sum();
    const fast = wg.accelerate(f, { cacheSize: 2 });
    fast(t64([3], 1), 2);
    fast(t64([3], 2), 2);
    expect([fast.hits, fast.misses]).toEqual([1, 1]);
    fast(t64([4], 1), 2); // new shape
    fast(t32([4], 1), 2); // new dtype: evicts [3] float64
    expect([fast.hits, fast.misses, fast.entries]).toEqual([1, 3, 2]);
    expect(fast.occupancy).toBe(100);
    fast(t64([3], 1), 2); // evicted: a miss
    fast(t64([3], 1), 3); // a different number: a miss
    expect([fast.hits, fast.misses]).toEqual([1, 5]);
    expect(fast.hitRate).toBeCloseTo(100 / 6, 10);
    const y = fast(t64([3], 5), 3);
    expect(y.item()).toBe(wg.tidy(() => f(t64([3], 5), 3).item()));
    expect(fast.hits).toBe(2);
    fast.clearCache();
    expect([fast.hits, fast.misses, fast.entries, fast.occupancy]).toEqual([0, 0, 0, 0]);
  });

  it('keys on the shapes of tensors inside arrays and objects', () => {
    const f = (p: { w: Tensor; b: Tensor[] }) => p.w.sum().add(p.b[0].sum());
    const fast = wg.accelerate(f);
    fast({ w: t64([2, 2], 1), b: [t64([2], 2)] });
    fast({ w: t64([2, 2], 3), b: [t64([2], 4)] });
    fast({ w: t64([2, 3], 3), b: [t64([2], 4)] });
    expect([fast.hits, fast.misses]).toEqual([1, 2]);
    fast.clearCache();
  });

  it('a tensor captured from outside f is read live; disposing it makes the next call capture again', () => {
    const w = t64([3], 1);
    const f = (x: Tensor) => x.mul(w).sum();
    const fast = wg.accelerate(f);
    const x = t64([3], 2);
    fast(x);
    const w2 = wg.tensor([5, 6, 7], { dtype: 'float64' });
    expect(fast(x).item()).toBe(wg.tidy(() => f(x).item()));
    w.dispose();
    expect(() => fast(x)).toThrow(wg.DisposedError); // f itself would fail on the disposed tensor
    expect(fast.entries).toBe(0);
    w2.dispose();
    fast.clearCache();
  });

  it('repeated calls with the same tensor objects: liveness is still checked, new objects are matched in full', () => {
    const f = (a: Tensor, b: Tensor) => a.mul(b).add(a);
    const fast = wg.accelerate(f);
    const a = t64([3], 1), b = t64([3], 2);
    fast(a, b);
    const r1 = fast(a, b), r2 = fast(a, b);
    expect(r2).toBe(r1); // the same output handle, overwritten in place
    expect(bits(r2)).toEqual(wg.tidy(() => bits(f(a, b))));
    expect(fast.hits).toBe(2);
    // A fresh object of the same pattern hits; another shape or dtype misses; a non-tensor takes the full path.
    const c = t64([3], 3);
    expect(bits(fast(c, b))).toEqual(wg.tidy(() => bits(f(c, b))));
    expect([fast.hits, fast.misses]).toEqual([3, 1]);
    fast(t64([4], 1), t64([4], 2));
    fast(t32([3], 1), t32([3], 2));
    expect([fast.hits, fast.misses]).toEqual([3, 3]);
    expect(bits(fast(a, 2 as any))).toEqual(wg.tidy(() => bits(f(a, 2 as any))));
    expect([fast.hits, fast.misses]).toEqual([3, 4]);
    // Back to the first pattern: the entry is found again, then disposing an argument is refused.
    expect(bits(fast(a, b))).toEqual(wg.tidy(() => bits(f(a, b))));
    expect(fast.hits).toBe(4);
    a.dispose();
    expect(() => fast(a, b)).toThrow(wg.DisposedError);
    expect(() => fast(b, a)).toThrow(wg.DisposedError);
    expect(fast.hits).toBe(4);
    const d = t64([3], 4);
    expect(bits(fast(d, b))).toEqual(wg.tidy(() => bits(f(d, b))));
    // Check mode still runs on the repeated-object path.
    let scale = 1;
    const impure = wg.accelerate((x: Tensor) => x.mul(scale), { check: true });
    impure(b);
    impure(b);
    scale = 2;
    expect(() => impure(b)).toThrow(/differs between the replay and the eager call/);
    impure.clearCache();
    fast.clearCache();
  });

  it('each hit returns fresh containers around the output handles; a disposed output handle is replaced', () => {
    const vg = wg.valueAndGrad((a: Tensor, b: Tensor) => a.mul(b).exp(), { argnums: [0, 1] });
    const fast = wg.accelerate(vg);
    const a = wg.tensor(0.3, { dtype: 'float32' }), b = wg.tensor(-1.2, { dtype: 'float32' });
    fast(a, b);
    const r1 = fast(a, b) as any, r2 = fast(a, b) as any;
    expect(r2).not.toBe(r1);
    expect(r2[1]).not.toBe(r1[1]);
    expect(r2[0]).toBe(r1[0]);
    expect(r2[1][1]).toBe(r1[1][1]);
    expect(bits(r2)).toEqual(wg.tidy(() => bits(vg(a, b))));
    r2[0].dispose();
    r2[1][0].dispose();
    const r3 = fast(a, b) as any;
    expect(r3[0].isAlive && r3[1][0].isAlive).toBe(true);
    expect(r3[0]).not.toBe(r2[0]);
    expect(bits(r3)).toEqual(wg.tidy(() => bits(vg(a, b))));
    // More than three arguments take the full path, and still replay.
    const f4 = wg.accelerate((p: Tensor, q: Tensor, r: Tensor, t: Tensor) => [p.add(q), r.mul(t)]);
    const xs = [1, 2, 3, 4].map((i) => t64([2], i));
    f4(...xs);
    expect(bits(f4(...xs))).toEqual(wg.tidy(() => bits([xs[0].add(xs[1]), xs[2].mul(xs[3])])));
    expect([f4.hits, f4.misses]).toEqual([1, 1]);
    f4.clearCache();
    fast.clearCache();
  });

  it('inside valueAndGrad the accelerated function runs eagerly, so gradients flow', () => {
    const fast = wg.accelerate((x: Tensor) => x.square().sum());
    fast(t64([2], 1));
    const g = wg.grad((x: Tensor) => fast(x))(wg.tensor([1, 2], { dtype: 'float64' }));
    expect(g.toArray()).toEqual([2, 4]);
    fast.clearCache();
  });

  it('check mode compares every replay with the eager call', () => {
    const fast = wg.accelerate((x: Tensor) => x.exp().sum(), { check: true });
    fast(t64([3], 1));
    expect(() => fast(t64([3], 2))).not.toThrow();
    let scale = 1;
    const impure = wg.accelerate((x: Tensor) => x.mul(scale).sum(), { check: true });
    impure(t64([3], 1));
    scale = 2; // a closure variable the pattern cannot see: the replay still uses 1
    expect(() => impure(t64([3], 1))).toThrow(/differs between the replay and the eager call/);
    fast.clearCache();
    impure.clearCache();
  });
});

describe('accelerate: refusals', () => {
  it('a value read on the host during the capture is refused with the reason', () => {
    const f = (x: Tensor) => (x.sum().item() as number > 0 ? x.exp() : x.neg());
    const fast = wg.accelerate(f);
    const live = wg.memory().liveTensors;
    expect(() => fast(t64([3], 1))).toThrow(wg.NotAcceleratableError);
    let message = '';
    try { fast(t64([3], 1)); } catch (e) { message = (e as Error).message; }
    expect(message).toContain("f reads a tensor's values on the host (item(), toArray() or data()");
    expect(message).toContain('a replay would repeat the decision made with those values');
    expect(message).toContain('(a float64 tensor of shape [] was read)');
    expect(wg.memory().liveTensors).toBe(live + 0 + 2); // only the two argument tensors made inline remain
    expect(fast.entries).toBe(0);
    expect(wg.tensor([1, 2]).add(1).toArray()).toEqual([2, 3]); // the runtime still works
  });

  it('constant indices made inside f replay', () => {
    const constIndex = (x: Tensor) => wg.indexSelect(x, 0, [1, 0]).sum();
    expectReplayExact(constIndex, [[t64([2, 2], 1)], [t64([2, 2], 2)]]);
  });
  it('custom rules: the ops their JS runs are part of the program', () => {
    const op = wg.customGrad((x: Tensor) => x.square(), (x: Tensor, _y: Tensor, g: Tensor) => [g.mul(x).mul(2)]);
    expectReplayExact(wg.valueAndGrad((x: Tensor) => op(x).sum()), [[t64([3], 1)], [t64([3], 2)]]);
  });
});

describe('accelerate: random ops', () => {
  it('dropout draws fresh numbers on every replay, as eager calls do from the same seed', () => {
    const f = wg.valueAndGrad((x: Tensor) => wg.dropout(x, 0.5).square().sum());
    const x = t64([64], 1);
    wg.manualSeed(123);
    const eager = [0, 1, 2].map(() => wg.tidy(() => bits(f(x))));
    const fast = wg.accelerate(f);
    wg.manualSeed(123);
    const replayed = [0, 1, 2].map(() => bits(fast(x)));
    expect(replayed).toEqual(eager);
    expect(eager[1]).not.toEqual(eager[2]);
    expect(fast.hits).toBe(2);
    fast.clearCache();
  });
});

/** A 2-layer tanh network's parameters (fresh kept tensors from fixed seeds) and its loss. */
function netSetup(dtype: 'float32' | 'float64') {
  const mk = (shape: number[], seed: number) => wg.keep(wg.tensor(uniform(numel(shape), -0.5, 0.5, seed), { shape, dtype }));
  const params = [mk([5, 7], 1), mk([7], 2), mk([7, 3], 3), mk([3], 4)];
  const target = wg.keep(wg.tensor(uniform(4 * 3, -1, 1, 5), { shape: [4, 3], dtype }));
  const loss = (ps: Tensor[], x: Tensor) => wg.tanh(x.matmul(ps[0]).add(ps[1])).matmul(ps[2]).add(ps[3]).sub(target).square().mean();
  const lg = wg.valueAndGrad(loss);
  const batches = Array.from({ length: 20 }, (_, i) => wg.keep(wg.tensor(uniform(4 * 5, -1, 1, 100 + i), { shape: [4, 5], dtype })));
  return { params, lg, batches };
}

type AnyOptimizer = { step(g: unknown): void; stateDict(): { state: Record<number, { step: number }> }; dispose(): void; lr: number };

/**
 * Trains the same network eagerly and accelerated (a training step — forward, gradients, the
 * optimizer update — per call) for 20 steps; every loss and every parameter equals eager's bit for bit.
 */
function expectTrainingExact(make: (ps: Tensor[]) => AnyOptimizer, schedule?: (o: AnyOptimizer) => { step(): void }) {
  for (const dtype of ['float64', 'float32'] as const) {
    const eager = netSetup(dtype), fastNet = netSetup(dtype);
    const eagerOpt = make(eager.params), fastOpt = make(fastNet.params);
    const eagerSchedule = schedule?.(eagerOpt), fastSchedule = schedule?.(fastOpt);
    const stepOf = (net: typeof eager, opt: AnyOptimizer) => (x: Tensor) => {
      const [l, g] = net.lg(net.params, x);
      opt.step(g);
      return l;
    };
    const eagerStep = stepOf(eager, eagerOpt);
    const fast = wg.accelerate(stepOf(fastNet, fastOpt));
    for (let i = 0; i < 20; i++) {
      const want = wg.tidy(() => bits(eagerStep(eager.batches[i])));
      const got = bits(fast(fastNet.batches[i]));
      expect(got).toEqual(want);
      expect(bits(fastNet.params)).toEqual(bits(eager.params));
      eagerSchedule?.step();
      fastSchedule?.step();
    }
    expect([fast.hits, fast.misses]).toEqual([19, 1]);
    // The step counts live in wasm and advanced on every replay.
    expect(fastOpt.stateDict().state[0].step).toBe(20);
    expect(eagerOpt.stateDict().state[0].step).toBe(20);
    fast.clearCache();
    // After the cache is gone the optimizer goes on eagerly from the replayed state.
    wg.tidy(() => { stepOf(fastNet, fastOpt)(eager.batches[0]); eagerStep(eager.batches[0]); });
    expect(bits(fastNet.params)).toEqual(bits(eager.params));
    eagerOpt.dispose(); fastOpt.dispose();
  }
}

describe('accelerate: training steps with every optimizer', () => {
  const cases: [string, (ps: Tensor[]) => AnyOptimizer][] = [
    ['SGD', (ps) => new wg.optim.SGD(ps, { lr: 0.1 })],
    ['SGD momentum, dampening, weight decay', (ps) => new wg.optim.SGD(ps, { lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 0.01 })],
    ['SGD Nesterov, maximize', (ps) => new wg.optim.SGD(ps, { lr: 0.05, momentum: 0.8, nesterov: true, weightDecay: 0.001, maximize: true })],
    ['Adam', (ps) => new wg.optim.Adam(ps, { lr: 0.01 })],
    ['Adam amsgrad, weight decay, betas', (ps) => new wg.optim.Adam(ps, { lr: 0.01, amsgrad: true, weightDecay: 0.01, betas: [0.8, 0.99] })],
    ['AdamW', (ps) => new wg.optim.AdamW(ps, { lr: 0.01 })],
    ['AdamW amsgrad', (ps) => new wg.optim.AdamW(ps, { lr: 0.02, amsgrad: true, weightDecay: 0.1 })],
    ['RMSprop', (ps) => new wg.optim.RMSprop(ps, { lr: 0.01 })],
    ['RMSprop centered, momentum, weight decay', (ps) => new wg.optim.RMSprop(ps, { lr: 0.01, centered: true, momentum: 0.9, weightDecay: 0.01 })],
    ['Adagrad', (ps) => new wg.optim.Adagrad(ps, { lr: 0.1, lrDecay: 0.01, initialAccumulatorValue: 0.1, weightDecay: 0.01 })],
  ];
  for (const [name, make] of cases) {
    it(`${name}: 20 replayed steps equal the eager steps bit for bit (step count and bias corrections in wasm)`, () => {
      expectTrainingExact(make);
    });
  }

  it('a learning-rate schedule changing lr between replays is read by the replay', () => {
    expectTrainingExact((ps) => new wg.optim.Adam(ps, { lr: 0.05 }), (o) => new wg.optim.ExponentialLR(o as any, 0.8));
    expectTrainingExact((ps) => new wg.optim.SGD(ps, { lr: 0.1, momentum: 0.9 }), (o) => new wg.optim.StepLR(o as any, 3, 0.5));
    // lr set directly on the optimizer between steps
    expectTrainingExact((ps) => new wg.optim.RMSprop(ps, { lr: 0.01 }), (o) => ({ step: () => { o.lr *= 0.9; } }));
  });

  it('1,000 replayed Adam training steps leave memory() identical between steps', () => {
    const net = netSetup('float32');
    const opt = new wg.optim.Adam(net.params, { lr: 0.01 });
    const fast = wg.accelerate((x: Tensor) => { const [l, g] = net.lg(net.params, x); opt.step(g); return l; });
    fast(net.batches[0]);
    fast(net.batches[1]);
    const before = wg.memory();
    const first = fast(net.batches[2]).item() as number;
    let loss = first;
    for (let i = 0; i < 1000; i++) {
      loss = fast(net.batches[i % 20]).item() as number;
      const m = wg.memory();
      if (m.liveTensors !== before.liveTensors || m.liveBytes !== before.liveBytes || m.allocatedBytes !== before.allocatedBytes || m.heapBytes !== before.heapBytes) {
        expect([i, m]).toEqual([i, before]);
      }
    }
    expect(loss).toBeLessThan(first); // it trained
    expect(opt.stateDict().state[3].step).toBe(1003);
    expect(fast.hits).toBe(1002);
    fast.clearCache();
    opt.dispose();
  });

  it('L-BFGS (closure-based) is refused with the reason; the runtime still works', () => {
    const net = netSetup('float64');
    const opt = new wg.optim.LBFGS(net.params, { maxIter: 3 });
    const fast = wg.accelerate((x: Tensor) => opt.step(() => net.lg(net.params, x)));
    expect(() => fast(net.batches[0])).toThrow(wg.NotAcceleratableError);
    expect(() => fast(net.batches[0])).toThrow(/LBFGS\.step: L-BFGS cannot be accelerated: its iterations, line search and stopping tests read the loss/);
    expect(fast.entries).toBe(0);
    expect(opt.step(() => wg.tidy(() => net.lg(net.params, net.batches[0])))).toBeGreaterThan(0); // eagerly it works
    expect(wg.tensor([1, 2]).add(1).toArray()).toEqual([2, 3]);
  });
});

describe('accelerate: class-index targets as arguments', () => {
  const idx = (v: number[]) => wg.tensor(v, { dtype: 'int32' });
  let weight: Tensor;
  beforeAll(() => { weight = wg.keep(wg.tensor([0.5, 1.5, 1, 2], { dtype: 'float64' })); });

  it('crossEntropy / nllLoss value and gradient replay bit for bit with new targets', () => {
    const ce = wg.valueAndGrad((x: Tensor, t: Tensor) => wg.crossEntropy(x, t));
    expectReplayExact(ce, [[t64([3, 4], 1), idx([0, 3, 1])], [t64([3, 4], 2), idx([2, 2, 0])], [t64([3, 4], 3), idx([3, 1, 2])]]);
    const smoothWeighted = wg.valueAndGrad((x: Tensor, t: Tensor) => wg.crossEntropy(x, t, { weight, labelSmoothing: 0.1, reduction: 'sum' }));
    expectReplayExact(smoothWeighted, [[t64([3, 4], 4), idx([1, 0, 3])], [t64([3, 4], 5), idx([0, 0, 2])]]);
    const nll = wg.valueAndGrad((x: Tensor, t: Tensor) => wg.nllLoss(wg.logSoftmax(x, 1), t, { weight }));
    expectReplayExact(nll, [[t64([2, 4, 3], 6), idx([0, 3, 1, 2, 2, 0]).reshape([2, 3])], [t64([2, 4, 3], 7), idx([1, 1, 3, 0, 2, 3]).reshape([2, 3])]]);
  });

  it('ignoreIndex: replays while the ignored positions move; a batch with or without them captures its own program', () => {
    const ce = wg.valueAndGrad((x: Tensor, t: Tensor) => wg.crossEntropy(x, t, { ignoreIndex: -1, labelSmoothing: 0.2, weight }));
    const fast = wg.accelerate(ce);
    const sets: [Tensor, Tensor][] = [[t64([3, 4], 1), idx([0, -1, 1])], [t64([3, 4], 2), idx([-1, 2, 3])], [t64([3, 4], 3), idx([1, 2, 3])], [t64([3, 4], 4), idx([-1, -1, 0])]];
    for (const [x, t] of sets) expect(bits(fast(x, t))).toEqual(wg.tidy(() => bits(ce(x, t))));
    // 1 and 2 share a program; 3 has no ignored target (a guard sends it to a new capture); 4 has some again
    expect([fast.hits, fast.misses]).toEqual([1, 3]);
    fast.clearCache();
  });

  it('out-of-range targets on a replay throw the eager error; the runtime still works', () => {
    const f = (x: Tensor, t: Tensor) => wg.crossEntropy(x, t);
    const fast = wg.accelerate(f);
    fast(t64([3, 4], 1), idx([0, 1, 2]));
    let eagerMessage = '';
    try { f(t64([3, 4], 1), idx([0, 4, 2])); } catch (e) { eagerMessage = (e as Error).message; }
    expect(eagerMessage).toBe('crossEntropy: target 4 (at flat index 1) is out of range for 4 classes; expected 0 <= target < 4 or ignoreIndex (-100)');
    expect(() => fast(t64([3, 4], 1), idx([0, 4, 2]))).toThrow(wg.ValueError);
    expect(() => fast(t64([3, 4], 1), idx([0, 4, 2]))).toThrow(eagerMessage);
    expect(() => fast(t64([3, 4], 1), idx([-3, 1, 2]))).toThrow('crossEntropy: target -3 (at flat index 0) is out of range for 4 classes');
    const x = t64([3, 4], 2), t = idx([3, 0, 1]);
    expect(bits(fast(x, t))).toEqual(wg.tidy(() => bits(f(x, t))));
    expect(wg.tensor([1, 2]).add(1).toArray()).toEqual([2, 3]);
    fast.clearCache();
  });

  it('gather / indexSelect with index arguments replay; an out-of-range index on a replay throws the eager error', () => {
    const f = wg.valueAndGrad((x: Tensor, i: Tensor, j: Tensor) => wg.gather(x, 1, i).sum().add(wg.indexSelect(x, 0, j).square().sum()));
    expectReplayExact(f, [[t64([3, 4], 1), idx([0, 3, 1, 2, 2, 0]).reshape([3, 2]), idx([2, 0])], [t64([3, 4], 2), idx([3, 3, 0, 1, 2, 1]).reshape([3, 2]), idx([1, 1])]]);
    const fast = wg.accelerate(f);
    fast(t64([3, 4], 1), idx([0, 3, 1, 2, 2, 0]).reshape([3, 2]), idx([2, 0]));
    expect(() => fast(t64([3, 4], 1), idx([0, 3, 1, 2, 2, 0]).reshape([3, 2]), idx([2, 3]))).toThrow(
      'indexSelect: index 3 is out of range for dim 0 of size 3 (x has shape [3, 4]); indices must be in [0, 3)');
    expect(() => fast(t64([3, 4], 1), idx([0, 3, 1, 2, 2, -1]).reshape([3, 2]), idx([2, 0]))).toThrow(wg.ValueError);
    expect(bits(fast(t64([3, 4], 3), idx([1, 1, 1, 1, 1, 1]).reshape([3, 2]), idx([0, 0])))).toEqual(
      wg.tidy(() => bits(f(t64([3, 4], 3), idx([1, 1, 1, 1, 1, 1]).reshape([3, 2]), idx([0, 0])))));
    fast.clearCache();
  });
});
