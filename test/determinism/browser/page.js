// The determinism program in a page: ?bundle=browser loads dist/wasmgrad.browser.js, whose init()
// fetches the .wasm beside it (streaming compile); ?bundle=inline loads the one-file bundle;
// &threads=N runs the threads build with N threads (the page is cross-origin isolated).
import { runProgram } from '../program.js';

const out = document.getElementById('out');
try {
  const bundle = new URLSearchParams(location.search).get('bundle') ?? 'browser';
  const wg = await import(`../../../dist/wasmgrad.${bundle === 'inline' ? 'inline' : 'browser'}.js`);
  await wg.init({ threads: Number(new URLSearchParams(location.search).get('threads') ?? 1) });
  window.determinism = runProgram(wg);
  out.textContent = window.determinism.digest;
} catch (e) {
  window.determinism = { error: String(e && e.stack || e) };
  out.textContent = window.determinism.error;
}
