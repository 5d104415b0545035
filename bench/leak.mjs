// What a loop that leaves temporaries to the garbage collector costs, beside the same loop in
// tidy, for wasmgrad and tfjs-wasm in one run, with the machine's own floor: the time to touch
// 4 MiB of memory the process never used (each page a fault the operating system must serve).
//   node build/build.mjs && node bench/leak.mjs
//
// The loop is y = a·b + c on 2^20 float32 elements, then y.dispose(): the product a·b is left
// for the garbage collector, which a synchronous loop never lets run, so 4 MiB stay alive per
// iteration until memory runs out. Each case runs in a child process of its own, so that every
// one starts from memory nobody touched.

import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ITERS = 200;
const self = fileURLToPath(import.meta.url);

async function child(kind) {
  const n = 1 << 20;
  let step, warm = () => {};
  if (kind === 'floor') {
    const kept = [];
    step = () => { const a = new Float32Array(n); a.fill(1); kept.push(a); };
  } else if (kind.startsWith('wasmgrad')) {
    const wg = await import('../dist/index.js');
    await wg.init();
    const a = wg.rand([n]), b = wg.rand([n]), c = wg.rand([n]);
    step = kind.endsWith('tidy') ? () => wg.tidy(() => { a.mul(b).add(c); }) : () => { const y = a.mul(b).add(c); y.dispose(); };
    // warm: the memory the leak will use was touched once before (as in a process that ran a while)
    if (kind.endsWith('warm')) warm = () => { const t = wg.full([(ITERS + 40) * n], 1); t.dispose(); };
  } else {
    const tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-wasm');
    await tf.setBackend('wasm');
    await tf.ready();
    const a = tf.randomUniform([n]), b = tf.randomUniform([n]), c = tf.randomUniform([n]);
    step = kind.endsWith('tidy') ? () => tf.tidy(() => { tf.add(tf.mul(a, b), c); }) : () => { const y = tf.add(tf.mul(a, b), c); y.dispose(); };
  }
  warm();
  for (let i = 0; i < 10; i++) step();
  const t0 = performance.now();
  for (let i = 0; i < ITERS; i++) step();
  return (performance.now() - t0) / ITERS;
}

if (process.argv[2] === '--child') {
  process.stdout.write(String(await child(process.argv[3])));
} else {
  const cases = [
    ['floor', 'touch 4 MiB of never-used memory (plain JS, kept)'],
    ['wasmgrad-tidy', 'wasmgrad, loop in tidy'],
    ['wasmgrad-leak', 'wasmgrad, a·b left to the GC'],
    ['wasmgrad-leak-warm', 'wasmgrad, a·b left to the GC, memory touched before'],
    ['tfjs-tidy', 'tfjs-wasm, loop in tidy'],
    ['tfjs-leak', 'tfjs-wasm, a·b left to the GC'],
  ];
  console.log(`y = a·b + c, 2^20 float32, ${ITERS} iterations after 10 warm-up, each case in a fresh process\n`);
  for (const [kind, label] of cases) {
    const ms = Number(execFileSync(process.execPath, [self, '--child', kind], { encoding: 'utf8', maxBuffer: 1 << 20 }));
    console.log(`${label.padEnd(56)} ${ms.toFixed(2).padStart(7)} ms per iteration`);
  }
}
