// Pooling: maxPool1d/2d (indices, dilation, ceil mode), avgPool1d/2d (countIncludePad,
// divisorOverride), adaptiveAvgPool1d/2d, global pooling, maxUnpool2d — forward values against
// plain JS loops written from PyTorch's CPU kernels, gradients by finite differences, JVP
// against VJP, second derivatives, float32 against float64, and errors.

import { beforeAll, describe, expect, it } from 'vitest';
import { wg, checkGrad, expectClose, expectNoLeak, uniform, size, rand64 } from './helpers.js';
import type { Tensor } from '../src/index.js';
import { readFileSync } from 'node:fs';

beforeAll(async () => { await wg.init(); });

interface Pool2 { kernel: number[]; stride?: number[]; padding?: number[]; dilation?: number[]; ceil?: boolean }

/** PyTorch's pooling_output_shape. */
function outSize(n: number, k: number, s: number, p: number, d: number, ceil: boolean): number {
  let o = Math.floor((n + 2 * p - d * (k - 1) - 1 + (ceil ? s - 1 : 0)) / s) + 1;
  if (ceil && (o - 1) * s >= n + p) o--;
  return o;
}

/** Max pooling over the planes of [planes, H, W] data: values and flat in-plane argmax indices. */
function refMaxPool(x: number[], planes: number, H: number, W: number, o: Pool2): { values: number[]; indices: number[]; oH: number; oW: number } {
  const [kH, kW] = o.kernel, [sH, sW] = o.stride ?? o.kernel, [pH, pW] = o.padding ?? [0, 0], [dH, dW] = o.dilation ?? [1, 1];
  const oH = outSize(H, kH, sH, pH, dH, !!o.ceil), oW = outSize(W, kW, sW, pW, dW, !!o.ceil);
  const values: number[] = [], indices: number[] = [];
  for (let p = 0; p < planes; p++) for (let oh = 0; oh < oH; oh++) for (let ow = 0; ow < oW; ow++) {
    let best = -Infinity, arg = -1;
    for (let kh = 0; kh < kH; kh++) for (let kw = 0; kw < kW; kw++) {
      const h = oh * sH - pH + kh * dH, w = ow * sW - pW + kw * dW;
      if (h < 0 || h >= H || w < 0 || w >= W) continue;
      const v = x[p * H * W + h * W + w];
      if (arg < 0) arg = h * W + w; // the first in-range element, should every value be -inf
      if (v > best || Number.isNaN(v)) { best = v; arg = h * W + w; }
    }
    values.push(best); indices.push(arg);
  }
  return { values, indices, oH, oW };
}

/** Average pooling as PyTorch's cpu_avg_pool: the divisor counts padding unless told otherwise. */
function refAvgPool(x: number[], planes: number, H: number, W: number, o: Pool2 & { includePad?: boolean; divisor?: number }): { values: number[]; oH: number; oW: number } {
  const [kH, kW] = o.kernel, [sH, sW] = o.stride ?? o.kernel, [pH, pW] = o.padding ?? [0, 0];
  const oH = outSize(H, kH, sH, pH, 1, !!o.ceil), oW = outSize(W, kW, sW, pW, 1, !!o.ceil);
  const values: number[] = [];
  for (let p = 0; p < planes; p++) for (let oh = 0; oh < oH; oh++) for (let ow = 0; ow < oW; ow++) {
    const h0 = oh * sH - pH, w0 = ow * sW - pW;
    const h1 = Math.min(h0 + kH, H + pH), w1 = Math.min(w0 + kW, W + pW);
    let s = 0, count = 0;
    for (let h = Math.max(h0, 0); h < Math.min(h1, H); h++) for (let w = Math.max(w0, 0); w < Math.min(w1, W); w++) { s += x[p * H * W + h * W + w]; count++; }
    const div = o.divisor ?? (o.includePad === false ? count : (h1 - h0) * (w1 - w0));
    values.push(count === 0 ? 0 : s / div);
  }
  return { values, oH, oW };
}

function refAdaptive(x: number[], planes: number, H: number, W: number, oH: number, oW: number): number[] {
  const out: number[] = [];
  for (let p = 0; p < planes; p++) for (let i = 0; i < oH; i++) for (let j = 0; j < oW; j++) {
    const h0 = Math.floor(i * H / oH), h1 = Math.ceil((i + 1) * H / oH);
    const w0 = Math.floor(j * W / oW), w1 = Math.ceil((j + 1) * W / oW);
    let s = 0;
    for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) s += x[p * H * W + h * W + w];
    out.push(s / ((h1 - h0) * (w1 - w0)));
  }
  return out;
}

const f64 = (shape: number[], seed: number) => rand64(shape, -1, 1, seed);
const arange16 = () => wg.arange(16, { dtype: 'float64' }).reshape([1, 1, 4, 4]);

