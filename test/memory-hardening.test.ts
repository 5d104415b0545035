// Memory that a careless program cannot poison: scope entry points refuse what is not a function
// or a tensor, async functions are refused before they run (and a returned promise can never
// become an unhandled rejection), many tensors left outside scopes get a one-time warning and an
// out-of-memory message that says where the memory went, and accelerated functions release their
// programs when disposed or dropped.

import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { wg, noUnhandledRejection } from './helpers.js';
import type { Tensor } from '../src/index.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

beforeAll(async () => { await wg.init(); });
afterEach(() => { wg.setLiveTensorWarning(10000); vi.restoreAllMocks(); });

/** The seed example's value and gradient, to show the runtime still computes exactly. */
function seedStillExact(): void {
  wg.tidy(() => {
    const [y, g] = wg.valueAndGrad((x: Tensor) => { const [a, b] = x.unstack(); return a.mul(a.square().add(b.square()).mul(-0.5).exp()); })(
      wg.tensor([2, 0.5], { dtype: 'float64' }));
    const e = Math.exp(-0.5 * (4 + 0.25));
    expect(y.item()).toBeCloseTo(2 * e, 15);
    expect(g.toArray()).toEqual([expect.closeTo((1 - 4) * e, 15), expect.closeTo(-2 * 0.5 * e, 15)]);
  });
}

describe('scopes refuse what they cannot hold', () => {
  it('tidy(null), tidy(3), keep(3), keep(null) are ValueErrors naming the function and what it got', () => {
    const before = wg.memory();
    expect(() => wg.tidy(null as any)).toThrow(/tidy: expected a function, got null/);
    expect(() => wg.tidy(3 as any)).toThrow(wg.ValueError);
    expect(() => wg.keep(3 as any)).toThrow(/keep: expected a Tensor, got the number 3/);
    expect(() => wg.keep(null as any)).toThrow(/keep: expected a Tensor, got null/);
    expect(() => wg.keep(Symbol('s') as any)).toThrow(/keep: expected a Tensor, got a symbol/);
    expect(wg.memory().liveTensors).toBe(before.liveTensors);
    expect(wg.memory().scopeDepth).toBe(0);
    seedStillExact();
  });

  it('an async function given to tidy or accelerate is refused before it runs', async () => {
    let ran = false;
    const f = async () => { ran = true; return wg.tensor([1]); };
    expect(() => wg.tidy(f as any)).toThrow(/tidy: fn is an async function; tidy is synchronous/);
    expect(() => wg.accelerate(f)).toThrow(/accelerate: f is an async function/);
    expect(ran).toBe(false);
    seedStillExact();
  });

  it('a plain function returning a rejected promise: tidy throws, and the promise never goes unhandled', async () => {
    await noUnhandledRejection(() => {
      expect(() => wg.tidy(() => Promise.reject(new Error('late')) as any)).toThrow(/tidy: fn returned a Promise/);
    });
    expect(wg.memory().scopeDepth).toBe(0);
  });
});

describe('tensors left outside scopes', () => {
  it('crossing the limit warns once, saying to use tidy; setLiveTensorWarning(false) silences it', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const base = wg.memory().liveTensors;
    wg.setLiveTensorWarning(base + 300);
    const made: Tensor[] = [];
    for (let i = 0; i < 600; i++) made.push(wg.tensor(i));
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toMatch(/tensors are alive outside any scope.*tidy\(\(\) => …\).*setLiveTensorWarning\(false\)/s);
    for (let i = 0; i < 600; i++) made.push(wg.tensor(i));
    expect(warn).toHaveBeenCalledTimes(1);
    wg.dispose(made);
    wg.setLiveTensorWarning(false);
    const again: Tensor[] = [];
    for (let i = 0; i < 20000; i++) again.push(wg.tensor(i));
    expect(warn).toHaveBeenCalledTimes(1);
    wg.dispose(again);
    expect(() => wg.setLiveTensorWarning(0)).toThrow(/setLiveTensorWarning: limit must be an integer >= 1 or false, got the number 0/);
    expect(() => wg.setLiveTensorWarning('many' as any)).toThrow(wg.ValueError);
  });

  it('running out of memory with many top-level tensors says how many and points at tidy', () => {
    wg.setLiveTensorWarning(false);
    const heap = wg.memory().heapBytes;
    const made: Tensor[] = [];
    for (let i = 0; i < 2000; i++) made.push(wg.tensor(i));
    wg.setMemoryLimit(wg.memory().heapBytes);
    let error: unknown;
    try {
      for (let i = 0; i < 1000; i++) made.push(wg.zeros([2 ** 22]));
    } catch (e) { error = e; }
    wg.setMemoryLimit(4 * 2 ** 30);
    expect(error).toBeInstanceOf(wg.OutOfMemoryError);
    expect((error as Error).message).toMatch(/out of memory: requested \d+ bytes.*; \d+ tensors are alive outside any scope.*run loops in tidy/);
    wg.dispose(made);
    expect(wg.memory().heapBytes).toBeGreaterThanOrEqual(heap);
    seedStillExact();
  });
});

describe('accelerated functions release their programs', () => {
  const f = (x: Tensor) => x.mul(2).add(1).sum();

  it('dispose() frees the programs; a later call is a DisposedError; dispose twice is fine', () => {
    const before = wg.memory().liveTensors;
    const fast = wg.accelerate(f);
    const x = wg.tensor([1, 2, 3]);
    expect(fast(x).item()).toBe(15);
    expect(fast(x).item()).toBe(15);
    expect(wg.memory().liveTensors).toBeGreaterThan(before + 1);
    fast.dispose();
    fast.dispose();
    expect(wg.memory().liveTensors).toBe(before + 1);
    expect(() => fast(x)).toThrow(wg.DisposedError);
    expect(() => fast(x)).toThrow(/accelerate: this accelerated function was disposed/);
    x.dispose();
  });

  it('wrappers made per call and dropped release their programs when collected', async () => {
    const x = wg.keep(wg.tensor([1, 2, 3]));
    const before = wg.memory().liveTensors;
    const makeAndDrop = () => { for (let i = 0; i < 200; i++) wg.accelerate(f)(x); };
    makeAndDrop();
    expect(wg.memory().liveTensors).toBeGreaterThan(before + 200);
    for (let i = 0; i < 10 && wg.memory().liveTensors > before; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(wg.memory().liveTensors).toBe(before);
    x.dispose();
    seedStillExact();
  });
});
