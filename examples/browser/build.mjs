// Bundles the page (main.js + Chart.js + wasmgrad's browser build + a subset of the `mnist`
// package's digits, packed by data.js) into examples/browser/dist/ with esbuild, and puts
// wasmgrad.wasm beside the bundle, where init() fetches it from.
//   npm run build && node examples/browser/build.mjs && node examples/browser/serve.mjs

import { copyFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { createRequire } from 'node:module';
import * as esbuild from 'esbuild';
import { packDigits } from './data.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');

// `import digits from 'mnist-subset'` in main.js: the packed digits, embedded as bytes.
const mnistSubset = {
  name: 'mnist-subset',
  setup(build) {
    build.onResolve({ filter: /^mnist-subset$/ }, () => ({ path: 'mnist-subset', namespace: 'mnist-subset' }));
    build.onLoad({ filter: /.*/, namespace: 'mnist-subset' }, () => ({
      contents: packDigits(createRequire(import.meta.url)('mnist')), loader: 'binary',
    }));
  },
};

export async function buildPage() {
  const out = path.join(here, 'dist');
  mkdirSync(out, { recursive: true });
  await esbuild.build({
    entryPoints: [path.join(here, 'main.js')],
    bundle: true,
    format: 'esm',
    platform: 'browser', // 'wasmgrad' resolves through its "browser" export to dist/wasmgrad.browser.js
    target: 'es2022',
    minify: true,
    outfile: path.join(out, 'app.js'),
    logLevel: 'warning',
    plugins: [mnistSubset],
  });
  copyFileSync(path.join(root, 'dist/wasmgrad.wasm'), path.join(out, 'wasmgrad.wasm'));
  return out;
}

if (path.resolve(process.argv[1] ?? '') === fileURLToPath(import.meta.url)) {
  console.log(`built ${await buildPage()}`);
}
