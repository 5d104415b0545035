// The one build: asc (SIMD, optimised) → wasm-opt (binaryen) → esbuild bundles → .d.ts types.
//   node build/build.mjs          everything (wasm, dist/ bundles, types)
//   node build/build.mjs --wasm   only build/out/wasmgrad.wasm (what the tests need)
// Reports the gzipped sizes of the .wasm and the JS bundle.

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
  run(bin('asc'), ['assembly/index.ts', '--config', 'asconfig.json', '--target', 'release', '--disableWarning', '201']);
  // Only features every current engine ships; relaxed SIMD and threads stay off (determinism).
  run(bin('wasm-opt'), [path.join(out, 'wasmgrad.raw.wasm'), '-O3', '--enable-simd', '--enable-bulk-memory',
    '--enable-sign-ext', '--enable-nontrapping-float-to-int', '--enable-mutable-globals',
    '-o', path.join(out, 'wasmgrad.wasm')]);
}

/** True when build/out/wasmgrad.wasm is older than any source in assembly/. */
export function wasmIsStale() {
  const target = path.join(out, 'wasmgrad.wasm');
  if (!existsSync(target)) return true;
  const built = statSync(target).mtimeMs;
  const sources = readdirSync(path.join(root, 'assembly')).map((f) => path.join(root, 'assembly', f));
  return [...sources, path.join(root, 'asconfig.json')].some((f) => statSync(f).mtimeMs > built);
}

async function buildBundles() {
  const esbuild = await import('esbuild');
  rmSync(dist, { recursive: true, force: true });
  mkdirSync(dist, { recursive: true });
  copyFileSync(path.join(out, 'wasmgrad.wasm'), path.join(dist, 'wasmgrad.wasm'));
  const common = { entryPoints: [path.join(root, 'src/index.ts')], bundle: true, target: 'es2022', sourcemap: true, logLevel: 'warning' };
  await esbuild.build({ ...common, format: 'esm', platform: 'neutral', outfile: path.join(dist, 'index.js'),
    external: ['node:fs/promises'] });
  await esbuild.build({ ...common, format: 'cjs', platform: 'node', outfile: path.join(dist, 'index.cjs'),
    define: { 'import.meta.url': '__wasmgradModuleUrl' },
    banner: { js: "const __wasmgradModuleUrl = require('node:url').pathToFileURL(__filename).href;" } });
  run(bin('tsc'), ['-p', 'tsconfig.build.json']);
}

function report() {
  const sizes = {};
  for (const f of ['wasmgrad.wasm', 'index.js']) {
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
