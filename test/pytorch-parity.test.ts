// PyTorch-parity ops: pad's reflect / replicate / circular modes, pixelShuffle / pixelUnshuffle,
// interpolate / upsample, affineGrid / gridSample, maskedFill, bucketize / searchsorted, cdist,
// hypot. Values against PyTorch's documented examples and against plain-JS references written
// here from PyTorch's formulas (loops over every output element, no shared code with src/),
// gradients by finite differences in float64, and the bad inputs PyTorch refuses.

import { beforeAll, describe, expect, it } from 'vitest';
import { wg, checkGrad, expectClose, expectNoLeak, expectError, uniform } from './helpers.js';
import type { Tensor } from '../src/index.js';

beforeAll(async () => { await wg.init(); });

const f64 = (data: number[], shape: number[]): Tensor => wg.tensor(data, { shape, dtype: 'float64' });
const iota = (shape: number[]): Tensor => f64(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i), shape);
const seeded = (shape: number[], seed: number, lo = -1, hi = 1): Tensor => f64(uniform(shape.reduce((a, b) => a * b, 1), lo, hi, seed), shape);
const values = (t: Tensor): number[] => Array.from(t.data() as ArrayLike<number>);

// ————————————————————————————————————————— pad

describe('pad: reflect, replicate, circular', () => {
  it("matches PyTorch's documented ReflectionPad / ReplicationPad / circular results", () => {
    const x = f64([0, 1, 2, 3], [1, 1, 4]);
    expect(wg.pad(x, [2, 2], 0, 'reflect').toArray()).toEqual([[[2, 1, 0, 1, 2, 3, 2, 1]]]);
    expect(wg.pad(x, [2, 2], 0, 'replicate').toArray()).toEqual([[[0, 0, 0, 1, 2, 3, 3, 3]]]);
    expect(wg.pad(x, [1, 2], 0, 'circular').toArray()).toEqual([[[3, 0, 1, 2, 3, 0, 1]]]);
    expect(x.pad([3, 1], undefined, 'reflect').toArray()).toEqual([[[3, 2, 1, 0, 1, 2, 3, 2]]]);
    // nn.ReflectionPad2d(2) on arange(9).reshape(1, 1, 3, 3)
    expect(wg.pad(iota([1, 1, 3, 3]), [2, 2, 2, 2], 0, 'reflect').toArray()).toEqual([[[
      [8, 7, 6, 7, 8, 7, 6], [5, 4, 3, 4, 5, 4, 3], [2, 1, 0, 1, 2, 1, 0], [5, 4, 3, 4, 5, 4, 3],
      [8, 7, 6, 7, 8, 7, 6], [5, 4, 3, 4, 5, 4, 3], [2, 1, 0, 1, 2, 1, 0]]]]);
    // nn.ReplicationPad2d((1, 1, 2, 0)) on arange(9).reshape(1, 1, 3, 3)
    expect(wg.pad(iota([1, 1, 3, 3]), [1, 1, 2, 0], 0, 'replicate').toArray()).toEqual([[[
      [0, 0, 1, 2, 2], [0, 0, 1, 2, 2], [0, 0, 1, 2, 2], [3, 3, 4, 5, 5], [6, 6, 7, 8, 8]]]]);
    // circular in 2-D (unbatched C, H, W), and negative pads crop
    expect(wg.pad(iota([1, 2, 3]), [1, 0, 0, 1], 0, 'circular').toArray()).toEqual([[[2, 0, 1, 2], [5, 3, 4, 5], [2, 0, 1, 2]]]);
    expect(wg.pad(iota([1, 5]), [-1, 2], 0, 'circular').toArray()).toEqual([[1, 2, 3, 4, 0, 1]]);
    expect(wg.pad(iota([1, 5]), [-2, 1], 0, 'reflect').toArray()).toEqual([[2, 3, 4, 3]]);
  });

  it('3-D padding (5-D input) against a loop reference, every mode; constant mode unchanged', () => {
    const x = iota([1, 2, 2, 3, 4]);
    const src = x.toArray() as number[][][][][];
    const pads = [2, 1, 1, 2, 1, 0];
    const maps = {
      reflect: (i: number, n: number) => (i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i),
      replicate: (i: number, n: number) => Math.min(Math.max(i, 0), n - 1),
      circular: (i: number, n: number) => ((i % n) + n) % n,
    };
    for (const [mode, m] of Object.entries(maps)) {
      const out = wg.pad(x, pads, 0, mode as 'reflect');
      expect(out.shape).toEqual([1, 2, 3, 6, 7]);
      const ref: number[] = [];
      for (let c = 0; c < 2; c++) for (let d = 0; d < 3; d++) for (let h = 0; h < 6; h++) for (let w = 0; w < 7; w++) {
        ref.push(src[0][c][m(d - 1, 2)][m(h - 1, 3)][m(w - 2, 4)]);
      }
      expect(values(out)).toEqual(ref);
    }
    expect(wg.pad(f64([1, 2], [2]), [1, 1], 5).toArray()).toEqual([5, 1, 2, 5]);
  });

  it('gradients by finite differences; float32 and int32 pass through', () => {
    checkGrad((x) => wg.pad(x, [2, 1, 1, 2], 0, 'reflect'), [seeded([2, 3, 4], 1)]);
    checkGrad((x) => wg.pad(x, [3, 2], 0, 'replicate'), [seeded([2, 3], 2)]);
    checkGrad((x) => wg.pad(x, [2, 3, 1, 0], 0, 'circular'), [seeded([1, 2, 3, 3], 3)]);
    expect(wg.pad(wg.tensor([[1, 2, 3]], { dtype: 'int32' }), [1, 1], 0, 'reflect').toArray()).toEqual([[2, 1, 2, 3, 2]]);
    const f = wg.pad(wg.tensor([[1, 2, 3]]), [0, 2], 0, 'replicate');
    expect(f.dtype).toBe('float32');
    expect(f.toArray()).toEqual([[1, 2, 3, 3, 3]]);
    const small = iota([1, 2, 3]);
    expectNoLeak(() => wg.pad(small, [1, 1, 1, 1], 0, 'reflect').dispose());
  });

  it('refuses what PyTorch refuses, naming the problem', () => {
    const x = iota([1, 1, 3]);
    expectError(() => wg.pad(x, [3, 0], 0, 'reflect'), wg.ValueError, "'reflect'", 'smaller', '(3, 0)', 'dim 2 of size 3');
    expectError(() => wg.pad(x, [0, 4], 0, 'circular'), wg.ValueError, 'at most once', '(0, 4)');
    expectError(() => wg.pad(x, [1, 1], 2, 'replicate'), wg.ValueError, 'takes no value', 'value 2');
    expectError(() => wg.pad(iota([3]), [1, 1], 0, 'reflect'), wg.ValueError, '[3]', 'last 1, 2 or 3 dims');
    expectError(() => wg.pad(iota([1, 2, 2, 2, 2, 2]), [1, 1], 0, 'replicate'), wg.ValueError, 'last 1, 2 or 3 dims');
    expectError(() => wg.pad(x, [1, 1, 1, 1, 1, 1, 1, 1], 0, 'reflect'), wg.ValueError, 'rank 3');
    expectError(() => wg.pad(x, [-2, -1], 0, 'replicate'), wg.ShapeError, 'output of size 0');
    expectError(() => wg.pad(x, [1, 1], 0, 'symmetric' as 'reflect'), wg.ValueError, "'reflect'", 'symmetric');
    expectError(() => wg.pad(x, [1], 0, 'reflect'), wg.ValueError, 'even length');
  });
});

