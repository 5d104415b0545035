// Seeded random tensors: the generator is xoshiro128** seeded through SplitMix64 (checked bit for
// bit against an independent JS implementation), determinism, ranges, and loose statistics.

import { beforeAll, describe, expect, it } from 'vitest';
import { wg } from './helpers.js';
import type { Tensor } from '../src/index.js';

beforeAll(async () => { await wg.init(); });

/** The reference generator: SplitMix64 (BigInt) expands the seed into xoshiro128**'s state. */
function referenceGenerator(seed: number): () => number {
  const M = (1n << 64n) - 1n;
  const mix = (z: bigint) => {
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M;
    return z ^ (z >> 31n);
  };
  const x = BigInt.asUintN(64, BigInt(seed));
  const a = mix((x + 0x9e3779b97f4a7c15n) & M);
  const b = mix((x + 2n * 0x9e3779b97f4a7c15n) & M);
  const s = new Uint32Array([Number(a & 0xffffffffn), Number(a >> 32n), Number(b & 0xffffffffn), Number(b >> 32n)]);
  const rotl = (v: number, k: number) => ((v << k) | (v >>> (32 - k))) >>> 0;
  return () => {
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  };
}

const values = (t: Tensor): number[] => Array.from(t.data() as Float32Array | Float64Array);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const variance = (xs: number[]) => { const m = mean(xs); return xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1); };

describe('the generator', () => {
  it('is xoshiro128** seeded by SplitMix64: float32 rand is the top 24 bits of each output', () => {
    for (const s of [0, 1, 42, 2 ** 40 + 7, -5]) {
      const next = referenceGenerator(s);
      const expected = Array.from({ length: 64 }, () => (next() >>> 8) / 2 ** 24);
      expect(values(wg.rand([64], { seed: s }))).toEqual(expected);
    }
  });

  it('float64 rand takes 53 bits from two outputs', () => {
    const next = referenceGenerator(123);
    const expected = Array.from({ length: 33 }, () => ((next() >>> 5) * 2 ** 26 + (next() >>> 6)) / 2 ** 53);
    expect(values(wg.rand([33], { dtype: 'float64', seed: 123 }))).toEqual(expected);
  });

  it('randn is Box–Muller on 53-bit uniforms, cos then sin of each pair', () => {
    const next = referenceGenerator(7);
    const u53 = () => ((next() >>> 5) * 2 ** 26 + (next() >>> 6)) / 2 ** 53;
    const z = wg.randn([5], { dtype: 'float64', seed: 7 }).data();
    for (let i = 0; i < 5; i += 2) {
      const r = Math.sqrt(-2 * Math.log(1 - u53()));
      const theta = 2 * Math.PI * u53();
      // wasm's log/cos/sin may differ from the host's in the last bits
      expect(z[i]).toBeCloseTo(r * Math.cos(theta), 12);
      if (i + 1 < 5) expect(z[i + 1]).toBeCloseTo(r * Math.sin(theta), 12);
    }
  });
});

describe('determinism', () => {
  it('the same seed gives the same bits; a different seed gives different ones', () => {
    for (const [fn, dtype] of [[wg.rand, 'float32'], [wg.rand, 'float64'], [wg.randn, 'float32'], [wg.randn, 'float64']] as const) {
      wg.seed(2024);
      const a = fn([2, 50], { dtype }).data();
      wg.seed(2024);
      const b = fn([2, 50], { dtype }).data();
      expect(b).toEqual(a);
      wg.manualSeed(2025);
      const c = fn([2, 50], { dtype }).data();
      expect(c).not.toEqual(a);
    }
  });

  it('successive draws continue the stream', () => {
    wg.seed(9);
    const whole = values(wg.rand([10]));
    wg.seed(9);
    const parts = [...values(wg.rand([4])), ...values(wg.rand([6]))];
    expect(parts).toEqual(whole);
  });

  it('options.seed leaves the global stream untouched', () => {
    wg.seed(1);
    const expected = values(wg.rand([5]));
    wg.seed(1);
    const local = values(wg.randn([3], { seed: 99 }));
    expect(values(wg.rand([5]))).toEqual(expected);
    expect(values(wg.randn([3], { seed: 99 }))).toEqual(local);
  });

  it('float32 randn is the float64 randn of the same seed, rounded', () => {
    const z64 = values(wg.randn([101], { dtype: 'float64', seed: 5 }));
    expect(values(wg.randn([101], { seed: 5 }))).toEqual(z64.map(Math.fround));
  });
});

