// Loading the peers, each the way its users would in Node, single-threaded:
// - tfjs: the umbrella package (the only one that registers gradients in Node) plus the wasm
//   backend. In Node tfjs-backend-wasm never uses threads, so it loads its SIMD, non-threaded
//   binary from its own dist/ folder (setWasmPaths).
// - jax-js: its wasm device named at init. It spawns workers only where a global Worker
//   exists, which Node does not have, so it runs on the main thread.

import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);

export const PEERS = ['tfjs-wasm', 'tfjs-cpu', 'jax-eager', 'jax-jit'];

export async function loadPeers() {
  const wg = await import(pathToFileURL(path.resolve(import.meta.dirname, '../../dist/index.js')).href);
  await wg.init();

  const tf = await import('@tensorflow/tfjs');
  const tfWasm = await import('@tensorflow/tfjs-backend-wasm');
  await import('@tensorflow/tfjs-backend-cpu');
  const wasmDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm'));
  tfWasm.setWasmPaths(wasmDir + path.sep);
  if (!(await tf.setBackend('wasm'))) throw new Error('tfjs: the wasm backend did not initialise');
  const tfSimd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const tfThreads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  if (!tfSimd || tfThreads) throw new Error(`tfjs-wasm: expected SIMD without threads, got simd=${tfSimd} threads=${tfThreads}`);
  if (!(await tf.setBackend('cpu'))) throw new Error('tfjs: the cpu backend did not initialise');

  const jax = await import('@jax-js/jax');
  const devices = await jax.init('wasm');
  if (!devices.includes('wasm')) throw new Error(`jax-js: no wasm device (got ${devices.join(', ')})`);
  jax.defaultDevice('wasm');

  const versions = {
    wasmgrad: require('../../package.json').version,
    tfjs: tf.version.tfjs,
    'tfjs-backend-wasm': tfWasm.version_wasm,
    'tfjs-backend-cpu': tf.version['tfjs-backend-cpu'],
    'jax-js': JSON.parse(readFileSync(path.join(path.dirname(require.resolve('@jax-js/jax')), '..', 'package.json'), 'utf8')).version,
  };
  return { wg, tf, jax, versions };
}
