// A nanoGPT-style character model, written the way nanoGPT's model.py and train.py are: a GPT
// with pre-norm blocks of causal self-attention and an MLP, the output projection tied to the
// token embedding (lm_head.weight is wte.weight), AdamW with parameter groups (weight decay on the
// 2-D weights only, none on biases and LayerNorm weights), gradient clipping at 1.0, a progress
// bar, sampling with multinomial, and a checkpoint (model and optimizer) that a later run resumes.
// The text is the opening of Lewis Carroll's "Alice's Adventures in Wonderland" (1865, public
// domain), examples/gpt/input.txt.
//
//   npm run build && node examples/gpt/train.mjs                    # train 300 steps, sample
//   node examples/gpt/train.mjs --steps 100 --out gpt.ckpt           # save a checkpoint
//   node examples/gpt/train.mjs --steps 100 --resume gpt.ckpt        # continue it
//   node examples/gpt/train.mjs --help

import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import * as wg from '../../dist/index.js';

const { nn, optim, io } = wg;
const here = path.dirname(fileURLToPath(import.meta.url));

// ————————————————————————————————————————————————————————— the model (nanoGPT's model.py)

class CausalSelfAttention extends nn.Module {
  constructor(cfg) {
    super();
    this.nHead = cfg.nHead;
    this.c_attn = new nn.Linear(cfg.nEmbd, 3 * cfg.nEmbd);   // q, k, v for all heads, in one product
    this.c_proj = new nn.Linear(cfg.nEmbd, cfg.nEmbd);
  }
  forward(x) {
    const [B, T, C] = x.shape, H = this.nHead;
    const [q, k, v] = this.c_attn.call(x).split(C, 2)
      .map((t) => t.reshape([B, T, H, C / H]).transpose(1, 2));   // [B, H, T, hs]
    const y = wg.scaledDotProductAttention(q, k, v, { isCausal: true });
    return this.c_proj.call(y.transpose(1, 2).reshape([B, T, C]));
  }
}

class MLP extends nn.Module {
  constructor(cfg) {
    super();
    this.c_fc = new nn.Linear(cfg.nEmbd, 4 * cfg.nEmbd);
    this.c_proj = new nn.Linear(4 * cfg.nEmbd, cfg.nEmbd);
  }
  forward(x) { return this.c_proj.call(wg.gelu(this.c_fc.call(x))); }
}

class Block extends nn.Module {
  constructor(cfg) {
    super();
    this.ln_1 = new nn.LayerNorm(cfg.nEmbd);
    this.attn = new CausalSelfAttention(cfg);
    this.ln_2 = new nn.LayerNorm(cfg.nEmbd);
    this.mlp = new MLP(cfg);
  }
  forward(x) {
    x = x.add(this.attn.call(this.ln_1.call(x)));
    return x.add(this.mlp.call(this.ln_2.call(x)));
  }
}

export class GPT extends nn.Module {
  constructor(cfg) {
    super();
    this.blockSize = cfg.blockSize;
    this.wte = new nn.Embedding(cfg.vocabSize, cfg.nEmbd);
    this.wpe = new nn.Embedding(cfg.blockSize, cfg.nEmbd);
    this.h = new nn.ModuleList(Array.from({ length: cfg.nLayer }, () => new Block(cfg)));
    this.ln_f = new nn.LayerNorm(cfg.nEmbd);
    this.lm_head = new nn.Linear(cfg.nEmbd, cfg.vocabSize, { bias: false });
    this.lm_head.weight = this.wte.weight;   // weight tying: one tensor, the gradient of both uses
    // nanoGPT's _init_weights: N(0, 0.02) for Linear and Embedding weights, zero biases, and the
    // residual projections scaled by 1/√(2·n_layer) (GPT-2's scheme), all in place
    this.apply((m) => {
      if (m instanceof nn.Linear) {
        nn.init.normal_(m.weight, 0, 0.02);
        if (m.bias) nn.init.zeros_(m.bias);
      } else if (m instanceof nn.Embedding) {
        nn.init.normal_(m.weight, 0, 0.02);
      }
    });
    for (const [name, p] of this.namedParameters()) {
      if (name.endsWith('c_proj.weight')) nn.init.normal_(p, 0, 0.02 / Math.sqrt(2 * cfg.nLayer));
    }
  }
  forward(idx) {
    const T = idx.shape[1];
    const pos = wg.arange(T).to('int32');
    let x = this.wte.call(idx).add(this.wpe.call(pos));
    for (const block of this.h) x = block.call(x);
    return this.lm_head.call(this.ln_f.call(x));   // logits [B, T, vocab]
  }
}

/** nanoGPT's configure_optimizers: decay the weights of matrix products and embeddings only. */
export function configureOptimizer(model, { weightDecay, learningRate, betas }) {
  const params = model.namedParameters();
  const decay = params.filter(([, p]) => p.shape.length >= 2).map(([, p]) => p);
  const noDecay = params.filter(([, p]) => p.shape.length < 2).map(([, p]) => p);
  return new optim.AdamW([{ params: decay, weightDecay }, { params: noDecay, weightDecay: 0 }], { lr: learningRate, betas });
}

// ————————————————————————————————————————————————————————— data, training, sampling (train.py)