describe('ranges and statistics (1e5 samples, generous bounds)', () => {
  const N = 100_000;

  it('rand float32 lies in [0, 1) on the 2^-24 grid, with mean 1/2 and variance 1/12', () => {
    const x = values(wg.rand([N], { seed: 11 }));
    expect(x.every((v) => v >= 0 && v < 1 && Number.isInteger(v * 2 ** 24))).toBe(true);
    expect(Math.abs(mean(x) - 0.5)).toBeLessThan(0.01);
    expect(Math.abs(variance(x) - 1 / 12)).toBeLessThan(0.005);
  });

  it('rand float64 lies in [0, 1) on the 2^-53 grid', () => {
    const x = values(wg.rand([N], { dtype: 'float64', seed: 12 }));
    expect(x.every((v) => v >= 0 && v < 1 && Number.isInteger(v * 2 ** 53))).toBe(true);
    expect(Math.abs(mean(x) - 0.5)).toBeLessThan(0.01);
    // not all on the float32 grid: the extra bits are used
    expect(x.filter((v) => !Number.isInteger(v * 2 ** 24)).length).toBeGreaterThan(N / 2);
  });

  it('randn has mean 0, variance 1 and normal tails', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const z = values(wg.randn([N], { dtype, seed: 13 }));
      expect(Math.abs(mean(z))).toBeLessThan(0.02);
      expect(Math.abs(variance(z) - 1)).toBeLessThan(0.03);
      const within1 = z.filter((v) => Math.abs(v) < 1).length / N; // 0.6827 for a normal
      expect(Math.abs(within1 - 0.6827)).toBeLessThan(0.01);
      expect(z.every(Number.isFinite)).toBe(true);
    }
  });

  it('uniform(lo, hi) and normal(mean, std)', () => {
    const u = values(wg.uniform([N], -2, 5, { seed: 14 }));
    expect(u.every((v) => v >= -2 && v < 5)).toBe(true);
    expect(Math.abs(mean(u) - 1.5)).toBeLessThan(0.05);
    expect(Math.abs(variance(u) - 49 / 12)).toBeLessThan(0.1);
    const n = values(wg.normal([N], 3, 2, { dtype: 'float64', seed: 15 }));
    expect(Math.abs(mean(n) - 3)).toBeLessThan(0.03);
    expect(Math.abs(Math.sqrt(variance(n)) - 2)).toBeLessThan(0.03);
    expect(values(wg.normal([4], 3, 0))).toEqual([3, 3, 3, 3]);
    expect(values(wg.uniform([3], 2, 2))).toEqual([2, 2, 2]);
  });

  it('shapes: arrays, a number, rank 0 and size 0', () => {
    expect(wg.rand([2, 3, 4]).shape).toEqual([2, 3, 4]);
    expect(wg.randn(5).shape).toEqual([5]);
    const s = wg.rand([]);
    expect(s.shape).toEqual([]);
    expect(s.item()).toBeGreaterThanOrEqual(0);
    expect(wg.randn([0, 3]).numel()).toBe(0);
    expect(wg.rand([2]).dtype).toBe('float32');
    expect(wg.randn([2], { dtype: 'float64' }).dtype).toBe('float64');
  });

  it('random tensors are constants: no gradient flows into them', () => {
    const g = wg.grad((x: Tensor) => x.mul(wg.rand([3], { dtype: 'float64', seed: 3 })).sum())(wg.ones([3], { dtype: 'float64' }));
    expect(values(g)).toEqual(values(wg.rand([3], { dtype: 'float64', seed: 3 })));
  });
});

describe('errors', () => {
  const afterwards = () => expect(wg.rand([2], { seed: 1 }).shape).toEqual([2]);
  const expectError = (fn: () => unknown, cls: Function, message: string) => {
    expect(fn).toThrow(cls as any);
    expect(fn).toThrow(message);
    afterwards();
  };

  it('bad seeds, dtypes, shapes and parameters', () => {
    expectError(() => wg.seed(1.5), wg.ValueError, 'seed: the seed must be an integer between -(2^53 - 1) and 2^53 - 1, got 1.5');
    expectError(() => wg.rand([2], { seed: NaN }), wg.ValueError, 'rand: options.seed must be an integer');
    expectError(() => wg.rand([2], { dtype: 'int32' }), wg.DTypeError, "rand: dtype must be 'float32' or 'float64', got 'int32'");
    expectError(() => wg.randn([2, -1]), wg.ValueError, 'randn: shape [2, -1] has an invalid size -1');
    expectError(() => wg.uniform([2], 3, 1), wg.ValueError, 'uniform: expects lo <= hi to draw from [lo, hi), got lo=3 > hi=1');
    expectError(() => wg.uniform([2], 0, Infinity), wg.ValueError, 'uniform: hi must be a finite number, got Infinity');
    expectError(() => wg.normal([2], 0, -1), wg.ValueError, 'normal: expects std >= 0, got std=-1');
  });
});
