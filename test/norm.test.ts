// Normalisation: batchNorm (training with running-stat updates, inference with stored stats),
// layerNorm, groupNorm, instanceNorm, localResponseNorm / crosschannelnorm. Forward values
// against plain JS references, exact running-stat updates, gradients by central differences in
// float64 for input, weight and bias, JVP against VJP, second derivatives, float32 vs float64,
// bad inputs. layerNorm (a fused op with fused gradients) also against PyTorch 1.13
// (test/fixtures/layer-norm.json, made by test/fixtures/make_layer_norm.py) and against the
// composite it replaced (normalize + affine, reached through groupNorm with one group).

import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { wg, checkGrad, expectClose, rand64, flat, size, uniform, expectNoLeak, expectSameBits } from './helpers.js';
import { checkJvpVjp, checkSecondOrder, expectError, checkFloat32 } from './nn-helpers.js';
import type { Tensor } from '../src/index.js';

beforeAll(async () => { await wg.init(); });

const t64 = (v: number[], shape: number[]) => wg.tensor(v, { shape, dtype: 'float64' });

/**
 * values viewed as [a, b, c] standardised over a and c for each b, then scaled by w[ch(i)] and
 * shifted by b[ch(i)] where ch maps a flat index to its affine entry.
 */
function standardiseRef(values: number[], a: number, b: number, c: number, eps: number): number[] {
  const out = new Array(values.length);
  const at = (i: number, j: number, k: number) => (i * b + j) * c + k;
  for (let j = 0; j < b; j++) {
    let s = 0;
    for (let i = 0; i < a; i++) for (let k = 0; k < c; k++) s += values[at(i, j, k)];
    const mean = s / (a * c);
    let q = 0;
    for (let i = 0; i < a; i++) for (let k = 0; k < c; k++) q += (values[at(i, j, k)] - mean) ** 2;
    const rstd = 1 / Math.sqrt(q / (a * c) + eps);
    for (let i = 0; i < a; i++) for (let k = 0; k < c; k++) out[at(i, j, k)] = (values[at(i, j, k)] - mean) * rstd;
  }
  return out;
}

/** Per-channel [mean, biased var, unbiased var] of [N, C, L]. */
function channelStats(values: number[], N: number, C: number, L: number): [number, number, number][] {
  return Array.from({ length: C }, (_, ch) => {
    const xs: number[] = [];
    for (let n = 0; n < N; n++) for (let l = 0; l < L; l++) xs.push(values[(n * C + ch) * L + l]);
    const mean = xs.reduce((p, v) => p + v, 0) / xs.length;
    const ss = xs.reduce((p, v) => p + (v - mean) ** 2, 0);
    return [mean, ss / xs.length, ss / (xs.length - 1)];
  });
}

const affineRef = (y: number[], w: number[] | undefined, b: number[] | undefined, ch: (i: number) => number) =>
  y.map((v, i) => v * (w ? w[ch(i)] : 1) + (b ? b[ch(i)] : 0));

