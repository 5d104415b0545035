// Regenerates expected.json from Node (npm run determinism:update, which builds dist/ first).
// Run it when a change to a kernel or to the program is meant to change results; the test
// suite then requires every other runtime to produce these same hashes.
import { writeFileSync, readFileSync, existsSync } from 'node:fs';
import * as wg from 'wasmgrad';
import { runProgram } from './program.js';

const file = new URL('./expected.json', import.meta.url);
await wg.init();
const { results, digest } = runProgram(wg);
const before = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')).results : {};
const changed = Object.keys(results).filter((k) => before[k] !== results[k]);
const removed = Object.keys(before).filter((k) => !(k in results));
writeFileSync(file, JSON.stringify({
  about: 'SHA-256 of every result of test/determinism/program.js (NaNs canonicalised); regenerate with npm run determinism:update',
  digest,
  results,
}, null, 2) + '\n');
console.log(`${Object.keys(results).length} results, digest ${digest}; ${changed.length} new or changed, ${removed.length} removed`);
for (const k of changed) console.log(`  changed: ${k}`);
for (const k of removed) console.log(`  removed: ${k}`);
