// The one-file bundle's stand-in for shipped.ts (build/build.mjs puts it in place): the module is
// inlined and no file ships beside it, so that bundlers given wasmgrad/inline emit no asset.

import type { ShippedFile } from './shipped.js';

export type { ShippedFile };

export function shippedUrl(_file: ShippedFile): URL | undefined {
  return undefined;
}
