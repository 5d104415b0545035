// Convolution: conv1d, conv2d, convTranspose1d/2d (alias dltranspconv) — forward values against
// plain JS nested loops over many stride/padding/dilation/groups combinations, gradients by
// finite differences, JVP against VJP, second derivatives, float32 against float64, and errors.

import { beforeAll, describe, expect, it } from 'vitest';
import { wg, checkGrad, expectClose, expectNoLeak, expectSameBits, uniform, size, flat, rand64 } from './helpers.js';
import type { Tensor } from '../src/index.js';

beforeAll(async () => { await wg.init(); });

interface Dense { data: number[]; shape: number[] }
interface Geometry { stride: number[]; before: number[]; after: number[]; dilation: number[]; groups: number }

const dense = (shape: number[], seed: number): Dense => ({ data: uniform(size(shape), -1, 1, seed), shape });
const t64 = (d: Dense): Tensor => wg.tensor(d.data, { shape: d.shape, dtype: 'float64' });

/** PyTorch's conv2d as nested loops over [N, C, H, W] ⋆ [O, C/groups, kH, kW], zero padding. */
function refConv2d(x: Dense, w: Dense, g: Geometry, bias?: number[]): Dense {
  const [N, C, H, W] = x.shape, [O, Cg, kH, kW] = w.shape;
  const Og = O / g.groups;
  const oH = Math.floor((H + g.before[0] + g.after[0] - g.dilation[0] * (kH - 1) - 1) / g.stride[0]) + 1;
  const oW = Math.floor((W + g.before[1] + g.after[1] - g.dilation[1] * (kW - 1) - 1) / g.stride[1]) + 1;
  const out: number[] = [];
  for (let n = 0; n < N; n++) for (let o = 0; o < O; o++) for (let oh = 0; oh < oH; oh++) for (let ow = 0; ow < oW; ow++) {
    let s = bias ? bias[o] : 0;
    const group = Math.floor(o / Og);
    for (let c = 0; c < Cg; c++) for (let kh = 0; kh < kH; kh++) for (let kw = 0; kw < kW; kw++) {
      const h = oh * g.stride[0] - g.before[0] + kh * g.dilation[0];
      const ww = ow * g.stride[1] - g.before[1] + kw * g.dilation[1];
      if (h < 0 || h >= H || ww < 0 || ww >= W) continue;
      s += x.data[((n * C + group * Cg + c) * H + h) * W + ww] * w.data[((o * Cg + c) * kH + kh) * kW + kw];
    }
    out.push(s);
  }
  return { data: out, shape: [N, O, oH, oW] };
}

/** PyTorch's conv_transpose2d as a scatter: every input value adds weight·x into the output. */
function refConvTranspose2d(x: Dense, w: Dense, stride: number[], padding: number[], outputPadding: number[],
                            dilation: number[], groups: number, bias?: number[]): Dense {
  const [N, Cin, H, W] = x.shape, [, Cog, kH, kW] = w.shape;
  const Cig = Cin / groups, Cout = Cog * groups;
  const oH = (H - 1) * stride[0] - 2 * padding[0] + dilation[0] * (kH - 1) + outputPadding[0] + 1;
  const oW = (W - 1) * stride[1] - 2 * padding[1] + dilation[1] * (kW - 1) + outputPadding[1] + 1;
  const out = new Array<number>(N * Cout * oH * oW).fill(0);
  for (let n = 0; n < N; n++) for (let c = 0; c < Cout; c++) for (let i = 0; i < oH * oW; i++) out[(n * Cout + c) * oH * oW + i] = bias ? bias[c] : 0;
  for (let n = 0; n < N; n++) for (let ci = 0; ci < Cin; ci++) for (let h = 0; h < H; h++) for (let ww = 0; ww < W; ww++) {
    const v = x.data[((n * Cin + ci) * H + h) * W + ww];
    const group = Math.floor(ci / Cig);
    for (let co = 0; co < Cog; co++) for (let kh = 0; kh < kH; kh++) for (let kw = 0; kw < kW; kw++) {
      const oh = h * stride[0] - padding[0] + kh * dilation[0], ow = ww * stride[1] - padding[1] + kw * dilation[1];
      if (oh < 0 || oh >= oH || ow < 0 || ow >= oW) continue;
      out[((n * Cout + group * Cog + co) * oH + oh) * oW + ow] += v * w.data[((ci * Cog + co) * kH + kh) * kW + kw];
    }
  }
  return { data: out, shape: [N, Cout, oH, oW] };
}

const geo = (o: Partial<Geometry> & { padding?: number[] }): Geometry => ({
  stride: o.stride ?? [1, 1], before: o.before ?? o.padding ?? [0, 0], after: o.after ?? o.padding ?? [0, 0],
  dilation: o.dilation ?? [1, 1], groups: o.groups ?? 1,
});

