// Shared test utilities: seeded inputs, closeness checks, and the central finite-difference
// gradient check in float64 that every op's test uses.

import { expect } from 'vitest';
import * as wg from '../src/index.js';
import type { Tensor } from '../src/index.js';

/** A small seeded PRNG (mulberry32, wasmgrad's seededRandom) so test inputs are the same on every run. */
export const rng = (seed: number): (() => number) => wg.seededRandom(seed);

/** n uniform values in [lo, hi). */
export function uniform(n: number, lo = -1, hi = 1, seed = 1): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => lo + (hi - lo) * r());
}

export const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** A float64 tensor of `shape` with seeded uniform values in [lo, hi). */
export function rand64(shape: number[], lo = -1, hi = 1, seed = 1): Tensor {
  return wg.tensor(uniform(size(shape), lo, hi, seed), { shape, dtype: 'float64' });
}

/** Flattens nested arrays (or a number) to a flat number list. */
export function flat(x: unknown): number[] {
  if (typeof x === 'number') return [x];
  if (typeof x === 'boolean') return [x ? 1 : 0];
  if (Array.isArray(x)) return x.flatMap(flat);
  if (ArrayBuffer.isView(x)) return Array.from(x as unknown as ArrayLike<number>);
  throw new Error(`flat: unexpected ${typeof x}`);
}

/** Asserts |a - e| <= atol + rtol·|e| elementwise (NaN matches NaN, ±Inf must be equal). */
export function expectClose(actual: unknown, expected: unknown, rtol = 1e-12, atol = 1e-12): void {
  const a = flat(actual), e = flat(expected);
  expect(a.length).toBe(e.length);
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(e[i])) { expect(a[i], `element ${i}`).toBeNaN(); continue; }
    if (!Number.isFinite(e[i])) { expect(a[i], `element ${i}`).toBe(e[i]); continue; }
    const tol = atol + rtol * Math.abs(e[i]);
    if (!(Math.abs(a[i] - e[i]) <= tol)) {
      throw new Error(`element ${i}: got ${a[i]}, expected ${e[i]} (|diff| ${Math.abs(a[i] - e[i])} > tol ${tol})`);
    }
  }
}

export interface GradCheckOptions { eps?: number; rtol?: number; atol?: number; seed?: number }

/**
 * Checks valueAndGrad of f against central finite differences in float64 at the given inputs
 * (float64 tensors). A non-scalar output is contracted with fixed random weights, so the whole
 * Jacobian is exercised. Returns the analytic gradients.
 */
export function checkGrad(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], options: GradCheckOptions = {}): number[][] {
  const eps = options.eps ?? 1e-6, rtol = options.rtol ?? 1e-6, atol = options.atol ?? 1e-7;
  const probe = wg.tidy(() => f(...inputs).shape);
  const weights = uniform(size(probe), 0.5, 1.5, options.seed ?? 7);
  const loss = (...xs: Tensor[]): Tensor => {
    const y = f(...xs);
    if (y.dtype !== 'float64') throw new Error(`checkGrad: f must return float64, got ${y.dtype}`);
    return y.mul(wg.tensor(weights, { shape: probe, dtype: 'float64' })).sum();
  };
  const argnums = inputs.map((_, k) => k);
  const grads = wg.tidy(() => {
    const [, g] = wg.valueAndGrad(loss, { argnums })(...inputs);
    return (g as Tensor[]).map((t) => flat(t.toArray()));
  });
  inputs.forEach((x, k) => {
    const base = flat(x.toArray());
    const numeric = base.map((_, i) => {
      const at = (h: number) => wg.tidy(() => {
        const moved = base.slice();
        moved[i] += h;
        const xs = inputs.slice();
        xs[k] = wg.tensor(moved, { shape: x.shape, dtype: 'float64' });
        return loss(...xs).item() as number;
      });
      return (at(eps) - at(-eps)) / (2 * eps);
    });
    try {
      expectClose(grads[k], numeric, rtol, atol);
    } catch (e) {
      throw new Error(`gradient of input ${k} (shape [${x.shape}]): ${(e as Error).message}`);
    }
  });
  return grads;
}

/** Runs fn and checks that it leaves the live tensor count and bytes where they were. */
export function expectNoLeak(fn: () => void): void {
  const before = wg.memory();
  fn();
  const after = wg.memory();
  expect(after.liveTensors).toBe(before.liveTensors);
  expect(after.liveBytes).toBe(before.liveBytes);
}

export { wg };

/** Runs `run`, then waits a few ticks: no promise it left behind may become an unhandled rejection. */
export async function noUnhandledRejection(run: () => void): Promise<void> {
  const seen: unknown[] = [];
  const listener = (reason: unknown): void => { seen.push(reason); };
  process.on('unhandledRejection', listener);
  try {
    run();
    for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 5));
  } finally {
    process.off('unhandledRejection', listener);
  }
  expect(seen).toEqual([]);
}

/** A small op still works: the runtime survived whatever came before. */
export const runtimeWorks = (): void => { expect(wg.tensor([1, 2]).add(1).toArray()).toEqual([2, 3]); };

/**
 * fn (run inside a tidy) throws `cls` with every fragment in its message (a string it contains,
 * or a pattern it matches); nothing is left behind and the runtime still works afterwards.
 */
export function expectError(fn: () => unknown, cls: Function, ...fragments: (string | RegExp)[]): void {
  let err: unknown;
  expectNoLeak(() => wg.tidy(() => { try { fn(); } catch (e) { err = e; } }));
  expect(err, 'expected an error').toBeInstanceOf(cls);
  for (const f of fragments) {
    if (typeof f === 'string') expect((err as Error).message).toContain(f);
    else expect((err as Error).message).toMatch(f);
  }
  runtimeWorks();
}

export const dot = (a: number[], b: number[]): number => a.reduce((s, v, i) => s + v * b[i], 0);

/**
 * C = op(A)·op(B) for stored matrices a (m×k, or k×m when transA) and b (k×n, or n×k): each
 * element one chain s = 0; s = s + x·y over q = 0..k-1, rounded to float32 after every mul and
 * add when `f32`.
 */
export function matmulReference(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number,
                   transA: boolean, transB: boolean, f32: boolean): Float64Array {
  const r = f32 ? Math.fround : (x: number) => x;
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let q = 0; q < k; q++) {
        const x = a[transA ? q * m + i : i * k + q], y = b[transB ? j * k + q : q * n + j];
        s = r(s + r(x * y));
      }
      c[i * n + j] = s;
    }
  }
  return c;
}

/** Every element has exactly the expected bits (Object.is: -0 and NaN count); names the first that differs. */
export function expectSameBits(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i])) {
      throw new Error(`${what}: element ${i} is ${actual[i]}, expected ${expected[i]}`);
    }
  }
}
