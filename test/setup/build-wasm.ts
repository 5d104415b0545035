// The tests build what they need: the wasm module, when assembly/ changed since the last build,
// and the dist/ bundles with their size report (for the cross-runtime tests), when src/ or the
// module changed.
import { buildWasm, wasmIsStale, buildBundles, bundlesAreStale, report } from '../../build/build.mjs';

export default async function setup(): Promise<void> {
  if (wasmIsStale()) buildWasm();
  if (bundlesAreStale()) {
    await buildBundles({ types: false });
    report();
  }
}