describe('batchNorm', () => {
  const N = 4, C = 3, L = 5, shape = [N, C, L];
  const values = uniform(N * C * L, -2, 3, 1);
  const wv = uniform(C, 0.5, 1.5, 2), bv = uniform(C, -1, 1, 3);

  it('training: batch statistics (biased variance) for the output', () => {
    wg.tidy(() => {
      const x = t64(values, shape), w = t64(wv, [C]), b = t64(bv, [C]);
      const y = wg.batchNorm(x, null, null, w, b, { training: true });
      const ref = affineRef(standardiseRef(values, N, C, L, 1e-5), wv, bv, (i) => Math.floor(i / L) % C);
      expectClose(flat(y.toArray()), ref, 1e-13, 1e-14);
      // [N, C] input (no spatial dims), no affine, another eps
      const x2 = t64(values.slice(0, 12), [4, 3]);
      expectClose(flat(x2.batchNorm(null, null, null, null, { training: true, eps: 0.1 }).toArray()),
        standardiseRef(values.slice(0, 12), 4, 3, 1, 0.1), 1e-13, 1e-14);
    });
  });

  it('training: running mean and UNBIASED running variance move in place by momentum', () => {
    wg.tidy(() => {
      // exact: x = [[1], [3]] has mean 2, biased var 1, unbiased var 2
      const rm = t64([0], [1]), rv = t64([1], [1]);
      const y = wg.batchNorm(t64([1, 3], [2, 1]), rm, rv, null, null, { training: true });
      expectClose(flat(y.toArray()), [-1 / Math.sqrt(1 + 1e-5), 1 / Math.sqrt(1 + 1e-5)], 1e-15, 0);
      expect(rm.item()).toBe(0.9 * 0 + 0.1 * 2);
      expect(rv.item()).toBe((1 - 0.1) * 1 + 0.1 * 2);
      // random data, momentum 0.3, two steps
      const x = t64(values, shape);
      const m0 = uniform(C, -1, 1, 4), v0 = uniform(C, 0.5, 2, 5);
      const runMean = t64(m0, [C]), runVar = t64(v0, [C]);
      const stats = channelStats(values, N, C, L);
      wg.batchNorm(x, runMean, runVar, null, null, { training: true, momentum: 0.3 });
      const m1 = m0.map((m, ch) => 0.7 * m + 0.3 * stats[ch][0]);
      const v1 = v0.map((v, ch) => 0.7 * v + 0.3 * stats[ch][2]);
      expectClose(flat(runMean.toArray()), m1, 1e-15, 1e-16);
      expectClose(flat(runVar.toArray()), v1, 1e-15, 1e-16);
      x.batchNorm(runMean, runVar, null, null, { training: true, momentum: 0.3 });
      expectClose(flat(runMean.toArray()), m1.map((m, ch) => 0.7 * m + 0.3 * stats[ch][0]), 1e-15, 1e-16);
      // only one of them given; inference mode leaves both alone
      const only = t64([0, 0, 0], [C]);
      wg.batchNorm(x, only, null, null, null, { training: true });
      expectClose(flat(only.toArray()), stats.map((s) => 0.1 * s[0]), 1e-15, 1e-16);
      const before = flat(runVar.toArray());
      wg.batchNorm(x, runMean, runVar);
      expect(flat(runVar.toArray())).toEqual(before);
    });
  });

  it('inference (the default): stored statistics, y = x·α + β', () => {
    wg.tidy(() => {
      const x = t64(values, shape), w = t64(wv, [C]), b = t64(bv, [C]);
      const mv = uniform(C, -1, 1, 6), vv = uniform(C, 0.5, 2, 7);
      const y = wg.batchNorm(x, t64(mv, [C]), t64(vv, [C]), w, b, { eps: 1e-3 });
      const ref = values.map((v, i) => {
        const ch = Math.floor(i / L) % C;
        return (v - mv[ch]) / Math.sqrt(vv[ch] + 1e-3) * wv[ch] + bv[ch];
      });
      expectClose(flat(y.toArray()), ref, 1e-13, 1e-14);
      expectClose(flat(x.batchNorm(t64(mv, [C]), t64(vv, [C])).toArray()),
        values.map((v, i) => (v - mv[Math.floor(i / L) % C]) / Math.sqrt(vv[Math.floor(i / L) % C] + 1e-5)), 1e-13, 1e-14);
    });
  });

  it('gradients for input, weight and bias in both modes; running stats are not differentiated', () => {
    const x = rand64(shape, -2, 2, 8), w = rand64([C], 0.5, 1.5, 9), b = rand64([C], -1, 1, 10);
    checkGrad((xi, wi, bi) => wg.batchNorm(xi, null, null, wi, bi, { training: true }), [x, w, b]);
    const rm = rand64([C], -1, 1, 11), rv = rand64([C], 0.5, 2, 12);
    checkGrad((xi, wi, bi) => wg.batchNorm(xi, rm, rv, wi, bi), [x, w, b]);
    // [N, C] training, gradient through the batch statistics
    const x2 = rand64([5, 2], -1, 1, 13);
    checkGrad((xi) => wg.batchNorm(xi, null, null, null, null, { training: true }), [x2]);
    wg.tidy(() => {
      const [, grads] = wg.valueAndGrad((xi: Tensor, m: Tensor, v: Tensor) => wg.batchNorm(xi, m, v).sum(), { argnums: [1, 2] })(x, rm, rv);
      for (const g of grads as Tensor[]) expect(flat(g.toArray())).toEqual([0, 0, 0]);
    });
    wg.dispose([x, w, b, rm, rv, x2]);
  });

  it('JVP agrees with VJP; second derivative; float32', () => {
    const x = rand64([3, 2, 4], -2, 2, 14), w = rand64([2], 0.5, 1.5, 15), b = rand64([2], -1, 1, 16);
    const k = rand64([3, 2, 4], -1, 1, 17);
    checkJvpVjp((v) => wg.batchNorm(v, null, null, w, b, { training: true }), x);
    checkJvpVjp((v) => wg.batchNorm(x, null, null, v, b, { training: true }), w);
    const rm = rand64([2], -1, 1, 18), rv = rand64([2], 0.5, 2, 19);
    checkJvpVjp((v) => wg.batchNorm(v, rm, rv, w, b), x);
    checkJvpVjp((v) => wg.batchNorm(x, rm, rv, v, b), w);
    checkSecondOrder((v) => wg.batchNorm(v, null, null, w, b, { training: true }).mul(k).sum(), x);
    checkFloat32((v) => wg.batchNorm(v, null, null, null, null, { training: true }), x, 1e-5, 1e-5);
    wg.dispose([x, w, b, k, rm, rv]);
  });

  it('rejects bad input', () => {
    const x = wg.ones([4, 3]), c3 = wg.ones([3]), c2 = wg.ones([2]), x1 = wg.ones([1, 3]), c3d = wg.ones([3], { dtype: 'float64' });
    expectError(() => wg.batchNorm(c3, c3, c3), wg.ShapeError, ['batchNorm', '[N, C, *]', '[3]']);
    expectError(() => wg.batchNorm(x, c2, c3), wg.ShapeError, ['batchNorm', 'runningMean has shape [2]', 'must have shape [3]', '[4, 3]']);
    expectError(() => wg.batchNorm(x, c3, c3, c2), wg.ShapeError, ['batchNorm', 'weight has shape [2]']);
    expectError(() => wg.batchNorm(x, null, null), wg.ValueError, ['batchNorm', 'runningMean and runningVar must be given in inference mode']);
    expectError(() => wg.batchNorm(x1, c3, c3, null, null, { training: true }), wg.ValueError,
      ['batchNorm', 'more than 1 value per channel', '[1, 3]']);
    expectError(() => wg.batchNorm(x, c3d, c3), wg.DTypeError, ['batchNorm', 'runningMean is float64', 'input is float32']);
    expectError(() => wg.batchNorm(x, c3, c3, null, null, { momentum: NaN }), wg.ValueError, ['batchNorm', 'momentum', 'NaN']);
    expectError(() => wg.batchNorm(x, c3, c3, null, null, { training: 1 as any }), wg.ValueError, ['batchNorm', 'training must be a boolean']);
    wg.dispose([x, c3, c2, x1, c3d]);
  });
});

