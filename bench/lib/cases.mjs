// The benchmark cases. Each case builds, for each peer, an implementation written with that
// peer's own documented API the way its users would write it:
//   { run, deferred, result, dispose }
// run: one timed operation (returns a Promise when deferred: jax-js is lazy, so its ops are
// awaited to completion with blockUntilReady); result: the operation's output, read out once
// before timing for the correctness guard (a typed array, or named segments); dispose: frees
// the inputs. A peer that cannot run a case throws Unsupported with the reason.

import { uniform, oneHot, denseParams, permute } from './data.mjs';
import { sgdStep } from './mlp.mjs';
import { GPT, gptData, gptLossWasmgrad, gptLossJax } from './gpt.mjs';

export class Unsupported extends Error {}
const unsupported = (reason) => { throw new Unsupported(reason); };

const mapObj = (o, fn) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, fn(v, k)]));

// ---- peer plumbing ----------------------------------------------------------------------------

async function useBackend(tf, peer) {
  const name = peer === 'tfjs-wasm' ? 'wasm' : 'cpu';
  if (tf.getBackend() !== name && !(await tf.setBackend(name))) throw new Error(`tfjs: cannot switch to ${name}`);
}

/** Reads a tfjs tensor out and disposes it. */
function readTf(t) {
  const d = t.dataSync();
  t.dispose();
  return d;
}

/** A jax-js array of float32 data (cast to float64 on request), computed before it is returned. */
async function jaxArray(jax, data, shape, dtype = 'float32') {
  let a = jax.numpy.array(data).reshape(shape);
  if (dtype !== 'float32') a = a.astype(jax.numpy[dtype]);
  await a.blockUntilReady();
  return a;
}

/** Reads every leaf of a jax-js result out (dataSync consumes the array). */
function readJax(jax, y) {
  const leaves = jax.tree.leaves(y);
  return leaves.length === 1 ? leaves[0].dataSync() : leaves.map((l, k) => ({ name: `out ${k}`, values: l.dataSync() }));
}

/** A pure function of jax-js arrays, eager or under jit; args are kept (passed as .ref). */
function jaxFunction(jax, peer, f, args) {
  const g = peer === 'jax-jit' ? jax.jit(f) : f;
  const call = () => g(...args.map((a) => a.ref));
  return {
    deferred: true,
    run: async () => jax.tree.dispose(await jax.blockUntilReady(call())),
    result: () => readJax(jax, call()),
    dispose: () => { for (const a of args) a.dispose(); if (g !== f) g.dispose(); },
  };
}

/** Training-step result for the guard: the loss, then each gradient recovered from the update. */
function trainingResult(init, lr, loss, updated) {
  const segments = [{ name: 'loss', values: [loss] }];
  for (const [k, p] of Object.entries(init)) {
    const next = updated[k];
    segments.push({ name: `∂loss/∂${k}`, values: p.data.map((v, i) => (v - next[i]) / lr) });
  }
  return segments;
}

// ---- 1, 2: matmul -----------------------------------------------------------------------------

/**
 * A wasmgrad training step timed as one operation: step(params) → { loss, params } with new
 * params; the old ones (and each loss) are disposed here.
 */
function wgTraining(step, params, x, y, P, lr) {
  const advance = () => {
    const r = step(params);
    for (const t of Object.values(params)) t.dispose();
    params = r.params;
    return r.loss;
  };
  return {
    run: () => advance().dispose(),
    result: () => {
      const loss = advance();
      const value = loss.item();
      loss.dispose();
      return trainingResult(P, lr, value, mapObj(params, (t) => t.data()));
    },
    dispose: () => { x.dispose(); y.dispose(); for (const t of Object.values(params)) t.dispose(); },
  };
}

/**
 * The accelerated form of a wasmgrad training step: wg.accelerate(step) replayed per timed call,
 * its result checked bit for bit against the eager step at capture and at replay (and that the
 * second call replayed). `release` disposes what the case made besides the params.
 */
