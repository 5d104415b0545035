// Formatted dlarrays (MATLAB's data formats): dlarray(X, fmt) with canonical reordering and
// MATLAB's singleton rules, dims / finddim / stripdims, formats through elementwise ops, the
// MATLAB deep-learning functions on formatted input against the same computation done by hand in
// PyTorch's layout, dljacobian / dldivergence / dllaplacian on arrays of different ranks (MATLAB's
// published example), errors that name the labels, and no leaks.
//
// MATLAB sources: the Deep Learning Toolbox reference pages dlarray, dims, finddim, stripdims,
// extractdata, fullyconnect, dlconv, dltranspconv, maxpool, avgpool, batchnorm, crosschannelnorm,
// softmax and dljacobian (their examples' shapes are checked below where they are published).

import { beforeAll, describe, expect, it } from 'vitest';
import * as wg from '../src/index.js';
import type { Tensor } from '../src/index.js';
import { rand64, flat, expectClose, uniform, size } from './helpers.js';

beforeAll(async () => { await wg.init(); });

/** The element of a nested array at an index list. */
const at = (a: any, idx: number[]): number => idx.reduce((v, i) => v[i], a);

/** Every index of a shape, row-major. */
function* indices(shape: number[]): Generator<number[]> {
  const n = size(shape);
  for (let f = 0; f < n; f++) {
    const idx: number[] = [];
    let r = f;
    for (let k = shape.length - 1; k >= 0; k--) { idx.unshift(r % shape[k]); r = Math.floor(r / shape[k]); }
    yield idx;
  }
}

/** A nested JS array of `shape` with distinct values. */
function nested(shape: number[], seed = 1): any {
  const v = uniform(size(shape), -1, 1, seed);
  const build = (k: number, off: number): any => {
    if (k === shape.length) return v[off];
    const stride = size(shape.slice(k + 1));
    return Array.from({ length: shape[k] }, (_, i) => build(k + 1, off + i * stride));
  };
  return build(0, 0);
}

const leakCheck = (fn: () => void): void => {
  const before = wg.memory().liveTensors;
  wg.tidy(() => { fn(); return undefined; });
  expect(wg.memory().liveTensors).toBe(before);
};

