// The determinism program: a fixed sequence of wasmgrad calls exercising every op family and the
// optimizers' fused updates, and a 200-step seeded training run with Adam. Every result's raw
// bytes (with its dtype and shape) are hashed with SHA-256; the same program must give the same
// hashes in Node, Deno, Bun, workerd and Chromium (expected.json). Plain JS without imports but
// ./sha256.js, so that every runtime runs this very file: the library comes in as `wg`,
// whichever bundle the runtime loaded.
//
// NaN payloads are not specified by WebAssembly (an engine may return any quiet NaN from an
// arithmetic op), so every NaN is rewritten to the canonical quiet NaN before hashing; all other
// bits, including the sign of zero, are hashed as they are.

import { sha256 } from './sha256.js';

/** mulberry32: integer-only arithmetic, so the inputs are the same in every engine. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function values(n, lo, hi, seed) {
  const r = rng(seed);
  return Array.from({ length: n }, () => lo + (hi - lo) * r());
}

// Zeros of both signs, ones, tiny and subnormal values, overflow and underflow points of exp in
// both precisions, infinities and NaN: where transcendental implementations usually differ.
const SPECIALS = [0, -0, 1, -1, 0.5, -0.5, 2, 1e-7, -1e-7, 1e-30, 1e-40, 1e-310, 3.141592653589793,
  -3.141592653589793, 1.5707963267948966, 10, -10, 20, 30, 88.7, -88.7, 89, -104, 709.7, -745.2,
  1e10, -1e10, 1e300, Infinity, -Infinity, NaN];

const ENC = new TextEncoder();

/** The bytes of a typed array, NaNs canonicalised (quiet, positive, zero payload). */
function canonicalBytes(data) {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof Float32Array) {
    const words = new Uint32Array(data.buffer, data.byteOffset, data.length);
    for (let i = 0; i < data.length; i++) if (data[i] !== data[i]) words[i] = 0x7fc00000;
  } else if (data instanceof Float64Array) {
    const words = new Uint32Array(data.buffer, data.byteOffset, data.length * 2);
    // Little-endian: the high word (sign, exponent, top of the mantissa) comes second.
    for (let i = 0; i < data.length; i++) if (data[i] !== data[i]) { words[2 * i] = 0; words[2 * i + 1] = 0x7ff80000; }
  }
  return bytes;
}

class Hasher {
  constructor(wg) { this.wg = wg; this.results = {}; }

  /** Records the hash of `value` (a tensor, or an array of tensors and numbers) under `name`. */
  put(name, value) {
    if (name in this.results) throw new Error(`determinism program: duplicate result name ${name}`);
    const parts = [];
    const add = (v) => {
      if (Array.isArray(v)) { v.forEach(add); return; }
      if (typeof v === 'number') {
        parts.push(ENC.encode('number|'), canonicalBytes(new Float64Array([v])));
        return;
      }
      if (!this.wg.isTensor(v)) throw new Error(`determinism program: ${name} is not a tensor`);
      parts.push(ENC.encode(`${v.dtype}|${v.shape.join(',')}|`), canonicalBytes(v.data()));
    };
    add(value);
    let length = 0;
    for (const p of parts) length += p.length;
    const all = new Uint8Array(length);
    let at = 0;
    for (const p of parts) { all.set(p, at); at += p.length; }
    this.results[name] = sha256(all);
  }
}

const UNARY = ['neg', 'abs', 'sign', 'square', 'sqrt', 'rsqrt', 'exp', 'log', 'log1p', 'expm1', 'sin', 'cos',
  'tan', 'tanh', 'sigmoid', 'relu', 'softplus', 'erf'];
const BINARY = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum'];
const COMPARE = ['eq', 'ne', 'lt', 'le', 'gt', 'ge'];
const DTYPES = ['float32', 'float64'];

function elementwise(wg, h) {
  for (const dtype of DTYPES) {
    // Specials, a dense sweep over [-12, 12] and large arguments (range reduction of sin/cos/tan).
    const xs = [...SPECIALS, ...values(4093, -12, 12, 1), ...values(509, -1e4, 1e4, 2)];
    const x = wg.tensor(xs, { dtype });
    for (const op of UNARY) h.put(`unary.${op}.${dtype}`, wg[op](x));
    const a = wg.tensor(values(6 * 35, -3, 3, 3), { shape: [6, 5, 7], dtype });
    const b = wg.tensor(values(5 * 7, 0.1, 2.5, 4), { shape: [5, 7], dtype });
    const c = wg.tensor(values(6, -2, 2, 5), { shape: [6, 1, 1], dtype });
    for (const op of BINARY) {
      h.put(`binary.${op}.${dtype}`, wg[op](a, b));
      h.put(`binary.${op}.bcast.${dtype}`, wg[op](b, c));
      h.put(`binary.${op}.scalar.${dtype}`, [wg[op](a, 1.5), wg[op](0.75, b)]);
    }
    const s = wg.tensor(SPECIALS, { dtype });
    const t = wg.tensor([...SPECIALS].reverse(), { dtype });
    for (const op of BINARY) h.put(`binary.${op}.specials.${dtype}`, wg[op](s, t));
    for (const op of COMPARE) h.put(`compare.${op}.${dtype}`, wg[op](a, b.mul(0.5)));
    h.put(`where.${dtype}`, wg.where(a.gt(0), a, b));
    h.put(`clamp.${dtype}`, [a.clamp(-1, 0.5), a.clamp(null, 0), a.clamp(-0.25)]);
    h.put(`cast.${dtype}`, [x.to(dtype === 'float32' ? 'float64' : 'float32'), a.mul(7).to('int32'), a.to('bool')]);
    // Gradients of every unary op (first and second order) on arguments inside the domain.
    const g = wg.tensor(values(37, 0.1, 2.9, 6), { dtype });
    for (const op of UNARY) {
      const f = (y) => wg[op](y).sum();
      h.put(`grad.unary.${op}.${dtype}`, [wg.grad(f)(g), wg.grad((y) => wg.grad(f)(y).sum(), { higherOrder: true })(g)]);
    }
    for (const op of BINARY) {
      const [, grads] = wg.valueAndGrad((p, q) => wg[op](p, q).sum(), { argnums: [0, 1] })(a.abs().add(0.5), b);
      h.put(`grad.binary.${op}.${dtype}`, grads);
    }
  }
}

function reductions(wg, h) {
  for (const dtype of DTYPES) {
    const x = wg.tensor(values(4 * 6 * 9, -2, 2, 11), { shape: [4, 6, 9], dtype });
    // Odd, long vectors: the SIMD body, its unrolling and the scalar tail all contribute.
    const long = wg.tensor(values(10007, -1, 1, 12), { dtype });
    for (const op of ['sum', 'prod', 'max', 'min', 'logsumexp', 'mean', 'variance', 'std']) {
      const axesList = [undefined, 0, 1, 2, [0, 2], [-1, -2]];
      h.put(`reduce.${op}.${dtype}`, axesList.map((axes) => wg[op](x, axes)));
      h.put(`reduce.${op}.keepdims.${dtype}`, wg[op](x, 1, { keepdims: true }));
      if (op !== 'prod') h.put(`reduce.${op}.long.${dtype}`, wg[op](long));
      h.put(`grad.reduce.${op}.${dtype}`, wg.grad((y) => wg[op](y, [0, 2]).square().sum())(x));
    }
    h.put(`reduce.variance.correction.${dtype}`, wg.variance(x, 2, { correction: 0 }));
  }
}