describe('known PyTorch values', () => {
  it('max and average pooling of arange(16) as a 4×4 image', () => {
    wg.tidy(() => {
      const [v, i] = wg.maxPool2d(arange16(), 2, { returnIndices: true });
      expect(v.toArray()).toEqual([[[[5, 7], [13, 15]]]]);
      expect(i.dtype).toBe('int32');
      expect(i.toArray()).toEqual([[[[5, 7], [13, 15]]]]);
      expect(wg.avgPool2d(arange16(), 2).toArray()).toEqual([[[[2.5, 4.5], [10.5, 12.5]]]]);
      expect(wg.adaptiveAvgPool2d(arange16(), 1).toArray()).toEqual([[[[7.5]]]]);
      expect(wg.globalMaxPool2d(arange16()).toArray()).toEqual([[[[15]]]]);
    });
  });

  it('ceil mode keeps the partial windows at the end', () => {
    wg.tidy(() => {
      const x = wg.arange(25, { dtype: 'float64' }).reshape([1, 1, 5, 5]);
      expect(wg.maxPool2d(x, 2, { ceilMode: true }).toArray()).toEqual([[[[6, 8, 9], [16, 18, 19], [21, 23, 24]]]]);
      expect(wg.maxPool2d(x, 2).toArray()).toEqual([[[[6, 8], [16, 18]]]]);
    });
  });

  it('countIncludePad: padding zeros count in the divisor by default', () => {
    wg.tidy(() => {
      const ones = wg.ones([1, 1, 3, 3], { dtype: 'float64' });
      expectClose(wg.avgPool2d(ones, 3, { stride: 1, padding: 1 }).toArray(), [[[[4 / 9, 6 / 9, 4 / 9], [6 / 9, 1, 6 / 9], [4 / 9, 6 / 9, 4 / 9]]]], 1e-15, 0);
      expect(wg.avgPool2d(ones, 3, { stride: 1, padding: 1, countIncludePad: false }).toArray()).toEqual([[[[1, 1, 1], [1, 1, 1], [1, 1, 1]]]]);
      expect(wg.avgPool2d(ones, 3, { stride: 1, padding: 1, divisorOverride: 2 }).toArray()).toEqual([[[[2, 3, 2], [3, 4.5, 3], [2, 3, 2]]]]);
    });
  });

  it('the max-pool gradient goes to the first maximal element of each window; NaN wins', () => {
    wg.tidy(() => {
      const g = wg.grad((x: Tensor) => wg.maxPool2d(x, 2, { stride: 1 }).sum())(wg.zeros([1, 1, 3, 3], { dtype: 'float64' }));
      // every window's first element takes its unit: windows start at (0,0), (0,1), (1,0), (1,1)
      expect(g.toArray()).toEqual([[[[1, 1, 0], [1, 1, 0], [0, 0, 0]]]]);
      const x = wg.tensor([1, NaN, 3, 2], { shape: [1, 1, 4], dtype: 'float64' });
      const [v, i] = wg.maxPool1d(x, 4, { returnIndices: true });
      expect(v.item()).toBeNaN();
      expect(i.toArray()).toEqual([[[1]]]);
      // an all -inf window picks its first in-range element
      const [, j] = wg.maxPool1d(wg.full([1, 1, 3], -Infinity, { dtype: 'float64' }), 2, { padding: 1, returnIndices: true });
      expect(j.toArray()).toEqual([[[0, 1]]]);
      // dilation 10 with padding 1 over 9 values: taps at -1 and 9 both miss, so the window is
      // empty (PyTorch gives -inf there too); its index is -1 and it takes no gradient
      const x9 = f64([1, 1, 9], 1);
      const [e, ei] = wg.maxPool1d(x9, 2, { padding: 1, dilation: 10, returnIndices: true });
      expect(e.toArray()).toEqual([[[-Infinity]]]);
      expect(ei.toArray()).toEqual([[[-1]]]);
      expect(wg.grad((t: Tensor) => wg.maxPool1d(t, 2, { padding: 1, dilation: 10 }).mul(0).sum())(x9).toArray()).toEqual([[new Array(9).fill(0)]]);
    });
  });
});

