// The determinism program on the package's CommonJS entry (require('wasmgrad') → dist/index.cjs).
const wg = require('wasmgrad');

(async () => {
  const { runProgram } = await import('./program.js');
  await wg.init();
  console.log(JSON.stringify(runProgram(wg)));
})().catch((e) => { console.error(e); process.exit(1); });
