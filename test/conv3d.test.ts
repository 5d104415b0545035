// 3-D convolution and pooling: conv3d, convTranspose3d, maxPool3d, avgPool3d, adaptiveAvgPool3d
// and their nn layers. Values and gradients against PyTorch 1.13 (test/fixtures/conv3d.json, made
// by test/fixtures/make_conv3d.py), gradients by central finite differences, float32 pooling bit
// for bit, errors named, nothing leaked. JVPs and second derivatives: test/op-rules.test.ts.

import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { wg, checkGrad, expectClose, expectError, expectNoLeak, expectSameBits, flat, uniform, size } from './helpers.js';
import type { Tensor } from '../src/index.js';

beforeAll(async () => { await wg.init(); });

const fixture = JSON.parse(readFileSync(new URL('./fixtures/conv3d.json', import.meta.url), 'utf8'));
const cases = fixture.cases;

/** make_conv3d.py's values(n, seed, ties): the same IEEE operations, so the same doubles. */
function values(n: number, seed: number, ties = false): number[] {
  return Array.from({ length: n }, (_, i) => (ties ? ((i * 7 + seed) % 5) - 2 : ((i * 37 + seed * 101) % 211) / 105.5 - 1));
}
const make = (shape: number[], seed: number, dtype: 'float32' | 'float64' = 'float64', ties = false): Tensor =>
  wg.tensor(values(size(shape), seed, ties), { shape, dtype });

/** PyTorch's snake_case options as ours. */
function camel(o: Record<string, unknown>): Record<string, any> {
  const out: Record<string, any> = {};
  for (const [k, v] of Object.entries(o)) out[k.replace(/_([a-z])/g, (_, c) => c.toUpperCase())] = v;
  return out;
}

/**
 * Checks op against one fixture case: the float64 value, the float64 gradients of sum(y·gy), and
 * the float32 value (bit for bit where `bits32`, else to float32 rounding).
 */
function againstTorch(c: any, shapes: number[][], seeds: number[], op: (...xs: Tensor[]) => Tensor, bits32: boolean, ties = false): void {
  expectNoLeak(() => wg.tidy(() => {
    const xs = shapes.map((s, i) => make(s, seeds[i], 'float64', ties && i === 0));
    const gy = make(c.shape, 99);
    const [y, grads] = wg.valueAndGrad((...a: Tensor[]) => op(...a).mul(gy).sum(), { argnums: xs.map((_, i) => i) })(...xs);
    const out = op(...xs);
    expect(out.shape).toEqual(c.shape);
    expectClose(out.data(), c.y, 1e-12, 1e-13);
    (grads as Tensor[]).forEach((g, i) => expectClose(g.data(), c.grads[i], 1e-12, 1e-13));
    expect(Number.isFinite(y.item())).toBe(true);
    const y32 = op(...shapes.map((s, i) => make(s, seeds[i], 'float32', ties && i === 0)));
    expect(y32.dtype).toBe('float32');
    const want32 = (c.y32 as number[]).map(Math.fround);
    if (bits32) expectSameBits(y32.data(), want32, 'float32 output');
    else expectClose(y32.data(), want32, 2e-6, 2e-6);
  }));
}

const seeded = (shape: number[], seed: number): Tensor => wg.tensor(uniform(size(shape), -1, 1, seed), { shape, dtype: 'float64' });

