// Accelerated vs eager throughput: the seed function's value and gradient, an LSTM step (one time
// step, and 16) at batch 1, a 2-layer MLP with batch 1, and the MLP training step 784-256-128-10
// at batch 128 (plain SGD, one-hot targets).
//   node build/build.mjs && node bench/accelerate.mjs

import * as wg from '../dist/index.js';

await wg.init();

function rate(fn, seconds = 1.5) {
  for (let i = 0; i < 200; i++) fn(); // warm up
  let n = 0, batch = 1;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < seconds * 1000) {
    for (let i = 0; i < batch; i++) fn();
    n += batch;
    batch = Math.min(batch * 2, 1 << 16);
    t = performance.now();
  }
  return n / ((t - t0) / 1000);
}

const fmt = (r) => (r >= 1e6 ? `${(r / 1e6).toFixed(2)} M/s` : r >= 1e3 ? `${(r / 1e3).toFixed(2)} k/s` : `${r.toFixed(1)} /s`);
const rows = [];
function row(label, eager, fast) {
  rows.push({ label, eager, fast });
  console.log(`${label.padEnd(52)} eager ${fmt(eager).padStart(12)}  accelerated ${fmt(fast).padStart(12)}  ×${(fast / eager).toFixed(1)}`);
}

// — the seed: f(x1, x2) = x1·exp(−½(x1² + x2²)), value and both partials, float64
{
  const f = (x1, x2) => x1.mul(x1.square().add(x2.square()).mul(-0.5).exp());
  const vg = wg.valueAndGrad(f, { argnums: [0, 1] });
  const x1 = wg.tensor(2, { dtype: 'float64' }), x2 = wg.tensor(0.5, { dtype: 'float64' });
  const eager = rate(() => wg.tidy(() => { vg(x1, x2); }));
  const fast = wg.accelerate(vg);
  const r = rate(() => fast(x1, x2));
  row('seed value+gradient (float64 scalars)', eager, r);
}

function mlp(sizes, batch, seed) {
  wg.manualSeed(seed);
  const p = {};
  for (let k = 1; k < sizes.length; k++) {
    p[`w${k}`] = wg.keep(wg.randn([sizes[k - 1], sizes[k]]).mul(Math.sqrt(2 / sizes[k - 1])));
    p[`b${k}`] = wg.keep(wg.zeros([sizes[k]]));
  }
  const x = wg.keep(wg.rand([batch, sizes[0]]));
  const labels = Array.from({ length: batch }, (_, i) => (i * 7) % sizes.at(-1));
  const y = wg.keep(wg.tensor(labels.map((c) => Array.from({ length: sizes.at(-1) }, (_, j) => (j === c ? 1 : 0)))));
  return { p, x, y };
}
const forward = (p, x) => {
  const layers = Object.keys(p).filter((k) => k.startsWith('w')).length;
  let h = x;
  for (let k = 1; k <= layers; k++) {
    const z = h.matmul(p[`w${k}`]).add(p[`b${k}`]);
    h = k < layers ? wg.relu(z) : z;
  }
  return h;
};
const crossEntropy = (z, y) => wg.mean(wg.logsumexp(z, 1).sub(wg.sum(z.mul(y), 1)));
/** A plain SGD training step from lg = valueAndGrad(loss of params): params → { loss, params }. */
const sgdStep = (lg, lr) => (params) => {
  const [loss, grads] = lg(params);
  const next = {};
  for (const k of Object.keys(params)) next[k] = params[k].sub(grads[k].mul(lr));
  return { loss, params: next };
};
const stepOf = (x, y, lr) => sgdStep(wg.valueAndGrad((p) => crossEntropy(forward(p, x), y)), lr);

/** Eager vs accelerated rates of a training step params → { loss, params } from p0. */
function stepRow(label, step, p0, seconds) {
  let params = p0;
  const eager = rate(() => {
    const out = wg.tidy(() => step(params));
    if (params !== p0) wg.dispose(params);
    out.loss.dispose();
    params = out.params;
    for (const t of Object.values(params)) wg.keep(t);
  }, seconds);
  const fast = wg.accelerate(step);
  let q = p0;
  const r = rate(() => { q = fast(q).params; }, seconds);
  row(label, eager, r);
}

function trainBench(label, sizes, batch, seconds) {
  const { p, x, y } = mlp(sizes, batch, 1);
  stepRow(label, stepOf(x, y, 0.01), p, seconds);
}

// — an LSTM step: one time step (or a short sequence) at batch 1, loss, gradient, SGD update
function lstmBench(label, steps, inputSize, hidden, seconds) {
  wg.manualSeed(5);
  const k = 1 / Math.sqrt(hidden);
  const p0 = {
    weight_ih_l0: wg.keep(wg.uniform([4 * hidden, inputSize], -k, k)), weight_hh_l0: wg.keep(wg.uniform([4 * hidden, hidden], -k, k)),
    bias_ih_l0: wg.keep(wg.uniform([4 * hidden], -k, k)), bias_hh_l0: wg.keep(wg.uniform([4 * hidden], -k, k)),
  };
  const x = wg.keep(wg.randn([steps, 1, inputSize]));
  stepRow(label, sgdStep(wg.valueAndGrad((p) => wg.lstm(x, null, p)[0].square().sum()), 0.01), p0, seconds);
}
lstmBench('LSTM step, input 8, hidden 32, batch 1 (SGD)', 1, 8, 32, 1.5);
lstmBench('LSTM over 16 steps, input 8, hidden 32, batch 1 (SGD)', 16, 8, 32, 1.5);
trainBench('MLP 4-16-3 training step, batch 1 (SGD)', [4, 16, 3], 1, 1.5);
trainBench('MLP 784-256-128-10 training step, batch 128 (SGD)', [784, 256, 128, 10], 128, 3);

export { rows };