describe('dlarray(X, fmt): labels, canonical order, MATLAB singleton rules', () => {
  it("MATLAB's dims example: dlarray(randn(3,4), 'TS') is stored 'ST', the data transposed", () => leakCheck(() => {
    const X = nested([3, 4]);
    const d = wg.dlarray(X, 'TS', { dtype: 'float64' });
    expect(wg.dims(d)).toBe('ST');
    expect(d.format).toBe('ST');
    expect(d.shape).toEqual([4, 3]);
    for (const [i, j] of indices([3, 4])) expect(at(d.toArray(), [j, i])).toBe(X[i][j]);
    const y = wg.stripdims(d);
    expect(wg.dims(y)).toBe('');
    expect(y.format).toBeUndefined();
    expect(y.toArray()).toEqual(d.toArray());
  }));

  it("MATLAB's finddim example: 'TSSU' on 5×4×3×2 is 'SSTU' 4×3×5×2; finddim is 0-based", () => leakCheck(() => {
    const X = nested([5, 4, 3, 2]);
    const d = wg.dlarray(X, 'TSSU', { dtype: 'float64' });
    expect(wg.dims(d)).toBe('SSTU');
    expect(d.shape).toEqual([4, 3, 5, 2]);
    expect(wg.finddim(d, 'T')).toEqual([2]);
    expect(wg.finddim(d, 'S')).toEqual([0, 1]);
    expect(wg.finddim(d, 'B')).toEqual([]);
    expect(wg.finddim(d, 'S').map((k) => d.shape[k])).toEqual([4, 3]); // MATLAB: SSize = [4 3]
    for (const [t, s1, s2, u] of indices([5, 4, 3, 2])) expect(at(d.toArray(), [s1, s2, t, u])).toBe(X[t][s1][s2][u]);
    expect(wg.finddim(wg.dlarray(nested([6, 5, 4, 3, 2]), 'SSCBT'), 'S')).toEqual([0, 1]);
    expect(wg.finddim(wg.tensor([1, 2]), 'C')).toEqual([]);
  }));

  it("MATLAB's stripdims example: 'SSTU' on 3×2×1×2 keeps its order; the singleton T stays", () => leakCheck(() => {
    const d = wg.dlarray(nested([3, 2, 1, 2]), 'SSTU');
    expect(d.format).toBe('SSTU');
    expect(d.shape).toEqual([3, 2, 1, 2]);
    expect(wg.stripdims(d).shape).toEqual([3, 2, 1, 2]);
  }));

  it("reorders to S…S C B T U: 'TCB' is stored 'CBT', 'BC' is 'CB', 'SSBC' is 'SSCB', 'BCSS' is 'SSCB'", () => leakCheck(() => {
    const X = nested([4, 3, 2]);
    const d = wg.dlarray(X, 'TCB', { dtype: 'float64' });
    expect(d.format).toBe('CBT');
    expect(d.shape).toEqual([3, 2, 4]);
    for (const [t, c, b] of indices([4, 3, 2])) expect(at(d.toArray(), [c, b, t])).toBe(X[t][c][b]);
    expect(wg.dlarray(nested([3, 10]), 'BC').shape).toEqual([10, 3]);
    expect(wg.dlarray(nested([3, 10]), 'BC').format).toBe('CB');
    expect(wg.dlarray(nested([3, 3, 10, 7]), 'SSBC').shape).toEqual([3, 3, 7, 10]);
    // MATLAB's Example 3: dlarray(Z1, 'BCSS') with Z1 32×3×24×24 is 24(S)×24(S)×3(C)×32(B)
    const z = wg.dlarray(wg.zeros([32, 3, 24, 24]), 'BCSS');
    expect([z.format, z.shape]).toEqual(['SSCB', [24, 24, 3, 32]]);
  }));

  it('singletons as MATLAB: more labels than dims append singletons, trailing singletons beyond the labels go, one label makes a column vector', () => leakCheck(() => {
    expect([wg.dlarray([1, 2, 3], 'CB').format, wg.dlarray([1, 2, 3], 'CB').shape]).toEqual(['CB', [3, 1]]);
    expect([wg.dlarray([1, 2, 3], 'C').format, wg.dlarray([1, 2, 3], 'C').shape]).toEqual(['CU', [3, 1]]);
    expect([wg.dlarray([1, 2, 3], 'BC').format, wg.dlarray([1, 2, 3], 'BC').shape]).toEqual(['CB', [1, 3]]);
    expect(wg.dlarray(nested([3, 4]), 'SSC').shape).toEqual([3, 4, 1]);
    expect(wg.dlarray(nested([3, 4]), 'SSCB').shape).toEqual([3, 4, 1, 1]);
    expect([wg.dlarray(nested([3, 4, 1]), 'SS').format, wg.dlarray(nested([3, 4, 1]), 'SS').shape]).toEqual(['SS', [3, 4]]);
    // singleton trailing U dims after the second go
    expect([wg.dlarray(nested([3, 4]), 'SSU').format, wg.dlarray(nested([3, 4]), 'SSU').shape]).toEqual(['SS', [3, 4]]);
    expect(wg.dlarray(nested([3, 4]), 'UCB').format).toBe('CBU');
    expect(wg.dlarray(nested([3, 4]), 'UCB').shape).toEqual([4, 1, 3]);
    expect(wg.dlarray(7, 'CB').shape).toEqual([1, 1]);
    // an empty format: unformatted
    expect(wg.dlarray([1, 2], '').format).toBeUndefined();
  }));

  it('dlarray of a Tensor: a copy keeping its format; a format replaces the old one; dtype casts; the input is untouched', () => leakCheck(() => {
    const x = wg.tensor(nested([2, 3]), { dtype: 'float64' });
    const a = wg.dlarray(x, 'CB');
    expect(a).not.toBe(x);
    expect(x.format).toBeUndefined();
    const b = wg.dlarray(a);
    expect([b.format, b.toArray()]).toEqual(['CB', x.toArray()]);
    expect(b).not.toBe(a);
    const c = wg.dlarray(a, 'BC');
    expect([c.format, c.shape, a.format]).toEqual(['CB', [3, 2], 'CB']);
    const d = wg.dlarray(a, 'CB', { dtype: 'float32' });
    expect([d.format, d.dtype]).toEqual(['CB', 'float32']);
    expect(wg.dlarray([1, 2, 3, 4], 'CB', { shape: [2, 2] }).shape).toEqual([2, 2]);
  }));

  it('stripdims(X, fmt) orders the dims by fmt (superset allowed: extra labels are singletons); extractdata reads the stored order', () => leakCheck(() => {
    const X = nested([4, 5, 3, 2]);
    const d = wg.dlarray(X, 'SSCB', { dtype: 'float64' });
    const nchw = wg.stripdims(d, 'BCSS');
    expect([nchw.format, nchw.shape]).toEqual([undefined, [2, 3, 4, 5]]);
    for (const [h, w, c, n] of indices([4, 5, 3, 2])) expect(at(nchw.toArray(), [n, c, h, w])).toBe(X[h][w][c][n]);
    expect(wg.stripdims(d, 'BTCSS').shape).toEqual([2, 1, 3, 4, 5]);
    expect(wg.extractdata(d)).toEqual(X);
    expect(() => wg.stripdims(d, 'BCS')).toThrow(/stripdims: X has format 'SSCB'.*'S' \(spatial\) has no place/);
  }));

  it('formatted arrays print their format; size gives the dims as stored (rank >= 2 for every formatted array)', () => leakCheck(() => {
    const d = wg.dlarray([[1, 2], [3, 4]], 'CB');
    expect(d.toString()).toBe("Tensor([[1,2],[3,4]], shape=[2, 2], format='CB', dtype=float32)");
    expect(wg.tensor([1, 2]).toString()).not.toContain('format');
    const s = wg.dlarray(nested([5, 4, 3, 2]), 'TSSU');
    expect(wg.size(s)).toEqual([4, 3, 5, 2]);
    expect(wg.size(s, wg.finddim(s, 'T')[0])).toBe(5);
    expect(wg.dlarray([1, 2, 3], 'C').rank).toBe(2);
    expect(() => { (d as any).format = 'BC'; }).toThrow(TypeError);
  }));

  it('errors name the labels: invalid letters, lower case, too few labels, C/B/T twice; nothing leaks', () => leakCheck(() => {
    expect(() => wg.dlarray(nested([2, 3]), 'SX')).toThrow(/dlarray: format 'SX' has the invalid label 'X' at position 1; the labels are S \(spatial\), C \(channel\)/);
    expect(() => wg.dlarray(nested([2, 3]), 'cb')).toThrow(/invalid label 'c' at position 0 \(labels are upper case: 'C'\)/);
    expect(() => wg.dlarray(nested([2, 3, 4]), 'CB')).toThrow(wg.ShapeError);
    expect(() => wg.dlarray(nested([2, 3, 4]), 'CB')).toThrow(/format 'CB' has 2 labels but the data has 3 dims \(shape \[2, 3, 4\]\)/);
    expect(() => wg.dlarray(nested([2, 3, 4]), 'CCB')).toThrow(/format 'CCB' has 2 'C' \(channel\) labels; C, B and T may each appear at most once/);
    expect(() => wg.dlarray(nested([2, 3, 4]), 'BTB')).toThrow(/2 'B' \(batch\) labels/);
    expect(() => wg.dlarray([1], 5 as any)).toThrow(/tensor: options must be an object/);
    expect(() => wg.finddim(wg.dlarray([1], 'CB'), 'Q')).toThrow(/finddim: label 'Q' has the invalid label 'Q'/);
    expect(() => wg.dims([1, 2] as any)).toThrow(/dims: X must be a Tensor/);
    const t = wg.tensor(nested([2, 3]), { dtype: 'float64' });
    expect(() => wg.dlarray(t, 'CBT', { shape: [6] })).toThrow(/option 'shape' reshapes data given as numbers/);
  }));
});

