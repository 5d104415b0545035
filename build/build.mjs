// The one build: asc (SIMD, optimised) → wasm-opt (binaryen) → esbuild bundles → .d.ts types.
//   node build/build.mjs          everything (wasm, dist/ bundles, types)
//   node build/build.mjs --wasm   only build/out/wasmgrad.wasm (what the tests need)
// Reports the raw and gzipped sizes of the .wasm and the JS bundles (build/out/sizes.json).

import { execFileSync } from 'node:child_process';
import { mkdirSync, copyFileSync, readFileSync, writeFileSync, statSync, readdirSync, existsSync, rmSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });
const out = path.join(root, 'build', 'out');
const dist = path.join(root, 'dist');

export function buildWasm() {
  mkdirSync(out, { recursive: true });
  // The rule tables and the typed bindings come from the op spec (and check it against the module).
  run(process.execPath, [path.join(root, 'build/gen-ops.mjs')]);
  // Two builds of the one source: wasmgrad.wasm owns its memory (every runtime); the threads build
  // imports a shared memory that worker instances use too (init({ threads }), src/threads.ts).
  for (const [target, name] of [['release', 'wasmgrad'], ['threads', 'wasmgrad.threads']]) {
    run(bin('asc'), ['assembly/index.ts', '--config', 'asconfig.json', '--target', target, '--disableWarning', '201']);
    // Only features every current engine ships; relaxed SIMD stays off (determinism). Atomics
    // (threads) are only executed by the threads build.
    run(bin('wasm-opt'), [path.join(out, `${name}.raw.wasm`), '-O3', '--enable-simd', '--enable-bulk-memory',
      '--enable-sign-ext', '--enable-nontrapping-float-to-int', '--enable-mutable-globals', '--enable-threads',
      '-o', path.join(out, `${name}.wasm`)]);
  }
  // The worker threads' script: standalone ESM for every runtime (it imports nothing of wasmgrad).
  run(bin('esbuild'), ['src/thread-worker.ts', '--bundle', '--format=esm', '--platform=neutral', '--target=es2022',
    '--external:node:worker_threads', '--log-level=warning', `--outfile=${path.join(out, 'wasmgrad.worker.js')}`]);
}

/** True when a build/out/ module or the worker script is missing or older than its sources. */
export function wasmIsStale() {
  const targets = ['wasmgrad.wasm', 'wasmgrad.threads.wasm', 'wasmgrad.worker.js'].map((f) => path.join(out, f));
  if (targets.some((f) => !existsSync(f))) return true;
  const built = Math.min(...targets.map((f) => statSync(f).mtimeMs));
  const sources = readdirSync(path.join(root, 'assembly'), { recursive: true }).map((f) => path.join(root, 'assembly', f));
  return [...sources, path.join(root, 'asconfig.json'), path.join(root, 'src/thread-worker.ts'), path.join(root, 'src/spec/ops.ts')]
    .some((f) => statSync(f).mtimeMs > built);
}

/** True when a dist/ bundle is missing or older than the .wasm or any file under src/. */
export function bundlesAreStale() {
  const bundles = ['index.js', 'index.cjs', 'wasmgrad.browser.js', 'wasmgrad.inline.js', 'wasmgrad.wasm',
    'wasmgrad.threads.wasm', 'wasmgrad.worker.js'].map((f) => path.join(dist, f));
  if (bundles.some((f) => !existsSync(f))) return true;
  const built = Math.min(...bundles.map((f) => statSync(f).mtimeMs));
  const sources = readdirSync(path.join(root, 'src'), { recursive: true }).map((f) => path.join(root, 'src', f));
  return [...sources, path.join(out, 'wasmgrad.wasm')].some((f) => statSync(f).mtimeMs > built);
}

// Browser and edge bundles load the .wasm over fetch (or get it handed to init); this swaps the
// Node file reader for a stub, so that no `node:` import reaches a browser or edge bundler.
const browserPlatform = {
  name: 'wasmgrad-browser',
  setup(build) {
    build.onResolve({ filter: /\/platform\/(read-file|spawn-worker)\.js$/ }, (args) => {
      const file = path.resolve(args.resolveDir, args.path);
      return { path: path.join(path.dirname(file), path.basename(file, '.js') + '.browser.ts') };
    });
  },
};

// The bundles the package ships, with what goes into each (sizes are reported for all of them).
//   index.js             ESM for Node, Deno and Bun (reads the .wasm beside it)
//   index.cjs            CommonJS for Node's require
//   wasmgrad.browser.js  ESM for browsers, workers and bundlers (fetches the .wasm beside it)
//   wasmgrad.inline.js   the browser bundle with the .wasm inlined as base64: one file, no asset
export async function buildBundles({ types = true } = {}) {
  const esbuild = await import('esbuild');
  if (types) rmSync(dist, { recursive: true, force: true }); // a full build starts clean
  mkdirSync(dist, { recursive: true });
  const wasmPath = path.join(out, 'wasmgrad.wasm');
  copyFileSync(wasmPath, path.join(dist, 'wasmgrad.wasm'));
  copyFileSync(path.join(out, 'wasmgrad.threads.wasm'), path.join(dist, 'wasmgrad.threads.wasm'));
  copyFileSync(path.join(out, 'wasmgrad.worker.js'), path.join(dist, 'wasmgrad.worker.js'));
  const common = { entryPoints: [path.join(root, 'src/index.ts')], bundle: true, target: 'es2022', sourcemap: true, logLevel: 'warning' };
  await esbuild.build({ ...common, format: 'esm', platform: 'neutral', outfile: path.join(dist, 'index.js'),
    external: ['node:fs/promises', 'node:worker_threads'] });
  await esbuild.build({ ...common, format: 'cjs', platform: 'node', outfile: path.join(dist, 'index.cjs'),
    define: { 'import.meta.url': '__wasmgradModuleUrl' },
    banner: { js: "const __wasmgradModuleUrl = require('node:url').pathToFileURL(__filename).href;" } });
  await esbuild.build({ ...common, format: 'esm', platform: 'browser', outfile: path.join(dist, 'wasmgrad.browser.js'),
    plugins: [browserPlatform] });
  await esbuild.build({ ...common, entryPoints: [path.join(root, 'src/inline.ts')], format: 'esm', platform: 'browser',
    outfile: path.join(dist, 'wasmgrad.inline.js'), plugins: [browserPlatform], sourcemap: false,
    define: { __WASMGRAD_WASM_BASE64__: JSON.stringify(readFileSync(wasmPath).toString('base64')) } });
  if (types) run(bin('tsc'), ['-p', 'tsconfig.build.json']);
}

/** Raw and gzipped (level 9) sizes of the shipped files, into build/out/sizes.json and stdout. */
export function report() {
  const sizes = {};
  for (const f of ['wasmgrad.wasm', 'wasmgrad.threads.wasm', 'wasmgrad.worker.js', 'index.js', 'index.cjs', 'wasmgrad.browser.js', 'wasmgrad.inline.js']) {
    const p = path.join(dist, f);
    if (!existsSync(p)) continue;
    const raw = readFileSync(p);
    sizes[f] = { bytes: raw.length, gzip: gzipSync(raw, { level: 9 }).length };
  }
  writeFileSync(path.join(out, 'sizes.json'), JSON.stringify(sizes, null, 2) + '\n');
  for (const [f, s] of Object.entries(sizes)) console.log(`${f}: ${s.bytes} bytes, ${s.gzip} gzipped`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  buildWasm();
  if (!process.argv.includes('--wasm')) {
    await buildBundles();
    report();
  }
}