describe('conv2d forward', () => {
  it('matches PyTorch on known values', () => {
    wg.tidy(() => {
      // window sums of arange(16) as a 4×4 image: torch gives [[45, 54], [81, 90]]
      const x = wg.arange(16, { dtype: 'float64' }).reshape([1, 1, 4, 4]);
      expect(wg.conv2d(x, wg.ones([1, 1, 3, 3], { dtype: 'float64' })).toArray()).toEqual([[[[45, 54], [81, 90]]]]);
      // 'same' with an even kernel pads one more on the right: [1, 2, 3, 4] ⋆ [1, 10] → [21, 32, 43, 4]
      const x1 = wg.tensor([1, 2, 3, 4], { shape: [1, 1, 4], dtype: 'float64' });
      const w1 = wg.tensor([1, 10], { shape: [1, 1, 2], dtype: 'float64' });
      expect(wg.conv1d(x1, w1, null, { padding: 'same' }).toArray()).toEqual([[[21, 32, 43, 4]]]);
      // conv_transpose2d of a single 1 with stride 2 places the kernel: output [[1, 2], [3, 4]]
      const one = wg.ones([1, 1, 1, 1], { dtype: 'float64' });
      const k = wg.tensor([1, 2, 3, 4], { shape: [1, 1, 2, 2], dtype: 'float64' });
      expect(wg.convTranspose2d(one, k, null, { stride: 2 }).toArray()).toEqual([[[[1, 2], [3, 4]]]]);
    });
  });

  const cases: { name: string; x: number[]; w: number[]; opts: any; g: Geometry }[] = [
    { name: 'defaults, odd sizes', x: [2, 3, 7, 6], w: [4, 3, 3, 3], opts: {}, g: geo({}) },
    { name: 'stride 2, padding 1', x: [2, 2, 7, 8], w: [3, 2, 3, 3], opts: { stride: 2, padding: 1 }, g: geo({ stride: [2, 2], padding: [1, 1] }) },
    { name: 'per-dim stride, padding, dilation', x: [1, 2, 9, 7], w: [3, 2, 3, 2], opts: { stride: [2, 1], padding: [0, 2], dilation: [2, 1] },
      g: geo({ stride: [2, 1], padding: [0, 2], dilation: [2, 1] }) },
    { name: 'groups 2', x: [2, 4, 6, 5], w: [6, 2, 3, 2], opts: { groups: 2, padding: [1, 0] }, g: geo({ groups: 2, padding: [1, 0] }) },
    { name: 'depthwise', x: [2, 3, 5, 5], w: [3, 1, 3, 3], opts: { groups: 3, padding: 1 }, g: geo({ groups: 3, padding: [1, 1] }) },
    { name: 'depthwise with multiplier 2', x: [1, 2, 6, 5], w: [4, 1, 3, 3], opts: { groups: 2, stride: 2 }, g: geo({ groups: 2, stride: [2, 2] }) },
    { name: "'same', odd kernel, dilation", x: [1, 2, 6, 7], w: [2, 2, 3, 3], opts: { padding: 'same', dilation: 2 },
      g: geo({ dilation: [2, 2], padding: [2, 2] }) },
    { name: "'same', even kernels pad more at the bottom/right", x: [2, 1, 5, 6], w: [2, 1, 2, 4], opts: { padding: 'same', dilation: [1, 2] },
      g: geo({ dilation: [1, 2], before: [0, 3], after: [1, 3] }) },
    { name: "'valid'", x: [1, 2, 5, 5], w: [1, 2, 2, 3], opts: { padding: 'valid' }, g: geo({}) },
    { name: '1×1 kernel, stride 2', x: [2, 3, 5, 4], w: [5, 3, 1, 1], opts: { stride: 2 }, g: geo({ stride: [2, 2] }) },
    { name: 'kernel as large as the padded input', x: [1, 1, 3, 2], w: [2, 1, 5, 4], opts: { padding: 1 }, g: geo({ padding: [1, 1] }) },
    { name: 'stride larger than the kernel', x: [1, 2, 9, 9], w: [2, 2, 2, 2], opts: { stride: 3, padding: 1 }, g: geo({ stride: [3, 3], padding: [1, 1] }) },
  ];
  for (const c of cases) {
    it(`${c.name}: values against nested loops, with and without bias`, () => {
      wg.tidy(() => {
        const x = dense(c.x, 1), w = dense(c.w, 2), b = dense([c.w[0]], 3);
        const want = refConv2d(x, w, c.g);
        const y = wg.conv2d(t64(x), t64(w), null, c.opts);
        expect(y.shape).toEqual(want.shape);
        expectClose(y.data(), want.data, 1e-12, 1e-13);
        expectClose(wg.conv2d(t64(x), t64(w), t64(b), c.opts).data(), refConv2d(x, w, c.g, b.data).data, 1e-12, 1e-13);
      });
    });
  }

  it('an unbatched [C, H, W] input gives [O, oH, oW], the same values as a batch of one', () => {
    wg.tidy(() => {
      const x = dense([3, 6, 5], 4), w = dense([4, 3, 3, 2], 5);
      const y = wg.conv2d(t64(x), t64(w), null, { padding: 1, stride: [1, 2] });
      const want = refConv2d({ data: x.data, shape: [1, ...x.shape] }, w, geo({ padding: [1, 1], stride: [1, 2] }));
      expect(y.shape).toEqual(want.shape.slice(1));
      expectClose(y.data(), want.data, 1e-12, 1e-13);
    });
  });

  it('an empty batch gives an empty output of the right shape', () => {
    wg.tidy(() => {
      const y = wg.conv2d(wg.zeros([0, 2, 5, 5], { dtype: 'float64' }), rand64([3, 2, 3, 3]), null, { padding: 1 });
      expect(y.shape).toEqual([0, 3, 5, 5]);
    });
  });

  it('the Tensor method is the function', () => {
    wg.tidy(() => {
      const x = t64(dense([1, 2, 5, 5], 6)), w = t64(dense([2, 2, 3, 3], 7));
      expect(x.conv2d(w, null, { padding: 1 }).toArray()).toEqual(wg.conv2d(x, w, null, { padding: 1 }).toArray());
    });
  });

  it('a batch larger than one column chunk gives the same values as image by image', () => {
    wg.tidy(() => {
      // 40 images of 3×34×34 with a 3×3 kernel exceed the 4M-element column budget, so it is split
      const x = wg.rand([40, 3, 34, 34], { dtype: 'float64' }), w = rand64([2, 3, 3, 3]);
      const whole = wg.conv2d(x, w, null, { padding: 1 });
      const single = wg.conv2d(x.slice(0, 39, 40), w, null, { padding: 1 });
      expectClose(flat(whole.toArray()).slice(-single.numel()), single.data(), 0, 0);
      const gw = wg.grad((w: Tensor) => wg.conv2d(x, w, null, { padding: 1 }).sum())(w);
      const gwParts = [0, 20].map((s) => wg.grad((w: Tensor) => wg.conv2d(x.slice(0, s, s + 20), w, null, { padding: 1 }).sum())(w));
      expectClose(gw.data(), gwParts[0].add(gwParts[1]).data(), 1e-12, 1e-12);
    });
  });
});

