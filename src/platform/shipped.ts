// Where wasmgrad's shipped files are when it runs from src/ (the tests): in the build output,
// build/out/. build/build.mjs replaces this file in every bundle it makes: with shipped.bundle.ts
// (the files beside the bundle) or, in the one-file bundle, with shipped.inline.ts (none). So no
// bundle refers to build/out/.

/** The files that ship beside the bundles in dist/. */
export type ShippedFile = 'wasmgrad.wasm' | 'wasmgrad.threads.wasm' | 'wasmgrad.worker.js';

/** The file's URL, or undefined where it cannot be known. */
export function shippedUrl(file: ShippedFile): URL | undefined {
  return new URL(`../../build/out/${file}`, import.meta.url);
}