describe('layerNorm', () => {
  const shape = [2, 3, 4];
  const values = uniform(size(shape), -2, 2, 20);

  it('normalises the trailing dims with an elementwise affine', () => {
    wg.tidy(() => {
      const x = t64(values, shape);
      expectClose(flat(wg.layerNorm(x, 4).toArray()), standardiseRef(values, 1, 6, 4, 1e-5), 1e-13, 1e-14);
      const wv = uniform(12, 0.5, 1.5, 21), bv = uniform(12, -1, 1, 22);
      const y = x.layerNorm([3, 4], t64(wv, [3, 4]), t64(bv, [3, 4]), { eps: 1e-3 });
      expectClose(flat(y.toArray()), affineRef(standardiseRef(values, 1, 2, 12, 1e-3), wv, bv, (i) => i % 12), 1e-13, 1e-14);
      // PyTorch: F.layer_norm([1., 2., 3.], [3]) = [-1.2247, 0, 1.2247] (eps 1e-5)
      const s = 1 / Math.sqrt(2 / 3 + 1e-5);
      expectClose(flat(wg.layerNorm(t64([1, 2, 3], [3]), [3]).toArray()), [-s, 0, s], 1e-15, 0);
      expect(wg.layerNorm(wg.zeros([0, 4], { dtype: 'float64' }), [4]).shape).toEqual([0, 4]);
      expect(flat(wg.layerNorm(t64([5, 7], [2, 1]), 1).toArray())).toEqual([0, 0]);
    });
  });

  it('gradients for input, weight and bias; JVP; second derivative; float32', () => {
    const x = rand64(shape, -2, 2, 23), w = rand64([4], 0.5, 1.5, 24), b = rand64([4], -1, 1, 25);
    checkGrad((xi, wi, bi) => wg.layerNorm(xi, [4], wi, bi), [x, w, b]);
    checkGrad((xi) => wg.layerNorm(xi, [3, 4]), [x]);
    checkJvpVjp((v) => wg.layerNorm(v, [4], w, b), x);
    checkJvpVjp((v) => wg.layerNorm(x, [4], v, b), w);
    const k = rand64(shape, -1, 1, 26);
    checkSecondOrder((v) => wg.layerNorm(v, [3, 4], w.reshape([1, 4]).expand([3, 4]), null).mul(k).sum(), x);
    checkFloat32((v) => wg.layerNorm(v, [4], w.to(v.dtype), b.to(v.dtype)), x, 1e-5, 1e-5);
    wg.dispose([x, w, b, k]);
  });

  const fixture = JSON.parse(readFileSync(new URL('./fixtures/layer-norm.json', import.meta.url), 'utf8'));
  /** make_layer_norm.py's values(n, seed): the same IEEE operations, so the same doubles. */
  const torchValues = (n: number, seed: number): number[] => Array.from({ length: n }, (_, i) => ((i * 37 + seed * 101) % 211) / 105.5 - 1);

  it('agrees with PyTorch 1.13: values and gradients for input, weight and bias, float64 and float32', () => {
    for (const c of fixture.cases) {
      for (const dtype of ['float64', 'float32'] as const) {
        // float64 to rounding; float32 to float32 rounding (PyTorch sums float32 rows in float32).
        // With one element a row, PyTorch's float32 x·rstd − mean·rstd is not 0 but a rounding
        // error times rstd = 1/√eps ≈ 316; x̂ is exactly 0 here, so y is the bias.
        const [rtol, atol] = dtype === 'float64' ? [1e-12, 1e-13] : [2e-5, size(c.normalizedShape) === 1 ? 5e-5 : 2e-6];
        const want = c[dtype];
        expectNoLeak(() => wg.tidy(() => {
          const make = (shape: number[], seed: number, shift = 0) => wg.tensor(torchValues(size(shape), seed).map((v) => v + shift), { shape, dtype: 'float64' }).to(dtype);
          const x = make(c.x, 1), gy = make(c.x, 99);
          const w = c.weight ? make(c.normalizedShape, 2, 1.5) : null, b = c.bias ? make(c.normalizedShape, 3) : null;
          const f = (xi: Tensor, wi: Tensor | null, bi: Tensor | null) => wg.layerNorm(xi, c.normalizedShape, wi, bi, { eps: c.eps });
          expectClose(flat(f(x, w, b).toArray()), want.y, rtol, atol);
          const args = [x, w, b].filter((t): t is Tensor => t !== null);
          const grads = wg.grad((...a: Tensor[]) => f(a[0], c.weight ? a[1] : null, c.bias ? a[a.length - 1] : null).mul(gy).sum(),
            { argnums: args.map((_, i) => i) })(...args) as Tensor[];
          expectClose(flat(grads[0].toArray()), want.dx, rtol, atol);
          if (c.weight) expectClose(flat(grads[1].toArray()), want.dweight, rtol, atol * 10);
          if (c.bias) expectClose(flat(grads[grads.length - 1].toArray()), want.dbias, rtol, atol * 10);
        }));
      }
    }
  });

  it('agrees with the composite it replaced (normalize + affine) to rounding, values, gradients and an HVP', () => {
    // groupNorm with one group runs the normalize primitive over all but dim 0: the old layerNorm
    for (const dtype of ['float32', 'float64'] as const) {
      wg.tidy(() => {
        const x = rand64([3, 5, 7], -3, 3, 31).to(dtype), k = rand64([3, 5, 7], -1, 1, 32).to(dtype);
        const w = rand64([5, 7], 0.5, 1.5, 33).to(dtype), b = rand64([5, 7], -1, 1, 34).to(dtype);
        const composite = (xi: Tensor, wi: Tensor, bi: Tensor) => wg.groupNorm(xi, 1).mul(wi).add(bi);
        const fused = (xi: Tensor, wi: Tensor, bi: Tensor) => wg.layerNorm(xi, [5, 7], wi, bi);
        const tol = dtype === 'float64' ? 1e-12 : 2e-6;
        expectClose(flat(fused(x, w, b).toArray()), flat(composite(x, w, b).toArray()), tol, tol);
        // x̂ is rounded before the affine: the fused affine has the bits of x̂·w + b
        const xh = wg.layerNorm(x, [5, 7]);
        expectSameBits(fused(x, w, b).data() as Float64Array, xh.mul(w).add(b).data() as Float64Array, `${dtype} x̂·w + b`);
        expectSameBits(wg.layerNorm(x, [5, 7], w).data() as Float64Array, xh.mul(w).data() as Float64Array, `${dtype} x̂·w`);
        const gradOf = (f: typeof fused) => (wg.grad((...a: Tensor[]) => f(a[0], a[1], a[2]).mul(k).sum(), { argnums: [0, 1, 2] })(x, w, b) as Tensor[])
          .map((t) => flat(t.toArray()));
        const [gf, gc] = [gradOf(fused), gradOf(composite)];
        gf.forEach((g, i) => expectClose(g, gc[i], tol, tol));
        if (dtype === 'float64') { // a Hessian-vector product through both paths
          const v = rand64([3, 5, 7], -1, 1, 35);
          const hv = (f: typeof fused) => flat((wg.hvp((xi: Tensor) => f(xi, w, b).square().mul(k).sum())(x, v) as Tensor).toArray());
          expectClose(hv(fused), hv(composite), 1e-11, 1e-11);
        }
      });
    }
  });

  it('second order through weight and bias: the gradient ops\' own rules against central differences', () => {
    const x = rand64([2, 3, 5], -2, 2, 41), w = rand64([5], 0.5, 1.5, 42), b = rand64([5], -1, 1, 43), k = rand64([2, 3, 5], -1, 1, 44);
    checkSecondOrder((v) => wg.layerNorm(v, [5], w, b).square().mul(k).sum(), x);
    checkSecondOrder((v) => wg.layerNorm(x.mul(v), [5], v, b).square().mul(k).sum(), w); // weight in both slots
    checkSecondOrder((v) => wg.layerNorm(x.add(v), [5], w, v).tanh().sum(), b);
    checkSecondOrder((v) => wg.layerNorm(v, [3, 5]).square().mul(k).sum(), x);
    checkJvpVjp((v) => wg.layerNorm(x, [5], w, v), b);
    checkJvpVjp((v) => wg.grad((xi: Tensor) => wg.layerNorm(xi, [5], v, b).square().mul(k).sum())(x) as Tensor, w); // JVP of the gradient ops
    checkGrad((wi) => wg.grad((xi: Tensor) => wg.layerNorm(xi, [5], wi, b).square().mul(k).sum())(x) as Tensor, [w]);
    checkGrad((xi) => (wg.grad((wi: Tensor) => wg.layerNorm(xi, [5], wi, b).square().mul(k).sum())(w) as Tensor), [x]);
    checkJvpVjp((v) => wg.grad((wi: Tensor) => wg.layerNorm(v, [5], wi, b).square().mul(k).sum())(w) as Tensor, x);
    wg.dispose([x, w, b, k]);
  });

  it('edge shapes: inner 1 gives the bias, empty rows and empty inner, rank 1', () => {
    wg.tidy(() => {
      const b = t64([0.25], [1]);
      expect(flat(wg.layerNorm(t64([5, -7, 3], [3, 1]), [1], t64([2], [1]), b).toArray())).toEqual([0.25, 0.25, 0.25]);
      expect(wg.layerNorm(wg.zeros([3, 0], { dtype: 'float64' }), [0]).shape).toEqual([3, 0]);
      const g = wg.grad((w: Tensor) => wg.layerNorm(wg.zeros([0, 4]), [4], w).sum())(wg.ones([4])) as Tensor;
      expect(flat(g.toArray())).toEqual([0, 0, 0, 0]);
      const s = 1 / Math.sqrt(2 / 3 + 1e-5);
      expectClose(flat(wg.layerNorm(wg.tensor([1, 2, 3]), 3).toArray()), [-s, 0, s], 1e-7, 0);
    });
  });

  it('replays bit for bit in an accelerated step (weight and bias, float32)', () => {
    const vg = wg.valueAndGrad((x: Tensor, w: Tensor, b: Tensor) => wg.layerNorm(x, [6], w, b).square().sum(), { argnums: [0, 1, 2] });
    const fast = wg.accelerate(vg);
    const bits = (r: any) => flat([r[0], ...r[1]].map((t: Tensor) => Array.from(t.data() as Float32Array)));
    for (let seed = 1; seed <= 3; seed++) {
      wg.tidy(() => {
        const args = [rand64([4, 6], -2, 2, seed), rand64([6], 0.5, 1.5, seed + 10), rand64([6], -1, 1, seed + 20)].map((t) => t.to('float32'));
        expect(wg.tidy(() => bits(fast(...args)))).toEqual(wg.tidy(() => bits(vg(...args))));
      });
    }
    expect(fast.hits).toBe(2);
    fast.clearCache();
  });

  it('rejects bad input', () => {
    const x = wg.ones([2, 3, 4]), w3 = wg.ones([3]);
    expectError(() => wg.layerNorm(x, [5]), wg.ShapeError, ['layerNorm', 'normalizedShape=[5]', 'expected input with shape [*, 5]', '[2, 3, 4]']);
    expectError(() => wg.layerNorm(x, []), wg.ValueError, ['layerNorm', 'at least one dim']);
    expectError(() => wg.layerNorm(x, [4], w3), wg.ShapeError, ['layerNorm', 'weight has shape [3]', 'must have shape [4]']);
    expectError(() => wg.layerNorm(x, [4], null, null, { eps: -1 }), wg.ValueError, ['layerNorm', 'eps must be >= 0']);
    wg.dispose([x, w3]);
  });
});