describe('conv1d forward', () => {
  const cases = [
    { name: 'defaults', x: [2, 3, 9], w: [4, 3, 3], opts: {}, g: geo({}) },
    { name: 'stride 2, padding 1, dilation 2', x: [2, 2, 11], w: [3, 2, 3], opts: { stride: 2, padding: 1, dilation: 2 },
      g: geo({ stride: [1, 2], padding: [0, 1], dilation: [1, 2] }) },
    { name: 'groups 3, lists of one', x: [1, 6, 8], w: [3, 2, 2], opts: { groups: 3, stride: [3], padding: [1] }, g: geo({ groups: 3, stride: [1, 3], padding: [0, 1] }) },
    { name: "'same', even kernel", x: [1, 2, 7], w: [2, 2, 4], opts: { padding: 'same' }, g: geo({ before: [0, 1], after: [0, 2] }) },
  ];
  for (const c of cases) {
    it(`${c.name}: values against nested loops`, () => {
      wg.tidy(() => {
        const x = dense(c.x, 8), w = dense(c.w, 9), b = dense([c.w[0]], 10);
        const want = refConv2d({ data: x.data, shape: [c.x[0], c.x[1], 1, c.x[2]] }, { data: w.data, shape: [c.w[0], c.w[1], 1, c.w[2]] }, c.g, b.data);
        const y = wg.conv1d(t64(x), t64(w), t64(b), c.opts as any);
        expect(y.shape).toEqual([want.shape[0], want.shape[1], want.shape[3]]);
        expectClose(y.data(), want.data, 1e-12, 1e-13);
      });
    });
  }

  it('an unbatched [C, L] input gives [O, oL]', () => {
    wg.tidy(() => {
      const x = dense([3, 10], 11), w = dense([2, 3, 3], 12);
      const y = t64(x).conv1d(t64(w), null, { stride: 2 });
      const want = refConv2d({ data: x.data, shape: [1, 3, 1, 10] }, { data: w.data, shape: [2, 3, 1, 3] }, geo({ stride: [1, 2] }));
      expect(y.shape).toEqual([2, 4]);
      expectClose(y.data(), want.data, 1e-12, 1e-13);
    });
  });
});

describe('convTranspose forward', () => {
  const cases = [
    { name: 'defaults', x: [2, 3, 4, 5], w: [3, 2, 3, 3], o: { stride: [1, 1], padding: [0, 0], outputPadding: [0, 0], dilation: [1, 1], groups: 1 } },
    { name: 'stride 2, padding 1, outputPadding 1', x: [1, 2, 3, 4], w: [2, 3, 3, 3], o: { stride: [2, 2], padding: [1, 1], outputPadding: [1, 1], dilation: [1, 1], groups: 1 } },
    { name: 'per-dim stride, dilation, outputPadding below dilation', x: [2, 2, 3, 3], w: [2, 2, 2, 3], o: { stride: [1, 3], padding: [1, 0], outputPadding: [1, 2], dilation: [2, 1], groups: 1 } },
    { name: 'groups 2', x: [1, 4, 3, 3], w: [4, 3, 2, 2], o: { stride: [2, 1], padding: [0, 1], outputPadding: [0, 0], dilation: [1, 1], groups: 2 } },
    { name: 'depthwise', x: [2, 3, 4, 4], w: [3, 1, 3, 3], o: { stride: [2, 2], padding: [1, 1], outputPadding: [0, 1], dilation: [1, 1], groups: 3 } },
  ];
  for (const c of cases) {
    it(`${c.name}: values against a scatter loop`, () => {
      wg.tidy(() => {
        const x = dense(c.x, 13), w = dense(c.w, 14), b = dense([c.w[1] * c.o.groups], 15);
        const want = refConvTranspose2d(x, w, c.o.stride, c.o.padding, c.o.outputPadding, c.o.dilation, c.o.groups, b.data);
        const y = wg.convTranspose2d(t64(x), t64(w), t64(b), c.o);
        expect(y.shape).toEqual(want.shape);
        expectClose(y.data(), want.data, 1e-12, 1e-13);
        expect(wg.dltranspconv(t64(x), t64(w), t64(b), c.o).toArray()).toEqual(y.toArray());
      });
    });
  }

  it('convTranspose1d and an unbatched input', () => {
    wg.tidy(() => {
      const x = dense([2, 5], 16), w = dense([2, 3, 3], 17);
      const y = t64(x).convTranspose1d(t64(w), null, { stride: 2, padding: 1, outputPadding: 1 });
      const want = refConvTranspose2d({ data: x.data, shape: [1, 2, 1, 5] }, { data: w.data, shape: [2, 3, 1, 3] }, [1, 2], [0, 1], [0, 1], [1, 1], 1);
      expect(y.shape).toEqual([3, 10]);
      expectClose(y.data(), want.data, 1e-12, 1e-13);
      const x2 = dense([3, 3, 4], 18), w2 = dense([3, 2, 2, 2], 19);
      const y2 = t64(x2).convTranspose2d(t64(w2));
      expect(y2.shape).toEqual([2, 4, 5]);
      expectClose(y2.data(), refConvTranspose2d({ data: x2.data, shape: [1, 3, 3, 4] }, w2, [1, 1], [0, 0], [0, 0], [1, 1], 1).data, 1e-12, 1e-13);
    });
  });

  it('convTranspose2d is the adjoint of conv2d: ⟨conv(x, w), y⟩ = ⟨x, convT(y, w)⟩', () => {
    wg.tidy(() => {
      const x = rand64([2, 4, 7, 6], -1, 1, 20), w = rand64([6, 2, 3, 2], -1, 1, 21);
      const opts = { stride: [2, 1], padding: [1, 1], dilation: [1, 2], groups: 2 };
      const y = wg.conv2d(x, w, null, opts);
      const v = rand64(y.shape, -1, 1, 22);
      // conv output 4×4 from 7 rows: (4−1)·2 − 2 + 3 = 7, so no outputPadding is needed
      const back = wg.convTranspose2d(v, w, null, opts);
      expect(back.shape).toEqual(x.shape);
      expectClose(y.mul(v).sum().item(), x.mul(back).sum().item(), 1e-12, 0);
    });
  });
});