function matmuls(wg, h) {
  // [m, k, n]: 1×1, small and odd (direct kernel and its tails), skinny, square below the packing
  // threshold, and above it (packed, register-blocked, cache-blocked over K).
  const shapes = [[1, 1, 1], [3, 5, 7], [17, 33, 9], [1, 300, 40], [40, 300, 1], [64, 64, 64], [160, 130, 150],
    [133, 291, 67]];
  let seed = 100;
  for (const dtype of DTYPES) {
    for (const [m, k, n] of shapes) {
      const a = wg.tensor(values(m * k, -1, 1, seed++), { shape: [m, k], dtype });
      const b = wg.tensor(values(k * n, -1, 1, seed++), { shape: [k, n], dtype });
      const tag = `${m}x${k}x${n}.${dtype}`;
      h.put(`matmul.${tag}`, wg.matmul(a, b));
      // Every transposed form, read in place: aᵀ is [k, m] stored, bᵀ is [n, k] stored.
      const at = a.t().clone(), bt = b.t().clone();
      h.put(`matmulT.${tag}`, [wg.matmulT(at, b, { transA: true }), wg.matmulT(a, bt, { transB: true }),
        wg.matmulT(at, bt, { transA: true, transB: true })]);
      if (m * k * n <= 64 * 64 * 64) {
        const [, grads] = wg.valueAndGrad((p, q) => wg.matmul(p, q).square().sum(), { argnums: [0, 1] })(a, b);
        h.put(`grad.matmul.${tag}`, grads);
      }
    }
    const a = wg.tensor(values(4 * 20 * 30, -1, 1, seed++), { shape: [4, 20, 30], dtype });
    const b = wg.tensor(values(4 * 30 * 25, -1, 1, seed++), { shape: [4, 30, 25], dtype });
    h.put(`matmul.batched.${dtype}`, [wg.bmm(a, b), wg.matmulT(b, a, { transA: true, transB: true })]);
    const c = wg.tensor(values(2 * 5 * 6, -1, 1, seed++), { shape: [2, 1, 5, 6], dtype });
    const d = wg.tensor(values(3 * 6 * 7, -1, 1, seed++), { shape: [3, 6, 7], dtype });
    h.put(`matmul.broadcast.${dtype}`, wg.matmul(c, d));
    const [, grads] = wg.valueAndGrad((p, q) => wg.matmul(p, q).tanh().sum(), { argnums: [0, 1] })(c, d);
    h.put(`grad.matmul.broadcast.${dtype}`, grads);
    const v = wg.tensor(values(6, -1, 1, seed++), { dtype });
    const w = wg.tensor(values(6, -1, 1, seed++), { dtype });
    h.put(`matmul.vector.${dtype}`, [wg.dot(v, w), wg.mv(c.reshape([10, 6]), v), wg.outer(v, w), wg.matmul(v, d)]);
  }
}

function shapeOps(wg, h) {
  for (const dtype of DTYPES) {
    const x = wg.tensor(values(2 * 3 * 4 * 5, -1, 1, 21), { shape: [2, 3, 4, 5], dtype });
    h.put(`shape.views.${dtype}`, [x.reshape([6, 20]), x.permute(3, 1, 0, 2), x.transpose(1, 3), x.flatten(1),
      x.unsqueeze(2).squeeze(2), wg.broadcastTo(x.sum(0), [7, 3, 4, 5])]);
    h.put(`shape.slice.${dtype}`, [wg.slice(x, [null, [0, 3, 2], [-3, null, 2]]), wg.narrow(x, 3, 1, 3), wg.select(x, 2, -1),
      wg.pad(x, [1, 2, 0, 1], -0.5)]);
    const [p, q, r] = wg.split(x, [1, 2, 2], 3);
    h.put(`shape.join.${dtype}`, [wg.concat([r, p, q], 3), wg.stack([p, p], 1), ...wg.chunk(x, 2, 2), ...wg.unstack(x, 1)]);
    const idx = wg.tensor([3, 0, 0, 2, 1], { dtype: 'int32' });
    const src = wg.tensor(values(2 * 3 * 5 * 5, -1, 1, 22), { shape: [2, 3, 5, 5], dtype });
    const gidx = wg.tensor(Array.from({ length: 2 * 3 * 4 * 2 }, (_, i) => (i * 7) % 5), { shape: [2, 3, 4, 2], dtype: 'int32' });
    h.put(`shape.index.${dtype}`, [wg.indexSelect(x, 2, idx), wg.indexAdd(x, 2, idx, src),
      wg.gather(x, 3, gidx), wg.scatterAdd(x, 3, gidx, wg.ones([2, 3, 4, 2], { dtype }))]);
    const f = (y) => wg.concat([wg.gather(y, 3, gidx).reshape([2, 24]),
      wg.slice(y, [null, [1, 3]]).permute(0, 2, 1, 3).reshape([2, 40])], 1).mul(wg.pad(y, [1, 1], 0.5).sum()).sum();
    h.put(`grad.shape.${dtype}`, wg.grad(f)(x));
  }
}

function creationAndRandom(wg, h) {
  for (const dtype of DTYPES) {
    h.put(`creation.${dtype}`, [wg.arange(0, 5, 0.3, { dtype }), wg.linspace(-1, 1, 11, { dtype }), wg.eye(3, 4, { dtype }),
      wg.full([2, 3], 0.1, { dtype }), wg.zeros([0, 3], { dtype })]);
    wg.seed(1234);
    h.put(`random.global.${dtype}`, [wg.rand([1001], { dtype }), wg.randn([1001], { dtype }), wg.uniform([77], -3, 5, { dtype }),
      wg.normal([77], 2, 0.5, { dtype })]);
    h.put(`random.seeded.${dtype}`, [wg.rand([33], { dtype, seed: 7 }), wg.randn([33], { dtype, seed: -9 })]);
  }
}