describe('maxPool forward against the reference', () => {
  const cases: { name: string; shape: number[]; o: Pool2 }[] = [
    { name: 'kernel 2', shape: [2, 3, 6, 5], o: { kernel: [2, 2] } },
    { name: 'kernel 3, stride 2, padding 1', shape: [1, 2, 7, 7], o: { kernel: [3, 3], stride: [2, 2], padding: [1, 1] } },
    { name: 'per-dim kernel and stride', shape: [2, 2, 8, 9], o: { kernel: [2, 3], stride: [1, 2], padding: [1, 0] } },
    { name: 'dilation 2', shape: [1, 3, 9, 8], o: { kernel: [3, 2], stride: [1, 1], dilation: [2, 3] } },
    { name: 'ceil mode, padding', shape: [2, 1, 7, 6], o: { kernel: [3, 2], stride: [2, 2], padding: [1, 1], ceil: true } },
    { name: 'ceil mode, dilation', shape: [1, 2, 8, 7], o: { kernel: [2, 2], stride: [3, 3], dilation: [2, 2], ceil: true } },
  ];
  for (const c of cases) {
    it(`${c.name}: values and indices`, () => {
      wg.tidy(() => {
        const x = f64(c.shape, 1);
        const [H, W] = c.shape.slice(2), planes = c.shape[0] * c.shape[1];
        const want = refMaxPool(Array.from(x.data()), planes, H, W, c.o);
        const [v, i] = wg.maxPool2d(x, c.o.kernel, { stride: c.o.stride, padding: c.o.padding, dilation: c.o.dilation, ceilMode: c.o.ceil, returnIndices: true });
        expect(v.shape).toEqual([c.shape[0], c.shape[1], want.oH, want.oW]);
        expect(Array.from(v.data())).toEqual(want.values);
        expect(Array.from(i.data())).toEqual(want.indices);
      });
    });
  }

  // float32 windows two columns wide at stride 2 take the SIMD path, four windows at a time.
  it('float32 2-wide windows: ties, -inf and NaN scanned as PyTorch (the SIMD path and its tails)', () => {
    wg.tidy(() => {
      const [planes, H, W] = [3, 7, 21];
      const data = Array.from(f64([planes, H, W], 5).data(), (v) => Math.round(v * 3) / 3); // many ties
      for (const [i, v] of [[3, NaN], [4, NaN], [30, -Infinity], [31, -Infinity], [52, -Infinity], [53, -Infinity],
        [73, -Infinity], [74, -Infinity], [100, NaN], [150, Infinity], [151, NaN]] as const) data[i] = v;
      for (let i = 0; i < 8; i++) data[2 * W + i] = data[3 * W + i] = -Infinity; // whole windows of -inf
      const x = wg.tensor(data, { shape: [1, planes, H, W] });
      for (const o of [{ kernel: [2, 2] }, { kernel: [3, 2], stride: [2, 2], ceil: true }, { kernel: [2, 2], stride: [1, 2], dilation: [3, 1] },
        { kernel: [1, 2] }] as Pool2[]) {
        const want = refMaxPool(Array.from(new Float32Array(data)), planes, H, W, o);
        const [v, i] = wg.maxPool2d(x, o.kernel, { stride: o.stride, dilation: o.dilation, ceilMode: o.ceil, returnIndices: true });
        expect(Array.from(i.data())).toEqual(want.indices);
        expect(Array.from(v.data())).toEqual(want.values);
      }
    });
  });

  // float32 2×2 windows at stride 2, at least 4 wide: the gradient's scatter (and maxUnpool's) takes
  // four windows at a time (f32 SIMD), a plane with an index outside its window the general way.
  it('float32 2×2 windows: the gradient scatter as the scalar loop (odd sizes, −0, NaN)', () => {
    wg.tidy(() => {
      for (const [planes, H, W] of [[3, 7, 21], [2, 8, 8], [2, 5, 9], [1, 3, 16]]) {
        const data = Array.from(f64([planes, H, W], 21).data(), (v) => Math.round(v * 3) / 3);
        data[1] = NaN; data[W + 2] = -Infinity;
        const x = wg.tensor(data, { shape: [1, planes, H, W] });
        const want = refMaxPool(Array.from(new Float32Array(data)), planes, H, W, { kernel: [2, 2] });
        const [v, i] = wg.maxPool2d(x, 2, { returnIndices: true });
        expect(Array.from(i.data())).toEqual(want.indices);
        expect(Array.from(v.data())).toEqual(want.values);
        // the gradient scatters ḡ (with −0s) into zeros: adding lands a −0 as +0
        const gData = Array.from(f64([planes, want.oH * want.oW], 22).data(), (g, j) => (j % 5 === 0 ? -0 : g));
        const gBar = wg.tensor(gData, { shape: v.shape });
        const dx = wg.grad((t: Tensor) => wg.maxPool2d(t, 2).mul(gBar).sum())(x);
        const wantDx = new Array<number>(planes * H * W).fill(0);
        const g32 = Array.from(new Float32Array(gData));
        want.indices.forEach((k, j) => { const at = Math.floor(j / (want.oH * want.oW)) * H * W + k; wantDx[at] += g32[j]; });
        expect(Array.from(dx.data())).toEqual(wantDx);
        // maxUnpool assigns: a −0 stays −0
        const u = wg.maxUnpool2d(gBar, i, 2, { outputSize: [H, W] });
        const wantU = new Array<number>(planes * H * W).fill(0);
        want.indices.forEach((k, j) => { wantU[Math.floor(j / (want.oH * want.oW)) * H * W + k] = g32[j]; });
        expect(Array.from(u.data())).toEqual(wantU);
      }
      // indices outside their windows (maxUnpool's are arbitrary): the general way, a later entry winning
      const idx = wg.tensor([0, 2, 4, 6, 9, 9, 15, 1], { shape: [1, 2, 1, 4], dtype: 'int32' });
      const vals = wg.tensor([1, 2, 3, 4, 5, 6, 7, 8], { shape: [1, 2, 1, 4] });
      const u = wg.maxUnpool2d(vals, idx, 2, { outputSize: [2, 8] });
      const wantU = new Array<number>(32).fill(0);
      [0, 2, 4, 6].forEach((k, j) => { wantU[k] = j + 1; });
      [9, 9, 15, 1].forEach((k, j) => { wantU[16 + k] = j + 5; });
      expect(Array.from(u.data())).toEqual(wantU);
      expect(Array.from(wg.grad((t: Tensor) => wg.maxUnpool2d(t, idx, 2, { outputSize: [2, 8] }).mul(wg.arange(32).reshape([1, 2, 2, 8])).sum())(vals).data()))
        .toEqual([0, 2, 4, 6, 25, 25, 31, 17]);
    });
  });

  it('maxPool1d, unbatched inputs and the Tensor methods', () => {
    wg.tidy(() => {
      const x = f64([2, 3, 11], 2);
      const want = refMaxPool(Array.from(x.data()), 6, 1, 11, { kernel: [1, 3], stride: [1, 2], padding: [0, 1], dilation: [1, 2], ceil: true });
      const y = x.maxPool1d(3, { stride: 2, padding: 1, dilation: 2, ceilMode: true });
      expect(y.shape).toEqual([2, 3, want.oW]);
      expect(Array.from(y.data())).toEqual(want.values);
      const u = f64([3, 5, 6], 3);
      const wantU = refMaxPool(Array.from(u.data()), 3, 5, 6, { kernel: [2, 2] });
      const [vu, iu] = u.maxPool2d(2, { returnIndices: true });
      expect(vu.shape).toEqual([3, 2, 3]);
      expect(Array.from(vu.data())).toEqual(wantU.values);
      expect(Array.from(iu.data())).toEqual(wantU.indices);
      expect(wg.maxPool1d(f64([4, 7], 4), [2]).shape).toEqual([4, 3]);
    });
  });
});

