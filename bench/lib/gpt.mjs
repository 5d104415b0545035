// The GPT training step of the bench: nanoGPT's model (examples/gpt/train.mjs, model.py) at its
// CPU configuration (4 layers, 4 heads, 128 wide, context 64, batch 12, a 65-character
// vocabulary), one plain-SGD step, written as a functional program over a flat parameter
// object so that every library gets the same weights: wasmgrad (eager and accelerated) and
// jax-js (eager and jit). Weights are PyTorch's layout (Linear weight [out, in]); lm_head is
// tied to the token embedding (one parameter, the gradient of both uses).

import { uniform } from './data.mjs';

export const GPT = { vocab: 65, layers: 4, heads: 4, width: 128, context: 64, batch: 12, lr: 0.1 };

/** Seeded weights (uniform with nanoGPT's N(0, 0.02) spread), LayerNorm near (1, 0), tokens and targets. */
export function gptData(cfg = GPT) {
  const { vocab, layers, width: C, context: T, batch: B } = cfg;
  let seed = 9001;
  const P = {};
  const add = (name, shape, lo, hi) => { P[name] = { data: uniform(shape.reduce((a, b) => a * b, 1), seed++, lo, hi), shape }; };
  const w = 0.035; // uniform(±0.035) has standard deviation 0.02
  add('wte', [vocab, C], -w, w);
  add('wpe', [T, C], -w, w);
  for (let l = 0; l < layers; l++) {
    add(`h${l}.ln_1.weight`, [C], 0.9, 1.1); add(`h${l}.ln_1.bias`, [C], -0.05, 0.05);
    add(`h${l}.attn.c_attn.weight`, [3 * C, C], -w, w); add(`h${l}.attn.c_attn.bias`, [3 * C], -0.01, 0.01);
    add(`h${l}.attn.c_proj.weight`, [C, C], -w / 3, w / 3); add(`h${l}.attn.c_proj.bias`, [C], -0.01, 0.01);
    add(`h${l}.ln_2.weight`, [C], 0.9, 1.1); add(`h${l}.ln_2.bias`, [C], -0.05, 0.05);
    add(`h${l}.mlp.c_fc.weight`, [4 * C, C], -w, w); add(`h${l}.mlp.c_fc.bias`, [4 * C], -0.01, 0.01);
    add(`h${l}.mlp.c_proj.weight`, [C, 4 * C], -w / 3, w / 3); add(`h${l}.mlp.c_proj.bias`, [C], -0.01, 0.01);
  }
  add('ln_f.weight', [C], 0.9, 1.1); add('ln_f.bias', [C], -0.05, 0.05);
  const tokens = (s) => Int32Array.from(uniform(B * T, s, 0, vocab), (v) => Math.min(vocab - 1, Math.floor(v)));
  return { P, X: tokens(9901), Y: tokens(9902) };
}

/** The mean cross-entropy of the model's next-character logits, in wasmgrad. */
export function gptLossWasmgrad(wg, cfg = GPT) {
  const { layers, heads: H, width: C, context: T, batch: B } = cfg;
  const pos = wg.tensor(Int32Array.from({ length: T }, (_, i) => i), { shape: [T], dtype: 'int32' });
  const lin = (x, p, name) => wg.linear(x, p[`${name}.weight`], p[`${name}.bias`]);
  const ln = (x, p, name) => wg.layerNorm(x, [C], p[`${name}.weight`], p[`${name}.bias`]);
  const loss = (p, x, y) => {
    let h = wg.embedding(x, p.wte).add(wg.embedding(pos, p.wpe));
    for (let l = 0; l < layers; l++) {
      const a = ln(h, p, `h${l}.ln_1`);
      const [q, k, v] = lin(a, p, `h${l}.attn.c_attn`).split(C, 2).map((t) => t.reshape([B, T, H, C / H]).transpose(1, 2));
      const att = wg.scaledDotProductAttention(q, k, v, { isCausal: true }).transpose(1, 2).reshape([B, T, C]);
      h = h.add(lin(att, p, `h${l}.attn.c_proj`));
      const m = wg.gelu(lin(ln(h, p, `h${l}.ln_2`), p, `h${l}.mlp.c_fc`));
      h = h.add(lin(m, p, `h${l}.mlp.c_proj`));
    }
    const logits = wg.linear(ln(h, p, 'ln_f'), p.wte); // lm_head tied to wte
    return wg.crossEntropy(logits.reshape([B * T, cfg.vocab]), y.reshape([B * T]));
  };
  return { loss, dispose: () => pos.dispose() };
}

/** The same loss in jax-js (arrays are consumed on use: .ref keeps one for a later use). */
export function gptLossJax(jax, cfg = GPT) {
  const { numpy: np, nn } = jax;
  const { layers, heads: H, width: C, context: T, batch: B, vocab: V } = cfg;
  const lin = (x, w, b) => np.matmul(x, w.transpose()).add(b);
  const ln = (x, w, b) => nn.standardize(x, -1, { epsilon: 1e-5 }).mul(w).add(b);
  // jax-js's nn.dotProductAttention parses an einsum with iterator helpers Node 20 lacks: the
  // same causal attention written out, heads first ([B, H, T, hs]).
  const causal = np.tril(np.ones([T, T])).astype(np.bool);
  const attention = (q, k, v) => {
    const s = np.matmul(q, k.transpose([0, 1, 3, 2])).mul(1 / Math.sqrt(C / H));
    return np.matmul(nn.softmax(np.where(causal.ref, s, -Infinity), -1), v);
  };
  // Lookups are one-hot products: the gradient of take (a scatter) does not compile under jax-js's jit.
  return (p, x, y) => {
    let h = np.matmul(nn.oneHot(x, V), p.wte.ref).add(p.wpe); // positions 0 … T−1: wpe itself
    for (let l = 0; l < layers; l++) {
      const g = (name) => p[`h${l}.${name}`];
      const qkv = lin(ln(h.ref, g('ln_1.weight'), g('ln_1.bias')), g('attn.c_attn.weight'), g('attn.c_attn.bias'));
      const [q, k, v] = np.split(qkv, 3, 2).map((t) => t.reshape([B, T, H, C / H]).transpose([0, 2, 1, 3]));
      const att = attention(q, k, v).transpose([0, 2, 1, 3]).reshape([B, T, C]);
      h = h.add(lin(att, g('attn.c_proj.weight'), g('attn.c_proj.bias')));
      const m = nn.gelu(lin(ln(h.ref, g('ln_2.weight'), g('ln_2.bias')), g('mlp.c_fc.weight'), g('mlp.c_fc.bias')), { approximate: false });
      h = h.add(lin(m, g('mlp.c_proj.weight'), g('mlp.c_proj.bias')));
    }
    const logits = np.matmul(ln(h, p['ln_f.weight'], p['ln_f.bias']), p.wte.transpose()).reshape([B * T, V]);
    const picked = logits.ref.mul(nn.oneHot(y.reshape([B * T]), V)).sum(-1);
    return nn.logsumexp(logits, -1).sub(picked).mean();
  };
}