describe('formats through elementwise ops', () => {
  it('same format: functions and methods keep it; unformatted code is untouched', () => leakCheck(() => {
    const a = wg.dlarray(nested([3, 4]), 'CB', { dtype: 'float64' });
    const b = wg.dlarray(nested([3, 4], 2), 'CB', { dtype: 'float64' });
    for (const y of [wg.add(a, b), a.add(b), a.mul(2), wg.mul(3, a), a.sub(b).relu(), wg.sigmoid(a), a.tanh(), a.exp().log(),
      wg.gelu(a), a.gelu({ approximate: 'tanh' }), wg.leakyrelu(a, 0.2), a.leakyRelu(), wg.where(a.gt(0), a, b), a.clamp(-0.5, 0.5),
      a.to('float32'), wg.clone(a), a.gt(b), wg.maximum(a, b), a.pow(2), a.neg().abs()]) {
      expect(y.format).toBe('CB');
    }
    expectClose(flat(wg.leakyrelu(a, 0.2).toArray()), flat(wg.leakyRelu(wg.stripdims(a), 0.2).toArray()), 0, 0);
    // ops that change the shape drop it
    for (const y of [a.sum(), a.sum(0), a.reshape([12]), a.transpose(0, 1), a.select(1, 0), a.matmul(b.t())]) expect(y.format).toBeUndefined();
    // unformatted operands stay unformatted
    const u = wg.tensor([1, 2]);
    expect(u.add(u).format).toBeUndefined();
    expect(wg.relu(u).format).toBeUndefined();
  }));

  it("formats are matched by label: an 'SSCB' array plus a 'CB' bias, a 'C' vector, an unformatted [C] vector (MATLAB's C×1)", () => leakCheck(() => {
    const X = wg.dlarray(nested([4, 5, 3, 2]), 'SSCB', { dtype: 'float64' });
    const bias = wg.dlarray(nested([3, 2], 3), 'CB', { dtype: 'float64' });
    const y = wg.add(X, bias);
    expect([y.format, y.shape]).toEqual(['SSCB', [4, 5, 3, 2]]);
    const xv = X.toArray(), bv = bias.toArray(), yv = y.toArray();
    for (const [h, w, c, n] of indices([4, 5, 3, 2])) expect(at(yv, [h, w, c, n])).toBe(xv[h][w][c][n] + bv[c][n]);
    const col = wg.dlarray([1, 2, 3], 'C', { dtype: 'float64' }); // 'CU' column vector
    const z = X.mul(col);
    expect([z.format, z.shape]).toEqual(['SSCB', [4, 5, 3, 2]]);
    for (const [h, w, c, n] of indices([4, 5, 3, 2])) expect(at(z.toArray(), [h, w, c, n])).toBe(xv[h][w][c][n] * (c + 1));
    // an unformatted vector beside 'CB' data lines up with the first dim (MATLAB), not the last (NumPy)
    const cb = wg.dlarray(nested([3, 3]), 'CB', { dtype: 'float64' });
    const v = wg.tensor([10, 20, 30], { dtype: 'float64' });
    const s = cb.add(v);
    expect(s.format).toBe('CB');
    for (const [c, n] of indices([3, 3])) expect(at(s.toArray(), [c, n])).toBe(at(cb.toArray(), [c, n]) + 10 * (c + 1));
  }));

  it('a size or label mismatch is a ShapeError naming the labels', () => leakCheck(() => {
    const X = wg.dlarray(nested([4, 5, 3, 2]), 'SSCB');
    expect(() => X.add(wg.dlarray(nested([4, 2]), 'CB'))).toThrow(/add: dim 2 'C' \(channel\) of the format 'SSCB' is 3 in a .* but 4 in b/);
    expect(() => X.add(wg.dlarray(nested([4, 3, 2]), 'SCB'))).toThrow(/add: b has format 'SCB' and a 'SSCB': they have 1 and 2 'S' \(spatial\) dims, which cannot be matched/);
    expect(() => wg.add(wg.dlarray(nested([3, 2]), 'CB'), wg.zeros([3, 2, 4]))).toThrow(/b is unformatted with shape \[3, 2, 4\], more dims than the format 'CB'/);
  }));
});

/** X [h, w, c, n] 'SSCB' in PyTorch's NCHW, and back. */
const nchw = (x: Tensor) => wg.stripdims(x, 'BCSS');
const fromNchw = (y: Tensor) => wg.dlarray(y, 'BCSS');
/** MATLAB conv weights [fh, fw, C, F] as PyTorch's OIHW. */
const oihw = (w: Tensor) => w.permute([3, 2, 0, 1]);