describe('avgPool and adaptive pooling against the reference', () => {
  const cases: { name: string; shape: number[]; o: Pool2 & { includePad?: boolean; divisor?: number } }[] = [
    { name: 'kernel 2', shape: [2, 3, 6, 5], o: { kernel: [2, 2] } },
    { name: 'kernel 3, stride 2, padding 1', shape: [1, 2, 7, 8], o: { kernel: [3, 3], stride: [2, 2], padding: [1, 1] } },
    { name: 'padding, countIncludePad false', shape: [1, 2, 5, 6], o: { kernel: [3, 2], stride: [1, 2], padding: [1, 1], includePad: false } },
    { name: 'ceil mode: windows past the padding shrink the divisor', shape: [2, 1, 7, 6], o: { kernel: [3, 3], stride: [2, 2], padding: [1, 0], ceil: true } },
    { name: 'ceil mode, countIncludePad false', shape: [1, 2, 6, 7], o: { kernel: [4, 2], stride: [3, 3], padding: [2, 1], ceil: true, includePad: false } },
    { name: 'divisorOverride', shape: [1, 2, 5, 5], o: { kernel: [2, 3], stride: [2, 1], padding: [1, 1], divisor: 5 } },
  ];
  for (const c of cases) {
    it(`avgPool2d ${c.name}`, () => {
      wg.tidy(() => {
        const x = f64(c.shape, 5);
        const [H, W] = c.shape.slice(2);
        const want = refAvgPool(Array.from(x.data()), c.shape[0] * c.shape[1], H, W, c.o);
        const y = wg.avgPool2d(x, c.o.kernel, { stride: c.o.stride, padding: c.o.padding, ceilMode: c.o.ceil, countIncludePad: c.o.includePad, divisorOverride: c.o.divisor });
        expect(y.shape).toEqual([c.shape[0], c.shape[1], want.oH, want.oW]);
        expectClose(y.data(), want.values, 1e-14, 1e-15);
      });
    });
  }

  it('avgPool1d (with ceil mode and padding) and an unbatched avgPool2d', () => {
    wg.tidy(() => {
      const x = f64([2, 2, 9], 6);
      const want = refAvgPool(Array.from(x.data()), 4, 1, 9, { kernel: [1, 4], stride: [1, 3], padding: [0, 2], ceil: true });
      const y = x.avgPool1d(4, { stride: 3, padding: 2, ceilMode: true });
      expect(y.shape).toEqual([2, 2, want.oW]);
      expectClose(y.data(), want.values, 1e-14, 1e-15);
      const u = f64([3, 4, 5], 7);
      expectClose(u.avgPool2d([2, 3], { stride: 1 }).data(), refAvgPool(Array.from(u.data()), 3, 4, 5, { kernel: [2, 3], stride: [1, 1] }).values, 1e-14, 1e-15);
    });
  });

  for (const [shape, out] of [[[2, 3, 7, 5], [3, 2]], [[1, 2, 5, 9], [4, 4]], [[1, 1, 4, 4], [6, 5]], [[2, 2, 6, 6], [3, 3]]] as const) {
    it(`adaptiveAvgPool2d ${shape.slice(2).join('×')} → ${out.join('×')} (PyTorch's floor/ceil windows)`, () => {
      wg.tidy(() => {
        const x = f64([...shape], 8);
        const y = wg.adaptiveAvgPool2d(x, [...out]);
        expect(y.shape).toEqual([shape[0], shape[1], ...out]);
        expectClose(y.data(), refAdaptive(Array.from(x.data()), shape[0] * shape[1], shape[2], shape[3], out[0], out[1]), 1e-14, 1e-15);
      });
    });
  }

  // PyTorch divides a window's sum by its height, then by its width (backward too): in float32 a
  // single division by the area differs in the last bit for about a quarter of these outputs.
  const adaptiveFixture = JSON.parse(readFileSync(new URL('./fixtures/adaptive-pool2d.json', import.meta.url), 'utf8'));
  for (const c of adaptiveFixture.cases as { shape: number[]; out: number[]; x: number[]; y: number[]; g: number[]; grad: number[] }[]) {
    it(`adaptiveAvgPool2d float32 ${c.shape.join('×')} → ${c.out.join('×')}: PyTorch 1.13's value and gradient bit for bit`, () => {
      wg.tidy(() => {
        const x = wg.tensor(c.x, { shape: c.shape, dtype: 'float32' });
        const g = wg.tensor(c.g, { shape: [c.shape[0], c.shape[1], ...c.out], dtype: 'float32' });
        const [y, dx] = wg.valueAndGrad((v: Tensor) => wg.adaptiveAvgPool2d(v, c.out).mul(g).sum())(x) as [Tensor, Tensor];
        y.dispose();
        expect(Array.from(wg.adaptiveAvgPool2d(x, c.out).data())).toEqual(Array.from(Float32Array.from(c.y)));
        expect(Array.from(dx.data())).toEqual(Array.from(Float32Array.from(c.grad)));
      });
    });
  }

  // Adaptive max pooling against PyTorch 1.13 (1-, 2- and 3-d, float32 and float64, ties and NaN):
  // values bit for bit, the same index per window, the gradient at those indices.
  const maxFixture = JSON.parse(readFileSync(new URL('./fixtures/adaptive-max-pool.json', import.meta.url), 'utf8'));
  type MaxCase = { nd: 1 | 2 | 3; shape: number[]; out: (number | null)[]; dtype: 'float32' | 'float64'; x: (number | null)[];
    y: (number | null)[]; indices: number[]; yShape: number[]; g: number[]; grad: number[] };
  const adaptiveMax = { 1: wg.adaptiveMaxPool1d, 2: wg.adaptiveMaxPool2d, 3: wg.adaptiveMaxPool3d } as const;
  for (const c of maxFixture.cases as MaxCase[]) {
    it(`adaptiveMaxPool${c.nd}d ${c.dtype} ${c.shape.join('×')} → ${JSON.stringify(c.out)}: PyTorch 1.13's values, indices and gradient`, () => {
      wg.tidy(() => {
        const pool = adaptiveMax[c.nd] as (x: Tensor, o: (number | null)[], opts: { returnIndices: true }) => [Tensor, Tensor];
        const typed = (v: (number | null)[]) => (c.dtype === 'float32' ? Float32Array : Float64Array).from(v.map((e) => e ?? NaN));
        const x = wg.tensor(Array.from(typed(c.x)), { shape: c.shape, dtype: c.dtype });
        const [y, indices] = pool(x, c.out, { returnIndices: true });
        expect(y.shape).toEqual(c.yShape);
        expect(Array.from(y.data())).toEqual(Array.from(typed(c.y)));
        expect(indices.dtype).toBe('int32');
        expect(Array.from(indices.data())).toEqual(c.indices);
        const g = wg.tensor(Array.from(typed(c.g)), { shape: c.yShape, dtype: c.dtype });
        const dx = wg.grad((v: Tensor) => (adaptiveMax[c.nd] as (x: Tensor, o: (number | null)[]) => Tensor)(v, c.out).mul(g).sum())(x) as Tensor;
        expect(Array.from(dx.data())).toEqual(Array.from(typed(c.grad)));
        // the layer and the method give the same values
        const method = (c.nd === 2 ? x.adaptiveMaxPool2d(c.out) : c.nd === 3 ? x.adaptiveMaxPool3d(c.out) : x.adaptiveMaxPool1d(c.out));
        expect(Array.from(method.data())).toEqual(Array.from(y.data()));
      });
    });
  }

  it('nn.AdaptiveMaxPool2d and nn.AdaptiveMaxPool3d are the ops; bad output sizes and extra arguments are named errors', () => {
    wg.tidy(() => {
      const x = wg.tensor(Array.from({ length: 2 * 3 * 5 * 6 }, (_, i) => Math.sin(i)), { shape: [2, 3, 5, 6], dtype: 'float64' });
      expect(Array.from(new wg.nn.AdaptiveMaxPool2d([2, null]).forward(x).data())).toEqual(Array.from(wg.adaptiveMaxPool2d(x, [2, 6]).data()));
      const v = x.reshape([1, 2, 3, 5, 6]);
      expect(Array.from(new wg.nn.AdaptiveMaxPool3d(2).forward(v).data())).toEqual(Array.from(wg.adaptiveMaxPool3d(v, [2, 2, 2]).data()));
      expect(() => new wg.nn.AdaptiveMaxPool2d([2, 0])).toThrow(/nn.AdaptiveMaxPool2d: outputSize must be an integer >= 1/);
      expect(() => wg.adaptiveMaxPool2d(x, [2])).toThrow(/adaptiveMaxPool2d: outputSize must be a number or a list of 2 numbers/);
      expect(() => wg.adaptiveMaxPool2d(x, 2, { returnIndex: true } as never)).toThrow(/returnIndex.*returnIndices/);
      expect(() => (wg.adaptiveAvgPool2d as (...a: unknown[]) => Tensor)(x, 2, { ceilMode: true })).toThrow(/adaptiveAvgPool2d/);
      expect(() => wg.adaptiveMaxPool1d(wg.zeros([2, 0], { dtype: 'float32' }), 2)).toThrow(/adaptiveMaxPool1d: x \[2, 0\] has an empty spatial dim/);
    });
  });

  it('adaptive pooling: a null size keeps the input size; 1-D; global pooling helpers', () => {
    wg.tidy(() => {
      const x = f64([2, 3, 5, 4], 9);
      const y = x.adaptiveAvgPool2d([2, null]);
      expect(y.shape).toEqual([2, 3, 2, 4]);
      expectClose(y.data(), refAdaptive(Array.from(x.data()), 6, 5, 4, 2, 4), 1e-14, 1e-15);
      const l = f64([2, 7], 10);
      expectClose(wg.adaptiveAvgPool1d(l, 3).data(), refAdaptive(Array.from(l.data()), 2, 1, 7, 1, 3), 1e-14, 1e-15);
      const mean = x.globalAvgPool2d();
      expect(mean.shape).toEqual([2, 3, 1, 1]);
      expectClose(mean.data(), x.mean([2, 3]).data(), 1e-14, 1e-15);
      const mx = x.globalMaxPool2d();
      expect(mx.shape).toEqual([2, 3, 1, 1]);
      expect(Array.from(mx.data())).toEqual(Array.from(x.amax([2, 3]).data()));
    });
  });
});