describe('groupNorm', () => {
  const N = 2, C = 6, L = 3, shape = [N, C, L];
  const values = uniform(N * C * L, -2, 2, 30);

  it('normalises channel groups of each sample, per-channel affine', () => {
    wg.tidy(() => {
      const x = t64(values, shape);
      const wv = uniform(C, 0.5, 1.5, 31), bv = uniform(C, -1, 1, 32);
      for (const G of [1, 2, 3, 6]) {
        const y = wg.groupNorm(x, G, t64(wv, [C]), t64(bv, [C]));
        const ref = affineRef(standardiseRef(values, 1, N * G, (C / G) * L, 1e-5), wv, bv, (i) => Math.floor(i / L) % C);
        expectClose(flat(y.toArray()), ref, 1e-13, 1e-14);
      }
      // 4-D input, no affine
      const x4 = t64(values.slice(0, 24), [2, 2, 3, 2]);
      expectClose(flat(x4.groupNorm(2).toArray()), standardiseRef(values.slice(0, 24), 1, 4, 6, 1e-5), 1e-13, 1e-14);
    });
  });

  it('gradients; JVP; second derivative; float32', () => {
    const x = rand64(shape, -2, 2, 33), w = rand64([C], 0.5, 1.5, 34), b = rand64([C], -1, 1, 35);
    checkGrad((xi, wi, bi) => wg.groupNorm(xi, 3, wi, bi), [x, w, b]);
    checkJvpVjp((v) => wg.groupNorm(v, 2, w, b), x);
    const k = rand64(shape, -1, 1, 36);
    checkSecondOrder((v) => wg.groupNorm(v, 3, w, b).mul(k).sum(), x);
    checkFloat32((v) => wg.groupNorm(v, 3), x, 1e-5, 1e-5);
    wg.dispose([x, w, b, k]);
  });

  it('rejects bad input', () => {
    const x = wg.ones([2, 6, 3]), v6 = wg.ones([6]), w3 = wg.ones([3]);
    expectError(() => wg.groupNorm(x, 4), wg.ValueError, ['groupNorm', 'divisible by numGroups', '[2, 6, 3]', 'numGroups=4']);
    expectError(() => wg.groupNorm(x, 0), wg.ValueError, ['groupNorm', 'numGroups must be a positive integer', '0']);
    expectError(() => wg.groupNorm(v6, 3), wg.ShapeError, ['groupNorm', '[N, C, *]', '[6]']);
    expectError(() => wg.groupNorm(x, 3, w3), wg.ShapeError, ['groupNorm', 'weight has shape [3]', 'must have shape [6]']);
    wg.dispose([x, v6, w3]);
  });
});

