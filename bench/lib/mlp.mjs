// The wasmgrad MLP training step, written as a wasmgrad user would. Takes the wasmgrad module as
// an argument so that the test suite can run the same step on the sources (src/) that the
// benchmark runs on the bundle (dist/).

/** Mean softmax cross-entropy of logits z [batch, classes] against one-hot targets y. */
export function crossEntropy(wg, z, y) {
  return wg.mean(wg.logsumexp(z, 1).sub(wg.sum(z.mul(y), 1)));
}

/** Logits of a dense relu network; params { w1, b1, w2, b2, ... } with w_k [in, out]. */
export function forward(wg, p, x) {
  const layers = Object.keys(p).filter((k) => k.startsWith('w')).length;
  let h = x;
  for (let k = 1; k <= layers; k++) {
    const z = h.matmul(p[`w${k}`]).add(p[`b${k}`]);
    h = k < layers ? wg.relu(z) : z;
  }
  return h;
}

/**
 * A plain-SGD training step: step(params) → { loss, params } with the new params; the caller
 * disposes the old ones (and the loss) once it has read what it needs.
 */
export function sgdStep(wg, x, y, lr) {
  const lossAndGrads = wg.valueAndGrad((p) => crossEntropy(wg, forward(wg, p, x), y));
  return (params) => wg.tidy(() => {
    const [loss, grads] = lossAndGrads(params);
    const next = {};
    for (const k of Object.keys(params)) next[k] = params[k].sub(grads[k].mul(lr));
    return { loss, params: next };
  });
}
