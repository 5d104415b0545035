// Memory without reference counting: scopes free what they made except what they return;
// keep(), dispose() and [Symbol.dispose] for the exceptions; a long training loop holds a
// constant number of live tensors and bytes; the FinalizationRegistry frees forgotten tensors.

import { beforeAll, describe, expect, it } from 'vitest';
import v8 from 'node:v8';
import vm from 'node:vm';
import { wg, uniform } from './helpers.js';
import type { Tensor } from '../src/index.js';

beforeAll(async () => { await wg.init(); });

const live = () => wg.memory().liveTensors;

describe('a long training loop', () => {
  it('10,000 valueAndGrad steps on a small MLP leave live tensors and bytes exactly where they started', () => {
    const B = 8, I = 4, H = 6;
    const x = wg.tensor(uniform(B * I, -1, 1, 1), { shape: [B, I] });
    const target = wg.tensor(uniform(B, -1, 1, 2), { shape: [B] });
    let params: Record<string, Tensor> = {
      W1: wg.tensor(uniform(I * H, -0.5, 0.5, 3), { shape: [I, H] }),
      b1: wg.tensor(uniform(H, -0.1, 0.1, 4), { shape: [H] }),
      W2: wg.tensor(uniform(H, -0.5, 0.5, 5), { shape: [H] }),
    };
    // x·W1 by broadcasting: [B, I, 1] * [I, H] summed over I
    const loss = (p: Record<string, Tensor>, xs: Tensor, ys: Tensor): Tensor => {
      const h = xs.reshape([B, I, 1]).mul(p.W1).sum(1).add(p.b1).relu();
      const out = h.mul(p.W2).sum(1);
      return out.sub(ys).square().sum().mul(1 / B);
    };
    const step = wg.valueAndGrad(loss);
    const lr = 0.05;
    const before = wg.memory();
    let first = NaN, last = NaN, allocatedAfterFirst = 0, heapAfterFirst = 0;
    for (let i = 0; i < 10_000; i++) {
      const next = wg.tidy(() => {
        const [l, g] = step(params, x, target);
        if (i === 0) first = l.item() as number;
        last = l.item() as number;
        return { W1: params.W1.sub(g.W1.mul(lr)), b1: params.b1.sub(g.b1.mul(lr)), W2: params.W2.sub(g.W2.mul(lr)) };
      });
      wg.dispose(params);
      params = next;
      if (i === 0) { allocatedAfterFirst = wg.memory().allocatedBytes; heapAfterFirst = wg.memory().heapBytes; }
    }
    const after = wg.memory();
    expect(after.liveTensors).toBe(before.liveTensors);
    expect(after.liveBytes).toBe(before.liveBytes);
    // the runtime's own tables reached their size in the first step and stayed there
    expect(after.allocatedBytes).toBe(allocatedAfterFirst);
    expect(after.heapBytes).toBe(heapAfterFirst);
    expect(after.scopeDepth).toBe(0);
    // and the loop did train
    expect(last).toBeLessThan(first * 0.5);
    wg.dispose([params, x, target]);
  });
});

