// Runs the determinism program on the package's default entry ('wasmgrad', resolved through
// package.json's exports by Node, Deno or Bun) and prints its result as JSON.
import * as wg from 'wasmgrad';
import { runProgram } from './program.js';

await wg.init();
console.log(JSON.stringify(runProgram(wg)));