function convolutions(wg, h) {
  for (const dtype of DTYPES) {
    const x = wg.tensor(values(2 * 3 * 11 * 9, -1, 1, 71), { shape: [2, 3, 11, 9], dtype });
    const w = wg.tensor(values(4 * 3 * 3 * 3, -0.5, 0.5, 72), { shape: [4, 3, 3, 3], dtype });
    const b = wg.tensor(values(4, -0.1, 0.1, 73), { shape: [4], dtype });
    const wg2 = wg.tensor(values(6 * 1 * 2 * 3, -0.5, 0.5, 74), { shape: [6, 1, 2, 3], dtype });
    h.put(`conv.conv2d.${dtype}`, [wg.conv2d(x, w, b), wg.conv2d(x, w, null, { stride: 2, padding: 1 }),
      wg.conv2d(x, w, b, { padding: 'same', dilation: [2, 1] }), wg.conv2d(x, wg2, null, { groups: 3, stride: [1, 2] })]);
    const x1 = wg.tensor(values(2 * 3 * 17, -1, 1, 75), { shape: [2, 3, 17], dtype });
    const w1 = wg.tensor(values(5 * 3 * 4, -0.5, 0.5, 76), { shape: [5, 3, 4], dtype });
    h.put(`conv.conv1d.${dtype}`, [wg.conv1d(x1, w1), wg.conv1d(x1, w1, null, { stride: 3, padding: 2 })]);
    const wt = wg.tensor(values(3 * 2 * 3 * 3, -0.5, 0.5, 77), { shape: [3, 2, 3, 3], dtype });
    h.put(`conv.convTranspose.${dtype}`, [wg.convTranspose2d(x, wt, null, { stride: 2, padding: 1, outputPadding: 1 }),
      wg.convTranspose1d(x1, wg.tensor(values(3 * 2 * 4, -0.5, 0.5, 78), { shape: [3, 2, 4], dtype }), null, { stride: 2 })]);
    const [, grads] = wg.valueAndGrad((p, q, r) => wg.conv2d(p, q, r, { stride: 2, padding: 1 }).tanh().sum(), { argnums: [0, 1, 2] })(x, w, b);
    h.put(`grad.conv.conv2d.${dtype}`, grads);
    h.put(`grad.conv.convTranspose.${dtype}`, wg.grad((q) => wg.convTranspose2d(x, q, null, { stride: 2 }).square().sum())(wt));
    // stride 1 (the direct kernels): 18 images make two partial sums of the weight gradient
    const x18 = wg.tensor(values(18 * 3 * 11 * 9, -1, 1, 79), { shape: [18, 3, 11, 9], dtype });
    h.put(`grad.conv.stride1.${dtype}`, [
      ...wg.valueAndGrad((p, q, r) => wg.conv2d(p, q, r, { padding: 'same' }).tanh().sum(), { argnums: [0, 1, 2] })(x18, w, b)[1],
      ...wg.valueAndGrad((p, q) => wg.convTranspose2d(p, q, null, { padding: 1, dilation: [1, 2] }).square().sum(), { argnums: [0, 1] })(x, wt)[1]]);
    h.put(`pool.${dtype}`, [wg.maxPool2d(x, 2), wg.maxPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true }),
      wg.avgPool2d(x, [2, 3], { padding: [1, 1], countIncludePad: false }), wg.adaptiveAvgPool2d(x, [4, 3]),
      wg.maxPool1d(x1, 3), wg.avgPool1d(x1, 4, { stride: 2 }), wg.globalAvgPool2d(x), wg.globalMaxPool2d(x)]);
    h.put(`grad.pool.${dtype}`, wg.grad((p) => wg.maxPool2d(p, 3, { stride: 2 }).sum().add(wg.avgPool2d(p, 2).square().sum()))(x));
    // 2×2 windows: the four-window scatter of max pooling's gradient
    h.put(`grad.pool.pairs.${dtype}`, wg.grad((p) => wg.maxPool2d(p, 2).square().sum())(x18));
    // conv with activation 'relu': the fused bias + relu (direct kernel and im2col path), values and gradients
    const biasRelu = (p, q, r) => wg.conv2d(p, q, r, { padding: 'same', activation: 'relu' }).square().sum()
      .add(wg.conv2d(p, q, r, { stride: 2, activation: 'relu' }).sum());
    h.put(`grad.conv.biasRelu.${dtype}`, [wg.conv2d(x18, w, b, { padding: 'same', activation: 'relu' }),
      ...wg.valueAndGrad(biasRelu, { argnums: [0, 1, 2] })(x18, w, b)[1]]);
  }
}

function indexing(wg, h) {
  for (const dtype of DTYPES) {
    // Ties on purpose (values rounded to a grid): stable sorting and first-index arg-extrema.
    const x = wg.tensor(values(4 * 13, -3, 3, 81).map((v) => Math.round(v * 2) / 2), { shape: [4, 13], dtype });
    const [sv, si] = wg.sort(x);
    const [tv, ti] = wg.topk(x, 5, { axis: 1 });
    h.put(`indexing.sort.${dtype}`, [sv, si, wg.argsort(x, { axis: 0, descending: true }), tv, ti,
      ...wg.topk(x, 2, { axis: 0, largest: false }), wg.argmax(x, 1), wg.argmin(x, 0), wg.argmax(x)]);
    h.put(`indexing.scan.${dtype}`, [wg.cumsum(x, 1), wg.cumprod(x.mul(0.5), 0), wg.cumsum(x.gt(0), 1)]);
    h.put(`indexing.layout.${dtype}`, [wg.tril(x, 1), wg.triu(x, -2), wg.flip(x, [0, 1]), wg.roll(x, [3, -1], [1, 0]),
      wg.roll(x, 5), wg.tile(x, 2, 1), wg.repeat(x, 1, 2, 1), wg.repeatInterleave(x, 2, 0)]);
    const table = wg.tensor(values(10 * 4, -1, 1, 82), { shape: [10, 4], dtype });
    const ids = wg.tensor([[1, 9, 1], [0, 3, 3]], { dtype: 'int32' });
    h.put(`indexing.embedding.${dtype}`, [wg.embedding(ids, table), wg.oneHot(ids, 10)]);
    h.put(`grad.indexing.${dtype}`, [wg.grad((t) => wg.embedding(ids, t, { paddingIdx: 3 }).square().sum())(table),
      wg.grad((y) => wg.cumprod(y.mul(0.5), 1).sum().add(wg.sort(y)[0].mul(wg.arange(13, { dtype })).sum()))(x)]);
    const a = wg.tensor(values(3 * 4 * 5, -1, 1, 83), { shape: [3, 4, 5], dtype });
    const wl = wg.tensor(values(6 * 5, -1, 1, 84), { shape: [6, 5], dtype });
    h.put(`linear.${dtype}`, [wg.linear(a, wl, wg.ones([6], { dtype })), wg.einsum('bij,kj->bik', a, wl),
      wg.einsum('bii->b', a.narrow(2, 0, 4)), wg.einsum('ij,ij->', wl, wl)]);
  }
}

function activations(wg, h) {
  for (const dtype of DTYPES) {
    const x = wg.tensor([...SPECIALS, ...values(997, -8, 8, 91)], { dtype });
    h.put(`activation.${dtype}`, [wg.leakyRelu(x, 0.1), wg.elu(x), wg.selu(x), wg.gelu(x), wg.gelu(x, { approximate: 'tanh' }),
      wg.silu(x), wg.mish(x), wg.hardtanh(x, -2, 3), wg.hardsigmoid(x), wg.softplus(x, { beta: 2, threshold: 10 })]);
    const z = wg.tensor(values(6 * 10, -30, 30, 92), { shape: [6, 10], dtype });
    h.put(`softmax.${dtype}`, [wg.softmax(z), wg.logSoftmax(z), wg.softmax(z, 0), wg.logSoftmax(z.reshape([3, 2, 10]), 1)]);
    const g = wg.tensor(values(3 * 7, -2, 2, 93), { shape: [3, 7], dtype });
    h.put(`grad.activation.${dtype}`, ['gelu', 'silu', 'mish', 'elu', 'selu', 'softmax', 'logSoftmax']
      .map((op) => wg.grad((y) => wg[op](y).mul(wg.arange(7, { dtype })).sum())(g)));
  }
}

