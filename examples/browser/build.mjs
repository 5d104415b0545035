// Bundles the page (main.js + Chart.js + wasmgrad's browser build) into examples/browser/dist/
// with esbuild, and puts wasmgrad.wasm beside the bundle, where init() fetches it from.
//   npm run build && node examples/browser/build.mjs && node examples/browser/serve.mjs

import { copyFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import * as esbuild from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');

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
  });
  copyFileSync(path.join(root, 'dist/wasmgrad.wasm'), path.join(out, 'wasmgrad.wasm'));
  return out;
}

if (path.resolve(process.argv[1] ?? '') === fileURLToPath(import.meta.url)) {
  console.log(`built ${await buildPage()}`);
}