describe('maxUnpool2d', () => {
  it('puts each value back at its index, zeros elsewhere; round trip with maxPool2d', () => {
    wg.tidy(() => {
      const [v, i] = wg.maxPool2d(arange16(), 2, { returnIndices: true });
      const u = wg.maxUnpool2d(v, i, 2);
      expect(u.toArray()).toEqual([[[[0, 0, 0, 0], [0, 5, 0, 7], [0, 0, 0, 0], [0, 13, 0, 15]]]]);
      // an odd input: the default size is 4×4, outputSize restores 5×5 (as in PyTorch's docs)
      const x = f64([2, 3, 5, 5], 11);
      const [v5, i5] = x.maxPool2d(2, { returnIndices: true });
      const u5 = v5.maxUnpool2d(i5, 2, { outputSize: x.shape });
      expect(u5.shape).toEqual([2, 3, 5, 5]);
      const xs = Array.from(x.data()), us = Array.from(u5.data());
      const idx = Array.from(i5.data()), vals = Array.from(v5.data());
      const want = new Array<number>(xs.length).fill(0);
      idx.forEach((k, j) => { want[Math.floor(j / 4) * 25 + k] = vals[j]; });
      expect(us).toEqual(want);
      expect(wg.maxUnpool2d(v5, i5, 2, { outputSize: [5, 5] }).toArray()).toEqual(u5.toArray());
    });
  });

  it('gradient: the values at the indices', () => {
    wg.tidy(() => {
      const [, i] = wg.maxPool2d(f64([1, 2, 4, 6], 12), [2, 3], { returnIndices: true });
      checkGrad((v) => wg.maxUnpool2d(v, i, [2, 3], { stride: [2, 3] }), [f64([1, 2, 2, 2], 13)]);
    });
  });
});

