// Checks shared by the activation, normalisation and loss suites: forward mode against reverse
// mode, second derivatives against finite differences of the first, and bad-input errors that
// leave the runtime working.

import { expect } from 'vitest';
import { wg, expectClose, flat, rand64, uniform, size } from './helpers.js';
import type { Tensor } from '../src/index.js';

/**
 * ⟨v, J·u⟩ = ⟨Jᵀ·v, u⟩ for random u, v (float64): wg.jvp gives J·u, the gradient of
 * Σ f(x)·v gives Jᵀ·v. `x` is the differentiated input; f may close over other tensors.
 */
export function checkJvpVjp(f: (x: Tensor) => Tensor, x: Tensor, seed = 11, tol = 1e-10): void {
  wg.tidy(() => {
    const u = rand64(x.shape, -1, 1, seed);
    const [y, ydot] = wg.jvp(f, [x], [u]) as [Tensor, Tensor];
    expect(ydot.shape).toEqual(y.shape);
    const v = rand64(y.shape, -1, 1, seed + 1);
    const g = wg.grad((xt: Tensor) => f(xt).mul(v).sum())(x) as Tensor;
    const dot = (a: Tensor, b: Tensor): number => flat(a.toArray()).reduce((s, ai, i) => s + ai * flat(b.toArray())[i], 0);
    const forward = dot(v, ydot), reverse = dot(g, u);
    expect(Number.isFinite(forward)).toBe(true);
    expectClose(forward, reverse, tol, tol);
  });
}

/**
 * A second derivative: the Hessian-vector product of scalar f (forward over reverse, wg.hvp)
 * and the gradient of ⟨∇f, w⟩ (reverse over reverse) against central differences of ∇f along v.
 */
export function checkSecondOrder(f: (x: Tensor) => Tensor, x: Tensor, options: { eps?: number; rtol?: number; atol?: number; seed?: number } = {}): void {
  const eps = options.eps ?? 1e-5, rtol = options.rtol ?? 1e-5, atol = options.atol ?? 1e-6;
  wg.tidy(() => {
    const v = rand64(x.shape, -1, 1, options.seed ?? 5);
    const g = wg.grad(f);
    const base = flat(x.toArray()), dir = flat(v.toArray());
    const at = (h: number): number[] => wg.tidy(() => flat((g(wg.tensor(base.map((b, i) => b + h * dir[i]), { shape: x.shape, dtype: 'float64' })) as Tensor).toArray()));
    const plus = at(eps), minus = at(-eps);
    const numeric = plus.map((p, i) => (p - minus[i]) / (2 * eps));
    expectClose(flat((wg.hvp(f)(x, v) as Tensor).toArray()), numeric, rtol, atol);
    // reverse over reverse: ∇⟨∇f(x), v⟩ = H·v as well (H is symmetric)
    const hv = wg.grad((xt: Tensor) => (wg.grad(f, { higherOrder: true })(xt) as Tensor).mul(v).sum())(x) as Tensor;
    expectClose(flat(hv.toArray()), numeric, rtol, atol);
  });
}

/** A small gradient computation that must still give exact answers after an error, leaving nothing behind. */
export function stillWorks(): void {
  const before = wg.memory();
  wg.tidy(() => {
    const [y, g] = wg.valueAndGrad((x: Tensor) => x.mul(x).mul(x).sum())(wg.tensor([2, -1], { dtype: 'float64' }));
    expect(y.item()).toBe(7);
    expect(g.toArray()).toEqual([12, 3]);
  });
  expect(wg.memory().liveTensors).toBe(before.liveTensors);
  expect(wg.memory().scopeDepth).toBe(0);
}

/**
 * `bad` throws `cls` (a WasmgradError) with every part in its message; afterwards no tensor and
 * no byte is left over and the runtime still works. Returns the error.
 */
export function expectError(bad: () => unknown, cls: new (...a: any[]) => Error, parts: (string | RegExp)[]): Error {
  const before = wg.memory();
  let caught: unknown;
  try { bad(); } catch (e) { caught = e; }
  expect(caught, 'no error was thrown').toBeInstanceOf(cls);
  expect(caught).toBeInstanceOf(wg.WasmgradError);
  const message = (caught as Error).message;
  for (const p of parts) {
    if (typeof p === 'string') expect(message).toContain(p);
    else expect(message).toMatch(p);
  }
  const after = wg.memory();
  expect(after.liveTensors, 'live tensors after the error').toBe(before.liveTensors);
  expect(after.liveBytes, 'live bytes after the error').toBe(before.liveBytes);
  expect(after.scopeDepth).toBe(before.scopeDepth);
  stillWorks();
  return caught as Error;
}

/** float32 result of f on the float32 copy of x64 against the float64 result, within rtol/atol. */
export function checkFloat32(f: (x: Tensor) => Tensor, x64: Tensor, rtol = 1e-5, atol = 1e-6): void {
  wg.tidy(() => {
    const y64 = f(x64);
    const y32 = f(x64.to('float32'));
    expect(y32.dtype).toBe('float32');
    expectClose(flat(y32.toArray()), flat(y64.toArray()), rtol, atol);
  });
}

export { rand64, uniform, size, flat, expectClose };