/** Plain-loop conv3d (groups, stride, padding before each dim, dilation), for a check independent of PyTorch. */
function refConv3d(x: Tensor, w: Tensor, stride: number[], pad: number[], dil: number[], groups: number, out: number[]): number[] {
  const [N, C, D, H, W] = x.shape, [O, Cg, kD, kH, kW] = w.shape;
  const xv = flat(x.toArray()), wv = flat(w.toArray());
  const Og = O / groups;
  const y: number[] = [];
  for (let n = 0; n < N; n++) for (let o = 0; o < O; o++) {
    const g = Math.floor(o / Og);
    for (let a = 0; a < out[0]; a++) for (let b = 0; b < out[1]; b++) for (let e = 0; e < out[2]; e++) {
      let s = 0;
      for (let c = 0; c < Cg; c++) for (let i = 0; i < kD; i++) for (let j = 0; j < kH; j++) for (let k = 0; k < kW; k++) {
        const d = a * stride[0] - pad[0] + i * dil[0], h = b * stride[1] - pad[1] + j * dil[1], q = e * stride[2] - pad[2] + k * dil[2];
        if (d < 0 || d >= D || h < 0 || h >= H || q < 0 || q >= W) continue;
        s += wv[(((o * Cg + c) * kD + i) * kH + j) * kW + k] * xv[((((n * C + g * Cg + c) * D + d) * H + h) * W + q)];
      }
      y.push(s);
    }
  }
  return y;
}

describe('conv3d', () => {
  it('values and gradients as PyTorch: groups, stride, padding (numbers, same, valid), dilation, bias, unbatched', () => {
    for (const c of cases.conv3d) {
      const shapes = [c.x, c.w, ...(c.bias ? [[c.w[0]]] : [])];
      againstTorch(c, shapes, [1, 2, 3], (x, w, b) => wg.conv3d(x, w, b ?? null, camel(c.opts)), false);
    }
  });

  it('against a plain loop, the method form, and the kernel chunked over a large batch', () => {
    expectNoLeak(() => wg.tidy(() => {
      const x = seeded([3, 4, 4, 5, 3], 11), w = seeded([6, 2, 2, 3, 2], 12);
      const y = x.conv3d(w, null, { stride: [2, 1, 1], padding: [1, 1, 0], dilation: [1, 1, 2], groups: 2 });
      expect(y.shape).toEqual([3, 6, 3, 5, 1]);
      expectClose(y.data(), refConv3d(x, w, [2, 1, 1], [1, 1, 0], [1, 1, 2], 2, [3, 5, 1]), 1e-13, 1e-14);
      // A batch whose columns exceed one chunk (4M elements) gives the image-by-image values.
      const big = seeded([9, 2, 10, 24, 24], 13), k = seeded([2, 2, 3, 3, 3], 14);
      const whole = wg.conv3d(big, k, null, { padding: 1 });
      const one = wg.conv3d(big.slice(0, 8, 9), k, null, { padding: 1 });
      expect(Array.from(whole.data()).slice(-one.numel())).toEqual(Array.from(one.data()));
      const [, [gx, gw]] = wg.valueAndGrad((a: Tensor, b: Tensor) => wg.conv3d(a, b, null, { padding: 1 }).square().sum(), { argnums: [0, 1] })(big, k);
      const [, [gx1, gw1]] = wg.valueAndGrad((a: Tensor, b: Tensor) => wg.conv3d(a, b, null, { padding: 1 }).square().sum(), { argnums: [0, 1] })(big.slice(0, 8, 9), k);
      expect(Array.from(gx.data()).slice(-gx1.numel())).toEqual(Array.from(gx1.data()));
      expect(gw.shape).toEqual(gw1.shape);
    }));
  });

  it('gradients of x, weight and bias by central finite differences', () => {
    checkGrad((x, w, b) => wg.conv3d(x, w, b, { stride: [1, 2, 1], padding: [1, 0, 1], groups: 2 }),
      [seeded([2, 4, 3, 4, 3], 21), seeded([4, 2, 2, 2, 3], 22), seeded([4], 23)]);
    checkGrad((x, w) => wg.conv3d(x, w, null, { padding: 'same', dilation: [2, 1, 1] }), [seeded([3, 4, 3, 4], 24), seeded([2, 3, 2, 2, 2], 25)]);
  });
});

