// Resampling ops with PyTorch's semantics, built from recording ops (index selections, gathers,
// products with constant weights), so their VJP, JVP and higher derivatives come for free:
// interpolate / upsample (F.interpolate: nearest, linear, bilinear, bicubic), affineGrid and
// gridSample (F.affine_grid, F.grid_sample in 2-D). Which elements are read is decided on the host
// from the sizes (and, for gridSample, the grid's values); the weights are tensors, so the
// gradient reaches the input and, for gridSample's bilinear mode, the grid.

import { Tensor, tensor, type DTypeName } from '../tensor.js';
import { ShapeError, DTypeError, ValueError, formatShape } from '../errors.js';
import { idOf, requireInit, isFloat } from './common.js';
import { add, sub, mul, div, where } from './elementwise.js';
import { reshape, indexSelect, gather, select, transpose } from './shape.js';
import { matmul } from './matmul.js';
import { tidy } from '../scope.js';
import { options, opt, checkArity, type OptionsOf } from '../options.js';
import { show, checkNumel } from '../sizes.js';

/** interpolate's modes: 'nearest' (PyTorch's floor rule), 'linear' (3-D), 'bilinear' and 'bicubic' (4-D). */
export type InterpolateMode = 'nearest' | 'linear' | 'bilinear' | 'bicubic';

const upsampleSpecs = {
  /** the output's spatial size: one integer for every spatial dim, or one per dim */
  size: opt.any<number | readonly number[] | null>(),
  /** the factor (or one per spatial dim) the spatial sizes are multiplied by, the output size floored */
  scaleFactor: opt.any<number | readonly number[] | null>(),
  /** 'nearest' (default; PyTorch's floor rule, not 'nearest-exact'), 'linear' (3-D), 'bilinear' or 'bicubic' (4-D) */
  mode: opt.oneOf('nearest', 'linear', 'bilinear', 'bicubic'),
  /** linear, bilinear, bicubic: the corner pixels' centres align (default false); not allowed for 'nearest' */
  alignCorners: opt.nullable(opt.boolean),
};
const UPSAMPLE = options('upsample', upsampleSpecs);
const INTERPOLATE = options('interpolate', {
  ...upsampleSpecs,
  /** true: the coordinates use input/output sizes rather than the given scaleFactor (PyTorch's recompute_scale_factor) */
  recomputeScaleFactor: opt.nullable(opt.boolean),
});
/** Options of upsample: size or scaleFactor (exactly one), mode (default 'nearest'), alignCorners. */
export type UpsampleOptions = OptionsOf<typeof UPSAMPLE>;
/** Options of interpolate: size or scaleFactor (exactly one), mode (default 'nearest'), alignCorners, recomputeScaleFactor. */
export type InterpolateOptions = OptionsOf<typeof INTERPOLATE>;

function floatInput(op: string, x: Tensor, arg: string): void {
  idOf(x, `${op} (${arg})`);
  if (!isFloat(x.dtype)) throw new DTypeError(`${op}: ${arg} must be a float32 or float64 tensor, got ${x.dtype} ${formatShape(x.dims)}`);
}

/** One weighted read along a dim: out[j] = Σ_taps w[j]·x[index[j]] (w absent: weight 1). */
type Tap = [index: number[], weight: number[] | null];

const cubic1 = (x: number, A: number): number => ((A + 2) * x - (A + 3)) * x * x + 1;
const cubic2 = (x: number, A: number): number => ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;

/** PyTorch's area_pixel_compute_scale. */
function pixelScale(n: number, out: number, align: boolean, scale: number | null): number {
  if (align) return out > 1 ? (n - 1) / (out - 1) : 0;
  return scale !== null && scale > 0 ? 1 / scale : n / out;
}