function normalisation(wg, h) {
  for (const dtype of DTYPES) {
    const x = wg.tensor(values(4 * 6 * 5 * 3, -2, 3, 101), { shape: [4, 6, 5, 3], dtype });
    const w = wg.tensor(values(6, 0.5, 1.5, 102), { dtype }), b = wg.tensor(values(6, -0.5, 0.5, 103), { dtype });
    const rm = wg.zeros([6], { dtype }), rv = wg.ones([6], { dtype });
    const train = wg.batchNorm(x, rm, rv, w, b, { training: true, momentum: 0.2 });
    h.put(`norm.batchNorm.${dtype}`, [train, rm, rv, wg.batchNorm(x, rm, rv, w, b)]);
    const ln = wg.tensor(values(5 * 3, 0.5, 1.5, 104), { shape: [5, 3], dtype });
    h.put(`norm.others.${dtype}`, [wg.layerNorm(x, [5, 3], ln, ln.neg()), wg.groupNorm(x, 3, w, b), wg.instanceNorm(x),
      wg.localResponseNorm(x, 3)]);
    h.put(`grad.norm.${dtype}`, [
      wg.grad((y) => wg.batchNorm(y, null, null, w, b, { training: true }).square().sum())(x),
      wg.grad((y) => wg.layerNorm(y, 3).mul(y).sum())(x),
      wg.grad((y) => wg.groupNorm(y, 2, w, b).tanh().sum())(x)]);
    // the fused layerNorm and its gradient ops (rows of 7 and of 5·7: not multiples of 4)
    const xl = wg.tensor(values(3 * 5 * 7, -2, 3, 105), { shape: [3, 5, 7], dtype });
    const wl = wg.tensor(values(7, 0.5, 1.5, 106), { dtype }), bl = wg.tensor(values(7, -0.5, 0.5, 107), { dtype });
    const kl = wg.tensor(values(3 * 5 * 7, -1, 1, 108), { shape: [3, 5, 7], dtype });
    const lossL = (y, v, c) => wg.layerNorm(y, [7], v, c).square().mul(kl).sum();
    h.put(`norm.layerNorm.${dtype}`, [wg.layerNorm(xl, [7], wl, bl), wg.layerNorm(xl, [7], wl), wg.layerNorm(xl, [5, 7], null, xl.sum(0))]);
    h.put(`grad.layerNorm.${dtype}`, [
      ...wg.grad(lossL, { argnums: [0, 1, 2] })(xl, wl, bl),
      wg.hvp((y) => lossL(y, wl, bl))(xl, kl),
      wg.grad((v) => wg.grad((y) => lossL(y, v, bl))(xl).mul(kl).sum())(wl)]);
  }
}

function losses(wg, h) {
  for (const dtype of DTYPES) {
    const logits = wg.tensor(values(8 * 5, -4, 4, 111), { shape: [8, 5], dtype });
    const labels = wg.tensor([0, 4, 2, 2, 1, 3, 0, 4], { dtype: 'int32' });
    const probs = wg.softmax(wg.tensor(values(8 * 5, -1, 1, 112), { shape: [8, 5], dtype }));
    const weight = wg.tensor([1, 2, 0.5, 1, 1.5], { dtype });
    h.put(`crossEntropy.${dtype}`, [wg.crossEntropy(logits, labels), wg.crossEntropy(logits, labels, { weight, labelSmoothing: 0.1 }),
      wg.crossEntropy(logits, probs), wg.crossEntropy(logits, labels, { reduction: 'none', ignoreIndex: 2 }),
      wg.nllLoss(wg.logSoftmax(logits), labels, { reduction: 'sum' })]);
    h.put(`grad.crossEntropy.${dtype}`, wg.grad((z) => wg.crossEntropy(z, labels, { weight, labelSmoothing: 0.1 }))(logits));
    // the fused op (no class weights): rows longer than a SIMD chunk of four with a tail, ignoreIndex, label smoothing
    const wide = wg.tensor(values(6 * 37, -9, 9, 114), { shape: [6, 37], dtype });
    const wideLabels = wg.tensor([36, 0, 17, -100, 5, 17], { dtype: 'int32' });
    const wideProbs = wg.softmax(wg.tensor(values(6 * 37, -2, 2, 115), { shape: [6, 37], dtype }));
    h.put(`crossEntropy.fused.${dtype}`, [wg.crossEntropy(wide, wideLabels), wg.crossEntropy(wide, wideLabels, { reduction: 'none', labelSmoothing: 0.2 }),
      wg.crossEntropy(wide, wideProbs, { reduction: 'sum', labelSmoothing: 0.1 }), wg.crossEntropy(wide, wideProbs, { reduction: 'none' }),
      wg.crossEntropy(wg.select(wide, 0, 2), 4)]);
    h.put(`grad.crossEntropy.fused.${dtype}`, [wg.grad((z) => wg.crossEntropy(z, wideLabels, { labelSmoothing: 0.2 }))(wide),
      ...wg.grad((z, p) => wg.crossEntropy(z, p, { reduction: 'none' }).square().sum(), { argnums: [0, 1] })(wide, wideProbs),
      wg.hvp((z) => wg.crossEntropy(z, wideLabels, { reduction: 'none' }).square().sum())(wide, wideProbs)]);
    const p = wg.sigmoid(logits), t = wg.tensor(values(8 * 5, 0, 1, 113), { shape: [8, 5], dtype });
    h.put(`loss.${dtype}`, [wg.mseLoss(logits, t), wg.mse(logits, t, { DataFormat: 'BC' }), wg.l1Loss(logits, t, { reduction: 'sum' }),
      wg.huberLoss(logits, t, { delta: 0.5 }), wg.smoothL1Loss(logits, t, { beta: 2 }),
      wg.klDiv(wg.logSoftmax(logits), probs, { reduction: 'batchmean' }), wg.binaryCrossEntropy(p, t),
      wg.binaryCrossEntropyWithLogits(logits, t, { reduction: 'none' })]);
    h.put(`grad.loss.${dtype}`, [wg.grad((z) => wg.binaryCrossEntropyWithLogits(z, t))(logits),
      wg.grad((z) => wg.huberLoss(z, t, { delta: 0.5 }).add(wg.klDiv(wg.logSoftmax(z), probs)))(logits)]);
    wg.seed(5);
    h.put(`dropout.${dtype}`, [wg.dropout(logits, 0.3), wg.dropout(logits, 0.5, { training: false })]);
  }
}