describe('convTranspose3d', () => {
  it('values and gradients as PyTorch: stride, padding, outputPadding, groups, dilation, bias, unbatched', () => {
    for (const c of cases.convTranspose3d) {
      const shapes = [c.x, c.w, ...(c.bias ? [[c.w[1] * (c.opts.groups ?? 1)]] : [])];
      againstTorch(c, shapes, [4, 5, 6], (x, w, b) => wg.convTranspose3d(x, w, b ?? null, camel(c.opts)), false);
    }
  });

  it("is conv3d's input gradient (the adjoint), and differentiates by finite differences", () => {
    expectNoLeak(() => wg.tidy(() => {
      // ⟨conv3d(x, w), y⟩ = ⟨x, convTranspose3d(y, w)⟩
      const x = seeded([2, 3, 5, 4, 5], 31), w = seeded([4, 3, 2, 3, 2], 32);
      const opts = { stride: [2, 1, 2], padding: [1, 1, 0], dilation: [1, 1, 2] };
      const y = wg.conv3d(x, w, null, opts);
      const v = seeded(y.shape, 33);
      const back = wg.convTranspose3d(v, w, null, { ...opts, outputPadding: [1, 0, 0] });
      expect(back.shape).toEqual(x.shape);
      expectClose(y.mul(v).sum().item(), x.mul(back).sum().item(), 1e-12, 1e-12);
    }));
    checkGrad((x, w, b) => wg.convTranspose3d(x, w, b, { stride: 2, padding: [0, 1, 0], outputPadding: [1, 0, 1], groups: 2 }),
      [seeded([1, 2, 2, 3, 2], 34), seeded([2, 2, 2, 3, 2], 35), seeded([4], 36)]);
  });
});

describe('maxPool3d', () => {
  it('values, indices and gradients as PyTorch: stride, padding, dilation, ceilMode, unbatched, ties; float32 bit for bit', () => {
    for (const c of cases.maxPool3d) {
      const opts = camel(c.opts);
      againstTorch(c, [c.x], [7], (x) => wg.maxPool3d(x, c.kernel, opts), true, c.ties);
      wg.tidy(() => {
        const [values, indices] = wg.maxPool3d(make(c.x, 7, 'float64', c.ties), c.kernel, { ...opts, returnIndices: true });
        expect(indices.dtype).toBe('int32');
        expect(indices.shape).toEqual(values.shape);
        expect(Array.from(indices.data())).toEqual(c.indices);
      });
    }
  });

  it('a NaN wins its window (PyTorch) and gets the gradient; the method form; gradient by finite differences', () => {
    expectNoLeak(() => wg.tidy(() => {
      const v = values(16, 3);
      v[5] = NaN;
      const x = wg.tensor(v, { shape: [1, 1, 2, 2, 4], dtype: 'float64' });
      const [y, idx] = x.maxPool3d([2, 2, 2], { returnIndices: true });
      // window 2 holds elements 2, 3, 6, 7, 10, 11, 14, 15, whose largest is element 3
      expect(Array.from(idx.data())).toEqual([5, 3]);
      expect(Number.isNaN(y.data()[0])).toBe(true);
      const [, g] = wg.valueAndGrad((t: Tensor) => wg.maxPool3d(t, 2).sum())(x);
      expect(Array.from(g.data()).map((e, i) => (e === 1 ? i : -1)).filter((i) => i >= 0)).toEqual([3, 5]);
    }));
    checkGrad((x) => wg.maxPool3d(x, [2, 3, 2], { stride: [1, 2, 1], padding: [1, 1, 0] }), [seeded([2, 2, 3, 5, 4], 41)]);
  });
});