function wgAcceleratedTraining(wg, step, init, P, lr, release) {
  const fast = wg.accelerate(step);
  const read = ({ loss, params }) => trainingResult(P, lr, loss.item(), mapObj(params, (t) => t.data()));
  let params = init;
  return {
    run: () => { params = fast(params).params; },
    result: () => {
      const eager = step(init);
      const want = read(eager);
      wg.dispose([eager.loss, ...Object.values(eager.params)]);
      expectSameBits('capture', read(fast(init)), want);
      const replayed = read(fast(init));
      expectSameBits('replay', replayed, want);
      if (fast.hits !== 1) throw new Error(`accelerate: expected the second call to replay, got ${fast.hits} hits`);
      return replayed;
    },
    dispose: () => { fast.clearCache(); release(); for (const t of Object.values(init)) t.dispose(); },
  };
}

/**
 * A jax-js plain-SGD training step as its users write it (valueAndGrad + tree.map, optionally
 * under jit), timed as one deferred operation; `lossFn(p, x, y)` is the model's loss.
 */
function jaxTraining(jax, peer, lossFn, params, x, y, P, lr) {
  const { tree } = jax;
  const step = (p, xs, ys) => {
    const [loss, g] = jax.valueAndGrad(lossFn)(tree.ref(p), xs, ys);
    return [loss, tree.map((w, gw) => w.sub(gw.mul(lr)), p, g)];
  };
  const stepFn = peer === 'jax-jit' ? jax.jit(step) : step;
  const advance = () => {
    const [loss, next] = stepFn(params, x.ref, y.ref);
    params = next;
    return loss;
  };
  return {
    deferred: true,
    run: async () => { const loss = advance(); await jax.blockUntilReady([loss, params]); loss.dispose(); },
    result: () => {
      const value = advance().dataSync()[0];
      return trainingResult(P, lr, value, mapObj(params, (t) => t.ref.dataSync()));
    },
    dispose: () => { x.dispose(); y.dispose(); tree.dispose(params); if (stepFn !== step) stepFn.dispose(); },
  };
}

const FORMS = {
  plain: { label: 'A·B', transA: false, transB: false },
  AtB: { label: 'Aᵀ·B', transA: true, transB: false },
  ABt: { label: 'A·Bᵀ', transA: false, transB: true },
};

function matmulCase(n, form, dtype) {
  const { label, transA, transB } = FORMS[form];
  const A = uniform(n * n, 1000 + n), B = uniform(n * n, 2000 + n);
  const short = dtype === 'float64' ? 'f64' : 'f32';
  return {
    id: `matmul-${short}-${n}-${form}`,
    group: `matmul ${dtype}`,
    label: `${n} ${label}`,
    unit: 'GFLOPS',
    work: 2 * n ** 3,
    ceiling: short,
    tol: dtype === 'float64' ? 1e-10 : 1e-4,
    wasmgrad({ wg }) {
      const a = wg.tensor(A, { shape: [n, n], dtype }), b = wg.tensor(B, { shape: [n, n], dtype });
      const mm = form === 'plain' ? () => wg.matmul(a, b) : () => wg.matmulT(a, b, { transA, transB });
      return {
        run: () => mm().dispose(),
        result: () => { const y = mm(); const d = y.data(); y.dispose(); return d; },
        dispose: () => { a.dispose(); b.dispose(); },
      };
    },
    async tfjs({ tf }, peer) {
      if (dtype === 'float64') unsupported('tfjs has no float64 dtype');
      await useBackend(tf, peer);
      const a = tf.tensor2d(A, [n, n]), b = tf.tensor2d(B, [n, n]);
      const mm = () => tf.matMul(a, b, transA, transB);
      return {
        run: () => mm().dispose(),
        result: () => readTf(mm()),
        dispose: () => { a.dispose(); b.dispose(); },
      };
    },
    async jax({ jax }, peer) {
      const np = jax.numpy;
      const args = [await jaxArray(jax, A, [n, n], dtype), await jaxArray(jax, B, [n, n], dtype)];
      return jaxFunction(jax, peer, (a, b) => np.matmul(transA ? a.transpose() : a, transB ? b.transpose() : b), args);
    },
  };
}

// ---- 3: MLP training step ---------------------------------------------------------------------

