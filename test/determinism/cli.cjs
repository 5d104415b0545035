// The determinism program on the package's CommonJS entry (require('wasmgrad') → dist/index.cjs).
// `--threads N` runs it on the threads build with N threads (the big products are split).
const wg = require('wasmgrad');

(async () => {
  const { runProgram } = await import('./program.js');
  const at = process.argv.indexOf('--threads');
  await wg.init({ threads: at >= 0 ? Number(process.argv[at + 1]) : 1 });
  console.log(JSON.stringify(runProgram(wg)));
})().catch((e) => { console.error(e); process.exit(1); });