// ————————————————————————————————————————— pixelShuffle

describe('pixelShuffle, pixelUnshuffle', () => {
  it('channel c·r² + i·r + j goes to row h·r + i, column w·r + j; unshuffle inverts it; batch dims kept', () => {
    const r = 2, x = iota([2, 3, 8, 2, 3]);
    const src = x.toArray() as number[][][][][];
    const out = wg.pixelShuffle(x, r);
    expect(out.shape).toEqual([2, 3, 2, 4, 6]);
    const got = out.toArray() as number[][][][][];
    for (let a = 0; a < 2; a++) for (let b = 0; b < 3; b++) for (let c = 0; c < 2; c++) {
      for (let h = 0; h < 2; h++) for (let w = 0; w < 3; w++) for (let i = 0; i < r; i++) for (let j = 0; j < r; j++) {
        expect(got[a][b][c][h * r + i][w * r + j]).toBe(src[a][b][c * r * r + i * r + j][h][w]);
      }
    }
    expect(wg.pixelUnshuffle(out, r).toArray()).toEqual(x.toArray());
    // PyTorch's example: pixel_shuffle(arange(4).view(1, 4, 1, 1), 2) = [[0, 1], [2, 3]]
    expect(wg.pixelShuffle(iota([1, 4, 1, 1]), 2).toArray()).toEqual([[[[0, 1], [2, 3]]]]);
    expect(wg.pixelUnshuffle(iota([1, 1, 2, 2]), 2).toArray()).toEqual([[[[0]], [[1]], [[2]], [[3]]]]);
    expect(wg.pixelShuffle(iota([9, 2, 2]), 3).shape).toEqual([1, 6, 6]);
  });

  it('gradients, and bad input named', () => {
    checkGrad((x) => wg.pixelShuffle(x, 2), [seeded([1, 4, 2, 3], 4)]);
    checkGrad((x) => wg.pixelUnshuffle(x, 3), [seeded([2, 1, 3, 6], 5)]);
    expectError(() => wg.pixelShuffle(iota([1, 6, 2, 2]), 2), wg.ShapeError, 'divisible', '4', '6');
    expectError(() => wg.pixelUnshuffle(iota([1, 1, 4, 3]), 2), wg.ShapeError, 'divisible', '4 and 3');
    expectError(() => wg.pixelShuffle(iota([4, 2]), 2), wg.ShapeError, 'at least 3 dims');
    expectError(() => wg.pixelShuffle(iota([1, 4, 2, 2]), 0), wg.ValueError, 'positive integer');
  });
});

// ————————————————————————————————————————— interpolate

/** Keys' cubic kernel with A = −0.75, written as a function of the distance. */
function keys(d: number): number {
  const A = -0.75, x = Math.abs(d);
  if (x <= 1) return (A + 2) * x ** 3 - (A + 3) * x ** 2 + 1;
  if (x < 2) return A * x ** 3 - 5 * A * x ** 2 + 8 * A * x - 4 * A;
  return 0;
}