describe('avgPool3d', () => {
  it('values and gradients as PyTorch: padding, countIncludePad, ceilMode, divisorOverride, unbatched; float32 bit for bit', () => {
    for (const c of cases.avgPool3d) againstTorch(c, [c.x], [8], (x) => wg.avgPool3d(x, c.kernel, camel(c.opts)), true);
  });

  it('gradients by finite differences; the method form', () => {
    checkGrad((x) => wg.avgPool3d(x, 3, { stride: 2, padding: 1, countIncludePad: false, ceilMode: true }), [seeded([1, 2, 4, 5, 4], 51)]);
    expectNoLeak(() => wg.tidy(() => {
      // divisorOverride divides each window's sum once: the sums (divisor 1) over 3.
      const x = seeded([2, 3, 4, 4], 52);
      const sums = Array.from(wg.avgPool3d(x, 2, { divisorOverride: 1 }).data());
      expectSameBits(x.avgPool3d(2, { divisorOverride: 3 }).data(), sums.map((v) => v / 3), 'divisorOverride 3');
    }));
  });
});

describe('adaptiveAvgPool3d', () => {
  it('values and gradients as PyTorch (null keeps a dim, one number, upsampling); float32 bit for bit', () => {
    // PyTorch takes a 1×1×1 output as mean() over the volume, whose float32 sum runs in another
    // order: the same to float32 rounding there, bit for bit everywhere else.
    for (const c of cases.adaptiveAvgPool3d) againstTorch(c, [c.x], [9], (x) => wg.adaptiveAvgPool3d(x, c.out), c.out !== 1);
  });

  it('gradient by finite differences; the method form', () => {
    checkGrad((x) => x.adaptiveAvgPool3d([2, 3, 2]), [seeded([1, 2, 5, 4, 3], 61)]);
  });
});

