// Runs the determinism program on the package's default entry ('wasmgrad', resolved through
// package.json's exports by Node, Deno or Bun) and prints its result as JSON.
// `--threads N` runs it on the threads build with N threads (the big products are split).
import * as wg from 'wasmgrad';
import { runProgram } from './program.js';

const argv = globalThis.process?.argv ?? globalThis.Deno?.args ?? [];
const at = argv.indexOf('--threads');
await wg.init({ threads: at >= 0 ? Number(argv[at + 1]) : 1 });
console.log(JSON.stringify(runProgram(wg)));