function linearAlgebra(wg, h) {
  for (const dtype of DTYPES) {
    const n = 6;
    const m = wg.tensor(values(n * n, -1, 1, 121), { shape: [n, n], dtype });
    const spd = wg.matmulT(m, m, { transB: true }).add(wg.eye(n, { dtype }).mul(0.5));
    const rhs = wg.tensor(values(n * 2, -1, 1, 122), { shape: [n, 2], dtype });
    const [sign, logabs] = wg.slogdet(m);
    const [q, r] = wg.qr(wg.tensor(values(7 * 4, -1, 1, 123), { shape: [7, 4], dtype }));
    h.put(`linalg.${dtype}`, [wg.solve(m, rhs), wg.inv(m), wg.det(m), sign, logabs, wg.logdet(spd), wg.cholesky(spd), q, r,
      wg.solveTriangular(wg.triu(m).add(wg.eye(n, { dtype }).mul(2)), rhs, { upper: true }), wg.diag(m, 1), wg.matrixTrace(m),
      wg.vectorNorm(rhs, 3), wg.matrixNorm(m), wg.norm(m)]);
    h.put(`grad.linalg.${dtype}`, [wg.grad((a) => wg.solve(a, rhs).square().sum())(m), wg.grad((a) => wg.logdet(a))(spd),
      wg.grad((a) => wg.cholesky(a).sum())(spd), wg.grad((a) => wg.qr(a)[1].abs().sum())(m)]);
    // the decompositions: Jacobi sweeps in f64, the sign convention, pinv's and lstsq's cut-offs
    const tall = wg.tensor(values(7 * 4, -1, 1, 124), { shape: [7, 4], dtype });
    const tallRhs = wg.tensor(values(7 * 2, -1, 1, 125), { shape: [7, 2], dtype });
    const lq = wg.lstsq(tall, tallRhs, { driver: 'gelsd' });
    h.put(`decomp.${dtype}`, [...wg.svd(tall), ...wg.svd(m.reshape([2, 3, 6]), { fullMatrices: false }), wg.svdvals(m),
      ...wg.eigh(spd), ...wg.eigh(m, { UPLO: 'U' }), wg.eigvalsh(m), wg.pinv(tall), wg.pinv(spd, { hermitian: true }),
      lq.solution, lq.residuals, lq.rank, lq.singularValues, wg.matrixNorm(m, 2), wg.matrixNorm(m, -2), wg.norm(m, 'nuc')]);
    h.put(`grad.decomp.${dtype}`, [
      wg.grad((a) => { const [u, s, vh] = wg.svd(a, { fullMatrices: false }); return u.square().mul(s).sum().add(vh.sum()); })(tall),
      wg.grad((a) => { const [l, v] = wg.eigh(a); return v.square().mul(l).sum(); })(spd),
      wg.grad((a) => wg.pinv(a).sum())(tall), wg.grad((a) => wg.matrixNorm(a, 'nuc'))(m)]);
  }
}

/** log-softmax and cross-entropy from plain ops (logsumexp) until the activation family lands. */
function softmaxFromOps(wg, h) {
  for (const dtype of DTYPES) {
    const logits = wg.tensor(values(8 * 10, -6, 6, 31), { shape: [8, 10], dtype });
    const labels = wg.tensor([3, 1, 4, 1, 5, 9, 2, 6], { dtype: 'int32' });
    const ce = (z) => wg.gather(z.sub(wg.logsumexp(z, -1, { keepdims: true })), 1, labels.reshape([8, 1])).mean().neg();
    h.put(`softmax.plain.${dtype}`, [logits.sub(wg.logsumexp(logits, -1, { keepdims: true })).exp(), ce(logits)]);
    h.put(`grad.crossEntropy.plain.${dtype}`, wg.grad(ce)(logits));
  }
}

function autodiffModes(wg, h) {
  const f = (x) => x.sin().mul(x.square().sum().exp().mul(0.1)).sum();
  const x = wg.tensor([0.3, -0.7, 1.1], { dtype: 'float64' });
  const u = wg.tensor([1, 0.5, -2], { dtype: 'float64' });
  const [y, ydot] = wg.jvp(f, [x], [u]);
  h.put('autodiff.jvp', [y, ydot]);
  h.put('autodiff.hessian', wg.hessian(f)(x));
  h.put('autodiff.hvp', wg.hvp(f)(x, u));
  h.put('autodiff.jacobian', [wg.jacobian((z) => z.tanh().mul(z.sum()))(x), wg.jacfwd((z) => z.exp().mul(z))(x)]);
}

function accelerated(wg, h) {
  // The seed's value and gradient replayed by accelerate: compiled to wasm of its own where the
  // runtime compiles wasm (workerd does not: it interprets), and interpreted (compile: false).
  const f = (a, b) => a.mul(a.square().add(b.square()).mul(-0.5).exp());
  const inputs = [[2, 0.5], [-0.3, 1.7], [0, -0], [1e-310, 3], [88.5, -104], [Infinity, 1], [NaN, 2], [-700, 0.25]];
  for (const dtype of DTYPES) {
    const vg = wg.valueAndGrad(f, { argnums: [0, 1] });
    for (const [tag, options] of [['compiled', {}], ['interpreted', { compile: false }]]) {
      const fast = wg.accelerate(vg, options);
      const out = [];
      for (const [a, b] of inputs) {
        const [y, [ga, gb]] = fast(wg.tensor(a, { dtype }), wg.tensor(b, { dtype }));
        out.push(y.clone(), ga.clone(), gb.clone()); // the program's outputs are overwritten by the next call
      }
      h.put(`accelerate.seed.${tag}.${dtype}`, out);
      fast.clearCache();
    }
  }
}

function acceleratedFused(wg, h) {
  // Fused elementwise groups (assembly/engine/fusion.ts) replayed without run-time wasm: a bias +
  // relu layer's value and gradients and y = a·b + c, over several tiles with a broadcast bias.
  for (const dtype of DTYPES) {
    const x = wg.tensor(values(37 * 29, -1, 1, 61), { shape: [37, 29], dtype });
    const w = wg.tensor(values(29 * 23, -0.5, 0.5, 62), { shape: [29, 23], dtype });
    const b = wg.tensor(values(23, -0.5, 0.5, 63), { shape: [23], dtype });
    const layer = wg.valueAndGrad((w, b) => wg.relu(x.matmul(w).add(b)).sub(0.25).square().mean(), { argnums: [0, 1] });
    const fma = (a, b, c) => a.mul(b).add(c).tanh();
    const [a1, b1, c1] = [64, 65, 66].map((s) => wg.tensor(values(1500, -2, 2, s), { dtype }));
    const fastLayer = wg.accelerate(layer), fastFma = wg.accelerate(fma);
    const out = [];
    for (let i = 0; i < 2; i++) { // a capture, then a replay
      const [v, [gw, gb]] = fastLayer(w, b);
      out.push(v.clone(), gw.clone(), gb.clone(), fastFma(a1, b1, c1).clone());
    }
    h.put(`accelerate.fused.${dtype}`, out);
    fastLayer.clearCache(); fastFma.clearCache();
  }
}

/**
 * The ops of the PyTorch-parity issue: pad modes, interpolate, pixelShuffle/pixelUnshuffle,
 * affineGrid/gridSample, maskedFill, randint/multinomial, bucketize/searchsorted, cdist,
 * logaddexp/atan2/hypot, ctcLoss, the in-place initialisers and the 3-d convolution and pooling:
 * values and gradients.
 */