describe('bad input is named; the runtime keeps working', () => {
  it('conv3d and convTranspose3d', () => {
    const x = wg.zeros([1, 4, 3, 3, 3]), w = wg.zeros([2, 4, 2, 2, 2]);
    expectError(() => wg.conv3d(wg.zeros([4, 3, 3]), w), wg.ShapeError, 'conv3d: x must have rank 4 (C, D, H, W) or 5 (N, C, D, H, W)', '[4, 3, 3]');
    expectError(() => wg.conv3d(x, wg.zeros([2, 4, 2, 2])), wg.ShapeError, 'conv3d: weight must have rank 5 (out, in/groups, kD, kH, kW)');
    expectError(() => wg.conv3d(x, wg.zeros([2, 3, 2, 2, 2])), wg.ShapeError, 'conv3d', 'has 4 channels', 'expects 3');
    expectError(() => wg.conv3d(x, wg.zeros([3, 2, 2, 2, 2]), null, { groups: 2 }), wg.ShapeError, 'conv3d: groups 2 must divide the output channels');
    expectError(() => wg.conv3d(x, wg.zeros([2, 4, 4, 2, 2])), wg.ShapeError, 'conv3d: kernel 4×2×2', 'larger than the padded input 3×3×3');
    expectError(() => wg.conv3d(x, w, null, { padding: 'same', stride: 2 }), wg.ValueError, "conv3d: padding 'same' needs stride 1");
    expectError(() => wg.conv3d(x, w, null, { stride: [1, 2] }), wg.ValueError, 'conv3d: stride needs 3 values');
    expectError(() => wg.conv3d(x, w, null, { dilation: 0 }), wg.ValueError, 'conv3d: dilation must be positive integers');
    expectError(() => wg.conv3d(x, w, null, { padding: 'full' as any }), wg.ValueError, "conv3d: padding must be a number, a list of numbers, 'same' or 'valid'");
    expectError(() => wg.conv3d(x, w, wg.zeros([3])), wg.ShapeError, 'conv3d: bias must have shape [2]');
    expectError(() => wg.conv3d(x, w.to('float64')), wg.DTypeError, 'conv3d: cannot mix float32 and float64');
    expectError(() => wg.conv3d(x.to('int32'), w), wg.DTypeError, 'conv3d: x is a int32 tensor');
    expectError(() => wg.conv3d(x, w, null, { stides: 1 } as any), wg.ValueError, 'conv3d', 'stides', 'stride');
    expectError(() => wg.convTranspose3d(x, wg.zeros([3, 2, 2, 2, 2])), wg.ShapeError, 'convTranspose3d', 'has 4 channels', 'expects 3');
    expectError(() => wg.convTranspose3d(x, wg.zeros([4, 2, 2, 2, 2]), null, { outputPadding: 1 }), wg.ValueError, 'convTranspose3d: outputPadding 1 must be smaller than stride');
    expectError(() => wg.convTranspose3d(x, wg.zeros([4, 2, 2, 2, 2]), null, { padding: 3 }), wg.ShapeError, 'convTranspose3d: the output size', 'is not positive');
    expectError(() => wg.convTranspose3d(x, wg.zeros([4, 2, 2, 2, 2]), null, { padding: 'same' as any }), wg.ValueError, 'convTranspose3d: padding must be a number');
    x.dispose();
    expectError(() => wg.conv3d(x, w), wg.DisposedError, 'conv3d');
    w.dispose();
  });

  it('pooling', () => {
    const x = wg.zeros([1, 2, 4, 4, 4]);
    expectError(() => wg.maxPool3d(wg.zeros([2, 4, 4]), 2), wg.ShapeError, 'maxPool3d: x must have rank 4 (C, D, H, W) or 5 (N, C, D, H, W)');
    expectError(() => wg.maxPool3d(x, [2, 2]), wg.ValueError, 'maxPool3d: kernelSize needs 3 values');
    expectError(() => wg.maxPool3d(x, 2, { padding: 2 }), wg.ValueError, 'maxPool3d: padding [2, 2, 2] must be at most half the kernel size [2, 2, 2]');
    expectError(() => wg.maxPool3d(x, 5), wg.ShapeError, 'maxPool3d: kernel [5, 5, 5] is larger than the padded input');
    expectError(() => wg.maxPool3d(x, 2, { returnIndex: true } as any), wg.ValueError, 'maxPool3d', 'returnIndex');
    expectError(() => wg.avgPool3d(x, 2, { divisorOverride: 0 }), wg.ValueError, 'avgPool3d: divisorOverride must be a non-zero integer');
    expectError(() => wg.avgPool3d(x, 2, { dilation: 2 } as any), wg.ValueError, 'avgPool3d', 'dilation');
    expectError(() => wg.avgPool3d(x.to('int32'), 2), wg.DTypeError, 'avgPool3d: x is a int32 tensor');
    expectError(() => wg.adaptiveAvgPool3d(x, [2, 2]), wg.ValueError, 'adaptiveAvgPool3d: outputSize must be a number or a list of 3 numbers');
    expectError(() => wg.adaptiveAvgPool3d(x, 0), wg.ValueError, 'adaptiveAvgPool3d: outputSize must be positive integers');
    expectError(() => wg.adaptiveAvgPool3d(wg.zeros([1, 2, 0, 3, 3]), 2), wg.ShapeError, 'adaptiveAvgPool3d', 'empty spatial dim');
    x.dispose();
  });
});

