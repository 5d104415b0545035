// Trains an MLP on real MNIST digits with wasmgrad (nn, Adam) and draws the loss and test accuracy
// live with Chart.js (bundled locally by build.mjs; no CDN). window.training exposes the numbers
// for the test.

import { Chart, LineController, LineElement, PointElement, LinearScale, Legend, Tooltip } from 'chart.js';
import * as wg from 'wasmgrad';
import digits from 'mnist-subset'; // packed real digits, embedded by build.mjs
import { unpackDigits, PIXELS, CLASSES } from './data.js';

Chart.register(LineController, LineElement, PointElement, LinearScale, Legend, Tooltip);

const BATCH = 64, HIDDEN = 128, LR = 2e-3, TEST_EVERY = 10;
const $ = (id) => document.getElementById(id);
const state = (window.training = { step: 0, losses: [], accuracies: [], running: true, ready: false, error: null });

const chart = new Chart($('chart'), {
  type: 'line',
  data: {
    datasets: [
      { label: 'training loss', data: [], borderColor: '#d9480f', borderWidth: 1.5, pointRadius: 0, yAxisID: 'loss' },
      { label: 'test accuracy', data: [], borderColor: '#1971c2', borderWidth: 2, pointRadius: 2, yAxisID: 'accuracy' },
    ],
  },
  options: {
    animation: false,
    parsing: false,
    responsive: false,
    scales: {
      x: { type: 'linear', title: { display: true, text: 'step' } },
      loss: { type: 'linear', position: 'left', min: 0, title: { display: true, text: 'loss' } },
      accuracy: { type: 'linear', position: 'right', min: 0, max: 1, grid: { drawOnChartArea: false }, title: { display: true, text: 'accuracy' } },
    },
  },
});

async function main() {
  await wg.init(); // fetches wasmgrad.wasm from beside the bundle (streaming compile)
  wg.seed(1);
  const { train, test } = unpackDigits(digits);
  const testX = wg.keep(wg.tensor(test.images, { shape: [test.labels.length, PIXELS] }));
  const model = new wg.nn.Sequential(new wg.nn.Linear(PIXELS, HIDDEN), new wg.nn.ReLU(), new wg.nn.Linear(HIDDEN, CLASSES));
  const optimizer = new wg.optim.Adam(model, { lr: LR });
  const order = Array.from({ length: train.labels.length }, (_, i) => i);
  const random = wg.seededRandom(3);
  let cursor = order.length, started = performance.now(), pausedAt = 0;
  state.ready = true;
  $('status').textContent = 'training…';

  const step = () => {
    if (!state.running) return;
    // A fresh seeded shuffle per epoch (Fisher–Yates).
    if (cursor + BATCH > order.length) {
      for (let i = order.length - 1; i > 0; i--) { const j = Math.floor(random() * (i + 1)); [order[i], order[j]] = [order[j], order[i]]; }
      cursor = 0;
    }
    const idx = order.slice(cursor, cursor += BATCH);
    const xs = new Float32Array(BATCH * PIXELS), ys = new Int32Array(BATCH);
    idx.forEach((k, i) => { xs.set(train.images.subarray(k * PIXELS, (k + 1) * PIXELS), i * PIXELS); ys[i] = train.labels[k]; });
    const loss = wg.tidy(() => wg.trainStep(model, optimizer, wg.crossEntropy,
      wg.tensor(xs, { shape: [BATCH, PIXELS] }), wg.tensor(ys, { dtype: 'int32' })));
    state.losses.push(loss);
    state.step++;
    chart.data.datasets[0].data.push({ x: state.step, y: state.losses.at(-1) });
    if (state.step % TEST_EVERY === 0) {
      const predicted = wg.tidy(() => model.predict(testX).argmax(1).data());
      const accuracy = predicted.reduce((n, c, i) => n + (c === test.labels[i] ? 1 : 0), 0) / test.labels.length;
      state.accuracies.push({ step: state.step, accuracy });
      chart.data.datasets[1].data.push({ x: state.step, y: accuracy });
      $('accuracy').textContent = `${(accuracy * 100).toFixed(1)}%`;
    }
    chart.update('none');
    $('step').textContent = String(state.step);
    $('loss').textContent = state.losses.at(-1).toFixed(4);
    $('speed').textContent = (state.step / ((performance.now() - started) / 1000)).toFixed(0);
    setTimeout(step, 0);
  };
  $('toggle').addEventListener('click', () => {
    state.running = !state.running;
    $('toggle').textContent = state.running ? 'pause' : 'resume';
    if (!state.running) pausedAt = performance.now();
    else { started += performance.now() - pausedAt; step(); }
  });
  step();
}

main().catch((e) => {
  state.error = String(e?.stack ?? e);
  $('status').textContent = `failed: ${e.message}`;
});
