// Trains the edge example's network in Node and writes weights.safetensors (committed; the worker
// serves it). Full-batch gradient descent on 800 seeded glyphs; accuracy on 400 held-out ones.
//   npm run build && node examples/edge/train.mjs

import * as wg from 'wasmgrad';
import { INPUT, HIDDEN, CLASSES, glyph, forward } from './model.js';

await wg.init();
wg.seed(7);

function dataset(n, seed) {
  const random = wg.seededRandom(seed);
  const xs = [], ys = [];
  for (let i = 0; i < n; i++) { ys.push(i % CLASSES.length); xs.push(...glyph(i % CLASSES.length, random)); }
  return { x: wg.keep(wg.tensor(xs, { shape: [n, INPUT] })), y: wg.keep(wg.tensor(ys, { shape: [n, 1], dtype: 'int32' })), labels: ys };
}

const train = dataset(800, 1), test = dataset(400, 2);
// PyTorch's Linear initialisation: uniform in ±1/sqrt(fan_in).
const init = (shape, fanIn) => wg.keep(wg.uniform(shape, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn)));
let p = {
  'fc1.weight': init([HIDDEN, INPUT], INPUT), 'fc1.bias': init([HIDDEN], INPUT),
  'fc2.weight': init([CLASSES.length, HIDDEN], HIDDEN), 'fc2.bias': init([CLASSES.length], HIDDEN),
};
const loss = (params) => {
  const z = forward(wg, params, train.x);
  return wg.gather(z.sub(wg.logsumexp(z, -1, { keepdims: true })), 1, train.y).mean().neg();
};
const step = wg.valueAndGrad(loss);
for (let i = 0; i < 300; i++) {
  const next = wg.tidy(() => {
    const [l, g] = step(p);
    if (i % 50 === 0) console.log(`step ${i}: loss ${l.item().toFixed(4)}`);
    return Object.fromEntries(Object.entries(p).map(([k, v]) => [k, v.sub(g[k].mul(0.5))]));
  });
  wg.dispose(Object.values(p));
  p = Object.fromEntries(Object.entries(next).map(([k, v]) => [k, wg.keep(v)]));
}
const predicted = wg.tidy(() => Array.from(wg.argmax(forward(wg, p, test.x), 1).data()));
const accuracy = predicted.filter((c, i) => c === test.labels[i]).length / test.labels.length;
console.log(`held-out accuracy: ${(accuracy * 100).toFixed(1)}%`);
await wg.io.save(p, new URL('./weights.safetensors', import.meta.url), { metadata: {
  about: 'examples/edge network (Linear 64→32, ReLU, Linear 32→4); made by train.mjs',
  classes: CLASSES.join(','), heldOutAccuracy: String(accuracy),
} });