function mlpCase(id, sizes, batch) {
  const lr = 0.1;
  const X = uniform(batch * sizes[0], 3001, 0, 1), Y = oneHot(batch, sizes.at(-1), 3002);
  const P = denseParams(sizes, 3003);
  return {
    id,
    group: 'training step',
    label: `MLP ${sizes.join('-')} relu, batch ${batch}`,
    unit: 'ms/step',
    ceiling: null,
    tol: 2e-3,
    lr, X, Y, P,
    wasmgrad({ wg }) {
      const x = wg.tensor(X, { shape: [batch, sizes[0]] }), y = wg.tensor(Y, { shape: [batch, sizes.at(-1)] });
      const params = mapObj(P, (p) => wg.tensor(p.data, { shape: p.shape }));
      const step = sgdStep(wg, x, y, lr);
      return wgTraining(step, params, x, y, P, lr);
    },
    async tfjs({ tf }, peer) {
      await useBackend(tf, peer);
      const x = tf.tensor2d(X, [batch, sizes[0]]), y = tf.tensor2d(Y, [batch, sizes.at(-1)]);
      const vars = mapObj(P, (p, k) => tf.tidy(() => tf.variable(tf.tensor(p.data, p.shape), true, `${id}-${peer}-${k}`)));
      const varList = Object.values(vars);
      const optimizer = tf.train.sgd(lr);
      const loss = () => {
        let h = x;
        for (let k = 1; k < sizes.length; k++) {
          const z = tf.matMul(h, vars[`w${k}`]).add(vars[`b${k}`]);
          h = k < sizes.length - 1 ? tf.relu(z) : z;
        }
        return tf.losses.softmaxCrossEntropy(y, h);
      };
      return {
        run: () => optimizer.minimize(loss, true, varList).dispose(),
        result: () => {
          const value = readTf(optimizer.minimize(loss, true, varList))[0];
          return trainingResult(P, lr, value, mapObj(vars, (v) => v.dataSync()));
        },
        dispose: () => { x.dispose(); y.dispose(); for (const v of varList) v.dispose(); optimizer.dispose(); },
      };
    },
    async jax({ jax }, peer) {
      const { numpy: np, nn } = jax;
      const x = await jaxArray(jax, X, [batch, sizes[0]]), y = await jaxArray(jax, Y, [batch, sizes.at(-1)]);
      const params = {};
      for (const [k, p] of Object.entries(P)) params[k] = await jaxArray(jax, p.data, p.shape);
      const lossFn = (p, x, y) => {
        let h = x;
        for (let k = 1; k < sizes.length; k++) {
          const z = np.matmul(h, p[`w${k}`]).add(p[`b${k}`]);
          h = k < sizes.length - 1 ? nn.relu(z) : z;
        }
        return nn.logsumexp(h.ref, -1).sub(h.mul(y).sum(-1)).mean();
      };
      return jaxTraining(jax, peer, lossFn, params, x, y, P, lr);
    },
  };
}

// ---- 4: the seed function ---------------------------------------------------------------------

function seedCase() {
  return {
    id: 'seed',
    group: 'per-op overhead',
    label: 'seed f(x1,x2) value+gradient at (2, 0.5)',
    unit: 'eval/s',
    ceiling: null,
    tol: 1e-6,
    note: 'wasmgrad: eager, in tidy; what each part of an evaluation costs: bench/EAGER.md (node bench/eager.mjs)',
    // Each evaluation returns the value and both partials as JS numbers, as a caller needs them.
    wasmgrad({ wg }) {
      const x1 = wg.tensor(2), x2 = wg.tensor(0.5);
      const f = (a, b) => a.mul(a.square().add(b.square()).mul(-0.5).exp());
      const vg = wg.valueAndGrad(f, { argnums: [0, 1] });
      const evaluate = () => wg.tidy(() => {
        const [y, [g1, g2]] = vg(x1, x2);
        return [y.item(), g1.item(), g2.item()];
      });
      return { run: evaluate, result: evaluate, dispose: () => { x1.dispose(); x2.dispose(); } };
    },
    async tfjs({ tf }, peer) {
      await useBackend(tf, peer);
      const x1 = tf.scalar(2), x2 = tf.scalar(0.5);
      const vg = tf.valueAndGrads((a, b) => a.mul(tf.exp(a.square().add(b.square()).mul(-0.5))));
      const evaluate = () => tf.tidy(() => {
        const { value, grads } = vg([x1, x2]);
        return [value.dataSync()[0], grads[0].dataSync()[0], grads[1].dataSync()[0]];
      });
      return { run: evaluate, result: evaluate, dispose: () => { x1.dispose(); x2.dispose(); } };
    },
    async jax({ jax }, peer) {
      const np = jax.numpy;
      const x1 = np.array(2), x2 = np.array(0.5);
      const f = (a, b) => a.ref.mul(np.exp(np.square(a).add(np.square(b)).mul(-0.5)));
      const vg = jax.valueAndGrad(f, { argnums: [0, 1] });
      const g = peer === 'jax-jit' ? jax.jit(vg) : vg;
      // dataSync runs the pending work and reads the scalar synchronously (and frees the array)
      const evaluate = () => {
        const [y, [g1, g2]] = g(x1.ref, x2.ref);
        return [y.dataSync()[0], g1.dataSync()[0], g2.dataSync()[0]];
      };
      return { run: evaluate, result: evaluate, dispose: () => { x1.dispose(); x2.dispose(); if (g !== vg) g.dispose(); } };
    },
  };
}