describe('conv gradients (float64 finite differences)', () => {
  const combos = [
    { name: 'conv2d stride 2, padding 1', f: 'conv2d', x: [2, 2, 5, 4], w: [3, 2, 3, 2], opts: { stride: 2, padding: 1 } },
    { name: 'conv2d dilation, asymmetric stride', f: 'conv2d', x: [1, 2, 6, 5], w: [2, 2, 2, 2], opts: { stride: [1, 2], dilation: [2, 1], padding: [1, 0] } },
    { name: 'conv2d groups 2', f: 'conv2d', x: [1, 4, 4, 4], w: [4, 2, 2, 3], opts: { groups: 2, padding: 1 } },
    { name: 'conv2d depthwise', f: 'conv2d', x: [2, 2, 4, 4], w: [2, 1, 3, 3], opts: { groups: 2, padding: 1 } },
    { name: "conv2d 'same' even kernel", f: 'conv2d', x: [1, 2, 4, 5], w: [2, 2, 2, 4], opts: { padding: 'same' } },
    { name: 'conv2d unbatched', f: 'conv2d', x: [2, 4, 4], w: [2, 2, 3, 3], opts: { stride: 2 } },
    { name: 'conv1d stride, padding, dilation, groups', f: 'conv1d', x: [2, 4, 9], w: [2, 2, 3], opts: { stride: 2, padding: 2, dilation: 2, groups: 2 } },
    { name: 'convTranspose2d stride 2, outputPadding 1', f: 'convTranspose2d', x: [1, 2, 3, 3], w: [2, 2, 3, 3], opts: { stride: 2, padding: 1, outputPadding: 1 } },
    { name: 'convTranspose2d groups, dilation', f: 'convTranspose2d', x: [2, 4, 2, 3], w: [4, 1, 2, 2], opts: { groups: 2, dilation: [2, 1], stride: [1, 2] } },
    { name: 'conv2d padding beyond the kernel (the input gradient crops)', f: 'conv2d', x: [1, 2, 3, 4], w: [2, 2, 3, 2], opts: { padding: [3, 2] } },
    { name: 'convTranspose2d stride 1, padding, groups', f: 'convTranspose2d', x: [2, 4, 4, 5], w: [4, 2, 3, 3], opts: { groups: 2, padding: [2, 1] } },
    { name: 'convTranspose1d unbatched', f: 'convTranspose1d', x: [2, 4], w: [2, 3, 3], opts: { stride: 3, padding: 1, outputPadding: 2 } },
  ];
  for (const c of combos) {
    it(`${c.name}: x, weight and bias`, () => {
      wg.tidy(() => {
        const fn = (wg as any)[c.f] as (x: Tensor, w: Tensor, b: Tensor | null, o: any) => Tensor;
        const outChannels = c.f.startsWith('convTranspose') ? c.w[1] * ((c.opts as any).groups ?? 1) : c.w[0];
        checkGrad((x, w, b) => fn(x, w, b, c.opts), [rand64(c.x, -1, 1, 30), rand64(c.w, -1, 1, 31), rand64([outChannels], -1, 1, 32)]);
      });
    });
  }
});

describe('forward mode and second derivatives', () => {
  /** ⟨v, J·u⟩ (forward mode) against ⟨Jᵀ·v, u⟩ (reverse mode) for f of two inputs. */
  function checkJvpVjp(f: (a: Tensor, b: Tensor) => Tensor, a: Tensor, b: Tensor, seed: number): void {
    wg.tidy(() => {
      const ua = rand64(a.shape, -1, 1, seed), ub = rand64(b.shape, -1, 1, seed + 1);
      const [y, ydot] = wg.jvp(f, [a, b], [ua, ub]);
      const v = rand64(y.shape, -1, 1, seed + 2);
      const [ga, gb] = wg.grad((p: Tensor, q: Tensor) => f(p, q).mul(v).sum(), { argnums: [0, 1] })(a, b);
      const lhs = (ydot as Tensor).mul(v).sum().item() as number;
      const rhs = (ga.mul(ua).sum().item() as number) + (gb.mul(ub).sum().item() as number);
      expectClose(lhs, rhs, 1e-12, 1e-12);
      expect(Math.abs(lhs)).toBeGreaterThan(1e-3);
    });
  }

  it('JVP against VJP for conv2d, conv1d and convTranspose2d', () => {
    checkJvpVjp((x, w) => wg.conv2d(x, w, null, { stride: [2, 1], padding: 1, dilation: [1, 2], groups: 2 }),
      rand64([2, 4, 6, 5], -1, 1, 40), rand64([4, 2, 3, 2], -1, 1, 41), 42);
    checkJvpVjp((x, w) => wg.conv1d(x, w, null, { padding: 'same' }), rand64([2, 3, 7], -1, 1, 43), rand64([2, 3, 4], -1, 1, 44), 45);
    checkJvpVjp((x, w) => wg.convTranspose2d(x, w, null, { stride: 2, padding: 1, outputPadding: 1, groups: 2 }),
      rand64([1, 4, 3, 3], -1, 1, 46), rand64([4, 1, 3, 3], -1, 1, 47), 48);
  });

  it('the tangent of a conv is linear in each input', () => {
    wg.tidy(() => {
      const x = rand64([1, 2, 5, 5], -1, 1, 50), w = rand64([3, 2, 3, 3], -1, 1, 51), ux = rand64([1, 2, 5, 5], -1, 1, 52);
      const [, onlyX] = wg.jvp((a: Tensor, b: Tensor) => wg.conv2d(a, b), [x, w], [ux, wg.zeros(w.shape, { dtype: 'float64' })]);
      expectClose((onlyX as Tensor).data(), wg.conv2d(ux, w).data(), 1e-13, 1e-14);
    });
  });

  it('second derivatives: grad of a gradient norm, against finite differences of the first derivative', () => {
    wg.tidy(() => {
      // F(x, w) = ‖∂/∂x Σ conv(x, w)²‖²: its gradient differentiates convTranspose and convWeight again
      const opts = { stride: 2, padding: 1, groups: 2 };
      const F = (x: Tensor, w: Tensor) => {
        const gx = wg.grad((p: Tensor) => wg.conv2d(p, w, null, opts).square().sum())(x);
        return gx.square().sum();
      };
      checkGrad(F, [rand64([1, 4, 5, 4], -1, 1, 53), rand64([2, 2, 3, 2], -1, 1, 54)], { rtol: 1e-5, atol: 1e-6 });
      const Fw = (x: Tensor, w: Tensor) => {
        const gw = wg.grad((q: Tensor) => wg.convTranspose2d(x, q, null, { stride: 2 }).square().sum())(w);
        return gw.square().sum();
      };
      checkGrad(Fw, [rand64([1, 2, 3, 3], -1, 1, 55), rand64([2, 2, 2, 2], -1, 1, 56)], { rtol: 1e-5, atol: 1e-6 });
    });
  });

  it('Hessian-vector products (forward over reverse) against differences of gradients', () => {
    wg.tidy(() => {
      const x = rand64([1, 2, 4, 4], -1, 1, 57), v = rand64([3, 2, 2, 2], -1, 1, 58);
      const loss = (w: Tensor) => wg.conv2d(x, w, null, { padding: 1 }).tanh().sum();
      const w = rand64([3, 2, 2, 2], -1, 1, 59);
      const hv = wg.hvp(loss)(w, v);
      const eps = 1e-5;
      const g = (s: number) => wg.grad(loss)(w.add(v.mul(s)));
      const numeric = g(eps).sub(g(-eps)).div(2 * eps);
      expectClose(hv.data(), numeric.data(), 1e-6, 1e-7);
    });
  });
});

