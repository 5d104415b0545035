// The eager op's cost, part by part: what the seed function's value and gradient spends in the
// host (validation, handles, scopes, valueAndGrad's bookkeeping) and in wasm (the same export
// calls made directly on a second instance of the module). Builds side by side, interleaved:
//   node build/build.mjs && node bench/eager.mjs                  # this build (dist/)
//   node bench/eager.mjs /tmp/before/dist dist                    # two builds, one process
// Each figure is CPU time per call (process.cpuUsage), the median of 11 rounds: on a loaded
// machine wall time mostly measures the wait for a core. Compare builds only within one run.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dirs = process.argv.length > 2 ? process.argv.slice(2) : [path.join(root, 'dist')];
// Op codes from the vocabulary (the raw exports take codes).
const vocabulary = readFileSync(path.join(root, 'assembly/core/vocabulary.ts'), 'utf8');
const code = (name) => Number(vocabulary.match(new RegExp(`\\b${name} = (\\d+)`))[1]);
const [ADD, MUL, SQUARE, EXP] = ['add', 'mul', 'square', 'exp'].map(code);
const K = 10; // ops per timed call in the per-op rows

async function parts(dir) {
  const wg = await import(path.resolve(dir, 'index.js'));
  await wg.init();
  const x1 = wg.tensor(2), x2 = wg.tensor(0.5);
  const f = (a, b) => a.mul(a.square().add(b.square()).mul(-0.5).exp());
  const vg = wg.valueAndGrad(f, { argnums: [0, 1] });
  const vgAdd = wg.valueAndGrad((a, b) => a.add(b), { argnums: [0, 1] });
  // The bare module: the export calls the host makes for the same work, nothing else.
  const module = new WebAssembly.Module(readFileSync(path.resolve(dir, 'wasmgrad.wasm')));
  const w = new WebAssembly.Instance(module, { host: { customRule: () => 1 } }).exports;
  const ARGS = w.argsAddress() >>> 0;
  const a0 = w.newTensor(0, 0, ARGS), b0 = w.newTensor(0, 0, ARGS);
  const ids = (...xs) => { const I32 = new Int32Array(w.memory.buffer); xs.forEach((x, i) => { I32[(ARGS >>> 2) + i] = x; }); return ARGS; };
  const level = (body) => {
    w.scopeBegin(); w.scopeBegin();
    const mark = w.tapeBegin();
    const a = w.copy(a0); w.watch(a);
    const b = w.copy(b0); w.watch(b);
    const y = body(a, b);
    w.backward(y, mark, ids(a, b), 2, 0);
    const g1 = w.takeAdjoint(a), g2 = w.takeAdjoint(b);
    w.tapeEnd();
    w.scopeEnd(ids(y, g1, g2), 3); w.scopeEnd(0, 0);
  };
  return {
    'tidy(() => [1, 2, 3])': () => wg.tidy(() => [1, 2, 3]),
    '  wasm: scopeBegin, scopeEnd': () => { w.scopeBegin(); w.scopeEnd(0, 0); },
    'a.mul(b), per op': [() => wg.tidy(() => { for (let i = 0; i < K; i++) x1.mul(x2); }), K],
    '  wasm: binary': [() => { w.scopeBegin(); for (let i = 0; i < K; i++) w.binary(MUL, a0, b0); w.scopeEnd(0, 0); }, K],
    'a.square(), per op': [() => wg.tidy(() => { for (let i = 0; i < K; i++) x1.square(); }), K],
    '  wasm: unary': [() => { w.scopeBegin(); for (let i = 0; i < K; i++) w.unary(SQUARE, a0); w.scopeEnd(0, 0); }, K],
    'a.mul(-0.5), per op': [() => wg.tidy(() => { for (let i = 0; i < K; i++) x1.mul(-0.5); }), K],
    '  wasm: binaryScalar': [() => { w.scopeBegin(); for (let i = 0; i < K; i++) w.binaryScalar(MUL, a0, -0.5, 0); w.scopeEnd(0, 0); }, K],
    'item(), per read': [() => { let s = 0; for (let i = 0; i < K; i++) s += x1.item(); return s; }, K],
    'valueAndGrad((a, b) => a.add(b)) in tidy': () => wg.tidy(() => { vgAdd(x1, x2); }),
    '  wasm: its export calls': () => level((a, b) => w.binary(ADD, a, b)),
    'seed: tidy(valueAndGrad(f) + 3 × item())': () => wg.tidy(() => {
      const [y, [g1, g2]] = vg(x1, x2);
      return [y.item(), g1.item(), g2.item()];
    }),
    '  wasm: its export calls ': () => level((a, b) => w.binary(MUL, a, w.unary(EXP,
      w.binaryScalar(MUL, w.binary(ADD, w.unary(SQUARE, a), w.unary(SQUARE, b)), -0.5, 0)))),
    // Each handle made outside every scope is registered with the FinalizationRegistry.
    'a.mul(b) outside scopes (registered), dispose()': [() => { for (let i = 0; i < K; i++) x1.mul(x2).dispose(); }, K],
  };
}

/** CPU nanoseconds per call of fn (per op when it makes `per` of them). */
function cost([fn, per]) {
  for (let i = 0; i < 1000; i++) fn();
  const c0 = process.cpuUsage();
  const n = 3000;
  for (let i = 0; i < n; i++) fn();
  const c = process.cpuUsage(c0);
  return ((c.user + c.system) * 1000) / n / per;
}

const builds = [];
for (const d of dirs) builds.push(Object.entries(await parts(d)).map(([k, v]) => [k, Array.isArray(v) ? v : [v, 1]]));
const samples = builds.map((b) => b.map(() => []));
// The registered row's cells cost the garbage collector afterwards: its rounds come last.
const late = (k) => k.includes('registered');
for (const phase of [false, true]) {
  for (let round = 0; round < 11; round++) {
    builds.forEach((b, i) => b.forEach(([k, run], j) => { if (late(k) === phase) samples[i][j].push(cost(run)); }));
  }
}
const median = (a) => a.slice().sort((x, y) => x - y)[a.length >> 1];
const width = Math.max(...builds[0].map(([k]) => k.length));
console.log(`CPU ns per call (median of 11 rounds); load average ${(await import('node:os')).loadavg()[0].toFixed(2)}`);
const label = (d) => path.resolve(d).split(path.sep).slice(-2).join('/').slice(-16);
console.log(`${'part'.padEnd(width)}  ${dirs.map((d) => label(d).padStart(18)).join('')}`);
builds[0].forEach(([k], j) => {
  console.log(`${k.padEnd(width)}  ${samples.map((s) => median(s[j]).toFixed(0).padStart(18)).join('')}`);
});
const seed = builds[0].findIndex(([k]) => k.startsWith('seed'));
console.log(`seed evaluations per CPU second: ${samples.map((s) => `${(1e9 / median(s[seed]) / 1e3).toFixed(0)}k`).join(', ')}`);