describe('pooling gradients (float64 finite differences)', () => {
  const combos: [string, (x: Tensor) => Tensor, number[]][] = [
    ['maxPool2d kernel 3, stride 2, padding 1', (x) => wg.maxPool2d(x, 3, { stride: 2, padding: 1 }), [2, 2, 5, 6]],
    ['maxPool2d overlapping windows, dilation, ceil mode', (x) => wg.maxPool2d(x, 2, { stride: 1, dilation: [2, 1], ceilMode: true }), [1, 2, 5, 4]],
    ['maxPool1d unbatched', (x) => wg.maxPool1d(x, 3, { stride: 2, padding: 1, ceilMode: true }), [3, 8]],
    ['avgPool2d padding, countIncludePad false, ceil mode', (x) => wg.avgPool2d(x, 3, { stride: 2, padding: 1, countIncludePad: false, ceilMode: true }), [2, 1, 6, 5]],
    ['avgPool2d divisorOverride', (x) => wg.avgPool2d(x, [2, 3], { stride: 1, divisorOverride: 4 }), [1, 2, 4, 5]],
    ['avgPool1d', (x) => wg.avgPool1d(x, 3, { stride: 2, padding: 1 }), [2, 2, 7]],
    ['adaptiveAvgPool2d', (x) => wg.adaptiveAvgPool2d(x, [3, 2]), [2, 2, 5, 5]],
    ['globalMaxPool2d', (x) => wg.globalMaxPool2d(x), [2, 2, 3, 3]],
  ];
  for (const [name, f, shape] of combos) {
    it(name, () => { wg.tidy(() => { checkGrad(f, [f64(shape, 14)]); }); });
  }

  it('JVP against VJP for max, average and adaptive pooling and maxUnpool', () => {
    wg.tidy(() => {
      const [, idx] = wg.maxPool2d(f64([2, 2, 6, 6], 15), 2, { returnIndices: true });
      const fs: [(x: Tensor) => Tensor, number[]][] = [
        [(x) => wg.maxPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true }), [2, 2, 6, 7]],
        [(x) => wg.avgPool2d(x, 3, { stride: 2, padding: 1, countIncludePad: false }), [2, 2, 6, 7]],
        [(x) => wg.adaptiveAvgPool2d(x, 4), [1, 3, 7, 6]],
        [(x) => wg.maxUnpool2d(x, idx, 2), [2, 2, 3, 3]],
      ];
      fs.forEach(([f, shape], k) => {
        const x = f64(shape, 16 + k), u = f64(shape, 20 + k);
        const [y, ydot] = wg.jvp(f, [x], [u]);
        const v = f64(y.shape, 24 + k);
        const g = wg.grad((p: Tensor) => f(p).mul(v).sum())(x);
        const lhs = (ydot as Tensor).mul(v).sum().item() as number;
        expectClose(lhs, g.mul(u).sum().item(), 1e-12, 1e-12);
        expect(Math.abs(lhs)).toBeGreaterThan(1e-3);
      });
    });
  });

  it('second derivatives: grad of a gradient-based scalar, and Hessian-vector products', () => {
    wg.tidy(() => {
      // F(x) = Σ (∂/∂x Σ pool(x)³)²: differentiates the scatter and the average adjoint again
      const F = (pool: (x: Tensor) => Tensor) => (x: Tensor) => wg.grad((p: Tensor) => pool(p).pow(3).sum())(x).square().sum();
      checkGrad(F((x) => wg.maxPool2d(x, 2, { stride: 1 })), [f64([1, 2, 4, 4], 30)], { rtol: 1e-5, atol: 1e-6 });
      checkGrad(F((x) => wg.avgPool2d(x, 2, { stride: 1, padding: 1 })), [f64([1, 2, 3, 4], 31)], { rtol: 1e-5, atol: 1e-6 });
      checkGrad(F((x) => wg.adaptiveAvgPool2d(x, 2)), [f64([1, 1, 5, 3], 32)], { rtol: 1e-5, atol: 1e-6 });
      const loss = (x: Tensor) => wg.avgPool2d(wg.maxPool2d(x, 2, { stride: 1 }).tanh(), 2).sum();
      const x = f64([1, 2, 5, 5], 33), v = f64([1, 2, 5, 5], 34);
      const eps = 1e-5;
      const numeric = wg.grad(loss)(x.add(v.mul(eps))).sub(wg.grad(loss)(x.sub(v.mul(eps)))).div(2 * eps);
      expectClose(wg.hvp(loss)(x, v).data(), numeric.data(), 1e-6, 1e-7);
    });
  });
});