// ---- 5, 6: elementwise and reductions ---------------------------------------------------------

const M = 1 << 20;

function fmaCase() {
  const A = uniform(M, 5001), B = uniform(M, 5002), C = uniform(M, 5003);
  return {
    id: 'elementwise-fma',
    group: 'memory-bound',
    label: 'y = a·b + c, 1M f32',
    unit: 'GB/s',
    work: 16 * M,
    ceiling: 'copy',
    tol: 1e-6,
    A, B, C,
    wasmgrad({ wg }) {
      const [a, b, c] = [A, B, C].map((d) => wg.tensor(d));
      const f = () => wg.tidy(() => a.mul(b).add(c));
      return {
        run: () => f().dispose(),
        result: () => { const y = f(); const d = y.data(); y.dispose(); return d; },
        dispose: () => { a.dispose(); b.dispose(); c.dispose(); },
      };
    },
    async tfjs({ tf }, peer) {
      await useBackend(tf, peer);
      const [a, b, c] = [A, B, C].map((d) => tf.tensor1d(d));
      const f = () => tf.tidy(() => a.mul(b).add(c));
      return { run: () => f().dispose(), result: () => readTf(f()), dispose: () => tf.dispose([a, b, c]) };
    },
    async jax({ jax }, peer) {
      const args = [await jaxArray(jax, A, [M]), await jaxArray(jax, B, [M]), await jaxArray(jax, C, [M])];
      return jaxFunction(jax, peer, (a, b, c) => a.mul(b).add(c), args);
    },
  };
}

/** The y = a·b + c row with the expression under wg.accelerate: one replay runs it as a fused loop. */
function acceleratedFmaCase(base) {
  const { A, B, C } = base;
  return {
    ...acceleratedRowOf(base),
    note: 'wasmgrad: wg.accelerate((a, b, c) => a.mul(b).add(c)), each call one replay whose multiply and add run as one fused loop over cache-sized tiles (a·b never written to memory), the same bits as eager; peers: the eager row\'s figures',
    wasmgrad({ wg }) {
      const [a, b, c] = [A, B, C].map((d) => wg.tensor(d));
      const fast = wg.accelerate((a, b, c) => a.mul(b).add(c));
      return {
        run: () => fast(a, b, c),
        result: () => {
          const want = wg.tidy(() => a.mul(b).add(c).data());
          fast(a, b, c);
          const got = fast(a, b, c).data();
          if (fast.hits !== 1 || fast.programs[0].fused !== 2) throw new Error('accelerate: expected a replay of one fused group');
          for (let i = 0; i < want.length; i++) if (!Object.is(got[i], want[i])) throw new Error(`accelerate: element ${i} differs from eager`);
          return got;
        },
        dispose: () => { fast.dispose(); a.dispose(); b.dispose(); c.dispose(); },
      };
    },
  };
}

function sumCase() {
  const X = uniform(M, 6001, 0, 1);
  return {
    id: 'reduce-sum',
    group: 'memory-bound',
    label: 'sum, 1M f32',
    unit: 'GB/s',
    work: 4 * M,
    ceiling: 'read',
    tol: 1e-4,
    wasmgrad({ wg }) {
      const x = wg.tensor(X);
      return {
        run: () => wg.sum(x).dispose(),
        result: () => { const y = wg.sum(x); const d = y.data(); y.dispose(); return d; },
        dispose: () => x.dispose(),
      };
    },
    async tfjs({ tf }, peer) {
      await useBackend(tf, peer);
      const x = tf.tensor1d(X);
      return { run: () => tf.sum(x).dispose(), result: () => readTf(tf.sum(x)), dispose: () => x.dispose() };
    },
    async jax({ jax }, peer) {
      return jaxFunction(jax, peer, (x) => jax.numpy.sum(x), [await jaxArray(jax, X, [M])]);
    },
  };
}

