// The determinism program inside workerd: the .wasm arrives as a precompiled WebAssembly.Module
// (workerd forbids compiling from bytes), handed to init.
import * as wg from './wasmgrad.js';
import wasm from './wasmgrad.wasm';
import { runProgram } from './program.js';

export default {
  async fetch() {
    await wg.init(wasm);
    return Response.json(runProgram(wg));
  },
};
