// The web platform's classes that wasmgrad's public signatures name (URL, Response,
// WebAssembly.Module, …), taken from the consumer's own lib — the DOM lib, @types/node, Deno's —
// when it declares them, and `never` when it does not. So the emitted .d.ts type-check in a
// project without the DOM lib (lib: ["es2022"], skipLibCheck false): such a project passes
// strings and bytes where a URL or a Response would do. In wasmgrad's own build (DOM lib) each is
// exactly the global class.

/** The instance type of global class K, or never when the consumer's lib has no such class. */
type GlobalInstance<K extends string> = typeof globalThis extends { readonly [P in K]: { prototype: infer T } } ? T : never;
/** The instance type of WebAssembly.K, or never when the consumer's lib has no WebAssembly. */
type WasmInstance<K extends string> =
  typeof globalThis extends { readonly WebAssembly: { readonly [P in K]: { prototype: infer T } } } ? T : never;

/** URL (WHATWG). */
export type WebURL = GlobalInstance<'URL'>;
/** fetch's Response. */
export type WebResponse = GlobalInstance<'Response'>;
/** A compiled WebAssembly.Module. */
export type WasmModule = WasmInstance<'Module'>;
/** A WebAssembly.Memory. */
export type WasmMemory = WasmInstance<'Memory'>;
/** A WebAssembly.Global. */
export type WasmGlobal = WasmInstance<'Global'>;
