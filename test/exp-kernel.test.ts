// float32 exp is wasmgrad's own SIMD kernel (assembly/core/math.ts expF32x4); every float32 exp —
// exp, sigmoid, softplus, softmax, logsumexp — goes through its lane arithmetic. Checked here
// against float64 exp rounded to float32 (the correctly rounded value), over the whole range
// including overflow, the subnormal range, ±0, ±Inf and NaN.
import { beforeAll, expect, it } from 'vitest';
import { wg } from './helpers.js';

beforeAll(async () => { await wg.init(); });

const ulp32 = (v: number): number => {
  const f = new Float32Array([v]), i = new Int32Array(f.buffer);
  const g = new Float32Array(1), j = new Int32Array(g.buffer);
  j[0] = i[0] + 1;
  return Math.abs(g[0] - f[0]);
};

it('float32 exp is within 1 ulp of the correctly rounded value on [-110, 90]', () => {
  const n = 200_003; // odd, so both the SIMD body and the scalar tail are exercised
  const xs = new Float32Array(n);
  for (let i = 0; i < n; i++) xs[i] = -110 + 200 * (i / (n - 1));
  const got = wg.tidy(() => wg.tensor(xs).exp().data() as Float32Array);
  let worst = 0;
  for (let i = 0; i < n; i++) {
    const want = Math.fround(Math.exp(xs[i]));
    if (want === 0 || !Number.isFinite(want)) {
      expect(got[i] === want || (want === 0 && got[i] <= 1.5e-45), `exp(${xs[i]})`).toBe(true);
      continue;
    }
    worst = Math.max(worst, Math.abs(got[i] - want) / ulp32(want));
  }
  expect(worst).toBeLessThanOrEqual(1);
});

it('special values, and the same bits wherever an element sits (SIMD lanes and tails agree)', () => {
  const special = [0, -0, Infinity, -Infinity, NaN, 88.72, 88.73, -103.9, -104.5, 1e-30];
  const got = wg.tidy(() => Array.from(wg.tensor(special).exp().data()));
  expect(got.slice(0, 4)).toEqual([1, 1, Infinity, 0]);
  expect(got[4]).toBeNaN();
  expect(got[5]).toBe(Math.fround(Math.exp(Math.fround(88.72))));
  expect(got[6]).toBe(Infinity);
  expect(got[8]).toBe(0);
  expect(got[9]).toBe(1);
  // One value at every position of arrays of several lengths gives one result.
  const v = Math.fround(0.3712);
  const results = new Set<number>();
  for (const len of [1, 3, 4, 5, 7, 9]) {
    wg.tidy(() => { for (const r of wg.full([len], v).exp().data()) results.add(r); });
  }
  expect(results.size).toBe(1);
  expect(wg.tidy(() => wg.softmax(wg.tensor([v, 0, 0, 0, 0]), -1).toArray())).toHaveLength(5);
});
