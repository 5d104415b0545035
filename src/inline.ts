// Entry of the one-file bundle (dist/wasmgrad.inline.js): everything of index.ts, with init()
// defaulting to the wasm module inlined below as base64 by build/build.mjs.

import { init as initFrom, type WasmSource, type InitOptions } from './runtime.js';

export * from './index.js';

declare const __WASMGRAD_WASM_BASE64__: string;

/** Like index.ts's init, but with no source it compiles the inlined module (one thread). */
export function init(source?: WasmSource | InitOptions, options?: InitOptions): Promise<void> {
  const isOptions = source !== null && typeof source === 'object' && Object.getPrototypeOf(source) === Object.prototype;
  if (source === undefined || isOptions) return initFrom(decodeBase64(__WASMGRAD_WASM_BASE64__), (source as InitOptions | undefined) ?? options);
  return initFrom(source, options);
}

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