/** The taps of one spatial dim of size n resampled to `out` (PyTorch's UpSample.h index rules). */
function tapsFor(mode: InterpolateMode, n: number, out: number, align: boolean, scale: number | null): Tap[] {
  const js = Array.from({ length: out }, (_, j) => j);
  if (mode === 'nearest') {
    // nearest_idx: float32 arithmetic, floor, clamped to n - 1 (sizes equal or doubled are exact)
    const s = Math.fround(scale !== null && scale > 0 ? 1 / scale : n / out);
    return [[js.map((j) => (out === n ? j : out === 2 * n ? j >> 1 : Math.min(Math.floor(Math.fround(j * s)), n - 1))), null]];
  }
  const h = pixelScale(n, out, align, scale);
  // guard_index_and_lambda: the index is floorf of the coordinate (in float32), at most n − 1, and
  // the fraction is clamped to [0, 1]
  const guard = (real: number): [number, number] => {
    const i0 = Math.min(Math.floor(Math.fround(real)), n - 1);
    return [i0, Math.min(Math.max(real - i0, 0), 1)];
  };
  if (mode === 'bicubic') {
    const taps: Tap[] = [0, 1, 2, 3].map(() => [[], []]);
    for (const j of js) {
      const [i0, t] = guard(align ? h * j : h * (j + 0.5) - 0.5), A = -0.75;
      const w = [cubic2(t + 1, A), cubic1(t, A), cubic1(1 - t, A), cubic2(2 - t, A)];
      for (let k = 0; k < 4; k++) {
        taps[k][0].push(Math.min(Math.max(i0 - 1 + k, 0), n - 1));
        (taps[k][1] as number[]).push(w[k]);
      }
    }
    return taps;
  }
  // linear: the same size is copied (PyTorch's compute_source_index_and_lambda), whatever the scale
  if (out === n) return [[js, null]];
  const i0s: number[] = [], i1s: number[] = [], w0: number[] = [], w1: number[] = [];
  for (const j of js) {
    const [i0, l1] = guard(align ? h * j : Math.max(h * (j + 0.5) - 0.5, 0));
    i0s.push(i0); i1s.push(i0 < n - 1 ? i0 + 1 : i0); w0.push(1 - l1); w1.push(l1);
  }
  return [[i0s, w0], [i1s, w1]];
}

/** x resampled along `axis` by the taps (recorded ops: the gradient reaches x). */
function applyTaps(x: Tensor, axis: number, taps: Tap[]): Tensor {
  const dtype = x.dtype as DTypeName;
  let sum: Tensor | null = null;
  for (const [index, weight] of taps) {
    const picked = indexSelect(x, axis, Int32Array.from(index));
    if (weight === null) return picked;
    const wShape = [index.length, ...x.dims.slice(axis + 1).map(() => 1)];
    const term = mul(picked, tensor(weight, { shape: wShape, dtype }));
    sum = sum === null ? term : add(sum, term);
  }
  return sum as Tensor;
}

function resample(op: 'interpolate' | 'upsample', x: Tensor, o: InterpolateOptions): Tensor {
  floatInput(op, x, 'x');
  const mode = o.mode ?? 'nearest';
  const k = x.rank - 2;
  const needs = mode === 'linear' ? [1] : mode === 'nearest' ? [1, 2, 3] : [2];
  if (!needs.includes(k)) {
    const want = mode === 'linear' ? '3-D input (N, C, L)' : mode === 'nearest' ? '3-D, 4-D or 5-D input (N, C, ...)' : '4-D input (N, C, H, W)';
    throw new ShapeError(`${op}: mode '${mode}' needs ${want}, got x of shape ${formatShape(x.dims)}`);
  }
  const alignGiven = o.alignCorners !== undefined && o.alignCorners !== null;
  if (mode === 'nearest' && alignGiven) {
    throw new ValueError(`${op}: alignCorners can only be set with the interpolating modes 'linear', 'bilinear' and 'bicubic', not 'nearest'`);
  }
  const align = !!o.alignCorners;
  const hasSize = o.size !== undefined && o.size !== null, hasScale = o.scaleFactor !== undefined && o.scaleFactor !== null;
  if (hasSize === hasScale) {
    throw new ValueError(`${op}: give exactly one of size and scaleFactor, got ${hasSize ? 'both' : 'neither'}`);
  }
  const spatial = x.dims.slice(2);
  const perDim = <T>(v: T | readonly T[], what: string): T[] => {
    if (!Array.isArray(v)) return spatial.map(() => v as T);
    if (v.length !== k) {
      throw new ValueError(`${op}: ${what} has ${v.length} entries but x (shape ${formatShape(x.dims)}) has ${k} spatial dim(s); give one per spatial dim or a single number`);
    }
    return [...v];
  };
  let outSizes: number[], scales: (number | null)[];
  if (hasSize) {
    if (o.recomputeScaleFactor) throw new ValueError(`${op}: recomputeScaleFactor is not meaningful with an explicit size`);
    outSizes = perDim(o.size as number | readonly number[], 'size');
    outSizes.forEach((s, i) => {
      if (typeof s !== 'number' || !Number.isInteger(s) || s < 1) throw new ValueError(`${op}: size[${i}] must be a positive integer, got ${show(s)}`);
    });
    scales = spatial.map(() => null);
  } else {
    const factors = perDim(o.scaleFactor as number | readonly number[], 'scaleFactor');
    factors.forEach((s, i) => {
      if (typeof s !== 'number' || !Number.isFinite(s) || s <= 0) throw new ValueError(`${op}: scaleFactor[${i}] must be a positive finite number, got ${show(s)}`);
    });
    outSizes = spatial.map((n, i) => Math.floor(n * factors[i]));
    scales = o.recomputeScaleFactor ? spatial.map(() => null) : factors;
  }
  if (outSizes.some((s) => s < 1) || spatial.some((n) => n < 1)) {
    throw new ShapeError(`${op}: input and output sizes must be greater than 0, got input ${formatShape(spatial)} and output ${formatShape(outSizes)} (x has shape ${formatShape(x.dims)})`);
  }
  checkNumel(op, [...x.dims.slice(0, 2), ...outSizes], x.dtype);
  return tidy(() => {
    let cur = x;
    spatial.forEach((n, i) => { cur = applyTaps(cur, 2 + i, tapsFor(mode, n, outSizes[i], align, scales[i])); });
    return cur === x ? mul(x, 1) : cur;
  });
}