describe('float32', () => {
  it('conv2d, convTranspose2d and their gradients agree with float64', () => {
    wg.tidy(() => {
      const x = rand64([2, 4, 9, 8], -1, 1, 60), w = rand64([6, 2, 3, 3], -1, 1, 61), b = rand64([6], -1, 1, 62);
      const opts = { stride: 2, padding: 1, groups: 2 };
      const f = (x: Tensor, w: Tensor, b: Tensor) => wg.conv2d(x, w, b, opts).square().sum();
      const g64 = wg.valueAndGrad(f, { argnums: [0, 1, 2] })(x, w, b);
      const g32 = wg.valueAndGrad(f, { argnums: [0, 1, 2] })(x.float(), w.float(), b.float());
      expect(g32[0].dtype).toBe('float32');
      expectClose(g32[0].item(), g64[0].item(), 1e-5, 0);
      for (let k = 0; k < 3; k++) expectClose(g32[1][k].data(), g64[1][k].data(), 1e-4, 1e-5);
      const t64 = wg.convTranspose2d(x, rand64([4, 3, 2, 2], -1, 1, 63), null, { stride: 2 });
      const t32 = wg.convTranspose2d(x.float(), rand64([4, 3, 2, 2], -1, 1, 63).float(), null, { stride: 2 });
      expectClose(t32.data(), t64.data(), 1e-5, 1e-6);
    });
  });
});

