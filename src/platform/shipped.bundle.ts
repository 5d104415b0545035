// Where wasmgrad's shipped files are, in the bundles (build/build.mjs puts this file in place of
// shipped.ts): beside the bundle, each file named by its own literal
// `new URL('./file', import.meta.url)`. That is the form webpack 5, Vite, Parcel and Rollup
// plugins recognise: they emit the file with the app and rewrite the URL to where it went.

import type { ShippedFile } from './shipped.js';

export type { ShippedFile };

/** The file beside this script; undefined where there is no import.meta.url (the ESM build bundled into CommonJS). */
export function shippedUrl(file: ShippedFile): URL | undefined {
  try {
    if (file === 'wasmgrad.wasm') return new URL('./wasmgrad.wasm', import.meta.url);
    if (file === 'wasmgrad.threads.wasm') return new URL('./wasmgrad.threads.wasm', import.meta.url);
    return new URL('./wasmgrad.worker.js', import.meta.url);
  } catch {
    return undefined; // import.meta.url is undefined or not a URL
  }
}