/** PyTorch's source coordinate of output index j (UpSample.h), and the weights/indices along one dim. */
function axisRef(mode: string, n: number, out: number, align: boolean, scale: number | null): { idx: number[]; w: number[] }[] {
  const res: { idx: number[]; w: number[] }[] = [];
  const h = align ? (out > 1 ? (n - 1) / (out - 1) : 0) : scale ? 1 / scale : n / out;
  for (let j = 0; j < out; j++) {
    if (mode === 'nearest') {
      const s = Math.fround(scale ? 1 / scale : n / out);
      res.push({ idx: [Math.min(Math.floor(Math.fround(j * s)), n - 1)], w: [1] });
    } else if (mode === 'cubic') {
      const real = align ? h * j : h * (j + 0.5) - 0.5, f = Math.floor(real);
      const idx = [f - 1, f, f + 1, f + 2];
      res.push({ idx: idx.map((i) => Math.min(Math.max(i, 0), n - 1)), w: idx.map((i) => keys(real - i)) });
    } else if (out === n) {
      res.push({ idx: [j], w: [1] });
    } else {
      let real = align ? h * j : h * (j + 0.5) - 0.5;
      if (real < 0) real = 0;
      const f = Math.min(Math.floor(real), n - 1), l = real - f;
      res.push({ idx: [f, Math.min(f + 1, n - 1)], w: [1 - l, l] });
    }
  }
  return res;
}

/** A direct (non-separable) 2-D resampling of one (H, W) plane. */
function plane2d(src: number[][], mode: string, oh: number, ow: number, align: boolean, sh: number | null, sw: number | null): number[][] {
  const ry = axisRef(mode, src.length, oh, align, sh), rx = axisRef(mode, src[0].length, ow, align, sw);
  return ry.map((y) => rx.map((x) => {
    let s = 0;
    y.idx.forEach((iy, a) => x.idx.forEach((ix, b) => { s += y.w[a] * x.w[b] * src[iy][ix]; }));
    return s;
  }));
}