describe('stride 1 (the direct kernels)', () => {
  const f32 = Math.fround;
  /** conv2d in float32 as one chain per output, taps in (c, kh, kw) order: the im2col product's bits. */
  function chainConv2d(x: Float32Array, xs: number[], w: Float32Array, ws: number[], g: Geometry): number[] {
    const [N, C, H, W] = xs, [O, Cg, kH, kW] = ws, Og = O / g.groups;
    const oH = H + g.before[0] + g.after[0] - g.dilation[0] * (kH - 1), oW = W + g.before[1] + g.after[1] - g.dilation[1] * (kW - 1);
    const out: number[] = [];
    for (let n = 0; n < N; n++) for (let o = 0; o < O; o++) for (let oh = 0; oh < oH; oh++) for (let ow = 0; ow < oW; ow++) {
      let s = 0;
      for (let c = 0; c < Cg; c++) for (let kh = 0; kh < kH; kh++) for (let kw = 0; kw < kW; kw++) {
        const h = oh - g.before[0] + kh * g.dilation[0], ww = ow - g.before[1] + kw * g.dilation[1];
        const v = h < 0 || h >= H || ww < 0 || ww >= W ? 0 : x[((n * C + Math.floor(o / Og) * Cg + c) * H + h) * W + ww];
        s = f32(s + f32(v * w[((o * Cg + c) * kH + kh) * kW + kw]));
      }
      out.push(s);
    }
    return out;
  }

  const layers = [
    { name: 'one input channel (a first layer), 28×28', x: [3, 1, 28, 28], w: [8, 1, 3, 3], opts: { padding: 'same' }, g: geo({ padding: [1, 1] }) },
    { name: '8 → 16 channels, 14×14', x: [2, 8, 14, 14], w: [16, 8, 3, 3], opts: { padding: 1 }, g: geo({ padding: [1, 1] }) },
    { name: 'even kernel, dilation, asymmetric padding', x: [2, 3, 7, 9], w: [5, 3, 2, 4], opts: { padding: 'same', dilation: [1, 2] },
      g: geo({ dilation: [1, 2], before: [0, 3], after: [1, 3] }) },
    { name: 'groups 2, no column padding', x: [1, 4, 6, 5], w: [6, 2, 3, 2], opts: { groups: 2, padding: [1, 0] }, g: geo({ groups: 2, padding: [1, 0] }) },
    { name: 'depthwise, a wide row', x: [1, 3, 5, 13], w: [3, 1, 3, 3], opts: { groups: 3, padding: 1 }, g: geo({ groups: 3, padding: [1, 1] }) },
  ];
  for (const c of layers) {
    it(`float32 ${c.name}: the bits of one chain per output`, () => {
      wg.tidy(() => {
        const x = wg.tensor(uniform(size(c.x), -1, 1, 70), { shape: c.x }), w = wg.tensor(uniform(size(c.w), -1, 1, 71), { shape: c.w });
        const y = wg.conv2d(x, w, null, c.opts as any);
        expectSameBits(y.data(), chainConv2d(x.data() as Float32Array, c.x, w.data() as Float32Array, c.w, c.g), c.name);
      });
    });
  }

  it('weight and input gradients of a batch of 20 (two partial sums of the weight gradient) against nested loops', () => {
    wg.tidy(() => {
      const [N, C, H, W, O] = [20, 3, 9, 7, 4];
      const x = dense([N, C, H, W], 72), w = dense([O, C, 3, 3], 73), r = dense([N, O, H, W], 74);
      const f = (x: Tensor, w: Tensor) => wg.conv2d(x, w, null, { padding: 1 }).mul(t64(r)).sum();
      const [, [gx, gw]] = wg.valueAndGrad(f, { argnums: [0, 1] })(t64(x), t64(w));
      // d/dw[o, c, kh, kw] = Σ r[n, o, h, w]·x[n, c, h − 1 + kh, w − 1 + kw]; d/dx likewise
      const wantW = new Array<number>(O * C * 9).fill(0), wantX = new Array<number>(N * C * H * W).fill(0);
      for (let n = 0; n < N; n++) for (let o = 0; o < O; o++) for (let h = 0; h < H; h++) for (let ww = 0; ww < W; ww++) {
        const rv = r.data[((n * O + o) * H + h) * W + ww];
        for (let c = 0; c < C; c++) for (let kh = 0; kh < 3; kh++) for (let kw = 0; kw < 3; kw++) {
          const i = h - 1 + kh, j = ww - 1 + kw;
          if (i < 0 || i >= H || j < 0 || j >= W) continue;
          const xi = ((n * C + c) * H + i) * W + j, wi = ((o * C + c) * 3 + kh) * 3 + kw;
          wantW[wi] += rv * x.data[xi];
          wantX[xi] += rv * w.data[wi];
        }
      }
      expectClose(gw.data(), wantW, 1e-12, 1e-12);
      expectClose(gx.data(), wantX, 1e-12, 1e-12);
      const [, [gx32, gw32]] = wg.valueAndGrad((x: Tensor, w: Tensor) => wg.conv2d(x, w, null, { padding: 1 }).mul(t64(r).float()).sum(),
        { argnums: [0, 1] })(t64(x).float(), t64(w).float());
      expectClose(gw32.data(), wantW, 1e-5, 1e-5);
      expectClose(gx32.data(), wantX, 1e-5, 1e-5);
    });
  });

  it('convTranspose2d at stride 1 with padding beyond the dilated kernel (cropped) and groups', () => {
    wg.tidy(() => {
      const x = dense([2, 4, 7, 6], 75), w = dense([4, 3, 3, 2], 76);
      for (const [padding, dilation] of [[[3, 1], [1, 1]], [[2, 2], [1, 2]], [[0, 0], [2, 1]]]) {
        const want = refConvTranspose2d(x, w, [1, 1], padding, [0, 0], dilation, 2);
        const y = wg.convTranspose2d(t64(x), t64(w), null, { padding, dilation, groups: 2 });
        expect(y.shape).toEqual(want.shape);
        expectClose(y.data(), want.data, 1e-12, 1e-13);
        expectClose(wg.convTranspose2d(t64(x).float(), t64(w).float(), null, { padding, dilation, groups: 2 }).data(), want.data, 1e-5, 1e-5);
      }
    });
  });
});