describe('instanceNorm', () => {
  const N = 3, C = 2, L = 4, shape = [N, C, L];
  const values = uniform(N * C * L, -2, 2, 40);

  it('normalises each (sample, channel); running stats move by the batch average', () => {
    wg.tidy(() => {
      const x = t64(values, shape);
      const wv = uniform(C, 0.5, 1.5, 41), bv = uniform(C, -1, 1, 42);
      const rm = t64([0.5, -0.5], [C]), rv = t64([1, 2], [C]);
      const y = wg.instanceNorm(x, rm, rv, t64(wv, [C]), t64(bv, [C]), { momentum: 0.2 });
      expectClose(flat(y.toArray()), affineRef(standardiseRef(values, 1, N * C, L, 1e-5), wv, bv, (i) => Math.floor(i / L) % C), 1e-13, 1e-14);
      // per-instance statistics, averaged over the batch (PyTorch: mean over N of the repeated update)
      const perInstance = Array.from({ length: N * C }, (_, j) => channelStats(values.slice(j * L, (j + 1) * L), 1, 1, L)[0]);
      const avg = (ch: number, k: number) => perInstance.filter((_, j) => j % C === ch).reduce((p, s) => p + s[k], 0) / N;
      expectClose(flat(rm.toArray()), [0.8 * 0.5 + 0.2 * avg(0, 0), 0.8 * -0.5 + 0.2 * avg(1, 0)], 1e-14, 1e-16);
      expectClose(flat(rv.toArray()), [0.8 * 1 + 0.2 * avg(0, 2), 0.8 * 2 + 0.2 * avg(1, 2)], 1e-14, 1e-16);
      // useInputStats false: the stored statistics, like batch norm's inference
      const z = x.instanceNorm(rm, rv, null, null, { useInputStats: false });
      const m = flat(rm.toArray()), v = flat(rv.toArray());
      expectClose(flat(z.toArray()), values.map((u, i) => { const ch = Math.floor(i / L) % C; return (u - m[ch]) / Math.sqrt(v[ch] + 1e-5); }), 1e-13, 1e-14);
    });
  });

  it('gradients; JVP; float32', () => {
    const x = rand64(shape, -2, 2, 43), w = rand64([C], 0.5, 1.5, 44), b = rand64([C], -1, 1, 45);
    checkGrad((xi, wi, bi) => wg.instanceNorm(xi, null, null, wi, bi), [x, w, b]);
    checkJvpVjp((v) => wg.instanceNorm(v, null, null, w, b), x);
    checkFloat32((v) => wg.instanceNorm(v), x, 1e-5, 1e-5);
    wg.dispose([x, w, b]);
  });

  it('rejects bad input', () => {
    const x2 = wg.ones([2, 3]), x1 = wg.ones([2, 3, 1]), x4 = wg.ones([2, 3, 4]);
    expectError(() => wg.instanceNorm(x2), wg.ShapeError, ['instanceNorm', 'rank >= 3', '[2, 3]']);
    expectError(() => wg.instanceNorm(x1), wg.ValueError, ['instanceNorm', 'more than 1 spatial element', '[2, 3, 1]']);
    expectError(() => wg.instanceNorm(x4, null, null, null, null, { useInputStats: false }), wg.ValueError,
      ['instanceNorm', 'runningMean and runningVar must be given']);
    wg.dispose([x2, x1, x4]);
  });
});