function softmaxCase() {
  const rows = 1000, cols = 1000;
  const X = uniform(rows * cols, 7001, -4, 4);
  return {
    id: 'reduce-softmax',
    group: 'memory-bound',
    label: 'softmax [1000, 1000] last axis',
    unit: 'GB/s',
    work: 8 * rows * cols,
    ceiling: 'copy',
    tol: 1e-5,
    wasmgrad({ wg }) {
      const x = wg.tensor(X, { shape: [rows, cols] });
      return {
        run: () => wg.softmax(x, -1).dispose(),
        result: () => { const y = wg.softmax(x, -1); const d = y.data(); y.dispose(); return d; },
        dispose: () => x.dispose(),
      };
    },
    async tfjs({ tf }, peer) {
      await useBackend(tf, peer);
      const x = tf.tensor2d(X, [rows, cols]);
      return { run: () => tf.softmax(x).dispose(), result: () => readTf(tf.softmax(x)), dispose: () => x.dispose() };
    },
    async jax({ jax }, peer) {
      return jaxFunction(jax, peer, (x) => jax.nn.softmax(x, -1), [await jaxArray(jax, X, [rows, cols])]);
    },
  };
}

// ---- 7: CNN training step ---------------------------------------------------------------------

function cnnCase() {
  const batch = 64, lr = 0.1;
  // Canonical (PyTorch) layouts: x NCHW, conv weights OIHW, dense weight [in, out] with the
  // inputs flattened in (c, h, w) order. tfjs takes NHWC / HWIO, so its data is permuted.
  const X = uniform(batch * 28 * 28, 8001, 0, 1), Y = oneHot(batch, 10, 8002);
  const P = {
    k1: { data: uniform(8 * 1 * 3 * 3, 8003, -0.5, 0.5), shape: [8, 1, 3, 3] },
    b1: { data: uniform(8, 8004, -0.1, 0.1), shape: [8] },
    k2: { data: uniform(16 * 8 * 3 * 3, 8005, -0.2, 0.2), shape: [16, 8, 3, 3] },
    b2: { data: uniform(16, 8006, -0.1, 0.1), shape: [16] },
    w3: { data: uniform(784 * 10, 8007, -0.08, 0.08), shape: [784, 10] },
    b3: { data: uniform(10, 8008, -0.1, 0.1), shape: [10] },
  };
  const toTf = {
    k1: (d) => permute(d, [8, 1, 3, 3], [2, 3, 1, 0]),
    k2: (d) => permute(d, [16, 8, 3, 3], [2, 3, 1, 0]),
    w3: (d) => permute(d, [16, 7, 7, 10], [1, 2, 0, 3]),
  };
  const fromTf = {
    k1: (d) => permute(d, [3, 3, 1, 8], [3, 2, 0, 1]),
    k2: (d) => permute(d, [3, 3, 8, 16], [3, 2, 0, 1]),
    w3: (d) => permute(d, [7, 7, 16, 10], [2, 0, 1, 3]),
  };
  const tfShape = { k1: [3, 3, 1, 8], k2: [3, 3, 8, 16] };
  return {
    id: 'cnn-step',
    group: 'training step',
    label: `CNN 28×28×1 conv8-pool-conv16-pool-dense10, batch ${batch}`,
    unit: 'ms/step',
    ceiling: null,
    tol: 2e-3,
    X, Y, P, lr,
    /** step(params) → { loss, params }: the wasmgrad step on inputs x [batch, 1, 28, 28] and targets y. */
    wgStep(wg, x, y) {
      // relu(conv2d(h, k, b)) as one fused op (bias and relu in the convolution's store), the same bits
      const block = (h, k, b) => wg.maxPool2d(wg.conv2d(h, k, b, { padding: 'same', activation: 'relu' }), 2);
      const lossAndGrads = wg.valueAndGrad((p) => {
        const h = block(block(x, p.k1, p.b1), p.k2, p.b2);
        // crossEntropy with a float (probability) target: the one-hot rows, mean over the batch
        return wg.crossEntropy(h.reshape([batch, 784]).matmul(p.w3).add(p.b3), y);
      });
      return (p) => wg.tidy(() => {
        const [loss, grads] = lossAndGrads(p);
        return { loss, params: mapObj(p, (w, k) => w.sub(grads[k].mul(lr))) };
      });
    },
    wasmgrad({ wg }) {
      const x = wg.tensor(X, { shape: [batch, 1, 28, 28] }), y = wg.tensor(Y, { shape: [batch, 10] });
      const params = mapObj(P, (p) => wg.tensor(p.data, { shape: p.shape }));
      return wgTraining(this.wgStep(wg, x, y), params, x, y, P, lr);
    },
    async tfjs({ tf }, peer) {
      await useBackend(tf, peer);
      const x = tf.tensor4d(permute(X, [batch, 1, 28, 28], [0, 2, 3, 1]), [batch, 28, 28, 1]);
      const y = tf.tensor2d(Y, [batch, 10]);
      const vars = mapObj(P, (p, k) => tf.tidy(() =>
        tf.variable(tf.tensor(toTf[k] ? toTf[k](p.data) : p.data, tfShape[k] ?? p.shape), true, `cnn-${peer}-${k}`)));
      const varList = Object.values(vars);
      const optimizer = tf.train.sgd(lr);
      const loss = () => {
        let h = tf.maxPool(tf.relu(tf.conv2d(x, vars.k1, 1, 'same').add(vars.b1)), 2, 2, 'valid');
        h = tf.maxPool(tf.relu(tf.conv2d(h, vars.k2, 1, 'same').add(vars.b2)), 2, 2, 'valid');
        const z = tf.matMul(h.reshape([batch, 784]), vars.w3).add(vars.b3);
        return tf.losses.softmaxCrossEntropy(y, z);
      };
      return {
        run: () => optimizer.minimize(loss, true, varList).dispose(),
        result: () => {
          const value = readTf(optimizer.minimize(loss, true, varList))[0];
          return trainingResult(P, lr, value, mapObj(vars, (v, k) => (fromTf[k] ? fromTf[k](v.dataSync()) : v.dataSync())));
        },
        dispose: () => { x.dispose(); y.dispose(); for (const v of varList) v.dispose(); optimizer.dispose(); },
      };
    },
    async jax({ jax }, peer) {
      const { numpy: np, nn, lax } = jax;
      const x = await jaxArray(jax, X, [batch, 1, 28, 28]), y = await jaxArray(jax, Y, [batch, 10]);
      const params = {};
      for (const [k, p] of Object.entries(P)) params[k] = await jaxArray(jax, p.data, p.shape);
      const pool = (h) => lax.reduceWindow(h, (w) => np.max(w), [2, 2], [2, 2]);
      const conv = (h, k, b, c) => nn.relu(lax.conv(h, k, [1, 1], 'SAME').add(b.reshape([1, c, 1, 1])));
      const lossFn = (p, x, y) => {
        let h = pool(conv(x, p.k1, p.b1, 8));
        h = pool(conv(h, p.k2, p.b2, 16));
        const z = np.matmul(h.reshape([batch, 784]), p.w3).add(p.b3);
        return nn.logsumexp(z.ref, -1).sub(z.mul(y).sum(-1)).mean();
      };
      return jaxTraining(jax, peer, lossFn, params, x, y, P, lr);
    },
  };
}