// conv1d / conv2d with { activation: 'relu' } and a bias: one fused op (Op.convBiasRelu) whose store
// adds the bias and applies the relu, its rules those of conv, add and relu. Every result has the
// bits of the unfused wg.relu(conv(x, w, b)).
describe("activation 'relu': the fused bias + relu", () => {
  type Conv = (x: Tensor, w: Tensor, b: Tensor | null, o?: object) => Tensor;
  const cases: { name: string; conv: Conv; x: number[]; w: number[]; opts: object }[] = [
    { name: "stride 1, 'same', a batch (the direct kernel)", conv: wg.conv2d, x: [3, 2, 9, 11], w: [5, 2, 3, 3], opts: { padding: 'same' } },
    { name: 'stride 2, groups (the im2col path)', conv: wg.conv2d, x: [2, 4, 7, 6], w: [6, 2, 3, 2], opts: { stride: 2, padding: 1, groups: 2 } },
    { name: 'unbatched', conv: wg.conv2d, x: [3, 6, 5], w: [4, 3, 2, 2], opts: { padding: [1, 0] } },
    { name: 'conv1d', conv: wg.conv1d, x: [2, 3, 10], w: [4, 3, 3], opts: { dilation: 2, padding: 2 } },
  ];
  for (const c of cases) {
    for (const dtype of ['float32', 'float64'] as const) {
      it(`${c.name}, ${dtype}: values, gradients, JVP and a second derivative with the unfused bits`, () => {
        wg.tidy(() => {
          const make = (shape: number[], seed: number) => wg.tensor(uniform(size(shape), -1, 1, seed), { shape, dtype });
          const x = make(c.x, 80), w = make(c.w, 81), b = make([c.w[0]], 82);
          const yShape = c.conv(x, w, b, c.opts).shape, r = make(yShape, 83);
          const fused = (x: Tensor, w: Tensor, b: Tensor) => c.conv(x, w, b, { ...c.opts, activation: 'relu' });
          const plain = (x: Tensor, w: Tensor, b: Tensor) => wg.relu(c.conv(x, w, b, c.opts));
          const same = (a: Tensor, e: Tensor, what: string) => { expect(a.shape, what).toEqual(e.shape); expectSameBits(a.data(), e.data(), what); };
          same(fused(x, w, b), plain(x, w, b), 'values');
          expect(Array.from(fused(x, w, b).data()).some((v) => v === 0) && Array.from(fused(x, w, b).data()).some((v) => v > 0)).toBe(true);
          const loss = (f: typeof fused) => (x: Tensor, w: Tensor, b: Tensor) => f(x, w, b).mul(r).sum();
          const [, gFused] = wg.valueAndGrad(loss(fused), { argnums: [0, 1, 2] })(x, w, b);
          const [, gPlain] = wg.valueAndGrad(loss(plain), { argnums: [0, 1, 2] })(x, w, b);
          ['x', 'w', 'b'].forEach((name, i) => same(gFused[i], gPlain[i], `gradient of ${name}`));
          const tx = make(c.x, 84), tw = make(c.w, 85), tb = make([c.w[0]], 86);
          const [, jFused] = wg.jvp(fused, [x, w, b], [tx, tw, tb]);
          const [, jPlain] = wg.jvp(plain, [x, w, b], [tx, tw, tb]);
          same(jFused, jPlain, 'JVP');
          const [, jbFused] = wg.jvp((b: Tensor) => fused(x, w, b), [b], [tb]);
          const [, jbPlain] = wg.jvp((b: Tensor) => plain(x, w, b), [b], [tb]);
          same(jbFused, jbPlain, 'JVP of the bias alone');
          // d/dw of Σ (∂L/∂x)²: reverse over reverse through the fused op's rule
          const second = (f: typeof fused) => wg.grad((w: Tensor) => wg.grad((x: Tensor) => loss(f)(x, w, b))(x).square().sum())(w);
          same(second(fused), second(plain), 'second derivative');
        });
      });
    }
  }

  it("under accelerate the fused op replays with eager's bits; without a bias it is relu of the convolution", () => {
    wg.tidy(() => {
      const x = wg.tensor(uniform(2 * 3 * 8 * 8, -1, 1, 90), { shape: [2, 3, 8, 8] });
      const w0 = wg.tensor(uniform(4 * 3 * 9, -1, 1, 91), { shape: [4, 3, 3, 3] }), b0 = wg.tensor(uniform(4, -1, 1, 92), { shape: [4] });
      const step = (p: { w: Tensor; b: Tensor }) => {
        const [loss, g] = wg.valueAndGrad((q: { w: Tensor; b: Tensor }) =>
          wg.conv2d(x, q.w, q.b, { padding: 'same', activation: 'relu' }).square().mean())(p);
        return { loss, w: p.w.sub(g.w.mul(0.1)), b: p.b.sub(g.b.mul(0.1)) };
      };
      const fast = wg.accelerate(step);
      const eager = step({ w: w0, b: b0 });
      fast({ w: w0, b: b0 });
      const replayed = fast({ w: w0, b: b0 });
      expectSameBits(replayed.loss.data(), eager.loss.data(), 'loss');
      expectSameBits(replayed.w.data(), eager.w.data(), 'w');
      expectSameBits(replayed.b.data(), eager.b.data(), 'b');
      expectSameBits(wg.conv2d(x, w0, null, { activation: 'relu' }).data(), wg.relu(wg.conv2d(x, w0)).data(), 'no bias');
      expectSameBits(wg.conv2d(x, w0, b0, { activation: 'none' }).data(), wg.conv2d(x, w0, b0).data(), "'none'");
    });
  });
});

describe('memory', () => {
  it('a training-style gradient step leaves no tensors behind', () => {
    const x = rand64([2, 2, 6, 6]), w = rand64([3, 2, 3, 3]), b = rand64([3]);
    expectNoLeak(() => {
      wg.tidy(() => { wg.grad((w: Tensor, b: Tensor) => wg.conv2d(x, w, b, { padding: 1 }).relu().sum(), { argnums: [0, 1] })(w, b); });
      wg.conv2d(x, w, b).dispose();
    });
    [x, w, b].forEach((t) => t.dispose());
  });
});

