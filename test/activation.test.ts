// Activations: softmax and logSoftmax (fused primitives) over every axis, and the composites
// (leakyRelu, elu, selu, gelu, silu/swish, mish, hardtanh, hardsigmoid, softplus with options).
// Forward values against plain JS references and PyTorch's documented/known values; gradients
// by central differences in float64; JVP against VJP; second derivatives; float32 vs float64;
// bad inputs.

import { beforeAll, describe, expect, it } from 'vitest';
import { wg, checkGrad, expectClose, rand64, flat, size, uniform } from './helpers.js';
import { checkJvpVjp, checkSecondOrder, expectError, checkFloat32 } from './nn-helpers.js';
import type { Tensor } from '../src/index.js';

beforeAll(async () => { await wg.init(); });

const t64 = (v: number[], shape: number[]) => wg.tensor(v, { shape, dtype: 'float64' });

/** erf by its Maclaurin series (accurate to ~1e-15 for |x| <= 3 in float64). */
function erfRef(x: number): number {
  let term = x, s = x;
  for (let n = 1; n < 200; n++) {
    term *= -x * x / n;
    s += term / (2 * n + 1);
    if (Math.abs(term) < 1e-18) break;
  }
  return (2 / Math.sqrt(Math.PI)) * s;
}

/** softmax / logSoftmax along `axis` of a row-major array of `shape`, the textbook stable way. */
function softmaxRef(values: number[], shape: number[], axis: number, isLog: boolean): number[] {
  const out = new Array(values.length);
  const n = shape[axis] ?? 1;
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outer = values.length / Math.max(n * inner, 1);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const idx = (i: number) => (o * n + i) * inner + j;
      let m = -Infinity;
      for (let i = 0; i < n; i++) m = Math.max(m, values[idx(i)]);
      let s = 0;
      for (let i = 0; i < n; i++) s += Math.exp(values[idx(i)] - m);
      for (let i = 0; i < n; i++) out[idx(i)] = isLog ? values[idx(i)] - m - Math.log(s) : Math.exp(values[idx(i)] - m) / s;
    }
  }
  return out;
}