// ---- 8: GPT training step ---------------------------------------------------------------------

function gptCase() {
  const { P, X, Y } = gptData();
  const { lr, batch: B, context: T } = GPT;
  return {
    id: 'gpt-step',
    group: 'training step',
    label: `GPT ${GPT.layers}×${GPT.width}, ${GPT.heads} heads, context ${T}, batch ${B}`,
    unit: 'ms/step',
    tol: 2e-3,
    lr, X, Y, P,
    note: "nanoGPT's CPU config (bench/lib/gpt.mjs), one plain-SGD step; tfjs has no causal attention with gradients",
    wasmgrad({ wg }) {
      const x = wg.tensor(X, { shape: [B, T], dtype: 'int32' }), y = wg.tensor(Y, { shape: [B, T], dtype: 'int32' });
      const params = mapObj(P, (p) => wg.tensor(p.data, { shape: p.shape }));
      const model = gptLossWasmgrad(wg);
      const lossAndGrads = wg.valueAndGrad((p) => model.loss(p, x, y));
      const step = (p) => wg.tidy(() => {
        const [loss, grads] = lossAndGrads(p);
        return { loss, params: mapObj(p, (w, k) => w.sub(grads[k].mul(lr))) };
      });
      const t = wgTraining(step, params, x, y, P, lr);
      return { ...t, dispose: () => { t.dispose(); model.dispose(); } };
    },
    tfjs: () => unsupported('no causal attention with gradients in tfjs'),
    async jax({ jax }, peer) {
      const x = await jaxArray(jax, Float32Array.from(X), [B, T], 'int32'), y = await jaxArray(jax, Float32Array.from(Y), [B, T], 'int32');
      const params = {};
      for (const [k, p] of Object.entries(P)) params[k] = await jaxArray(jax, p.data, p.shape);
      return jaxTraining(jax, peer, gptLossJax(jax), params, x, y, P, lr);
    },
  };
}

