// The side-by-side benchmark: wasmgrad against TensorFlow.js (wasm and cpu backends) and jax-js
// (eager and jit) in one process, plus the machine's own ceiling.
//
//   npm run bench                       # everything; writes bench/results.json and bench/RESULTS.md
//   npm run bench -- --quick            # shorter samples (a smoke run)
//   npm run bench -- --filter matmul    # only cases whose id or label contains the text
//                                       # (a filtered run prints but does not write the files)

import { readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { PROFILES, measure } from './lib/harness.mjs';
import { measureCeiling } from './lib/ceiling.mjs';
import { loadPeers } from './lib/peers.mjs';
import { allCases, Unsupported } from './lib/cases.mjs';
import { COLUMNS, figureOf, ceilingFor, textTable, cell, markdown } from './lib/report.mjs';

const here = import.meta.dirname;
const require = createRequire(import.meta.url);

function parseArgs(argv) {
  const opts = { quick: false, filter: null };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--quick') opts.quick = true;
    else if (argv[i] === '--filter' && i + 1 < argv.length) opts.filter = argv[++i];
    else if (argv[i].startsWith('--filter=')) opts.filter = argv[i].slice('--filter='.length);
    else throw new Error(`bench: unknown argument '${argv[i]}' (use --quick and/or --filter <text>)`);
  }
  return opts;
}