describe('scopes', () => {
  it('tidy returns what it returns (tensor, array, object) and frees the rest', () => {
    const n = live();
    const a = wg.tidy(() => { const t = wg.ones([3]); t.mul(2); return t.add(1); });
    expect(live()).toBe(n + 1);
    expect(a.toArray()).toEqual([2, 2, 2]);
    const [b, { c }] = wg.tidy(() => { const t = wg.ones([2]).exp(); t.sin(); return [t.neg(), { c: t.square() }] as const; });
    expect(live()).toBe(n + 3);
    expect(b.isAlive && c.isAlive).toBe(true);
    // a non-tensor result frees everything
    expect(wg.tidy(() => wg.ones([5]).sum().item())).toBe(5);
    expect(live()).toBe(n + 3);
    // a tensor made outside and returned from inside survives untouched
    const outside = wg.ones([1]);
    expect(wg.tidy(() => { outside.add(1); return outside; })).toBe(outside);
    expect(outside.isAlive).toBe(true);
    wg.dispose([a, b, c, outside]);
    expect(live()).toBe(n);
  });

  it('keep() lets a tensor outlive its tidy; only dispose frees it then', () => {
    const n = live();
    let kept!: Tensor, dropped!: Tensor, deep!: Tensor;
    wg.tidy(() => {
      kept = wg.keep(wg.ones([4]).mul(3));
      dropped = wg.ones([4]);
      wg.tidy(() => { wg.keep(kept); }); // keeping twice, in a nested scope, is harmless
    });
    expect(kept.isAlive).toBe(true);
    expect(dropped.isAlive).toBe(false);
    expect(kept.toArray()).toEqual([3, 3, 3, 3]);
    expect(live()).toBe(n + 1);
    // kept in an inner scope, it also survives the enclosing scope
    wg.tidy(() => { wg.tidy(() => { deep = wg.keep(wg.ones([2])); }); });
    expect(deep.isAlive).toBe(true);
    expect(live()).toBe(n + 2);
    kept.dispose();
    deep.dispose();
    expect(live()).toBe(n);
  });

  it('dispose() and [Symbol.dispose] free at once, inside and outside scopes', () => {
    const n = live();
    const bytes = wg.memory().liveBytes;
    const t = wg.zeros([100]);
    expect(wg.memory().liveBytes).toBe(bytes + 400);
    t.dispose();
    expect(live()).toBe(n);
    expect(wg.memory().liveBytes).toBe(bytes);
    {
      using u = wg.ones([10]);
      expect(u.sum().item()).toBe(10);
      expect(live()).toBe(n + 2);
    }
    expect(live()).toBe(n + 1); // the sum remains, u is gone
    const s = wg.zeros([3]);
    s[Symbol.dispose]();
    expect(s.isAlive).toBe(false);
    // disposing inside a scope, then the scope ends: nothing is freed twice
    wg.tidy(() => {
      const a = wg.ones([2]);
      a.dispose();
      const b = wg.ones([2]); // may reuse a's id
      return b;
    }).dispose();
    expect(live()).toBe(n + 1);
  });

  it('nested tidy: the inner result moves to the outer scope and is freed with it', () => {
    const n = live();
    let inner!: Tensor;
    const outer = wg.tidy(() => {
      inner = wg.tidy(() => { wg.ones([2]); return wg.ones([2]).mul(5); });
      expect(inner.isAlive).toBe(true);
      expect(wg.memory().scopeDepth).toBe(1);
      return inner.add(1);
    });
    expect(inner.isAlive).toBe(false);
    expect(outer.toArray()).toEqual([6, 6]);
    expect(live()).toBe(n + 1);
    outer.dispose();
    expect(wg.memory().scopeDepth).toBe(0);
  });

  it('tensors returned by valueAndGrad survive it and are freed by an enclosing tidy', () => {
    const n = live();
    const x = wg.tensor([1, 2, 3], { dtype: 'float64' });
    let value!: Tensor, g!: Tensor;
    const copy = wg.tidy(() => {
      [value, g] = wg.valueAndGrad((v: Tensor) => v.exp().mul(v).sum())(x);
      expect(value.isAlive && g.isAlive).toBe(true);
      expect(live()).toBe(n + 3); // x, the value and the gradient: f's temporaries are gone
      return g.mul(1);
    });
    expect(value.isAlive || g.isAlive).toBe(false);
    expect(copy.toArray()).toEqual([1, 2, 3].map((v) => Math.exp(v) * (1 + v)));
    // at top level they live on until disposed
    const [v2, g2] = wg.valueAndGrad((v: Tensor) => v.square().sum())(x);
    expect(live()).toBe(n + 4);
    wg.dispose([v2, g2, copy, x]);
    expect(live()).toBe(n);
  });

  it('a tensor disposed while the tape still needs it is freed when the gradient is done', () => {
    const n = live();
    const c = wg.tensor([2, 3], { dtype: 'float64' });
    const [y, g] = wg.valueAndGrad((v: Tensor) => {
      const r = v.mul(c).sum();
      c.dispose(); // the tape still refers to c: its data must stay valid for the sweep
      return r;
    })(wg.tensor([1, 1], { dtype: 'float64' }));
    expect(g.toArray()).toEqual([2, 3]);
    expect(c.isAlive).toBe(false);
    wg.dispose([y, g]);
    expect(live()).toBe(n + 1); // the input made in the call above, still held
  });
});

describe('the FinalizationRegistry backstop', () => {
  // V8 allows exposing gc() at run time; a full collection then finalizes unreachable handles.
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const collect = async (until: () => boolean) => {
    for (let i = 0; i < 20 && !until(); i++) {
      gc();
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  const forget = (make: () => unknown) => { make(); };
  /** Lets earlier tests' forgotten handles be collected first, so counts start from a settled state. */
  const settle = async () => { for (let i = 0; i < 3; i++) { gc(); await new Promise((r) => setTimeout(r, 10)); } };

  it('frees a top-level tensor whose handle was dropped', async () => {
    await settle();
    const n = live();
    forget(() => wg.zeros([1000]));
    forget(() => wg.ones([3]).mul(2));
    expect(live()).toBe(n + 3);
    await collect(() => live() === n);
    expect(live()).toBe(n);
  });

  it('frees a kept tensor whose handle was dropped, but never a tensor that reused its id', async () => {
    await settle();
    const n = live();
    forget(() => wg.tidy(() => { wg.keep(wg.ones([5])); }));
    expect(live()).toBe(n + 1);
    await collect(() => live() === n);
    expect(live()).toBe(n);
    // a disposed handle whose id was reused: collecting the old handle must not free the new tensor
    // (a sentinel dropped at the same time tells when the collection has run the finalizers)
    let survivor!: Tensor;
    forget(() => {
      const old = wg.ones([2]);
      old.dispose();
      survivor = wg.full([2], 7); // takes the freed id, with a new generation
      wg.zeros([1]);
    });
    expect(live()).toBe(n + 2);
    await collect(() => live() === n + 1);
    expect(live()).toBe(n + 1);
    expect(survivor.isAlive).toBe(true);
    expect(survivor.toArray()).toEqual([7, 7]);
    survivor.dispose();
    await collect(() => live() === n);
    expect(live()).toBe(n);
  });
});