// ---- accelerated rows (issue 8) --------------------------------------------------------------
// wasmgrad's wg.accelerate(f) replays a recorded step with one wasm call. These rows time the
// replay of the same step as the eager row `base`; the peers' figures are the base row's (not
// measured twice). Before timing, the capture and a replay are checked bit for bit against the
// eager step; the replay's results are then the guard's result for the peers.

/** Throws unless every segment of `got` has the same bits as `want`'s. */
function expectSameBits(what, got, want) {
  for (let s = 0; s < want.length; s++) {
    const a = Float64Array.from(got[s].values), b = Float64Array.from(want[s].values);
    for (let i = 0; i < b.length; i++) {
      if (!Object.is(a[i], b[i])) {
        throw new Error(`${what}: ${want[s].name}[${i}] is ${a[i]} accelerated but ${b[i]} eager`);
      }
    }
  }
}

/** The fields every accelerated row shares: its eager row's case, id and label, peers and speed-up base. */
function acceleratedRowOf(base) {
  return { ...base, id: `${base.id}-accelerated`, label: `${base.label}, accelerated`, peersFrom: base.id, eagerOf: base.id };
}

function acceleratedTrainingCase(base) {
  const { lr, X, Y, P } = base;
  const dims = P.w1.shape[0], classes = Y.length / (X.length / dims), batch = X.length / dims;
  return {
    ...acceleratedRowOf(base),
    note: 'wasmgrad: wg.accelerate(step), the whole step (forward, reverse sweep, and the SGD update w − lr·g written with plain ops, as in the eager row and the peers) one wasm call; peers: the eager row\'s figures',
    wasmgrad({ wg }) {
      const x = wg.tensor(X, { shape: [batch, dims] }), y = wg.tensor(Y, { shape: [batch, classes] });
      const init = mapObj(P, (p) => wg.tensor(p.data, { shape: p.shape }));
      const step = sgdStep(wg, x, y, lr);
      return wgAcceleratedTraining(wg, step, init, P, lr, () => { x.dispose(); y.dispose(); });
    },
  };
}

function acceleratedGptCase(base) {
  const { lr, X, Y, P } = base;
  const { batch: B, context: T } = GPT;
  return {
    ...acceleratedRowOf(base),
    note: "wasmgrad: wg.accelerate(step), the whole step one wasm call, checked bit for bit against the eager step; peers: the eager row's figures",
    wasmgrad({ wg }) {
      const x = wg.tensor(X, { shape: [B, T], dtype: 'int32' }), y = wg.tensor(Y, { shape: [B, T], dtype: 'int32' });
      const init = mapObj(P, (p) => wg.tensor(p.data, { shape: p.shape }));
      const model = gptLossWasmgrad(wg);
      const lossAndGrads = wg.valueAndGrad((p) => model.loss(p, x, y));
      const step = (p) => wg.tidy(() => {
        const [loss, grads] = lossAndGrads(p);
        return { loss, params: mapObj(p, (w, k) => w.sub(grads[k].mul(lr))) };
      });
      return wgAcceleratedTraining(wg, step, init, P, lr, () => { x.dispose(); y.dispose(); model.dispose(); });
    },
  };
}