function cpuModel() {
  const info = readFileSync('/proc/cpuinfo', 'utf8');
  const field = (name) => info.match(new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm'))?.[1]?.trim();
  const model = field('model name') ?? os.cpus()[0]?.model ?? 'unknown CPU';
  const family = field('cpu family'), modelNo = field('model'), mhz = field('cpu MHz');
  return `${model}${family ? ` (family ${family}, model ${modelNo})` : ''}${mhz ? `, ${Math.round(+mhz)} MHz` : ''}`;
}

/** Worst relative error over the segments: max |x − ref| / max |ref|, per segment. */
function relError(result, reference) {
  const seg = (r) => (Array.isArray(r) && r.length && typeof r[0] === 'object' ? r : [{ name: 'result', values: r }]);
  const a = seg(result), b = seg(reference);
  if (a.length !== b.length) return { error: Infinity, where: `${a.length} outputs vs ${b.length}` };
  let worst = { error: 0, where: '' };
  for (let s = 0; s < a.length; s++) {
    const x = a[s].values, y = b[s].values;
    if (x.length !== y.length) return { error: Infinity, where: `${b[s].name}: ${x.length} values vs ${y.length}` };
    let diff = 0, scale = 0;
    for (let i = 0; i < y.length; i++) {
      diff = Math.max(diff, Math.abs(x[i] - y[i]));
      scale = Math.max(scale, Math.abs(y[i]));
    }
    const e = Number.isNaN(diff) ? Infinity : diff / (scale || 1);
    if (e > worst.error) worst = { error: e, where: b[s].name };
  }
  return worst;
}

async function build(c, peer, ctx) {
  if (peer === 'wasmgrad') return c.wasmgrad(ctx);
  if (peer.startsWith('tfjs')) return c.tfjs(ctx, peer);
  return c.jax(ctx, peer);
}

async function runCase(c, ctx, profile, ceiling, done) {
  const row = { id: c.id, group: c.group, label: c.label, unit: c.unit, note: c.note, peers: {} };
  const reference = c.reference ?? 'wasmgrad';
  const order = [reference, ...COLUMNS.filter((p) => p !== reference)];
  // A row that times another wasmgrad variant of an earlier case takes that case's peer figures.
  const peersFrom = c.peersFrom && done.find((r) => r.id === c.peersFrom);
  let refResult = null;
  for (const peer of order) {
    if (peersFrom && peer !== 'wasmgrad') {
      if (peersFrom.peers[peer]) row.peers[peer] = { ...peersFrom.peers[peer], wasmgradSpeedup: undefined };
      continue;
    }
    if (peer === 'wasmgrad' && c.threads) {
      row.peers.wasmgrad = threadedFigure(c, profile, ceiling);
      continue;
    }
    let impl = null;
    try {
      impl = await build(c, peer, ctx);
      const result = impl.result();
      if (peer === reference) {
        refResult = result;
      } else if (refResult) {
        const { error, where } = relError(result, refResult);
        if (!(error <= c.tol)) {
          row.peers[peer] = { status: 'mismatch', error, where };
          console.warn(`WARNING ${c.id}: ${peer} disagrees with ${reference} (relative error ${error.toExponential(2)} in ${where}, tolerance ${c.tol}); not timed`);
          continue;
        }
      }
      const t = await measure(`${c.id} ${peer}`, impl.run, { deferred: !!impl.deferred, profile });
      const figure = figureOf(c, t.median);
      const ceil = ceilingFor(c, ceiling);
      row.peers[peer] = {
        status: 'ok', seconds: t.median, best: t.min, mean: t.mean, rme: t.rme, samples: t.samples, figure,
        ofCeiling: ceil ? figure / ceil.value : null,
      };
    } catch (e) {
      // A kernel the peer's backend does not register is something the peer cannot do.
      const missing = /Kernel '(\w+)' not registered for backend '(\w+)'/.exec(e?.message ?? '');
      if (missing) e = new Unsupported(`no ${missing[1]} kernel in the tfjs ${missing[2]} backend`);
      row.peers[peer] = e instanceof Unsupported
        ? { status: 'unsupported', reason: e.message }
        : { status: 'error', reason: String(e?.message ?? e).split('\n')[0] };
      if (!(e instanceof Unsupported)) console.warn(`ERROR ${c.id} ${peer}: ${e?.stack ?? e}`);
    } finally {
      try { impl?.dispose(); } catch (e) { console.warn(`ERROR ${c.id} ${peer} dispose: ${e?.message ?? e}`); }
    }
  }
  if (reference !== 'wasmgrad') row.guard = `results checked against ${reference} (wasmgrad cannot run this case)`;
  const wg = row.peers.wasmgrad;
  const eager = c.eagerOf && done.find((r) => r.id === c.eagerOf)?.peers.wasmgrad;
  if (wg?.status === 'ok' && eager?.status === 'ok') wg.overEager = eager.seconds / wg.seconds;
  for (const peer of COLUMNS.slice(1)) {
    const r = row.peers[peer];
    if (wg?.status === 'ok' && r?.status === 'ok') r.wasmgradSpeedup = r.seconds / wg.seconds;
  }
  return row;
}

/** wasmgrad's figure for a threaded case, measured in a child process (bench/lib/threaded.mjs). */
function threadedFigure(c, profile, ceiling) {
  const which = profile === PROFILES.quick ? 'quick' : 'full';
  const child = spawnSync(process.execPath, [path.join(here, 'lib/threaded.mjs'), c.baseOf, String(c.threads), which],
    { encoding: 'utf8', timeout: 600_000 });
  if (child.status !== 0) {
    console.warn(`ERROR ${c.id} wasmgrad (${c.threads} threads): ${child.stderr || child.error}`);
    return { status: 'error', reason: (child.stderr || String(child.error)).trim().split('\n')[0] };
  }
  const { t } = JSON.parse(child.stdout.trim().split('\n').pop());
  const figure = figureOf(c, t.median);
  const ceil = ceilingFor(c, ceiling);
  return { status: 'ok', seconds: t.median, best: t.min, mean: t.mean, rme: t.rme, samples: t.samples, figure, ofCeiling: ceil ? figure / ceil.value : null };
}

const PEER_NOTES = [
  'wasmgrad: the built bundle (dist/index.js), eager ops; the training step is valueAndGrad over an object of params inside tidy, loss = mean(logsumexp(z, 1) − sum(z·onehot, 1)), update w − lr·g; transposed products use matmulT (no copy). The CNN step: conv2d (padding \'same\', bias) with its relu fused ({ activation: \'relu\' }: one op, the same bits as relu(conv2d(…))), maxPool2d, matmul, crossEntropy against the one-hot rows. Accelerated rows: wg.accelerate(step), checked bit for bit against the eager step (capture and replay) before timing; their peer columns repeat the eager row\'s peer figures, and the wasmgrad cell adds the speed-up over wasmgrad eager.',
  'tfjs-wasm: @tensorflow/tfjs (the umbrella package: it registers the gradients in Node) with @tensorflow/tfjs-backend-wasm on its SIMD, non-threaded binary (tfjs never uses threads in Node), loaded from the package with setWasmPaths; training with tf.train.sgd(lr).minimize over tf.variable params and tf.losses.softmaxCrossEntropy; transposed products with tf.matMul(a, b, transposeA, transposeB).',
  'tfjs-cpu: the same code on @tensorflow/tfjs-backend-cpu (plain JavaScript kernels).',
  'jax-eager: @jax-js/jax on its wasm device (init(\'wasm\')); Node has no global Worker, so it runs on the main thread. Its ops are lazy: each timed op is awaited with blockUntilReady (the seed case reads its scalars with dataSync). Training with valueAndGrad over a params tree and tree.map SGD; transposes with a.transpose().',
  'jax-jit: the same functions wrapped in jax.jit (compiled on the first call, during warm-up).',
  'Correctness guard: before timing, each peer\'s result is compared with wasmgrad\'s (max |Δ| / max |reference|, per output); a peer outside the tolerance is reported as a wrong result and not timed. Training steps compare the loss and every gradient, recovered from the first update as (w₀ − w₁)/lr.',
];

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const profile = opts.quick ? PROFILES.quick : PROFILES.full;
  const started = Date.now();
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const ctx = await loadPeers();
  const env = {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    command,
    cpu: cpuModel(),
    cores: os.cpus().length,
    node: process.versions.node,
    v8: process.versions.v8,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    versions: ctx.versions,
    benchmarkjs: require('benchmark/package.json').version,
    profile,
    loadBefore: os.loadavg()[0],
  };
  if (env.loadBefore > 0.5) {
    console.warn(`note: the 1-minute load average is ${env.loadBefore.toFixed(2)} before the run: other processes share the cores and the figures will be noisy`);
  }
  console.log(`wasmgrad bench — ${env.date}\n${env.cpu}, Node ${env.node}\n${Object.entries(env.versions).map(([k, v]) => `${k} ${v}`).join(', ')}\n`);

  console.log('measuring the machine ceiling…');
  const ceiling = await measureCeiling(profile);
  console.log(`  f32x4 mul+add ${ceiling.f32GFLOPS.toFixed(1)} GFLOPS, f64x2 ${ceiling.f64GFLOPS.toFixed(1)} GFLOPS`);
  console.log(`  copy ${ceiling.copyDramGBs.toFixed(1)} GB/s (64 MiB), ${ceiling.copyCacheGBs.toFixed(1)} GB/s (4 MiB); ` +
    `read ${ceiling.readDramGBs.toFixed(1)} GB/s (64 MiB), ${ceiling.readCacheGBs.toFixed(1)} GB/s (4 MiB)\n`);

  const cases = allCases().filter((c) => !opts.filter || c.id.includes(opts.filter) || c.label.includes(opts.filter));
  if (cases.length === 0) throw new Error(`bench: no case matches --filter '${opts.filter}'`);
  const rows = [];
  for (const c of cases) {
    const row = await runCase(c, ctx, profile, ceiling, rows);
    rows.push(row);
    console.log(`${row.group}: ${row.label} [${row.unit}]\n${COLUMNS.map((p) => `  ${p.padEnd(10)} ${cell(row, p)}`).join('\n')}`);
  }

  console.log(`\n${textTable(rows)}\n`);
  env.seconds = Math.round((Date.now() - started) / 1000);
  env.loadAfter = os.loadavg()[0];
  console.log(`total ${env.seconds} s`);
  const results = { env, ceiling, rows, notes: PEER_NOTES };
  if (opts.filter) {
    console.log('(a filtered run: bench/results.json and bench/RESULTS.md are left as they were)');
    return;
  }
  writeFileSync(path.join(here, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  writeFileSync(path.join(here, 'RESULTS.md'), markdown(results));
  console.log('wrote bench/results.json and bench/RESULTS.md');
}

main().catch((e) => { console.error(e?.stack ?? e); process.exit(1); });