describe('float32', () => {
  it('pooling values and gradients agree with float64', () => {
    wg.tidy(() => {
      const x = f64([2, 3, 7, 6], 40);
      const f = (x: Tensor) => wg.maxPool2d(x, 2, { padding: 1 }).add(wg.avgPool2d(x, 2, { padding: 1 })).square().sum()
        .add(wg.adaptiveAvgPool2d(x, 3).sum());
      const [y64, g64] = wg.valueAndGrad(f)(x);
      const [y32, g32] = wg.valueAndGrad(f)(x.float());
      expect(g32.dtype).toBe('float32');
      expectClose(y32.item(), y64.item(), 1e-5, 0);
      expectClose(g32.data(), g64.data(), 1e-5, 1e-6);
      const [, i32] = wg.maxPool2d(x.float(), 3, { stride: 2, returnIndices: true });
      const [, i64] = wg.maxPool2d(x, 3, { stride: 2, returnIndices: true });
      expect(i32.toArray()).toEqual(i64.toArray());
    });
  });
});

describe('memory', () => {
  it('pooling with indices and its gradient leave no tensors behind', () => {
    const x = f64([2, 2, 6, 6], 41);
    expectNoLeak(() => {
      wg.tidy(() => { wg.grad((x: Tensor) => wg.maxPool2d(x, 2).add(wg.avgPool2d(x, 2)).sum())(x); });
      const [v, i] = wg.maxPool2d(x, 2, { returnIndices: true });
      v.dispose(); i.dispose();
      wg.maxPool2d(x, 2).dispose();
    });
    x.dispose();
  });
});

