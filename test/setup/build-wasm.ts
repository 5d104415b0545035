// The tests build what they need: the wasm module, when assembly/ changed since the last build.
import { buildWasm, wasmIsStale } from '../../build/build.mjs';

export default function setup(): void {
  if (wasmIsStale()) buildWasm();
}
