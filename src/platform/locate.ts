// Finding wasmgrad's files in Node, Deno and Bun when they are not beside this script. An app
// bundled for Node (esbuild --platform=node, bun build --target=node) carries wasmgrad's code but
// not its .wasm, and a CommonJS bundle has no import.meta.url to say where the code came from: so
// look beside the app's main script, then in the installed package, resolved the way require
// would from the working directory and from the main script's folder (node_modules/wasmgrad/dist/).
// The browser bundles (build/build.mjs) replace this file with locate.browser.ts.

/** Where else `file` may be: beside the main script, and `wasmgrad/<file>` as installed. */
export async function otherLocations(file: string): Promise<URL[]> {
  const found: URL[] = [];
  const add = (url: URL) => { if (!found.some((u) => u.href === url.href)) found.push(url); };
  try {
    const { createRequire } = await import('node:module');
    const { pathToFileURL } = await import('node:url');
    const g = globalThis as any;
    const cwd: string | undefined = g.process?.cwd?.() ?? g.Deno?.cwd?.();
    const main: string | undefined = g.process?.argv?.[1];
    if (typeof main === 'string' && main !== '') add(new URL(`./${file}`, pathToFileURL(main)));
    for (const from of [cwd !== undefined ? `${cwd}/` : undefined, main]) {
      if (typeof from !== 'string' || from === '') continue;
      try {
        add(pathToFileURL(createRequire(from).resolve(`wasmgrad/${file}`)));
      } catch { /* not installed there */ }
    }
  } catch { /* no node:module here */ }
  return found;
}

/**
 * True when the file exists. stat, not access: Deno's access() asks for the user id, which needs
 * --allow-sys, while stat needs only the read permission that reading the file needs anyway.
 */
export async function fileExists(url: URL): Promise<boolean> {
  try {
    const fs = await import('node:fs/promises');
    return (await fs.stat(url)).isFile();
  } catch {
    return false;
  }
}