describe('softmax and logSoftmax', () => {
  const shape = [2, 3, 4];
  const values = uniform(size(shape), -3, 3, 21);

  it('match the reference along every axis, negative axes included', () => {
    wg.tidy(() => {
      const x = t64(values, shape);
      for (const axis of [0, 1, 2, -1, -3]) {
        const k = axis < 0 ? axis + 3 : axis;
        expectClose(flat(wg.softmax(x, axis).toArray()), softmaxRef(values, shape, k, false), 1e-14, 1e-15);
        expectClose(flat(wg.logSoftmax(x, axis).toArray()), softmaxRef(values, shape, k, true), 1e-14, 1e-14);
      }
      // the default axis is the last; methods agree with functions
      expectClose(flat(x.softmax().toArray()), softmaxRef(values, shape, 2, false), 1e-14, 1e-15);
      expectClose(flat(x.logSoftmax(1).toArray()), softmaxRef(values, shape, 1, true), 1e-14, 1e-14);
    });
  });

  it('are numerically stable and follow PyTorch on infinities', () => {
    wg.tidy(() => {
      // exp(1000) overflows; the max shift keeps it exact: softmax([1000, 1001, 1002])
      const big = wg.softmax(t64([1000, 1001, 1002], [3]));
      expectClose(flat(big.toArray()), [0.09003057317038046, 0.24472847105479767, 0.6652409557748219], 1e-15, 0);
      expectClose(flat(wg.logSoftmax(t64([-1000, 0], [2])).toArray()), [-1000, 0], 1e-15, 0);
      expect(flat(wg.softmax(t64([-Infinity, 0], [2])).toArray())).toEqual([0, 1]);
      expect(flat(wg.logSoftmax(t64([-Infinity, 0], [2])).toArray())).toEqual([-Infinity, 0]);
      // an all -inf slice and a +inf slice give NaN (exp(-inf - -inf), inf - inf)
      expect(flat(wg.softmax(t64([-Infinity, -Infinity], [2])).toArray()).every(Number.isNaN)).toBe(true);
      expect(flat(wg.softmax(t64([Infinity, 0], [2])).toArray())[0]).toBeNaN();
      expect(flat(wg.softmax(t64([NaN, 0], [2])).toArray()).every(Number.isNaN)).toBe(true);
      // PyTorch: softmax([1, 2, 3]) = [0.0900, 0.2447, 0.6652]
      expectClose(flat(wg.softmax(t64([1, 2, 3], [3])).toArray()), [0.09003057317038046, 0.24472847105479764, 0.6652409557748218], 1e-15, 0);
    });
  });

  it('handle rank 0, size-1 and size-0 dims', () => {
    wg.tidy(() => {
      expect(wg.softmax(t64([5], [])).item()).toBe(1);
      expect(wg.logSoftmax(t64([5], []), 0).item()).toBe(0);
      expect(flat(wg.softmax(t64([1, 2], [2, 1]), 1).toArray())).toEqual([1, 1]);
      expect(wg.softmax(wg.zeros([0, 3], { dtype: 'float64' }), 1).shape).toEqual([0, 3]);
      expect(wg.logSoftmax(wg.zeros([2, 0], { dtype: 'float64' }), 1).shape).toEqual([2, 0]);
    });
  });

  it('gradients match finite differences along every axis', () => {
    for (const axis of [0, 1, 2]) {
      const x = rand64(shape, -2, 2, 30 + axis);
      checkGrad((v) => wg.softmax(v, axis), [x]);
      checkGrad((v) => wg.logSoftmax(v, axis), [x]);
      x.dispose();
    }
    const s = rand64([], -1, 1, 3);
    checkGrad((v) => wg.logSoftmax(v).add(v.softmax()), [s]);
    s.dispose();
  });

  it('JVP agrees with VJP, second derivatives with differences of the gradient', () => {
    const x = rand64([3, 4], -2, 2, 40);
    const w = rand64([3, 4], -1, 1, 41);
    for (const axis of [0, 1]) {
      checkJvpVjp((v) => wg.softmax(v, axis), x);
      checkJvpVjp((v) => wg.logSoftmax(v, axis), x);
      checkSecondOrder((v) => wg.softmax(v, axis).mul(w).sum(), x);
      checkSecondOrder((v) => wg.logSoftmax(v, axis).mul(w).sum(), x);
    }
    wg.dispose([x, w]);
  });

  it('float32 agrees with float64', () => {
    const x = rand64([4, 5, 3], -4, 4, 50);
    for (const axis of [0, 1, 2]) {
      checkFloat32((v) => wg.softmax(v, axis), x, 1e-6, 1e-7);
      checkFloat32((v) => wg.logSoftmax(v, axis), x, 1e-6, 1e-6);
    }
    x.dispose();
  });

  it('float32 rows (the SIMD passes) agree with float64 at every length, tails and long rows included', () => {
    for (const n of [1, 2, 3, 4, 5, 7, 8, 9, 15, 1000, 2051]) {
      const values = uniform(3 * n, -20, 20, 60 + n);
      wg.tidy(() => {
        const x32 = wg.tensor(values, { shape: [3, n] });
        // x32 holds float32-rounded values: the reference starts from the same numbers
        const exact = Array.from(x32.data() as Float32Array);
        expectClose(flat(wg.softmax(x32, -1).toArray()), softmaxRef(exact, [3, n], 1, false), 2e-6, 1e-12);
        expectClose(flat(wg.logSoftmax(x32, -1).toArray()), softmaxRef(exact, [3, n], 1, true), 1e-6, 2e-6);
      });
    }
  });

  it('float32 rows follow PyTorch on infinities and NaN, row by row', () => {
    wg.tidy(() => {
      const rows = [
        [0, -Infinity, -1, -2, -3, -4, -5, -6, -7], // exact zeros where x = -inf
        [-Infinity, -Infinity, -Infinity, -Infinity, -Infinity, -Infinity, -Infinity, -Infinity, -Infinity], // NaN
        [Infinity, 0, 1, 2, 3, 4, 5, 6, 7], // NaN
        [1, 2, NaN, 4, 5, 6, 7, 8, 9], // NaN
        [0, -200, -100, -88, -87, -50, -20, -1, 0], // far below the max: 0 or tiny, never negative
      ];
      const x = wg.tensor(rows.flat(), { shape: [5, 9] });
      const y = wg.softmax(x, -1).toArray() as number[][];
      const ly = wg.logSoftmax(x, -1).toArray() as number[][];
      const ref = softmaxRef(rows[0], [9], 0, false);
      expectClose(y[0], ref, 2e-6, 1e-12);
      expect(y[0][1]).toBe(0);
      expect(ly[0][1]).toBe(-Infinity);
      for (const k of [1, 2, 3]) {
        expect(y[k].every(Number.isNaN), `softmax row ${k}`).toBe(true);
        expect(ly[k].every(Number.isNaN), `logSoftmax row ${k}`).toBe(true);
      }
      expectClose(y[4], softmaxRef(rows[4], [9], 0, false), 2e-6, 1e-37);
      expect(y[4].every((v) => v >= 0)).toBe(true);
      expectClose(ly[4], softmaxRef(rows[4], [9], 0, true), 1e-6, 1e-6);
    });
  });

  it('float32 softmax rows: exp within 2.21 ulp of the exact value, subnormal results kept (as PyTorch)', () => {
    // Rows [0, x1, …, x15] with every x ≤ −25: the sum rounds to 1 in float32, so y = exp(x) as
    // the row kernel computes it (16 elements: the four-vector loop; 19: its single-vector and
    // scalar tails too).
    const ulp = (v: number) => (v < 2 ** -126 ? 2 ** -149 : 2 ** (Math.floor(Math.log2(v)) - 23));
    for (const width of [16, 19]) {
      const rows = 4001, values = new Float32Array(rows * width);
      for (let r = 0; r < rows; r++) {
        for (let j = 1; j < width; j++) values[r * width + j] = -25 - 80 * ((r * (width - 1) + j - 1) / (rows * (width - 1)));
      }
      const y = wg.tidy(() => wg.softmax(wg.tensor(values, { shape: [rows, width] }), -1).data() as Float32Array);
      let worst = 0;
      for (let i = 0; i < values.length; i++) {
        if (i % width === 0) continue;
        const want = Math.exp(values[i]);
        if (Math.fround(want) !== 0) expect(y[i], `exp(${values[i]})`).toBeGreaterThan(0);
        worst = Math.max(worst, Math.abs(y[i] - want) / ulp(want));
      }
      expect(worst).toBeLessThanOrEqual(2.21);
    }
    wg.tidy(() => {
      const y = wg.softmax(wg.tensor([0, -95, -100, -103, -104, -200, -Infinity, -1]), -1).data() as Float32Array;
      expect(y[1]).toBeGreaterThan(0); // e^−95 ≈ 5.5e-42, subnormal
      expect(Math.abs(y[2] - Math.exp(-100) / (1 + Math.exp(-1)))).toBeLessThanOrEqual(2 ** -149);
      expect([y[4], y[5], y[6]]).toEqual([0, 0, 0]);
    });
  });

  it('float32 gradients (the fused backward ops) agree with float64, on rows and on strided slices', () => {
    const x = rand64([6, 37], -5, 5, 70);
    const w = rand64([6, 37], -1, 1, 71);
    for (const axis of [0, 1]) {
      for (const f of [wg.softmax, wg.logSoftmax]) {
        checkFloat32((v) => wg.grad((u: Tensor) => f(u, axis).mul(w.to(u.dtype)).sum())(v), x, 2e-5, 1e-6);
      }
    }
    wg.dispose([x, w]);
  });

  it('gelu in float32 (one fused pass, both approximations) agrees with float64, values and gradients', () => {
    const x = rand64([5, 7], -6, 6, 80);
    for (const approximate of ['none', 'tanh'] as const) {
      checkFloat32((v) => wg.gelu(v, { approximate }), x, 1e-6, 1e-7);
      checkFloat32((v) => wg.grad((u: Tensor) => wg.gelu(u, { approximate }).square().sum())(v), x, 1e-6, 1e-7);
    }
    x.dispose();
  });

  it('float32 gelu (SIMD lanes, 1 + erf without cancellation) stays within a few 1e-7 of the float64 value over [-12, 12]', () => {
    const n = 48_003; // odd: the lanes and the scalar tail both run
    const xs = Array.from({ length: n }, (_, i) => -12 + (24 * i) / (n - 1));
    wg.tidy(() => {
      const x32 = wg.tensor(xs), x64 = wg.tensor(Array.from(x32.data() as Float32Array), { dtype: 'float64' });
      const y32 = x32.gelu().data() as Float32Array, y64 = x64.gelu().data() as Float64Array;
      const g32 = wg.grad((u: Tensor) => u.gelu().sum())(x32).data() as Float32Array;
      const g64 = wg.grad((u: Tensor) => u.gelu().sum())(x64).data() as Float64Array;
      const x64s = x64.data() as Float64Array;
      for (let i = 0; i < n; i++) {
        const x = Math.abs(x64s[i]);
        expect(Math.abs(y32[i] - y64[i]), `gelu(${xs[i]})`).toBeLessThanOrEqual(2e-7 * x + 2e-7 * Math.abs(y64[i]) + 1e-30);
        expect(Math.abs(g32[i] - g64[i]), `gelu'(${xs[i]})`).toBeLessThanOrEqual(2e-7 * (1 + x) + 2e-7 * Math.abs(g64[i]));
      }
      const special = wg.tensor([Infinity, -Infinity, NaN, 0, -0]).gelu().data() as Float32Array;
      expect(special[0]).toBe(Infinity);
      expect(special[1]).toBeNaN(); // −inf·0, as PyTorch's x·0.5·(1 + erf(x/√2))
      expect(special[2]).toBeNaN();
      expect(special[3]).toBe(0);
    });
  });

  it('reject a bad axis', () => {
    const x = wg.ones([2, 3]);
    expectError(() => wg.softmax(x, 2), wg.AxisError, ['softmax', 'axis 2', 'rank 2']);
    expectError(() => x.logSoftmax(-3), wg.AxisError, ['logSoftmax', 'axis -3']);
    expectError(() => wg.softmax(1 as any), wg.ValueError, ['softmax', 'expected a Tensor']);
    x.dispose();
  });
});