describe('interpolate, upsample', () => {
  it("matches PyTorch's nn.Upsample documentation", () => {
    const x = f64([1, 2, 3, 4], [1, 1, 2, 2]);
    expect(wg.interpolate(x, { scaleFactor: 2 }).toArray()).toEqual([[[[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]]]);
    expectClose(wg.upsample(x, { scaleFactor: 2, mode: 'bilinear' }).toArray(),
      [1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4]);
    expectClose(wg.interpolate(x, { scaleFactor: 2, mode: 'bilinear', alignCorners: true }).toArray(),
      [1, 4 / 3, 5 / 3, 2, 5 / 3, 2, 7 / 3, 8 / 3, 7 / 3, 8 / 3, 3, 10 / 3, 3, 10 / 3, 11 / 3, 4]);
    const z = f64([1, 2, 0, 3, 4, 0, 0, 0, 0], [1, 1, 3, 3]);
    expectClose(wg.upsample(z, { scaleFactor: 2, mode: 'bilinear' }).toArray(), [
      1, 1.25, 1.75, 1.5, 0.5, 0, 1.5, 1.75, 2.25, 1.875, 0.625, 0, 2.5, 2.75, 3.25, 2.625, 0.875, 0,
      2.25, 2.4375, 2.8125, 2.25, 0.75, 0, 0.75, 0.8125, 0.9375, 0.75, 0.25, 0, 0, 0, 0, 0, 0, 0]);
  });

  it("nearest is PyTorch's floor rule (not 'nearest-exact'), in float32 arithmetic", () => {
    const x = iota([1, 1, 3]);
    expect(wg.interpolate(x, { size: 5 }).toArray()).toEqual([[[0, 0, 1, 1, 2]]]); // nearest-exact: 0 0 1 2 2
    expect(wg.interpolate(iota([1, 1, 5]), { size: 3 }).toArray()).toEqual([[[0, 1, 3]]]);
    expect(wg.interpolate(iota([1, 1, 4]), { scaleFactor: 0.5 }).toArray()).toEqual([[[0, 2]]]);
    // scaleFactor 1.5 on 4: output 6, source floor(j / 1.5)
    expect(wg.interpolate(iota([1, 1, 4]), { scaleFactor: 1.5 }).toArray()).toEqual([[[0, 0, 1, 2, 2, 3]]]);
    // 5-D nearest, and size per dim
    const v = wg.interpolate(iota([1, 1, 2, 2, 2]), { size: [1, 3, 4] });
    expect(v.shape).toEqual([1, 1, 1, 3, 4]);
    expect(v.toArray()).toEqual([[[[[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 3, 3]]]]]);
  });

  it('linear, bilinear and bicubic against a direct reference, both alignCorners, size and scaleFactor', () => {
    const x = seeded([2, 2, 3, 4], 11);
    const planes = x.toArray() as number[][][][];
    const cases: [string, { size?: number[]; scaleFactor?: number | number[]; alignCorners?: boolean; recomputeScaleFactor?: boolean }][] = [
      ['bilinear', { size: [5, 7] }], ['bilinear', { size: [2, 9], alignCorners: true }],
      ['bilinear', { scaleFactor: [1.7, 0.6] }], ['bilinear', { scaleFactor: 1.3, recomputeScaleFactor: true }], ['bilinear', { size: [3, 6], alignCorners: true }],
      ['bicubic', { size: [5, 7] }], ['bicubic', { size: [6, 3], alignCorners: true }],
      ['bicubic', { scaleFactor: 2.3 }], ['bicubic', { scaleFactor: [0.7, 1.6], alignCorners: true }],
    ];
    for (const [mode, o] of cases) {
      const out = wg.interpolate(x, { ...o, mode: mode as 'bilinear' });
      const factors = o.scaleFactor === undefined ? null : Array.isArray(o.scaleFactor) ? o.scaleFactor : [o.scaleFactor, o.scaleFactor];
      const [oh, ow] = o.size ?? [Math.floor(3 * factors![0]), Math.floor(4 * factors![1])];
      const sc = factors && !o.recomputeScaleFactor ? factors : [null, null];
      const ref = planes.map((n) => n.map((p) => plane2d(p, mode === 'bicubic' ? 'cubic' : 'linear', oh, ow, !!o.alignCorners, sc[0], sc[1])));
      expect(out.shape, `${mode} ${JSON.stringify(o)}`).toEqual([2, 2, oh, ow]);
      expectClose(out.toArray(), ref, 1e-12, 1e-12);
    }
    // recomputeScaleFactor changes linear's coordinates: 1/1.3 against 4/5
    const l = iota([1, 1, 4]);
    const given = wg.interpolate(l, { scaleFactor: 1.3, mode: 'linear' }), recomputed = wg.interpolate(l, { scaleFactor: 1.3, mode: 'linear', recomputeScaleFactor: true });
    const row = (s: number) => Array.from({ length: 5 }, (_, j) => Math.min(Math.max(s * (j + 0.5) - 0.5, 0), 3));
    expectClose(given.toArray(), [row(1 / 1.3)]);
    expectClose(recomputed.toArray(), [row(0.8)]);
    // linear copies when the size does not change, even with a scaleFactor other than 1 (as PyTorch)
    expect(wg.interpolate(iota([1, 1, 5]), { scaleFactor: 1.1, mode: 'linear' }).toArray()).toEqual([[[0, 1, 2, 3, 4]]]);
    expect(wg.interpolate(iota([1, 1, 2, 3]), { size: [4, 3], mode: 'bilinear' }).toArray()).toEqual(
      [[[[0, 1, 2], [0.75, 1.75, 2.75], [2.25, 3.25, 4.25], [3, 4, 5]]]]);
    // bicubic repeats the border: a constant stays constant, a ramp is reproduced inside
    expectClose(wg.interpolate(wg.full([1, 1, 3, 3], 2.5, { dtype: 'float64' }), { size: [7, 5], mode: 'bicubic' }).toArray(),
      new Array(35).fill(2.5));
  });

  it('gradients by finite differences; float32 runs', () => {
    checkGrad((x) => wg.interpolate(x, { size: [4, 5], mode: 'bicubic' }), [seeded([1, 2, 3, 3], 12)]);
    checkGrad((x) => wg.interpolate(x, { scaleFactor: 1.5, mode: 'linear', alignCorners: true }), [seeded([2, 1, 4], 13)]);
    checkGrad((x) => wg.interpolate(x, { size: [5, 2] }), [seeded([1, 1, 3, 3], 14)]);
    const y = wg.interpolate(wg.tensor([[[[1, 2], [3, 4]]]]), { scaleFactor: 2, mode: 'bilinear' });
    expect(y.dtype).toBe('float32');
    expectClose(y.toArray(), [1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4]);
    const small = iota([1, 1, 3, 3]);
    expectNoLeak(() => wg.interpolate(small, { size: 4, mode: 'bicubic' }).dispose());
    // the index choices depend only on shapes: accelerated replays give the eager values
    const fast = wg.accelerate((a: Tensor) => wg.interpolate(a, { size: [3, 5], mode: 'bicubic' }).add(wg.pad(a, [1, 1, 1, 1], 0, 'reflect').sum()));
    const eager = (a: Tensor) => wg.interpolate(a, { size: [3, 5], mode: 'bicubic' }).add(wg.pad(a, [1, 1, 1, 1], 0, 'reflect').sum());
    for (const seed of [15, 16]) {
      const a = seeded([1, 2, 2, 3], seed);
      expect(fast(a).toArray()).toEqual(eager(a).toArray());
    }
  });

  it('refuses what PyTorch refuses, naming the problem', () => {
    const x = iota([1, 1, 3, 3]);
    expectError(() => wg.interpolate(x, { size: 4, scaleFactor: 2 }), wg.ValueError, 'exactly one of size and scaleFactor', 'both');
    expectError(() => wg.interpolate(x, {}), wg.ValueError, 'neither');
    expectError(() => wg.interpolate(x, { size: 4, alignCorners: false }), wg.ValueError, 'alignCorners', "'nearest'");
    expectError(() => wg.interpolate(x, { size: 4, mode: 'linear' }), wg.ShapeError, "'linear'", '3-D', '[1, 1, 3, 3]');
    expectError(() => wg.interpolate(iota([1, 1, 3]), { size: 4, mode: 'bicubic' }), wg.ShapeError, "'bicubic'", '4-D');
    expectError(() => wg.interpolate(x, { size: [4, 4, 4] }), wg.ValueError, 'size has 3 entries', '2 spatial');
    expectError(() => wg.interpolate(x, { scaleFactor: 0.2 }), wg.ShapeError, 'greater than 0');
    expectError(() => wg.interpolate(x, { size: 4, recomputeScaleFactor: true }), wg.ValueError, 'recomputeScaleFactor', 'explicit size');
    expectError(() => wg.interpolate(x, { size: 4, mode: 'area' as 'linear' }), wg.ValueError, 'mode');
    expectError(() => wg.interpolate(wg.tensor([[[1, 2]]], { dtype: 'int32' }), { size: 4 }), wg.DTypeError, 'int32');
    expectError(() => wg.upsample(x, { size: 4, recomputeScaleFactor: true } as object), wg.ValueError, "'recomputeScaleFactor'");
  });
});

// ————————————————————————————————————————— affineGrid, gridSample

/** PyTorch's grid_sampler_2d (CPU, scalar path) for one output point of one plane. */
function sampleRef(plane: number[][], gx: number, gy: number, mode: string, padding: string, align: boolean): number {
  const H = plane.length, W = plane[0].length;
  const unnorm = (c: number, n: number) => (align ? ((c + 1) / 2) * (n - 1) : ((c + 1) * n - 1) / 2);
  const clip = (c: number, n: number) => Math.min(n - 1, Math.max(c, 0));
  const reflect = (c: number, lo2: number, hi2: number) => {
    if (lo2 === hi2) return 0;
    const min = lo2 / 2, span = (hi2 - lo2) / 2;
    const v = Math.abs(c - min), extra = v % span, flips = Math.floor(v / span);
    return flips % 2 === 0 ? extra + min : span - extra + min;
  };
  const coord = (c: number, n: number) => {
    let v = unnorm(c, n);
    if (padding === 'border') v = clip(v, n);
    if (padding === 'reflection') v = clip(align ? reflect(v, 0, 2 * (n - 1)) : reflect(v, -1, 2 * n - 1), n);
    return v;
  };
  const ix = coord(gx, W), iy = coord(gy, H);
  const at = (x: number, y: number) => (x >= 0 && x < W && y >= 0 && y < H ? plane[y][x] : 0);
  if (mode === 'nearest') {
    const rnd = (v: number) => { const r = Math.round(v); return Math.abs(v - Math.trunc(v)) === 0.5 && r % 2 !== 0 ? r - 1 : r; };
    return at(rnd(ix), rnd(iy));
  }
  const x0 = Math.floor(ix), y0 = Math.floor(iy);
  const wx = ix - x0, wy = iy - y0;
  return at(x0, y0) * (1 - wx) * (1 - wy) + at(x0 + 1, y0) * wx * (1 - wy) + at(x0, y0 + 1) * (1 - wx) * wy + at(x0 + 1, y0 + 1) * wx * wy;
}

describe('affineGrid, gridSample', () => {
  it("affineGrid: PyTorch's base grid for both alignCorners, transformed by theta", () => {
    const id = f64([1, 0, 0, 0, 1, 0], [1, 2, 3]);
    expectClose(wg.affineGrid(id, [1, 1, 2, 2]).toArray(), [[[[-0.5, -0.5], [0.5, -0.5]], [[-0.5, 0.5], [0.5, 0.5]]]]);
    expectClose(wg.affineGrid(id, [1, 1, 2, 3], { alignCorners: true }).toArray(),
      [[[[-1, -1], [0, -1], [1, -1]], [[-1, 1], [0, 1], [1, 1]]]]);
    expectClose(wg.affineGrid(id, [1, 3, 1, 3]).toArray(), [[[[-2 / 3, 0], [0, 0], [2 / 3, 0]]]]);
    const theta = seeded([2, 2, 3], 21);
    const t = theta.toArray() as number[][][];
    const g = wg.affineGrid(theta, [2, 1, 3, 4]).toArray() as number[][][][];
    for (let n = 0; n < 2; n++) for (let h = 0; h < 3; h++) for (let w = 0; w < 4; w++) {
      const x = [-0.75, -0.25, 0.25, 0.75][w], y = [-2 / 3, 0, 2 / 3][h];
      for (let k = 0; k < 2; k++) expect(g[n][h][w][k]).toBeCloseTo(t[n][k][0] * x + t[n][k][1] * y + t[n][k][2], 14);
    }
    checkGrad((th) => wg.affineGrid(th, [2, 1, 2, 3], { alignCorners: true }), [seeded([2, 2, 3], 22)]);
    expectError(() => wg.affineGrid(id, [2, 1, 2, 2]), wg.ShapeError, '[2, 2, 3]', '[1, 2, 3]');
    expectError(() => wg.affineGrid(id, [1, 1, 2, 2, 2]), wg.ValueError, 'only 2-D');
  });

  it('gridSample: hand-computed points, every paddingMode', () => {
    const x = f64([1, 2, 3, 4], [1, 1, 2, 2]);
    const grid = f64([0, 0, -1, -1, 1.5, 0, 0.5, -0.5], [1, 1, 4, 2]);
    expectClose(wg.gridSample(x, grid).toArray(), [[[[2.5, 0.25, 0, 2]]]]);
    expectClose(wg.gridSample(x, grid, { paddingMode: 'border' }).toArray(), [[[[2.5, 1, 3, 2]]]]);
    expectClose(wg.gridSample(x, grid, { paddingMode: 'reflection' }).toArray(), [[[[2.5, 1, 3, 2]]]]);
    expectClose(wg.gridSample(x, grid, { alignCorners: true }).toArray(), [[[[2.5, 1, 2.25, 2.25]]]]);
    // nearest rounds half to even: pixel coordinates 0.5 and −0.5 → 0
    expect(wg.gridSample(x, grid, { mode: 'nearest' }).toArray()).toEqual([[[[1, 1, 0, 2]]]]);
    // an identity affine grid reproduces the input
    const img = seeded([2, 3, 4, 5], 23);
    const ident = wg.affineGrid(f64([1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0], [2, 2, 3]), [2, 3, 4, 5]);
    expectClose(wg.gridSample(img, ident).toArray(), img.toArray(), 1e-12, 1e-12);
    const identA = wg.affineGrid(f64([1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0], [2, 2, 3]), [2, 3, 4, 5], { alignCorners: true });
    expectClose(wg.gridSample(img, identA, { alignCorners: true, mode: 'nearest' }).toArray(), img.toArray());
  });

  it('gridSample against a per-point reference of PyTorch\'s sampler, every mode and paddingMode', () => {
    const img = seeded([2, 2, 3, 4], 24);
    const grid = seeded([2, 3, 5, 2], 25, -1.6, 1.6);
    const planes = img.toArray() as number[][][][], pts = grid.toArray() as number[][][][];
    for (const mode of ['bilinear', 'nearest'] as const) for (const paddingMode of ['zeros', 'border', 'reflection'] as const) for (const alignCorners of [false, true]) {
      const out = wg.gridSample(img, grid, { mode, paddingMode, alignCorners });
      const ref = planes.map((n, ni) => n.map((p) => pts[ni].map((row) => row.map(([gx, gy]) => sampleRef(p, gx, gy, mode, paddingMode, alignCorners)))));
      expectClose(out.toArray(), ref, 1e-12, 1e-12);
    }
  });

  it('gridSample gradients reach input and grid (bilinear), by finite differences', () => {
    const grid = f64([-0.83, -0.61, 0.12, 0.37, 0.58, -0.29, -1.19, 0.44, 1.07, -0.76, 0.31, 1.13], [1, 2, 3, 2]);
    for (const paddingMode of ['zeros', 'border', 'reflection'] as const) for (const alignCorners of [false, true]) {
      checkGrad((x, g) => wg.gridSample(x, g, { paddingMode, alignCorners }), [seeded([1, 2, 3, 4], 26), grid]);
    }
    const [, gGrid] = checkGrad((x, g) => wg.gridSample(x, g, { mode: 'nearest' }), [seeded([1, 2, 3, 4], 27), grid]);
    expect(gGrid.every((v) => v === 0)).toBe(true);
    // float32 runs with float32 coordinates; a grid read on the host cannot be accelerated (named, not baked in)
    const x32 = wg.tensor([[[[1, 2], [3, 4]]]]), g32 = wg.tensor([0, 0, -1, -1, 1.5, 0, 0.5, -0.5], { shape: [1, 1, 4, 2] });
    expectClose(wg.gridSample(x32, g32).toArray(), [[[[2.5, 0.25, 0, 2]]]]);
    expectClose(wg.gridSample(x32, g32, { paddingMode: 'reflection' }).toArray(), [[[[2.5, 1, 3, 2]]]]);
    expect(() => wg.accelerate((a: Tensor, b: Tensor) => wg.gridSample(a, b))(x32, g32)).toThrow(wg.NotAcceleratableError);
    expectError(() => wg.gridSample(iota([1, 1, 2, 2]), iota([2, 1, 1, 2])), wg.ShapeError, 'same batch size');
    expectError(() => wg.gridSample(iota([1, 1, 2, 2]), iota([1, 1, 1, 3])), wg.ShapeError, '(N, Hout, Wout, 2)');
    expectError(() => wg.gridSample(iota([1, 1, 2, 2]), iota([1, 1, 1, 2]), { mode: 'bicubic' as 'nearest' }), wg.ValueError, 'mode');
    expectError(() => wg.gridSample(iota([1, 1, 2, 2]), wg.zeros([1, 1, 1, 2])), wg.DTypeError, 'same dtype');
  });
});

// ————————————————————————————————————————— maskedFill

describe('maskedFill', () => {
  it('fills where the mask is true; mask and x broadcast; value converted as PyTorch', () => {
    const x = iota([2, 3]);
    expect(wg.maskedFill(x, wg.tensor([true, false, true]), -1).toArray()).toEqual([[-1, 1, -1], [-1, 4, -1]]);
    expect(x.maskedFill(wg.tensor([[false], [true]]), 9).toArray()).toEqual([[0, 1, 2], [9, 9, 9]]);
    const b = wg.maskedFill(f64([1, 2], [2]), wg.tensor([[true, false], [false, false]]), 0);
    expect(b.shape).toEqual([2, 2]);
    expect(b.toArray()).toEqual([[0, 2], [1, 2]]);
    expect(wg.maskedFill(wg.tensor([1, 2, 3], { dtype: 'int32' }), wg.tensor([false, true, true]), -2.7).toArray()).toEqual([1, -2, -2]);
    expect(wg.maskedFill(x, wg.tensor([true, false, false]), -Infinity).toArray()).toEqual([[-Infinity, 1, 2], [-Infinity, 4, 5]]);
    expect(wg.maskedFill(x, wg.tensor([false, true, false]), f64([7], [])).toArray()).toEqual([[0, 7, 2], [3, 7, 5]]);
  });

  it('the gradient reaches x off the mask and a 0-d value on it; bad input named', () => {
    const mask = wg.tensor([[true, false, false], [false, true, false]]);
    const [gx, gv] = checkGrad((x, v) => wg.maskedFill(x, mask, v).square(), [seeded([2, 3], 31), f64([0.7], [])]);
    expect([gx[0], gx[4]]).toEqual([0, 0]);
    expect(gv[0]).not.toBe(0);
    expectError(() => wg.maskedFill(iota([2]), wg.tensor([1, 0], { dtype: 'int32' }), 0), wg.DTypeError, 'bool', 'int32');
    expectError(() => wg.maskedFill(iota([2]), wg.tensor([true, false, true]), 0), wg.ShapeError, 'maskedFill');
    expectError(() => wg.maskedFill(iota([2]), wg.tensor([true, false]), f64([1, 2], [2])), wg.ShapeError, '0-d');
    expectError(() => wg.maskedFill(iota([2]), wg.tensor([true, false]), 'a' as unknown as number), wg.ValueError, 'value');
  });
});

// ————————————————————————————————————————— bucketize, searchsorted

describe('bucketize, searchsorted', () => {
  it("PyTorch's documented examples", () => {
    const boundaries = wg.tensor([1, 3, 5, 7, 9], { dtype: 'int32' });
    const v = wg.tensor([[3, 6, 9], [3, 6, 9]], { dtype: 'int32' });
    const b = wg.bucketize(v, boundaries);
    expect(b.dtype).toBe('int32');
    expect(b.toArray()).toEqual([[1, 3, 4], [1, 3, 4]]);
    expect(wg.bucketize(v, boundaries, { right: true }).toArray()).toEqual([[2, 3, 5], [2, 3, 5]]);
    const seq = wg.tensor([[1, 3, 5, 7, 9], [2, 4, 6, 8, 10]], { dtype: 'int32' });
    expect(wg.searchsorted(seq, v).toArray()).toEqual([[1, 3, 4], [1, 2, 4]]);
    expect(wg.searchsorted(seq, v, { right: true }).toArray()).toEqual([[2, 3, 5], [1, 3, 4]]);
    expect(wg.searchsorted(seq, v, { side: 'right' }).toArray()).toEqual([[2, 3, 5], [1, 3, 4]]);
    expect(wg.searchsorted(boundaries, v).toArray()).toEqual([[1, 3, 4], [1, 3, 4]]);
  });

  it('edges: below, above, ties, NaN, scalars, float values, empty boundaries', () => {
    const s = f64([0, 1, 1, 2], [4]);
    const v = f64([-1, 0, 1, 1.5, 2, 3, NaN], [7]);
    expect(wg.searchsorted(s, v).toArray()).toEqual([0, 0, 1, 3, 3, 4, 4]);
    expect(wg.searchsorted(s, v, { right: true, side: 'right' }).toArray()).toEqual([0, 1, 3, 3, 4, 4, 4]);
    expect(wg.bucketize(v, s).toArray()).toEqual([0, 0, 1, 3, 3, 4, 4]);
    const scalar = wg.bucketize(1.5, s);
    expect(scalar.shape).toEqual([]);
    expect(scalar.toArray()).toEqual(3);
    expect(wg.searchsorted(s, 1, { side: 'right' }).toArray()).toEqual(3);
    expect(wg.bucketize(f64([5], [1]), f64([], [0])).toArray()).toEqual([0]);
    expect(wg.bucketize(wg.tensor([0.5, 1.5]), wg.tensor([1, 2], { dtype: 'int32' }), { outInt32: true }).toArray()).toEqual([0, 1]);
    // sorter: an argsort of an unsorted sequence, per row
    const unsorted = f64([3, 1, 2, 10, 30, 20], [2, 3]);
    const sorter = wg.argsort(unsorted);
    expect(wg.searchsorted(unsorted, f64([2.5, 0, 20, 31], [2, 2]), { sorter }).toArray()).toEqual([[2, 0], [1, 3]]);
    expect(wg.searchsorted(unsorted, f64([2, 3, 20, 10], [2, 2]), { sorter, right: true }).toArray()).toEqual([[2, 3], [2, 1]]);
    expectError(() => wg.searchsorted(unsorted, f64([1, 2], [2, 1]), { sorter: wg.tensor([0, 1, 2], { dtype: 'int32' }) }), wg.ShapeError, 'sorter', '[3]', '[2, 3]');
    expectError(() => wg.searchsorted(unsorted, f64([1, 2], [2, 1]), { sorter: unsorted }), wg.DTypeError, 'sorter', 'int32');
  });

  it('bad input named; no gradient', () => {
    const s = f64([0, 1], [2]);
    expectError(() => wg.searchsorted(s, s, { side: 'left', right: true }), wg.ValueError, 'opposites');
    expectError(() => wg.bucketize(s, f64([0, 1, 2, 3], [2, 2])), wg.ShapeError, '1-D', '[2, 2]');
    expectError(() => wg.searchsorted(f64([0, 1, 2, 3], [2, 2]), f64([0, 1, 2], [3, 1])), wg.ShapeError, 'leading dims');
    expectError(() => wg.searchsorted(s, s, { side: 'middle' as 'left' }), wg.ValueError, 'side');
    expectError(() => wg.bucketize(wg.tensor([true]), s), wg.DTypeError, 'bool');
    const [, grad] = wg.valueAndGrad((x: Tensor) => wg.bucketize(x, s).to('float64').sum().add(x.sum()))(f64([0.5, 2], [2]));
    expect(Array.from(grad.data() as Float64Array)).toEqual([1, 1]);
  });
});

// ————————————————————————————————————————— cdist

function cdistRef(a: number[][], b: number[][], p: number): number[][] {
  return a.map((u) => b.map((v) => {
    const d = u.map((x, k) => Math.abs(x - v[k]));
    if (p === 0) return d.filter((x) => x !== 0).length;
    if (p === Infinity) return Math.max(...d);
    return d.reduce((s, x) => s + x ** p, 0) ** (1 / p);
  }));
}

describe('cdist', () => {
  it("PyTorch's documented example", () => {
    const a = f64([0.9041, 0.0196, -0.3108, -2.4423, -0.4821, 1.059], [3, 2]);
    const b = f64([-2.1763, -0.4713, -0.6986, 1.3702], [2, 2]);
    expectClose(wg.cdist(a, b).toArray(), [[3.1193, 2.0959], [2.7138, 3.8322], [2.2830, 0.3791]], 0, 1e-4);
  });

  it('p = 0, 1, 2, 3, 0.5, inf against a loop reference, batched and broadcast', () => {
    const a = seeded([2, 3, 4], 41), b = seeded([1, 5, 4], 42);
    const A = a.toArray() as number[][][], B = b.toArray() as number[][][];
    for (const p of [0, 1, 2, 3, 0.5, Infinity]) {
      const out = wg.cdist(a, b, p);
      expect(out.shape).toEqual([2, 3, 5]);
      expectClose(out.toArray(), A.map((m) => cdistRef(m, B[0], p)), 1e-12, 1e-12);
    }
    expect(wg.cdist(f64([], [2, 0]), f64([], [3, 0])).toArray()).toEqual([[0, 0, 0], [0, 0, 0]]);
  });

  it('gradients by finite differences; 0 (not NaN) at a zero distance, as PyTorch', () => {
    for (const p of [1, 2, 3, 1.5, Infinity]) checkGrad((x, y) => wg.cdist(x, y, p), [seeded([2, 3, 3], 43), seeded([2, 2, 3], 44, 1.5, 2.5)]);
    const x = f64([1, 2, 3, 4], [2, 2]);
    for (const p of [2, 3, 0.5]) {
      const [value, grad] = wg.valueAndGrad((u: Tensor) => wg.cdist(u, f64([1, 2], [1, 2]), p).sum())(x);
      expect(Number.isFinite(value.item())).toBe(true);
      const g = Array.from(grad.data() as Float64Array);
      expect(g.every(Number.isFinite)).toBe(true);
      expect(g.slice(0, 2)).toEqual([0, 0]);
    }
  });

  it('bad input named', () => {
    expectError(() => wg.cdist(iota([2, 3]), iota([2, 4])), wg.ShapeError, 'same number of columns', '3', '4');
    expectError(() => wg.cdist(iota([3]), iota([2, 3])), wg.ShapeError, 'x1', 'at least 2 dims');
    expectError(() => wg.cdist(iota([2, 3]), iota([2, 3]), -1), wg.ValueError, 'non-negative');
    expectError(() => wg.cdist(iota([2, 2, 3]), iota([3, 2, 3])), wg.ShapeError, 'batch');
    expectError(() => wg.cdist(iota([2, 3]), wg.zeros([2, 3])), wg.DTypeError, 'same dtype');
  });
});

// ————————————————————————————————————————— hypot

describe('hypot', () => {
  it('values without overflow or underflow, infinities and NaN as PyTorch (std::hypot)', () => {
    expectClose(wg.hypot(f64([3, -5, 0, 1e300, 3e-300, 0], [6]), f64([4, 12, -2, 1e300, 4e-300, 0], [6])).toArray(),
      [5, 13, 2, Math.SQRT2 * 1e300, 5e-300, 0], 1e-15, 0);
    expect(wg.hypot(f64([Infinity, -Infinity, Infinity, NaN, NaN], [5]), f64([NaN, 1, Infinity, 1, Infinity], [5])).toArray())
      .toEqual([Infinity, Infinity, Infinity, NaN, Infinity]);
    expect(f64([3], [1]).hypot(f64([[4], [0]], [2, 1])).toArray()).toEqual([[5], [3]]);
    expectClose(wg.hypot(wg.tensor([3e30]), wg.tensor([4e30])).toArray(), [5e30], 1e-7, 0);
  });

  it("gradient a/h and b/h by finite differences; PyTorch's NaN at the origin and at infinities; bad input named", () => {
    checkGrad((a, b) => wg.hypot(a, b), [seeded([3, 4], 51), seeded([4], 52)]);
    // PyTorch: grad·a/hypot(a, b), grad·b/hypot(a, b): 0/0 at the origin, ∞/∞ and finite/∞ at infinities.
    const a = f64([0, 3, 0, Infinity, -2, 1e-200, 1e200], [7]);
    const b = f64([0, 4, 4, 1, -Infinity, 1e-200, 1e200], [7]);
    const [y, [ga, gb]] = wg.valueAndGrad((a: Tensor, b: Tensor) => wg.hypot(a, b).sum(), { argnums: [0, 1] })(a, b);
    expect(y.item()).toBe(Infinity);
    const r = Math.SQRT1_2;
    expectClose(Array.from(ga.data() as Float64Array), [NaN, 0.6, 0, NaN, -0, r, r], 1e-15, 0);
    expectClose(Array.from(gb.data() as Float64Array), [NaN, 0.8, 1, 0, NaN, r, r], 1e-15, 0);
    expect(Object.is((ga.data() as Float64Array)[4], -0)).toBe(true); // −2/∞, as PyTorch
    // float32 as well, and the first-order gradient at the origin stays NaN under jvp.
    const [, g32] = wg.valueAndGrad((x: Tensor) => wg.hypot(x, wg.tensor([0, 4])).sum())(wg.tensor([0, 3]));
    expect(Array.from(g32.data())).toEqual([NaN, 0.6000000238418579]);
    const [, t] = wg.jvp((x: Tensor) => wg.hypot(x, f64([0, 4], [2])), [f64([0, 3], [2])], [f64([1, 1], [2])]);
    expectClose(Array.from((t as Tensor).data() as Float64Array), [NaN, 0.6], 1e-15, 0);
    expectError(() => wg.hypot(iota([2]), iota([3])), wg.ShapeError, 'hypot');
    expectError(() => wg.hypot(iota([2]), wg.tensor([1, 2], { dtype: 'int32' })), wg.DTypeError, 'int32');
  });
});
