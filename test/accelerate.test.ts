// accelerate: replay equals eager bit for bit; cache behaviour; refusals; constant memory.

import { beforeAll, describe, expect, it } from 'vitest';
import { wg, uniform } from './helpers.js';
import type { Tensor } from '../src/index.js';

beforeAll(async () => { await wg.init(); });

const t64 = (shape: number[], seed: number, lo = -1, hi = 1) => wg.tensor(uniform(shape.reduce((a, b) => a * b, 1), lo, hi, seed), { shape, dtype: 'float64' });
const t32 = (shape: number[], seed: number, lo = -1, hi = 1) => wg.tensor(uniform(shape.reduce((a, b) => a * b, 1), lo, hi, seed), { shape, dtype: 'float32' });

/** The values of every tensor in a result, as raw bytes (bitwise comparison). */
function bits(v: unknown): number[][] {
  return wg.tidy(() => []).concat([]) && collect(v);
}
function collect(v: unknown, out: number[][] = []): number[][] {
  if (v instanceof wg.Tensor) { out.push([...new Uint8Array(v.data().buffer)]); return out; }
  if (Array.isArray(v)) { for (const x of v) collect(x, out); return out; }
  if (v !== null && typeof v === 'object') { for (const x of Object.values(v)) collect(x, out); return out; }
  out.push([Number(v)]);
  return out;
}

const seedF = (x1: Tensor, x2: Tensor): Tensor => x1.mul(x1.square().add(x2.square()).mul(-0.5).exp());

describe('accelerate: the seed function', () => {
  it('value and gradient replay bit for bit', () => {
    const vg = wg.valueAndGrad(seedF, { argnums: [0, 1] });
    const fast = wg.accelerate((a: Tensor, b: Tensor) => vg(a, b));
    for (let i = 0; i < 5; i++) {
      const a = wg.tensor(2 + i * 0.1, { dtype: 'float64' }), b = wg.tensor(0.5 - i * 0.3, { dtype: 'float64' });
      const want = collect(vg(a, b));
      const got = collect(fast(a, b));
      expect(got).toEqual(want);
    }
    expect(fast.hits).toBe(4);
    expect(fast.misses).toBe(1);
    fast.clearCache();
  });
});
