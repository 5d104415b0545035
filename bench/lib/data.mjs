// Seeded inputs shared by every peer, so the correctness guard can compare their results.

import { seededRandom as rng } from '../../dist/index.js';

/** n float32 values, uniform in [lo, hi). */
export function uniform(n, seed, lo = -1, hi = 1) {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * r();
  return out;
}

/** One-hot rows [batch, classes] for seeded random labels. */
export function oneHot(batch, classes, seed) {
  const r = rng(seed);
  const out = new Float32Array(batch * classes);
  for (let i = 0; i < batch; i++) out[i * classes + Math.floor(r() * classes)] = 1;
  return out;
}

/** Glorot-uniform weights [fanIn, fanOut] and small uniform biases for a stack of dense layers. */
export function denseParams(sizes, seed) {
  const params = {};
  for (let k = 1; k < sizes.length; k++) {
    const s = Math.sqrt(6 / (sizes[k - 1] + sizes[k]));
    params[`w${k}`] = { data: uniform(sizes[k - 1] * sizes[k], seed + 2 * k, -s, s), shape: [sizes[k - 1], sizes[k]] };
    params[`b${k}`] = { data: uniform(sizes[k], seed + 2 * k + 1, -0.1, 0.1), shape: [sizes[k]] };
  }
  return params;
}

/** Row-major data of shape `shape` with its axes permuted (like numpy.transpose(x, perm)). */
export function permute(data, shape, perm) {
  const rank = shape.length;
  const outShape = perm.map((p) => shape[p]);
  const inStrides = new Array(rank);
  for (let k = rank - 1, s = 1; k >= 0; k--) { inStrides[k] = s; s *= shape[k]; }
  const out = new data.constructor(data.length);
  const idx = new Array(rank).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let k = 0; k < rank; k++) src += idx[k] * inStrides[perm[k]];
    out[o] = data[src];
    for (let k = rank - 1; k >= 0; k--) { if (++idx[k] < outShape[k]) break; idx[k] = 0; }
  }
  return out;
}