// ————————————————————————————————————————————————————————— composites

const SELU_ALPHA = 1.6732632423543772848170429916717, SELU_SCALE = 1.0507009873554804934193349852946;
const softplusRef = (x: number, beta = 1, threshold = 20) => (x * beta > threshold ? x : Math.log1p(Math.exp(x * beta)) / beta);

interface Case {
  name: string;
  f: (x: Tensor) => Tensor;
  ref: (x: number) => number;
  smooth: boolean; // has a second derivative worth checking
}

const cases: Case[] = [
  { name: 'leakyRelu', f: (x) => wg.leakyRelu(x), ref: (v) => (v > 0 ? v : 0.01 * v), smooth: false },
  { name: 'leakyRelu(0.2)', f: (x) => x.leakyRelu(0.2), ref: (v) => (v > 0 ? v : 0.2 * v), smooth: false },
  { name: 'elu', f: (x) => wg.elu(x), ref: (v) => (v > 0 ? v : Math.expm1(v)), smooth: false },
  { name: 'elu(0.5)', f: (x) => x.elu(0.5), ref: (v) => (v > 0 ? v : 0.5 * Math.expm1(v)), smooth: false },
  { name: 'selu', f: (x) => wg.selu(x), ref: (v) => SELU_SCALE * (v > 0 ? v : SELU_ALPHA * Math.expm1(v)), smooth: false },
  { name: 'gelu', f: (x) => wg.gelu(x), ref: (v) => 0.5 * v * (1 + erfRef(v / Math.SQRT2)), smooth: true },
  { name: 'gelu tanh', f: (x) => x.gelu({ approximate: 'tanh' }), ref: (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))), smooth: true },
  { name: 'silu', f: (x) => wg.silu(x), ref: (v) => v / (1 + Math.exp(-v)), smooth: true },
  { name: 'swish', f: (x) => x.swish(), ref: (v) => v / (1 + Math.exp(-v)), smooth: true },
  { name: 'mish', f: (x) => wg.mish(x), ref: (v) => v * Math.tanh(Math.log1p(Math.exp(v))), smooth: true },
  { name: 'hardtanh', f: (x) => wg.hardtanh(x), ref: (v) => Math.min(Math.max(v, -1), 1), smooth: false },
  { name: 'hardtanh(-2, 0.5)', f: (x) => x.hardtanh(-2, 0.5), ref: (v) => Math.min(Math.max(v, -2), 0.5), smooth: false },
  { name: 'hardsigmoid', f: (x) => wg.hardsigmoid(x), ref: (v) => Math.min(Math.max(v + 3, 0), 6) / 6, smooth: false },
  { name: 'softplus', f: (x) => wg.softplus(x), ref: (v) => softplusRef(v), smooth: true },
  { name: 'softplus beta 2 threshold 3', f: (x) => x.softplus({ beta: 2, threshold: 3 }), ref: (v) => softplusRef(v, 2, 3), smooth: false },
  { name: 'softplus beta 0.5', f: (x) => wg.softplus(x, { beta: 0.5 }), ref: (v) => softplusRef(v, 0.5), smooth: true },
];