function pytorchParity(wg, h) {
  for (const dtype of DTYPES) {
    const x = wg.tensor(values(2 * 3 * 5 * 6, -1, 1, 151), { shape: [2, 3, 5, 6], dtype });
    const x1 = wg.tensor(values(2 * 3 * 7, -1, 1, 152), { shape: [2, 3, 7], dtype });
    const pads = [2, 1, 1, 3];
    h.put(`parity.pad.${dtype}`, ['reflect', 'replicate', 'circular'].flatMap((mode) => [wg.pad(x, pads, null, mode), wg.pad(x1, [3, 2], null, mode)]));
    h.put(`grad.parity.pad.${dtype}`, ['reflect', 'replicate', 'circular'].map((mode) => wg.grad((y) => wg.pad(y, pads, null, mode).square().sum())(x)));
    const resample = [
      wg.interpolate(x, { size: [7, 4] }), wg.interpolate(x, { scaleFactor: 1.7 }),
      wg.interpolate(x, { size: [9, 11], mode: 'bilinear' }), wg.interpolate(x, { size: [4, 8], mode: 'bilinear', alignCorners: true }),
      wg.interpolate(x, { scaleFactor: [1.5, 0.75], mode: 'bicubic' }), wg.interpolate(x, { size: [8, 9], mode: 'bicubic', alignCorners: true }),
      wg.interpolate(x1, { size: 12, mode: 'linear' }), wg.interpolate(x1, { scaleFactor: 0.6, mode: 'linear', alignCorners: true }),
      wg.upsample(x, { scaleFactor: 2 })];
    h.put(`parity.interpolate.${dtype}`, resample);
    h.put(`grad.parity.interpolate.${dtype}`, ['nearest', 'bilinear', 'bicubic'].map((mode) =>
      wg.grad((y) => wg.interpolate(y, { size: [8, 7], mode }).square().sum())(x)));
    const ps = wg.tensor(values(2 * 8 * 3 * 2, -1, 1, 153), { shape: [2, 8, 3, 2], dtype });
    h.put(`parity.pixelShuffle.${dtype}`, [wg.pixelShuffle(ps, 2), wg.pixelUnshuffle(wg.pixelShuffle(ps, 2), 2), wg.pixelUnshuffle(x.narrow(2, 0, 4), 2)]);
    h.put(`grad.parity.pixelShuffle.${dtype}`, wg.grad((y) => wg.pixelShuffle(y, 2).mul(wg.arange(4, { dtype })).sum())(ps));
    const theta = wg.tensor(values(2 * 6, -1, 1, 154), { shape: [2, 2, 3], dtype });
    const grid = wg.affineGrid(theta, [2, 3, 4, 5]);
    const samples = [];
    for (const mode of ['bilinear', 'nearest']) {
      for (const paddingMode of ['zeros', 'border', 'reflection']) {
        for (const alignCorners of [false, true]) samples.push(wg.gridSample(x, grid.mul(1.3), { mode, paddingMode, alignCorners }));
      }
    }
    h.put(`parity.gridSample.${dtype}`, [grid, wg.affineGrid(theta, [2, 3, 4, 5], { alignCorners: true }), ...samples]);
    const [, [gi, gg]] = wg.valueAndGrad((a, b) => wg.gridSample(a, b, { paddingMode: 'reflection' }).square().sum(), { argnums: [0, 1] })(x, grid.mul(1.3));
    h.put(`grad.parity.gridSample.${dtype}`, [gi, gg, wg.grad((t) => wg.affineGrid(t, [2, 3, 4, 5]).sin().sum())(theta)]);
    const mask = x.gt(0.3);
    h.put(`parity.maskedFill.${dtype}`, [wg.maskedFill(x, mask, -2.5), wg.maskedFill(x, x1.narrow(2, 0, 6).unsqueeze(2).lt(0), wg.tensor(0.25, { dtype }))]);
    h.put(`grad.parity.maskedFill.${dtype}`, wg.grad((y) => wg.maskedFill(y, mask, 1).square().sum())(x));
    wg.seed(77);
    const probs = wg.tensor(values(4 * 9, 0, 1, 155), { shape: [4, 9], dtype });
    h.put(`parity.random.${dtype}`, [wg.randint(10, [50]), wg.randint(-5, 5, [3, 7], { dtype }), wg.multinomial(probs, 5),
      wg.multinomial(probs, 20, { replacement: true }), wg.multinomial(probs.select(0, 1), 3)]);
    const bounds = wg.tensor([-0.5, -0.25, 0, 0.25, 0.25, 0.75], { dtype });
    const sorted = wg.sort(wg.tensor(values(3 * 8, -1, 1, 156), { shape: [3, 8], dtype }), { axis: 1 })[0];
    const q = wg.tensor(values(3 * 5, -1.2, 1.2, 157), { shape: [3, 5], dtype });
    h.put(`parity.search.${dtype}`, [wg.bucketize(x, bounds), wg.bucketize(x, bounds, { right: true }), wg.searchsorted(sorted, q),
      wg.searchsorted(sorted, q, { side: 'right' }), wg.searchsorted(bounds, 0.25)]);
    const p1 = wg.tensor(values(2 * 5 * 4, -1, 1, 158), { shape: [2, 5, 4], dtype });
    const p2 = wg.tensor(values(2 * 6 * 4, -1, 1, 159), { shape: [2, 6, 4], dtype });
    h.put(`parity.cdist.${dtype}`, [0, 1, 2, 3, 0.5, Infinity].map((p) => wg.cdist(p1, p2, p)));
    const [, cg] = wg.valueAndGrad((a, b) => wg.cdist(a, b, 1.5).sum().add(wg.cdist(a, b).sum()), { argnums: [0, 1] })(p1, p2);
    h.put(`grad.parity.cdist.${dtype}`, cg);
    const s = wg.tensor(SPECIALS, { dtype });
    const t = wg.tensor([...SPECIALS].reverse(), { dtype });
    const a = wg.tensor(values(6 * 35, -3, 3, 3), { shape: [6, 5, 7], dtype });
    const b = wg.tensor(values(5 * 7, -2.5, 2.5, 4), { shape: [5, 7], dtype });
    for (const op of ['logaddexp', 'atan2', 'hypot']) {
      h.put(`parity.${op}.${dtype}`, [wg[op](a, b), wg[op](s, t)]);
      const [, grads] = wg.valueAndGrad((p, r) => wg[op](p, r).sum(), { argnums: [0, 1] })(a, b);
      h.put(`grad.parity.${op}.${dtype}`, grads);
    }
    const lp = wg.logSoftmax(wg.tensor(values(12 * 3 * 6, -2, 2, 160), { shape: [12, 3, 6], dtype }), 2);
    const targets = [[1, 2, 2, 5], [3, 3, 0, 0], [4, 1, 5, 2]];
    h.put(`parity.ctcLoss.${dtype}`, [wg.ctcLoss(lp, targets, [12, 10, 11], [4, 2, 3]),
      wg.ctcLoss(lp, targets, [12, 10, 11], [4, 2, 3], { reduction: 'none' })]);
    h.put(`grad.parity.ctcLoss.${dtype}`, wg.grad((z) => wg.ctcLoss(z, targets, [12, 10, 11], [4, 2, 3]))(lp));
    wg.seed(78);
    const init = wg.nn.init;
    h.put(`parity.init.${dtype}`, [init.uniform_(wg.zeros([5, 4], { dtype }), -2, 3), init.normal_(wg.zeros([7], { dtype }), 1, 0.5),
      init.xavierUniform_(wg.zeros([6, 3], { dtype })), init.kaimingNormal_(wg.zeros([4, 3, 2, 2], { dtype })),
      init.orthogonal_(wg.zeros([5, 3], { dtype }))]);
    // 3-d convolution and pooling
    const v = wg.tensor(values(2 * 4 * 5 * 6 * 5, -1, 1, 161), { shape: [2, 4, 5, 6, 5], dtype });
    const w3 = wg.tensor(values(6 * 2 * 3 * 2 * 3, -0.5, 0.5, 162), { shape: [6, 2, 3, 2, 3], dtype });
    const b3 = wg.tensor(values(6, -0.1, 0.1, 163), { dtype });
    const wt3 = wg.tensor(values(4 * 3 * 2 * 3 * 2, -0.5, 0.5, 164), { shape: [4, 3, 2, 3, 2], dtype });
    h.put(`parity.conv3d.${dtype}`, [wg.conv3d(v, w3, b3, { groups: 2, padding: [1, 0, 1], stride: [1, 2, 1] }),
      wg.conv3d(v, w3, null, { padding: 'same', dilation: [1, 2, 1], groups: 2 }),
      wg.convTranspose3d(v, wt3, null, { stride: 2, padding: [1, 0, 1], outputPadding: [1, 0, 0] })]);
    const [, g3] = wg.valueAndGrad((p, q, r) => wg.conv3d(p, q, r, { groups: 2, padding: 1, stride: [2, 1, 1] }).tanh().sum(),
      { argnums: [0, 1, 2] })(v, w3, b3);
    h.put(`grad.parity.conv3d.${dtype}`, [...g3, wg.grad((q) => wg.convTranspose3d(v, q, null, { stride: [1, 2, 2] }).square().sum())(wt3)]);
    const [mv, mi] = wg.maxPool3d(v, [2, 3, 2], { stride: [1, 2, 2], padding: [1, 1, 0], dilation: [2, 1, 1], ceilMode: true, returnIndices: true });
    h.put(`parity.pool3d.${dtype}`, [mv, mi, wg.avgPool3d(v, 3, { stride: 2, padding: 1 }),
      wg.avgPool3d(v, [2, 3, 2], { countIncludePad: false, padding: 1, ceilMode: true }), wg.avgPool3d(v, 2, { divisorOverride: 3 }),
      wg.adaptiveAvgPool3d(v, [3, 4, 2]), wg.adaptiveAvgPool3d(v, 1)]);
    h.put(`grad.parity.pool3d.${dtype}`, wg.grad((p) => wg.maxPool3d(p, 3, { stride: 2, padding: 1 }).sum()
      .add(wg.avgPool3d(p, 2, { padding: 1 }).square().sum()).add(wg.adaptiveAvgPool3d(p, [2, 5, 3]).sin().sum()))(v));
    // adaptive max pooling, 1-, 2- and 3-d: values, indices and the gradient at the indices
    const [am1, ai1] = wg.adaptiveMaxPool1d(v.reshape([40, 30]), 7, { returnIndices: true });
    const [am2, ai2] = wg.adaptiveMaxPool2d(v.reshape([2, 4, 30, 5]), [7, 3], { returnIndices: true });
    const [am3, ai3] = wg.adaptiveMaxPool3d(v, [3, 2, null], { returnIndices: true });
    h.put(`parity.adaptiveMaxPool.${dtype}`, [am1, ai1, am2, ai2, am3, ai3]);
    h.put(`grad.parity.adaptiveMaxPool.${dtype}`, wg.grad((p) => wg.adaptiveMaxPool2d(p.reshape([2, 4, 30, 5]), [4, 4]).sin().sum()
      .add(wg.adaptiveMaxPool3d(p, 2).square().sum()))(v));
  }
}