/**
 * torch.nn.functional.interpolate on (N, C, L), (N, C, H, W) or (N, C, D, H, W) input: exactly one
 * of `size` and `scaleFactor`; mode 'nearest' (default: source index floor(j·in/out), PyTorch's
 * 'nearest', not 'nearest-exact'), 'linear' (3-D), 'bilinear' or 'bicubic' (4-D, A = −0.75,
 * border pixels repeated). alignCorners as PyTorch (default false). With a scaleFactor the
 * coordinates use 1/scaleFactor, unless recomputeScaleFactor is true (then input/output sizes).
 */
export function interpolate(x: Tensor, options?: InterpolateOptions): Tensor {
  if (arguments.length > 2) checkArity('interpolate', arguments, 2, 'x, options?');
  requireInit('interpolate');
  return resample('interpolate', x, INTERPOLATE.parse(options));
}

/** torch.nn.functional.upsample (deprecated in PyTorch, kept as there): interpolate with the same defaults, no recomputeScaleFactor. */
export function upsample(x: Tensor, options?: UpsampleOptions): Tensor {
  if (arguments.length > 2) checkArity('upsample', arguments, 2, 'x, options?');
  requireInit('upsample');
  return resample('upsample', x, UPSAMPLE.parse(options));
}

// ————————————————————————————————————————————————————————— affineGrid

const AFFINE_GRID = options('affineGrid', {
  /** the corner pixels' centres at ±1 (default false: the corner pixels' outer edges at ±1) */
  alignCorners: opt.nullable(opt.boolean),
});
/** Options of affineGrid: alignCorners (default false). */
export type AffineGridOptions = OptionsOf<typeof AFFINE_GRID>;

/** PyTorch's linspace_from_neg_one: n points of [−1, 1] (scaled by (n−1)/n without alignCorners). */
function linspaceNegOne(n: number, align: boolean): number[] {
  if (n <= 1) return [0];
  const step = 2 / (n - 1), half = Math.floor(n / 2);
  const v = Array.from({ length: n }, (_, i) => (i < half ? -1 + step * i : 1 - step * (n - 1 - i)));
  return align ? v : v.map((t) => (t * (n - 1)) / n);
}

/**
 * torch.nn.functional.affine_grid (2-D): the sampling grid (N, H, W, 2) of the affine maps
 * theta (N, 2, 3) for an output of `size` [N, C, H, W]; grid[n, h, w] = theta[n]·[x_w, y_h, 1].
 */