describe('localResponseNorm (crosschannelnorm)', () => {
  /** x / (k + alpha/size · Σ_{window} x²)^beta, window c − ⌊size/2⌋ … c + ⌊(size−1)/2⌋. */
  function lrnRef(values: number[], N: number, C: number, M: number, n: number, alpha: number, beta: number, k: number): number[] {
    return values.map((v, i) => {
      const m = i % M, c = Math.floor(i / M) % C, b = Math.floor(i / (M * C));
      let s = 0;
      for (let j = c - Math.floor(n / 2); j <= c + Math.floor((n - 1) / 2); j++) {
        if (j >= 0 && j < C) s += values[(b * C + j) * M + m] ** 2;
      }
      return v / (k + (alpha / n) * s) ** beta;
    });
  }

  it('matches the reference for odd and even windows, 3-D and 4-D', () => {
    wg.tidy(() => {
      const v3 = uniform(2 * 5 * 3, -2, 2, 50);
      const x3 = t64(v3, [2, 5, 3]);
      expectClose(flat(wg.localResponseNorm(x3, 3).toArray()), lrnRef(v3, 2, 5, 3, 3, 1e-4, 0.75, 1), 1e-14, 1e-15);
      expectClose(flat(x3.localResponseNorm(2, { alpha: 0.5, beta: 0.6, k: 2 }).toArray()), lrnRef(v3, 2, 5, 3, 2, 0.5, 0.6, 2), 1e-14, 1e-15);
      const v4 = uniform(2 * 4 * 2 * 3, -2, 2, 51);
      const x4 = t64(v4, [2, 4, 2, 3]);
      expectClose(flat(wg.crosschannelnorm(x4, 5, { alpha: 1, beta: 0.75, k: 1 }).toArray()), lrnRef(v4, 2, 4, 6, 5, 1, 0.75, 1), 1e-14, 1e-15);
      expectClose(flat(x4.crosschannelnorm(1, { alpha: 2 }).toArray()), lrnRef(v4, 2, 4, 6, 1, 2, 0.75, 1), 1e-14, 1e-15);
    });
  });

  it('gradients; JVP; second derivative; float32', () => {
    const x = rand64([2, 4, 3], -2, 2, 52);
    checkGrad((v) => wg.localResponseNorm(v, 3, { alpha: 0.5 }), [x]);
    checkJvpVjp((v) => wg.localResponseNorm(v, 2, { alpha: 0.5, beta: 0.7, k: 1.5 }), x);
    checkSecondOrder((v) => wg.localResponseNorm(v, 3, { alpha: 0.5 }).sum(), x);
    checkFloat32((v) => wg.localResponseNorm(v, 3, { alpha: 0.5 }), x, 1e-6, 1e-6);
    x.dispose();
  });

  it('rejects bad input', () => {
    const x2 = wg.ones([2, 3]), x3 = wg.ones([2, 3, 2]);
    expectError(() => wg.localResponseNorm(x2, 2), wg.ShapeError, ['localResponseNorm', '3D or higher', '[2, 3]']);
    expectError(() => wg.localResponseNorm(x3, 0), wg.ValueError, ['localResponseNorm', 'size must be a positive integer', '0']);
    expectError(() => wg.crosschannelnorm(x3, 2, { beta: NaN }), wg.ValueError, ['localResponseNorm', 'beta', 'NaN']);
    wg.dispose([x2, x3]);
  });
});