describe('bad input', () => {
  const x = () => f64([1, 2, 5, 5], 50);
  const cases: [string, () => unknown, new (...a: any[]) => Error, RegExp][] = [
    ['maxPool2d on rank 2', () => wg.maxPool2d(f64([5, 5], 1), 2), wg.ShapeError, /maxPool2d: x must have rank 3 \(C, H, W\) or 4 \(N, C, H, W\), got shape \[5, 5\]/],
    ['maxPool1d on rank 4', () => wg.maxPool1d(x(), 2), wg.ShapeError, /maxPool1d: x must have rank 2 \(C, L\) or 3 \(N, C, L\), got shape \[1, 2, 5, 5\]/],
    ['kernel larger than the padded input', () => wg.maxPool2d(x(), [3, 8], { padding: [0, 1] }), wg.ShapeError,
      /maxPool2d: kernel \[3, 8\] is larger than the padded input: x \[1, 2, 5, 5\], padding \[0, 1\] give output size \[1, 0\]/],
    ['dilated kernel larger than the input', () => wg.maxPool2d(x(), 2, { dilation: 5 }), wg.ShapeError, /maxPool2d: kernel \[2, 2\] with dilation \[5, 5\] is larger than the padded input/],
    ['padding above half the kernel', () => wg.avgPool2d(x(), 2, { padding: [1, 2] }), wg.ValueError, /avgPool2d: padding \[1, 2\] must be at most half the kernel size \[2, 2\]/],
    ['stride 0', () => wg.maxPool2d(x(), 2, { stride: 0 }), wg.ValueError, /maxPool2d: stride must be positive integers, got 0/],
    ['kernel 0', () => wg.avgPool1d(f64([2, 5], 2), 0), wg.ValueError, /avgPool1d: kernelSize must be positive integers, got 0/],
    ['kernel of the wrong length', () => wg.maxPool2d(x(), [2, 2, 2]), wg.ValueError, /maxPool2d: kernelSize needs 2 values \(one per spatial dim\), got \[2, 2, 2\]/],
    ['divisorOverride 0', () => wg.avgPool2d(x(), 2, { divisorOverride: 0 }), wg.ValueError, /avgPool2d: divisorOverride must be a non-zero integer, got 0/],
    ['int32 input', () => wg.maxPool2d(wg.zeros([1, 1, 4, 4], { dtype: 'int32' }), 2), wg.DTypeError, /maxPool2d: x is a int32 tensor of shape \[1, 1, 4, 4\]; pooling takes float32 or float64 tensors/],
    ['adaptive output size 0', () => wg.adaptiveAvgPool2d(x(), [0, 2]), wg.ValueError, /adaptiveAvgPool2d: outputSize must be positive integers, got \[0, 2\]/],
    ['adaptive output size of the wrong length', () => wg.adaptiveAvgPool2d(x(), [2]), wg.ValueError, /adaptiveAvgPool2d: outputSize must be a number or a list of 2 numbers/],
    ['adaptive pooling of an empty plane', () => wg.adaptiveAvgPool2d(wg.zeros([1, 1, 0, 3], { dtype: 'float64' }), 2), wg.ShapeError,
      /adaptiveAvgPool2d: x \[1, 1, 0, 3\] has an empty spatial dim/],
    ['maxUnpool2d with float indices', () => wg.maxUnpool2d(x(), x(), 2), wg.DTypeError, /maxUnpool2d: indices must be an int32 tensor \(as maxPool2d returns\), got float64/],
    ['maxUnpool2d with indices of another shape', () => wg.maxUnpool2d(x(), wg.zeros([1, 2, 5, 4], { dtype: 'int32' }), 2), wg.ShapeError,
      /maxUnpool2d: indices \[1, 2, 5, 4\] must have the shape of x \[1, 2, 5, 5\]/],
    ['maxUnpool2d with an index outside the output', () => wg.maxUnpool2d(f64([1, 1, 2, 2], 3), wg.tensor([0, 1, 2, 16], { shape: [1, 1, 2, 2], dtype: 'int32' }), 2), wg.ValueError,
      /maxUnpool2d: index 16 \(indices element 3\) is outside the output plane of 4×4 = 16 values/],
    ['maxUnpool2d with an output size out of range', () => wg.maxUnpool2d(f64([1, 1, 2, 2], 4), wg.zeros([1, 1, 2, 2], { dtype: 'int32' }), 2, { outputSize: [6, 4] }), wg.ValueError,
      /maxUnpool2d: invalid outputSize \[6, 4\]: dim 0 must be between 2 and 6 \(exclusive\), got 6/],
  ];
  for (const [name, fn, cls, msg] of cases) {
    it(`${name}: ${cls.name}`, () => {
      wg.tidy(() => {
        let error: unknown;
        try { fn(); } catch (e) { error = e; }
        expect(error).toBeInstanceOf(cls);
        expect((error as Error).message).toMatch(msg);
        expect(wg.maxPool2d(arange16(), 4).item()).toBe(15); // the runtime keeps working
      });
    });
  }
});