export function affineGrid(theta: Tensor, size: readonly number[], options?: AffineGridOptions): Tensor {
  if (arguments.length > 3) checkArity('affineGrid', arguments, 3, 'theta, size, options?');
  requireInit('affineGrid');
  const o = AFFINE_GRID.parse(options);
  floatInput('affineGrid', theta, 'theta');
  if (!Array.isArray(size) || size.length !== 4 || size.some((s) => typeof s !== 'number' || !Number.isInteger(s) || s < 1)) {
    throw new ValueError(`affineGrid: size must be [N, C, H, W] (4 positive integers; only 2-D grids are supported), got ${show(size)}`);
  }
  const [N, , H, W] = size;
  if (theta.rank !== 3 || theta.dims[0] !== N || theta.dims[1] !== 2 || theta.dims[2] !== 3) {
    throw new ShapeError(`affineGrid: theta must be a batch of 2-D affine matrices of shape [${N}, 2, 3] for size [${size.join(', ')}], got ${formatShape(theta.dims)}`);
  }
  checkNumel('affineGrid', [N, H, W, 2], theta.dtype);
  checkNumel('affineGrid', [H * W, 3], theta.dtype, 'the base grid');
  const align = !!o.alignCorners;
  const xs = linspaceNegOne(W, align), ys = linspaceNegOne(H, align);
  const base: number[] = [];
  for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) base.push(xs[w], ys[h], 1);
  return tidy(() => {
    const b = tensor(base, { shape: [H * W, 3], dtype: theta.dtype });
    return reshape(matmul(b, transpose(theta, 1, 2)), [N, H, W, 2]);
  });
}

// ————————————————————————————————————————————————————————— gridSample

const GRID_SAMPLE = options('gridSample', {
  /** 'bilinear' (default) or 'nearest' (round half to even; no gradient reaches the grid) */
  mode: opt.oneOf('bilinear', 'nearest'),
  /** outside the input: 'zeros' (default), 'border' (the edge value), 'reflection' (mirrored at the border) */
  paddingMode: opt.oneOf('zeros', 'border', 'reflection'),
  /** −1 and 1 are the corner pixels' centres (true) or their outer edges (false, default) */
  alignCorners: opt.nullable(opt.boolean),
});
/** Options of gridSample: mode ('bilinear' default, 'nearest'), paddingMode ('zeros' default, 'border', 'reflection'), alignCorners (default false). */
export type GridSampleOptions = OptionsOf<typeof GRID_SAMPLE>;

/** PyTorch's clip_coordinates_set_grad: [value, d value / d coordinate]. */
function clipCoordinate(c: number, n: number): [number, number] {
  if (c <= 0) return [0, 0];
  if (c >= n - 1) return [n - 1, 0];
  return [c, 1];
}

/** PyTorch's reflect_coordinates_set_grad. */
function reflectCoordinate(c: number, twiceLow: number, twiceHigh: number): [number, number] {
  if (twiceLow === twiceHigh) return [0, 0];
  const min = twiceLow / 2, span = (twiceHigh - twiceLow) / 2;
  let v = c - min, g = 1;
  if (v < 0) { g = -1; v = -v; }
  const extra = v % span, flips = Math.floor(v / span);
  return flips % 2 === 0 ? [extra + min, g] : [span - extra + min, -g];
}

/** nearbyint: round half to even. */
function roundHalfEven(v: number): number {
  const f = Math.floor(v), d = v - f;
  return d < 0.5 ? f : d > 0.5 ? f + 1 : (f % 2 === 0 ? f : f + 1);
}

/**
 * torch.nn.functional.grid_sample (2-D): out[n, c, i, j] = input[n, c] sampled at the point
 * grid[n, i, j] = (x, y) in [−1, 1] (x along the width). Mode 'bilinear' (default; the gradient
 * reaches both input and grid) or 'nearest'; paddingMode 'zeros' (default), 'border' or
 * 'reflection'; alignCorners default false — all as PyTorch.
 */
