// One wasmgrad case measured in a child process whose wasmgrad runs with init({ threads: n }):
// threads are chosen at init, and the bench process's own wasmgrad is single-threaded.
//   node bench/lib/threaded.mjs <case id> <threads> <full|quick>   → JSON { t } on stdout

import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { allCases } from './cases.mjs';
import { measure, PROFILES } from './harness.mjs';

const [id, threads, profile] = process.argv.slice(2);
const wg = await import(pathToFileURL(path.resolve(import.meta.dirname, '../../dist/index.js')).href);
await wg.init({ threads: Number(threads) });
const c = allCases().find((x) => x.id === id);
if (c === undefined) throw new Error(`threaded: no case '${id}'`);
const impl = await c.wasmgrad({ wg });
try {
  impl.result(); // the case's own checks (accelerated rows: replay against eager, bit for bit)
  const t = await measure(`${id} wasmgrad, ${threads} threads`, impl.run, { profile: PROFILES[profile] });
  console.log(JSON.stringify({ t }));
} finally {
  impl.dispose();
}