describe('composite activations', () => {
  const shape = [3, 5];
  const values = uniform(size(shape), -4, 4, 60);

  for (const c of cases) {
    it(`${c.name}: forward, gradient, JVP, float32`, () => {
      wg.tidy(() => {
        const x = t64(values, shape);
        expectClose(flat(c.f(x).toArray()), values.map(c.ref), 1e-13, 1e-15);
        // rank 0, size 0
        expectClose(c.f(t64([0.7], [])).item(), c.ref(0.7), 1e-13, 1e-15);
        expect(c.f(wg.zeros([0, 2], { dtype: 'float64' })).shape).toEqual([0, 2]);
        checkGrad(c.f, [x]);
        checkJvpVjp(c.f, x);
        checkFloat32(c.f, x, 2e-6, 1e-6);
        if (c.smooth) checkSecondOrder((v) => c.f(v).sum(), x);
      });
    });
  }

  it('match PyTorch values at known points', () => {
    wg.tidy(() => {
      const at = (f: (x: Tensor) => Tensor, v: number) => f(t64([v], [])).item() as number;
      expectClose(at(wg.gelu, 1), 0.8413447460685429, 1e-15, 0);
      expectClose(at((x) => wg.gelu(x, { approximate: 'tanh' }), 1), 0.8411919906082768, 1e-15, 0);
      expectClose(at(wg.selu, -1), -1.1113307378125628, 1e-15, 0);
      expectClose(at(wg.selu, 2), 2.1014019747109608, 1e-15, 0);
      expectClose(at(wg.elu, -1), -0.6321205588285577, 1e-15, 0);
      expectClose(at(wg.silu, 1), 0.7310585786300049, 1e-15, 0);
      expectClose(at(wg.mish, 1), 0.8650983882673103, 1e-15, 0);
      expectClose(at(wg.hardsigmoid, 1), 2 / 3, 1e-15, 0);
      expect(at(wg.leakyRelu, -2)).toBe(-0.02);
      expect(at(wg.hardtanh, 5)).toBe(1);
      // softplus reverts to x above the threshold
      expect(at(wg.softplus, 30)).toBe(30);
      expect(at((x) => wg.softplus(x, { beta: 2, threshold: 3 }), 2)).toBe(2);
      expect(Number.isNaN(at(wg.hardtanh, NaN))).toBe(true);
      expect(Number.isNaN(at(wg.leakyRelu, NaN))).toBe(true);
    });
  });

  it('gradients at the kinks follow PyTorch', () => {
    const gradAt = (f: (x: Tensor) => Tensor, v: number[]) =>
      wg.tidy(() => flat((wg.grad((x: Tensor) => f(x).sum())(t64(v, [v.length])) as Tensor).toArray()));
    expect(gradAt(wg.leakyRelu, [0])).toEqual([0.01]);
    expect(gradAt((x) => wg.elu(x, 2), [0])).toEqual([2]);
    expectClose(gradAt(wg.selu, [0]), [SELU_SCALE * SELU_ALPHA], 1e-15, 0);
    // hardtanh and hardsigmoid: zero at and beyond the bounds, inside the slope
    expect(gradAt(wg.hardtanh, [-1, 1, 0, -2, 2])).toEqual([0, 0, 1, 0, 0]);
    expect(gradAt(wg.hardsigmoid, [-3, 3, 0, 4])).toEqual([0, 0, 1 / 6, 0]);
    // softplus past the threshold passes the gradient through; no NaN from exp overflow
    expect(gradAt((x) => wg.softplus(x, { beta: 1, threshold: 10 }), [800])).toEqual([1]);
    expect(gradAt(wg.softplus, [800])).toEqual([1]);
    expectClose(gradAt(wg.gelu, [0]), [0.5], 1e-15, 0);
  });

  it('take int tensors as float32, like the other unary ops', () => {
    wg.tidy(() => {
      const y = wg.leakyRelu(wg.tensor([-1, 2], { dtype: 'int32' }));
      expect(y.dtype).toBe('float32');
      expectClose(flat(y.toArray()), [-0.01, 2], 1e-7, 0);
    });
  });

  it('reject bad options', () => {
    const x = wg.ones([2]);
    expectError(() => wg.gelu(x, { approximate: 'erf' as any }), wg.ValueError, ['gelu', "approximate must be 'none' or 'tanh'", "'erf'"]);
    expectError(() => wg.hardtanh(x, 1, -1), wg.ValueError, ['hardtanh', 'minVal (1)', 'maxVal (-1)']);
    expectError(() => wg.leakyRelu(x, NaN), wg.ValueError, ['leakyRelu', 'negativeSlope', 'NaN']);
    expectError(() => wg.elu(x, '1' as any), wg.ValueError, ['elu', 'alpha must be a finite number', 'string']);
    expectError(() => wg.softplus(x, { beta: Infinity }), wg.ValueError, ['softplus', 'beta', 'Infinity']);
    expectError(() => wg.softplus(x, 3 as any), wg.ValueError, ['softplus', 'options must be an object']);
    expectError(() => wg.mish('x' as any), wg.ValueError, ['mish', 'expected a Tensor']);
    x.dispose();
  });
});
