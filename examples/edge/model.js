// The edge example's network and data, shared by the trainer (Node), the worker (workerd) and the
// test: 8×8 glyphs of four classes → Linear(64, 32) → ReLU → Linear(32, 4), PyTorch's layout
// (weight [out, in]). Plain JS: the library comes in as `wg`, whichever bundle loaded it.

export const SIDE = 8;
export const INPUT = SIDE * SIDE;
export const HIDDEN = 32;
export const CLASSES = ['horizontal', 'vertical', 'diagonal', 'cross'];


/** A noisy 8×8 glyph of class `cls` (row-major, values in [0, 1]). */
export function glyph(cls, random) {
  const img = Array.from({ length: INPUT }, () => random() * 0.3);
  const row = 1 + Math.floor(random() * (SIDE - 2)), col = 1 + Math.floor(random() * (SIDE - 2));
  const anti = random() < 0.5;
  for (let i = 0; i < SIDE; i++) {
    if (cls === 0 || cls === 3) img[row * SIDE + i] = 0.7 + random() * 0.3;
    if (cls === 1 || cls === 3) img[i * SIDE + col] = 0.7 + random() * 0.3;
    if (cls === 2) img[i * SIDE + (anti ? SIDE - 1 - i : i)] = 0.7 + random() * 0.3;
  }
  return img;
}

/** Parameters (kept) from the weights file's bytes, safetensors read by wasmgrad's io. */
export function loadParams(wg, bytes) {
  const { tensors } = wg.io.load(bytes);
  for (const t of Object.values(tensors)) wg.keep(t);
  return tensors;
}

/** Class scores (logits) for x [..., 64]. */
export function forward(wg, p, x) {
  return wg.linear(wg.linear(x, p['fc1.weight'], p['fc1.bias']).relu(), p['fc2.weight'], p['fc2.bias']);
}

/**
 * The prediction for one glyph (64 numbers), the class probabilities, and the saliency map: the
 * gradient of the predicted class's score with respect to the input.
 */
export function predict(wg, p, input) {
  return wg.tidy(() => {
    const x = wg.tensor(input, { shape: [INPUT] });
    const scores = Array.from(forward(wg, p, x).data());
    const prediction = scores.indexOf(Math.max(...scores));
    const logits = wg.tensor(scores);
    const probabilities = Array.from(logits.sub(wg.logsumexp(logits, 0)).exp().data());
    const saliency = wg.grad((z) => forward(wg, p, z).select(0, prediction))(x);
    return { prediction, label: CLASSES[prediction], scores, probabilities, saliency: Array.from(saliency.data()) };
  });
}