describe('nn.Conv3d, nn.ConvTranspose3d and the 3-D pooling layers', () => {
  it("PyTorch's parameter shapes, names and default init (kaiming-uniform a = √5, bias U(±1/√fan_in)); forward is the op", () => {
    expectNoLeak(() => {
      wg.seed(5);
      const conv = new wg.nn.Conv3d(4, 6, [3, 2, 2], { groups: 2, padding: 1, stride: [1, 2, 2] });
      expect(conv.weight.shape).toEqual([6, 2, 3, 2, 2]);
      expect(conv.bias!.shape).toEqual([6]);
      expect(Object.keys(conv.stateDict())).toEqual(['weight', 'bias']);
      const bound = 1 / Math.sqrt(2 * 3 * 2 * 2);
      for (const t of [conv.weight, conv.bias!]) expect(flat(t.toArray()).every((v) => Math.abs(v) <= bound)).toBe(true);
      wg.seed(5);
      const wantW = wg.nn.init.kaimingUniform([6, 2, 3, 2, 2], { a: Math.sqrt(5) });
      expectSameBits(conv.weight.data(), wantW.data(), 'Conv3d weight');
      const convT = new wg.nn.ConvTranspose3d(4, 6, 2, { groups: 2, stride: 2, bias: false });
      expect(convT.weight.shape).toEqual([4, 3, 2, 2, 2]);
      expect(convT.bias).toBeUndefined();
      // ConvTranspose's fan_in is weight dim 1 × the kernel, as PyTorch's
      expect(flat(convT.weight.toArray()).every((v) => Math.abs(v) <= 1 / Math.sqrt(3 * 8))).toBe(true);
      wg.tidy(() => {
        const x = seeded([2, 4, 3, 4, 4], 71).to('float32');
        expectSameBits(conv.call(x).data(), wg.conv3d(x, conv.weight, conv.bias, { groups: 2, padding: 1, stride: [1, 2, 2] }).data(), 'Conv3d forward');
        expectSameBits(convT.call(x).data(), wg.convTranspose3d(x, convT.weight, null, { groups: 2, stride: 2 }).data(), 'ConvTranspose3d forward');
        const mp = new wg.nn.MaxPool3d(2, { stride: 1, padding: 1 });
        expectSameBits(mp.call(x).data(), wg.maxPool3d(x, 2, { stride: 1, padding: 1 }).data(), 'MaxPool3d');
        const ap = new wg.nn.AvgPool3d([1, 2, 2], { countIncludePad: false, padding: [0, 1, 1] });
        expectSameBits(ap.call(x).data(), wg.avgPool3d(x, [1, 2, 2], { countIncludePad: false, padding: [0, 1, 1] }).data(), 'AvgPool3d');
        const aap = new wg.nn.AdaptiveAvgPool3d([null, 2, 3]);
        expect(aap.call(x).shape).toEqual([2, 4, 3, 2, 3]);
        expect(mp.parameters()).toEqual([]);
        expect(String(conv)).toContain('Conv3d(4, 6, kernelSize=(3, 2, 2)');
      });
      const net = new wg.nn.Sequential(conv, new wg.nn.MaxPool3d(2), new wg.nn.Flatten());
      expect(Object.keys(net.stateDict())).toEqual(['0.weight', '0.bias']);
      for (const m of [convT, conv]) m.dispose();
      wantW.dispose();
    });
  });

  it('layer settings are checked at construction, named', () => {
    expectError(() => new wg.nn.Conv3d(4, 6, [3, 2]), wg.ValueError, 'nn.Conv3d: kernelSize must be an integer >= 1 or a list of 3');
    expectError(() => new wg.nn.Conv3d(4, 6, 3, { groups: 3 }), wg.ValueError, 'nn.Conv3d: inChannels (4) must be divisible by groups (3)');
    expectError(() => new wg.nn.Conv3d(4, 6, 3, { padding: 'same', stride: 2 }), wg.ValueError, "nn.Conv3d: padding 'same'");
    expectError(() => new wg.nn.ConvTranspose3d(4, 6, 3, { outputPadding: 2, stride: 2 }), wg.ValueError, 'nn.ConvTranspose3d: outputPadding must be smaller');
    expectError(() => new wg.nn.MaxPool3d(2, { padding: 2 }), wg.ValueError, 'nn.MaxPool3d: padding must be at most half the kernel size');
    expectError(() => new wg.nn.AvgPool3d(2, { divisorOverride: 0 }), wg.ValueError, 'nn.AvgPool3d: divisorOverride must be a non-zero integer');
    expectError(() => new wg.nn.AdaptiveAvgPool3d([1, 2]), wg.ValueError, 'nn.AdaptiveAvgPool3d: outputSize must be an integer >= 1 or a list of 3');
    expectError(() => new wg.nn.MaxPool3d(2, { returnIndices: true } as any), wg.ValueError, 'nn.MaxPool3d', 'returnIndices');
  });
});