function sequenceModels(wg, h) {
  const T = 5, N = 2, I = 3, H = 4;
  const x = wg.tensor(values(T * N * I, -1, 1, 41), { shape: [T, N, I], dtype: 'float32' });
  const weights = (gates, seed) => [wg.tensor(values(gates * H * I, -0.5, 0.5, seed), { shape: [gates * H, I] }),
    wg.tensor(values(gates * H * H, -0.5, 0.5, seed + 1), { shape: [gates * H, H] }),
    wg.tensor(values(gates * H, -0.5, 0.5, seed + 2), { shape: [gates * H] }),
    wg.tensor(values(gates * H, -0.5, 0.5, seed + 3), { shape: [gates * H] })];
  const lw = weights(4, 42), gw = weights(3, 46);
  const [out, [hn, cn]] = wg.lstm(x, null, lw);
  h.put('recurrent.lstm', [out, hn, cn]);
  h.put('recurrent.gru', wg.gru(x, null, gw));
  h.put('grad.recurrent.lstm', wg.grad((w) => wg.lstm(x, null, [w, ...lw.slice(1)])[0].square().sum())(lw[0]));
  const q = wg.tensor(values(2 * 3 * 4 * 8, -1, 1, 51), { shape: [2, 3, 4, 8] });
  const k = wg.tensor(values(2 * 3 * 6 * 8, -1, 1, 52), { shape: [2, 3, 6, 8] });
  const v = wg.tensor(values(2 * 3 * 6 * 5, -1, 1, 53), { shape: [2, 3, 6, 5] });
  h.put('attention.sdpa', [wg.scaledDotProductAttention(q, k, v), wg.scaledDotProductAttention(q, k, v, { isCausal: true })]);
  h.put('grad.attention.sdpa', wg.grad((z) => wg.scaledDotProductAttention(z, k, v).sum())(q));
  // the fused forward and attentionBackward: causal and plain, L ≠ S, several row blocks (16-row
  // causal blocks; 32 rows of 500 keys), float32 and float64; second order through its rules
  for (const dtype of DTYPES) {
    const t = (shape, seed) => wg.tensor(values(shape.reduce((a, b) => a * b), -1, 1, seed), { shape, dtype });
    const [aq, ak, av] = [t([2, 37, 6], 54), t([2, 30, 6], 55), t([2, 30, 5], 56)];
    const [lq, lk, lv] = [t([1, 40, 3], 57), t([1, 500, 3], 58), t([1, 500, 2], 59)];
    const w = t([2, 37, 5], 60), lw = t([1, 40, 2], 61);
    h.put(`attention.fused.${dtype}`, [wg.scaledDotProductAttention(aq, ak, av, { isCausal: true }), wg.scaledDotProductAttention(lq, lk, lv)]);
    const argnums = [0, 1, 2];
    h.put(`grad.attention.fused.${dtype}`, [
      ...wg.grad((a, b, c) => wg.scaledDotProductAttention(a, b, c, { isCausal: true }).mul(w).sum(), { argnums })(aq, ak, av),
      ...wg.grad((a, b, c) => wg.scaledDotProductAttention(a, b, c, { scale: 0.7 }).mul(lw).sum(), { argnums })(lq, lk, lv)]);
  }
  const [sq, sk, sv] = [[2, 5, 3], [2, 6, 3], [2, 6, 2]].map((shape, i) => wg.tensor(values(shape.reduce((a, b) => a * b), -1, 1, 62 + i), { shape, dtype: 'float64' }));
  const attnLoss = (a, b, c) => wg.scaledDotProductAttention(a, b, c, { isCausal: true }).square().sum();
  const firstGrad = (a, b, c) => wg.grad(attnLoss, { argnums: [0, 1, 2] })(a, b, c).reduce((acc, g) => acc.add(g.square().sum()), wg.tensor(0, { dtype: 'float64' }));
  h.put('grad2.attention.fused', wg.grad(firstGrad, { argnums: [0, 1, 2] })(sq, sk, sv));
}

