// A whole training step as one replay: MLP 784-256-128-10, batch 128, forward + gradients + an
// Adam update (torch.optim.Adam, state and step counts in wasm), eager vs accelerated (ms/step);
// and the seed function's value and gradient accelerated (evaluations/s).
//   node build/build.mjs && node bench/accelerate-optim.mjs

import * as wg from '../dist/index.js';

await wg.init();

function msPerCall(fn, seconds) {
  for (let i = 0; i < 5; i++) fn(); // warm up (the first accelerated call captures)
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) { fn(); n++; }
  return (performance.now() - t0) / n;
}

function mlpAdam(seed) {
  const sizes = [784, 256, 128, 10], batch = 128;
  wg.manualSeed(seed);
  const params = [];
  for (let k = 1; k < sizes.length; k++) {
    params.push(wg.keep(wg.randn([sizes[k - 1], sizes[k]]).mul(Math.sqrt(2 / sizes[k - 1]))));
    params.push(wg.keep(wg.zeros([sizes[k]])));
  }
  const x = wg.keep(wg.rand([batch, 784]));
  const y = wg.keep(wg.tensor(Array.from({ length: batch }, (_, i) => Array.from({ length: 10 }, (_, j) => (j === (i * 7) % 10 ? 1 : 0)))));
  const loss = (ps, xb) => {
    let h = xb;
    for (let k = 0; k < ps.length; k += 2) {
      const z = h.matmul(ps[k]).add(ps[k + 1]);
      h = k + 2 < ps.length ? wg.relu(z) : z;
    }
    return wg.mean(wg.logsumexp(h, 1).sub(wg.sum(h.mul(y), 1)));
  };
  const lg = wg.valueAndGrad(loss);
  const opt = new wg.optim.Adam(params, { lr: 1e-3 });
  const step = (xb) => { const [l, g] = lg(params, xb); opt.step(g); return l; };
  return { step, x };
}

{
  const a = mlpAdam(1);
  const eager = msPerCall(() => wg.tidy(() => { a.step(a.x); }), 4);
  const b = mlpAdam(1);
  const fast = wg.accelerate(b.step);
  const acc = msPerCall(() => { fast(b.x); }, 4);
  console.log(`MLP 784-256-128-10, batch 128, Adam training step: eager ${eager.toFixed(2)} ms/step, accelerated ${acc.toFixed(2)} ms/step (×${(eager / acc).toFixed(2)})`);
}

{
  const f = (x1, x2) => x1.mul(x1.square().add(x2.square()).mul(-0.5).exp());
  const vg = wg.valueAndGrad(f, { argnums: [0, 1] });
  const x1 = wg.tensor(2, { dtype: 'float64' }), x2 = wg.tensor(0.5, { dtype: 'float64' });
  const fast = wg.accelerate(vg);
  for (let i = 0; i < 1000; i++) fast(x1, x2);
  const n = 5_000_000;
  let best = Infinity;
  for (let rep = 0; rep < 3; rep++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) fast(x1, x2);
    best = Math.min(best, performance.now() - t0);
  }
  const eagerMs = msPerCall(() => wg.tidy(() => { vg(x1, x2); }), 1);
  console.log(`seed value+gradient (float64): accelerated ${(n / best * 1000 / 1e6).toFixed(2)} M eval/s, eager ${(1000 / eagerMs / 1e3).toFixed(1)} k eval/s`);
}