describe('bad input', () => {
  const x = () => rand64([1, 4, 5, 5]);
  const w = () => rand64([2, 4, 3, 3]);
  const cases: [string, () => unknown, new (...a: any[]) => Error, RegExp][] = [
    ['x of rank 2', () => wg.conv2d(rand64([4, 5]), w()), wg.ShapeError, /conv2d: x must have rank 3 \(C, H, W\) or 4 \(N, C, H, W\), got shape \[4, 5\]/],
    ['conv1d x of rank 4', () => wg.conv1d(x(), rand64([2, 4, 3])), wg.ShapeError, /conv1d: x must have rank 2 \(C, L\) or 3 \(N, C, L\), got shape \[1, 4, 5, 5\]/],
    ['weight of rank 3', () => wg.conv2d(x(), rand64([2, 4, 3])), wg.ShapeError, /conv2d: weight must have rank 4 \(out, in\/groups, kH, kW\), got shape \[2, 4, 3\]/],
    ['channels not matching', () => wg.conv2d(x(), rand64([2, 3, 3, 3])), wg.ShapeError,
      /conv2d: x \[1, 4, 5, 5\] has 4 channels, but weight \[2, 3, 3, 3\] with groups 1 expects 3/],
    ['channels not matching weight × groups', () => wg.conv2d(x(), rand64([2, 1, 3, 3]), null, { groups: 2 }), wg.ShapeError,
      /conv2d: x \[1, 4, 5, 5\] has 4 channels, but weight \[2, 1, 3, 3\] with groups 2 expects 2 \(weight dim 1 × groups = 1 × 2\)/],
    ['groups not dividing the input channels', () => wg.conv2d(x(), rand64([3, 1, 3, 3]), null, { groups: 3 }), wg.ShapeError,
      /conv2d: groups 3 must divide the input channels, but x \[1, 4, 5, 5\] has 4/],
    ['groups not dividing the output channels', () => wg.conv2d(x(), rand64([3, 2, 3, 3]), null, { groups: 2 }), wg.ShapeError,
      /conv2d: groups 2 must divide the output channels, but weight \[3, 2, 3, 3\] has 3/],
    ['groups 0', () => wg.conv2d(x(), w(), null, { groups: 0 }), wg.ValueError, /conv2d: groups must be a positive integer, got 0/],
    ['kernel larger than the padded input', () => wg.conv2d(rand64([1, 4, 2, 6]), w()), wg.ShapeError,
      /conv2d: kernel 3×3 \(dilated 3×3\) is larger than the padded input 2×6 \(x \[1, 4, 2, 6\], padding 0\)/],
    ['dilated kernel larger than the padded input', () => wg.conv2d(x(), w(), null, { dilation: 4, padding: 1 }), wg.ShapeError,
      /conv2d: kernel 3×3 \(dilated 9×9\) is larger than the padded input 7×7/],
    ['stride 0', () => wg.conv2d(x(), w(), null, { stride: [0, 1] }), wg.ValueError, /conv2d: stride must be positive integers, got \[0, 1\]/],
    ['negative padding', () => wg.conv2d(x(), w(), null, { padding: -1 }), wg.ValueError, /conv2d: padding must be non-negative integers, got -1/],
    ['padding of the wrong length', () => wg.conv2d(x(), w(), null, { padding: [1, 1, 1] }), wg.ValueError, /conv2d: padding needs 2 values \(one per spatial dim\), got \[1, 1, 1\]/],
    ['unknown padding string', () => wg.conv2d(x(), w(), null, { padding: 'full' as any }), wg.ValueError, /conv2d: padding must be a number, a list of numbers, 'same' or 'valid', got 'full'/],
    ["'same' with stride 2", () => wg.conv2d(x(), w(), null, { padding: 'same', stride: 2 }), wg.ValueError, /conv2d: padding 'same' needs stride 1 \(as in PyTorch\), got stride 2/],
    ['bias of the wrong size', () => wg.conv2d(x(), w(), rand64([3])), wg.ShapeError, /conv2d: bias must have shape \[2\] \(one value per output channel\), got \[3\]/],
    ['an unknown activation', () => wg.conv2d(x(), w(), rand64([2]), { activation: 'tanh' as any }), wg.ValueError, /conv2d: activation must be 'none' or 'relu', got the string "tanh"/],
    ["activation 'relu' with a bias of the wrong size", () => wg.conv1d(rand64([1, 4, 5]), rand64([2, 4, 3]), rand64([3]), { activation: 'relu' }), wg.ShapeError,
      /conv1d: bias must have shape \[2\] \(one value per output channel\), got \[3\]/],
    ['float32 with float64', () => wg.conv2d(x().float(), w()), wg.DTypeError, /conv2d: cannot mix float32 and float64 \(x is float32 \[1, 4, 5, 5\], weight is float64 \[2, 4, 3, 3\]\)/],
    ['an int32 input', () => wg.conv2d(wg.zeros([1, 4, 5, 5], { dtype: 'int32' }), w()), wg.DTypeError, /conv2d: x is a int32 tensor of shape \[1, 4, 5, 5\]; convolution takes float32 or float64 tensors/],
    ['a non-tensor weight', () => wg.conv2d(x(), [1, 2] as any), wg.ValueError, /conv2d \(weight\): expected a Tensor, got Array/],
    ['convTranspose channels', () => wg.convTranspose2d(x(), rand64([3, 2, 3, 3])), wg.ShapeError,
      /convTranspose2d: x \[1, 4, 5, 5\] has 4 channels, but weight \[3, 2, 3, 3\] expects 3 \(weight dim 0\)/],
    ['convTranspose groups', () => wg.convTranspose2d(x(), rand64([4, 2, 3, 3]), null, { groups: 3 }), wg.ShapeError,
      /convTranspose2d: groups 3 must divide the input channels, but x \[1, 4, 5, 5\] has 4/],
    ['outputPadding not below stride or dilation', () => wg.convTranspose2d(x(), rand64([4, 2, 3, 3]), null, { stride: 2, outputPadding: [1, 2] }), wg.ValueError,
      /convTranspose2d: outputPadding \[1, 2\] must be smaller than stride \[2, 2\] or dilation \[1, 1\] in each dim/],
    ['convTranspose with a non-positive output', () => wg.convTranspose2d(rand64([1, 1, 1, 1]), rand64([1, 1, 1, 1]), null, { padding: 1 }), wg.ShapeError,
      /convTranspose2d: the output size -1×-1 is not positive/],
    ["dltranspconv with 'same'", () => wg.dltranspconv(x(), rand64([4, 2, 3, 3]), null, { padding: 'same' as any }), wg.ValueError,
      /dltranspconv: padding must be a number or a list of numbers, got 'same'/],
  ];
  for (const [name, fn, cls, msg] of cases) {
    it(`${name}: ${cls.name}`, () => {
      wg.tidy(() => {
        let error: unknown;
        try { fn(); } catch (e) { error = e; }
        expect(error).toBeInstanceOf(cls);
        expect((error as Error).message).toMatch(msg);
        // the runtime keeps working
        expect(wg.conv2d(wg.ones([1, 1, 2, 2], { dtype: 'float64' }), wg.ones([1, 1, 2, 2], { dtype: 'float64' })).item()).toBe(4);
      });
    });
  }

  it('a disposed weight is a DisposedError naming the op', () => {
    const wt = w();
    wt.dispose();
    expect(() => wg.conv2d(x(), wt)).toThrow(wg.DisposedError);
    expect(() => wg.conv2d(x(), wt)).toThrow(/conv2d \(weight\)/);
  });
});