export function gridSample(input: Tensor, grid: Tensor, options?: GridSampleOptions): Tensor {
  if (arguments.length > 3) checkArity('gridSample', arguments, 3, 'input, grid, options?');
  requireInit('gridSample');
  const o = GRID_SAMPLE.parse(options);
  floatInput('gridSample', input, 'input');
  floatInput('gridSample', grid, 'grid');
  if (input.rank !== 4) throw new ShapeError(`gridSample: input must be 4-D (N, C, H, W), got ${formatShape(input.dims)}`);
  if (grid.rank !== 4 || grid.dims[3] !== 2) throw new ShapeError(`gridSample: grid must be (N, Hout, Wout, 2), got ${formatShape(grid.dims)}`);
  if (grid.dtype !== input.dtype) throw new DTypeError(`gridSample: grid (${grid.dtype}) and input (${input.dtype}) must have the same dtype`);
  const [N, C, H, W] = input.dims, [Ng, Ho, Wo] = grid.dims;
  if (Ng !== N) throw new ShapeError(`gridSample: grid and input must have the same batch size, got grid ${formatShape(grid.dims)} and input ${formatShape(input.dims)}`);
  if (H < 1 || W < 1) throw new ShapeError(`gridSample: input must have non-empty spatial dims, got ${formatShape(input.dims)}`);
  const mode = o.mode ?? 'bilinear', padding = o.paddingMode ?? 'zeros', align = !!o.alignCorners;
  const f = grid.dtype === 'float32' ? Math.fround : (v: number) => v;
  const P = Ho * Wo;
  checkNumel('gridSample', [N, C, Ho, Wo], input.dtype);
  const g = grid.data();
  // The coordinate in pixels after padding, its slope in the unnormalised coordinate (host side).
  const transform = (c: number, n: number): [number, number] => {
    if (padding === 'border') return clipCoordinate(c, n);
    if (padding === 'reflection') {
      const [r, s] = align ? reflectCoordinate(c, 0, 2 * (n - 1)) : reflectCoordinate(c, -1, 2 * n - 1);
      const [v, s2] = clipCoordinate(r, n);
      return [v, s * s2];
    }
    return [c, 1];
  };
  const unnorm = (v: number, n: number) => (align ? f(f(f(v + 1) / 2) * (n - 1)) : f(f(f(f(v + 1) * n) - 1) / 2));
  const cx: number[] = [], cy: number[] = [], sx: number[] = [], sy: number[] = [], ox: number[] = [], oy: number[] = [];
  for (let p = 0; p < N * P; p++) {
    const ux = unnorm(g[2 * p], W), uy = unnorm(g[2 * p + 1], H);
    const [vx, gx] = transform(ux, W), [vy, gy] = transform(uy, H);
    cx.push(vx); cy.push(vy); sx.push(gx); sy.push(gy);
    ox.push(gx === 0 ? vx : vx - gx * ux); oy.push(gy === 0 ? vy : vy - gy * uy);
  }
  const dtype = input.dtype;
  const inBounds = (x: number, y: number) => x >= 0 && x < W && y >= 0 && y < H;
  return tidy(() => {
    const flat = reshape(input, [N, C, H * W]);
    /** input at integer pixels (xs[p], ys[p]) or 0 outside, as (N, C, P) */
    const read = (xs: number[], ys: number[]): Tensor => {
      const idx = new Int32Array(N * C * P), mask = new Uint8Array(N * P);
      for (let n = 0; n < N; n++) {
        for (let q = 0; q < P; q++) {
          const p = n * P + q, ok = inBounds(xs[p], ys[p]);
          mask[p] = ok ? 1 : 0;
          const at = ok ? ys[p] * W + xs[p] : 0;
          for (let c = 0; c < C; c++) idx[(n * C + c) * P + q] = at;
        }
      }
      const picked = gather(flat, 2, tensor(idx, { shape: [N, C, P] }));
      return where(tensor(mask, { shape: [N, 1, P], dtype: 'bool' }), picked, 0);
    };
    let out: Tensor;
    if (mode === 'nearest') {
      out = read(cx.map(roundHalfEven), cy.map(roundHalfEven));
    } else {
      const coord = (axis: number, n: number, slope: number[], offset: number[]): Tensor => {
        const v = reshape(select(grid, 3, axis), [N, 1, P]);
        const u = align ? mul(div(add(v, 1), 2), n - 1) : div(sub(mul(add(v, 1), n), 1), 2);
        if (padding === 'zeros') return u;
        return add(mul(u, tensor(slope, { shape: [N, 1, P], dtype })), tensor(offset, { shape: [N, 1, P], dtype }));
      };
      const ix = coord(0, W, sx, ox), iy = coord(1, H, sy, oy);
      const x0 = cx.map(Math.floor), y0 = cy.map(Math.floor);
      const x1 = x0.map((v) => v + 1), y1 = y0.map((v) => v + 1);
      const c = (v: number[]) => tensor(v, { shape: [N, 1, P], dtype });
      const wx1 = sub(ix, c(x0)), wx0 = sub(c(x1), ix), wy1 = sub(iy, c(y0)), wy0 = sub(c(y1), iy);
      out = add(add(mul(read(x0, y0), mul(wx0, wy0)), mul(read(x1, y0), mul(wx1, wy0))),
        add(mul(read(x0, y1), mul(wx0, wy1)), mul(read(x1, y1), mul(wx1, wy1))));
    }
    return reshape(out, [N, C, Ho, Wo]);
  });
}