/** The CNN step of `base` under wg.accelerate (a replay per step), checked bit for bit against eager. */
function acceleratedCnnCase(base) {
  const { lr, X, Y, P } = base, batch = Y.length / 10;
  return {
    ...acceleratedRowOf(base),
    note: 'wasmgrad: wg.accelerate(step), the eager row\'s step (forward, reverse sweep, SGD update) replayed by one wasm call; peers: the eager row\'s figures',
    wasmgrad({ wg }) {
      const x = wg.tensor(X, { shape: [batch, 1, 28, 28] }), y = wg.tensor(Y, { shape: [batch, 10] });
      const init = mapObj(P, (p) => wg.tensor(p.data, { shape: p.shape }));
      const step = base.wgStep(wg, x, y);
      return wgAcceleratedTraining(wg, step, init, P, lr, () => { x.dispose(); y.dispose(); });
    },
  };
}

function acceleratedSeedCase(base) {
  return {
    ...acceleratedRowOf(base),
    note: 'wasmgrad: wg.accelerate(valueAndGrad(f)), each evaluation one replay plus reading the three scalars; peers: the eager row\'s figures',
    wasmgrad({ wg }) {
      const x1 = wg.tensor(2), x2 = wg.tensor(0.5);
      const f = (a, b) => a.mul(a.square().add(b.square()).mul(-0.5).exp());
      const vg = wg.valueAndGrad(f, { argnums: [0, 1] });
      const fast = wg.accelerate(vg);
      const evaluate = () => {
        const [y, [g1, g2]] = fast(x1, x2);
        return [y.item(), g1.item(), g2.item()];
      };
      return {
        run: evaluate,
        result: () => {
          const want = wg.tidy(() => { const [y, [g1, g2]] = vg(x1, x2); return [y.item(), g1.item(), g2.item()]; });
          const seg = (v) => [{ name: 'value and partials', values: v }];
          expectSameBits('capture', seg(evaluate()), seg(want));
          const replayed = evaluate();
          expectSameBits('replay', seg(replayed), seg(want));
          if (fast.hits !== 1) throw new Error(`accelerate: expected the second call to replay, got ${fast.hits} hits`);
          return replayed;
        },
        dispose: () => { fast.clearCache(); x1.dispose(); x2.dispose(); },
      };
    },
  };
}

// ---- threaded rows -------------------------------------------------------------------------
// wasmgrad with init({ threads: 2 }) (the machine has two cores): the same case, its big packed
// products split over two threads, measured in a child process (bench/lib/threaded.mjs) since
// threads are chosen at init. The peers run single-threaded (see How each peer runs); their
// figures are the base row's.

function threadedCase(base, threads = 2) {
  return {
    ...base,
    id: `${base.id}-threads${threads}`,
    label: `${base.label}, ${threads} threads`,
    peersFrom: base.id,
    baseOf: base.id,
    eagerOf: base.eagerOf && `${base.eagerOf}-threads${threads}`,
    threads,
    note: `wasmgrad: init({ threads: ${threads} }) in a child process, the same code as the row '${base.label}' (bits equal to one thread's); peers: that row's figures (single-threaded)`,
  };
}

/** Every case, in report order. */
export function allCases() {
  const cases = [];
  for (const n of [64, 128, 256, 512, 1024]) for (const form of Object.keys(FORMS)) cases.push(matmulCase(n, form, 'float32'));
  cases.push(threadedCase(cases.find((c) => c.id === 'matmul-f32-1024-plain')));
  for (const n of [256, 512]) for (const form of Object.keys(FORMS)) cases.push(matmulCase(n, form, 'float64'));
  const mlp = mlpCase('mlp-step', [784, 256, 128, 10], 128), mlpSmall = mlpCase('mlp-step-b1', [4, 16, 3], 1);
  const seed = seedCase();
  const mlpFast = acceleratedTrainingCase(mlp), cnn = cnnCase();
  cases.push(mlp, threadedCase(mlp), mlpFast, threadedCase(mlpFast), mlpSmall, acceleratedTrainingCase(mlpSmall), cnn, threadedCase(cnn));
  const cnnFast = acceleratedCnnCase(cnn);
  cases.push(cnnFast, threadedCase(cnnFast));
  const gpt = gptCase();
  cases.push(gpt, acceleratedGptCase(gpt));
  const fma = fmaCase();
  cases.push(seed, acceleratedSeedCase(seed), fma, acceleratedFmaCase(fma), sumCase(), softmaxCase());
  return cases;
}