export function loadText(file = path.join(here, 'input.txt')) {
  const text = readFileSync(file, 'utf8');
  const chars = [...new Set(text)].sort();
  const stoi = new Map(chars.map((c, i) => [c, i]));
  return { text, chars, encode: (s) => [...s].map((c) => stoi.get(c)), decode: (ids) => ids.map((i) => chars[i]).join('') };
}

/** Random windows of the text: inputs [B, T] and the next characters [B, T], from the seeded generator. */
function getBatch(data, batchSize, blockSize) {
  const starts = wg.randint(0, data.length - blockSize - 1, [batchSize]).data();
  const x = [], y = [];
  for (const s of starts) { x.push(...data.slice(s, s + blockSize)); y.push(...data.slice(s + 1, s + blockSize + 1)); }
  return [wg.tensor(x, { shape: [batchSize, blockSize], dtype: 'int32' }), wg.tensor(y, { shape: [batchSize, blockSize], dtype: 'int32' })];
}

const lossOf = (logits, y) => wg.crossEntropy(logits.reshape([-1, logits.shape[2]]), y.reshape([-1]));

/** Draws `n` characters after `start`, one at a time, from softmax(logits / temperature). */
export function sample(model, start, n, blockSize, temperature = 0.8) {
  const ids = [...start];
  model.eval();
  for (let i = 0; i < n; i++) {
    wg.tidy(() => {
      const context = ids.slice(-blockSize);
      const logits = model.call(wg.tensor(context, { shape: [1, context.length], dtype: 'int32' }));
      const last = logits.select(1, context.length - 1).div(temperature);
      ids.push(wg.multinomial(wg.softmax(last, -1).reshape([-1]), 1).data()[0]);
    });
  }
  model.train();
  return ids;
}

export async function main(argv = process.argv.slice(2)) {
  const arg = (name, fallback) => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1] : fallback; };
  if (argv.includes('--help')) {
    console.log('node examples/gpt/train.mjs [--steps 300] [--batch 16] [--block 32] [--layers 2] [--embd 64] [--heads 4] ' +
      '[--lr 0.003] [--seed 1337] [--out file] [--resume file] [--sample 200] [--quiet]');
    return undefined;
  }
  await wg.init();
  const steps = Number(arg('steps', 300)), batchSize = Number(arg('batch', 16)), blockSize = Number(arg('block', 32));
  const quiet = argv.includes('--quiet');
  wg.seed(Number(arg('seed', 1337)));
  const { text, chars, encode, decode } = loadText();
  const data = encode(text);
  const cfg = { vocabSize: chars.length, blockSize, nLayer: Number(arg('layers', 2)), nHead: Number(arg('heads', 4)), nEmbd: Number(arg('embd', 64)) };
  const model = new GPT(cfg);
  const opt = configureOptimizer(model, { weightDecay: 0.1, learningRate: Number(arg('lr', 3e-3)), betas: [0.9, 0.95] });
  const resume = arg('resume');
  if (resume !== undefined) {
    await io.load(`${resume}.model.safetensors`, model);
    await io.load(`${resume}.optim.safetensors`, opt);
    wg.seed(Number(arg('seed', 1337)) + 1);   // a new stream of batches for the continued run
  }
  if (!quiet) console.log(`${model.numParameters()} parameters (lm_head tied to wte), vocabulary ${chars.length}, ${data.length} characters`);
  const losses = [];
  const t0 = performance.now();
  for (let step = 1; step <= steps; step++) {
    const loss = wg.tidy(() => {
      const [x, y] = getBatch(data, batchSize, blockSize);
      const [value, grads] = wg.valueAndGrad((m) => lossOf(m.call(x), y))(model);
      optim.clipGradNorm(grads, 1.0);
      opt.step(grads);
      return value.item();
    });
    losses.push(loss);
    if (!quiet && (step % 10 === 0 || step === steps)) {
      const done = Math.round((step / steps) * 30);
      const mean = losses.slice(-10).reduce((a, b) => a + b, 0) / Math.min(10, losses.length);
      process.stdout.write(`\rstep ${String(step).padStart(4)}/${steps} |${'█'.repeat(done)}${'░'.repeat(30 - done)}| loss ${mean.toFixed(4)} | ${((performance.now() - t0) / 1000).toFixed(1)}s`);
    }
  }
  if (!quiet) process.stdout.write('\n');
  const out = arg('out');
  if (out !== undefined) {
    await io.save(model, `${out}.model.safetensors`);
    await io.save(opt, `${out}.optim.safetensors`);
    if (!quiet) console.log(`checkpoint: ${out}.model.safetensors, ${out}.optim.safetensors`);
  }
  const n = Number(arg('sample', 200));
  const text2 = n > 0 ? decode(sample(model, encode('Alice '), n, blockSize)) : '';
  if (!quiet && n > 0) console.log(`\n${text2}\n`);
  const first = losses.slice(0, 10).reduce((a, b) => a + b, 0) / Math.min(10, losses.length);
  const last = losses.slice(-10).reduce((a, b) => a + b, 0) / Math.min(10, losses.length);
  if (!quiet) console.log(`mean loss: first 10 steps ${first.toFixed(4)}, last 10 steps ${last.toFixed(4)} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  const result = { first, last, losses, sample: text2, parameters: model.numParameters() };
  model.dispose();
  opt.dispose();
  return result;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const r = await main();
  if (r && process.argv.includes('--json')) writeFileSync(1, JSON.stringify({ first: r.first, last: r.last }) + '\n');
}