describe('MATLAB deep-learning functions on formatted input, against PyTorch layout by hand', () => {
  it("fullyconnect: MATLAB's example (12×12×32×1 'SSCB', weights ones(10,12,12,32)) gives 10(C)×1(B); values as a plain sum", () => leakCheck(() => {
    const X = wg.dlarray(rand64([12, 12, 32, 1], 0, 1, 3), 'SSCB');
    const Y = wg.fullyconnect(X, wg.ones([10, 12, 12, 32], { dtype: 'float64' }), wg.ones([10, 1], { dtype: 'float64' }));
    expect([Y.format, Y.shape]).toEqual(['CB', [10, 1]]);
    const total = flat(X.toArray()).reduce((p, v) => p + v, 0) + 1;
    expectClose(flat(Y.toArray()), new Array(10).fill(total), 1e-13, 0);
  }));

  it("fullyconnect on 'CB', 'SSCB' (2-D weights: the row-major flattening of S…C) and 'CBT'; DataFormat; unformatted keeps linear", () => leakCheck(() => {
    const W = rand64([4, 6], -1, 1, 5), b = rand64([4], -1, 1, 6);
    const X = wg.dlarray(rand64([6, 3], -1, 1, 7), 'CB');
    const Y = wg.fullyconnect(X, W, b);
    expect([Y.format, Y.shape]).toEqual(['CB', [4, 3]]);
    const ref = wg.linear(wg.stripdims(X, 'BC'), W, b).t(); // PyTorch: x [N, in]·Wᵀ
    expectClose(flat(Y.toArray()), flat(ref.toArray()), 1e-14, 1e-15);
    // spatial input: weights [out, h·w·c] flatten (h, w, c) row-major
    const Xs = wg.dlarray(rand64([2, 3, 4, 5], -1, 1, 8), 'SSCB');
    const Ws = rand64([7, 24], -1, 1, 9);
    const Ys = wg.fullyconnect(Xs, Ws, null);
    expect([Ys.format, Ys.shape]).toEqual(['CB', [7, 5]]);
    const flatX = wg.stripdims(Xs, 'BSSC').reshape([5, 24]);
    expectClose(flat(Ys.toArray()), flat(wg.linear(flatX, Ws).t().toArray()), 1e-14, 1e-15);
    expectClose(flat(wg.fullyconnect(Xs, Ws.reshape([7, 2, 3, 4])).toArray()), flat(Ys.toArray()), 0, 0);
    // time: 'CBT' in, 'CBT' out
    const Xt = wg.dlarray(rand64([6, 3, 5], -1, 1, 10), 'CBT');
    const Yt = wg.fullyconnect(Xt, W, b);
    expect([Yt.format, Yt.shape]).toEqual(['CBT', [4, 3, 5]]);
    // DataFormat: unformatted in and out, in DataFormat's order (here PyTorch's batch-first)
    const xn = wg.stripdims(X, 'BC');
    const Yd = wg.fullyconnect(xn, W, b, { DataFormat: 'BC' });
    expect([Yd.format, Yd.shape]).toEqual([undefined, [3, 4]]);
    expectClose(flat(Yd.toArray()), flat(wg.stripdims(Y, 'BC').toArray()), 0, 0);
    expect(wg.fullyconnect(xn, W, b, 'DataFormat', 'BC').shape).toEqual([3, 4]); // name-value pairs
    // unformatted without DataFormat: PyTorch's linear, as before
    expect(flat(wg.fullyconnect(xn, W, b).toArray())).toEqual(flat(wg.linear(xn, W, b).toArray()));
    expect(() => wg.fullyconnect(X, rand64([4, 5]))).toThrow(/fullyconnect: weights has shape \[4, 5\] but X \(format 'CB', shape \[6, 3\]\) needs \[outputSize, 6\]/);
  }));

  it("dlconv on 'SSCB' (weights fh×fw×C×F) equals conv2d on NCHW with OIHW weights, bit for bit: stride, dilation, 'same', asymmetric padding, groups", () => leakCheck(() => {
    const X = wg.dlarray(rand64([7, 6, 3, 2], -1, 1, 11), 'SSCB');
    const W = rand64([3, 2, 3, 4], -1, 1, 12), b = rand64([4], -1, 1, 13);
    const Y = wg.dlconv(X, W, b);
    expect([Y.format, Y.shape]).toEqual(['SSCB', [5, 5, 4, 2]]);
    expect(Y.toArray()).toEqual(fromNchw(wg.conv2d(nchw(X), oihw(W), b)).toArray());
    const Y2 = wg.dlconv(X, W, b, { Stride: [2, 1], DilationFactor: 2, Padding: 1 });
    expect(Y2.toArray()).toEqual(fromNchw(wg.conv2d(nchw(X), oihw(W), b, { stride: [2, 1], dilation: 2, padding: 1 })).toArray());
    // 'same': output ceil(in / stride), the odd padding at the bottom / right
    const Ys = wg.dlconv(X, W, b, 'Padding', 'same', 'Stride', 2);
    expect(Ys.shape).toEqual([4, 3, 4, 2]);
    const padded = wg.pad(nchw(X), [0, 1, 0, 1]); // width: k 2 → total 1 (right); height: k 3, stride 2 → total 2 (1, 1)
    expect(Ys.toArray()).toEqual(fromNchw(wg.conv2d(wg.pad(padded, [0, 0, 1, 0]), oihw(W), b, { stride: 2 })).toArray());
    // [[top, left], [bottom, right]] with a padding value
    const Ya = wg.dlconv(X, W, b, { Padding: [[1, 0], [0, 2]], PaddingValue: 0.5 });
    expect(Ya.toArray()).toEqual(fromNchw(wg.conv2d(wg.pad(nchw(X), [0, 2, 1, 0], 0.5), oihw(W), b)).toArray());
    // groups: weights fh×fw×(C/G)×(F/G)×G
    const Xg = wg.dlarray(rand64([5, 5, 4, 1], -1, 1, 14), 'SSCB');
    const Wg = rand64([3, 3, 2, 3, 2], -1, 1, 15);
    const Yg = wg.dlconv(Xg, Wg, 0);
    expect(Yg.shape).toEqual([3, 3, 6, 1]);
    const wT = Wg.permute([4, 3, 2, 0, 1]).reshape([6, 2, 3, 3]);
    expect(Yg.toArray()).toEqual(fromNchw(wg.conv2d(nchw(Xg), wT, null, { groups: 2 })).toArray());
    // 1-D: 'SCB', weights fl×C×F
    const X1 = wg.dlarray(rand64([9, 3, 2], -1, 1, 16), 'SCB');
    const W1 = rand64([4, 3, 5], -1, 1, 17);
    const Y1 = wg.dlconv(X1, W1, 0, { Stride: 2 });
    expect([Y1.format, Y1.shape]).toEqual(['SCB', [3, 5, 2]]);
    expect(Y1.toArray()).toEqual(wg.dlarray(wg.conv1d(wg.stripdims(X1, 'BCS'), W1.permute([2, 1, 0]), null, { stride: 2 }), 'BCS').toArray());
    // DataFormat on NCHW data: the result stays NCHW
    const Yd = wg.dlconv(nchw(X), W, b, { DataFormat: 'BCSS' });
    expect([Yd.format, Yd.toArray()]).toEqual([undefined, wg.conv2d(nchw(X), oihw(W), b).toArray()]);
    expect(() => wg.dlconv(nchw(X), W, b)).toThrow(/dlconv: X is unformatted \(shape \[2, 3, 7, 6\]\); label it with dlarray\(X, fmt\) or give the DataFormat option/);
    expect(() => wg.dlconv(X, rand64([3, 3, 2, 4]), b)).toThrow(/dlconv: weights has shape \[3, 3, 2, 4\]: 2 channels per group × 1 group but X has 3 channels \('C'\)/);
    expect(() => wg.dlconv(wg.dlarray(rand64([3, 4]), 'CB'), W, b)).toThrow(/dlconv: X has format 'CB' with 0 'S' \(spatial\) dims/);
  }));

  it("dltranspconv on 'SSCB' (weights fh×fw×F×C) equals convTranspose2d on NCHW, bit for bit; Cropping; unformatted keeps PyTorch's form", () => leakCheck(() => {
    const X = wg.dlarray(rand64([4, 3, 3, 2], -1, 1, 21), 'SSCB');
    const W = rand64([3, 3, 5, 3], -1, 1, 22), b = rand64([5], -1, 1, 23);
    const wT = W.permute([3, 2, 0, 1]); // [C, F, fh, fw]
    const Y = wg.dltranspconv(X, W, b, { Stride: 2 });
    expect([Y.format, Y.shape]).toEqual(['SSCB', [9, 7, 5, 2]]);
    expect(Y.toArray()).toEqual(fromNchw(wg.convTranspose2d(nchw(X), wT, b, { stride: 2 })).toArray());
    const Ys = wg.dltranspconv(X, W, b, { Stride: 2, Cropping: 'same' });
    expect(Ys.shape).toEqual([8, 6, 5, 2]); // input × stride
    const full = wg.convTranspose2d(nchw(X), wT, b, { stride: 2 });
    expect(Ys.toArray()).toEqual(fromNchw(full.narrow(2, 0, 8).narrow(3, 0, 6)).toArray());
    const Yc = wg.dltranspconv(X, W, b, { Cropping: 1 });
    expect(Yc.toArray()).toEqual(fromNchw(wg.convTranspose2d(nchw(X), wT, b, { padding: 1 })).toArray());
    expect(wg.dltranspconv(nchw(X), wT, b, { stride: 2 }).toArray()).toEqual(full.toArray());
    expect(() => wg.dltranspconv(X, W, b, { stride: 2 })).toThrow(/dltranspconv: 'stride' is an option of the PyTorch form \(unformatted X\)/);
    expect(() => wg.dltranspconv(nchw(X), wT, b, { Stride: 2 })).toThrow(/dltranspconv: 'Stride' is MATLAB's option, for formatted X/);
  }));

  it("maxpool / avgpool over the 'S' dims equal maxPool2d / avgPool2d on NCHW, bit for bit; MATLAB's default stride 1; 'global'; 'same'", () => leakCheck(() => {
    // MATLAB's maxpool example shape: 6×6×1×1, pool 2, stride 2 → 3×3×1×1
    const X6 = wg.dlarray(rand64([6, 6, 1, 1], 0, 1, 30), 'SSCB');
    const Y6 = wg.maxpool(X6, 2, 'Stride', 2);
    expect([Y6.format, Y6.shape]).toEqual(['SSCB', [3, 3, 1, 1]]);
    const X = wg.dlarray(rand64([7, 6, 3, 2], -1, 1, 31), 'SSCB');
    expect(wg.maxpool(X, [3, 2]).shape).toEqual([5, 5, 3, 2]); // stride 1 by default (MATLAB)
    expect(wg.maxpool(X, [3, 2]).toArray()).toEqual(fromNchw(wg.maxPool2d(nchw(X), [3, 2], { stride: 1 })).toArray());
    expect(wg.avgpool(X, 2, { Stride: 2, Padding: 1 }).toArray())
      .toEqual(fromNchw(wg.avgPool2d(nchw(X), 2, { stride: 2, padding: 1 })).toArray());
    const g = wg.maxpool(X, 'global');
    expect([g.format, g.shape]).toEqual(['SSCB', [1, 1, 3, 2]]);
    expect(flat(g.toArray())).toEqual(flat(wg.globalMaxPool2d(nchw(X)).permute([2, 3, 1, 0]).toArray()));
    const same = wg.avgpool(X, 3, { Stride: 2, Padding: 'same' });
    expect(same.shape).toEqual([4, 3, 3, 2]);
    // asymmetric padding goes in explicitly: -inf for max, PaddingValue (0) for the average
    expect(wg.maxpool(X, 2, { Padding: [[0, 1], [1, 0]] }).toArray())
      .toEqual(fromNchw(wg.maxPool2d(wg.pad(nchw(X), [1, 0, 0, 1], -Infinity), 2, { stride: 1 })).toArray());
    const X1 = wg.dlarray(rand64([8, 2, 3], -1, 1, 32), 'SCB');
    expect(wg.avgpool(X1, 2, { Stride: 2 }).toArray())
      .toEqual(wg.dlarray(wg.avgPool1d(wg.stripdims(X1, 'BCS'), 2, { stride: 2 }), 'BCS').toArray());
    expect(() => wg.maxpool(wg.dlarray(rand64([3, 4, 5]), 'CBT'), 2)).toThrow(/maxpool: X has format 'CBT' with 0 'S' \(spatial\) dims/);
  }));

  it("batchnorm normalises per 'C' over the other dims, equal to batchNorm on NCHW; returns the batch statistics; running updates; inference", () => leakCheck(() => {
    const X = wg.dlarray(rand64([4, 3, 3, 5], -2, 2, 40), 'SSCB');
    const offset = rand64([3, 1], -1, 1, 41), scale = rand64([3, 1], 0.5, 1.5, 42); // MATLAB's C×1 vectors
    const [Y, mu, sigmaSq] = wg.batchnorm(X, offset, scale);
    expect([Y.format, Y.shape, mu.shape, sigmaSq.shape]).toEqual(['SSCB', [4, 3, 3, 5], [3, 1], [3, 1]]);
    const ref = wg.batchNorm(nchw(X), null, null, scale.reshape([3]), offset.reshape([3]), { training: true });
    expect(Y.toArray()).toEqual(fromNchw(ref).toArray());
    // the statistics: per channel over h, w and n, the variance divided by N (population)
    const xv = X.toArray();
    for (let c = 0; c < 3; c++) {
      const vals: number[] = [];
      for (const [h, w, , n] of indices([4, 3, 1, 5])) vals.push(xv[h][w][c][n]);
      const m = vals.reduce((p, v) => p + v, 0) / vals.length;
      expectClose(flat(mu.toArray())[c], m, 1e-14, 1e-15);
      expectClose(flat(sigmaSq.toArray())[c], vals.reduce((p, v) => p + (v - m) ** 2, 0) / vals.length, 1e-13, 1e-15);
    }
    // running statistics, MATLAB's update s ← φ·s_batch + (1 − φ)·s
    const rm = rand64([3], -1, 1, 43), rv = rand64([3], 0.5, 1.5, 44);
    const [Y2, um, uv] = wg.batchnorm(X, offset, scale, rm, rv, { Training: true, MeanDecay: 0.3 });
    expect(Y2.toArray()).toEqual(Y.toArray());
    expectClose(flat(um.toArray()), flat(mu.toArray()).map((m, c) => 0.3 * m + 0.7 * flat(rm.toArray())[c]), 1e-14, 1e-15);
    expectClose(flat(uv.toArray()), flat(sigmaSq.toArray()).map((s, c) => 0.1 * s + 0.9 * flat(rv.toArray())[c]), 1e-14, 1e-15);
    // inference with trained statistics
    const [Yi, tm, tv] = wg.batchnorm(X, offset, scale, rm, rv, { Training: false, Epsilon: 1e-3 });
    expect([tm, tv]).toEqual([rm, rv]);
    const refI = wg.batchNorm(nchw(X), rm, rv, scale.reshape([3]), offset.reshape([3]), { eps: 1e-3 });
    expect(Yi.toArray()).toEqual(fromNchw(refI).toArray());
    // DataFormat, and the CB case
    const [Yd] = wg.batchnorm(nchw(X), offset, scale, { DataFormat: 'BCSS' });
    expect(Yd.toArray()).toEqual(ref.toArray());
    expect(wg.batchnorm(wg.dlarray(rand64([3, 6], -1, 1, 45), 'CB'), offset, scale)[0].format).toBe('CB');
    expect(() => wg.batchnorm(X, offset, scale, rm, rv)).toThrow(/batchnorm: with running statistics, MATLAB picks training or inference by the number of outputs/);
    expect(() => wg.batchnorm(X, rand64([2]), scale)).toThrow(/batchnorm: offset has shape \[2\] but X has 3 channels \('C'\)/);
  }));

  it("crosschannelnorm over 'C' with MATLAB's K = 2 equals localResponseNorm on NCHW; unformatted keeps PyTorch's k = 1", () => leakCheck(() => {
    const X = wg.dlarray(rand64([3, 2, 5, 2], -1, 1, 50), 'SSCB');
    const Y = wg.crosschannelnorm(X, 3, { alpha: 0.5 });
    expect(Y.format).toBe('SSCB');
    expect(Y.toArray()).toEqual(fromNchw(wg.localResponseNorm(nchw(X), 3, { alpha: 0.5, k: 2 })).toArray());
    const x = nchw(X);
    expect(wg.crosschannelnorm(x, 3).toArray()).toEqual(wg.localResponseNorm(x, 3).toArray());
    const Ycb = wg.crosschannelnorm(wg.dlarray(rand64([5, 4], -1, 1, 51), 'CB'), 5, { beta: 0.5, k: 1 });
    expect(Ycb.shape).toEqual([5, 4]);
  }));

  it("softmax over 'C' (formatted or DataFormat) equals softmax along that axis, with no copy for the layout; an axis keeps PyTorch's meaning", () => leakCheck(() => {
    const X = wg.dlarray(rand64([3, 2, 4, 5], -2, 2, 60), 'SSCB');
    const Y = wg.softmax(X);
    expect(Y.format).toBe('SSCB');
    expect(Y.toArray()).toEqual(wg.softmax(wg.stripdims(X), 2).toArray());
    expect(X.softmax().toArray()).toEqual(Y.toArray());
    const x = rand64([5, 4], -2, 2, 61);
    expect(wg.softmax(x, { DataFormat: 'CB' }).toArray()).toEqual(wg.softmax(x, 0).toArray());
    expect(wg.softmax(x, 'DataFormat', 'BC').toArray()).toEqual(wg.softmax(x, 1).toArray());
    expect(wg.softmax(x).toArray()).toEqual(wg.softmax(x, -1).toArray());
    expect(wg.softmax(X, 0).format).toBe('SSCB');
    expect(() => wg.softmax(wg.dlarray(rand64([3, 4]), 'SB'))).toThrow(/softmax: X has format 'SB' with no 'C' \(channel\) dim/);
  }));

  it('gradients flow through formatted ops and the layout moves (finite differences, float64)', () => {
    const W = rand64([3, 3, 2, 4], -1, 1, 70), b = rand64([4], -1, 1, 71);
    const f = (x: Tensor) => {
      const X = wg.dlarray(x, 'SSCB');
      const h = wg.relu(wg.dlconv(X, W, b, { Padding: 'same' }));
      const [n] = wg.batchnorm(wg.maxpool(h, 2, { Stride: 2 }), wg.zeros([4], { dtype: 'float64' }), wg.ones([4], { dtype: 'float64' }));
      return wg.softmax(wg.fullyconnect(n, rand64([3, 2 * 2 * 4], -1, 1, 72))).square().sum();
    };
    const x0 = rand64([4, 4, 2, 3], -1, 1, 73);
    const g = wg.grad(f)(x0) as Tensor;
    const xv = flat(x0.toArray()), h = 1e-6;
    for (const k of [0, 7, 19, 40, 95]) {
      const plus = xv.slice(), minus = xv.slice();
      plus[k] += h; minus[k] -= h;
      const fp = f(wg.tensor(plus, { shape: [4, 4, 2, 3], dtype: 'float64' })).item() as number;
      const fm = f(wg.tensor(minus, { shape: [4, 4, 2, 3], dtype: 'float64' })).item() as number;
      expectClose(flat(g.toArray())[k], (fp - fm) / (2 * h), 1e-5, 1e-8);
    }
  });
});

describe('dljacobian / dldivergence / dllaplacian on formatted arrays of different ranks', () => {
  it("MATLAB's example: x 16×16×3×128 'SSCB', u 5×128 'CB' (conv 3×3 → relu → fullyconnect 5 → softmax) gives a 5×16×16×3×128 Jacobian", () => {
    const W = wg.mul(wg.randn([3, 3, 3, 8]), 0.2), b = wg.zeros([8]);
    const Wf = wg.mul(wg.randn([5, 14 * 14 * 8]), 0.02), bf = wg.zeros([5]);
    const X = wg.dlarray(wg.rand([16, 16, 3, 128]), 'SSCB');
    const jac = wg.dlfeval((x: Tensor) => {
      const xf = wg.dlarray(x, 'SSCB');
      const u = wg.softmax(wg.fullyconnect(wg.relu(wg.dlconv(xf, W, b)), Wf, bf));
      expect([u.format, u.shape]).toEqual(['CB', [5, 128]]);
      return wg.dljacobian(u, xf, 0);
    }, X) as Tensor;
    expect(jac.shape).toEqual([5, 16, 16, 3, 128]);
    expect(jac.format).toBeUndefined();
    // stripdims first, as MATLAB's example does: the same Jacobian from unformatted arrays of different ranks
    const jac2 = wg.dlfeval((x: Tensor) => {
      const u = wg.softmax(wg.fullyconnect(wg.relu(wg.dlconv(x, W, b, { DataFormat: 'SSCB' })), Wf, bf, { DataFormat: 'SSCB' }), { DataFormat: 'CB' });
      return wg.dljacobian(u, x, 0);
    }, wg.stripdims(X)) as Tensor;
    expect(jac2.toArray()).toEqual(jac.toArray());
  });

  it('values against finite differences, zero across observations; dldivergence and dllaplacian over several component axes', () => {
    const Wf = rand64([4, 2 * 3 * 2], -1, 1, 80);
    const model = (x: Tensor) => wg.fullyconnect(x, Wf).tanh(); // 'SSCB' [2, 3, 2, N] → 'CB' [4, N]
    const x0 = rand64([2, 3, 2, 3], -1, 1, 81);
    const [jac, div, lap] = wg.dlfeval((x: Tensor) => {
      const xf = wg.dlarray(x, 'SSCB');
      const u = model(xf);
      const u12 = model(xf).mul(wg.dlarray(rand64([4, 1], 0.5, 1.5, 82), 'CB')); // 4 components
      const uDiv = wg.fullyconnect(xf, rand64([12, 12], -1, 1, 83)).sin(); // 12 components = x's 2·3·2
      expect(uDiv.format).toBe('CB');
      void u12;
      return [wg.dljacobian(u, xf, 0), wg.dldivergence(uDiv, xf, 0), wg.dllaplacian(u, xf, 0)];
    }, x0) as Tensor[];
    expect(jac.shape).toEqual([4, 2, 3, 2, 3]);
    expect([div.format, div.shape]).toEqual(['CB', [1, 3]]);
    expect([lap.format, lap.shape]).toEqual(['CB', [4, 3]]);
    const xv = flat(x0.toArray()), h = 1e-5;
    const U = (v: number[]) => flat(model(wg.dlarray(wg.tensor(v, { shape: [2, 3, 2, 3], dtype: 'float64' }), 'SSCB')).toArray());
    const Wd = rand64([12, 12], -1, 1, 83);
    const Ud = (v: number[]) => flat(wg.fullyconnect(wg.dlarray(wg.tensor(v, { shape: [2, 3, 2, 3], dtype: 'float64' }), 'SSCB'), Wd).sin().toArray());
    const jv = jac.toArray();
    let divFd = [0, 0, 0], lapFd = new Array(12).fill(0);
    for (const [p, q, r, n] of indices([2, 3, 2, 3])) {
      const k = ((p * 3 + q) * 2 + r) * 3 + n;
      const plus = xv.slice(), minus = xv.slice();
      plus[k] += h; minus[k] -= h;
      const up = U(plus), um = U(minus), u0 = U(xv);
      for (let i = 0; i < 4; i++) {
        for (let m = 0; m < 3; m++) {
          const fd = (up[i * 3 + m] - um[i * 3 + m]) / (2 * h);
          if (m === n) expectClose(at(jv, [i, p, q, r, n]), fd, 1e-6, 1e-8);
          else expect(Math.abs(fd)).toBeLessThan(1e-9); // observation m does not depend on x's observation n
        }
        lapFd[i * 3 + n] += (up[i * 3 + n] - 2 * u0[i * 3 + n] + um[i * 3 + n]) / (h * h);
      }
      const c = (p * 3 + q) * 2 + r; // x's flat component index, row-major over S, S, C
      const dp = Ud(plus), dm = Ud(minus);
      divFd[n] += (dp[c * 3 + n] - dm[c * 3 + n]) / (2 * h);
    }
    expectClose(flat(div.toArray()), divFd, 1e-6, 1e-7);
    expectClose(flat(lap.toArray()), lapFd, 1e-3, 1e-4);
  });

  it('unformatted arrays of different ranks work too; observation labels and sizes must match', () => {
    const x0 = rand64([4, 3, 5], -1, 1, 90);
    const jac = wg.dlfeval((x: Tensor) => wg.dljacobian(x.sum(1).sin(), x, 0), x0) as Tensor; // u [4, 5]: components 4, observations 5
    expect(jac.shape).toEqual([4, 4, 3, 5]);
    expect(() => wg.dlfeval((x: Tensor) => {
      const xf = wg.dlarray(x, 'SCB');
      return wg.dljacobian(wg.dlarray(xf.sum(0).sum(0).reshape([1, 5]), 'CT'), xf, 0);
    }, x0)).toThrow(/dljacobian: u \(shape \[1, 5\], format 'CT'\) and x \(shape \[4, 3, 5\], format 'SCB'\) differ on their observation axes/);
    expect(() => wg.dlfeval((x: Tensor) => wg.dljacobian(x.sum(1).slice(1, 0, 2), x, 0), x0)).toThrow(/dljacobian: u \(shape \[4, 2\]\) and x \(shape \[4, 3, 5\]\) differ on their observation axes/);
    expect(() => wg.dlfeval((x: Tensor) => wg.dljacobian(x.reshape([4, 15, 1, 1]), x, 0), x0)).toThrow(/x \(shape \[4, 3, 5\]\) has fewer dims than u/);
  });
});

describe('docs/dlarray.md', () => {
  it('the first example runs and gives the shapes it states', () => leakCheck(() => {
    const X = wg.dlarray(wg.rand([28, 28, 1, 64]), 'SSCB');
    const W = wg.randn([5, 5, 1, 8]).mul(0.1);
    let Y = wg.relu(wg.dlconv(X, W, 0, { Padding: 'same' }));
    expect([Y.format, Y.shape]).toEqual(['SSCB', [28, 28, 8, 64]]);
    Y = wg.maxpool(Y, 2, 'Stride', 2);
    Y = wg.softmax(wg.fullyconnect(Y, wg.randn([10, 14 * 14 * 8]).mul(0.01), null));
    expect([wg.dims(Y), Y.shape]).toEqual(['CB', [10, 64]]);
    expect(Y.toString()).toContain("shape=[10, 64], format='CB', dtype=float32)");
  }));
});

describe('leaks', () => {
  it('the MATLAB functions leave nothing behind, on success and on failure', () => leakCheck(() => {
    const X = wg.dlarray(rand64([5, 5, 2, 2], -1, 1, 100), 'SSCB');
    const W = rand64([3, 3, 2, 3], -1, 1, 101);
    wg.dlconv(X, W, 0, { Padding: [[1, 0], [0, 1]] });
    wg.maxpool(X, 2, { Padding: 'same' });
    wg.avgpool(X, 'global');
    wg.batchnorm(X, wg.zeros([2], { dtype: 'float64' }), wg.ones([2], { dtype: 'float64' }));
    wg.crosschannelnorm(X, 2);
    wg.softmax(X);
    wg.fullyconnect(X, rand64([4, 50]));
    wg.dltranspconv(X, rand64([2, 2, 3, 2]), 0, { Cropping: [[1, 0], [0, 1]] });
    wg.stripdims(X, 'BCSS');
    wg.add(X, wg.dlarray(rand64([2, 2]), 'CB'));
    wg.fullyconnect(wg.stripdims(X, 'BSSC').reshape([2, 50]), rand64([4, 50]), null, 'DataFormat', 'BC');
    const live = wg.memory().liveTensors;
    for (const f of [() => wg.dlconv(X, rand64([3, 3, 5, 3]), 0), () => wg.batchnorm(X, rand64([3]), rand64([2])),
      () => wg.fullyconnect(X, rand64([4, 7])), () => wg.add(X, wg.dlarray(rand64([3, 2]), 'CB')),
      () => wg.dlarray(rand64([2, 3, 4]), 'CB'), () => wg.maxpool(X, 9), () => wg.softmax(wg.dlarray(rand64([3, 4]), 'SB'))]) {
      const mark = wg.memory().liveTensors;
      expect(f).toThrow();
      expect(wg.memory().liveTensors - mark).toBeLessThanOrEqual(2); // the arguments made for the call
    }
    expect(wg.memory().liveTensors).toBeGreaterThanOrEqual(live);
  }));
});