function acceleratedReductions(wg, h) {
  // Fused groups that end in a sum or mean over all or the last dims (runs of 301: a scalar tail,
  // runs straddling tiles), float32 pairs of binary ops in both operand orders and with a scalar,
  // and a step whose outputs come back as its inputs (buffers traded, not copied).
  for (const dtype of DTYPES) {
    const a = wg.tensor(values(9 * 301, -2, 2, 71), { shape: [9, 301], dtype });
    const b = wg.tensor(values(9 * 301, 0.5, 2, 72), { shape: [9, 301], dtype });
    const g = wg.tensor(values(64 * 40, -1, 1, 73), { shape: [64, 40], dtype });
    const reduce = (a, b) => [a.mul(b).sub(0.5).sum(-1), b.sub(a.mul(b)).div(a.add(3)).mean(-1),
      a.mul(b).add(b).sum(), a.mul(0.25).sub(b).square().mean([-2, -1])];
    const fast = wg.accelerate(reduce);
    const out = [];
    for (let i = 0; i < 2; i++) out.push(...fast(a, b).map((t) => t.clone()));
    const step = wg.accelerate((w) => w.sub(g.mul(0.1)).mul(0.99));
    let w = wg.tensor(values(64 * 40, -1, 1, 74), { shape: [64, 40], dtype });
    for (let i = 0; i < 3; i++) { w = step(w); out.push(w.clone()); }
    h.put(`accelerate.fusedReduce.${dtype}`, out);
    fast.clearCache(); step.clearCache();
  }
}

/**
 * The fused wasm updates of torch.optim's optimizers (src/optim): a few steps of each, with
 * PyTorch's options varied, on fixed parameters (odd sizes: the SIMD body and the scalar tail)
 * and a different fixed gradient per step. Hashes the parameters after every step and the final
 * state tensors (moment estimates, momentum buffers, sums).
 */
function optimizers(wg, h) {
  const configs = [
    ['sgd.momentum', 'SGD', { lr: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 0.01 }],
    ['sgd.nesterov', 'SGD', { lr: 0.1, momentum: 0.8, nesterov: true, maximize: true }],
    ['adam', 'Adam', { lr: 0.01, weightDecay: 0.02 }],
    ['adam.amsgrad', 'Adam', { lr: 0.01, betas: [0.8, 0.99], eps: 1e-6, amsgrad: true }],
    ['adamw', 'AdamW', { lr: 0.01, weightDecay: 0.1 }],
    ['adamw.amsgrad', 'AdamW', { lr: 0.01, amsgrad: true, maximize: true }],
    ['rmsprop', 'RMSprop', { lr: 0.01, alpha: 0.9 }],
    ['rmsprop.centered', 'RMSprop', { lr: 0.01, momentum: 0.5, centered: true, weightDecay: 0.01 }],
    ['adagrad', 'Adagrad', { lr: 0.1, lrDecay: 0.01, initialAccumulatorValue: 0.1, weightDecay: 0.01 }],
  ];
  const shapes = [[7, 5], [13]];
  for (const dtype of DTYPES) {
    for (const [tag, cls, options] of configs) {
      let seed = 130;
      const params = shapes.map((shape) => wg.tensor(values(shape.reduce((a, b) => a * b, 1), -1, 1, seed++), { shape, dtype }));
      const opt = new wg.optim[cls](params, options);
      const trail = [];
      for (let step = 0; step < 4; step++) {
        // Gradients of mixed scale and sign, exact zeros included (no update but weight decay).
        const grads = shapes.map((shape) => wg.tensor(values(shape.reduce((a, b) => a * b, 1), -2, 2, 140 + 10 * step + seed++)
          .map((v, i) => (i % 11 === 0 ? 0 : v * 10 ** ((i % 5) - 2))), { shape, dtype }));
        opt.step(grads);
        trail.push(...params.map((p) => p.clone()));
      }
      const { state } = opt.stateDict();
      const buffers = Object.values(state).flatMap((s) => Object.keys(s).sort().filter((k) => k !== 'step').map((k) => s[k]));
      h.put(`optim.${tag}.${dtype}`, [...trail, ...buffers]);
      opt.dispose();
    }
  }
}

/**
 * 200 steps of Adam (src/optim, one fused wasm update per step) on a 2-layer MLP (tanh,
 * cross-entropy through logsumexp) over a fixed synthetic 3-class problem, weights drawn from the
 * seeded generator. Hashes every loss, the final weights and the optimizer's final state.
 */
function training(wg, h) {
  const N = 64, D = 8, H = 16, C = 3;
  const xs = values(N * D, -1, 1, 61);
  const labels = Array.from({ length: N }, (_, i) => {
    const row = xs.slice(i * D, i * D + D);
    const s = row[0] + row[1] - row[2] * row[3];
    return s > 0.3 ? 2 : s > -0.3 ? 1 : 0;
  });
  const x = wg.keep(wg.tensor(xs, { shape: [N, D] }));
  const y = wg.keep(wg.tensor(labels, { shape: [N, 1], dtype: 'int32' }));
  wg.seed(2024);
  const params = [wg.randn([H, D]).mul(0.5), wg.zeros([H]), wg.randn([C, H]).mul(0.3), wg.zeros([C])].map((p) => wg.keep(p));
  const loss = (w1, b1, w2, b2) => {
    const hidden = wg.matmulT(x, w1, { transB: true }).add(b1).tanh();
    const z = wg.matmulT(hidden, w2, { transB: true }).add(b2);
    return wg.gather(z.sub(wg.logsumexp(z, -1, { keepdims: true })), 1, y).mean().neg();
  };
  const step = wg.valueAndGrad(loss, { argnums: [0, 1, 2, 3] });
  const opt = new wg.optim.Adam(params, { lr: 0.02 });
  const losses = new Float32Array(200);
  for (let i = 0; i < 200; i++) {
    wg.tidy(() => {
      const [l, grads] = step(...params);
      losses[i] = l.item();
      opt.step(grads); // in place: params and Adam's moments
    });
  }
  h.put('train.mlp.losses', wg.tensor(losses));
  h.put('train.mlp.weights', params);
  const { state } = opt.stateDict();
  h.put('train.mlp.adamState', Object.values(state).flatMap((s) => [s.step, s.exp_avg, s.exp_avg_sq]));
  opt.dispose();
  wg.dispose([x, y, ...params]);
  return { firstLoss: losses[0], lastLoss: losses[199] };
}

/**
 * Runs the whole program and returns { results: {name: sha256}, digest, training }. `digest` hashes
 * all names and hashes in order, one value to compare at a glance.
 */
export function runProgram(wg) {
  const h = new Hasher(wg);
  wg.tidy(() => {
    elementwise(wg, h);
    reductions(wg, h);
    matmuls(wg, h);
    shapeOps(wg, h);
    creationAndRandom(wg, h);
    convolutions(wg, h);
    indexing(wg, h);
    activations(wg, h);
    normalisation(wg, h);
    losses(wg, h);
    linearAlgebra(wg, h);
    softmaxFromOps(wg, h);
    autodiffModes(wg, h);
    accelerated(wg, h);
    acceleratedFused(wg, h);
    acceleratedReductions(wg, h);
    sequenceModels(wg, h);
    pytorchParity(wg, h);
    optimizers(wg, h);
  });
  const summary = training(wg, h);
  const names = Object.keys(h.results).sort();
  const results = {};
  for (const n of names) results[n] = h.results[n];
  const digest = sha256(ENC.encode(names.map((n) => `${n} ${results[n]}\n`).join('')));
  return { results, digest, training: summary };
}
