// Reading the .wasm from disk in Node, Deno and Bun. The browser bundles (build/build.mjs) replace
// this file with read-file.browser.ts, so that no `node:` import reaches a browser or edge bundler.

export const canReadFiles = true;

export async function readFile(url: URL): Promise<Uint8Array<ArrayBuffer>> {
  const fs = await import('node:fs/promises');
  return new Uint8Array(await fs.readFile(url));
}

/** Writes a file (io.save with a path). */
export async function writeFile(path: URL | string, bytes: Uint8Array): Promise<void> {
  const fs = await import('node:fs/promises');
  await fs.writeFile(path, bytes);
}
