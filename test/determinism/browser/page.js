// The determinism program in a page: ?bundle=browser loads dist/wasmgrad.browser.js, whose init()
// fetches the .wasm beside it (streaming compile); ?bundle=inline loads the one-file bundle;
// &threads=N runs the threads build with N threads (the page is cross-origin isolated).
// The outcome is window.determinism (read by Chromium's driver), with the page's isolation and
// any uncaught errors; &report=ID also POSTs it to /__report/ID (how Firefox's test hears it),
// and then &next=URL goes on to the next page (Firefox's test opens the three in one run).
import { runProgram } from '../program.js';

const params = new URLSearchParams(location.search);
const errors = [];
addEventListener('error', (e) => errors.push(String(e.error?.stack ?? e.message)));
addEventListener('unhandledrejection', (e) => errors.push(String(e.reason?.stack ?? e.reason)));

const out = document.getElementById('out');
let outcome;
try {
  const bundle = params.get('bundle') ?? 'browser';
  const wg = await import(`../../../dist/wasmgrad.${bundle === 'inline' ? 'inline' : 'browser'}.js`);
  await wg.init({ threads: Number(params.get('threads') ?? 1) });
  outcome = runProgram(wg);
  out.textContent = outcome.digest;
} catch (e) {
  outcome = { error: String(e && e.stack || e) };
  out.textContent = outcome.error;
}
outcome.isolated = globalThis.crossOriginIsolated === true;
outcome.userAgent = navigator.userAgent;
outcome.errors = errors;
if (params.has('report')) {
  await fetch(`/__report/${encodeURIComponent(params.get('report'))}`, { method: 'POST', body: JSON.stringify(outcome) });
}
window.determinism = outcome;
if (params.has('next')) location.assign(params.get('next'));
